/* SPDX-License-Identifier: MIT */
/*
 * Answering inner packets too big for their route (too_big.h), with the
 * ICMP messages and fragments pmtu.c builds.
 */
#include "too_big.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_state.h"
#include "log.h"
#include "pmtu.h"

unsigned int too_big_route_mtu(const struct daemon *d,
			       const struct wg_endpoint *to)
{
	int fam = to->addr.sa.sa_family, fd, mtu = 0;
	socklen_t len = sizeof(mtu);

	/* A connected throwaway socket asks the kernel's routing. */
	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
#ifdef SO_MARK
	if (d->udp.fwmark)
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &d->udp.fwmark,
				 sizeof(d->udp.fwmark));
#endif
	if (connect(fd, &to->addr.sa, fam == AF_INET6 ?
		    sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in)) < 0 ||
	    getsockopt(fd, fam == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
		       fam == AF_INET6 ? IPV6_MTU : IP_MTU, &mtu, &len) < 0)
		mtu = 0;
	close(fd);
	return mtu > 0 ? (unsigned int)mtu : 0;
}

static void send_fragment(void *ctx, const uint8_t *frag, size_t len)
{
	struct daemon *d = ctx;

	(void)wg_device_send(d->dev, d->now, frag, len);
}

void too_big_answer(struct daemon *d, unsigned int route_mtu, int family,
		    const uint8_t *pkt, size_t len, size_t intact)
{
	unsigned int mtu = pmtu_inner_mtu(route_mtu, family);
	size_t n;

	if (!mtu || len <= mtu)
		return;
	if (intact == len && pmtu_can_fragment4(pkt, len) &&
	    pmtu_fragment4(pkt, len, mtu, send_fragment, d) == 0)
		return;
	n = pmtu_build_too_big(pkt, intact, mtu, d->icmp, sizeof(d->icmp));
	if (n && d->nd.ops->write(&d->nd, d->icmp, n) == 0)
		log_debug("told a sender the path fits %u bytes", mtu);
}
