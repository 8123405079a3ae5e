/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs to a backend's tunnel routes (netdev_sync.h).
 */
#include "netdev_sync.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void netdev_sync_tunnel_routes(struct netdev *nd, struct wg_device *dev)
{
	struct netdev_addr *routes = NULL;
	struct wg_config cfg;
	size_t n = 0, k = 0;
	int ret;

	if (!nd->ops || !nd->ops->set_tunnel_routes)
		return;
	ret = wg_device_get(dev, &cfg);
	if (ret)
		goto out;
	for (size_t i = 0; i < cfg.n_peers; i++)
		n += cfg.peers[i].n_allowedips;
	routes = calloc(n ? n : 1, sizeof(*routes));
	if (!routes) {
		ret = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < cfg.n_peers; i++) {
		const struct wg_config_peer *p = &cfg.peers[i];

		for (size_t j = 0; j < p->n_allowedips; j++, k++) {
			routes[k].family = p->allowedips[j].family;
			routes[k].prefixlen = p->allowedips[j].cidr;
			memcpy(routes[k].addr, p->allowedips[j].addr,
			       sizeof(routes[k].addr));
		}
	}
	ret = nd->ops->set_tunnel_routes(nd, routes, n);
out:
	if (ret)
		log_error("%s: cannot update the tunnel's routes: %s",
			  nd->ifname, strerror(-ret));
	free(routes);
	wg_config_clear(&cfg);
}
