/* SPDX-License-Identifier: MIT */
/*
 * What the files of the tap backend's Ethernet router share; ether.h is
 * what the router offers. ether.c frames and dispatches and holds the
 * settings; ether_neigh.c resolves next hops and keeps the packets waiting
 * for them; ether_arp.c and ether_nd.c speak ARP and IPv6 neighbour
 * discovery; ether_forward.c forwards IP both ways and answers echo
 * requests. All of it is sans-I/O: frames leave through the emit callback.
 */
#ifndef UNIGUARD_ETHER_PRIV_H
#define UNIGUARD_ETHER_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "ether.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_IPV6 = 0x86dd,
};

enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,	/* asked, no answer yet */
	NEIGH_REACHABLE,	/* answered; fresh until expires */
};

struct neigh {
	uint8_t state;
	uint8_t family;
	uint8_t addr[16];
	uint8_t mac[ETHER_ADDR_LEN];
	bool requested;		/* last_request holds a time */
	unsigned int n_pending;
	uint64_t expires;	/* reachable: stale then; incomplete: give up */
	uint64_t last_request;
	uint64_t used;		/* for choosing whom to evict */
};

struct pending {
	int neigh;		/* its next hop, or -1 when the slot is free */
	uint64_t seq;		/* arrival order, kept when flushing */
	size_t len;
	uint8_t data[ETHER_PENDING_LEN];
};

/* Our side of the segment, one per family. */
struct ether_if {
	bool has_addr;
	bool has_gateway;
	unsigned int prefixlen;
	uint8_t addr[16];
	uint8_t gateway[16];
};

struct ether {
	uint8_t mac[ETHER_ADDR_LEN];
	ether_emit_fn emit;
	void *ctx;
	struct ether_if v4, v6;
	bool proxy;
	unsigned int mtu;
	struct ether_prefix *routes;
	size_t n_routes;
	/* ether_neigh.c's. */
	struct neigh neigh[ETHER_NEIGH_MAX];
	size_t n_neigh;
	int last_hit;
	struct pending pending[ETHER_PENDING_MAX];
	size_t n_pending;
	uint64_t pending_seq;
	uint64_t last_sweep;
	uint64_t stats[ETHER_VERDICT_COUNT];
	/* Every frame is built here, the packet at tx + ETHER_HDR_LEN. */
	uint8_t tx[ETHER_FRAME_MAX];
};

/* Frames the len-byte packet already at tx + ETHER_HDR_LEN for dst and
 * emits it (ether.c). */
void ether_emit_frame(struct ether *e, const uint8_t *dst, uint16_t type,
		      size_t len);
/* Whether we answer for addr on behalf of the tunnel (ether.c). */
bool ether_is_proxied(const struct ether *e, int family, const uint8_t *addr);

static inline size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static inline bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static inline bool mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static inline bool prefix_covers(const uint8_t *prefix, unsigned int len,
				 const uint8_t *addr)
{
	size_t bytes = len / 8;
	unsigned int bits = len % 8;

	if (memcmp(prefix, addr, bytes) != 0)
		return false;
	if (!bits)
		return true;
	return ((prefix[bytes] ^ addr[bytes]) & (0xff00 >> bits)) == 0;
}

static inline bool is_own(const struct ether_if *i, const uint8_t *addr,
			  size_t n)
{
	return i->has_addr && memcmp(i->addr, addr, n) == 0;
}

static inline bool on_link(const struct ether_if *i, const uint8_t *addr)
{
	return i->has_addr && prefix_covers(i->addr, i->prefixlen, addr);
}

static inline bool is_link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static inline uint16_t ethertype_of(int family)
{
	return family == AF_INET ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
}

#endif
