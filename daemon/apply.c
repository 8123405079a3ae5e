/* SPDX-License-Identifier: MIT */
/*
 * Applying configuration changes (apply.h). A new listen port (or the
 * first) means a new socket, bound before the core sees the change, so
 * that a port in use refuses the whole transaction.
 */
#include "apply.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto.h"
#include "daemon_state.h"
#include "log.h"
#include "netdev_sync.h"

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

int apply_config(struct daemon *d, struct wg_config *delta,
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

uint16_t apply_record_port(void *ctx)
{
	const struct daemon *d = ctx;

	return d->apply_udp ? d->apply_udp->port : d->udp.port;
}

void apply_close_socket(struct daemon *d)
{
	netdev_udp_close(&d->udp);
}
