/* SPDX-License-Identifier: MIT */
/*
 * Path MTU on the inner side. The outer datagrams leave with "don't
 * fragment" (so that a routing loop through two tunnels dies out as its
 * packets grow, instead of multiplying as fragments); an inner packet whose
 * datagram is too big for the route is answered the way a router answers:
 * ICMP "fragmentation needed" (RFC 1191) or ICMPv6 "packet too big"
 * (RFC 8201) to its sender, or, for an IPv4 packet that allows it, split
 * into fragments (RFC 791) that each fit.
 */
#ifndef UNIGUARD_PMTU_H
#define UNIGUARD_PMTU_H

#include <stddef.h>
#include <stdint.h>

/* The largest inner packet whose datagram fits a route of route_mtu bytes
 * towards an outer address of outer_family, rounded down to WireGuard's
 * padding multiple (16). */
unsigned int pmtu_inner_mtu(unsigned int route_mtu, int outer_family);

/* Whether an IPv4 packet may be fragmented (no DF bit, no options). */
int pmtu_can_fragment4(const uint8_t *pkt, size_t len);

/* The ICMP or ICMPv6 error telling the sender of pkt to send at most mtu
 * bytes, written to out (at least 1280 bytes): its length, or 0 when no
 * error is due (pkt is an ICMP error itself, a later fragment, or not IP). */
size_t pmtu_build_too_big(const uint8_t *pkt, size_t len, unsigned int mtu,
			  uint8_t *out, size_t cap);

/* Splits an IPv4 packet into fragments of at most mtu bytes and hands
 * each to emit. 0, or -EINVAL when it cannot be split. It builds them in
 * one static buffer: callers serialize their calls. */
int pmtu_fragment4(const uint8_t *pkt, size_t len, unsigned int mtu,
		   void (*emit)(void *ctx, const uint8_t *frag, size_t len),
		   void *ctx);

#endif
