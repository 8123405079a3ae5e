/* SPDX-License-Identifier: MIT */
/* The packet device as an interface (iface.h). */
#include "iface.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon_state.h"
#include "log.h"
#include "sysio.h"
#include "too_big.h"

/* The interface's MTU unless told otherwise: 1500 less the largest
 * overhead (IPv6 40, UDP 8, WireGuard 32). */
#define IFACE_DEFAULT_MTU 1420

/* The device a launcher opened and passed (WG_TUN_FD, --tun-fd), as
 * wireguard-go and boringtun take it: its own name replaces IFNAME. */
static int attach_passed(struct daemon *d)
{
	int fd = d->opts->tun_fd, ret;

	if (!d->nd.ops->attach) {
		log_error("the %s backend cannot use a passed descriptor "
			  "(WG_TUN_FD, --tun-fd)", d->nd.ops->name);
		return -1;
	}
	ret = d->nd.ops->attach(&d->nd, fd);
	if (ret) {
		log_error("cannot use descriptor %d as a TUN device: %s", fd,
			  ret == -EPROTOTYPE ? "not a TUN device without "
			  "packet information (IFF_TUN | IFF_NO_PI)" :
			  strerror(-ret));
		return -1;
	}
	log_debug("using the TUN device %s on descriptor %d", d->nd.ifname,
		  fd);
	return 0;
}

int iface_open(struct daemon *d)
{
	int ret;

	ret = netdev_select(&d->nd, d->opts->netdev);
	if (ret) {
		log_error(ret == -ENOENT ? "no packet backend named %s" :
			  "the packet backend of %s takes no options",
			  d->opts->netdev);
		d->nd.ops = NULL;
		return -1;
	}
	if (d->opts->tun_fd >= 0) {
		ret = attach_passed(d);
		if (ret)
			return ret;
	} else {
		ret = d->nd.ops->open(&d->nd, d->opts->ifname);
		if (ret) {
			log_error("cannot create interface %s: %s",
				  d->opts->ifname, strerror(-ret));
			return -1;
		}
	}
	log_set_ifname(d->nd.ifname);
	if (d->opts->tun_fd < 0 && strcmp(d->nd.ifname, d->opts->ifname) != 0)
		log_info("the system named the interface %s", d->nd.ifname);
	/* WireGuard's usual MTU from the start, as the kernel's device has
	 * it, so that a tunnel nobody configures does not fragment its outer
	 * datagrams; wg-quick or the -c file may change it.  Lowered only:
	 * a smaller MTU the interface was made with stays (on Nanos, the
	 * image manifest's, which fits a cloud network of 1460 bytes). */
	if (d->nd.ops->set_mtu) {
		unsigned int made = 0;

		if (d->nd.ops->get_mtu && d->nd.ops->get_mtu(&d->nd, &made))
			made = 0;
		if (made && made <= IFACE_DEFAULT_MTU) {
			log_debug("%s: MTU %u as the interface was made",
				  d->nd.ifname, made);
		} else {
			ret = d->nd.ops->set_mtu(&d->nd, IFACE_DEFAULT_MTU);
			if (ret && ret != -ENODEV)
				log_debug("%s: cannot set MTU %u: %s",
					  d->nd.ifname, IFACE_DEFAULT_MTU,
					  strerror(-ret));
		}
	}
	d->tun_src.fd = d->nd.ops->pollfd(&d->nd);
	if (netdev_offload(&d->nd))
		log_debug("%s: checksum and segmentation offloads on",
			  d->nd.ifname);
	return 0;
}

/* Applies a wg-quick file's Address and MTU to the interface, which makes
 * `uniguard -c wg0.conf wg0` a working interface without wg-quick. A
 * backend or platform that configures the interface itself (Nanos, from
 * the image manifest) answers ENODEV: that is not an error. */
int iface_configure(struct daemon *d, const struct wg_config *cfg)
{
	const struct wg_quick_config *q = &cfg->quick;
	const struct netdev_ops *ops = d->nd.ops;
	unsigned int mtu;
	int ret;

	if (q->dns.len || q->table || q->pre_up.len || q->post_up.len ||
	    q->pre_down.len || q->post_down.len || q->has_save_config)
		log_info("DNS, Table, SaveConfig and the Up/Down hooks are "
			 "wg-quick's: not applied");
	if (!q->n_addresses && !q->has_mtu)
		return 0;
	if (!ops->set_mtu || !ops->add_address || !ops->set_up) {
		log_info("%s: the %s backend cannot set addresses or MTU",
			 d->nd.ifname, ops->name);
		return 0;
	}
	mtu = q->has_mtu ? q->mtu : IFACE_DEFAULT_MTU;
	ret = ops->set_mtu(&d->nd, mtu);
	if (ret == -ENODEV)
		goto platform;
	if (ret) {
		log_error("%s: cannot set MTU %u: %s", d->nd.ifname, mtu,
			  strerror(-ret));
		return ret;
	}
	if (q->has_mtu)
		log_info("%s: MTU %u", d->nd.ifname, mtu);
	for (size_t i = 0; i < q->n_addresses; i++) {
		const struct wg_allowedip *a = &q->addresses[i];
		struct netdev_addr na = {
			.family = a->family,
			.prefixlen = a->cidr,
		};
		char text[WG_ALLOWEDIP_TEXT_MAX];

		memcpy(na.addr, a->addr, sizeof(na.addr));
		wg_allowedip_format(a, text, sizeof(text));
		ret = ops->add_address(&d->nd, &na);
		if (ret == -ENODEV)
			goto platform;
		if (ret && ret != -EEXIST) {
			log_error("%s: cannot add address %s: %s",
				  d->nd.ifname, text, strerror(-ret));
			return ret;
		}
		log_info("%s: address %s", d->nd.ifname, text);
	}
	if (q->n_addresses) {
		ret = ops->set_up(&d->nd);
		if (ret == -ENODEV)
			goto platform;
		if (ret) {
			log_error("%s: cannot bring the interface up: %s",
				  d->nd.ifname, strerror(-ret));
			return ret;
		}
	}
	return 0;
platform:
	log_info("%s: address, MTU and state are set by the platform",
		 d->nd.ifname);
	return 0;
}

/* The seed's own command line (-c with UAPI set lines, as on Nanos, where
 * the manifest sets address and state) makes a Linux interface that is
 * down with no address: handshakes complete and every packet is dropped.
 * Said once, with the remedy. Asked of the system rather than inferred,
 * so that a platform that set the interface up says nothing. */
void iface_say_if_unusable(struct daemon *d)
{
	const char *name = d->nd.ifname;
	bool found = false, up = false, addressed = false;
	struct ifaddrs *all;

	if (getifaddrs(&all) < 0)
		return;
	for (const struct ifaddrs *ifa = all; ifa; ifa = ifa->ifa_next) {
		if (strcmp(ifa->ifa_name, name) != 0)
			continue;
		found = true;
		up |= (ifa->ifa_flags & IFF_UP) != 0;
		addressed |= ifa->ifa_addr &&
			     (ifa->ifa_addr->sa_family == AF_INET ||
			      ifa->ifa_addr->sa_family == AF_INET6);
	}
	freeifaddrs(all);
	if (!found || up || addressed)
		return;
	log_info("%s has no address and is down: nothing the tunnel carries "
		 "reaches this host. Give it one with Address = in a "
		 "wg-quick file (-c), or: ip address add ADDRESS/PREFIX dev "
		 "%s && ip link set %s up", name, name, name);
}

/* Linux's tun driver answers EIO to a write while the interface is down. */
void iface_write_failed(struct daemon *d, int err)
{
	char more[64] = "";
	char hint[64] = "";
	uint64_t held;

	if (!log_limit_pass(&d->tun_write_log, netdev_now_ns(), &held))
		return;
	if (held)
		snprintf(more, sizeof(more), " (%llu more since the last such "
			 "line)", (unsigned long long)held);
	if (err == EIO)
		snprintf(hint, sizeof(hint), ": is %s down?", d->nd.ifname);
	log_warn("cannot hand a packet to %s: %s%s%s", d->nd.ifname,
		 strerror(err), hint, more);
}

/* Tells the core the interface's MTU, which caps its padding, whenever it
 * changed (wg-quick sets it after start-up). An interface moved to another
 * namespace keeps the last value seen. */
void iface_update_mtu(struct daemon *d)
{
	unsigned int mtu;

	if (!d->nd.ops->get_mtu || d->nd.ops->get_mtu(&d->nd, &mtu) ||
	    mtu == d->mtu)
		return;
	d->mtu = mtu;
	wg_device_set_mtu(d->dev, mtu);
	log_debug("%s: MTU %u", d->nd.ifname, mtu);
}

static void routes_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, routes_src);

	(void)events;
	netdev_routes_changed(d->routes);
	too_big_forget_routes(d);
	/* Link changes come on the same socket. */
	iface_update_mtu(d);
}

void iface_watch_routes(struct daemon *d)
{
	d->routes = netdev_routes_open();
	if (!d->routes)
		return;
	d->routes_src.fd = netdev_routes_fd(d->routes);
	d->routes_src.ready = routes_ready;
	if (loop_add(d->epfd, &d->routes_src, EPOLLIN) < 0) {
		netdev_routes_close(d->routes);
		d->routes = NULL;
	}
}

void iface_close(struct daemon *d)
{
	netdev_routes_close(d->routes);
	d->routes = NULL;
	if (d->nd.ops && d->nd.fd >= 0)
		d->nd.ops->close(&d->nd);
}
