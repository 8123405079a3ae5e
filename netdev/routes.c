/* SPDX-License-Identifier: MIT */
/*
 * Route watching (routes.h) with rtnetlink (rtnetlink(7)): RTM_GETROUTE
 * asks which interface a datagram would leave by, and route and address
 * notifications say when earlier answers may have gone stale. Questions
 * go out on a non-blocking socket; the kernel answers a RTM_GETROUTE
 * while it is being sent, so the answer is normally there to read at once.
 */
#include "routes.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#endif

#define ROUTES_CACHE 64

struct route_verdict {
	uint32_t generation;	/* 0: empty */
	uint32_t mark;
	struct in_addr dst, src;
	unsigned int ifindex;
	uint32_t asked;		/* the unanswered question's number, or 0 */
	bool known;		/* answered: keep holds the verdict */
	bool keep;
};

struct netdev_routes {
	int watch;		/* notifications, for the event loop */
	int query;		/* RTM_GETROUTE questions and answers */
	uint32_t questions;	/* asked so far */
	uint32_t generation;
	struct route_verdict cache[ROUTES_CACHE];
};

struct netdev_routes *netdev_routes_open(void)
{
#ifdef __linux__
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct netdev_routes *r;

	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->generation = 1;
	r->watch = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	r->query = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			  NETLINK_ROUTE);
	if (r->watch < 0 || r->query < 0)
		goto fail;
	sa.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE |
		       RTMGRP_IPV6_IFADDR | RTMGRP_IPV6_ROUTE;
	if (bind(r->watch, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return r;
fail:
	netdev_routes_close(r);
	return NULL;
#else
	return NULL;
#endif
}

int netdev_routes_fd(const struct netdev_routes *r)
{
	return r ? r->watch : -1;
}

void netdev_routes_changed(struct netdev_routes *r)
{
	char buf[8192];

	/* What changed does not matter: every verdict is asked again. */
	while (recv(r->watch, buf, sizeof(buf), MSG_DONTWAIT) > 0 ||
	       errno == ENOBUFS)
		;
	if (++r->generation == 0)
		r->generation = 1;
}

void netdev_routes_close(struct netdev_routes *r)
{
	if (!r)
		return;
	if (r->watch >= 0)
		close(r->watch);
	if (r->query >= 0)
		close(r->query);
	free(r);
}

#ifdef __linux__
static void add_attr(struct nlmsghdr *nh, unsigned short type,
		     const void *data, unsigned short len)
{
	struct rtattr *rta = (struct rtattr *)((char *)nh +
					       NLMSG_ALIGN(nh->nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Asks which interface a datagram from v->src to v->dst (marked v->mark)
 * would leave by; the answer comes to read_answers. Whether it was sent.
 * The question's number names v's slot, so that its answer finds it. */
static bool ask(struct netdev_routes *r, struct route_verdict *v)
{
	uint32_t seq;

	union {
		struct nlmsghdr nh;
		char buf[256];
	} req;
	struct rtmsg *rtm;

	seq = ++r->questions * ROUTES_CACHE + (uint32_t)(v - r->cache);
	if (seq == 0)
		seq = ++r->questions * ROUTES_CACHE;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = seq;
	rtm = NLMSG_DATA(&req.nh);
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 32;
	rtm->rtm_src_len = 32;
	add_attr(&req.nh, RTA_DST, &v->dst, 4);
	add_attr(&req.nh, RTA_SRC, &v->src, 4);
	if (v->mark)
		add_attr(&req.nh, RTA_MARK, &v->mark, 4);
	if (send(r->query, &req, req.nh.nlmsg_len, MSG_DONTWAIT) < 0)
		return false;
	v->asked = seq;
	return true;
}

/* The interface an answer names: its index, or 0 for no route. */
static unsigned long answer_oif(struct nlmsghdr *nh)
{
	struct rtmsg *rtm;
	struct rtattr *rta;
	int alen;

	if (nh->nlmsg_type == NLMSG_ERROR)
		return 0;
	rtm = NLMSG_DATA(nh);
	alen = (int)RTM_PAYLOAD(nh);
	for (rta = RTM_RTA(rtm); RTA_OK(rta, alen); rta = RTA_NEXT(rta, alen)) {
		if (rta->rta_type == RTA_OIF) {
			uint32_t oif;

			memcpy(&oif, RTA_DATA(rta), 4);
			return oif;
		}
	}
	return 0;
}

/* Fills the verdicts whose answers have come, without waiting, until
 * want's has (or none is left). */
static void read_answers(struct netdev_routes *r,
			 const struct route_verdict *want)
{
	union {
		struct nlmsghdr nh;
		char buf[4096];
	} ans;
	ssize_t n;

	while (!want->known) {
		n = recv(r->query, &ans, sizeof(ans), MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == ENOBUFS))
			continue;
		if (n <= 0)
			return;
		for (struct nlmsghdr *nh = &ans.nh; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			struct route_verdict *v =
				&r->cache[nh->nlmsg_seq % ROUTES_CACHE];

			if ((nh->nlmsg_type != NLMSG_ERROR &&
			     nh->nlmsg_type != RTM_NEWROUTE) ||
			    !v->asked || v->asked != nh->nlmsg_seq ||
			    v->generation != r->generation)
				continue;
			v->keep = answer_oif(nh) == v->ifindex;
			v->known = true;
			v->asked = 0;
		}
	}
}
#endif

bool netdev_routes_source_fits(struct netdev_routes *r,
			       const struct wg_endpoint *to, uint32_t fwmark)
{
#ifdef __linux__
	struct route_verdict *v;
	uint32_t h;

	/* IPv6 sources are dropped by the kernel when they go away; for
	 * IPv4 the interface the peer's datagram came in by is known too. */
	if (!r || to->addr.sa.sa_family != AF_INET || !to->src_ifindex)
		return true;
	h = to->addr.sin.sin_addr.s_addr * 2654435761u ^
	    to->src.v4.s_addr ^ to->src_ifindex;
	v = &r->cache[(h >> 16) % ROUTES_CACHE];
	if (v->generation != r->generation || v->mark != fwmark ||
	    v->dst.s_addr != to->addr.sin.sin_addr.s_addr ||
	    v->src.s_addr != to->src.v4.s_addr ||
	    v->ifindex != to->src_ifindex) {
		memset(v, 0, sizeof(*v));
		v->generation = r->generation;
		v->mark = fwmark;
		v->dst = to->addr.sin.sin_addr;
		v->src = to->src.v4;
		v->ifindex = to->src_ifindex;
	}
	if (!v->known && v->asked)
		read_answers(r, v);
	if (!v->known && !v->asked) {
		if (!ask(r, v)) {
			v->generation = 0;	/* not cached: ask next time */
			return true;
		}
		read_answers(r, v);
	}
	/* No answer yet: keep what worked. */
	return v->known ? v->keep : true;
#else
	(void)r;
	(void)to;
	(void)fwmark;
	return true;
#endif
}
