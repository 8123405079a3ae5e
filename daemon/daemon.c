/* SPDX-License-Identifier: MIT */
/*
 * The daemon (daemon.h): the environment the protocol core runs in (wg.h).
 * It owns every system call: the inner packet device, the outer UDP socket,
 * the UAPI socket, signals, the clocks and randomness, and one epoll loop
 * whose timeout is the core's next deadline. Start-up follows what wg-quick
 * expects of a userspace implementation (wg-quick(8)): `uniguard IFNAME`
 * returns once the configuration socket listens, and the interface lives on
 * in a detached process.
 */
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conffile.h"
#include "crypto.h"
#include "datapath.h"
#include "log.h"
#include "loop.h"
#include "netdev.h"
#include "pmtu.h"
#include "privs.h"
#include "record.h"
#include "netdev_sync.h"
#include "uapi.h"
#include "uapi_server.h"

/* The interface's MTU unless told otherwise: 1500 less the largest
 * overhead (IPv6 40, UDP 8, WireGuard 32). */
#define DAEMON_DEFAULT_MTU 1420

struct daemon {
	const struct daemon_options *opts;
	int epfd;
	struct wg_env env;
	struct wg_device *dev;
	struct netdev nd;
	struct loop_source tun_src;
	struct netdev_udp udp;
	struct netdev_udp *apply_udp;	/* the socket being configured */
	struct loop_source udp_src;
	struct loop_source sig_src;
	struct netdev_routes *routes;
	struct loop_source routes_src;
	struct uapi_server *uapi;
	struct record *rec;		/* --capture, --keylog, a seed */
	/* The packet path (datapath.h): its threads and the event loop
	 * take this lock around every call into the core. */
	pthread_mutex_t lock;
	struct datapath *dp;
	struct datapath_options dp_opts;
	bool want_gso, want_gro;
	/* The deadline the event loop sleeps towards, and its wake-up for
	 * when the packet path arms an earlier one. */
	uint64_t armed;
	struct loop_source wake_src;
	uint64_t now;
	bool stop;
	bool gone;			/* the packet device went away */
	int status;
	struct datapath_counters counters;
	unsigned int mtu;		/* the interface's, as the core knows it */
	/* Set while an inner packet is being sent, so that a datagram too
	 * big for its route can be answered for that packet. */
	bool in_tun_send;
	unsigned int too_big_route_mtu;
	int too_big_family;
	uint8_t icmp[1280];
};

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The environment the core calls back into. */

static void env_random(void *ctx, void *buf, size_t len)
{
	uint8_t *p = buf;

	(void)ctx;
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			/* No randomness means no safe handshake: stop. */
			log_error("getrandom: %s", strerror(errno));
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

static void env_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = (uint64_t)ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

/* The MTU of the route to `to` as the kernel knows it (learned path MTU
 * included), from a connected throwaway socket; 0 if unknown. */
static unsigned int route_mtu(const struct daemon *d,
			      const struct wg_endpoint *to)
{
	int fam = to->addr.sa.sa_family, fd, mtu = 0;
	socklen_t len = sizeof(mtu);

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

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	struct daemon *d = ctx;
	int ret;

	ret = netdev_udp_send(d->apply_udp ? d->apply_udp : &d->udp, to, data,
			      len);
	if (ret == -EMSGSIZE) {
		/* Larger than the route allows, and we do not let the
		 * kernel fragment it: the inner packet's sender hears. */
		__atomic_fetch_add(&d->counters.udp_too_big, 1,
				   __ATOMIC_RELAXED);
		if (d->in_tun_send) {
			d->too_big_route_mtu = route_mtu(d, to);
			d->too_big_family = to->addr.sa.sa_family;
		}
		log_trace("datagram of %zu bytes too big for the route", len);
		return;
	}
	if (ret) {
		char ep[WG_ENDPOINT_TEXT_MAX];

		__atomic_fetch_add(&d->counters.udp_send_errors, 1,
				   __ATOMIC_RELAXED);
		if (!wg_endpoint_format(to, ep, sizeof(ep)))
			strcpy(ep, "?");
		log_debug("send to %s: %s", ep, strerror(-ret));
	}
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct daemon *d = ctx;
	int ret;

	ret = d->nd.ops->write(&d->nd, packet, len);
	if (ret) {
		__atomic_fetch_add(&d->counters.tun_write_errors, 1,
				   __ATOMIC_RELAXED);
		log_trace("write to %s: %s", d->nd.ifname, strerror(-ret));
	}
}

static void env_log(void *ctx, enum wg_log_level level, const char *line)
{
	(void)ctx;
	log_line(level, line);
}

/* Configuration changes, from -c at start and from every UAPI set. */

/* Applies delta all or nothing. A new listen port (or the first) means a
 * new socket, bound before the core sees the change, so that a port in use
 * refuses the whole transaction; the port the kernel chose for 0 is what
 * the core records, so that get=1 reports it. */
/* A new socket takes the old one's place under the same descriptor
 * number, which the packet path's threads use without the lock. */
static void replace_socket(struct daemon *d, struct netdev_udp *fresh)
{
	bool polled = d->dp && !datapath_threaded(d->dp);

	if (d->udp.fd < 0) {
		/* The first: the packet path starts after it. */
		d->udp = *fresh;
		d->udp_src.fd = d->udp.fd;
		return;
	}
	if (polled)
		loop_del(d->epfd, &d->udp_src);
	if (dup2(fresh->fd, d->udp.fd) < 0) {
		log_error("cannot replace the UDP socket: %s", strerror(errno));
		netdev_udp_close(fresh);
	} else {
		close(fresh->fd);
		/* The fd is the same; the threads read nothing else but the
		 * family (dual-stack both, or IPv4 both: the same too) and
		 * whether GSO works. */
		d->udp.port = fresh->port;
		d->udp.fwmark = fresh->fwmark;
		d->udp.routes = fresh->routes;
		d->udp.gro = fresh->gro;
		__atomic_store_n(&d->udp.gso, fresh->gso, __ATOMIC_RELAXED);
		if (d->udp.family != fresh->family)
			d->udp.family = fresh->family;
	}
	if (polled && loop_add(d->epfd, &d->udp_src, EPOLLIN) < 0)
		log_error("epoll: %s", strerror(errno));
	if (d->dp && datapath_threaded(d->dp))
		datapath_udp_changed(d->dp);
}

/* What a change ends that the core does not spell out: the peers it takes
 * away (with their sessions), whatever the reason, and the sessions a new
 * private key ends. Worked out from the device's own view (get=1) before
 * and after, and only for a change that may end something: adding peers
 * costs nothing extra. */
static bool change_may_end_sessions(const struct wg_config *delta)
{
	if (delta->flags & (WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_REPLACE_PEERS))
		return true;
	for (size_t i = 0; i < delta->n_peers; i++) {
		if (delta->peers[i].flags & WG_PEER_REMOVE)
			return true;
	}
	return false;
}

/* Public keys are no secret: their order may leak. */
static int compare_public_keys(const void *a, const void *b)
{
	return memcmp(a, b, WG_KEY_LEN);
}

static bool removed_by_request(const struct wg_config *delta,
			       const uint8_t key[WG_KEY_LEN])
{
	for (size_t i = 0; i < delta->n_peers; i++) {
		if ((delta->peers[i].flags & WG_PEER_REMOVE) &&
		    !memcmp(delta->peers[i].public_key, key, WG_KEY_LEN))
			return true;
	}
	return false;
}

static void report_removed_peer(const struct wg_config_peer *p,
				const struct wg_config *delta, bool own)
{
	const char *why = "", *what = "it had no session";
	char label[16];

	wg_peer_label(p->public_key, label);
	if (p->last_handshake_sec)
		what = "its sessions and queued packets dropped";
	if (own)
		why = " (its public key is the interface's own under the new "
		      "private key)";
	else if (!removed_by_request(delta, p->public_key) &&
		 (delta->flags & WG_DEVICE_REPLACE_PEERS))
		why = " (not in the new list of peers)";
	log_info("%s removed%s: %s", label, why, what);
}

static void report_changes(struct daemon *d, const struct wg_config *before,
			   const struct wg_config *delta)
{
	uint8_t (*keys)[WG_KEY_LEN] = NULL;
	uint8_t own[WG_KEY_LEN];
	struct wg_config after;
	bool has_own = false, key_changed;
	size_t kept_sessions = 0, replaced_sessions = 0;

	if (wg_device_get(d->dev, &after))
		goto out;
	keys = calloc(after.n_peers ? after.n_peers : 1, WG_KEY_LEN);
	if (!keys)
		goto out;
	for (size_t i = 0; i < after.n_peers; i++)
		memcpy(keys[i], after.peers[i].public_key, WG_KEY_LEN);
	qsort(keys, after.n_peers, WG_KEY_LEN, compare_public_keys);
	if (after.flags & WG_DEVICE_HAS_PRIVATE_KEY)
		has_own = wg_x25519_public(own, after.private_key);
	key_changed = (before->flags & WG_DEVICE_HAS_PRIVATE_KEY) !=
		      (after.flags & WG_DEVICE_HAS_PRIVATE_KEY) ||
		      sodium_memcmp(before->private_key, after.private_key,
				    WG_KEY_LEN) != 0;

	for (size_t i = 0; i < before->n_peers; i++) {
		const struct wg_config_peer *p = &before->peers[i];

		if (bsearch(p->public_key, keys, after.n_peers, WG_KEY_LEN,
			    compare_public_keys)) {
			/* Replacing the peers makes every one anew, those
			 * named again included. */
			if (p->last_handshake_sec &&
			    (delta->flags & WG_DEVICE_REPLACE_PEERS))
				replaced_sessions++;
			else if (p->last_handshake_sec)
				kept_sessions++;
			continue;
		}
		report_removed_peer(p, delta, key_changed && has_own &&
				    sodium_memcmp(p->public_key, own,
						  WG_KEY_LEN) == 0);
	}
	if (replaced_sessions)
		log_info("peers replaced: the sessions of %zu peer%s named "
			 "again dropped; they handshake again",
			 replaced_sessions, replaced_sessions == 1 ? "" : "s");
	if (key_changed && (before->flags & WG_DEVICE_HAS_PRIVATE_KEY)) {
		char b64[WG_KEY_BASE64_LEN];

		if (has_own) {
			/* A whole key would be redacted as if secret: its
			 * head names it, as peers are named. */
			wg_key_to_base64(b64, own);
			log_info("private key changed: the sessions of %zu "
				 "peer%s send no more (what they receive is "
				 "accepted until they expire); each peer must "
				 "handshake again, with the new public key "
				 "%.8s...", kept_sessions,
				 kept_sessions == 1 ? "" : "s", b64);
		} else {
			log_info("private key removed: the sessions of %zu "
				 "peer%s send no more (what they receive is "
				 "accepted until they expire); no handshake "
				 "until a key is set", kept_sessions,
				 kept_sessions == 1 ? "" : "s");
		}
	}
out:
	free(keys);
	wg_config_clear(&after);
}

static int daemon_apply(struct daemon *d, struct wg_config *delta,
			struct wg_parse_error *err)
{
	struct netdev_udp fresh = {
		.fd = -1,
		.want_gso = d->want_gso,
		.want_gro = d->want_gro,
	};
	uint32_t old_mark = d->udp.fwmark, mark = d->udp.fwmark;
	bool rebind = d->udp.fd < 0, had_socket = d->udp.fd >= 0;
	uint16_t port = 0, old_port = d->udp.port;
	struct wg_config before;
	bool report = false;
	int ret;

	if (delta->flags & WG_DEVICE_HAS_FWMARK)
		mark = delta->fwmark;
	if (delta->flags & WG_DEVICE_HAS_LISTEN_PORT) {
		port = delta->listen_port;
		if (d->udp.fd < 0 || port == 0 || port != d->udp.port)
			rebind = true;
	}
	if (rebind) {
		ret = netdev_udp_open(&fresh, port, mark);
		if (ret) {
			if (err) {
				err->line = 0;
				snprintf(err->key, sizeof(err->key), "%s",
					 ret == -EPERM && mark ? "fwmark" :
					 "listen_port");
				/* Nothing of the change applies: say the
				 * port that still serves. */
				if (had_socket)
					snprintf(err->message,
						 sizeof(err->message),
						 "cannot listen on UDP port "
						 "%u: %s; still on port %u",
						 port, strerror(-ret),
						 old_port);
				else
					snprintf(err->message,
						 sizeof(err->message),
						 "cannot listen on UDP port "
						 "%u: %s", port,
						 strerror(-ret));
			}
			return ret;
		}
		fresh.routes = d->routes;
		delta->flags |= WG_DEVICE_HAS_LISTEN_PORT;
		delta->listen_port = fresh.port;
	} else if (mark != d->udp.fwmark) {
		ret = netdev_udp_set_fwmark(&d->udp, mark);
		if (ret) {
			if (err) {
				err->line = 0;
				snprintf(err->key, sizeof(err->key), "fwmark");
				snprintf(err->message, sizeof(err->message),
					 "cannot set mark %" PRIu32 ": %s",
					 mark, strerror(-ret));
			}
			return ret;
		}
	}

	if (change_may_end_sessions(delta))
		report = wg_device_get(d->dev, &before) == 0;
	else
		wg_config_init(&before);
	/* What the core sends while applying (a persistent keepalive's
	 * first packet) leaves from the socket it is being told about. */
	if (rebind)
		d->apply_udp = &fresh;
	ret = wg_device_apply(d->dev, delta, d->now, err);
	d->apply_udp = NULL;
	if (ret) {
		if (rebind)
			netdev_udp_close(&fresh);
		else
			(void)netdev_udp_set_fwmark(&d->udp, old_mark);
		goto out;
	}
	if (report)
		report_changes(d, &before, delta);
	if (rebind) {
		replace_socket(d, &fresh);
		if (had_socket)
			log_info("listen port changed from %u to %u%s: "
				 "nothing listens on %u any more", old_port,
				 d->udp.port, d->udp.family == AF_INET ?
				 " (IPv4 only)" : "", old_port);
		else
			log_info("listening on UDP port %u%s", d->udp.port,
				 d->udp.family == AF_INET ? " (IPv4 only)" :
				 "");
	}
	record_config_changed(d->rec, d->dev);
	netdev_sync_tunnel_routes(&d->nd, d->dev);
out:
	/* It held the private key, or what of it got copied. */
	wg_config_clear(&before);
	/* The two views of a large device (wg setconf with 100,000 peers)
	 * leave the heap that much larger than the device itself needs:
	 * hand the free pages back. */
	if (report)
		(void)malloc_trim(0);
	return ret;
}

/* The port datagrams leave from, for the capture: while a new socket is
 * being applied, already that one's. */
static uint16_t record_port(void *ctx)
{
	const struct daemon *d = ctx;

	return d->apply_udp ? d->apply_udp->port : d->udp.port;
}

static void uapi_get(void *ctx, struct wg_buf *out)
{
	struct daemon *d = ctx;
	struct wg_config cfg;
	int ret;

	ret = wg_device_get(d->dev, &cfg);
	if (ret) {
		wg_config_clear(&cfg);
		wg_uapi_emit_errno(out, ret);
		return;
	}
	wg_uapi_emit_get(out, &cfg);
	wg_config_clear(&cfg);
	if (out->oom) {
		wg_buf_clear(out);
		wg_uapi_emit_errno(out, -ENOMEM);
	}
}

static int uapi_set(void *ctx, struct wg_config *delta,
		    struct wg_parse_error *err)
{
	struct daemon *d = ctx;
	int ret;

	d->now = monotonic_ns();
	ret = daemon_apply(d, delta, err);
	if (!ret)
		log_debug("configuration changed");
	return ret;
}

static void emit_stats(struct daemon *d, struct wg_buf *out)
{
	const struct wg_device_stats *st = wg_device_stats(d->dev);

	for (int i = 0; i < WG_VERDICT_COUNT; i++)
		wg_buf_printf(out, "%s=%" PRIu64 "\n", wg_verdict_name(i),
			      st->verdicts[i]);
	wg_buf_printf(out, "handshakes_initiated=%" PRIu64 "\n",
		      st->handshakes_initiated);
	wg_buf_printf(out, "handshakes_completed=%" PRIu64 "\n",
		      st->handshakes_completed);
	wg_buf_printf(out, "cookies_sent=%" PRIu64 "\n", st->cookies_sent);
	wg_buf_printf(out, "cookies_received=%" PRIu64 "\n",
		      st->cookies_received);
	wg_buf_printf(out, "keepalives_sent=%" PRIu64 "\n",
		      st->keepalives_sent);
	wg_buf_printf(out, "staged_dropped=%" PRIu64 "\n", st->staged_dropped);
	wg_buf_printf(out, "udp_send_errors=%" PRIu64 "\n",
		      d->counters.udp_send_errors);
	wg_buf_printf(out, "udp_recv_errors=%" PRIu64 "\n",
		      d->counters.udp_recv_errors);
	wg_buf_printf(out, "tun_write_errors=%" PRIu64 "\n",
		      d->counters.tun_write_errors);
	wg_buf_printf(out, "udp_too_big=%" PRIu64 "\n",
		      d->counters.udp_too_big);
	wg_buf_printf(out, "tun_dropped=%" PRIu64 "\n",
		      d->counters.tun_dropped);
	wg_buf_printf(out, "handshakes_shed=%" PRIu64 "\n",
		      d->counters.handshakes_shed);
}

static void uapi_stats(void *ctx, struct wg_buf *out)
{
	struct daemon *d = ctx;

	emit_stats(d, out);
	wg_uapi_emit_errno(out, 0);
}

static void uapi_removed(void *ctx)
{
	struct daemon *d = ctx;

	d->stop = true;
}

/* One line of the counters that are not zero, for SIGUSR1 and shutdown. */
static void log_stats(struct daemon *d, enum wg_log_level level)
{
	struct wg_buf b = { 0 }, line = { 0 };
	char *item, *save = NULL;

	emit_stats(d, &b);
	wg_buf_append(&b, "", 1);
	wg_buf_append(&line, "counters:", 9);
	if (b.oom || line.oom)
		goto out;
	for (item = strtok_r(b.data, "\n", &save); item;
	     item = strtok_r(NULL, "\n", &save)) {
		const char *eq = strchr(item, '=');

		if (eq && strcmp(eq, "=0") != 0)
			wg_buf_printf(&line, " %s", item);
	}
	wg_buf_append(&line, "", 1);
	if (!line.oom)
		log_line(level, line.data);
out:
	wg_buf_clear(&b);
	wg_buf_clear(&line);
}

/* Packets. */

static void send_fragment(void *ctx, const uint8_t *frag, size_t len)
{
	struct daemon *d = ctx;

	(void)wg_device_send(d->dev, d->now, frag, len);
}

/* An inner packet whose datagram did not fit its route: split it if IPv4
 * allows, or tell its sender the size that fits, as a router would. Only
 * the first `intact` bytes of it may be left (the packet path cuts TCP
 * super-packets in place): enough to quote, not to split. */
static void answer_too_big(struct daemon *d, const uint8_t *pkt, size_t len,
			   size_t intact)
{
	unsigned int mtu = pmtu_inner_mtu(d->too_big_route_mtu,
					  d->too_big_family);
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

/* The packet path's calls back (datapath.h), all but the last with the
 * lock held. */

static void dp_touched(void *ctx)
{
	struct daemon *d = ctx;

	/* The loop sleeps towards an older deadline: wake it to rearm. */
	if (wg_device_next_deadline(d->dev) < d->armed) {
		d->armed = 0;
		(void)!write(d->wake_src.fd, &(uint64_t){ 1 },
			     sizeof(uint64_t));
	}
}

static void dp_send_slow(void *ctx, uint8_t *pkt, size_t len, uint64_t now)
{
	struct daemon *d = ctx;

	d->now = now;
	d->in_tun_send = true;
	d->too_big_route_mtu = 0;
	record_inner_in(d->rec, pkt, len);
	(void)wg_device_send(d->dev, d->now, pkt, len);
	d->in_tun_send = false;
	if (d->too_big_route_mtu)
		answer_too_big(d, pkt, len, len);
}

static void dp_receive_slow(void *ctx, const struct wg_endpoint *from,
			    uint8_t *data, size_t len, uint64_t now)
{
	struct daemon *d = ctx;

	d->now = now;
	record_outer_in(d->rec, from, data, len);
	(void)wg_device_receive(d->dev, d->now, from, data, len);
}

static void dp_too_big(void *ctx, const struct wg_endpoint *to,
		       const uint8_t *pkt, size_t len, size_t intact,
		       uint64_t now)
{
	struct daemon *d = ctx;

	d->now = now;
	d->too_big_route_mtu = route_mtu(d, to);
	d->too_big_family = to->addr.sa.sa_family;
	log_trace("datagram for a packet of %zu bytes too big for the route",
		  len);
	answer_too_big(d, pkt, len, intact);
}

/* The packet device went away under us (reads answer EBADFD or EIO):
 * someone ran `ip link del`, which is how wg-quick down ends a userspace
 * interface. Its addresses and routes went with it, so there is nothing
 * left to serve: the daemon stops as on SIGTERM (UAPI socket removed, UDP
 * socket closed, keys wiped) with exit status 0, the stop having been
 * asked for by whoever deleted the link. Both packet-path threads may see
 * the error, and a polled device keeps signalling it until the loop ends:
 * one line says it. */
static void dp_gone(void *ctx, int err)
{
	struct daemon *d = ctx;

	if (__atomic_exchange_n(&d->gone, true, __ATOMIC_ACQ_REL))
		return;
	log_info("the %s device %s went away (%s): stopping", d->nd.ops->name,
		 d->nd.ifname, strerror(err));
	__atomic_store_n(&d->stop, true, __ATOMIC_RELEASE);
	(void)!write(d->wake_src.fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

/* Without the packet path's threads, the loop drives it. */

static void tun_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, tun_src);

	(void)events;
	datapath_tun_ready(d->dp);
}

static void udp_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, udp_src);

	(void)events;
	datapath_udp_ready(d->dp);
}

static void wake_ready(struct loop_source *src, uint32_t events)
{
	uint64_t v;

	(void)events;
	(void)!read(src->fd, &v, sizeof(v));
}

/* Tells the core the interface's MTU, which caps its padding, whenever it
 * changed (wg-quick sets it after start-up). An interface moved to another
 * namespace keeps the last value seen. */
static void update_mtu(struct daemon *d)
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
	/* Link changes come on the same socket. */
	update_mtu(d);
}

static void signal_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, sig_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sig_src.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("%s: stopping",
				 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			d->stop = true;
			break;
		case SIGUSR1:
			log_stats(d, WG_LOG_INFO);
			break;
		default:
			break;
		}
	}
}

/* The epoll timeout until deadline: milliseconds rounded up, so that the
 * tick after the wait is never early; -1 for no deadline. */
static int timeout_ms(uint64_t deadline, uint64_t now)
{
	uint64_t ms;

	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

static bool stopped(struct daemon *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

static void run_loop(struct daemon *d)
{
	struct epoll_event events[32];

	while (!stopped(d)) {
		uint64_t deadline;
		int n, timeout;

		pthread_mutex_lock(&d->lock);
		d->now = monotonic_ns();
		deadline = wg_device_next_deadline(d->dev);
		if (deadline <= d->now) {
			deadline = wg_device_tick(d->dev, d->now);
			/* A deadline that does not move is the core's to
			 * fix; do not spin on it. */
			if (deadline <= d->now)
				deadline = d->now + 1000000u;
		}
		d->armed = deadline;
		timeout = timeout_ms(deadline, d->now);
		pthread_mutex_unlock(&d->lock);
		n = epoll_wait(d->epfd, events, 32, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			d->status = 1;
			break;
		}
		for (int i = 0; i < n && !stopped(d); i++) {
			struct loop_source *src = events[i].data.ptr;

			/* The packet path takes the lock itself. */
			if (src == &d->tun_src || src == &d->udp_src) {
				src->ready(src, events[i].events);
				continue;
			}
			pthread_mutex_lock(&d->lock);
			src->ready(src, events[i].events);
			pthread_mutex_unlock(&d->lock);
		}
	}
}

/* Start-up. */

/* Applies a wg-quick file's Address and MTU to the interface, which makes
 * `uniguard -c wg0.conf wg0` a working interface without wg-quick. A
 * backend or platform that configures the interface itself (Nanos, from
 * the image manifest) answers ENODEV: that is not an error. */
static int configure_interface(struct daemon *d, const struct wg_config *cfg)
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
	mtu = q->has_mtu ? q->mtu : DAEMON_DEFAULT_MTU;
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

static int open_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sig_src.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_src.fd < 0)
		return -errno;
	d->sig_src.ready = signal_ready;
	return loop_add(d->epfd, &d->sig_src, EPOLLIN);
}

/* Detaching as wg-quick expects: the parent waits until the child says
 * the interface is ready (or failed), so that `uniguard wg0 && wg setconf`
 * finds the socket. Returns in the child with *notify_fd set; the parent
 * exits here. */
static int detach_begin(int *notify_fd)
{
	int pipefd[2];
	pid_t pid;
	char status;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		ssize_t n;

		close(pipefd[1]);
		do
			n = read(pipefd[0], &status, 1);
		while (n < 0 && errno == EINTR);
		/* Nothing read: the child failed and said why on stderr. */
		_exit(n == 1 && status == 0 ? 0 : 1);
	}
	close(pipefd[0]);
	if (setsid() < 0)
		return -errno;
	*notify_fd = pipefd[1];
	return 0;
}

static void detach_finish(int notify_fd)
{
	char ok = 0;
	int null;

	/* Hold no terminal and no pipe of whoever started us: a caller
	 * reading our output would otherwise wait for our exit. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	(void)chdir("/");
	(void)!write(notify_fd, &ok, 1);
	close(notify_fd);
}

/* The packet path: its two threads, or else the loop drives it. */
static int start_datapath(struct daemon *d)
{
	const struct datapath_host host = {
		.dev = d->dev,
		.lock = &d->lock,
		.nd = &d->nd,
		.udp = &d->udp,
		.counters = &d->counters,
		.ctx = d,
		.touched = dp_touched,
		.send_slow = dp_send_slow,
		.receive_slow = dp_receive_slow,
		.too_big = dp_too_big,
		.gone = dp_gone,
	};
	int ret;

	d->wake_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->wake_src.ready = wake_ready;
	if (d->wake_src.fd < 0 || loop_add(d->epfd, &d->wake_src, EPOLLIN)) {
		log_error("eventfd: %s", strerror(errno));
		return -1;
	}
	d->dp = datapath_new(&host, &d->dp_opts);
	if (!d->dp) {
		log_error("cannot set up the packet path: out of memory");
		return -1;
	}
	ret = datapath_start(d->dp);
	if (!ret) {
		log_debug("packet path: one thread per direction%s%s",
			  d->udp.gso ? ", UDP GSO" : "",
			  d->udp.gro ? ", UDP GRO" : "");
		return 0;
	}
	if (d->dp_opts.threads)
		log_info("packet path without threads: %s", strerror(-ret));
	if (loop_add(d->epfd, &d->tun_src, EPOLLIN) ||
	    loop_add(d->epfd, &d->udp_src, EPOLLIN)) {
		log_error("epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int daemon_start(struct daemon *d, struct wg_config *cfg,
			enum wg_config_format format)
{
	const struct uapi_handler handler = {
		.ctx = d,
		.get = uapi_get,
		.set = uapi_set,
		.stats = uapi_stats,
		.removed = uapi_removed,
	};
	struct wg_parse_error err;
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0) {
		log_error("epoll: %s", strerror(errno));
		return -1;
	}
	ret = open_signals(d);
	if (ret) {
		log_error("signals: %s", strerror(-ret));
		return -1;
	}

	ret = netdev_select(&d->nd, d->opts->netdev);
	if (ret) {
		log_error(ret == -ENOENT ? "no packet backend named %s" :
			  "the packet backend of %s takes no options",
			  d->opts->netdev);
		d->nd.ops = NULL;
		return -1;
	}
	ret = d->nd.ops->open(&d->nd, d->opts->ifname);
	if (ret) {
		log_error("cannot create interface %s: %s", d->opts->ifname,
			  strerror(-ret));
		return -1;
	}
	log_set_ifname(d->nd.ifname);
	if (strcmp(d->nd.ifname, d->opts->ifname) != 0)
		log_info("the system named the interface %s", d->nd.ifname);
	/* WireGuard's usual MTU from the start, as the kernel's device has
	 * it, so that a tunnel nobody configures does not fragment its outer
	 * datagrams; wg-quick or the -c file may change it. */
	if (d->nd.ops->set_mtu) {
		ret = d->nd.ops->set_mtu(&d->nd, DAEMON_DEFAULT_MTU);
		if (ret && ret != -ENODEV)
			log_debug("%s: cannot set MTU %u: %s", d->nd.ifname,
				  DAEMON_DEFAULT_MTU, strerror(-ret));
	}
	d->tun_src.fd = d->nd.ops->pollfd(&d->nd);
	d->tun_src.ready = tun_ready;
	if (d->nd.offload)
		log_debug("%s: checksum and segmentation offloads on",
			  d->nd.ifname);

	/* Optional: without it a remembered source is kept while it exists. */
	d->routes = netdev_routes_open();
	if (d->routes) {
		d->routes_src.fd = netdev_routes_fd(d->routes);
		d->routes_src.ready = routes_ready;
		if (loop_add(d->epfd, &d->routes_src, EPOLLIN) < 0) {
			netdev_routes_close(d->routes);
			d->routes = NULL;
		}
	}

	d->now = monotonic_ns();
	d->dev = wg_device_new(&d->env, d->now);
	if (!d->dev) {
		log_error("cannot create the device");
		return -1;
	}
	/* The config from -c, or none: either way the socket opens here. */
	memset(&err, 0, sizeof(err));
	ret = daemon_apply(d, cfg, &err);
	if (ret) {
		log_error("%s:%u: %s: %s", d->opts->config_path ?
			  d->opts->config_path : "config", err.line,
			  err.key[0] ? err.key : "-",
			  err.message[0] ? err.message : strerror(-ret));
		return -1;
	}
	if (format == WG_CONFIG_FORMAT_INI && configure_interface(d, cfg))
		return -1;
	update_mtu(d);

	ret = uapi_server_open(&d->uapi, d->nd.ifname, d->epfd, &handler);
	if (ret == -EADDRINUSE) {
		log_error("cannot listen on %s/%s.sock: another daemon is "
			  "using it", UAPI_SOCKET_DIR, d->nd.ifname);
		return -1;
	}
	if (ret) {
		log_error("cannot listen on %s/%s.sock: %s", UAPI_SOCKET_DIR,
			  d->nd.ifname, strerror(-ret));
		/* Configured from a file, the interface works without the
		 * socket (a bare image may have nowhere to put it); without
		 * one it could never be configured at all. */
		if (!d->opts->config_path)
			return -1;
		log_error("running on without a configuration socket");
	}
	if (d->opts->drop_privileges) {
		if (d->uapi) {
			ret = privs_spawn_janitor(uapi_server_path(d->uapi));
			if (ret)
				log_info("nobody will remove %s at exit: %s",
					 uapi_server_path(d->uapi),
					 strerror(-ret));
		}
		ret = privs_drop();
		if (ret) {
			log_error("cannot drop privileges: %s (see "
				  "--disable-drop-privileges)", strerror(-ret));
			return -1;
		}
	}
	/* Last: threads take the privileges they are started with. */
	if (start_datapath(d))
		return -1;
	log_info("interface %s ready, UAPI socket %s", d->nd.ifname,
		 d->uapi ? uapi_server_path(d->uapi) : "none");
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	/* The packet path's threads first: they use everything below. */
	datapath_free(d->dp);
	d->dp = NULL;
	/* The socket first, so that no client sees a half-gone interface. */
	uapi_server_close(d->uapi);
	d->uapi = NULL;
	if (d->dev) {
		log_stats(d, WG_LOG_DEBUG);
		wg_device_free(d->dev);
		d->dev = NULL;
	}
	record_close(d->rec);
	d->rec = NULL;
	netdev_udp_close(&d->udp);
	netdev_routes_close(d->routes);
	d->routes = NULL;
	if (d->nd.ops && d->nd.fd >= 0)
		d->nd.ops->close(&d->nd);
	if (d->sig_src.fd >= 0)
		close(d->sig_src.fd);
	if (d->wake_src.fd >= 0)
		close(d->wake_src.fd);
	if (d->epfd >= 0)
		close(d->epfd);
}

int daemon_main(const struct daemon_options *opts)
{
	enum wg_config_format format = WG_CONFIG_FORMAT_UNKNOWN;
	struct wg_config cfg;
	struct daemon *d;
	int notify_fd = -1, ret;

	log_init(opts->verbosity, opts->ifname);
	if (sodium_init() < 0) {
		fprintf(stderr, "uniguard: libsodium cannot start\n");
		return 1;
	}
	/* A bad file stops us before anything is opened. */
	if (opts->config_path) {
		if (conffile_load(opts->config_path, &cfg, &format) < 0) {
			wg_config_clear(&cfg);
			return 1;
		}
	} else {
		wg_config_init(&cfg);
	}
	if (opts->log_path) {
		ret = log_open_file(opts->log_path);
		if (ret) {
			fprintf(stderr, "uniguard: %s: %s\n", opts->log_path,
				strerror(-ret));
			wg_config_clear(&cfg);
			return 1;
		}
	}
	if (!opts->foreground) {
		ret = detach_begin(&notify_fd);
		if (ret) {
			fprintf(stderr, "uniguard: cannot detach: %s\n",
				strerror(-ret));
			wg_config_clear(&cfg);
			return 1;
		}
	}

	d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "uniguard: out of memory\n");
		wg_config_clear(&cfg);
		return 1;
	}
	d->opts = opts;
	d->epfd = -1;
	d->sig_src.fd = -1;
	d->nd.fd = -1;
	d->udp.fd = -1;
	d->udp_src.ready = udp_ready;
	d->udp_src.fd = -1;
	d->wake_src.fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	d->dp_opts = opts->datapath;
	d->want_gso = opts->udp_gso;
	d->want_gro = opts->udp_gro;
	d->nd.want_offload = opts->tun_offload;
	d->nd.tx_queue_len = d->dp_opts.queue;
	d->env = (struct wg_env){
		.ctx = d,
		.random = env_random,
		.wall_clock = env_wall_clock,
		.send = env_send,
		.deliver = env_deliver,
		.log = env_log,
		.log_level = opts->verbosity,
	};
	{
		const struct record_options rec = {
			.capture_path = opts->capture_path,
			.keylog_path = opts->keylog_path,
			.seed = opts->seed,
			.port = record_port,
			.port_ctx = d,
		};

		ret = record_open(&d->rec, &rec, &d->env);
	}
	/* A recorder watches the core's environment: every packet goes
	 * through it then. */
	if (d->rec)
		d->dp_opts.slow = true;
	if (!ret)
		ret = daemon_start(d, &cfg, format);
	wg_config_clear(&cfg);
	if (ret) {
		daemon_stop(d);
		free(d);
		return 1;
	}
	if (notify_fd >= 0) {
		if (!opts->log_path)
			log_use_syslog();
		detach_finish(notify_fd);
	}

	run_loop(d);

	daemon_stop(d);
	ret = d->status;
	log_info("stopped");
	log_close();
	sodium_memzero(d, sizeof(*d));
	free(d);
	return ret;
}
