/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform userspace configuration protocol
 * (https://www.wireguard.com/xplatform/): the "set=1" transaction parsed
 * line by line into a config delta, and the texts that travel on the UAPI
 * socket: a set as `wg setconf` writes it, and the answer to "get=1".
 *
 * Accepting and refusing follow the reference userspace server, since the
 * stock tools are written against it: keys and values are case-sensitive
 * and untrimmed, numbers are plain decimal, a line without '=' is a protocol
 * error (-EPROTO) and everything else wrong is -EINVAL. Device keys are only
 * valid before the first public_key. Allowed IPs need a prefix length; host
 * bits are accepted and cleared, as a device clears them when it inserts.
 */
#include "uapi.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"


static int fail(struct wg_uapi_parser *p, int ret, const char *key,
		size_t klen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static int fail(struct wg_uapi_parser *p, int ret, const char *key,
		size_t klen, const char *fmt, ...)
{
	char msg[sizeof(p->err.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wg_parse_error_set(&p->err, p->line, key, klen, "%s", msg);
	return ret;
}

static bool is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

static bool is_device_key(const char *key, size_t klen)
{
	return is(key, klen, "private_key") || is(key, klen, "listen_port") ||
	       is(key, klen, "fwmark") || is(key, klen, "replace_peers");
}

static bool is_peer_key(const char *key, size_t klen)
{
	return is(key, klen, "remove") || is(key, klen, "update_only") ||
	       is(key, klen, "preshared_key") || is(key, klen, "endpoint") ||
	       is(key, klen, "persistent_keepalive_interval") ||
	       is(key, klen, "replace_allowed_ips") ||
	       is(key, klen, "allowed_ip") || is(key, klen, "protocol_version");
}

void wg_uapi_set_begin(struct wg_uapi_parser *p, struct wg_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
}

static int device_line(struct wg_uapi_parser *p, const char *key, size_t klen,
		       const char *value, size_t vlen)
{
	struct wg_config *cfg = p->cfg;
	uint64_t n;

	if (is(key, klen, "private_key")) {
		/* All zeros is valid: it removes the key. */
		if (!wg_key_from_hex(cfg->private_key, value, vlen))
			return fail(p, -EINVAL, key, klen,
				    "not a key of 64 hex digits");
		cfg->flags |= WG_DEVICE_HAS_PRIVATE_KEY;
	} else if (is(key, klen, "listen_port")) {
		if (!wg_parse_decimal(value, vlen, UINT16_MAX, &n))
			return fail(p, -EINVAL, key, klen,
				    "%s is not a port (0-65535)",
				    WG_QUOTE(value, vlen));
		cfg->listen_port = (uint16_t)n;
		cfg->listen_port_line = p->line;
		cfg->flags |= WG_DEVICE_HAS_LISTEN_PORT;
	} else if (is(key, klen, "fwmark")) {
		if (!wg_parse_decimal(value, vlen, UINT32_MAX, &n))
			return fail(p, -EINVAL, key, klen,
				    "%s is not a mark (0-4294967295)",
				    WG_QUOTE(value, vlen));
		cfg->fwmark = (uint32_t)n;
		cfg->fwmark_line = p->line;
		cfg->flags |= WG_DEVICE_HAS_FWMARK;
	} else if (is(key, klen, "replace_peers")) {
		if (!is(value, vlen, "true"))
			return fail(p, -EINVAL, key, klen,
				    "the only value is \"true\"");
		cfg->flags |= WG_DEVICE_REPLACE_PEERS;
	} else if (is_peer_key(key, klen)) {
		return fail(p, -EINVAL, key, klen,
			    "a peer key before any public_key");
	} else {
		return fail(p, -EINVAL, key, klen, "unknown device key");
	}
	return 0;
}

static int allowed_ip_line(struct wg_uapi_parser *p, const char *key,
			   size_t klen, const char *value, size_t vlen)
{
	struct wg_allowedip aip;
	bool remove = false;
	const char *text = value;
	size_t len = vlen;

	if (len > 0 && text[0] == '-') {
		remove = true;
		text++;
		len--;
	}
	/* A prefix length is required here, unlike in a wg-quick file. */
	if (!memchr(text, '/', len) ||
	    !wg_allowedip_parse(&aip, text, len, true))
		return fail(p, -EINVAL, key, klen,
			    "%s is not an address/prefix-length",
			    WG_QUOTE(value, vlen));
	wg_allowedip_mask(&aip);
	aip.remove = remove;
	if (wg_config_peer_add_allowedip(p->peer, &aip))
		return fail(p, -ENOMEM, key, klen, "out of memory");
	return 0;
}

static int peer_line(struct wg_uapi_parser *p, const char *key, size_t klen,
		     const char *value, size_t vlen)
{
	struct wg_config_peer *peer = p->peer;
	uint64_t n;

	if (is(key, klen, "remove")) {
		if (!is(value, vlen, "true"))
			return fail(p, -EINVAL, key, klen,
				    "the only value is \"true\"");
		peer->flags |= WG_PEER_REMOVE;
	} else if (is(key, klen, "update_only")) {
		if (!is(value, vlen, "true"))
			return fail(p, -EINVAL, key, klen,
				    "the only value is \"true\"");
		peer->flags |= WG_PEER_UPDATE_ONLY;
	} else if (is(key, klen, "preshared_key")) {
		if (!wg_key_from_hex(peer->preshared_key, value, vlen))
			return fail(p, -EINVAL, key, klen,
				    "not a key of 64 hex digits");
		peer->flags |= WG_PEER_HAS_PRESHARED_KEY;
	} else if (is(key, klen, "endpoint")) {
		if (!wg_endpoint_parse(&peer->endpoint, value, vlen))
			return fail(p, -EINVAL, key, klen,
				    "%s is not a numeric address:port",
				    WG_QUOTE(value, vlen));
		peer->flags |= WG_PEER_HAS_ENDPOINT;
	} else if (is(key, klen, "persistent_keepalive_interval")) {
		if (!wg_parse_decimal(value, vlen, UINT16_MAX, &n))
			return fail(p, -EINVAL, key, klen,
				    "%s is not a number of seconds "
				    "(0-65535)",
				    WG_QUOTE(value, vlen));
		peer->persistent_keepalive = (uint16_t)n;
		peer->flags |= WG_PEER_HAS_KEEPALIVE;
	} else if (is(key, klen, "replace_allowed_ips")) {
		if (!is(value, vlen, "true"))
			return fail(p, -EINVAL, key, klen,
				    "the only value is \"true\"");
		peer->flags |= WG_PEER_REPLACE_ALLOWEDIPS;
	} else if (is(key, klen, "allowed_ip")) {
		return allowed_ip_line(p, key, klen, value, vlen);
	} else if (is(key, klen, "protocol_version")) {
		if (!is(value, vlen, "1"))
			return fail(p, -EINVAL, key, klen,
				    "only protocol version 1 exists");
	} else if (is_device_key(key, klen)) {
		return fail(p, -EINVAL, key, klen,
			    "a device key after a peer's public_key");
	} else {
		return fail(p, -EINVAL, key, klen, "unknown peer key");
	}
	return 0;
}

int wg_uapi_set_line(struct wg_uapi_parser *p, const char *line, size_t len)
{
	const char *eq, *value;
	size_t klen, vlen;

	p->line++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (p->ended) {
		if (len == 0)
			return 0;
		return fail(p, -EPROTO, NULL, 0,
			    "text after the blank line that ends the set");
	}
	if (len == 0) {
		p->ended = true;
		return 0;
	}
	if (p->line == 1 && is(line, len, "set=1"))
		return 0;
	eq = memchr(line, '=', len);
	if (!eq)
		return fail(p, -EPROTO, NULL, 0, "not a key=value line");
	klen = (size_t)(eq - line);
	value = eq + 1;
	vlen = len - klen - 1;

	if (is(line, klen, "public_key")) {
		uint8_t pub[WG_KEY_LEN];
		struct wg_config_peer *peer;

		if (!wg_key_from_hex(pub, value, vlen))
			return fail(p, -EINVAL, line, klen,
				    "not a key of 64 hex digits");
		peer = wg_config_add_peer(p->cfg);
		if (!peer) {
			wg_wipe(pub, sizeof(pub));
			return fail(p, -ENOMEM, line, klen, "out of memory");
		}
		memcpy(peer->public_key, pub, sizeof(pub));
		wg_wipe(pub, sizeof(pub));
		peer->line = p->line;
		p->peer = peer;
		return 0;
	}
	if (!p->peer)
		return device_line(p, line, klen, value, vlen);
	return peer_line(p, line, klen, value, vlen);
}

int wg_uapi_set_end(struct wg_uapi_parser *p)
{
	/* The transaction may end at the blank line or at the end of the
	 * input; either is complete. Nothing spans lines. */
	(void)p;
	return 0;
}

static int set_line(void *ctx, const char *line, size_t len)
{
	return wg_uapi_set_line(ctx, line, len);
}

int wg_uapi_parse_set(const char *text, size_t len, struct wg_config *cfg,
		      struct wg_parse_error *err)
{
	struct wg_uapi_parser p;
	int ret;

	wg_uapi_set_begin(&p, cfg);
	ret = wg_text_for_each_line(text, len, set_line, &p);
	if (!ret)
		ret = wg_uapi_set_end(&p);
	if (ret && err)
		*err = p.err;
	return ret;
}

static void emit_key(struct wg_buf *b, const char *name,
		     const uint8_t key[WG_KEY_LEN])
{
	char hex[WG_KEY_HEX_LEN];

	wg_key_to_hex(hex, key);
	wg_buf_printf(b, "%s=%s\n", name, hex);
	wg_wipe(hex, sizeof(hex));
}

static void emit_endpoint(struct wg_buf *b, const struct wg_config_peer *peer)
{
	char text[WG_ENDPOINT_TEXT_MAX];

	if (!(peer->flags & WG_PEER_HAS_ENDPOINT))
		return;
	if (wg_endpoint_format(&peer->endpoint, text, sizeof(text)))
		wg_buf_printf(b, "endpoint=%s\n", text);
}

void wg_uapi_emit_set(struct wg_buf *b, const struct wg_config *cfg)
{
	wg_buf_printf(b, "set=1\n");
	if (cfg->flags & WG_DEVICE_HAS_PRIVATE_KEY)
		emit_key(b, "private_key", cfg->private_key);
	if (cfg->flags & WG_DEVICE_HAS_LISTEN_PORT)
		wg_buf_printf(b, "listen_port=%u\n",
			      (unsigned int)cfg->listen_port);
	if (cfg->flags & WG_DEVICE_HAS_FWMARK)
		wg_buf_printf(b, "fwmark=%" PRIu32 "\n", cfg->fwmark);
	if (cfg->flags & WG_DEVICE_REPLACE_PEERS)
		wg_buf_printf(b, "replace_peers=true\n");

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wg_config_peer *peer = &cfg->peers[i];

		emit_key(b, "public_key", peer->public_key);
		if (peer->flags & WG_PEER_REMOVE) {
			wg_buf_printf(b, "remove=true\n");
			continue;
		}
		if (peer->flags & WG_PEER_UPDATE_ONLY)
			wg_buf_printf(b, "update_only=true\n");
		if (peer->flags & WG_PEER_HAS_PRESHARED_KEY)
			emit_key(b, "preshared_key", peer->preshared_key);
		emit_endpoint(b, peer);
		if (peer->flags & WG_PEER_HAS_KEEPALIVE)
			wg_buf_printf(b, "persistent_keepalive_interval=%u\n",
				      (unsigned int)peer->persistent_keepalive);
		if (peer->flags & WG_PEER_REPLACE_ALLOWEDIPS)
			wg_buf_printf(b, "replace_allowed_ips=true\n");
		for (size_t j = 0; j < peer->n_allowedips; j++) {
			const struct wg_allowedip *aip = &peer->allowedips[j];
			char text[WG_ALLOWEDIP_TEXT_MAX];

			wg_allowedip_format(aip, text, sizeof(text));
			if (text[0])
				wg_buf_printf(b, "allowed_ip=%s%s\n",
					      aip->remove ? "-" : "", text);
		}
	}
	wg_buf_printf(b, "\n");
}

void wg_uapi_emit_get(struct wg_buf *b, const struct wg_config *cfg)
{
	static const uint8_t zero_key[WG_KEY_LEN];

	if (!wg_is_zero(cfg->private_key, WG_KEY_LEN))
		emit_key(b, "private_key", cfg->private_key);
	if (cfg->listen_port)
		wg_buf_printf(b, "listen_port=%u\n",
			      (unsigned int)cfg->listen_port);
	if (cfg->fwmark)
		wg_buf_printf(b, "fwmark=%" PRIu32 "\n", cfg->fwmark);

	for (size_t i = 0; i < cfg->n_peers; i++) {
		const struct wg_config_peer *peer = &cfg->peers[i];

		emit_key(b, "public_key", peer->public_key);
		emit_key(b, "preshared_key",
			 (peer->flags & WG_PEER_HAS_PRESHARED_KEY) ?
				 peer->preshared_key : zero_key);
		wg_buf_printf(b, "protocol_version=1\n");
		emit_endpoint(b, peer);
		wg_buf_printf(b, "last_handshake_time_sec=%" PRIu64 "\n",
			      peer->last_handshake_sec);
		wg_buf_printf(b, "last_handshake_time_nsec=%" PRIu32 "\n",
			      peer->last_handshake_nsec);
		wg_buf_printf(b, "tx_bytes=%" PRIu64 "\n", peer->tx_bytes);
		wg_buf_printf(b, "rx_bytes=%" PRIu64 "\n", peer->rx_bytes);
		wg_buf_printf(b, "persistent_keepalive_interval=%u\n",
			      (unsigned int)peer->persistent_keepalive);
		for (size_t j = 0; j < peer->n_allowedips; j++) {
			const struct wg_allowedip *aip = &peer->allowedips[j];
			char text[WG_ALLOWEDIP_TEXT_MAX];

			/* A removal is a change, not state: a full config
			 * has none. */
			if (aip->remove)
				continue;
			wg_allowedip_format(aip, text, sizeof(text));
			if (text[0])
				wg_buf_printf(b, "allowed_ip=%s\n", text);
		}
	}
	wg_buf_printf(b, "errno=0\n\n");
}

void wg_uapi_emit_errno(struct wg_buf *b, int err)
{
	wg_buf_printf(b, "errno=%d\n\n", err);
}
