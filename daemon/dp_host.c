/* SPDX-License-Identifier: MIT */
/*
 * The packet path's host (dp_host.h). Its calls back come with the core's
 * lock held, all but `gone`.
 */
#include "dp_host.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "daemon_state.h"
#include "env.h"
#include "event_loop.h"
#include "iface.h"
#include "log.h"
#include "too_big.h"

static void dp_touched(void *ctx)
{
	struct daemon *d = ctx;

	/* The loop sleeps towards an older deadline: wake it to rearm. */
	if (wg_device_next_deadline(d->dev) < d->armed) {
		d->armed = 0;
		event_loop_wake(d);
	}
}

/* The core's one-at-a-time send, in its steps, so that the datagram's
 * fate comes back here with the inner packet still at hand. */
static void dp_send_slow(void *ctx, uint8_t *pkt, size_t len, uint64_t now)
{
	struct daemon *d = ctx;
	uint8_t *payload = d->slow_msg + WG_MESSAGE_HEADER_LEN;
	struct wg_send_job job;
	bool ready;
	size_t n;

	d->now = now;
	record_inner_in(d->rec, pkt, len);
	if (wg_device_send_prepare(d->dev, now, pkt, len, &job, &ready) !=
	    WG_OK)
		return;
	if (!ready) {
		/* No session yet: the core keeps it for the handshake. */
		(void)wg_device_send(d->dev, now, pkt, len);
		return;
	}
	memcpy(payload, pkt, len);
	n = wg_send_job_seal(&job, payload, d->slow_msg);
	record_outer_out(d->rec, &job.to, d->slow_msg, n);
	if (env_send_datagram(d, &job.to, d->slow_msg, n) == -EMSGSIZE)
		too_big_answer(d, &job.to, pkt, len, len);
}

static void dp_receive_slow(void *ctx, const struct wg_endpoint *from,
			    uint8_t *data, size_t len, uint64_t now)
{
	struct daemon *d = ctx;

	d->now = now;
	record_outer_in(d->rec, from, data, len);
	(void)wg_device_receive(d->dev, d->now, from, data, len);
}

static void dp_too_big(void *ctx, const struct wg_endpoint *to,
		       const uint8_t *pkt, size_t len, size_t intact,
		       uint64_t now)
{
	struct daemon *d = ctx;

	d->now = now;
	log_trace("datagram for a packet of %zu bytes too big for the route",
		  len);
	too_big_answer(d, to, pkt, len, intact);
}

/* The packet device went away under us (reads answer EBADFD or EIO):
 * someone ran `ip link del`, which is how wg-quick down ends a userspace
 * interface. Its addresses and routes went with it, so there is nothing
 * left to serve: the daemon stops as on SIGTERM (UAPI socket removed, UDP
 * socket closed, keys wiped) with exit status 0, the stop having been
 * asked for by whoever deleted the link. Both packet-path threads may see
 * the error, and a polled device keeps signalling it until the loop ends:
 * one line says it. */
static void dp_gone(void *ctx, int err)
{
	struct daemon *d = ctx;

	if (__atomic_exchange_n(&d->gone, true, __ATOMIC_ACQ_REL))
		return;
	log_info("the %s device %s went away (%s): stopping", d->nd.ops->name,
		 d->nd.ifname, strerror(err));
	__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
	event_loop_wake(d);
}

static void dp_write_failed(void *ctx, int err)
{
	iface_write_failed(ctx, err);
}

/* Without the packet path's threads, the loop drives it. */

static void tun_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, tun_src);

	(void)events;
	datapath_tun_ready(d->dp);
}

static void udp_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, udp_src);

	(void)events;
	datapath_udp_ready(d->dp);
}

int dp_host_start(struct daemon *d)
{
	const struct datapath_host host = {
		.dev = d->dev,
		.lock = &d->lock,
		.nd = &d->nd,
		.udp = &d->udp,
		.counters = &d->counters,
		.ctx = d,
		.touched = dp_touched,
		.send_slow = dp_send_slow,
		.receive_slow = dp_receive_slow,
		.too_big = dp_too_big,
		.gone = dp_gone,
		.write_failed = dp_write_failed,
	};
	int ret;

	d->dp = datapath_new(&host, &d->dp_opts);
	if (!d->dp) {
		log_error("cannot set up the packet path: out of memory");
		return -1;
	}
	ret = datapath_start(d->dp);
	if (!ret) {
		log_debug("packet path: one thread per direction%s%s",
			  d->udp.gso ? ", UDP GSO" : "",
			  d->udp.gro ? ", UDP GRO" : "");
		return 0;
	}
	if (d->dp_opts.threads)
		log_info("packet path without threads: %s", strerror(-ret));
	d->tun_src.ready = tun_ready;
	d->udp_src.ready = udp_ready;
	if (loop_add(d->epfd, &d->tun_src, EPOLLIN) ||
	    loop_add(d->epfd, &d->udp_src, EPOLLIN)) {
		log_error("epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

void dp_host_stop(struct daemon *d)
{
	datapath_free(d->dp);
	d->dp = NULL;
}
