/* SPDX-License-Identifier: MIT */
/*
 * Applying configuration changes (apply.h). A new listen port (or the
 * first) means a new socket, bound before the core sees the change, so
 * that a port in use refuses the whole transaction. The new socket takes
 * the old one's place before the core applies the change, so that what
 * the core sends while applying (a persistent keepalive's first packet)
 * leaves from it; if the core refuses, the old one is put back.
 */
#include "apply.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon_state.h"
#include "log.h"
#include "netdev_sync.h"

/* The socket file behind d->udp.fd becomes `from`'s (whose descriptor is
 * closed): the packet path's threads use the number without the lock, so
 * it never changes. They read nothing else but the family (dual-stack
 * both, or IPv4 both: the same too) and whether GSO works. 0 or -errno. */
static int put_socket(struct daemon *d, const struct netdev_udp *from)
{
	bool polled = d->dp && !datapath_threaded(d->dp);
	int ret = 0;

	if (polled)
		loop_del(d->epfd, &d->udp_src);
	if (dup2(from->fd, d->udp.fd) < 0) {
		ret = -errno;
	} else {
		d->udp.port = from->port;
		d->udp.fwmark = from->fwmark;
		d->udp.routes = from->routes;
		d->udp.gro = from->gro;
		__atomic_store_n(&d->udp.gso, from->gso, __ATOMIC_RELAXED);
		if (d->udp.family != from->family)
			d->udp.family = from->family;
	}
	close(from->fd);
	if (polled && loop_add(d->epfd, &d->udp_src, EPOLLIN) < 0)
		log_error("epoll: %s", strerror(errno));
	if (d->dp && datapath_threaded(d->dp))
		datapath_udp_changed(d->dp);
	return ret;
}

/* Puts fresh in place, keeping the old socket in *old (fd -1 when there
 * was none). 0 or -errno, and then nothing changed. */
static int install_socket(struct daemon *d, struct netdev_udp *fresh,
			  struct netdev_udp *old)
{
	int ret;

	old->fd = -1;
	if (d->udp.fd < 0) {
		/* The first: the packet path starts after it. */
		d->udp = *fresh;
		d->udp_src.fd = d->udp.fd;
		return 0;
	}
	*old = d->udp;
	old->fd = fcntl(d->udp.fd, F_DUPFD_CLOEXEC, 0);
	if (old->fd < 0) {
		ret = -errno;
		netdev_udp_close(fresh);
		return ret;
	}
	ret = put_socket(d, fresh);
	if (ret) {
		close(old->fd);
		old->fd = -1;
	}
	return ret;
}

/* The change was refused: the old socket back, or none as before. */
static void restore_socket(struct daemon *d, struct netdev_udp *old)
{
	int ret;

	if (old->fd < 0) {
		netdev_udp_close(&d->udp);
		d->udp_src.fd = -1;
		return;
	}
	ret = put_socket(d, old);
	if (ret)
		log_error("cannot put the UDP socket back: %s", strerror(-ret));
}

/* Says what the change ended that the core's own lines do not spell out:
 * the peers it took away (with their sessions), whatever the reason, and
 * the sessions a new private key ends. */
static void report_changes(const struct wg_apply_report *r)
{
	for (size_t i = 0; i < r->n_removed; i++) {
		const struct wg_removed_peer *p = &r->removed[i];
		const char *why = "";
		char label[16];

		wg_peer_label(p->public_key, label);
		if (p->reason == WG_REMOVED_OWN_KEY)
			why = " (its public key is the interface's own under "
			      "the new private key)";
		else if (p->reason == WG_REMOVED_NOT_LISTED)
			why = " (not in the new list of peers)";
		log_info("%s removed%s: %s", label, why, p->had_session ?
			 "its sessions and queued packets dropped" :
			 "it had no session");
	}
	if (r->replaced_sessions)
		log_info("peers replaced: the sessions of %zu peer%s named "
			 "again dropped; they handshake again",
			 r->replaced_sessions,
			 r->replaced_sessions == 1 ? "" : "s");
	if (!r->key_changed)
		return;
	if (r->has_key) {
		char b64[WG_KEY_BASE64_LEN];

		/* A whole key would be redacted as if secret: its head
		 * names it, as peers are named. */
		wg_key_to_base64(b64, r->public_key);
		log_info("private key changed: the sessions of %zu peer%s send "
			 "no more (what they receive is accepted until they "
			 "expire); each peer must handshake again, with the "
			 "new public key %.8s...", r->key_ended_sessions,
			 r->key_ended_sessions == 1 ? "" : "s", b64);
	} else {
		log_info("private key removed: the sessions of %zu peer%s send "
			 "no more (what they receive is accepted until they "
			 "expire); no handshake until a key is set",
			 r->key_ended_sessions,
			 r->key_ended_sessions == 1 ? "" : "s");
	}
}

int apply_config(struct daemon *d, struct wg_config *delta,
		 struct wg_parse_error *err)
{
	struct netdev_udp fresh = {
		.fd = -1,
		.want_gso = d->want_gso,
		.want_gro = d->want_gro,
	};
	struct netdev_udp old = { .fd = -1 };
	struct wg_apply_report report;
	uint32_t old_mark = d->udp.fwmark, mark = d->udp.fwmark;
	bool rebind = d->udp.fd < 0, had_socket = d->udp.fd >= 0;
	uint16_t port = 0, old_port = d->udp.port;
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
			const char *key = ret == -EPERM && mark ? "fwmark" :
					  "listen_port";
			size_t keylen = strlen(key);

			/* Nothing of the change applies: say the port that
			 * still serves. */
			if (had_socket)
				wg_parse_error_set(err, 0, key, keylen,
						   "cannot listen on UDP port "
						   "%u: %s; still on port %u",
					   port, strerror(-ret), old_port);
			else
				wg_parse_error_set(err, 0, key, keylen,
						   "cannot listen on UDP port "
						   "%u: %s", port,
						   strerror(-ret));
			return ret;
		}
		fresh.routes = d->routes;
		delta->flags |= WG_DEVICE_HAS_LISTEN_PORT;
		delta->listen_port = fresh.port;
		ret = install_socket(d, &fresh, &old);
		if (ret) {
			wg_parse_error_set(err, 0, "listen_port", 11,
					   "cannot replace the UDP socket: %s",
					   strerror(-ret));
			return ret;
		}
	} else if (mark != d->udp.fwmark) {
		ret = netdev_udp_set_fwmark(&d->udp, mark);
		if (ret) {
			wg_parse_error_set(err, 0, "fwmark", 6,
					   "cannot set mark %" PRIu32 ": %s",
					   mark, strerror(-ret));
			return ret;
		}
	}

	ret = wg_device_apply_report(d->dev, delta, d->now, err, &report);
	if (ret) {
		if (rebind)
			restore_socket(d, &old);
		else
			(void)netdev_udp_set_fwmark(&d->udp, old_mark);
		goto out;
	}
	if (old.fd >= 0)
		close(old.fd);
	report_changes(&report);
	if (rebind && had_socket)
		log_info("listen port changed from %u to %u%s: nothing listens "
			 "on %u any more", old_port, d->udp.port,
			 d->udp.family == AF_INET ? " (IPv4 only)" : "",
			 old_port);
	else if (rebind)
		log_info("listening on UDP port %u%s", d->udp.port,
			 d->udp.family == AF_INET ? " (IPv4 only)" : "");
	record_config_changed(d->rec, d->dev);
	netdev_sync_tunnel_routes(&d->nd, d->dev);
out:
	wg_apply_report_clear(&report);
	return ret;
}

void apply_close_socket(struct daemon *d)
{
	netdev_udp_close(&d->udp);
}

uint16_t apply_record_port(void *ctx)
{
	const struct daemon *d = ctx;

	return d->udp.port;
}
