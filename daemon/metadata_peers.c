/* SPDX-License-Identifier: MIT */
/*
 * Peers from a metadata attribute (metadata_peers.h): the text read by the
 * core's wg-quick parser, then held to what an attribute may say, and the
 * change computed as `wg syncconf` computes it, for the attribute's own
 * peers only; the set of peers metadata owns, and the guard that keeps
 * them through a change made elsewhere.
 */
#include "metadata_peers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "crypto.h"
#include "wgconf.h"

#define SOURCE_PREFIX "gce-metadata"

bool metadata_source_parse(const char *spec, char *attr)
{
	size_t plen = strlen(SOURCE_PREFIX), len;
	const char *name;

	if (strncmp(spec, SOURCE_PREFIX, plen) != 0)
		return false;
	if (spec[plen] == '\0') {
		strcpy(attr, METADATA_DEFAULT_ATTRIBUTE);
		return true;
	}
	if (spec[plen] != ':')
		return false;
	name = spec + plen + 1;
	len = strlen(name);
	if (len == 0 || len > METADATA_ATTRIBUTE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	memcpy(attr, name, len + 1);
	return true;
}

static int attribute_line(void *ctx, const char *line, size_t len)
{
	struct wg_conf_parser *p = ctx;
	int ret = wg_conf_line(p, line, len);

	if (ret) {
		/* Wherever it stood, say what is wrong with it here. */
		if (strcasecmp(p->err.key, "PrivateKey") == 0)
			wg_parse_error_set(&p->err, p->line, "PrivateKey", 10,
					   "a private key never comes from "
					   "metadata: it stays in the image's "
					   "configuration");
		return ret;
	}
	if (p->interface_line) {
		/* The parser took the line: free what it holds. */
		(void)wg_conf_end(p);
		wg_parse_error_set(&p->err, p->line, "[Interface]", 11,
				   "only [Peer] sections: the interface and "
				   "its private key stay in the image's "
				   "configuration");
		return -EINVAL;
	}
	return 0;
}

/* What the core's parser takes but an attribute may not say. */
static int check_peer(const struct wg_config_peer *peer,
		      struct wg_parse_error *err)
{
	if (peer->flags & WG_PEER_HAS_ENDPOINT_HOST) {
		wg_parse_error_set(err, peer->line, "Endpoint", 8,
				   "a host name: peers from metadata give "
				   "an address (the gateway resolves no "
				   "names)");
		return -EINVAL;
	}
	if (!(peer->flags & WG_PEER_REPLACE_ALLOWEDIPS)) {
		wg_parse_error_set(err, peer->line, "AllowedIPs", 10,
				   "'+' and '-' entries: the attribute "
				   "gives each peer's whole list");
		return -EINVAL;
	}
	return 0;
}

int metadata_peers_parse(const char *text, size_t len, struct wg_config *peers,
			 struct wg_parse_error *err)
{
	struct wg_conf_parser p;
	int ret;

	wg_config_init(peers);
	wg_conf_begin(&p, peers);
	/* The attribute changes peers only, never the interface. */
	peers->flags = 0;
	ret = wg_text_for_each_line(text, len, attribute_line, &p);
	if (!ret)
		ret = wg_conf_end(&p);
	if (ret) {
		*err = p.err;
		goto out;
	}
	for (size_t i = 0; i < peers->n_peers; i++) {
		ret = check_peer(&peers->peers[i], err);
		if (ret)
			goto out;
	}
out:
	wg_wipe(&p, sizeof(p));
	return ret;
}

/* memcmp: a public key is no secret, and the constant-time compare costs
 * enough that an attribute of thousands of peers took seconds. */
static const struct wg_config_peer *find_peer(const struct wg_config *cfg,
					      const uint8_t *key)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (memcmp(cfg->peers[i].public_key, key, WG_KEY_LEN) == 0)
			return &cfg->peers[i];
	return NULL;
}

/* The whole peer into p (an entry of a change): what the attribute leaves
 * out is set to nothing, so that a key or a keepalive taken out of it
 * goes. */
static int set_whole_peer(struct wg_config_peer *p,
			  const struct wg_config_peer *src)
{
	p->n_allowedips = 0;
	p->flags = (src->flags & WG_PEER_HAS_ENDPOINT) |
		   WG_PEER_REPLACE_ALLOWEDIPS | WG_PEER_HAS_PRESHARED_KEY |
		   WG_PEER_HAS_KEEPALIVE;
	memcpy(p->public_key, src->public_key, WG_KEY_LEN);
	if (src->flags & WG_PEER_HAS_PRESHARED_KEY)
		memcpy(p->preshared_key, src->preshared_key, WG_KEY_LEN);
	p->endpoint = src->endpoint;
	p->persistent_keepalive = src->persistent_keepalive;
	p->line = src->line;
	for (size_t i = 0; i < src->n_allowedips; i++)
		if (wg_config_peer_add_allowedip(p, &src->allowedips[i]))
			return -ENOMEM;
	return 0;
}

static int add_whole_peer(struct wg_config *delta,
			  const struct wg_config_peer *src)
{
	struct wg_config_peer *p = wg_config_add_peer(delta);

	return p ? set_whole_peer(p, src) : -ENOMEM;
}

int metadata_peers_delta(const struct wg_config *had,
			 const struct wg_config *want,
			 const struct wg_config *fixed, struct wg_config *delta,
			 size_t *changes, struct wg_parse_error *err)
{
	int ret;

	wg_config_init(delta);
	*changes = 0;
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct wg_config_peer *w = &want->peers[i];
		const struct wg_config_peer *h = find_peer(had, w->public_key);

		if (find_peer(fixed, w->public_key)) {
			wg_parse_error_set(err, w->line, "PublicKey", 9,
					   "a peer of the image's "
					   "configuration, which metadata "
					   "does not change");
			return -EINVAL;
		}
		if (h && wg_config_peer_equal(h, w))
			continue;
		ret = add_whole_peer(delta, w);
		if (ret) {
			wg_parse_error_set(err, w->line, NULL, 0,
					   "out of memory");
			return ret;
		}
	}
	for (size_t i = 0; i < had->n_peers; i++) {
		const struct wg_config_peer *h = &had->peers[i];
		struct wg_config_peer *p;

		if (find_peer(want, h->public_key))
			continue;
		p = wg_config_add_peer(delta);
		if (!p) {
			wg_parse_error_set(err, 0, NULL, 0, "out of memory");
			return -ENOMEM;
		}
		p->flags = WG_PEER_REMOVE;
		memcpy(p->public_key, h->public_key, WG_KEY_LEN);
	}
	*changes = delta->n_peers;
	return 0;
}

/* Public keys compare with memcmp here: they are no secret, and a binary
 * search over them keeps the checks that run under the core's lock short
 * for an attribute of thousands of peers. */
static int key_order(const void *a, const void *b)
{
	return memcmp(a, b, WG_KEY_LEN);
}

/* Where key is, or would go, in the sorted keys. */
static size_t owned_place(const struct metadata_owned *owned,
			  const uint8_t *key, bool *found)
{
	size_t lo = 0, hi = owned->n;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = key_order(owned->keys[mid], key);

		if (cmp == 0) {
			*found = true;
			return mid;
		}
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool metadata_owned_has(const struct metadata_owned *owned, const uint8_t *key)
{
	bool found;

	(void)owned_place(owned, key, &found);
	return found;
}

int metadata_owned_reserve(struct metadata_owned *owned, size_t extra)
{
	size_t cap = owned->cap ? owned->cap : 8;
	void *grown;

	while (cap - owned->n < extra)
		cap *= 2;
	if (cap == owned->cap)
		return 0;
	grown = realloc(owned->keys, cap * sizeof(*owned->keys));
	if (!grown)
		return -ENOMEM;
	owned->keys = grown;
	owned->cap = cap;
	return 0;
}

int metadata_owned_add(struct metadata_owned *owned, const uint8_t *key)
{
	bool found;
	size_t at = owned_place(owned, key, &found);

	if (found)
		return 0;
	if (metadata_owned_reserve(owned, 1))
		return -ENOMEM;
	memmove(owned->keys[at + 1], owned->keys[at],
		(owned->n - at) * sizeof(*owned->keys));
	memcpy(owned->keys[at], key, WG_KEY_LEN);
	owned->n++;
	return 0;
}

void metadata_owned_remove(struct metadata_owned *owned, const uint8_t *key)
{
	bool found;
	size_t at = owned_place(owned, key, &found);

	if (!found)
		return;
	owned->n--;
	memmove(owned->keys[at], owned->keys[at + 1],
		(owned->n - at) * sizeof(*owned->keys));
}

void metadata_owned_clear(struct metadata_owned *owned)
{
	free(owned->keys);
	memset(owned, 0, sizeof(*owned));
}

static bool names_peer(const struct wg_config *set, const uint8_t *key)
{
	return find_peer(set, key) != NULL;
}

/* The peers metadata added are kept through a reload rather than put back
 * after it: `wg syncconf` removes each with a plain remove, which is
 * dropped here, so their sessions go on; put back afterwards, each would
 * be made anew and its client cut off until it handshakes again (up to
 * some 15 s, or 2 min where the client sends nothing). */
int metadata_peers_guard(struct wg_config *set, const struct wg_config *running,
			 const struct metadata_owned *owned,
			 void (*kept)(void *ctx, const uint8_t *key),
			 void *ctx)
{
	bool replace = set->flags & WG_DEVICE_REPLACE_PEERS;
	size_t named = set->n_peers;

	for (size_t i = 0; i < named; i++) {
		struct wg_config_peer *p = &set->peers[i];
		const struct wg_config_peer *h;

		if (!(p->flags & WG_PEER_REMOVE) ||
		    !metadata_owned_has(owned, p->public_key))
			continue;
		h = find_peer(running, p->public_key);
		if (replace && h) {
			/* Named under replace_peers: made anew, whole. */
			if (set_whole_peer(p, h))
				return -ENOMEM;
		} else {
			/* Nothing: an update of no field, of a peer that is
			 * there (or, gone another way, stays gone). */
			p->flags = WG_PEER_UPDATE_ONLY;
			p->n_allowedips = 0;
		}
		kept(ctx, p->public_key);
	}
	if (!replace)
		return 0;
	for (size_t i = 0; i < owned->n; i++) {
		const struct wg_config_peer *h = find_peer(running,
							   owned->keys[i]);

		if (!h || names_peer(set, owned->keys[i]))
			continue;
		if (add_whole_peer(set, h))
			return -ENOMEM;
		kept(ctx, owned->keys[i]);
	}
	return 0;
}
