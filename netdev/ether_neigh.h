/* SPDX-License-Identifier: MIT */
/*
 * The neighbour cache of the tap backend's router (ether_priv.h): next
 * hops' MACs, learned from ARP and neighbour discovery, asked for when
 * missing or about to expire, given up when they do not answer; and the
 * few packets kept while their next hop resolves. Bounded and
 * preallocated (ETHER_NEIGH_MAX, ETHER_PENDING_MAX in ether.h).
 */
#ifndef UNIGUARD_ETHER_NEIGH_H
#define UNIGUARD_ETHER_NEIGH_H

#include "ether_priv.h"

/* Frees entries past their time; cheap enough to call for every frame. */
void ether_neigh_sweep(struct ether *e, uint64_t now);
/* Records a neighbour's MAC: an entry that exists is refreshed, and one is
 * made when create says the neighbour is talking to us. Packets waiting
 * for it leave. Whether an entry was refreshed or made. */
bool ether_neigh_learn(struct ether *e, uint64_t now, int family,
		       const uint8_t *addr, const uint8_t *mac, bool create);
/* Sends the len-byte packet at tx + ETHER_HDR_LEN to nexthop, or keeps it
 * until the next hop answers: ETHER_SENT, ETHER_QUEUED or
 * ETHER_UNRESOLVED. */
enum ether_verdict ether_neigh_xmit(struct ether *e, uint64_t now, int family,
				    const uint8_t *nexthop, size_t len);

#endif
