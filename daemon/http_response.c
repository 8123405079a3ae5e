/* SPDX-License-Identifier: MIT */
/*
 * An HTTP/1.1 response (http_response.h), as RFC 9112 frames it: a status
 * line, header lines up to an empty one, then a body whose end is given by
 * Content-Length, by the chunked transfer coding (section 7.1) or by the
 * connection closing. Lines may end in CRLF or a bare LF (section 2.2).
 * Where the RFC lets a recipient choose, this parser refuses: a response
 * with both Content-Length and chunked coding, two different lengths, a
 * folded header line, an informational (1xx) status nobody asked for.
 */
#include "http_response.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crypto.h"

enum state {
	ST_STATUS,
	ST_HEADER,
	ST_BODY,		/* remaining bytes of a Content-Length body */
	ST_BODY_CLOSE,		/* until the connection closes */
	ST_CHUNK_SIZE,
	ST_CHUNK_DATA,
	ST_CHUNK_END,		/* the CRLF after a chunk's data */
	ST_TRAILER,
	ST_DONE,
	ST_ERROR,
};

void http_response_init(struct http_response *r, size_t body_max)
{
	memset(r, 0, sizeof(*r));
	r->body_max = body_max;
	r->state = ST_STATUS;
}

void http_response_clear(struct http_response *r)
{
	if (r->body) {
		wg_wipe(r->body, r->body_cap);
		free(r->body);
	}
	r->body = NULL;
	r->body_len = r->body_cap = 0;
}

static enum http_result fail(struct http_response *r, const char *why)
{
	r->state = ST_ERROR;
	r->error = why;
	return HTTP_ERROR;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_ci(const char *s, size_t len, const char *word)
{
	return wg_text_equal_ci(s, len, word);
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 section 5.6.2: the characters of a header's name. */
static bool is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       is_digit(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hex_value(char c)
{
	if (is_digit(c))
		return c - '0';
	c = lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static enum http_result append_body(struct http_response *r,
				    const uint8_t *data, size_t len)
{
	if (len > r->body_max - r->body_len)
		return fail(r, "the body is over the size limit");
	if (r->body_len + len + 1 > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		char *grown;

		while (cap < r->body_len + len + 1)
			cap *= 2;
		if (cap > r->body_max + 1)
			cap = r->body_max + 1;
		grown = malloc(cap);
		if (!grown)
			return fail(r, "out of memory");
		if (r->body) {
			memcpy(grown, r->body, r->body_len);
			wg_wipe(r->body, r->body_cap);
			free(r->body);
		}
		r->body = grown;
		r->body_cap = cap;
	}
	if (len)
		memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return HTTP_MORE;
}

/* The body is whole: a response without one still gets an empty string. */
static enum http_result finish(struct http_response *r)
{
	if (!r->body && append_body(r, NULL, 0) == HTTP_ERROR)
		return HTTP_ERROR;
	r->state = ST_DONE;
	return HTTP_DONE;
}

/* "HTTP/1.1 200 OK": the version, three digits, and a reason or none. */
static enum http_result status_line(struct http_response *r, const char *s,
				    size_t len)
{
	if (len < 12 || memcmp(s, "HTTP/1.", 7) != 0 ||
	    (s[7] != '0' && s[7] != '1') || s[8] != ' ' || !is_digit(s[9]) ||
	    !is_digit(s[10]) || !is_digit(s[11]) ||
	    (len > 12 && s[12] != ' '))
		return fail(r, "not an HTTP/1.x status line");
	r->status = (unsigned int)((s[9] - '0') * 100 + (s[10] - '0') * 10 +
				   (s[11] - '0'));
	if (r->status < 200)
		return fail(r, "an informational (1xx) status nobody asked for");
	r->state = ST_HEADER;
	return HTTP_MORE;
}

static enum http_result content_length(struct http_response *r,
				       const char *v, size_t len)
{
	uint64_t n = 0;

	if (len == 0 || len > 19)
		return fail(r, "a Content-Length that is not a number");
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(v[i]))
			return fail(r, "a Content-Length that is not a "
				    "number");
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	if (r->has_length && n != r->remaining)
		return fail(r, "two different Content-Lengths");
	if (n > r->body_max)
		return fail(r, "the body is over the size limit");
	r->has_length = true;
	r->remaining = n;
	return HTTP_MORE;
}

static enum http_result header_value(struct http_response *r,
				     const char *name, size_t nlen,
				     const char *v, size_t vlen)
{
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)v[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, "control characters in a header");
	}
	if (is_ci(name, nlen, "Content-Length"))
		return content_length(r, v, vlen);
	if (is_ci(name, nlen, "Transfer-Encoding")) {
		if (!is_ci(v, vlen, "chunked"))
			return fail(r, "a transfer coding other than chunked");
		r->chunked = true;
	} else if (is_ci(name, nlen, "ETag")) {
		if (vlen == 0 || vlen > HTTP_ETAG_MAX)
			return fail(r, "an ETag empty or over 64 characters");
		for (size_t i = 0; i < vlen; i++)
			if (v[i] <= ' ' || v[i] == 0x7f)
				return fail(r, "an ETag with spaces");
		memcpy(r->etag, v, vlen);
		r->etag[vlen] = '\0';
	} else if (is_ci(name, nlen, "Metadata-Flavor")) {
		r->flavor_google = vlen == 6 && memcmp(v, "Google", 6) == 0;
	}
	return HTTP_MORE;
}

/* The empty line: what follows is the body, framed as the headers say. */
static enum http_result headers_end(struct http_response *r)
{
	if (r->status == 204 || r->status == 304)
		return finish(r);
	if (r->chunked && r->has_length)
		return fail(r, "both Content-Length and chunked coding");
	if (r->chunked) {
		r->state = ST_CHUNK_SIZE;
		return HTTP_MORE;
	}
	if (r->has_length) {
		if (r->remaining == 0)
			return finish(r);
		r->state = ST_BODY;
		return HTTP_MORE;
	}
	r->state = ST_BODY_CLOSE;
	return HTTP_MORE;
}

static enum http_result header_line(struct http_response *r, const char *s,
				    size_t len)
{
	const char *colon, *v;
	size_t nlen, vlen;

	if (len == 0)
		return r->state == ST_TRAILER ? finish(r) : headers_end(r);
	if (++r->headers > HTTP_HEADERS_MAX)
		return fail(r, "over 64 header lines");
	if (s[0] == ' ' || s[0] == '\t')
		return fail(r, "a folded header line");
	colon = memchr(s, ':', len);
	if (!colon || colon == s)
		return fail(r, "a header line without a name and a colon");
	nlen = (size_t)(colon - s);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar(s[i]))
			return fail(r, "a header name with characters no "
				    "name has");
	/* Trailers are read and forgotten: nothing here needs one. */
	if (r->state == ST_TRAILER)
		return HTTP_MORE;
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	return header_value(r, s, nlen, v, vlen);
}

/* "1a3" or "1a3;name=value": the extension is allowed and ignored. */
static enum http_result chunk_size_line(struct http_response *r,
					const char *s, size_t len)
{
	uint64_t n = 0;
	size_t i = 0;

	for (; i < len && hex_value(s[i]) >= 0; i++) {
		n = n * 16 + (uint64_t)hex_value(s[i]);
		if (n > r->body_max)
			return fail(r, "the body is over the size limit");
	}
	while (i < len && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == 0 || (i < len && s[i] != ';'))
		return fail(r, "a chunk size that is not hexadecimal");
	if (n > r->body_max - r->body_len)
		return fail(r, "the body is over the size limit");
	if (n == 0) {
		r->state = ST_TRAILER;
		return HTTP_MORE;
	}
	r->remaining = n;
	r->state = ST_CHUNK_DATA;
	return HTTP_MORE;
}

static enum http_result take_line(struct http_response *r)
{
	size_t len = r->line_len;

	/* The line without its LF, and without the CR before it. */
	len--;
	if (len > 0 && r->line[len - 1] == '\r')
		len--;
	r->line_len = 0;
	switch (r->state) {
	case ST_STATUS:
		return status_line(r, r->line, len);
	case ST_HEADER:
	case ST_TRAILER:
		return header_line(r, r->line, len);
	case ST_CHUNK_SIZE:
		return chunk_size_line(r, r->line, len);
	case ST_CHUNK_END:
		if (len != 0)
			return fail(r, "a chunk longer than its size");
		r->state = ST_CHUNK_SIZE;
		return HTTP_MORE;
	default:
		return fail(r, "internal: a line in the body");
	}
}

/* Whether n more bytes would pass a bound with room bytes left (of the
 * body, or of a line); if so the response is refused for why, and what it
 * took is what fitted and the first byte beyond: the same however the
 * bytes were cut into pieces. */
static bool over_bound(struct http_response *r, size_t n, size_t room,
		       const char *why, size_t *pos, enum http_result *res)
{
	if (n <= room)
		return false;
	*pos += room + 1;
	*res = fail(r, why);
	return true;
}

static bool over_limit(struct http_response *r, size_t n, size_t *pos,
		       enum http_result *res)
{
	return over_bound(r, n, r->body_max - r->body_len,
			  "the body is over the size limit", pos, res);
}

enum http_result http_response_feed(struct http_response *r,
				    const uint8_t *data, size_t len,
				    size_t *used)
{
	size_t pos = 0;
	enum http_result res = HTTP_MORE;

	while (pos < len && res == HTTP_MORE) {
		size_t n = len - pos;

		switch (r->state) {
		case ST_DONE:
			res = HTTP_DONE;
			continue;
		case ST_ERROR:
			res = HTTP_ERROR;
			continue;
		case ST_BODY:
		case ST_CHUNK_DATA:
			if (n > r->remaining)
				n = (size_t)r->remaining;
			if (over_limit(r, n, &pos, &res))
				continue;
			res = append_body(r, data + pos, n);
			pos += n;
			r->remaining -= n;
			if (res == HTTP_MORE && r->remaining == 0) {
				if (r->state == ST_BODY)
					res = finish(r);
				else
					r->state = ST_CHUNK_END;
			}
			continue;
		case ST_BODY_CLOSE:
			if (over_limit(r, n, &pos, &res))
				continue;
			res = append_body(r, data + pos, n);
			pos += n;
			continue;
		default:
			break;
		}
		/* A line: up to its LF, within the bound. */
		const uint8_t *lf = memchr(data + pos, '\n', n);

		if (lf)
			n = (size_t)(lf - (data + pos)) + 1;
		if (over_bound(r, n, sizeof(r->line) - r->line_len,
			       "a line over 1024 bytes", &pos, &res))
			continue;
		memcpy(r->line + r->line_len, data + pos, n);
		r->line_len += n;
		pos += n;
		if (lf)
			res = take_line(r);
	}
	if (r->state == ST_DONE)
		res = HTTP_DONE;
	else if (r->state == ST_ERROR)
		res = HTTP_ERROR;
	if (used)
		*used = pos;
	return res;
}

enum http_result http_response_eof(struct http_response *r)
{
	switch (r->state) {
	case ST_DONE:
		return HTTP_DONE;
	case ST_ERROR:
		return HTTP_ERROR;
	case ST_BODY_CLOSE:
		return finish(r);
	case ST_STATUS:
		if (r->line_len == 0)
			return fail(r, "the connection closed without an "
				    "answer");
		/* fall through */
	default:
		return fail(r, "the connection closed in the middle of the "
			    "response");
	}
}
