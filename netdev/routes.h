/* SPDX-License-Identifier: MIT */
/*
 * Route watching for the outer UDP socket (udp.h): whether a remembered
 * source address still suits its peer. Replies keep leaving from the
 * address the peer wrote to, unless the routing table now sends that
 * peer's traffic out of another interface (a better route came up), as a
 * kernel WireGuard device decides it. Linux rtnetlink; where it is
 * missing, the source is kept as long as it exists.
 *
 * Nothing here blocks, so the packet path may ask under any lock: answers
 * are cached until routes or addresses change, and a question the kernel
 * has not answered yet counts as "keep the source" (what worked so far)
 * until its answer is read, at the latest on the next question.
 */
#ifndef UNIGUARD_ROUTES_H
#define UNIGUARD_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "endpoint.h"

struct netdev_routes;

/* NULL when the platform has no rtnetlink. */
struct netdev_routes *netdev_routes_open(void);
/* Readable when routes or addresses changed: then call
 * netdev_routes_changed, which forgets every cached answer. */
int netdev_routes_fd(const struct netdev_routes *r);
void netdev_routes_changed(struct netdev_routes *r);
void netdev_routes_close(struct netdev_routes *r);

/* Whether datagrams to `to` (marked fwmark) should still leave from its
 * remembered source: true but for an IPv4 peer whose route now leaves by
 * another interface than the one its datagram came in by. Never blocks;
 * r may be NULL (then true). Keeps a cache: callers serialize these calls
 * with each other. */
bool netdev_routes_source_fits(struct netdev_routes *r,
			       const struct wg_endpoint *to, uint32_t fwmark);

#endif
