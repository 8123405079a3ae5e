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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

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
};

struct netdev {
	const struct netdev_ops *ops;
	char ifname[NETDEV_NAME_MAX];
	int fd;
	unsigned int n_ipv4;		/* IPv4 addresses added so far */
};

extern const struct netdev_ops netdev_tun_ops;

/* The backends built in, by name ("tun"); NULL for an unknown name. */
static inline const struct netdev_ops *netdev_lookup(const char *name)
{
	static const struct netdev_ops *const backends[] = {
		&netdev_tun_ops,
	};

	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	}
	return NULL;
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
};

/* Binds port (0: the kernel picks; u->port says which). Dual-stack IPv6
 * first, IPv4 alone when the host has no IPv6. fwmark 0 sets no mark. */
int netdev_udp_open(struct netdev_udp *u, uint16_t port, uint32_t fwmark);
int netdev_udp_set_fwmark(struct netdev_udp *u, uint32_t fwmark);
/* One datagram: its length, -EAGAIN when none is waiting, or another
 * negative errno. from gets the sender, as AF_INET for IPv4 peers even on a
 * dual-stack socket, and the local address it was sent to. */
ssize_t netdev_udp_recv(struct netdev_udp *u, void *buf, size_t len,
			struct wg_endpoint *from);
/* Sends from to->src when has_src; if that address is gone, lets the
 * routing table pick one instead of failing. 0 or negative errno. */
int netdev_udp_send(struct netdev_udp *u, const struct wg_endpoint *to,
		    const void *buf, size_t len);
void netdev_udp_close(struct netdev_udp *u);

#endif
