/* SPDX-License-Identifier: MIT */
/*
 * The outer UDP socket: RFC 3493 dual-stack (one AF_INET6 socket with
 * IPV6_V6ONLY off carries IPv4 peers as v4-mapped addresses), and the
 * packet-info control messages of RFC 3542 (IPV6_PKTINFO) and Linux's
 * IP_PKTINFO (ip(7)), so that a reply leaves from the local address the peer
 * wrote to. Peers reached over IPv4 are handed to the core as plain AF_INET
 * endpoints, as `wg` prints them. Datagrams leave with "don't fragment":
 * see pmtu.h for why and for what happens to the ones that do not fit.
 * Whether a remembered source still suits its peer is routes.h's question.
 *
 * Batches use recvmmsg and sendmmsg, and on Linux UDP segmentation offload
 * (udp(7): UDP_SEGMENT sends a run of same-size datagrams as one buffer,
 * UDP_GRO receives such runs as one) where the kernel has it.
 */
#include "udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/udp.h>
#endif

#include "sysio.h"

#ifndef SOL_UDP
#define SOL_UDP 17
#endif

/* Big enough for one IPv4 or one IPv6 packet-info message. */
#define UDP_CMSG_SPACE \
	(CMSG_SPACE(sizeof(struct in_pktinfo)) + \
	 CMSG_SPACE(sizeof(struct in6_pktinfo)))
/* And the segment size of a GSO send or a GRO receive. */
#define UDP_BATCH_CMSG_SPACE (UDP_CMSG_SPACE + CMSG_SPACE(sizeof(int)))

/* Socket buffers for bursts of datagrams (many peers at once, a peer's
 * full-speed stream); the kernel caps the unprivileged request at its
 * rmem_max/wmem_max, and a privileged one is granted as asked. */
#define UDP_BUFFER_BYTES (8 << 20)

/* One GSO send: at most this many segments (the kernel's limit on older
 * releases) and this many bytes (an IPv4 datagram's payload). */
#define UDP_GSO_MAX_SEGS 64
#define UDP_GSO_MAX_BYTES 65000
/* How long a full socket buffer may hold a batch up, in all. */
#define UDP_SEND_WAIT_MS 20

static const uint8_t v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

static void set_buffer(int fd, int force, int plain)
{
	int size = UDP_BUFFER_BYTES;

	/* The FORCE variants pass rmem_max when we have CAP_NET_ADMIN. */
	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
}

/* Nanos's network stack leaves the DF flag out of the IPv4 header checksum
 * it computes: a datagram sent with DF set reaches the next hop with a bad
 * checksum and is dropped there.  On Nanos the socket keeps the default. */
static bool df_is_safe(void)
{
	struct utsname un;

	return uname(&un) < 0 || strcmp(un.sysname, "Nanos") != 0;
}

static int open_family(struct netdev_udp *u, int family, uint16_t port)
{
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} addr;
	socklen_t alen;
	int fd, on = 1, off = 0;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&addr, 0, sizeof(addr));
	if (family == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off,
			       sizeof(off)) < 0)
			goto fail;
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on,
			       sizeof(on)) < 0)
			goto fail;
		addr.sin6.sin6_family = AF_INET6;
		addr.sin6.sin6_addr = in6addr_any;
		addr.sin6.sin6_port = htons(port);
		alen = sizeof(addr.sin6);
	} else {
		addr.sin.sin_family = AF_INET;
		addr.sin.sin_addr.s_addr = htonl(INADDR_ANY);
		addr.sin.sin_port = htons(port);
		alen = sizeof(addr.sin);
	}
	/* On a dual-stack socket this asks for IPv4 peers' destination
	 * address too; a platform without it only loses source stickiness. */
	(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
	if (df_is_safe()) {
		int v4 = IP_PMTUDISC_DO, v6 = IPV6_PMTUDISC_DO;

		(void)setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &v4,
				 sizeof(v4));
		if (family == AF_INET6)
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER,
					 &v6, sizeof(v6));
	}
	set_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	set_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
#if defined(UDP_SEGMENT) && defined(UDP_GRO)
	/* A kernel that knows the option for the socket knows it per send.
	 * Reading it back tells it from a kernel that answers 0 to options
	 * it does not know (Nanos does) and would send a GSO buffer as one
	 * datagram. */
	{
		int zero = 0, seg;
		socklen_t len = sizeof(seg);

		u->gso = u->want_gso &&
			 setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero,
				    sizeof(zero)) == 0 &&
			 getsockopt(fd, SOL_UDP, UDP_SEGMENT, &seg, &len) == 0;
		u->gro = u->want_gro &&
			 setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof(on)) == 0;
	}
#endif
	if (bind(fd, (struct sockaddr *)&addr, alen) < 0)
		goto fail;
	if (getsockname(fd, (struct sockaddr *)&addr, &alen) < 0)
		goto fail;
	u->port = ntohs(family == AF_INET6 ? addr.sin6.sin6_port :
			addr.sin.sin_port);
	u->fd = fd;
	u->family = family;
	return 0;
fail:
	{
		int err = -errno;

		close(fd);
		return err;
	}
}

int netdev_udp_open(struct netdev_udp *u, uint16_t port, uint32_t fwmark)
{
	int ret;

	u->fd = -1;
	u->fwmark = 0;
	u->routes = NULL;
	u->gso = u->gro = false;
	ret = open_family(u, AF_INET6, port);
	/* A host without IPv6 at all still serves IPv4 peers. */
	if (ret == -EAFNOSUPPORT || ret == -EADDRNOTAVAIL ||
	    ret == -EPROTONOSUPPORT)
		ret = open_family(u, AF_INET, port);
	if (ret)
		return ret;
	if (fwmark) {
		ret = netdev_udp_set_fwmark(u, fwmark);
		if (ret) {
			netdev_udp_close(u);
			return ret;
		}
	}
	return 0;
}

int netdev_udp_set_fwmark(struct netdev_udp *u, uint32_t fwmark)
{
#ifdef SO_MARK
	if (fwmark == u->fwmark)
		return 0;
	if (setsockopt(u->fd, SOL_SOCKET, SO_MARK, &fwmark,
		       sizeof(fwmark)) < 0)
		return -errno;
	u->fwmark = fwmark;
	return 0;
#else
	return fwmark ? -EOPNOTSUPP : 0;
#endif
}

/* A v4-mapped IPv6 address as the IPv4 address it carries. */
static bool unmap_v4(const struct in6_addr *a6, struct in_addr *a4)
{
	if (memcmp(a6->s6_addr, v4mapped_prefix, 12) != 0)
		return false;
	memcpy(&a4->s_addr, a6->s6_addr + 12, 4);
	return true;
}

static void read_pktinfo(struct msghdr *msg, struct wg_endpoint *from)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == IPPROTO_IP &&
		    c->cmsg_type == IP_PKTINFO &&
		    from->addr.sa.sa_family == AF_INET) {
			struct in_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			from->src.v4 = pi.ipi_addr;
			from->src_ifindex = (unsigned int)pi.ipi_ifindex;
			from->has_src = true;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (from->addr.sa.sa_family == AF_INET6)
				from->src.v6 = pi.ipi6_addr;
			else if (!unmap_v4(&pi.ipi6_addr, &from->src.v4))
				continue;
			from->src_ifindex = pi.ipi6_ifindex;
			from->has_src = true;
		}
	}
}

/* The sender as the core wants it: IPv4 peers as AF_INET. */
static bool read_sender(const struct sockaddr_storage *ss,
			struct wg_endpoint *from)
{
	memset(from, 0, sizeof(*from));
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 =
			(const struct sockaddr_in6 *)ss;
		struct in_addr a4;

		if (unmap_v4(&s6->sin6_addr, &a4)) {
			from->addr.sin.sin_family = AF_INET;
			from->addr.sin.sin_addr = a4;
			from->addr.sin.sin_port = s6->sin6_port;
		} else {
			from->addr.sin6 = *s6;
		}
	} else if (ss->ss_family == AF_INET) {
		from->addr.sin = *(const struct sockaddr_in *)ss;
	} else {
		return false;
	}
	return true;
}

/* The segment size of a GRO receive, or 0. */
static size_t read_gro(struct msghdr *msg)
{
#ifdef UDP_GRO
	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c;
	     c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
			int seg;

			memcpy(&seg, CMSG_DATA(c), sizeof(seg));
			return seg > 0 ? (size_t)seg : 0;
		}
	}
#else
	(void)msg;
#endif
	return 0;
}

int netdev_udp_recv_batch(struct netdev_udp *u, struct netdev_udp_rx *rx,
			  size_t n)
{
	struct mmsghdr msgs[NETDEV_UDP_BATCH];
	struct iovec iov[NETDEV_UDP_BATCH];
	struct sockaddr_storage names[NETDEV_UDP_BATCH];
	union {
		char buf[UDP_BATCH_CMSG_SPACE];
		struct cmsghdr align;
	} control[NETDEV_UDP_BATCH];
	int got;

	if (n > NETDEV_UDP_BATCH)
		n = NETDEV_UDP_BATCH;
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = rx[i].buf;
		iov[i].iov_len = rx[i].cap;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_name = &names[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(names[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_control = control[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
	}
	NETDEV_RETRY(got, recvmmsg(u->fd, msgs, (unsigned int)n, MSG_DONTWAIT,
				   NULL));
	if (got < 0)
		return netdev_errno();
	for (int i = 0; i < got; i++) {
		struct msghdr *msg = &msgs[i].msg_hdr;

		rx[i].len = msgs[i].msg_len;
		rx[i].segment = 0;
		rx[i].err = 0;
		if (!read_sender(&names[i], &rx[i].from))
			rx[i].err = -EAFNOSUPPORT;
		/* A datagram larger than our buffer cannot be a valid
		 * message. */
		else if (msg->msg_flags & MSG_TRUNC)
			rx[i].err = -EMSGSIZE;
		if (rx[i].err)
			continue;
		if (!(msg->msg_flags & MSG_CTRUNC)) {
			read_pktinfo(msg, &rx[i].from);
			rx[i].segment = read_gro(msg);
		}
		if (rx[i].segment >= rx[i].len)
			rx[i].segment = 0;
	}
	return got;
}

static bool is_link_local6(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0xfe && (a->s6_addr[1] & 0xc0) == 0x80;
}

/* Appends a control message (level, type, data) after those msg holds
 * already, in its msg_control buffer. */
static void add_cmsg(struct msghdr *msg, int level, int type,
		     const void *data, size_t len)
{
	struct cmsghdr *c = (struct cmsghdr *)((char *)msg->msg_control +
					       msg->msg_controllen);

	msg->msg_controllen += CMSG_SPACE(len);
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
}

/* Fills the destination (mapped for a dual-stack socket) and, when with_src,
 * the packet-info message naming the source address. */
static int build_msg(const struct netdev_udp *u, const struct wg_endpoint *to,
		     bool with_src, struct sockaddr_in6 *dst6,
		     struct sockaddr_in *dst4, char *control,
		     struct msghdr *msg)
{
	int fam = to->addr.sa.sa_family;

	if (fam == AF_INET && u->family == AF_INET6) {
		memset(dst6, 0, sizeof(*dst6));
		dst6->sin6_family = AF_INET6;
		dst6->sin6_port = to->addr.sin.sin_port;
		memcpy(dst6->sin6_addr.s6_addr, v4mapped_prefix, 12);
		memcpy(dst6->sin6_addr.s6_addr + 12,
		       &to->addr.sin.sin_addr.s_addr, 4);
		msg->msg_name = dst6;
		msg->msg_namelen = sizeof(*dst6);
	} else if (fam == AF_INET) {
		*dst4 = to->addr.sin;
		msg->msg_name = dst4;
		msg->msg_namelen = sizeof(*dst4);
	} else if (fam == AF_INET6 && u->family == AF_INET6) {
		*dst6 = to->addr.sin6;
		msg->msg_name = dst6;
		msg->msg_namelen = sizeof(*dst6);
	} else {
		return -EAFNOSUPPORT;
	}
	msg->msg_control = NULL;
	msg->msg_controllen = 0;
	if (!with_src)
		return 0;

	msg->msg_control = control;
	if (fam == AF_INET) {
		struct in_pktinfo pi;

		/* The source alone; the interface is the routing table's
		 * choice, so a changed route does not strand the reply. */
		memset(&pi, 0, sizeof(pi));
		pi.ipi_spec_dst = to->src.v4;
		add_cmsg(msg, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	} else {
		struct in6_pktinfo pi;

		memset(&pi, 0, sizeof(pi));
		pi.ipi6_addr = to->src.v6;
		/* A link-local source only means something on its link. */
		if (is_link_local6(&to->src.v6))
			pi.ipi6_ifindex = to->src_ifindex;
		add_cmsg(msg, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	return 0;
}

static int send_once(struct netdev_udp *u, const struct wg_endpoint *to,
		     bool with_src, const void *buf, size_t len)
{
	struct sockaddr_in6 dst6;
	struct sockaddr_in dst4;
	union {
		char buf[UDP_CMSG_SPACE];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int ret;

	memset(&control, 0, sizeof(control));
	ret = build_msg(u, to, with_src, &dst6, &dst4, control.buf, &msg);
	if (ret)
		return ret;
	NETDEV_RETRY(n, sendmsg(u->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL));
	if (n < 0)
		return netdev_errno();
	return 0;
}

/* One datagram, from its remembered source if with_src. */
static int send_one(struct netdev_udp *u, const struct wg_endpoint *to,
		    bool with_src, const void *buf, size_t len)
{
	int ret = send_once(u, to, with_src, buf, len);

	/* The remembered source may have been removed since the peer last
	 * wrote to it: fall back to what routing chooses now rather than
	 * failing until the peer writes again. */
	if (ret && ret != -EAGAIN && ret != -EMSGSIZE && with_src)
		ret = send_once(u, to, false, buf, len);
	return ret;
}

int netdev_udp_send(struct netdev_udp *u, const struct wg_endpoint *to,
		    const void *buf, size_t len)
{
	if (u->fd < 0)
		return -EBADF;
	return send_one(u, to, netdev_udp_source_ok(u, to), buf, len);
}

bool netdev_udp_source_ok(struct netdev_udp *u, const struct wg_endpoint *to)
{
	return to->has_src &&
	       netdev_routes_source_fits(u->routes, to, u->fwmark);
}

/* Whether two datagrams leave by the same way: destination and source. */
static bool same_route(const struct netdev_udp_tx *a,
		       const struct netdev_udp_tx *b)
{
	const struct wg_endpoint *x = a->to, *y = b->to;

	if (a->with_src != b->with_src ||
	    x->addr.sa.sa_family != y->addr.sa.sa_family)
		return false;
	if (x->addr.sa.sa_family == AF_INET) {
		if (x->addr.sin.sin_port != y->addr.sin.sin_port ||
		    x->addr.sin.sin_addr.s_addr != y->addr.sin.sin_addr.s_addr)
			return false;
		return !a->with_src || x->src.v4.s_addr == y->src.v4.s_addr;
	}
	if (x->addr.sin6.sin6_port != y->addr.sin6.sin6_port ||
	    x->addr.sin6.sin6_scope_id != y->addr.sin6.sin6_scope_id ||
	    memcmp(&x->addr.sin6.sin6_addr, &y->addr.sin6.sin6_addr, 16))
		return false;
	return !a->with_src || (x->src_ifindex == y->src_ifindex &&
				!memcmp(&x->src.v6, &y->src.v6, 16));
}

/* How many datagrams from tx[0] on can leave as one GSO send: a run to
 * the same place, all of the first's size but the last, which may be
 * shorter. */
static size_t gso_run(const struct netdev_udp *u,
		      const struct netdev_udp_tx *tx, size_t n)
{
	size_t k = 1, bytes = tx[0].len;

	/* Another thread may turn it off (a route that refuses GSO). */
	if (!__atomic_load_n(&u->gso, __ATOMIC_RELAXED))
		return 1;
	while (k < n && k < UDP_GSO_MAX_SEGS &&
	       tx[k - 1].len == tx[0].len && tx[k].len <= tx[0].len &&
	       tx[k].len > 0 && bytes + tx[k].len <= UDP_GSO_MAX_BYTES &&
	       same_route(&tx[0], &tx[k])) {
		bytes += tx[k].len;
		k++;
	}
	return k;
}

/* Waits up to *budget_ms for room in the socket buffer. */
static bool wait_writable(const struct netdev_udp *u, int *budget_ms)
{
	struct pollfd p = { .fd = u->fd, .events = POLLOUT };
	int slice = *budget_ms < 5 ? *budget_ms : 5;

	if (slice <= 0)
		return false;
	*budget_ms -= slice;
	return poll(&p, 1, slice) > 0;
}

void netdev_udp_send_batch(struct netdev_udp *u, struct netdev_udp_tx *tx,
			   size_t n)
{
	struct mmsghdr msgs[NETDEV_UDP_BATCH];
	struct iovec iov[NETDEV_UDP_BATCH * 2];
	struct sockaddr_in6 dst6[NETDEV_UDP_BATCH];
	struct sockaddr_in dst4[NETDEV_UDP_BATCH];
	union {
		char buf[UDP_BATCH_CMSG_SPACE];
		struct cmsghdr align;
	} control[NETDEV_UDP_BATCH];
	size_t first[NETDEV_UDP_BATCH], count[NETDEV_UDP_BATCH];
	int budget_ms = UDP_SEND_WAIT_MS;
	size_t i = 0;

	while (i < n) {
		size_t m = 0, used = 0;

		/* As many messages as fit, each a datagram or a GSO run. */
		while (i < n && m < NETDEV_UDP_BATCH &&
		       used < sizeof(iov) / sizeof(iov[0])) {
			struct msghdr *msg = &msgs[m].msg_hdr;
			size_t k = gso_run(u, tx + i, n - i);

			if (k > sizeof(iov) / sizeof(iov[0]) - used)
				k = sizeof(iov) / sizeof(iov[0]) - used;
			memset(&msgs[m], 0, sizeof(msgs[m]));
			memset(&control[m], 0, sizeof(control[m]));
			if (build_msg(u, tx[i].to, tx[i].with_src, &dst6[m],
				      &dst4[m], control[m].buf, msg) < 0) {
				tx[i].err = -EAFNOSUPPORT;
				i++;
				continue;
			}
			for (size_t j = 0; j < k; j++) {
				iov[used + j].iov_base = (void *)tx[i + j].data;
				iov[used + j].iov_len = tx[i + j].len;
				tx[i + j].err = 0;
			}
			msg->msg_iov = &iov[used];
			msg->msg_iovlen = k;
#ifdef UDP_SEGMENT
			if (k > 1) {
				uint16_t seg = (uint16_t)tx[i].len;

				msg->msg_control = control[m].buf;
				add_cmsg(msg, SOL_UDP, UDP_SEGMENT, &seg,
					 sizeof(seg));
			}
#endif
			first[m] = i;
			count[m] = k;
			used += k;
			i += k;
			m++;
		}

		for (size_t sent = 0; sent < m;) {
			int r;

			NETDEV_RETRY(r, sendmmsg(u->fd, msgs + sent,
						 (unsigned int)(m - sent),
						 MSG_DONTWAIT | MSG_NOSIGNAL));
			if (r > 0) {
				sent += (size_t)r;
				continue;
			}
			if (r < 0 && errno == EWOULDBLOCK &&
			    wait_writable(u, &budget_ms))
				continue;
			/* This message failed: its datagrams one by one
			 * find out which fail and why (a GSO run too big
			 * for the route fails whole with EINVAL, each of
			 * its datagrams with EMSGSIZE). */
			int err = r < 0 ? -errno : -EIO;

			for (size_t j = 0; j < count[sent]; j++) {
				struct netdev_udp_tx *t = &tx[first[sent] + j];

				t->err = err == -EAGAIN ? err :
					 send_one(u, t->to, t->with_src,
						  t->data, t->len);
			}
			/* A route whose device cannot checksum refuses GSO
			 * for good; stop asking. */
			if (err == -EIO && count[sent] > 1)
				__atomic_store_n(&u->gso, false,
						 __ATOMIC_RELAXED);
			sent++;
		}
	}
}

void netdev_udp_close(struct netdev_udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}
