/* SPDX-License-Identifier: MIT */
/*
 * IPv6 neighbour discovery (RFC 4861) for the tap backend's router
 * (ether_priv.h): answers solicitations for our address and, with proxying
 * on, for the tunnel's addresses on the segment (7.2.8), duplicate address
 * detection included; learns the MACs of hosts that talk to us; solicits
 * next hops. And the ICMPv6 framing (RFC 4443) that echo replies share.
 */
#ifndef UNIGUARD_ETHER_ND_H
#define UNIGUARD_ETHER_ND_H

#include "ether_priv.h"

/* ICMPv6 message types of neighbour discovery (RFC 4861 4). */
enum {
	ND_ROUTER_SOLICIT = 133,
	ND_ROUTER_ADVERT = 134,
	ND_NEIGHBOR_SOLICIT = 135,
	ND_NEIGHBOR_ADVERT = 136,
	ND_REDIRECT = 137,
};

/* A neighbour solicitation or advertisement: the whole IPv6 packet of len
 * bytes, with the MAC it came from. */
enum ether_verdict ether_nd_input(struct ether *e, uint64_t now,
				  const uint8_t *eth_src, const uint8_t *ip,
				  size_t len);
/* Solicits target: to its solicited-node group, or to unicast_mac when
 * not NULL. */
void ether_nd_solicit(struct ether *e, const uint8_t *target,
		      const uint8_t *unicast_mac);
/* An unsolicited advertisement for our address, if we have one. */
void ether_nd_announce(struct ether *e);

/* ICMPv6's checksum over msg, with its pseudo-header (RFC 8200 8.1); 0
 * over a message that holds a correct one. */
uint16_t ether_icmp6_csum(const uint8_t *src, const uint8_t *dst,
			  const uint8_t *msg, size_t len);
/* Sends the ICMPv6 message of len bytes at tx + 14 + 40 to eth_dst:
 * writes its IPv6 header and checksum, then the frame. */
void ether_icmp6_send(struct ether *e, const uint8_t *eth_dst,
		      const uint8_t *src, const uint8_t *dst, uint8_t hops,
		      size_t len);

#endif
