/* SPDX-License-Identifier: MIT */
/*
 * The packet backend contract: the inner side of the tunnel, where clear
 * IP packets come from and go to, behind one small ops table chosen once
 * by name (--netdev NAME or NAME:ARGS). Every backend fills the same table,
 * so the daemon never knows which one it drives. (The outer side, the UDP
 * socket, is udp.h's.)
 *
 * Adding a backend:
 *  1. One file, netdev/NAME.c, defining `const struct netdev_ops
 *     netdev_NAME_ops` with .name = "NAME" and at least open, read, write,
 *     pollfd and close; leave the optional ops NULL. OS #ifdefs stay inside
 *     that file: where the platform lacks the device, open fails -ENOTSUP.
 *  2. Its state: nd->fd when it has one descriptor, anything else behind
 *     nd->priv, allocated by open and freed by close. Nothing of a backend
 *     lives in struct netdev itself.
 *  3. One line in netdev.c's table, and its extern below.
 *  4. Every function returns 0 (read: the length) or a negative errno; a
 *     non-blocking read with nothing waiting returns -EAGAIN, as a write
 *     to a full queue does (sysio.h maps errno so). A read may return 0
 *     for a frame the backend consumed itself (an ARP answer, say).
 *  5. read and write may run on different threads at once: a backend
 *     whose state both touch guards it itself (tap.c has a mutex).
 * tun.c is the plain example; tap.c shows options and private state.
 */
#ifndef UNIGUARD_NETDEV_H
#define UNIGUARD_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

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
	/* Optional, instead of open: takes over a device someone else opened
	 * and passed on (a launcher's descriptor), which close will close.
	 * The name is the device's own, left in nd->ifname. */
	int (*attach)(struct netdev *nd, int fd);
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
	/* Whether the interface is up (a health check asks, from a thread
	 * of its own: it must not touch what the packet path changes). */
	int (*is_up)(const struct netdev *nd, bool *up);

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
	 * platform has them; offload says whether it did (ask through
	 * netdev_offload). Then every packet goes with a 10-byte virtio-net
	 * header (offload.h), and a read may return a TCP super-packet of up
	 * to 64 KiB for the caller to cut up. read and write keep working
	 * without headers. */
	bool (*offload)(const struct netdev *nd);
	ssize_t (*read_offload)(struct netdev *nd, uint8_t hdr[10], void *buf,
				size_t len);
	/* One packet given in pieces, described by hdr. */
	int (*write_offload)(struct netdev *nd, const uint8_t hdr[10],
			     const struct iovec *iov, int iovcnt);
	/* Optional, with the offloads: whether write_offload also takes UDP
	 * super-packets (OFFLOAD_GSO_UDP_L4), which the system cuts into
	 * datagrams again. Reads never return them. */
	bool (*offload_udp)(const struct netdev *nd);
};

/* One interface: what the caller asks for, and what open made. */
struct netdev {
	const struct netdev_ops *ops;
	char ifname[NETDEV_NAME_MAX];
	int fd;				/* the backend's descriptor, or -1 */
	const char *args;		/* what followed "name:", or NULL */
	void *priv;			/* the backend's own state */
	/* Set by the caller before open. */
	bool want_offload;		/* see read_offload */
	/* How many outgoing packets the system may queue for the reader
	 * (0: its default). */
	unsigned int tx_queue_len;
};

extern const struct netdev_ops netdev_tun_ops;
extern const struct netdev_ops netdev_tap_ops;

/* The backends built in, by name ("tun"); NULL for an unknown name. */
const struct netdev_ops *netdev_lookup(const char *name);

/* Chooses the backend a --netdev value names, "NAME" or "NAME:ARGS",
 * leaving ARGS in nd->args (a pointer into spec). 0, -ENOENT for an
 * unknown name, -EINVAL for options given to a backend that takes none. */
int netdev_select(struct netdev *nd, const char *spec);

/* Whether the open interface moves packets with virtio-net headers
 * (read_offload, write_offload). */
static inline bool netdev_offload(const struct netdev *nd)
{
	return nd->ops->offload && nd->ops->offload(nd);
}

/* Whether write_offload takes UDP super-packets too. */
static inline bool netdev_offload_udp(const struct netdev *nd)
{
	return netdev_offload(nd) && nd->ops->offload_udp &&
	       nd->ops->offload_udp(nd);
}

#endif
