/* SPDX-License-Identifier: MIT */
/*
 * The daemon's two doors to the network.
 *
 * Inner side: a packet backend behind one small ops table (open, read, write,
 * the fd to poll, close, and optional interface configuration), chosen once
 * by name. Every backend fills the same table, so the event loop never knows
 * which one it drives.
 *
 * Outer side: the UDP socket WireGuard's datagrams travel on, dual-stack when
 * the host has IPv6, remembering for each datagram the local address it was
 * sent to so that the reply leaves from that address.
 *
 * OS-facing functions return 0 or a negative errno.
 */
#ifndef UNIGUARD_NETDEV_H
#define UNIGUARD_NETDEV_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "endpoint.h"

/* An interface name with its NUL (Linux's IFNAMSIZ). */
#define NETDEV_NAME_MAX 16

/* An address for the interface, as Address= gives it. */
struct netdev_addr {
	int family;			/* AF_INET or AF_INET6 */
	unsigned int prefixlen;
	uint8_t addr[16];		/* network byte order */
};

struct netdev;

struct netdev_ops {
	const char *name;
	/* Creates or attaches the interface. want may be a hint the OS
	 * overrides: the name it chose is left in nd->ifname. */
	int (*open)(struct netdev *nd, const char *want);
	/* One packet, non-blocking: its length, or -EAGAIN when none is
	 * waiting, or another negative errno. */
	ssize_t (*read)(struct netdev *nd, void *buf, size_t len);
	/* One packet: 0 or negative errno (-EAGAIN when the queue is full). */
	int (*write)(struct netdev *nd, const void *buf, size_t len);
	/* The descriptor to wait on for readability, or -1. */
	int (*pollfd)(const struct netdev *nd);
	void (*close)(struct netdev *nd);

	/* Optional interface configuration: NULL when the backend has none.
	 * -ENODEV means the platform configures the interface itself (as a
	 * Nanos image manifest does); callers treat that as success. */
	int (*set_mtu)(struct netdev *nd, unsigned int mtu);
	int (*get_mtu)(struct netdev *nd, unsigned int *mtu);
	int (*add_address)(struct netdev *nd, const struct netdev_addr *addr);
	int (*set_up)(struct netdev *nd);

	/* Whether open takes options after the name ("tap:proxy-arp"):
	 * they are in nd->args then. A backend without them refuses any. */
	bool takes_args;
	/* Optional: the prefixes the tunnel carries (every peer's allowed
	 * IPs), after each configuration change, for a backend that answers
	 * for them on its link. 0 or negative errno. */
	int (*set_tunnel_routes)(struct netdev *nd,
				 const struct netdev_addr *routes, size_t n);

	/* Optional segmentation offloads (Linux TUN with IFF_VNET_HDR):
	 * open turns them on when the caller set nd->want_offload and the
	 * platform has them, and says so in nd->offload. Then every packet
	 * goes with a 10-byte virtio-net header (netdev/offload.h), and a
	 * read may return a TCP super-packet of up to 64 KiB for the caller
	 * to cut up. read and write keep working without headers. */
	ssize_t (*read_offload)(struct netdev *nd, uint8_t hdr[10], void *buf,
				size_t len);
	/* One packet given in pieces, described by hdr. */
	int (*write_offload)(struct netdev *nd, const uint8_t hdr[10],
			     const struct iovec *iov, int iovcnt);
};

struct netdev {
	const struct netdev_ops *ops;
	char ifname[NETDEV_NAME_MAX];
	int fd;
	unsigned int n_ipv4;		/* IPv4 addresses added so far */
	const char *args;		/* what followed "name:", or NULL */
	void *priv;			/* the backend's own state */
	bool want_offload;		/* set by the caller before open */
	bool offload;			/* set by open: see read_offload */
	/* Set by the caller before open: how many outgoing packets the
	 * system may queue for the reader (0: its default). */
	unsigned int tx_queue_len;
};

extern const struct netdev_ops netdev_tun_ops;
extern const struct netdev_ops netdev_tap_ops;

/* The backends built in, by name ("tun"); NULL for an unknown name.
 * A new backend is one file that defines its ops and one line here. */
static inline const struct netdev_ops *netdev_lookup(const char *name)
{
	static const struct netdev_ops *const backends[] = {
		&netdev_tun_ops,
		&netdev_tap_ops,
	};

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	}
	return NULL;
}

/* Chooses the backend a --netdev value names, "NAME" or "NAME:ARGS",
 * leaving ARGS in nd->args (a pointer into spec). 0, -ENOENT for an
 * unknown name, -EINVAL for options given to a backend that takes none. */
static inline int netdev_select(struct netdev *nd, const char *spec)
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

/* Whether a remembered source address still suits its peer: replies keep
 * leaving from the address the peer wrote to, unless the routing table now
 * sends that peer's traffic out of another interface (a better route came
 * up), as a kernel WireGuard device decides it. Linux rtnetlink; where it
 * is missing, the source is kept as long as it exists. */
struct netdev_routes;

/* NULL when the platform has no rtnetlink. */
struct netdev_routes *netdev_routes_open(void);
/* Readable when routes or addresses changed; call netdev_routes_changed. */
int netdev_routes_fd(const struct netdev_routes *r);
void netdev_routes_changed(struct netdev_routes *r);
void netdev_routes_close(struct netdev_routes *r);

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
/* Whether to send to `to` from its remembered source address. It may ask
 * the routing table and keeps a cache: callers serialize these calls with
 * every other send of the socket that is not a batch. */
bool netdev_udp_source_ok(struct netdev_udp *u, const struct wg_endpoint *to);
/* Sends n datagrams in order: consecutive ones to the same place and of
 * the same size leave as one segmentation-offload send when the socket
 * has GSO, the rest in one sendmmsg. Waits a little for room when the
 * socket buffer is full. Safe alongside netdev_udp_send and the receive
 * calls on other threads. */
void netdev_udp_send_batch(struct netdev_udp *u, struct netdev_udp_tx *tx,
			   size_t n);

#endif
