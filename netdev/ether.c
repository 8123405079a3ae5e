/* SPDX-License-Identifier: MIT */
/*
 * Ethernet for the tap backend (ether.h), sans I/O: Ethernet II framing
 * (IEEE 802.3 with EtherType), the dispatch of frames and packets to the
 * protocols (ether_arp.c, ether_nd.c, ether_forward.c, with next hops from
 * ether_neigh.c), the settings, and the verdict counts.
 */
#include "ether.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ether_arp.h"
#include "ether_forward.h"
#include "ether_nd.h"
#include "ether_neigh.h"
#include "ether_priv.h"
#include "inet.h"

/* Ethernet's shortest frame without its FCS: shorter ones are padded. */
#define ETHER_MIN_FRAME 60

static struct ether_if *iface(struct ether *e, int family)
{
	return family == AF_INET ? &e->v4 : &e->v6;
}

/* An address we answer for on behalf of the tunnel: on the segment, not
 * ours, and covered by a tunnel prefix more specific than the segment's,
 * so that a peer routing everything (0.0.0.0/0) never claims the whole
 * segment. */
bool ether_is_proxied(const struct ether *e, int family, const uint8_t *addr)
{
	const struct ether_if *i = family == AF_INET ? &e->v4 : &e->v6;

	if (!e->proxy || !on_link(i, addr) ||
	    is_own(i, addr, addr_len(family)))
		return false;
	for (size_t k = 0; k < e->n_routes; k++) {
		const struct ether_prefix *r = &e->routes[k];

		if (r->family == family && r->len > i->prefixlen &&
		    prefix_covers(r->addr, r->len, addr))
			return true;
	}
	return false;
}

static enum ether_verdict count(struct ether *e, enum ether_verdict v)
{
	e->stats[v]++;
	return v;
}

void ether_emit_frame(struct ether *e, const uint8_t *dst, uint16_t type,
		      size_t len)
{
	size_t total = ETHER_HDR_LEN + len;

	memcpy(e->tx, dst, ETHER_ADDR_LEN);
	memcpy(e->tx + ETHER_ADDR_LEN, e->mac, ETHER_ADDR_LEN);
	inet_put16(e->tx + 2 * ETHER_ADDR_LEN, type);
	if (total < ETHER_MIN_FRAME) {
		memset(e->tx + total, 0, ETHER_MIN_FRAME - total);
		total = ETHER_MIN_FRAME;
	}
	e->emit(e->ctx, e->tx, total);
}

/* Input and output. */

enum ether_verdict ether_input(struct ether *e, uint64_t now, uint8_t *frame,
			       size_t len, size_t *off, size_t *pkt_len)
{
	const uint8_t *dst = frame, *src = frame + ETHER_ADDR_LEN;
	uint8_t eth_src[ETHER_ADDR_LEN];
	uint8_t *payload = frame + ETHER_HDR_LEN;
	size_t n;
	bool unicast;

	ether_neigh_sweep(e, now);
	*off = ETHER_HDR_LEN;
	*pkt_len = 0;
	if (len < ETHER_HDR_LEN)
		return count(e, ETHER_MALFORMED);
	n = len - ETHER_HDR_LEN;
	if (mac_is_group(src) || is_zero(src, ETHER_ADDR_LEN))
		return count(e, ETHER_MALFORMED);
	if (memcmp(src, e->mac, ETHER_ADDR_LEN) == 0)
		return count(e, ETHER_IGNORED);
	unicast = memcmp(dst, e->mac, ETHER_ADDR_LEN) == 0;
	if (!unicast && !mac_is_group(dst))
		return count(e, ETHER_IGNORED);
	/* Answers are built in tx; keep the sender apart from the frame. */
	memcpy(eth_src, src, sizeof(eth_src));
	switch (inet_get16(frame + 2 * ETHER_ADDR_LEN)) {
	case ETHERTYPE_ARP:
		return count(e, ether_arp_input(e, now, payload, n));
	case ETHERTYPE_IPV4:
		if (!unicast)
			return count(e, ETHER_IGNORED);
		return count(e, ether_ipv4_input(e, eth_src, payload, n,
						 pkt_len));
	case ETHERTYPE_IPV6:
		return count(e, ether_ipv6_input(e, now, eth_src, unicast,
						 payload, n, pkt_len));
	default:
		return count(e, ETHER_IGNORED);
	}
}

enum ether_verdict ether_output(struct ether *e, uint64_t now,
				const uint8_t *pkt, size_t len)
{
	ether_neigh_sweep(e, now);
	if (len < 1)
		return count(e, ETHER_MALFORMED);
	switch (inet_version(pkt)) {
	case 4:
		return count(e, ether_ipv4_output(e, now, pkt, len));
	case 6:
		return count(e, ether_ipv6_output(e, now, pkt, len));
	default:
		return count(e, ETHER_MALFORMED);
	}
}

void ether_announce(struct ether *e)
{
	ether_arp_announce(e);
	ether_nd_announce(e);
}

/* Set-up. */

struct ether *ether_new(const uint8_t mac[ETHER_ADDR_LEN], ether_emit_fn emit,
			void *ctx)
{
	struct ether *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	memcpy(e->mac, mac, ETHER_ADDR_LEN);
	e->emit = emit;
	e->ctx = ctx;
	e->mtu = ETHER_MTU_DEFAULT;
	for (size_t k = 0; k < ETHER_PENDING_MAX; k++)
		e->pending[k].neigh = -1;
	return e;
}

void ether_free(struct ether *e)
{
	if (!e)
		return;
	free(e->routes);
	free(e);
}

int ether_set_address(struct ether *e, int family, const uint8_t *addr,
		      unsigned int prefixlen)
{
	struct ether_if *i;
	size_t n;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	n = addr_len(family);
	if (prefixlen > n * 8 || is_zero(addr, n) ||
	    (family == AF_INET && addr[0] >= 224) ||
	    (family == AF_INET6 && addr[0] == 0xff))
		return -EINVAL;
	i = iface(e, family);
	if (i->has_addr)
		return memcmp(i->addr, addr, n) == 0 &&
				       i->prefixlen == prefixlen ?
			       0 :
			       -EEXIST;
	memcpy(i->addr, addr, n);
	i->prefixlen = prefixlen;
	i->has_addr = true;
	return 0;
}

int ether_set_gateway(struct ether *e, int family, const uint8_t *addr)
{
	struct ether_if *i;
	size_t n;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	n = addr_len(family);
	if (is_zero(addr, n) || (family == AF_INET && addr[0] >= 224) ||
	    (family == AF_INET6 && addr[0] == 0xff))
		return -EINVAL;
	i = iface(e, family);
	memcpy(i->gateway, addr, n);
	i->has_gateway = true;
	return 0;
}

void ether_set_proxy(struct ether *e, bool on)
{
	e->proxy = on;
}

int ether_set_mtu(struct ether *e, unsigned int mtu)
{
	if (mtu < 68 || mtu > ETHER_MTU_MAX)
		return -EINVAL;
	e->mtu = mtu;
	return 0;
}

int ether_set_tunnel_routes(struct ether *e, const struct ether_prefix *routes,
			    size_t n)
{
	struct ether_prefix *copy = NULL;

	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, routes, n * sizeof(*copy));
	}
	free(e->routes);
	e->routes = copy;
	e->n_routes = n;
	return 0;
}

void ether_get_mac(const struct ether *e, uint8_t mac[ETHER_ADDR_LEN])
{
	memcpy(mac, e->mac, ETHER_ADDR_LEN);
}

const uint64_t *ether_stats(const struct ether *e)
{
	return e->stats;
}
