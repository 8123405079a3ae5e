/* SPDX-License-Identifier: MIT */
/*
 * The request-head reader of the operations listener (daemon/http_request.c):
 * a table of heads with the answer each must get, each fed whole, byte by
 * byte and cut at every point; then the limits, at and one past each.
 */
#include "http_request.h"

#include <stdio.h>
#include <string.h>

#include "support.h"

struct head_case {
	const char *text;
	enum http_request_state state;
	int status;		/* when REFUSED */
	const char *path;	/* when DONE */
};

#define DONE(t, p) { t, HTTP_REQUEST_DONE, 0, p }
#define MORE(t) { t, HTTP_REQUEST_MORE, 0, NULL }
#define REFUSED(t, s) { t, HTTP_REQUEST_REFUSED, s, NULL }

static const struct head_case head_table[] = {
	/* What Prometheus, curl and Compute Engine's checker send. */
	DONE("GET /metrics HTTP/1.1\r\nHost: 10.0.0.1:9586\r\n"
	     "User-Agent: Prometheus/2.42.0\r\nAccept: text/plain;"
	     "version=0.0.4;q=1,*/*;q=0.1\r\nAccept-Encoding: gzip\r\n"
	     "X-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n", "/metrics"),
	DONE("GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/7.88.1\r\n"
	     "Accept: */*\r\n\r\n", "/healthz"),
	DONE("GET /healthz HTTP/1.0\r\n\r\n", "/healthz"),
	/* Bare LF line ends, empty lines before the request line. */
	DONE("GET / HTTP/1.1\nHost: x\n\n", "/"),
	DONE("\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n", "/a"),
	/* The query is not part of the path. */
	DONE("GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n", "/metrics"),
	/* Field names without regard to case, values trimmed. */
	DONE("GET / HTTP/1.1\r\nhOsT:x\r\nContent-Length:  0 \r\n\r\n", "/"),
	/* Unfinished heads wait for more. */
	MORE(""),
	MORE("GET /metrics HTTP/1.1\r\n"),
	MORE("GET /metrics HTTP/1.1\r\nHost: x\r\n"),
	MORE("GET /metrics HTTP/1.1\r\nHost: x\r\n\r"),
	/* Only GET. */
	REFUSED("POST /metrics HTTP/1.1\r\n", 405),
	REFUSED("HEAD /healthz HTTP/1.1\r\n", 405),
	REFUSED("get /healthz HTTP/1.1\r\n", 405),
	/* No bodies. */
	REFUSED("GET / HTTP/1.1\r\nContent-Length: 5\r\n", 413),
	REFUSED("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n", 413),
	/* Versions. */
	REFUSED("GET / HTTP/2.0\r\n", 505),
	REFUSED("GET / HTTP/0.9\r\n", 505),
	REFUSED("GET / HTTP/1.x\r\n", 400),
	REFUSED("GET / HTTPS/1.1\r\n", 400),
	REFUSED("GET /\r\n", 400),
	/* Malformed request lines. */
	REFUSED("GET  / HTTP/1.1\r\n", 400),
	REFUSED("GET / HTTP/1.1 \r\n", 400),
	REFUSED("GET http://x/ HTTP/1.1\r\n", 400),
	REFUSED("GET * HTTP/1.1\r\n", 400),
	REFUSED("GET /\x01 HTTP/1.1\r\n", 400),
	REFUSED("GET /\x80 HTTP/1.1\r\n", 400),
	REFUSED("G(T / HTTP/1.1\r\n", 400),
	REFUSED("GET\r / HTTP/1.1\r\n", 400),
	REFUSED(" GET / HTTP/1.1\r\n", 400),
	/* Malformed fields. */
	REFUSED("GET / HTTP/1.1\r\nHost : x\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\nHost x\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\n: x\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\nHost: a\rb\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\nHost: a\x01\r\n", 400),
	REFUSED("GET / HTTP/1.1\r\nHost: a\x7f\r\n", 400),
	/* HTTP/1.1 needs a Host. */
	REFUSED("GET / HTTP/1.1\r\n\r\n", 400),
};

static void check_result(const struct http_request *r,
			 const struct head_case *c, const char *how)
{
	ck_assert_msg(r->state == c->state, "%s: %s: state %d, want %d", how,
		      c->text, r->state, c->state);
	if (c->state == HTTP_REQUEST_REFUSED)
		ck_assert_msg(r->status == c->status, "%s: %s: status %d, "
			      "want %d", how, c->text, r->status, c->status);
	if (c->state == HTTP_REQUEST_DONE)
		ck_assert_str_eq(r->path, c->path);
}

START_TEST(test_head_table_whole)
{
	const struct head_case *c = &head_table[_i];
	struct http_request r;

	http_request_init(&r);
	http_request_feed(&r, c->text, strlen(c->text));
	check_result(&r, c, "whole");
}
END_TEST

START_TEST(test_head_table_bytewise)
{
	const struct head_case *c = &head_table[_i];
	struct http_request r;

	http_request_init(&r);
	for (size_t i = 0; c->text[i]; i++)
		http_request_feed(&r, c->text + i, 1);
	check_result(&r, c, "byte by byte");
}
END_TEST

/* Every cut into two pieces: a read may end anywhere. */
START_TEST(test_head_table_split)
{
	const struct head_case *c = &head_table[_i];
	size_t len = strlen(c->text);

	for (size_t cut = 0; cut <= len; cut++) {
		struct http_request r;

		http_request_init(&r);
		http_request_feed(&r, c->text, cut);
		http_request_feed(&r, c->text + cut, len - cut);
		check_result(&r, c, "split");
	}
}
END_TEST

/* Bytes after the head (a pipelined request) are not read. */
START_TEST(test_after_the_head)
{
	static const char two[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
				  "POST /metrics HTTP/1.1\r\n\r\n";
	struct http_request r;

	http_request_init(&r);
	ck_assert_int_eq(http_request_feed(&r, two, sizeof(two) - 1),
			 HTTP_REQUEST_DONE);
	ck_assert_str_eq(r.path, "/healthz");
	ck_assert_int_eq(http_request_feed(&r, "x", 1), HTTP_REQUEST_DONE);
}
END_TEST

/* A head of exactly `size` bytes: request line, filler field, end. */
static void make_head(char *buf, size_t size, const char *line)
{
	size_t n = (size_t)snprintf(buf, size, "%sHost: x\r\nX: ", line);

	memset(buf + n, 'a', size - n - 4);
	memcpy(buf + size - 4, "\r\n\r\n", 4);
}

START_TEST(test_head_size_limit)
{
	static char buf[HTTP_REQUEST_HEAD_MAX + 1];
	struct http_request r;

	make_head(buf, HTTP_REQUEST_HEAD_MAX, "GET / HTTP/1.1\r\n");
	http_request_init(&r);
	ck_assert_int_eq(http_request_feed(&r, buf, HTTP_REQUEST_HEAD_MAX),
			 HTTP_REQUEST_DONE);

	make_head(buf, HTTP_REQUEST_HEAD_MAX + 1, "GET / HTTP/1.1\r\n");
	http_request_init(&r);
	ck_assert_int_eq(http_request_feed(&r, buf, sizeof(buf)),
			 HTTP_REQUEST_REFUSED);
	ck_assert_int_eq(r.status, 431);
}
END_TEST

/* Bytes that never end a line: refused once the buffer is full, whether
 * they come at once or a few at a time. */
START_TEST(test_endless_line)
{
	struct http_request r;
	char chunk[100];
	size_t fed = 0;

	memset(chunk, 'a', sizeof(chunk));
	http_request_init(&r);
	http_request_feed(&r, "GET /", 5);
	while (r.state == HTTP_REQUEST_MORE && fed < 10 * HTTP_REQUEST_HEAD_MAX) {
		http_request_feed(&r, chunk, sizeof(chunk));
		fed += sizeof(chunk);
	}
	ck_assert_int_eq(r.state, HTTP_REQUEST_REFUSED);
	ck_assert_int_eq(r.status, 414);
	ck_assert_uint_le(fed, HTTP_REQUEST_HEAD_MAX + sizeof(chunk));

	http_request_init(&r);
	http_request_feed(&r, "GET / HTTP/1.1\r\nX: ", 19);
	fed = 0;
	while (r.state == HTTP_REQUEST_MORE && fed < 10 * HTTP_REQUEST_HEAD_MAX) {
		http_request_feed(&r, chunk, sizeof(chunk));
		fed += sizeof(chunk);
	}
	ck_assert_int_eq(r.status, 431);
}
END_TEST

START_TEST(test_header_count_limit)
{
	char buf[HTTP_REQUEST_HEAD_MAX];
	struct http_request r;
	size_t n;

	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
		for (int i = 0; i < HTTP_REQUEST_HEADERS_MAX + extra; i++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      i ? "X%d: y\r\n" : "Host: x\r\n",
					      i);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
		http_request_init(&r);
		http_request_feed(&r, buf, n);
		if (!extra) {
			ck_assert_int_eq(r.state, HTTP_REQUEST_DONE);
		} else {
			ck_assert_int_eq(r.state, HTTP_REQUEST_REFUSED);
			ck_assert_int_eq(r.status, 431);
		}
	}
}
END_TEST

/* A path too long for any route is kept as "", to be a 404. */
START_TEST(test_long_path)
{
	char buf[256];
	struct http_request r;
	int n;

	n = snprintf(buf, sizeof(buf), "GET /%0*d HTTP/1.0\r\n\r\n",
		     HTTP_REQUEST_PATH_MAX, 0);
	http_request_init(&r);
	ck_assert_int_eq(http_request_feed(&r, buf, (size_t)n),
			 HTTP_REQUEST_DONE);
	ck_assert_str_eq(r.path, "");
}
END_TEST

static Suite *http_request_suite(void)
{
	Suite *s = suite_create("http_request");
	TCase *tc = tcase_create("head");
	int n = (int)(sizeof(head_table) / sizeof(head_table[0]));

	tcase_add_loop_test(tc, test_head_table_whole, 0, n);
	tcase_add_loop_test(tc, test_head_table_bytewise, 0, n);
	tcase_add_loop_test(tc, test_head_table_split, 0, n);
	tcase_add_test(tc, test_after_the_head);
	tcase_add_test(tc, test_head_size_limit);
	tcase_add_test(tc, test_endless_line);
	tcase_add_test(tc, test_header_count_limit);
	tcase_add_test(tc, test_long_path);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(http_request_suite)
