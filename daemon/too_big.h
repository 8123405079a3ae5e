/* SPDX-License-Identifier: MIT */
/*
 * Inner packets whose datagram did not fit its route (pmtu.h says why the
 * outer datagrams leave unfragmented): each is split, if IPv4 allows, or
 * its sender is told the size that fits, as a router would.
 *
 * The size that fits comes from the route's MTU as the kernel knows it
 * (learned path MTU included), which takes system calls to ask. Those are
 * never made under the core's lock: the packet path finds the answer in a
 * small cache, and on a miss (or an answer the kernel has since made
 * smaller) leaves the packet for the event loop, which asks the kernel
 * without the lock and then answers for it.
 */
#ifndef UNIGUARD_TOO_BIG_H
#define UNIGUARD_TOO_BIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg.h"

#define TOO_BIG_CACHE 16

struct too_big_route {
	struct wg_endpoint to;		/* AF_UNSPEC: empty */
	uint32_t fwmark;
	unsigned int mtu;
	uint64_t asked;			/* monotonic ns */
};

struct too_big {
	struct too_big_route cache[TOO_BIG_CACHE];
	unsigned int next_slot;
	/* One packet waiting for its route's MTU: set by the packet path
	 * (under the lock, while clear), read by the event loop. */
	bool waiting;
	struct wg_endpoint waiting_to;
	size_t waiting_len, waiting_intact;
	uint8_t waiting_pkt[65535];
	uint8_t icmp[1280];
};

struct daemon;

/* An inner packet of len bytes whose datagram to `to` did not fit its
 * route; only its first `intact` bytes may be left (the packet path cuts
 * TCP super-packets in place): enough to quote, not to split. With the
 * core's lock held; makes no system call but the answer's. */
void too_big_answer(struct daemon *d, const struct wg_endpoint *to,
		    const uint8_t *pkt, size_t len, size_t intact);
/* From the event loop, without the lock: asks the kernel for the route
 * of a waiting packet, then answers for it under the lock. */
void too_big_answer_waiting(struct daemon *d);
/* The routes changed: every cached MTU is asked again. Under the lock. */
void too_big_forget_routes(struct daemon *d);

#endif
