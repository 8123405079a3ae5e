/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the operations listener's request-head reader
 * (daemon/http_request.c), which reads whatever a TCP client sends.
 * Besides "no crash, no undefined behaviour", it holds the reader to
 * these promises:
 *
 *  - how the bytes are cut into reads does not change the answer (the
 *    first input byte chooses a cut, the rest is the request);
 *  - it never keeps more than HTTP_REQUEST_HEAD_MAX bytes, and once done
 *    or refused it stays so;
 *  - a refusal is one of the statuses the listener answers; a request it
 *    takes is a GET whose path starts with '/' (or is "", too long).
 */
#include "support_fuzz.h"

#include <string.h>

#include "http_request.h"

static void feed_in_pieces(struct http_request *r, const char *data,
			   size_t len, size_t piece)
{
	for (size_t off = 0; off < len; off += piece) {
		size_t n = len - off < piece ? len - off : piece;

		http_request_feed(r, data + off, n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 400, 405, 413, 414, 431, 505 };
	struct http_request whole, pieces;
	const char *text;
	size_t len, piece;
	bool known = false;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 17 + 1;
	text = (const char *)data + 1;
	len = size - 1;

	http_request_init(&whole);
	http_request_feed(&whole, text, len);
	http_request_init(&pieces);
	feed_in_pieces(&pieces, text, len, piece);

	FUZZ_CHECK(whole.state == pieces.state && whole.status == pieces.status,
		   "whole: %d/%d, in pieces of %zu: %d/%d", whole.state,
		   whole.status, piece, pieces.state, pieces.status);
	FUZZ_CHECK(whole.len <= HTTP_REQUEST_HEAD_MAX, "kept %zu", whole.len);
	if (whole.state == HTTP_REQUEST_DONE) {
		FUZZ_CHECK(strcmp(whole.path, pieces.path) == 0, "paths %s %s",
			   whole.path, pieces.path);
		FUZZ_CHECK(whole.path[0] == '/' || whole.path[0] == '\0',
			   "path %s", whole.path);
		FUZZ_CHECK(memchr(whole.path, '?', sizeof(whole.path)) == NULL,
			   "query in path %s", whole.path);
	}
	if (whole.state == HTTP_REQUEST_REFUSED) {
		for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]);
		     i++)
			known |= whole.status == statuses[i];
		FUZZ_CHECK(known, "status %d", whole.status);
	}
	if (whole.state != HTTP_REQUEST_MORE) {
		struct http_request before = whole;

		http_request_feed(&whole, "GET / HTTP/1.1\r\n\r\n", 18);
		FUZZ_CHECK(whole.state == before.state &&
			   whole.len == before.len, "moved after the end");
	}
	return 0;
}
