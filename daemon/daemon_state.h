/* SPDX-License-Identifier: MIT */
/*
 * What one running interface holds: the state the daemon's files share.
 * daemon.c starts and stops it; each member says which file opens and
 * closes it. Everything below is used under `lock`, except what the
 * packet path's threads read without it (the UDP socket's descriptor
 * number and GSO flag, the counters, `stop` and `gone`).
 */
#ifndef UNIGUARD_DAEMON_STATE_H
#define UNIGUARD_DAEMON_STATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "daemon.h"
#include "datapath.h"
#include "log.h"
#include "loop.h"
#include "netdev.h"
#include "ops_http.h"
#include "record.h"
#include "too_big.h"
#include "udp.h"
#include "uapi_server.h"
#include "wg.h"

struct daemon {
	const struct daemon_options *opts;
	int epfd;			/* event_loop.c */
	struct wg_env env;		/* env.c, wrapped by record.c */
	struct wg_device *dev;
	struct netdev nd;		/* iface.c */
	struct loop_source tun_src;	/* polled by dp_host.c */
	struct netdev_udp udp;		/* apply.c */
	struct loop_source udp_src;	/* polled by dp_host.c */
	struct loop_source sig_src;	/* signals.c */
	struct netdev_routes *routes;	/* iface.c */
	struct loop_source routes_src;
	struct uapi_server *uapi;	/* daemon.c, uapi_handlers.c */
	struct metadata *metadata;	/* metadata.c: --peers-from */
	struct record *rec;		/* --capture, --keylog, a seed */
	struct ops_http *ops;		/* --http: daemon.c */
	/* The periodic counters line (event_loop.c): every this many ns
	 * (0: never), next at counters_due. */
	uint64_t counters_every, counters_due;
	/* The packet path (datapath.h): its threads and the event loop
	 * take this lock around every call into the core. */
	pthread_mutex_t lock;
	struct datapath *dp;
	struct datapath_options dp_opts;
	bool want_gso, want_gro;
	/* The deadline the event loop sleeps towards, and its wake-up for
	 * when the packet path arms an earlier one. */
	uint64_t armed;
	struct loop_source wake_src;	/* event_loop.c */
	uint64_t now;			/* of the event being handled */
	uint64_t started;		/* monotonic ns, for the uptime */
	bool stop;
	bool gone;			/* the packet device went away */
	int status;
	struct datapath_counters counters;
	struct log_limit tun_write_log;	/* iface.c */
	unsigned int mtu;		/* the interface's, as the core knows it */
	struct too_big too_big;		/* too_big.c */
	/* A data message sealed on the slow path (dp_host.c). */
	uint8_t slow_msg[WG_MESSAGE_HEADER_LEN + 65535 + WG_MESSAGE_PADDING +
			 WG_MESSAGE_TAG_LEN];
};

#endif
