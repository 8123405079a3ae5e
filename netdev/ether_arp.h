/* SPDX-License-Identifier: MIT */
/*
 * ARP (RFC 826) for the tap backend's router (ether_priv.h): answers for
 * our IPv4 address and, with proxying on, for the tunnel's addresses on the
 * segment (RFC 1027); defends our address against probes (RFC 5227 2.4);
 * learns the MACs of hosts that talk to us; asks for next hops.
 */
#ifndef UNIGUARD_ETHER_ARP_H
#define UNIGUARD_ETHER_ARP_H

#include "ether_priv.h"

/* An ARP packet of n bytes from the segment. */
enum ether_verdict ether_arp_input(struct ether *e, uint64_t now,
				   const uint8_t *arp, size_t n);
/* Asks who has target: broadcast, or to unicast_mac when not NULL. */
void ether_arp_request(struct ether *e, const uint8_t *target,
		       const uint8_t *unicast_mac);
/* A gratuitous ARP for our address, if we have one. */
void ether_arp_announce(struct ether *e);

#endif
