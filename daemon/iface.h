/* SPDX-License-Identifier: MIT */
/*
 * The packet device as an interface: opened under the asked-for name with
 * WireGuard's usual MTU, set up from a wg-quick file's Address and MTU
 * (so that `uniguard -c wg0.conf wg0` works without wg-quick), its MTU
 * followed for the core (wg-quick sets it after start-up), and the routing
 * table watched for the UDP socket's remembered sources (netdev.h).
 */
#ifndef UNIGUARD_IFACE_H
#define UNIGUARD_IFACE_H

#include "config.h"

struct daemon;

/* The backend from d->opts->netdev, the device opened. 0, or -1 after
 * logging why. */
int iface_open(struct daemon *d);
/* Applies cfg's wg-quick keys (Address, MTU). 0 or -errno after logging. */
int iface_configure(struct daemon *d, const struct wg_config *cfg);
/* On Linux, once at start-up: an interface with no address and down
 * carries nothing, and the log says so and how to set it up. */
void iface_say_if_unusable(struct daemon *d);
/* A write to the packet device failed with err (positive errno): logged
 * with the reason, one line per LOG_LIMIT_INTERVAL_NS at most. Any
 * thread. */
void iface_write_failed(struct daemon *d, int err);
/* Tells the core the interface's MTU when it changed. */
void iface_update_mtu(struct daemon *d);
/* Watches routes and links from the event loop; optional (without it, a
 * remembered source is kept while it exists). */
void iface_watch_routes(struct daemon *d);
void iface_close(struct daemon *d);

#endif
