/* SPDX-License-Identifier: MIT */
/*
 * The tun and tap backends' device and interface ioctls (tuntap.h), as
 * netdevice(7) and Documentation/networking/tuntap.rst describe them.
 */
#include "tuntap.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int tuntap_create(const char *want, short flags, char name[NETDEV_NAME_MAX])
{
#ifdef __linux__
	struct ifreq ifr;
	int fd;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", want);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	/* The kernel may have chosen another name (Nanos always does). */
	static_assert(NETDEV_NAME_MAX >= IFNAMSIZ, "room for a name");
	memcpy(name, ifr.ifr_name, IFNAMSIZ);
	name[IFNAMSIZ - 1] = '\0';
	return fd;
#else
	(void)want;
	(void)flags;
	(void)name;
	return -ENOTSUP;
#endif
}

int tuntap_ioctl(int family, unsigned long req, void *arg)
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

void tuntap_ifreq(const struct netdev *nd, struct ifreq *ifr)
{
	static_assert(sizeof(ifr->ifr_name) >= sizeof(nd->ifname),
		      "room for a name");
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, nd->ifname, sizeof(nd->ifname));
}

int tuntap_get_mtu(struct netdev *nd, unsigned int *mtu)
{
	struct ifreq ifr;
	int ret;

	tuntap_ifreq(nd, &ifr);
	ret = tuntap_ioctl(AF_INET, SIOCGIFMTU, &ifr);
	if (ret)
		return ret;
	if (ifr.ifr_mtu <= 0)
		return -EINVAL;
	*mtu = (unsigned int)ifr.ifr_mtu;
	return 0;
}

int tuntap_is_up(const struct netdev *nd, bool *up)
{
	struct ifreq ifr;
	int ret;

	tuntap_ifreq(nd, &ifr);
	ret = tuntap_ioctl(AF_INET, SIOCGIFFLAGS, &ifr);
	if (!ret)
		*up = (ifr.ifr_flags & IFF_UP) != 0;
	return ret;
}

int tuntap_set_flags(const struct netdev *nd, short flags)
{
	struct ifreq ifr;
	int ret;

	tuntap_ifreq(nd, &ifr);
	ret = tuntap_ioctl(AF_INET, SIOCGIFFLAGS, &ifr);
	if (ret)
		return ret;
	ifr.ifr_flags |= flags;
	return tuntap_ioctl(AF_INET, SIOCSIFFLAGS, &ifr);
}
