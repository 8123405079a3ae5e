/* SPDX-License-Identifier: MIT */
/*
 * The backends built in, and choosing one by name (netdev.h).
 */
#include "netdev.h"

#include <errno.h>
#include <string.h>

/* A new backend is one file that defines its ops and one line here. */
static const struct netdev_ops *const backends[] = {
	&netdev_tun_ops,
	&netdev_tap_ops,
};

const struct netdev_ops *netdev_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	}
	return NULL;
}

int netdev_select(struct netdev *nd, const char *spec)
{
	const char *colon = strchr(spec, ':');
	char name[NETDEV_NAME_MAX];
	size_t len = colon ? (size_t)(colon - spec) : strlen(spec);

	if (len >= sizeof(name))
		return -ENOENT;
	memcpy(name, spec, len);
	name[len] = '\0';
	nd->ops = netdev_lookup(name);
	if (!nd->ops)
		return -ENOENT;
	nd->args = colon && colon[1] ? colon + 1 : NULL;
	if (nd->args && !nd->ops->takes_args)
		return -EINVAL;
	return 0;
}
