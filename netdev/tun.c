/* SPDX-License-Identifier: MIT */
/*
 * The TUN backend: a layer-3 interface from /dev/net/tun (Linux's
 * Documentation/networking/tuntap.rst), one raw IP packet per read and write
 * (IFF_TUN | IFF_NO_PI). Nanos offers the same device when its tun klib is in
 * the image, but answers the interface configuration ioctls with ENODEV: its
 * image manifest sets the address, netmask, MTU and up state instead.
 *
 * When the caller can take them, Linux's offloads are asked for too
 * (IFF_VNET_HDR with TUNSETOFFLOAD: checksums and TCP segmentation): the
 * kernel then hands over TCP super-packets of up to 64 KiB, each with a
 * virtio-net header, and takes super-packets back. Nanos accepts only
 * IFF_TUN, IFF_NO_PI and IFF_MULTI_QUEUE; there, and wherever the offloads
 * are refused, the device is opened plain.
 */
#include "netdev.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "offload.h"
#include "sysio.h"
#include "tuntap.h"

/* Pieces of one packet written at once, the header included. */
#define TUN_MAX_IOV 80

/* The layout SIOCSIFADDR takes on an AF_INET6 socket (linux/ipv6.h's
 * in6_ifreq), spelled here because that header clashes with the libc's. */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

/* The backend's own state, in nd->priv. */
struct tun {
	bool offload;		/* every packet goes with a virtio-net header */
	bool offload_udp;	/* writes may be UDP super-packets */
	unsigned int n_ipv4;	/* IPv4 addresses added so far */
};

static struct tun *tun_of(const struct netdev *nd)
{
	return nd->priv;
}

#ifdef __linux__
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

/* Whether the kernel takes UDP super-packets written to fd (Linux 6.2 and
 * later know UDP segmentation offload for TUN): it accepts the flags only
 * then. They are turned off again at once, offloads left as they were, so
 * that reads never return UDP super-packets (which nothing here would cut
 * up); writes take them whatever the flags. */
static bool tun_probe_udp(int fd, unsigned int offloads)
{
	if (ioctl(fd, TUNSETOFFLOAD, offloads | TUN_F_USO4 | TUN_F_USO6) < 0)
		return false;
	return ioctl(fd, TUNSETOFFLOAD, offloads) == 0;
}

/* The device with checksum and TCP segmentation offloads, or -1. */
static int tun_create_offload(const char *want, char name[NETDEV_NAME_MAX],
			      bool *udp)
{
	unsigned int offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd, hdr_len = OFFLOAD_VNET_HDR_LEN;

	fd = tuntap_create(want, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, name);
	if (fd < 0)
		return -1;
	*udp = tun_probe_udp(fd, offloads);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, offloads) < 0) {
		/* The interface goes with its only descriptor. */
		close(fd);
		return -1;
	}
	return fd;
}
#endif

static int tun_open(struct netdev *nd, const char *want)
{
#ifdef __linux__
	struct tun *t;
	int fd = -1;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (nd->want_offload) {
		fd = tun_create_offload(want, nd->ifname, &t->offload_udp);
		t->offload = fd >= 0;
	}
	if (fd < 0)
		fd = tuntap_create(want, IFF_TUN | IFF_NO_PI, nd->ifname);
	if (fd < 0) {
		free(t);
		return fd;
	}
	nd->fd = fd;
	nd->priv = t;
	if (nd->tx_queue_len) {
		/* Best effort: Nanos has no such setting. */
		struct ifreq q;

		tuntap_ifreq(nd, &q);
		q.ifr_qlen = (int)nd->tx_queue_len;
		(void)tuntap_ioctl(AF_INET, SIOCSIFTXQLEN, &q);
	}
	return 0;
#else
	(void)nd;
	(void)want;
	return -ENOTSUP;
#endif
}

#ifdef __linux__
/* A passed device made with virtio-net headers: the same offloads as
 * tun_create_offload asks for, or none, the headers there either way. */
static int tun_attach_offload(struct netdev *nd, int fd, bool *udp)
{
	unsigned int offloads = nd->want_offload ?
				TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 : 0;
	int hdr_len = OFFLOAD_VNET_HDR_LEN;

	*udp = nd->want_offload && tun_probe_udp(fd, offloads);
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr_len) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, offloads) < 0)
		return -errno;
	return 0;
}
#endif

static int tun_attach(struct netdev *nd, int fd)
{
#ifdef __linux__
	struct ifreq ifr;
	struct tun *t;
	int flags, ret;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return -errno;
	/* A TAP device speaks Ethernet, and packet information would
	 * prefix every packet: neither is what this backend reads. */
	if ((ifr.ifr_flags & (IFF_TUN | IFF_TAP)) != IFF_TUN ||
	    !(ifr.ifr_flags & IFF_NO_PI))
		return -EPROTOTYPE;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (ifr.ifr_flags & IFF_VNET_HDR) {
		ret = tun_attach_offload(nd, fd, &t->offload_udp);
		if (ret) {
			free(t);
			return ret;
		}
		t->offload = true;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
		ret = -errno;
		free(t);
		return ret;
	}
	memcpy(nd->ifname, ifr.ifr_name, IFNAMSIZ);
	nd->ifname[IFNAMSIZ - 1] = '\0';
	nd->fd = fd;
	nd->priv = t;
	return 0;
#else
	(void)nd;
	(void)fd;
	return -ENOTSUP;
#endif
}

static bool tun_offload(const struct netdev *nd)
{
	return tun_of(nd)->offload;
}

static bool tun_offload_udp(const struct netdev *nd)
{
	return tun_of(nd)->offload && tun_of(nd)->offload_udp;
}

static ssize_t tun_read_offload(struct netdev *nd, uint8_t hdr[10],
				void *buf, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = OFFLOAD_VNET_HDR_LEN },
		{ .iov_base = buf, .iov_len = len },
	};
	ssize_t n;

	if (!tun_offload(nd))
		return -EOPNOTSUPP;
	NETDEV_RETRY(n, readv(nd->fd, iov, 2));
	if (n < 0)
		return netdev_errno();
	if (n < OFFLOAD_VNET_HDR_LEN)
		return 0;
	return n - OFFLOAD_VNET_HDR_LEN;
}

static ssize_t tun_read(struct netdev *nd, void *buf, size_t len)
{
	ssize_t n;

	if (tun_offload(nd)) {
		/* A reader that cannot cut super-packets gets none; partial
		 * checksums are completed for it. */
		for (;;) {
			uint8_t raw[OFFLOAD_VNET_HDR_LEN];
			struct offload_vnet_hdr h;

			n = tun_read_offload(nd, raw, buf, len);
			if (n <= 0)
				return n;
			offload_vnet_hdr_read(&h, raw);
			if (h.gso_type != OFFLOAD_GSO_NONE)
				continue;
			if (h.flags & OFFLOAD_F_NEEDS_CSUM)
				(void)offload_csum_complete(buf, (size_t)n,
							    h.csum_start,
							    h.csum_offset);
			return n;
		}
	}
	NETDEV_RETRY(n, read(nd->fd, buf, len));
	if (n < 0)
		return netdev_errno();
	return n;
}

static int tun_write_offload(struct netdev *nd, const uint8_t hdr[10],
			     const struct iovec *iov, int iovcnt)
{
	struct iovec all[TUN_MAX_IOV];
	ssize_t n;

	if (!tun_offload(nd))
		return -EOPNOTSUPP;
	if (iovcnt < 0 || iovcnt >= TUN_MAX_IOV)
		return -EINVAL;
	all[0].iov_base = (void *)hdr;
	all[0].iov_len = OFFLOAD_VNET_HDR_LEN;
	memcpy(all + 1, iov, (size_t)iovcnt * sizeof(*iov));
	NETDEV_RETRY(n, writev(nd->fd, all, iovcnt + 1));
	if (n < 0)
		return netdev_errno();
	return 0;
}

static int tun_write(struct netdev *nd, const void *buf, size_t len)
{
	ssize_t n;

	if (tun_offload(nd)) {
		static const uint8_t none[OFFLOAD_VNET_HDR_LEN];
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		return tun_write_offload(nd, none, &iov, 1);
	}
	NETDEV_RETRY(n, write(nd->fd, buf, len));
	if (n < 0)
		return netdev_errno();
	return 0;
}

static int tun_pollfd(const struct netdev *nd)
{
	return nd->fd;
}

static void tun_close(struct netdev *nd)
{
	/* The interface is not persistent: closing its last fd removes it. */
	if (nd->fd >= 0)
		close(nd->fd);
	nd->fd = -1;
	free(nd->priv);
	nd->priv = NULL;
}

static int tun_set_mtu(struct netdev *nd, unsigned int mtu)
{
	struct ifreq ifr;

	tuntap_ifreq(nd, &ifr);
	ifr.ifr_mtu = (int)mtu;
	return tuntap_ioctl(AF_INET, SIOCSIFMTU, &ifr);
}

static int tun_add_ipv4(struct netdev *nd, const struct netdev_addr *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct tun *t = tun_of(nd);
	struct ifreq ifr;
	uint32_t mask;
	int ret;

	tuntap_ifreq(nd, &ifr);
	/* The ioctls hold one IPv4 address per label: the first goes on the
	 * interface itself, the others on aliases "name:1", "name:2". */
	if (t->n_ipv4 > 0) {
		ret = snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s:%u",
			       nd->ifname, t->n_ipv4);
		if (ret < 0 || (size_t)ret >= sizeof(ifr.ifr_name))
			return -ENAMETOOLONG;
	}
	memcpy(&sin.sin_addr, a->addr, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	ret = tuntap_ioctl(AF_INET, SIOCSIFADDR, &ifr);
	if (ret)
		return ret;
	mask = a->prefixlen ? htonl(0xffffffffu << (32 - a->prefixlen)) : 0;
	sin.sin_addr.s_addr = mask;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	ret = tuntap_ioctl(AF_INET, SIOCSIFNETMASK, &ifr);
	if (ret)
		return ret;
	t->n_ipv4++;
	return 0;
}

static int tun_add_ipv6(struct netdev *nd, const struct netdev_addr *a)
{
	struct tun_in6_ifreq req;
	unsigned int ifindex;

	ifindex = if_nametoindex(nd->ifname);
	if (!ifindex)
		return -errno;
	memset(&req, 0, sizeof(req));
	memcpy(&req.addr, a->addr, 16);
	req.prefixlen = a->prefixlen;
	req.ifindex = (int)ifindex;
	return tuntap_ioctl(AF_INET6, SIOCSIFADDR, &req);
}

static int tun_add_address(struct netdev *nd, const struct netdev_addr *a)
{
	if (a->family == AF_INET && a->prefixlen <= 32)
		return tun_add_ipv4(nd, a);
	if (a->family == AF_INET6 && a->prefixlen <= 128)
		return tun_add_ipv6(nd, a);
	return -EINVAL;
}

static int tun_set_up(struct netdev *nd)
{
	return tuntap_set_flags(nd, IFF_UP | IFF_RUNNING);
}

const struct netdev_ops netdev_tun_ops = {
	.name = "tun",
	.open = tun_open,
	.attach = tun_attach,
	.read = tun_read,
	.write = tun_write,
	.pollfd = tun_pollfd,
	.close = tun_close,
	.set_mtu = tun_set_mtu,
	.get_mtu = tuntap_get_mtu,
	.add_address = tun_add_address,
	.set_up = tun_set_up,
	.is_up = tuntap_is_up,
	.offload = tun_offload,
	.offload_udp = tun_offload_udp,
	.read_offload = tun_read_offload,
	.write_offload = tun_write_offload,
};
