/* SPDX-License-Identifier: MIT */
/*
 * The core's environment (env.h): every system call the core needs made
 * for it, none of which it makes itself.
 */
#include "env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "daemon_state.h"
#include "iface.h"
#include "keymem.h"
#include "log.h"

static void env_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No randomness means no safe handshake: stop. */
			log_error("getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

static void env_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = (uint64_t)ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

int env_send_datagram(struct daemon *d, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len)
{
	int ret = netdev_udp_send(&d->udp, to, data, len);

	if (ret == -EMSGSIZE) {
		/* Larger than the route allows, and we do not let the
		 * kernel fragment it: a caller that holds the inner packet
		 * answers its sender (too_big.h). */
		__atomic_fetch_add(&d->counters.udp_too_big, 1,
				   __ATOMIC_RELAXED);
		log_trace("datagram of %zu bytes too big for the route", len);
	} else if (ret) {
		char ep[WG_ENDPOINT_TEXT_MAX];

		__atomic_fetch_add(&d->counters.udp_send_errors, 1,
				   __ATOMIC_RELAXED);
		if (!wg_endpoint_format(to, ep, sizeof(ep)))
			strcpy(ep, "?");
		log_debug("send to %s: %s", ep, strerror(-ret));
	}
	return ret;
}

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	(void)env_send_datagram(ctx, to, data, len);
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;
	int ret;

	ret = d->nd.ops->write(&d->nd, packet, len);
	if (ret) {
		__atomic_fetch_add(&d->counters.tun_write_errors, 1,
				   __ATOMIC_RELAXED);
		iface_write_failed(d, -ret);
	}
}

/* Key memory from pages left out of core dumps (keymem.h). */
static void *env_secret_alloc(void *ctx, size_t len)
{
	(void)ctx;
	return keymem_alloc(len);
}

static void env_secret_free(void *ctx, void *p, size_t len)
{
	(void)ctx;
	keymem_free(p, len);
}

static void env_log(void *ctx, enum wg_log_level level, const char *line)
{
	(void)ctx;
	log_line(level, line);
}

void env_init(struct daemon *d)
{
	d->env = (struct wg_env){
		.ctx = d,
		.random = env_random,
		.wall_clock = env_wall_clock,
		.send = env_send,
		.deliver = env_deliver,
		.log = env_log,
		.log_level = d->opts->verbosity,
		.secret_alloc = env_secret_alloc,
		.secret_free = env_secret_free,
	};
}
