/* SPDX-License-Identifier: MIT */
/*
 * Inner packets whose datagram did not fit its route (pmtu.h says why the
 * outer datagrams leave unfragmented): each is split, if IPv4 allows, or
 * its sender is told the size that fits, as a router would.
 */
#ifndef UNIGUARD_TOO_BIG_H
#define UNIGUARD_TOO_BIG_H

#include <stddef.h>
#include <stdint.h>

#include "wg.h"

struct daemon;

/* The MTU of the route to `to` as the kernel knows it (learned path MTU
 * included); 0 if unknown. */
unsigned int too_big_route_mtu(const struct daemon *d,
			       const struct wg_endpoint *to);

/* Answers for a packet of len bytes whose datagram did not fit a route of
 * route_mtu bytes towards an outer address of family. Only its first
 * `intact` bytes may be left (the packet path cuts TCP super-packets in
 * place): enough to quote, not to split. With the core's lock held. */
void too_big_answer(struct daemon *d, unsigned int route_mtu, int family,
		    const uint8_t *pkt, size_t len, size_t intact);

#endif
