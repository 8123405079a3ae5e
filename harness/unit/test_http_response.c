/* SPDX-License-Identifier: MIT */
/*
 * The HTTP response parser (daemon/http_response.c): the metadata server's
 * own answers (200 with an ETag, 403 without the flavor header, 404), the
 * three ways a body ends, every response fed one byte at a time and in
 * every split, and a table of responses refused with the reason each gets.
 */
#include "http_response.h"

#include <stdio.h>
#include <string.h>

#include "support.h"

#define MAX (256u * 1024u)

/* A response as the metadata server sends an attribute. */
static const char metadata_ok[] =
	"HTTP/1.1 200 OK\r\n"
	"Metadata-Flavor: Google\r\n"
	"Content-Type: application/text\r\n"
	"ETag: 8d3a1e5b9b1f2c4d\r\n"
	"Date: Sun, 06 Dec 2026 07:00:00 GMT\r\n"
	"Server: Metadata Server for VM\r\n"
	"Content-Length: 18\r\n"
	"X-XSS-Protection: 0\r\n"
	"X-Frame-Options: SAMEORIGIN\r\n"
	"\r\n"
	"[Peer]\nPublicKey=x";

static enum http_result feed_all(struct http_response *r, const char *text,
				 size_t len, size_t *used)
{
	return http_response_feed(r, (const uint8_t *)text, len, used);
}

START_TEST(test_metadata_answer)
{
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, metadata_ok, strlen(metadata_ok), &used),
			 HTTP_DONE);
	ck_assert_uint_eq(used, strlen(metadata_ok));
	ck_assert_uint_eq(r.status, 200);
	ck_assert_str_eq(r.etag, "8d3a1e5b9b1f2c4d");
	ck_assert(r.flavor_google);
	ck_assert_uint_eq(r.body_len, 18);
	ck_assert_str_eq(r.body, "[Peer]\nPublicKey=x");
	/* Done stays done. */
	ck_assert_int_eq(feed_all(&r, "x", 1, &used), HTTP_DONE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(http_response_eof(&r), HTTP_DONE);
	http_response_clear(&r);
}
END_TEST

/* Each split point, and one byte at a time, give the same response. */
START_TEST(test_every_split)
{
	size_t len = strlen(metadata_ok);

	for (size_t cut = 0; cut <= len; cut++) {
		struct http_response r;
		size_t used;

		http_response_init(&r, MAX);
		ck_assert_int_eq(feed_all(&r, metadata_ok, cut, &used),
				 cut == len ? HTTP_DONE : HTTP_MORE);
		ck_assert_uint_eq(used, cut);
		ck_assert_int_eq(feed_all(&r, metadata_ok + cut, len - cut,
					  &used), HTTP_DONE);
		ck_assert_str_eq(r.body, "[Peer]\nPublicKey=x");
		ck_assert_str_eq(r.etag, "8d3a1e5b9b1f2c4d");
		http_response_clear(&r);
	}
	struct http_response r;

	http_response_init(&r, MAX);
	for (size_t i = 0; i < len; i++) {
		size_t used;

		ck_assert_int_eq(feed_all(&r, metadata_ok + i, 1, &used),
				 i + 1 == len ? HTTP_DONE : HTTP_MORE);
	}
	ck_assert_str_eq(r.body, "[Peer]\nPublicKey=x");
	http_response_clear(&r);
}
END_TEST

/* Bytes after the response are not taken. */
START_TEST(test_stops_at_end)
{
	const char text[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP";
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, text, strlen(text), &used), HTTP_DONE);
	ck_assert_uint_eq(used, strlen(text) - 4);
	ck_assert_str_eq(r.body, "ab");
	ck_assert(!r.flavor_google);
	ck_assert_str_eq(r.etag, "");
	http_response_clear(&r);
}
END_TEST

START_TEST(test_forbidden_and_not_found)
{
	const char forbidden[] =
		"HTTP/1.1 403 Forbidden\r\n"
		"Metadata-Flavor: Google\r\n"
		"Content-Type: text/html; charset=UTF-8\r\n"
		"Content-Length: 30\r\n\r\n"
		"Missing Metadata-Flavor:Google";
	const char missing[] =
		"HTTP/1.1 404 Not Found\nContent-Length: 0\n\n";
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, forbidden, strlen(forbidden), &used),
			 HTTP_DONE);
	ck_assert_uint_eq(r.status, 403);
	http_response_clear(&r);
	/* Bare LF line ends, an empty body. */
	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, missing, strlen(missing), &used),
			 HTTP_DONE);
	ck_assert_uint_eq(r.status, 404);
	ck_assert_ptr_nonnull(r.body);
	ck_assert_uint_eq(r.body_len, 0);
	http_response_clear(&r);
}
END_TEST

START_TEST(test_chunked)
{
	const char text[] =
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n"
		"ETag: abc\r\n\r\n"
		"5\r\nhello\r\n"
		"1;ext=1\r\n \r\n"
		"6\r\nworld!\r\n"
		"0\r\nTrailer: x\r\n\r\n";
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, text, strlen(text), &used), HTTP_DONE);
	ck_assert_uint_eq(used, strlen(text));
	ck_assert_str_eq(r.body, "hello world!");
	ck_assert_str_eq(r.etag, "abc");
	http_response_clear(&r);
}
END_TEST

START_TEST(test_body_until_close)
{
	const char text[] = "HTTP/1.0 200 OK\r\n\r\nsome body";
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	ck_assert_int_eq(feed_all(&r, text, strlen(text), &used), HTTP_MORE);
	ck_assert_int_eq(http_response_eof(&r), HTTP_DONE);
	ck_assert_str_eq(r.body, "some body");
	http_response_clear(&r);
}
END_TEST

/* A body of exactly the limit is taken, one byte more is not, whether
 * announced, chunked or read until the close. */
START_TEST(test_size_limit)
{
	static char body[1025];
	char head[128];
	struct http_response r;
	size_t used;

	memset(body, 'a', sizeof(body));
	for (size_t extra = 0; extra <= 1; extra++) {
		size_t n = 1024 + extra;

		snprintf(head, sizeof(head),
			 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
		http_response_init(&r, 1024);
		enum http_result got = feed_all(&r, head, strlen(head), &used);

		if (extra) {
			ck_assert_int_eq(got, HTTP_ERROR);
			ck_assert_str_eq(r.error,
					 "the body is over the size limit");
		} else {
			ck_assert_int_eq(feed_all(&r, body, n, &used),
					 HTTP_DONE);
			ck_assert_uint_eq(r.body_len, 1024);
		}
		http_response_clear(&r);

		snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\n"
			 "Transfer-Encoding: chunked\r\n\r\n%zx\r\n", n);
		http_response_init(&r, 1024);
		got = feed_all(&r, head, strlen(head), &used);
		ck_assert_int_eq(got, extra ? HTTP_ERROR : HTTP_MORE);
		http_response_clear(&r);

		http_response_init(&r, 1024);
		feed_all(&r, "HTTP/1.1 200 OK\r\n\r\n", 19, &used);
		got = feed_all(&r, body, n, &used);
		ck_assert_int_eq(got, extra ? HTTP_ERROR : HTTP_MORE);
		if (!extra)
			ck_assert_int_eq(http_response_eof(&r), HTTP_DONE);
		http_response_clear(&r);
	}
}
END_TEST

struct refused {
	const char *text;
	const char *why;
	bool at_eof;		/* refused only when the connection ends */
};

static const struct refused refused_table[] = {
	{ "garbage\r\n", "not an HTTP/1.x status line", false },
	{ "HTTP/2 200 OK\r\n", "not an HTTP/1.x status line", false },
	{ "HTTP/1.1 20 OK\r\n", "not an HTTP/1.x status line", false },
	{ "HTTP/1.1 200OK\r\n", "not an HTTP/1.x status line", false },
	{ "HTTP/1.1 100 Continue\r\n",
	  "an informational (1xx) status nobody asked for", false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n",
	  "a Content-Length that is not a number", false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n",
	  "a Content-Length that is not a number", false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n",
	  "a Content-Length that is not a number", false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n",
	  "two different Content-Lengths", false },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n",
	  "both Content-Length and chunked coding", false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n",
	  "a transfer coding other than chunked", false },
	{ "HTTP/1.1 200 OK\r\nX: 1\r\n folded\r\n",
	  "a folded header line", false },
	{ "HTTP/1.1 200 OK\r\nno colon\r\n",
	  "a header line without a name and a colon", false },
	{ "HTTP/1.1 200 OK\r\n: empty name\r\n",
	  "a header line without a name and a colon", false },
	{ "HTTP/1.1 200 OK\r\nBad Name: 1\r\n",
	  "a header name with characters no name has", false },
	{ "HTTP/1.1 200 OK\r\nX: a\001b\r\n",
	  "control characters in a header", false },
	{ "HTTP/1.1 200 OK\r\nETag: a b\r\n", "an ETag with spaces", false },
	{ "HTTP/1.1 200 OK\r\nETag:\r\n",
	  "an ETag empty or over 64 characters", false },
	{ "HTTP/1.1 200 OK\r\nETag: "
	  "0123456789012345678901234567890123456789012345678901234567890123X"
	  "\r\n", "an ETag empty or over 64 characters", false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	  "a chunk size that is not hexadecimal", false },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\nabc\r\n", "a chunk longer than its size", false },
	{ "", "the connection closed without an answer", true },
	{ "HTTP/1.1 200", "the connection closed in the middle of the "
	  "response", true },
	{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf",
	  "the connection closed in the middle of the response", true },
	{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
	  "the connection closed in the middle of the response", true },
};

START_TEST(test_refused)
{
	const struct refused *t = &refused_table[_i];
	struct http_response r;
	size_t used;
	enum http_result got;

	http_response_init(&r, MAX);
	got = feed_all(&r, t->text, strlen(t->text), &used);
	if (t->at_eof) {
		ck_assert_int_eq(got, HTTP_MORE);
		got = http_response_eof(&r);
	}
	ck_assert_msg(got == HTTP_ERROR, "row %d taken", _i);
	ck_assert_str_eq(r.error, t->why);
	/* An error stays an error. */
	ck_assert_int_eq(feed_all(&r, "\r\n", 2, &used), HTTP_ERROR);
	ck_assert_int_eq(http_response_eof(&r), HTTP_ERROR);
	http_response_clear(&r);
}
END_TEST

/* Bounds on the header section: a line, the number of lines. */
START_TEST(test_header_bounds)
{
	static char line[HTTP_LINE_MAX + 8];
	struct http_response r;
	size_t used;

	http_response_init(&r, MAX);
	feed_all(&r, "HTTP/1.1 200 OK\r\n", 17, &used);
	memset(line, 'a', sizeof(line));
	ck_assert_int_eq(feed_all(&r, line, sizeof(line), &used), HTTP_ERROR);
	ck_assert_str_eq(r.error, "a line over 1024 bytes");
	/* What fitted and the first byte beyond. */
	ck_assert_uint_eq(used, HTTP_LINE_MAX + 1);
	http_response_clear(&r);

	/* The same line in pieces of 100 is refused at the same byte. */
	http_response_init(&r, MAX);
	feed_all(&r, "HTTP/1.1 200 OK\r\n", 17, &used);
	size_t taken = 0;
	enum http_result got = HTTP_MORE;

	for (size_t pos = 0; pos < sizeof(line) && got == HTTP_MORE;
	     pos += used) {
		size_t n = sizeof(line) - pos < 100 ? sizeof(line) - pos : 100;

		got = feed_all(&r, line + pos, n, &used);
		taken += used;
	}
	ck_assert_int_eq(got, HTTP_ERROR);
	ck_assert_uint_eq(taken, HTTP_LINE_MAX + 1);
	http_response_clear(&r);

	http_response_init(&r, MAX);
	feed_all(&r, "HTTP/1.1 200 OK\r\n", 17, &used);
	for (int i = 0; i < HTTP_HEADERS_MAX; i++)
		ck_assert_int_eq(feed_all(&r, "X-A: b\r\n", 8, &used),
				 HTTP_MORE);
	ck_assert_int_eq(feed_all(&r, "X-A: b\r\n", 8, &used), HTTP_ERROR);
	ck_assert_str_eq(r.error, "over 64 header lines");
	http_response_clear(&r);
}
END_TEST

static Suite *http_response_suite(void)
{
	Suite *s = suite_create("http_response");
	TCase *tc = tcase_create("parse");

	tcase_add_test(tc, test_metadata_answer);
	tcase_add_test(tc, test_every_split);
	tcase_add_test(tc, test_stops_at_end);
	tcase_add_test(tc, test_forbidden_and_not_found);
	tcase_add_test(tc, test_chunked);
	tcase_add_test(tc, test_body_until_close);
	tcase_add_test(tc, test_size_limit);
	tcase_add_loop_test(tc, test_refused, 0,
			    (int)(sizeof(refused_table) /
				  sizeof(refused_table[0])));
	tcase_add_test(tc, test_header_bounds);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(http_response_suite)
