/* SPDX-License-Identifier: MIT */
/*
 * The tap backend: a layer-2 interface from /dev/net/tun (IFF_TAP |
 * IFF_NO_PI, Linux's Documentation/networking/tuntap.rst), one Ethernet frame
 * per read and write. uniguard is then a host on the segment the tap is
 * bridged into, with its own MAC and address, and routes between that
 * segment and the tunnel itself: no kernel forwarding, and no route on the
 * segment's hosts when proxy ARP puts the clients' addresses on the segment.
 * The Ethernet, ARP and neighbour discovery logic is ether.c's; this file
 * opens the device, reads the clock and moves frames.
 *
 * Options, after "tap:" and separated by commas:
 *   address=ADDR/LEN  our address on the segment, once per family (a
 *                     wg-quick file's Address= does the same)
 *   gateway=ADDR      next hop for destinations off the segment, once per
 *                     family
 *   proxy-arp         answer ARP and neighbour solicitations for the
 *                     tunnel's addresses inside the segment's prefix
 *   mac=XX:XX:XX:XX:XX:XX  our MAC (default: random, locally administered)
 *
 * The daemon may read on one thread and write on another: the Ethernet
 * state both share is behind a mutex of its own.
 *
 * Linux only; elsewhere (Nanos has no TAP) open fails with ENOTSUP.
 */
#include "netdev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ether.h"
#include "sysio.h"
#include "tuntap.h"

/* The tunnel's MTU until the daemon says otherwise (it says at once). */
#define TAP_TUNNEL_MTU 1420

struct tap {
	struct netdev *nd;
	pthread_mutex_t lock;	/* over ether and emit_error */
	struct ether *ether;
	unsigned int tunnel_mtu;
	int emit_error;		/* the last write of an emitted frame */
};

static void tap_emit(void *ctx, const uint8_t *frame, size_t len)
{
	struct tap *t = ctx;
	ssize_t n;

	NETDEV_RETRY(n, write(t->nd->fd, frame, len));
	if (n < 0)
		t->emit_error = netdev_errno();
}

/* Options. */

struct tap_args {
	bool proxy;
	bool has_mac;
	uint8_t mac[ETHER_ADDR_LEN];
	size_t n_addresses, n_gateways;
	struct netdev_addr addresses[2], gateways[2];
};

static bool parse_addr(const char *text, bool with_prefix,
		       struct netdev_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long prefix;

	if (strlen(text) >= sizeof(buf))
		return false;
	strcpy(buf, text);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (slash && !with_prefix)
		return false;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = AF_INET6;
	else
		return false;
	prefix = out->family == AF_INET ? 32 : 128;
	if (slash) {
		errno = 0;
		prefix = strtoul(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end ||
		    prefix > (out->family == AF_INET ? 32u : 128u))
			return false;
	} else if (with_prefix) {
		return false;
	}
	out->prefixlen = (unsigned int)prefix;
	return true;
}

static bool parse_mac(const char *text, uint8_t mac[ETHER_ADDR_LEN])
{
	unsigned int b[ETHER_ADDR_LEN];
	char extra;

	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &extra) != ETHER_ADDR_LEN)
		return false;
	for (int i = 0; i < ETHER_ADDR_LEN; i++)
		mac[i] = (uint8_t)b[i];
	/* Ours must be a unicast address that is not all zeros. */
	return !(mac[0] & 1) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] |
				 mac[5]);
}

static bool add_once(struct netdev_addr *list, size_t *n,
		     const struct netdev_addr *a)
{
	for (size_t i = 0; i < *n; i++) {
		if (list[i].family == a->family)
			return false;
	}
	list[(*n)++] = *a;
	return true;
}

static int parse_args(const char *args, struct tap_args *out)
{
	char *copy, *tok, *save = NULL;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		struct netdev_addr a;

		if (strcmp(tok, "proxy-arp") == 0) {
			out->proxy = true;
		} else if (strncmp(tok, "address=", 8) == 0) {
			if (!parse_addr(tok + 8, true, &a) ||
			    !add_once(out->addresses, &out->n_addresses, &a))
				ret = -EINVAL;
		} else if (strncmp(tok, "gateway=", 8) == 0) {
			if (!parse_addr(tok + 8, false, &a) ||
			    !add_once(out->gateways, &out->n_gateways, &a))
				ret = -EINVAL;
		} else if (strncmp(tok, "mac=", 4) == 0) {
			if (!parse_mac(tok + 4, out->mac))
				ret = -EINVAL;
			out->has_mac = true;
		} else {
			ret = -EINVAL;
		}
		/* The daemon's log is not ours: say which option, on the
		 * terminal that started us. */
		if (ret)
			fprintf(stderr, "uniguard: --netdev tap: bad option "
				"'%s' (address=ADDR/LEN, gateway=ADDR, "
				"proxy-arp, mac=MAC; address and gateway "
				"once per family)\n", tok);
	}
	free(copy);
	return ret;
}

/* The ops. */

static int tap_set_up(struct netdev *nd);

static int tap_configure(struct tap *t, const struct tap_args *a)
{
	int ret;

	ether_set_proxy(t->ether, a->proxy);
	for (size_t i = 0; i < a->n_addresses; i++) {
		ret = ether_set_address(t->ether, a->addresses[i].family,
					a->addresses[i].addr,
					a->addresses[i].prefixlen);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < a->n_gateways; i++) {
		ret = ether_set_gateway(t->ether, a->gateways[i].family,
					a->gateways[i].addr);
		if (ret)
			return ret;
	}
	return 0;
}

static int tap_open(struct netdev *nd, const char *want)
{
#ifdef __linux__
	struct tap_args args;
	struct tap *t;
	unsigned int mtu;
	int fd, ret;

	ret = parse_args(nd->args, &args);
	if (ret)
		return ret;
	if (!args.has_mac) {
		if (getrandom(args.mac, sizeof(args.mac), 0) !=
		    (ssize_t)sizeof(args.mac))
			return -errno;
		/* Locally administered, unicast (IEEE 802 U/L and I/G
		 * bits). */
		args.mac[0] = (uint8_t)((args.mac[0] & 0xfc) | 0x02);
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->nd = nd;
	t->tunnel_mtu = TAP_TUNNEL_MTU;
	t->ether = ether_new(args.mac, tap_emit, t);
	if (!t->ether) {
		free(t);
		return -ENOMEM;
	}
	pthread_mutex_init(&t->lock, NULL);
	ret = tap_configure(t, &args);
	if (ret)
		goto fail;

	fd = tuntap_create(want, IFF_TAP | IFF_NO_PI, nd->ifname);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	nd->fd = fd;
	nd->priv = t;

	/* The segment's MTU is the tap interface's (what its bridge
	 * carries); the tunnel's is only remembered, for get_mtu. */
	if (tuntap_get_mtu(nd, &mtu) == 0)
		(void)ether_set_mtu(t->ether, mtu);
	/* Frames flow only on an interface that is up; a bridge port has
	 * nothing else to wait for. */
	(void)tap_set_up(nd);
	return 0;
fail:
	pthread_mutex_destroy(&t->lock);
	ether_free(t->ether);
	free(t);
	return ret;
#else
	(void)nd;
	(void)want;
	return -ENOTSUP;
#endif
}

static ssize_t tap_read(struct netdev *nd, void *buf, size_t len)
{
	struct tap *t = nd->priv;
	enum ether_verdict v;
	size_t off, pkt_len;
	ssize_t n;

	NETDEV_RETRY(n, read(nd->fd, buf, len));
	if (n < 0)
		return netdev_errno();
	pthread_mutex_lock(&t->lock);
	v = ether_input(t->ether, netdev_now_ns(), buf, (size_t)n, &off, &pkt_len);
	pthread_mutex_unlock(&t->lock);
	if (v != ETHER_TO_TUNNEL)
		return 0;	/* answered, learned or not for us */
	memmove(buf, (uint8_t *)buf + off, pkt_len);
	return (ssize_t)pkt_len;
}

static int tap_write(struct netdev *nd, const void *buf, size_t len)
{
	struct tap *t = nd->priv;
	enum ether_verdict v;
	int emit_error;

	pthread_mutex_lock(&t->lock);
	t->emit_error = 0;
	v = ether_output(t->ether, netdev_now_ns(), buf, len);
	emit_error = t->emit_error;
	pthread_mutex_unlock(&t->lock);
	switch (v) {
	case ETHER_SENT:
	case ETHER_QUEUED:
		return emit_error;
	case ETHER_NO_ROUTE:
	case ETHER_LOCAL:
		return -ENETUNREACH;
	case ETHER_UNRESOLVED:
		return -EHOSTUNREACH;
	case ETHER_TOO_BIG:
		return -EMSGSIZE;
	case ETHER_TTL_EXPIRED:
		return -ETIME;
	default:
		return -EINVAL;
	}
}

static int tap_pollfd(const struct netdev *nd)
{
	return nd->fd;
}

static void tap_close(struct netdev *nd)
{
	struct tap *t = nd->priv;

	if (nd->fd >= 0)
		close(nd->fd);
	nd->fd = -1;
	if (t) {
		pthread_mutex_destroy(&t->lock);
		ether_free(t->ether);
		free(t);
	}
	nd->priv = NULL;
}

static int tap_set_mtu(struct netdev *nd, unsigned int mtu)
{
	struct tap *t = nd->priv;

	t->tunnel_mtu = mtu;
	return 0;
}

static int tap_get_mtu(struct netdev *nd, unsigned int *mtu)
{
	const struct tap *t = nd->priv;

	*mtu = t->tunnel_mtu;
	return 0;
}

static int tap_add_address(struct netdev *nd, const struct netdev_addr *a)
{
	struct tap *t = nd->priv;
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = ether_set_address(t->ether, a->family, a->addr, a->prefixlen);
	pthread_mutex_unlock(&t->lock);
	/* One address per family: a second one is refused, not ignored. */
	return ret == -EEXIST ? -EOPNOTSUPP : ret;
}

static int tap_set_up(struct netdev *nd)
{
	struct tap *t = nd->priv;
	int ret;

	ret = tuntap_set_flags(nd, IFF_UP);
	if (ret)
		return ret;
	pthread_mutex_lock(&t->lock);
	ether_announce(t->ether);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static int tap_set_tunnel_routes(struct netdev *nd,
				 const struct netdev_addr *routes, size_t n)
{
	struct tap *t = nd->priv;
	struct ether_prefix *p;
	int ret;

	p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		p[i].family = routes[i].family;
		p[i].len = routes[i].prefixlen;
		memcpy(p[i].addr, routes[i].addr, sizeof(p[i].addr));
	}
	pthread_mutex_lock(&t->lock);
	ret = ether_set_tunnel_routes(t->ether, p, n);
	pthread_mutex_unlock(&t->lock);
	free(p);
	return ret;
}

const struct netdev_ops netdev_tap_ops = {
	.name = "tap",
	.open = tap_open,
	.read = tap_read,
	.write = tap_write,
	.pollfd = tap_pollfd,
	.close = tap_close,
	.set_mtu = tap_set_mtu,
	.get_mtu = tap_get_mtu,
	.add_address = tap_add_address,
	.set_up = tap_set_up,
	.is_up = tuntap_is_up,
	.takes_args = true,
	.set_tunnel_routes = tap_set_tunnel_routes,
};
