/* SPDX-License-Identifier: MIT */
/*
 * The outer UDP socket WireGuard's datagrams travel on: dual-stack when the
 * host has IPv6, remembering for each datagram the local address it was
 * sent to so that the reply leaves from that address (as long as routes.h
 * says it still suits), batched, with Linux's UDP segmentation offloads
 * where the kernel has them.
 *
 * Functions return 0 or a negative errno.
 */
#ifndef UNIGUARD_UDP_H
#define UNIGUARD_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "endpoint.h"
#include "routes.h"

/* The outer UDP socket. */
struct netdev_udp {
	int fd;
	int family;		/* AF_INET6 (dual-stack) or AF_INET */
	uint16_t port;		/* the port actually bound */
	uint32_t fwmark;
	struct netdev_routes *routes;	/* not owned; may be NULL */
	/* Linux UDP segmentation offloads: the caller asks before
	 * netdev_udp_open (want_*); gso and gro say what the socket does. */
	bool want_gso, want_gro;
	bool gso, gro;
};

/* Binds port (0: the kernel picks; u->port says which). Dual-stack IPv6
 * first, IPv4 alone when the host has no IPv6. fwmark 0 sets no mark. */
int netdev_udp_open(struct netdev_udp *u, uint16_t port, uint32_t fwmark);
int netdev_udp_set_fwmark(struct netdev_udp *u, uint32_t fwmark);
/* Sends from to->src when has_src; if that address is gone, lets the
 * routing table pick one instead of failing. 0 or negative errno. */
int netdev_udp_send(struct netdev_udp *u, const struct wg_endpoint *to,
		    const void *buf, size_t len);
void netdev_udp_close(struct netdev_udp *u);

/* Batches: as many datagrams per system call as the platform allows. */
#define NETDEV_UDP_BATCH 64

struct netdev_udp_rx {
	uint8_t *buf;			/* in: where to receive */
	size_t cap;
	size_t len;			/* out: bytes received */
	/* out: with GRO, several datagrams of this size each (the last may
	 * be shorter) came as one; 0 for a single datagram. */
	size_t segment;
	/* out: the sender, as AF_INET for IPv4 peers even on a dual-stack
	 * socket, and the local address it was sent to. */
	struct wg_endpoint from;
	int err;			/* out: 0, or why this one is lost */
};
/* Up to n (at most NETDEV_UDP_BATCH) datagrams: how many, -EAGAIN when
 * none is waiting, or another negative errno. An entry that could not be
 * received whole (too big, from no known family) has err set. */
int netdev_udp_recv_batch(struct netdev_udp *u, struct netdev_udp_rx *rx,
			  size_t n);

struct netdev_udp_tx {
	const struct wg_endpoint *to;
	const uint8_t *data;
	size_t len;
	bool with_src;			/* in: netdev_udp_source_ok's */
	int err;			/* out: 0 or a negative errno */
};
/* Whether to send to `to` from its remembered source address: it has one
 * and netdev_routes_source_fits says it still suits. Never blocks; keeps a
 * cache: callers serialize these calls with every other send of the
 * socket that is not a batch. */
bool netdev_udp_source_ok(struct netdev_udp *u, const struct wg_endpoint *to);
/* Sends n datagrams in order: consecutive ones to the same place and of
 * the same size leave as one segmentation-offload send when the socket
 * has GSO, the rest in one sendmmsg. Waits a little for room when the
 * socket buffer is full. Safe alongside netdev_udp_send and the receive
 * calls on other threads. */
void netdev_udp_send_batch(struct netdev_udp *u, struct netdev_udp_tx *tx,
			   size_t n);

#endif
