/* SPDX-License-Identifier: MIT */
/* The gateway's health (health.h). */
#include "health.h"

#include <errno.h>

#include "daemon_state.h"

const char *health_check(struct daemon *d)
{
	const char *why = NULL;
	bool up = true;
	int ret;

	pthread_mutex_lock(&d->lock);
	if (__atomic_load_n(&d->gone, __ATOMIC_ACQUIRE) || d->nd.fd < 0)
		why = "the interface is gone";
	else if (!wg_device_has_private_key(d->dev))
		why = "no private key";
	else if (d->udp.fd < 0)
		why = "the UDP socket is not bound";
	pthread_mutex_unlock(&d->lock);
	if (why)
		return why;
	/* A system call: without the lock. The name does not change while
	 * the interface exists. -ENODEV: the platform keeps the flags (a
	 * Nanos image manifest says up); other errors say nothing either. */
	if (d->nd.ops && d->nd.ops->is_up) {
		ret = d->nd.ops->is_up(&d->nd, &up);
		if (!ret && !up)
			return "the interface is down";
	}
	return NULL;
}
