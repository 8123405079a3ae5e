/* SPDX-License-Identifier: MIT */
/*
 * Ethernet for the tap backend, with no I/O of its own: the backend hands it
 * every frame it reads from the segment and every IP packet the tunnel
 * delivers, and writes whatever frames it emits. Time comes in as a
 * monotonic `now` in nanoseconds, so a test moves the clock by hand.
 *
 * What it does, as a one-interface router on the segment:
 *  - answers ARP requests (RFC 826) and neighbour solicitations (RFC 4861)
 *    for its own address, and, with proxying on, for the addresses the
 *    tunnel carries that lie inside the segment's prefix (proxy ARP,
 *    RFC 1027, and proxy neighbour advertisements, RFC 4861 7.2.8);
 *  - hands the tunnel every unicast IP packet sent to its MAC that is not
 *    for its own address, with the TTL or hop limit lowered by one;
 *  - sends packets from the tunnel to their next hop (the destination when
 *    it is on the segment, else the gateway), resolving its MAC with ARP or
 *    neighbour solicitation into a bounded cache whose entries expire;
 *  - keeps a bounded number of packets waiting while a next hop resolves;
 *  - answers ICMP and ICMPv6 echo requests sent to its own address.
 *
 * Limits are fixed and preallocated: ETHER_NEIGH_MAX neighbours (the least
 * recently used one makes room), ETHER_PENDING_MAX waiting packets.
 */
#ifndef UNIGUARD_ETHER_H
#define UNIGUARD_ETHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETHER_ADDR_LEN 6
#define ETHER_HDR_LEN 14
/* The largest IP packet a segment may carry (jumbo frames). */
#define ETHER_MTU_MAX 9000
#define ETHER_MTU_DEFAULT 1500
#define ETHER_FRAME_MAX (ETHER_HDR_LEN + ETHER_MTU_MAX)

/* Neighbours known or being resolved, IPv4 and IPv6 together. */
#define ETHER_NEIGH_MAX 256
/* Packets waiting for their next hop to answer: in all, and per next hop
 * (as many as Linux keeps by default). Longer packets are not kept. */
#define ETHER_PENDING_MAX 32
#define ETHER_PENDING_PER_NEIGH 3
#define ETHER_PENDING_LEN 1500

#define ETHER_SEC 1000000000ull
/* A resolved neighbour is trusted this long after it last answered. */
#define ETHER_REACHABLE_NS (60 * ETHER_SEC)
/* Traffic to a neighbour this close to expiry asks it again, so that a
 * busy flow never waits for a fresh resolution. */
#define ETHER_REFRESH_NS (5 * ETHER_SEC)
/* Requests for one address are at least this far apart... */
#define ETHER_RETRY_NS (1 * ETHER_SEC)
/* ...and an address that has not answered by then is given up, with the
 * packets waiting for it. */
#define ETHER_GIVE_UP_NS (3 * ETHER_SEC)

/* What became of one frame or packet. */
enum ether_verdict {
	ETHER_TO_TUNNEL = 0,	/* input: an IP packet for the tunnel */
	ETHER_SENT,		/* output: framed and emitted */
	ETHER_QUEUED,		/* output: waiting for the next hop's MAC */
	ETHER_ANSWERED,		/* input: ARP, ND or echo answered */
	ETHER_LEARNED,		/* input: a neighbour's MAC noted, no answer */
	ETHER_IGNORED,		/* input: not for us (another MAC, multicast
				 * we do not serve, another address) */
	ETHER_MALFORMED,	/* truncated or inconsistent headers */
	ETHER_NO_ROUTE,		/* output: no address or gateway for it */
	ETHER_UNRESOLVED,	/* output: no room to wait for the next hop */
	ETHER_TOO_BIG,		/* output: larger than the segment's MTU */
	ETHER_TTL_EXPIRED,	/* TTL or hop limit would reach zero */
	ETHER_LOCAL,		/* output: for our own address, which the
				 * tunnel has no business reaching */
	ETHER_VERDICT_COUNT
};

/* An address prefix the tunnel carries, for proxying. */
struct ether_prefix {
	int family;			/* AF_INET or AF_INET6 */
	unsigned int len;
	uint8_t addr[16];
};

/* Emits one frame onto the segment. */
typedef void (*ether_emit_fn)(void *ctx, const uint8_t *frame, size_t len);

struct ether;

/* NULL when out of memory. mac is ours on the segment: unicast, and not
 * the tap interface's own (the bridge keeps that one for itself). */
struct ether *ether_new(const uint8_t mac[ETHER_ADDR_LEN], ether_emit_fn emit,
			void *ctx);
void ether_free(struct ether *e);

/* Our address on the segment and its prefix length, one per family: 0,
 * -EEXIST when that family has one already, -EINVAL for a bad one. */
int ether_set_address(struct ether *e, int family, const uint8_t *addr,
		      unsigned int prefixlen);
/* The next hop for destinations off the segment, one per family. */
int ether_set_gateway(struct ether *e, int family, const uint8_t *addr);
void ether_set_proxy(struct ether *e, bool on);
/* The largest IP packet the segment carries, 68..ETHER_MTU_MAX. */
int ether_set_mtu(struct ether *e, unsigned int mtu);
/* Replaces the prefixes the tunnel carries: 0 or -ENOMEM (nothing
 * changed). With proxying on, an address of the segment's prefix that a
 * strictly longer one of these covers is answered for. */
int ether_set_tunnel_routes(struct ether *e, const struct ether_prefix *routes,
			    size_t n);
void ether_get_mac(const struct ether *e, uint8_t mac[ETHER_ADDR_LEN]);

/* A frame from the segment. frame is changed in place: with
 * ETHER_TO_TUNNEL the IP packet is frame[*off .. *off + *len). Answers go
 * out through emit before this returns. */
enum ether_verdict ether_input(struct ether *e, uint64_t now, uint8_t *frame,
			       size_t len, size_t *off, size_t *pkt_len);
/* An IP packet from the tunnel, framed for its next hop. */
enum ether_verdict ether_output(struct ether *e, uint64_t now,
				const uint8_t *pkt, size_t len);
/* Tells the segment our MAC: a gratuitous ARP and an unsolicited
 * neighbour advertisement for our addresses. */
void ether_announce(struct ether *e);

/* The neighbour's MAC if it is resolved and fresh at now. */
bool ether_neigh_lookup(const struct ether *e, uint64_t now, int family,
			const uint8_t *addr, uint8_t mac[ETHER_ADDR_LEN]);
/* Neighbours in the table, resolved or not, and packets waiting. */
size_t ether_neigh_count(const struct ether *e);
size_t ether_pending_count(const struct ether *e);
/* How many inputs and outputs ended in each verdict. */
const uint64_t *ether_stats(const struct ether *e);

/* RFC 1624's incremental update for an IPv4 header whose TTL drops by
 * one: hdr points at the header, whose checksum stays right. */
void ether_ipv4_dec_ttl(uint8_t *hdr);

#endif
