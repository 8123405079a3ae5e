/* SPDX-License-Identifier: MIT */
/*
 * Answering inner packets too big for their route (too_big.h), with the
 * ICMP messages and fragments pmtu.c builds.
 */
#include "too_big.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_state.h"
#include "event_loop.h"
#include "log.h"
#include "sysio.h"
#include "pmtu.h"

/* The kernel forgets a learned path MTU after ten minutes; ask again
 * well before that. */
#define ROUTE_MTU_MAX_AGE_NS (10ull * 1000000000u)

/* The MTU of the route to `to`, from a connected throwaway socket; 0 if
 * unknown. System calls: never under the core's lock. */
static unsigned int ask_route_mtu(const struct wg_endpoint *to,
				  uint32_t fwmark)
{
	int fam = to->addr.sa.sa_family, fd, mtu = 0;
	socklen_t len = sizeof(mtu);

	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
#ifdef SO_MARK
	if (fwmark)
		(void)setsockopt(fd, SOL_SOCKET, SO_MARK, &fwmark,
				 sizeof(fwmark));
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

static bool same_destination(const struct wg_endpoint *a,
			     const struct wg_endpoint *b)
{
	if (a->addr.sa.sa_family != b->addr.sa.sa_family)
		return false;
	if (a->addr.sa.sa_family == AF_INET)
		return a->addr.sin.sin_addr.s_addr ==
		       b->addr.sin.sin_addr.s_addr;
	return !memcmp(&a->addr.sin6.sin6_addr, &b->addr.sin6.sin6_addr,
		       sizeof(a->addr.sin6.sin6_addr)) &&
	       a->addr.sin6.sin6_scope_id == b->addr.sin6.sin6_scope_id;
}

static struct too_big_route *cached(struct too_big *tb,
				    const struct wg_endpoint *to,
				    uint32_t fwmark)
{
	for (size_t i = 0; i < TOO_BIG_CACHE; i++) {
		struct too_big_route *r = &tb->cache[i];

		if (r->fwmark == fwmark && same_destination(&r->to, to))
			return r;
	}
	return NULL;
}

static void send_fragment(void *ctx, const uint8_t *frag, size_t len)
{
	struct daemon *d = ctx;

	(void)wg_device_send(d->dev, d->now, frag, len);
}

/* Splits the packet or tells its sender, for an inner MTU that it does
 * not fit. */
static void answer(struct daemon *d, unsigned int mtu, const uint8_t *pkt,
		   size_t len, size_t intact)
{
	size_t n;

	if (intact == len && pmtu_can_fragment4(pkt, len) &&
	    pmtu_fragment4(pkt, len, mtu, send_fragment, d) == 0)
		return;
	n = pmtu_build_too_big(pkt, intact, mtu, d->too_big.icmp,
			       sizeof(d->too_big.icmp));
	if (n && d->nd.ops->write(&d->nd, d->too_big.icmp, n) == 0)
		log_debug("told a sender the path fits %u bytes", mtu);
}

void too_big_answer(struct daemon *d, const struct wg_endpoint *to,
		    const uint8_t *pkt, size_t len, size_t intact)
{
	struct too_big *tb = &d->too_big;
	const struct too_big_route *r = cached(tb, to, d->udp.fwmark);
	int family = to->addr.sa.sa_family;

	/* An answer it would fit is out of date: the kernel learned a
	 * smaller path since. */
	if (r && r->mtu && d->now < r->asked + ROUTE_MTU_MAX_AGE_NS &&
	    len > pmtu_inner_mtu(r->mtu, family)) {
		answer(d, pmtu_inner_mtu(r->mtu, family), pkt, len, intact);
		return;
	}
	if (__atomic_load_n(&tb->waiting, __ATOMIC_ACQUIRE))
		return;		/* one at a time; its sender sends again */
	tb->waiting_to = *to;
	tb->waiting_len = len;
	tb->waiting_intact = intact;
	memcpy(tb->waiting_pkt, pkt, intact);
	__atomic_store_n(&tb->waiting, true, __ATOMIC_RELEASE);
	event_loop_wake(d);
}

void too_big_answer_waiting(struct daemon *d)
{
	struct too_big *tb = &d->too_big;
	struct too_big_route *r;
	uint32_t fwmark;
	unsigned int route_mtu, mtu;

	if (!__atomic_load_n(&tb->waiting, __ATOMIC_ACQUIRE))
		return;
	/* Only this thread changes the mark (configuration). */
	fwmark = d->udp.fwmark;
	route_mtu = ask_route_mtu(&tb->waiting_to, fwmark);

	pthread_mutex_lock(&d->lock);
	d->now = netdev_now_ns();
	r = cached(tb, &tb->waiting_to, fwmark);
	if (!r) {
		r = &tb->cache[tb->next_slot++ % TOO_BIG_CACHE];
		r->to = tb->waiting_to;
		r->fwmark = fwmark;
	}
	r->mtu = route_mtu;
	r->asked = d->now;
	mtu = pmtu_inner_mtu(route_mtu, tb->waiting_to.addr.sa.sa_family);
	if (mtu && tb->waiting_len > mtu)
		answer(d, mtu, tb->waiting_pkt, tb->waiting_len,
		       tb->waiting_intact);
	__atomic_store_n(&tb->waiting, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->lock);
}

void too_big_forget_routes(struct daemon *d)
{
	memset(d->too_big.cache, 0, sizeof(d->too_big.cache));
}
