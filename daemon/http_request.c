/* SPDX-License-Identifier: MIT */
/*
 * One HTTP/1.x request head (http_request.h), after RFC 9112 (message
 * syntax) and RFC 9110 (methods, status codes, field syntax). Lines end
 * in CRLF or, as section 2.2 lets a recipient accept, a bare LF; a CR
 * anywhere else, an obsolete line folding, a control character in a field
 * or white space before a field's colon is refused (section 5.1 says 400
 * for the last, the others are the request smuggling section 11.2 warns
 * of).
 */
#include "http_request.h"

#include <string.h>

void http_request_init(struct http_request *r)
{
	memset(r, 0, sizeof(*r));
	r->state = HTTP_REQUEST_MORE;
}

static enum http_request_state refuse(struct http_request *r, int status)
{
	r->state = HTTP_REQUEST_REFUSED;
	r->status = status;
	return r->state;
}

/* RFC 9110 section 5.6.2: tchar. */
static bool is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return false;
	return true;
}

/* Field names compare without regard to case (RFC 9110 section 5.1). */
static bool name_is(const char *s, size_t len, const char *name)
{
	if (strlen(name) != len)
		return false;
	for (size_t i = 0; i < len; i++) {
		char a = s[i], b = name[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* "METHOD SP TARGET SP HTTP/1.x", single spaces (section 3). */
static enum http_request_state request_line(struct http_request *r,
					    const char *line, size_t len)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *target, *version;
	size_t mlen, tlen, vlen, plen;

	if (!sp1)
		return refuse(r, 400);
	mlen = (size_t)(sp1 - line);
	target = sp1 + 1;
	sp2 = memchr(target, ' ', len - mlen - 1);
	if (!sp2)
		return refuse(r, 400);
	tlen = (size_t)(sp2 - target);
	version = sp2 + 1;
	vlen = len - (size_t)(version - line);
	if (!is_token(line, mlen) || tlen == 0 || target[0] != '/')
		return refuse(r, 400);
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)target[i] <= ' ' ||
		    (unsigned char)target[i] >= 0x7f)
			return refuse(r, 400);
	if (vlen != 8 || memcmp(version, "HTTP/", 5) != 0 ||
	    version[6] != '.' || version[5] < '0' || version[5] > '9' ||
	    version[7] < '0' || version[7] > '9')
		return refuse(r, 400);
	if (version[5] != '1' || (version[7] != '0' && version[7] != '1'))
		return refuse(r, 505);
	/* The method after the syntax: a malformed line is a 400 whatever
	 * its first word. */
	if (mlen != 3 || memcmp(line, "GET", 3) != 0)
		return refuse(r, 405);
	plen = strcspn(target, "? ");
	if (plen > tlen)
		plen = tlen;
	if (plen < sizeof(r->path)) {
		memcpy(r->path, target, plen);
		r->path[plen] = '\0';
	}
	r->seen_request_line = true;
	r->http11 = version[7] == '1';
	return r->state;
}

/* "name: value" (section 5): no body may follow, as GET has none here. */
static enum http_request_state header_line(struct http_request *r,
					   const char *line, size_t len)
{
	const char *colon, *value;
	size_t nlen, vlen;

	/* Obsolete line folding (section 5.2). */
	if (line[0] == ' ' || line[0] == '\t')
		return refuse(r, 400);
	colon = memchr(line, ':', len);
	if (!colon)
		return refuse(r, 400);
	nlen = (size_t)(colon - line);
	if (!is_token(line, nlen))
		return refuse(r, 400);
	value = colon + 1;
	vlen = len - nlen - 1;
	for (size_t i = 0; i < vlen; i++) {
		unsigned char c = (unsigned char)value[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return refuse(r, 400);
	}
	while (vlen > 0 && (value[0] == ' ' || value[0] == '\t')) {
		value++;
		vlen--;
	}
	while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
		vlen--;
	if (++r->n_headers > HTTP_REQUEST_HEADERS_MAX)
		return refuse(r, 431);
	if (name_is(line, nlen, "host"))
		r->has_host = true;
	if (name_is(line, nlen, "transfer-encoding") ||
	    (name_is(line, nlen, "content-length") &&
	     !(vlen == 1 && value[0] == '0')))
		return refuse(r, 413);
	return r->state;
}

/* One line without its line end. */
static enum http_request_state take_line(struct http_request *r,
					 const char *line, size_t len)
{
	if (memchr(line, '\r', len) || memchr(line, '\0', len))
		return refuse(r, 400);
	if (!r->seen_request_line) {
		/* Empty lines before the request line are skipped
		 * (section 2.2). */
		if (len == 0)
			return r->state;
		return request_line(r, line, len);
	}
	if (len == 0) {
		/* A 1.1 request without Host is a 400 (section 3.2). */
		if (r->http11 && !r->has_host)
			return refuse(r, 400);
		r->state = HTTP_REQUEST_DONE;
		return r->state;
	}
	return header_line(r, line, len);
}

enum http_request_state http_request_feed(struct http_request *r,
					  const char *data, size_t len)
{
	for (size_t i = 0; i < len && r->state == HTTP_REQUEST_MORE; i++) {
		size_t end;

		if (r->len == sizeof(r->head))
			return refuse(r, r->seen_request_line ? 431 : 414);
		r->head[r->len++] = data[i];
		if (data[i] != '\n')
			continue;
		end = r->len - 1;
		if (end > r->line_start && r->head[end - 1] == '\r')
			end--;
		take_line(r, r->head + r->line_start, end - r->line_start);
		r->line_start = r->len;
	}
	return r->state;
}
