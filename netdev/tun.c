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

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/if_tun.h>
#endif

#include "offload.h"

/* Pieces of one packet written at once, the header included. */
#define TUN_MAX_IOV 80

/* The layout SIOCSIFADDR takes on an AF_INET6 socket (linux/ipv6.h's
 * in6_ifreq), spelled here because that header clashes with the libc's. */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

#ifdef __linux__
/* The device with the given flags: its fd, or a negative errno. */
static int tun_create(const char *want, short flags, struct ifreq *ifr)
{
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	ifr->ifr_flags = flags;
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", want);
	if (ioctl(fd, TUNSETIFF, ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* The device with checksum and TCP segmentation offloads, or -1. */
static int tun_create_offload(const char *want, struct ifreq *ifr)
{
	unsigned int offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
	int fd, hdr_len = OFFLOAD_VNET_HDR_LEN;

	fd = tun_create(want, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, ifr);
	if (fd < 0)
		return -1;
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
	struct ifreq ifr;
	int fd = -1;

	nd->offload = false;
	if (nd->want_offload) {
		fd = tun_create_offload(want, &ifr);
		nd->offload = fd >= 0;
	}
	if (fd < 0)
		fd = tun_create(want, IFF_TUN | IFF_NO_PI, &ifr);
	if (fd < 0)
		return fd;
	/* The kernel may have chosen another name (Nanos always does). */
	static_assert(sizeof(nd->ifname) >= IFNAMSIZ, "room for a name");
	memcpy(nd->ifname, ifr.ifr_name, IFNAMSIZ);
	nd->ifname[IFNAMSIZ - 1] = '\0';
	nd->fd = fd;
	nd->n_ipv4 = 0;
	if (nd->tx_queue_len) {
		/* Best effort: Nanos has no such setting. */
		struct ifreq q;
		int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		memset(&q, 0, sizeof(q));
		memcpy(q.ifr_name, nd->ifname, IFNAMSIZ);
		q.ifr_qlen = (int)nd->tx_queue_len;
		if (s >= 0) {
			(void)ioctl(s, SIOCSIFTXQLEN, &q);
			close(s);
		}
	}
	return 0;
#else
	(void)nd;
	(void)want;
	return -ENOTSUP;
#endif
}

static ssize_t tun_read_offload(struct netdev *nd, uint8_t hdr[10],
				void *buf, size_t len)
{
	struct iovec iov[2] = {
		{ .iov_base = hdr, .iov_len = OFFLOAD_VNET_HDR_LEN },
		{ .iov_base = buf, .iov_len = len },
	};
	ssize_t n;

	if (!nd->offload)
		return -EOPNOTSUPP;
	do
		n = readv(nd->fd, iov, 2);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (n < OFFLOAD_VNET_HDR_LEN)
		return 0;
	return n - OFFLOAD_VNET_HDR_LEN;
}

static ssize_t tun_read(struct netdev *nd, void *buf, size_t len)
{
	ssize_t n;

	if (nd->offload) {
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
	do
		n = read(nd->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static int tun_write_offload(struct netdev *nd, const uint8_t hdr[10],
			     const struct iovec *iov, int iovcnt)
{
	struct iovec all[TUN_MAX_IOV];
	ssize_t n;

	if (!nd->offload)
		return -EOPNOTSUPP;
	if (iovcnt < 0 || iovcnt >= TUN_MAX_IOV)
		return -EINVAL;
	all[0].iov_base = (void *)hdr;
	all[0].iov_len = OFFLOAD_VNET_HDR_LEN;
	memcpy(all + 1, iov, (size_t)iovcnt * sizeof(*iov));
	do
		n = writev(nd->fd, all, iovcnt + 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return 0;
}

static int tun_write(struct netdev *nd, const void *buf, size_t len)
{
	ssize_t n;

	if (nd->offload) {
		static const uint8_t none[OFFLOAD_VNET_HDR_LEN];
		struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

		return tun_write_offload(nd, none, &iov, 1);
	}
	do
		n = write(nd->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
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
}

/* One ioctl on a throwaway socket of the given family. */
static int tun_ioctl(int family, unsigned long req, void *arg)
{
	int s, ret = 0;

	s = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (ioctl(s, req, arg) < 0)
		ret = -errno;
	close(s);
	return ret;
}

static void tun_ifreq(const struct netdev *nd, struct ifreq *ifr)
{
	static_assert(sizeof(ifr->ifr_name) >= sizeof(nd->ifname),
		      "room for a name");
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, nd->ifname, sizeof(nd->ifname));
}

static int tun_set_mtu(struct netdev *nd, unsigned int mtu)
{
	struct ifreq ifr;

	tun_ifreq(nd, &ifr);
	ifr.ifr_mtu = (int)mtu;
	return tun_ioctl(AF_INET, SIOCSIFMTU, &ifr);
}

static int tun_get_mtu(struct netdev *nd, unsigned int *mtu)
{
	struct ifreq ifr;
	int ret;

	tun_ifreq(nd, &ifr);
	ret = tun_ioctl(AF_INET, SIOCGIFMTU, &ifr);
	if (ret)
		return ret;
	if (ifr.ifr_mtu <= 0)
		return -EINVAL;
	*mtu = (unsigned int)ifr.ifr_mtu;
	return 0;
}

static int tun_add_ipv4(struct netdev *nd, const struct netdev_addr *a)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct ifreq ifr;
	uint32_t mask;
	int ret;

	tun_ifreq(nd, &ifr);
	/* The ioctls hold one IPv4 address per label: the first goes on the
	 * interface itself, the others on aliases "name:1", "name:2". */
	if (nd->n_ipv4 > 0) {
		ret = snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s:%u",
			       nd->ifname, nd->n_ipv4);
		if (ret < 0 || (size_t)ret >= sizeof(ifr.ifr_name))
			return -ENAMETOOLONG;
	}
	memcpy(&sin.sin_addr, a->addr, 4);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	ret = tun_ioctl(AF_INET, SIOCSIFADDR, &ifr);
	if (ret)
		return ret;
	mask = a->prefixlen ? htonl(0xffffffffu << (32 - a->prefixlen)) : 0;
	sin.sin_addr.s_addr = mask;
	memcpy(&ifr.ifr_netmask, &sin, sizeof(sin));
	ret = tun_ioctl(AF_INET, SIOCSIFNETMASK, &ifr);
	if (ret)
		return ret;
	nd->n_ipv4++;
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
	return tun_ioctl(AF_INET6, SIOCSIFADDR, &req);
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
	struct ifreq ifr;
	int ret;

	tun_ifreq(nd, &ifr);
	ret = tun_ioctl(AF_INET, SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	return tun_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
}

const struct netdev_ops netdev_tun_ops = {
	.name = "tun",
	.open = tun_open,
	.read = tun_read,
	.write = tun_write,
	.pollfd = tun_pollfd,
	.close = tun_close,
	.set_mtu = tun_set_mtu,
	.get_mtu = tun_get_mtu,
	.add_address = tun_add_address,
	.set_up = tun_set_up,
	.read_offload = tun_read_offload,
	.write_offload = tun_write_offload,
};
