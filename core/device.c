/* SPDX-License-Identifier: MIT */
/*
 * The device: ties identity, peers, tables and timers together, applies
 * configuration changes, and answers for the running state. The semantics
 * of a change follow the cross-platform UAPI (wireguard.com/xplatform).
 */
#include "device.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

void wg_log(struct wg_device *dev, enum wg_log_level level, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	if (!dev->env.log || level > dev->env.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	dev->env.log(dev->env.ctx, level, line);
}

/* A keyed hash of a counter: to anyone without the key as good as a fresh
 * random number, and no system call on a data packet's way (sending one
 * arms a timer with jitter). */
uint64_t wg_device_jitter(struct wg_device *dev, uint64_t max)
{
	uint64_t n = __atomic_add_fetch(&dev->jitter_count, 1,
					__ATOMIC_RELAXED);
	uint64_t r = wg_shorthash(dev->jitter_key, &n, sizeof(n));

	return max ? r % max : 0;
}

void wg_peer_label(const uint8_t public_key[WG_KEY_LEN], char out[16])
{
	char b64[WG_KEY_BASE64_LEN];

	wg_key_to_base64(b64, public_key);
	snprintf(out, 16, "peer %.8s", b64);
}

void *wg_secret_alloc(const struct wg_env *env, size_t len)
{
	if (env->secret_alloc)
		return env->secret_alloc(env->ctx, len);
	return calloc(1, len);
}

void wg_secret_free(const struct wg_env *env, void *p, size_t len)
{
	if (!p)
		return;
	wg_wipe(p, len);
	if (env->secret_free)
		env->secret_free(env->ctx, p, len);
	else
		free(p);
}

struct wg_device *wg_device_new(const struct wg_env *env, uint64_t now)
{
	struct wg_device *dev;
	uint8_t key[16];

	if (!wg_crypto_init())
		return NULL;
	wg_noise_init();
	dev = wg_secret_alloc(env, sizeof(*dev));
	if (!dev)
		return NULL;
	dev->env = *env;
	dev->load_window_start = now;
	env->random(env->ctx, dev->key_hash_secret, sizeof(dev->key_hash_secret));
	env->random(env->ctx, dev->jitter_key, sizeof(dev->jitter_key));
	env->random(env->ctx, key, sizeof(key));
	dev->ratelimit = wg_ratelimit_new(key);
	wg_wipe(key, sizeof(key));
	dev->allowedips = wg_allowedips_new();
	wg_cookie_checker_init(&dev->cookie_checker, NULL);
	if (!dev->ratelimit || !dev->allowedips || wg_peer_tables_reserve(dev, 0) < 0) {
		wg_device_free(dev);
		return NULL;
	}
	return dev;
}

static void remove_all_peers(struct wg_device *dev)
{
	while (dev->peers_head)
		wg_peer_free(dev->peers_head);
}

void wg_device_free(struct wg_device *dev)
{
	struct wg_env env;

	if (!dev)
		return;
	if (dev->key_buckets)
		remove_all_peers(dev);
	wg_allowedips_free(dev->allowedips);
	wg_ratelimit_free(dev->ratelimit);
	free(dev->key_buckets);
	free(dev->index_buckets);
	free(dev->timer_heap);
	env = dev->env;
	wg_secret_free(&env, dev, sizeof(*dev));
}

void wg_device_set_mtu(struct wg_device *dev, uint32_t mtu)
{
	dev->mtu = mtu;
}

static const char *const verdict_names[WG_VERDICT_COUNT] = {
	[WG_OK] = "ok",
	[WG_DROP_MALFORMED] = "drop_malformed",
	[WG_DROP_MAC] = "drop_mac",
	[WG_DROP_COOKIE_SENT] = "drop_cookie_sent",
	[WG_DROP_RATELIMIT] = "drop_ratelimit",
	[WG_DROP_HANDSHAKE] = "drop_handshake",
	[WG_DROP_UNKNOWN_INDEX] = "drop_unknown_index",
	[WG_DROP_KEY] = "drop_key",
	[WG_DROP_REPLAY] = "drop_replay",
	[WG_DROP_SOURCE] = "drop_source",
	[WG_DROP_NO_PEER] = "drop_no_peer",
	[WG_DROP_NO_ENDPOINT] = "drop_no_endpoint",
	[WG_DROP_NO_KEY] = "drop_no_key",
	[WG_DROP_TOO_BIG] = "drop_too_big",
};

const char *wg_verdict_name(int verdict)
{
	if (verdict < 0 || verdict >= WG_VERDICT_COUNT)
		return NULL;
	return verdict_names[verdict];
}

const struct wg_device_stats *wg_device_stats(const struct wg_device *dev)
{
	return &dev->stats;
}

bool wg_device_has_private_key(const struct wg_device *dev)
{
	return dev->local.has_key;
}

bool wg_device_has_peer(const struct wg_device *dev,
			const uint8_t public_key[WG_KEY_LEN])
{
	return wg_peer_lookup(dev, public_key) != NULL;
}

size_t wg_device_peer_stats(const struct wg_device *dev,
			    struct wg_peer_stats *out, size_t max)
{
	size_t i = 0;

	for (const struct wg_peer *p = dev->peers_head; p && i < max;
	     p = p->list_next, i++) {
		struct wg_peer_stats *ps = &out[i];

		memcpy(ps->public_key, p->public_key, WG_KEY_LEN);
		ps->rx_bytes = p->rx_bytes;
		ps->tx_bytes = p->tx_bytes;
		ps->last_handshake_sec = p->last_handshake_sec;
		ps->handshakes = p->handshakes;
		ps->has_session = p->current != NULL;
	}
	return dev->n_peers;
}

uint64_t wg_device_next_deadline(const struct wg_device *dev)
{
	return wg_timers_earliest(dev);
}

uint64_t wg_device_tick(struct wg_device *dev, uint64_t now)
{
	return wg_timers_tick(dev, now);
}

/* Notes, for a caller that asked (report may be NULL), a peer this apply
 * is about to remove; not one this very apply made. */
static void note_removed(struct wg_device *dev, struct wg_apply_report *report,
			 const struct wg_peer *p, enum wg_removal_reason reason)
{
	struct wg_removed_peer *r;

	if (!report || p->made_by_apply == dev->apply_serial)
		return;
	r = &report->removed[report->n_removed++];
	memcpy(r->public_key, p->public_key, WG_KEY_LEN);
	r->reason = reason;
	r->had_session = p->last_handshake_sec != 0;
}

static void set_private_key(struct wg_device *dev, const uint8_t key[WG_KEY_LEN],
			    struct wg_apply_report *report)
{
	struct wg_noise_local next = { 0 };
	struct wg_peer *p, *following;

	if (!wg_is_zero(key, WG_KEY_LEN)) {
		memcpy(next.private_key, key, WG_KEY_LEN);
		wg_x25519_clamp(next.private_key);
		next.has_key = wg_x25519_public(next.public_key, next.private_key);
	}
	if (next.has_key == dev->local.has_key &&
	    wg_equal(next.private_key, dev->local.private_key, WG_KEY_LEN)) {
		wg_wipe(&next, sizeof(next));
		return;
	}
	/* A peer with our own public key makes no sense: it goes. */
	if (next.has_key) {
		for (p = dev->peers_head; p; p = following) {
			following = p->list_next;
			if (!wg_equal(p->public_key, next.public_key, WG_KEY_LEN))
				continue;
			note_removed(dev, report, p, WG_REMOVED_OWN_KEY);
			wg_peer_free(p);
		}
	}
	if (report && dev->local.has_key) {
		report->key_changed = true;
		report->has_key = next.has_key;
		if (next.has_key)
			memcpy(report->public_key, next.public_key, WG_KEY_LEN);
	}
	wg_wipe(&dev->local, sizeof(dev->local));
	dev->local = next;
	wg_wipe(&next, sizeof(next));
	wg_cookie_checker_init(&dev->cookie_checker,
			       dev->local.has_key ? dev->local.public_key : NULL);
	for (p = dev->peers_head; p; p = p->list_next) {
		wg_index_remove(dev, &p->handshake_index);
		wg_noise_handshake_forget_local(&p->handshake);
		wg_peer_expire_keypairs(p);
	}
	wg_log(dev, WG_LOG_INFO, dev->local.has_key ? "private key set" :
						      "private key removed");
}

/* The memory a change needs, set aside before its first step so that no
 * step can fail: the peers it may add (one each, taken in order), and
 * trie nodes (wg_allowedips_reserve). What is not used is freed. */
struct apply_memory {
	void **peers;
	size_t n_peers, used;
};

static void apply_memory_free(struct wg_device *dev, struct apply_memory *m)
{
	for (size_t i = m->used; i < m->n_peers; i++)
		wg_secret_free(&dev->env, m->peers[i], sizeof(struct wg_peer));
	free(m->peers);
	memset(m, 0, sizeof(*m));
	wg_allowedips_release(dev->allowedips);
}

/* Whether a delta entry may make a peer: every entry under replace_peers,
 * else one for a key not there now. A removal in the same delta may take
 * a peer that a later entry makes anew: each removal is counted once more
 * below, for that. Counting too many only sets aside memory not used. */
static bool may_add_peer(const struct wg_device *dev,
			 const struct wg_config *delta,
			 const struct wg_config_peer *cp)
{
	return (delta->flags & WG_DEVICE_REPLACE_PEERS) ||
	       !wg_peer_lookup(dev, cp->public_key);
}

static int apply_memory_reserve(struct wg_device *dev,
				const struct wg_config *delta,
				struct apply_memory *m)
{
	size_t new_peers = 0, prefixes = 0;

	memset(m, 0, sizeof(*m));
	for (size_t i = 0; i < delta->n_peers; i++) {
		const struct wg_config_peer *cp = &delta->peers[i];

		if (cp->flags & WG_PEER_REMOVE) {
			new_peers++;
			continue;
		}
		new_peers += may_add_peer(dev, delta, cp);
		prefixes += cp->n_allowedips;
	}
	if (wg_peer_tables_reserve(dev, dev->n_peers + new_peers) < 0)
		return -ENOMEM;
	if (new_peers) {
		m->peers = calloc(new_peers, sizeof(*m->peers));
		if (!m->peers)
			return -ENOMEM;
	}
	for (; m->n_peers < new_peers; m->n_peers++) {
		m->peers[m->n_peers] = wg_secret_alloc(&dev->env,
						       sizeof(struct wg_peer));
		if (!m->peers[m->n_peers])
			return -ENOMEM;
	}
	/* An insert adds a leaf and at most one branching node. */
	return wg_allowedips_reserve(dev->allowedips, 2 * prefixes);
}

static void apply_allowedips(struct wg_device *dev, struct wg_peer *peer,
			     const struct wg_config_peer *cp)
{
	for (size_t i = 0; i < cp->n_allowedips; i++) {
		const struct wg_allowedip *a = &cp->allowedips[i];
		int family = a->family;
		if (a->remove) {
			/* Removing what the peer does not hold is no error. */
			wg_allowedips_remove(dev->allowedips, family, a->addr, a->cidr,
					     &peer->allowedips);
			continue;
		}
		/* Cannot fail: the nodes are reserved, the prefix parsed. */
		(void)wg_allowedips_insert(dev->allowedips, family, a->addr,
					   a->cidr, &peer->allowedips);
	}
}

static void apply_peer(struct wg_device *dev, const struct wg_config_peer *cp,
		       uint64_t now, struct wg_apply_report *report,
		       struct apply_memory *m)
{
	struct wg_peer *peer = wg_peer_lookup(dev, cp->public_key);

	if (cp->flags & WG_PEER_REMOVE) {
		if (peer) {
			wg_log(dev, WG_LOG_INFO, "%s: removed", peer->label);
			note_removed(dev, report, peer, WG_REMOVED_ON_REQUEST);
			wg_peer_free(peer);
		}
		return;
	}
	if (dev->local.has_key &&
	    wg_equal(cp->public_key, dev->local.public_key, WG_KEY_LEN))
		return;	/* our own key: ignored, as every implementation does */
	if (!peer) {
		if (cp->flags & WG_PEER_UPDATE_ONLY)
			return;
		/* The count above is an upper bound; should it ever fall
		 * short, the peer is allocated here, as before reserving. */
		peer = m->used < m->n_peers ?
			wg_peer_new_in(dev, cp->public_key, m->peers[m->used++]) :
			wg_peer_new(dev, cp->public_key);
		if (!peer)
			return;
		peer->made_by_apply = dev->apply_serial;
		wg_log(dev, WG_LOG_INFO, "%s: added", peer->label);
	}
	if (cp->flags & WG_PEER_HAS_PRESHARED_KEY)
		memcpy(peer->handshake.preshared_key, cp->preshared_key, WG_KEY_LEN);
	if (cp->flags & WG_PEER_HAS_ENDPOINT)
		peer->endpoint = cp->endpoint;
	if (cp->flags & WG_PEER_REPLACE_ALLOWEDIPS)
		wg_allowedips_remove_by_owner(dev->allowedips, &peer->allowedips);
	apply_allowedips(dev, peer, cp);
	if (cp->flags & WG_PEER_HAS_KEEPALIVE) {
		uint16_t old = peer->persistent_keepalive;
		peer->persistent_keepalive = cp->persistent_keepalive;
		if (!peer->persistent_keepalive)
			peer->timers.persistent_keepalive = WG_TIMER_OFF;
		else if (!old && peer->endpoint.addr.sa.sa_family != AF_UNSPEC)
			wg_send_keepalive(peer, now);	/* open the path now */
	}
}

static bool removal_requested(const struct wg_config *delta,
			      const uint8_t public_key[WG_KEY_LEN])
{
	for (size_t i = 0; i < delta->n_peers; i++) {
		if ((delta->peers[i].flags & WG_PEER_REMOVE) &&
		    wg_equal(delta->peers[i].public_key, public_key, WG_KEY_LEN))
			return true;
	}
	return false;
}

/* After the change: a noted peer that is there again (named again, made
 * anew) was not removed, and under replace_peers its session ended all
 * the same; one that replace_peers took and the delta also asked to
 * remove went on request. The sessions a new key ended are those of the
 * peers kept. */
static void finish_report(struct wg_device *dev, const struct wg_config *delta,
			  struct wg_apply_report *report, size_t sessions_before)
{
	bool replace = delta->flags & WG_DEVICE_REPLACE_PEERS;
	size_t kept = 0, gone_with_session = 0;

	for (size_t i = 0; i < report->n_removed; i++) {
		struct wg_removed_peer *r = &report->removed[i];

		if (wg_peer_lookup(dev, r->public_key)) {
			if (replace)
				report->replaced_sessions += r->had_session;
			continue;
		}
		if (r->reason == WG_REMOVED_NOT_LISTED &&
		    removal_requested(delta, r->public_key))
			r->reason = WG_REMOVED_ON_REQUEST;
		gone_with_session += r->had_session;
		report->removed[kept++] = *r;
	}
	report->n_removed = kept;
	if (report->key_changed && !replace)
		report->key_ended_sessions = sessions_before - gone_with_session;
}

int wg_device_apply(struct wg_device *dev, const struct wg_config *delta,
		    uint64_t now, struct wg_parse_error *err)
{
	return wg_device_apply_report(dev, delta, now, err, NULL);
}

void wg_apply_report_clear(struct wg_apply_report *report)
{
	free(report->removed);
	memset(report, 0, sizeof(*report));
}

int wg_device_apply_report(struct wg_device *dev,
			   const struct wg_config *delta, uint64_t now,
			   struct wg_parse_error *err,
			   struct wg_apply_report *report)
{
	struct apply_memory mem;
	size_t sessions_before = 0;
	int ret;

	if (report)
		memset(report, 0, sizeof(*report));

	/* All or nothing: everything that can refuse the change is checked,
	 * and everything it needs is allocated, before the first change.
	 * After that no step can fail, so a refused change leaves the device
	 * as it was, peers, prefixes, port and mark alike. */
	for (size_t i = 0; i < delta->n_peers; i++) {
		const struct wg_config_peer *cp = &delta->peers[i];
		if ((cp->flags & WG_PEER_HAS_ENDPOINT_HOST) &&
		    !(cp->flags & WG_PEER_HAS_ENDPOINT)) {
			wg_parse_error_set(err, 0, "endpoint", 8,
					   "endpoint host name was not resolved");
			return -EINVAL;
		}
	}
	ret = apply_memory_reserve(dev, delta, &mem);
	if (!ret && report && dev->n_peers) {
		/* Only the peers there now can be removed. */
		report->removed = calloc(dev->n_peers, sizeof(*report->removed));
		if (!report->removed)
			ret = -ENOMEM;
	}
	if (ret < 0) {
		apply_memory_free(dev, &mem);
		wg_parse_error_set(err, 0, "public_key", 10, "out of memory");
		return ret;
	}
	if (report)
		for (struct wg_peer *p = dev->peers_head; p; p = p->list_next)
			sessions_before += p->last_handshake_sec != 0;
	dev->apply_serial++;

	if (delta->flags & WG_DEVICE_HAS_PRIVATE_KEY)
		set_private_key(dev, delta->private_key, report);
	if (delta->flags & WG_DEVICE_REPLACE_PEERS) {
		for (struct wg_peer *p = dev->peers_head; p; p = p->list_next)
			note_removed(dev, report, p, WG_REMOVED_NOT_LISTED);
		remove_all_peers(dev);
	}
	for (size_t i = 0; i < delta->n_peers; i++)
		apply_peer(dev, &delta->peers[i], now, report, &mem);
	apply_memory_free(dev, &mem);
	if (delta->flags & WG_DEVICE_HAS_LISTEN_PORT)
		dev->listen_port = delta->listen_port;
	if (delta->flags & WG_DEVICE_HAS_FWMARK)
		dev->fwmark = delta->fwmark;
	if (report)
		finish_report(dev, delta, report, sessions_before);
	return 0;
}

struct get_ctx {
	struct wg_config_peer *cp;
	int ret;
};

static void get_allowedip(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct get_ctx *g = ctx;
	struct wg_allowedip a = { .family = (uint8_t)family, .cidr = cidr };

	memcpy(a.addr, addr, family == AF_INET ? 4 : 16);
	if (wg_config_peer_add_allowedip(g->cp, &a) < 0)
		g->ret = -ENOMEM;
}

int wg_device_get(struct wg_device *dev, struct wg_config *out)
{
	wg_config_init(out);
	if (dev->local.has_key) {
		out->flags |= WG_DEVICE_HAS_PRIVATE_KEY;
		memcpy(out->private_key, dev->local.private_key, WG_KEY_LEN);
	}
	out->flags |= WG_DEVICE_HAS_LISTEN_PORT | WG_DEVICE_HAS_FWMARK;
	out->listen_port = dev->listen_port;
	out->fwmark = dev->fwmark;
	for (struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
		struct wg_config_peer *cp = wg_config_add_peer(out);
		if (!cp)
			goto oom;
		memcpy(cp->public_key, p->public_key, WG_KEY_LEN);
		memcpy(cp->preshared_key, p->handshake.preshared_key, WG_KEY_LEN);
		cp->flags |= WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_KEEPALIVE |
			     WG_PEER_HAS_STATS;
		if (p->endpoint.addr.sa.sa_family != AF_UNSPEC) {
			cp->flags |= WG_PEER_HAS_ENDPOINT;
			cp->endpoint = p->endpoint;
		}
		cp->persistent_keepalive = p->persistent_keepalive;
		cp->last_handshake_sec = p->last_handshake_sec;
		cp->last_handshake_nsec = p->last_handshake_nsec;
		cp->rx_bytes = p->rx_bytes;
		cp->tx_bytes = p->tx_bytes;
		struct get_ctx g = { .cp = cp, .ret = 0 };
		wg_allowedips_for_each(&p->allowedips, get_allowedip, &g);
		if (g.ret < 0)
			goto oom;
	}
	return 0;
oom:
	wg_config_clear(out);
	return -ENOMEM;
}
