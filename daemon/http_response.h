/* SPDX-License-Identifier: MIT */
/*
 * An HTTP/1.1 response, read from bytes as they arrive (sans-I/O): the
 * status, the ETag and Metadata-Flavor headers the Compute Engine metadata
 * server sends, and the body, whether its end is given by Content-Length,
 * by chunked transfer coding or by the connection closing. Everything is
 * bounded: one header line, the number of headers, the body (the caller's
 * limit). What breaks a bound or the grammar ends the response as an
 * error that says why; nothing is read past the response's end.
 */
#ifndef UNIGUARD_HTTP_RESPONSE_H
#define UNIGUARD_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_LINE_MAX 1024	/* a status or header line, CRLF included */
#define HTTP_HEADERS_MAX 64
#define HTTP_ETAG_MAX 64

enum http_result {
	HTTP_MORE,		/* give it more bytes, or the end */
	HTTP_DONE,		/* the whole response is read */
	HTTP_ERROR,		/* not a response we take: see error */
};

struct http_response {
	/* What was read. */
	unsigned int status;		/* 100-999 once the status line is in */
	char etag[HTTP_ETAG_MAX + 1];	/* "" when none */
	bool flavor_google;		/* Metadata-Flavor: Google */
	char *body;			/* body_len bytes, NUL after them */
	size_t body_len;
	const char *error;		/* with HTTP_ERROR: why, a constant */

	/* Private to http_response.c. */
	size_t body_max;
	size_t body_cap;
	int state;
	char line[HTTP_LINE_MAX];
	size_t line_len;
	unsigned int headers;
	uint64_t remaining;		/* of the body or of this chunk */
	bool has_length;
	bool chunked;
};

/* A response whose body may be up to body_max bytes. */
void http_response_init(struct http_response *r, size_t body_max);
/* Wipes the body (it may hold keys) and frees it. */
void http_response_clear(struct http_response *r);

/* The next len bytes of the stream. *used says how many were taken: all
 * of them, unless the response ended before them (HTTP_DONE). Once DONE
 * or ERROR, the same answer again. */
enum http_result http_response_feed(struct http_response *r,
				    const uint8_t *data, size_t len,
				    size_t *used);
/* The peer closed the connection: DONE when that is how the body ends,
 * ERROR when the response was cut short. */
enum http_result http_response_eof(struct http_response *r);

#endif
