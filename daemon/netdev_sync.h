/* SPDX-License-Identifier: MIT */
/*
 * Tells a packet backend that wants them (netdev_ops.set_tunnel_routes)
 * which prefixes the tunnel carries, from every peer's allowed IPs, after
 * each configuration change: the tap backend answers ARP and neighbour
 * solicitations for them when proxying.
 */
#ifndef UNIGUARD_NETDEV_SYNC_H
#define UNIGUARD_NETDEV_SYNC_H

#include "netdev.h"
#include "wg.h"

/* Logs, and otherwise carries on, when it fails. */
void netdev_sync_tunnel_routes(struct netdev *nd, struct wg_device *dev);

#endif
