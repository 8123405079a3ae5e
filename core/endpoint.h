/* SPDX-License-Identifier: MIT */
/*
 * An outer-network endpoint: the peer's address and port, and the local
 * address it last wrote to, so that replies leave from that address on
 * multi-homed hosts. Parsing and formatting are pure string work.
 */
#ifndef UNIGUARD_ENDPOINT_H
#define UNIGUARD_ENDPOINT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct wg_endpoint {
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;			/* sa_family AF_UNSPEC when unset */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} src;			/* local address the peer wrote to */
	unsigned int src_ifindex;
	bool has_src;
};

/* "192.0.2.1:51820" or "[2001:db8::1]:51820" (numeric only; the daemon
 * resolves names). An IPv6 zone must be numeric ("[fe80::1%2]:51820"): names
 * need the operating system. Ports 0..65535 are accepted, as the reference
 * implementations accept them. false on anything else; ep is then unset. */
bool wg_endpoint_parse(struct wg_endpoint *ep, const char *text, size_t len);
/* Splits "host:port" or "[host]:port" at the last colon outside brackets,
 * as wg does before resolving a name. false unless both parts are
 * non-empty. The parts point into text. */
bool wg_endpoint_split(const char *text, size_t len, const char **host,
		       size_t *host_len, const char **port, size_t *port_len);
/* Takes the address and port of an AF_INET or AF_INET6 sockaddr (as
 * getaddrinfo returns it); false for anything else. */
bool wg_endpoint_from_sockaddr(struct wg_endpoint *ep,
			       const struct sockaddr *sa, size_t salen);
/* Writes the form wg prints ("192.0.2.1:51820", "[2001:db8::1]:51820", a
 * zone as its number); false if buf is too small or ep is unset. */
#define WG_ENDPOINT_TEXT_MAX 64
bool wg_endpoint_format(const struct wg_endpoint *ep, char *buf, size_t buflen);
/* Same family, address, port and IPv6 zone (the local source is not
 * compared). */
bool wg_endpoint_equal(const struct wg_endpoint *a,
		       const struct wg_endpoint *b);
/* The bytes a cookie is bound to: address then big-endian port (whitepaper
 * 5.4.7). Returns the length written (6 or 18) into out[18], 0 if unset. */
size_t wg_endpoint_cookie_bytes(const struct wg_endpoint *ep,
				unsigned char out[18]);

#endif
