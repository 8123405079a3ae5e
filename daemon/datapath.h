/* SPDX-License-Identifier: MIT */
/*
 * The daemon's packet path: inner packets from the tun device sealed and
 * sent as datagrams, datagrams received, opened and written to the tun
 * device, in batches, with the crypto outside the core's lock.
 *
 * Two threads, one per direction: the sending thread reads the tun device
 * (several packets per wakeup, TCP super-packets cut into segments when the
 * device hands them over), prepares every packet with the core under the
 * lock, seals them all without it, and sends them with as few system calls
 * as the socket allows (sendmmsg, UDP GSO). The receiving thread takes
 * datagrams the same way (recvmmsg, UDP GRO), prepares them under the lock,
 * opens them without it, finishes them under the lock, and writes them to
 * the tun device, glued back into TCP super-packets where it can. Each
 * direction is one thread, so every peer's packets keep their order; the
 * two directions share the core through the lock, which they hold only for
 * the bookkeeping. Everything else (timers, configuration, signals) stays
 * on the event loop, which takes the same lock.
 *
 * While traffic is light, the sending thread serves both directions and
 * the receiving thread sleeps; after work, a thread polls for a moment
 * before it sleeps, so that a reply close behind its request does not
 * have to wake a halted CPU (datapath_wait.c says when and how long).
 *
 * Without threads (or where they cannot start) the same batches run from
 * the event loop.
 *
 * The parts: datapath.c starts and stops it all; datapath_send.c and
 * datapath_receive.c are the two pipelines; datapath_shed.c is the
 * handshake-flood policy; datapath_wait.c is how the threads wait and
 * share the directions, datapath_pin.c how a busy one keeps a CPU.
 */
#ifndef UNIGUARD_DATAPATH_H
#define UNIGUARD_DATAPATH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netdev.h"
#include "udp.h"
#include "wg.h"

/* Errors the packet path counts (updated atomically). */
struct datapath_counters {
	uint64_t udp_send_errors;
	uint64_t udp_recv_errors;
	uint64_t tun_write_errors;
	uint64_t udp_too_big;
	uint64_t tun_dropped;		/* super-packets not cut */
	/* Handshake messages dropped unseen: they came faster than half
	 * the receiving thread's time could answer them. */
	uint64_t handshakes_shed;
};

#define DATAPATH_BATCH_MAX 64

/* When a busy thread is kept to a CPU of its own (the sending one to the
 * first the daemon may use, the receiving one to the second). */
enum datapath_pinning {
	DATAPATH_PIN_NEVER,
	/* While busy, where the daemon may use exactly two CPUs. */
	DATAPATH_PIN_ON_TWO_CPUS,
	/* While busy, where the daemon may use two CPUs or more. */
	DATAPATH_PIN_WHEN_BUSY,
	/* From the start, busy or not. */
	DATAPATH_PIN_ALWAYS,
};

/* Switches for measuring what each part is worth (datapath_options_default
 * turns everything on); the daemon's command line reads them. */
struct datapath_options {
	bool threads;			/* one thread per direction */
	/* Every packet through wg_device_send and wg_device_receive (the
	 * host's send_slow and receive_slow), as a recorder that watches
	 * the core's environment needs. */
	bool slow;
	bool coalesce;			/* glue TCP segments together */
	/* The receiving thread sends what its writes to the tun device
	 * provoke, when the sending thread is idle. */
	bool answer;
	/* Handshake messages beyond half the receiving thread's time are
	 * dropped unseen. */
	bool shed;
	enum datapath_pinning pin;
	/* The longest a thread polls after work before it sleeps, in
	 * microseconds (0: never; never either where the daemon may use
	 * only one CPU). */
	unsigned int spin;
	/* One thread serves both directions while traffic is light. */
	bool share;
	/* Packets per system call, 1..DATAPATH_BATCH_MAX. */
	unsigned int batch;
	/* Packets the tun device queues while the sending thread waits
	 * for a CPU (for the netdev's tx_queue_len). */
	unsigned int queue;
};

struct datapath_host {
	struct wg_device *dev;
	pthread_mutex_t *lock;		/* held around every core call */
	struct netdev *nd;
	struct netdev_udp *udp;		/* its fd number never changes */
	struct datapath_counters *counters;
	void *ctx;
	/* Called with the lock held. */
	/* The core was visited: its next deadline may be earlier now. */
	void (*touched)(void *ctx);
	/* An inner packet for wg_device_send: its peer has no session yet
	 * (or the options say slow). */
	void (*send_slow)(void *ctx, uint8_t *pkt, size_t len, uint64_t now);
	/* A datagram for wg_device_receive (the options say slow). */
	void (*receive_slow)(void *ctx, const struct wg_endpoint *from,
			     uint8_t *data, size_t len, uint64_t now);
	/* An inner packet of len bytes whose datagram to `to` did not fit
	 * its route; only its first `intact` bytes are still there. */
	void (*too_big)(void *ctx, const struct wg_endpoint *to,
			const uint8_t *pkt, size_t len, size_t intact,
			uint64_t now);
	/* Called without the lock: the tun device is gone (err). */
	void (*gone)(void *ctx, int err);
	/* Called without the lock: a write to the tun device failed (err),
	 * counted already. May be NULL. */
	void (*write_failed)(void *ctx, int err);
};

struct datapath;

/* Everything on, the defaults for polling, batches and the queue. */
void datapath_options_default(struct datapath_options *opts);

/* NULL if out of memory. */
struct datapath *datapath_new(const struct datapath_host *host,
			      const struct datapath_options *opts);
/* Starts the two threads; -errno if they cannot start (then the event
 * loop must call the ready functions below). */
int datapath_start(struct datapath *dp);
bool datapath_threaded(const struct datapath *dp);
/* One batch each, for an event loop without the threads. */
void datapath_tun_ready(struct datapath *dp);
void datapath_udp_ready(struct datapath *dp);
/* The UDP socket was replaced under the same fd: wait on it afresh. */
void datapath_udp_changed(struct datapath *dp);
/* Stops the threads and frees everything. */
void datapath_free(struct datapath *dp);

#endif
