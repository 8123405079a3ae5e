/* SPDX-License-Identifier: MIT */
/*
 * Endpoints as text, in the forms the configuration protocol
 * (https://www.wireguard.com/xplatform/) and wg(8) use: "a.b.c.d:port" and
 * "[v6]:port", numeric only. Also the bytes a cookie is bound to (whitepaper
 * section 5.4.7: the source IP address and UDP port).
 */
#include "endpoint.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* inet_pton needs a NUL-terminated string no longer than the longest
 * address text. */
static bool parse_addr(int family, const char *s, size_t len, void *out)
{
	char buf[INET6_ADDRSTRLEN];

	if (len == 0 || len >= sizeof(buf) || memchr(s, '\0', len))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(family, buf, out) == 1;
}

bool wg_endpoint_split(const char *text, size_t len, const char **host,
		       size_t *host_len, const char **port, size_t *port_len)
{
	const char *colon;

	if (len == 0)
		return false;
	if (text[0] == '[') {
		const char *close = memchr(text, ']', len);

		if (!close || close == text + 1)
			return false;
		colon = close + 1;
		if (colon >= text + len || *colon != ':')
			return false;
		*host = text + 1;
		*host_len = (size_t)(close - text - 1);
	} else {
		colon = NULL;
		for (size_t i = len; i > 0; i--) {
			if (text[i - 1] == ':') {
				colon = text + i - 1;
				break;
			}
		}
		if (!colon || colon == text)
			return false;
		*host = text;
		*host_len = (size_t)(colon - text);
	}
	*port = colon + 1;
	*port_len = len - (size_t)(*port - text);
	return *port_len > 0;
}

bool wg_endpoint_parse(struct wg_endpoint *ep, const char *text, size_t len)
{
	const char *host, *port;
	size_t host_len, port_len;
	uint64_t portnum, scope = 0;

	memset(ep, 0, sizeof(*ep));
	ep->addr.sa.sa_family = AF_UNSPEC;
	if (!wg_endpoint_split(text, len, &host, &host_len, &port, &port_len))
		return false;
	if (!wg_parse_decimal(port, port_len, UINT16_MAX, &portnum))
		return false;

	if (text[0] == '[') {
		struct in6_addr a6;
		const char *pct = memchr(host, '%', host_len);
		size_t addr_len = pct ? (size_t)(pct - host) : host_len;

		/* A zone name would need if_nametoindex: not the core's job. */
		if (pct && !wg_parse_decimal(pct + 1, host_len - addr_len - 1,
					     UINT32_MAX, &scope))
			return false;
		if (!parse_addr(AF_INET6, host, addr_len, &a6))
			return false;
		ep->addr.sin6.sin6_family = AF_INET6;
		ep->addr.sin6.sin6_addr = a6;
		ep->addr.sin6.sin6_port = htons((uint16_t)portnum);
		ep->addr.sin6.sin6_scope_id = (uint32_t)scope;
		return true;
	}

	/* Without brackets only IPv4: "1::2:51820" is ambiguous. */
	struct in_addr a4;

	if (!parse_addr(AF_INET, host, host_len, &a4))
		return false;
	ep->addr.sin.sin_family = AF_INET;
	ep->addr.sin.sin_addr = a4;
	ep->addr.sin.sin_port = htons((uint16_t)portnum);
	return true;
}

bool wg_endpoint_from_sockaddr(struct wg_endpoint *ep,
			       const struct sockaddr *sa, size_t salen)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.sa.sa_family = AF_UNSPEC;
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		memcpy(&ep->addr.sin, sa, sizeof(struct sockaddr_in));
		return true;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		memcpy(&ep->addr.sin6, sa, sizeof(struct sockaddr_in6));
		return true;
	}
	return false;
}

bool wg_endpoint_format(const struct wg_endpoint *ep, char *buf, size_t buflen)
{
	const struct sockaddr_in *sin = &ep->addr.sin;
	const struct sockaddr_in6 *sin6 = &ep->addr.sin6;
	char addr[INET6_ADDRSTRLEN];
	int n;

	if (buflen == 0)
		return false;
	buf[0] = '\0';
	if (ep->addr.sa.sa_family == AF_INET) {
		if (!inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr)))
			return false;
		n = snprintf(buf, buflen, "%s:%u", addr,
			     (unsigned int)ntohs(sin->sin_port));
	} else if (ep->addr.sa.sa_family == AF_INET6) {
		if (!inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr)))
			return false;
		/* No name for the zone: that would take the OS. */
		if (sin6->sin6_scope_id)
			n = snprintf(buf, buflen, "[%s%%%u]:%u", addr,
				     (unsigned int)sin6->sin6_scope_id,
				     (unsigned int)ntohs(sin6->sin6_port));
		else
			n = snprintf(buf, buflen, "[%s]:%u", addr,
				     (unsigned int)ntohs(sin6->sin6_port));
	} else {
		return false;
	}
	if (n < 0 || (size_t)n >= buflen) {
		buf[0] = '\0';
		return false;
	}
	return true;
}

bool wg_endpoint_equal(const struct wg_endpoint *a,
		       const struct wg_endpoint *b)
{
	const struct sockaddr_in *a4 = &a->addr.sin, *b4 = &b->addr.sin;
	const struct sockaddr_in6 *a6 = &a->addr.sin6, *b6 = &b->addr.sin6;

	if (a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		       a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->addr.sa.sa_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		       a6->sin6_scope_id == b6->sin6_scope_id &&
		       memcmp(&a6->sin6_addr, &b6->sin6_addr,
			      sizeof(struct in6_addr)) == 0;
	/* Two unset endpoints are the same "no endpoint". */
	return a->addr.sa.sa_family == AF_UNSPEC;
}

size_t wg_endpoint_cookie_bytes(const struct wg_endpoint *ep,
				unsigned char out[18])
{
	/* sin_port and sin6_port are already big-endian. */
	if (ep->addr.sa.sa_family == AF_INET) {
		memcpy(out, &ep->addr.sin.sin_addr, 4);
		memcpy(out + 4, &ep->addr.sin.sin_port, 2);
		return 6;
	}
	if (ep->addr.sa.sa_family == AF_INET6) {
		memcpy(out, &ep->addr.sin6.sin6_addr, 16);
		memcpy(out + 16, &ep->addr.sin6.sin6_port, 2);
		return 18;
	}
	return 0;
}
