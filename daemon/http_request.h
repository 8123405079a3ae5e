/* SPDX-License-Identifier: MIT */
/*
 * The head of one HTTP/1.x request (RFC 9112), read without I/O: the
 * operations listener (ops_http.c) feeds it the bytes a connection brings,
 * in pieces of any size, until it answers done or refused. It keeps them in
 * a buffer of its own of fixed size, so a client can never make it grow.
 *
 * It takes what the listener serves and nothing more: GET with an
 * origin-form target, HTTP/1.0 or 1.1, at most HTTP_REQUEST_HEAD_MAX bytes
 * and HTTP_REQUEST_HEADERS_MAX header fields, and no body. Anything else is
 * refused with the status to answer: 400 malformed, 405 not GET, 413 a
 * body, 414 a request line too long, 431 header fields too many or too
 * long, 505 another version.
 */
#ifndef UNIGUARD_HTTP_REQUEST_H
#define UNIGUARD_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

/* Far more than a health checker or Prometheus sends (a few hundred). */
#define HTTP_REQUEST_HEAD_MAX 2048
#define HTTP_REQUEST_HEADERS_MAX 32
/* The path (target without its query) kept for routing. */
#define HTTP_REQUEST_PATH_MAX 64

enum http_request_state {
	HTTP_REQUEST_MORE,	/* the head is not complete yet */
	HTTP_REQUEST_DONE,	/* a GET to serve: path is set */
	HTTP_REQUEST_REFUSED,	/* answer `status` and close */
};

struct http_request {
	enum http_request_state state;
	int status;			/* when REFUSED */
	/* The target's path, NUL-terminated ("" when longer than
	 * HTTP_REQUEST_PATH_MAX - 1: no route is that long). */
	char path[HTTP_REQUEST_PATH_MAX];
	/* Private to http_request.c. */
	char head[HTTP_REQUEST_HEAD_MAX];
	size_t len;			/* bytes kept in head */
	size_t line_start;		/* of the line being read */
	unsigned int n_headers;
	bool seen_request_line;
	bool http11;
	bool has_host;
};

void http_request_init(struct http_request *r);
/*
 * The next len bytes of the connection. Returns the state after them;
 * once DONE or REFUSED, later bytes are ignored (a pipelined second
 * request is never read: the listener answers one and closes).
 */
enum http_request_state http_request_feed(struct http_request *r,
					  const char *data, size_t len);

#endif
