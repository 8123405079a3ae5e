/* SPDX-License-Identifier: MIT */
/*
 * What the tun and tap backends share: the device from /dev/net/tun
 * (Linux's Documentation/networking/tuntap.rst) and the interface ioctls
 * made on a throwaway socket. Linux only; elsewhere creating fails with
 * -ENOTSUP.
 */
#ifndef UNIGUARD_TUNTAP_H
#define UNIGUARD_TUNTAP_H

#include <net/if.h>

#ifdef __linux__
#include <linux/if_tun.h>
#endif

#include "netdev.h"

/* A device with flags (IFF_TUN or IFF_TAP, IFF_NO_PI, ...), named want or
 * as the kernel chooses: its non-blocking fd, or a negative errno. The
 * name it got goes to name. */
int tuntap_create(const char *want, short flags, char name[NETDEV_NAME_MAX]);
/* One ioctl on a throwaway socket of the given family: 0 or -errno. */
int tuntap_ioctl(int family, unsigned long req, void *arg);
/* An ifreq naming the interface, the rest zero. */
void tuntap_ifreq(const struct netdev *nd, struct ifreq *ifr);
int tuntap_get_mtu(struct netdev *nd, unsigned int *mtu);
/* Whether the interface is administratively up (IFF_UP). */
int tuntap_is_up(const struct netdev *nd, bool *up);
/* Adds flags (IFF_UP, ...) to the interface's. */
int tuntap_set_flags(const struct netdev *nd, short flags);

#endif
