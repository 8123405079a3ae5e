/* SPDX-License-Identifier: MIT */
/*
 * The configuration model of config.h: a sparse device change with "has"
 * flags, as the cross-platform configuration protocol
 * (https://www.wireguard.com/xplatform/) describes a set transaction.
 * Allowed-IP prefixes in the notation of RFC 4632 (IPv4) and RFC 4291
 * section 2.3 (IPv6), and the text buffer the emitters write into.
 *
 * Peers hold preshared keys, so their array never goes through realloc: a
 * moved block would leave a copy of every key in freed memory. It is grown
 * by hand and the old block wiped.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "redact.h"

void wg_config_init(struct wg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

static void clear_peer(struct wg_config_peer *peer)
{
	if (peer->endpoint_host) {
		wg_wipe(peer->endpoint_host, strlen(peer->endpoint_host));
		free(peer->endpoint_host);
	}
	free(peer->allowedips);
	wg_wipe(peer, sizeof(*peer));
}

void wg_strlist_clear(struct wg_strlist *list)
{
	for (size_t i = 0; i < list->len; i++) {
		/* Hook commands may carry secrets of their own. */
		wg_wipe(list->items[i], strlen(list->items[i]));
		free(list->items[i]);
	}
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static void clear_quick(struct wg_quick_config *q)
{
	free(q->addresses);
	wg_strlist_clear(&q->dns);
	free(q->table);
	wg_strlist_clear(&q->pre_up);
	wg_strlist_clear(&q->post_up);
	wg_strlist_clear(&q->pre_down);
	wg_strlist_clear(&q->post_down);
	memset(q, 0, sizeof(*q));
}

void wg_config_clear(struct wg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		clear_peer(&cfg->peers[i]);
	if (cfg->peers)
		wg_wipe(cfg->peers, cfg->peers_cap * sizeof(*cfg->peers));
	free(cfg->peers);
	clear_quick(&cfg->quick);
	free(cfg->gateway.http);
	free(cfg->gateway.peers_from);
	wg_wipe(cfg, sizeof(*cfg));
}

struct wg_config_peer *wg_config_add_peer(struct wg_config *cfg)
{
	struct wg_config_peer *peer;

	if (cfg->n_peers == cfg->peers_cap) {
		size_t cap = cfg->peers_cap ? 2 * cfg->peers_cap : 4;
		struct wg_config_peer *grown;

		if (cap > SIZE_MAX / sizeof(*grown))
			return NULL;
		grown = calloc(cap, sizeof(*grown));
		if (!grown)
			return NULL;
		if (cfg->peers) {
			memcpy(grown, cfg->peers,
			       cfg->n_peers * sizeof(*grown));
			wg_wipe(cfg->peers, cfg->peers_cap * sizeof(*grown));
			free(cfg->peers);
		}
		cfg->peers = grown;
		cfg->peers_cap = cap;
	}
	peer = &cfg->peers[cfg->n_peers++];
	memset(peer, 0, sizeof(*peer));
	peer->endpoint.addr.sa.sa_family = AF_UNSPEC;
	return peer;
}

/* Appends to an array of prefixes; they are not secret, so realloc is
 * fine here. */
static int push_allowedip(struct wg_allowedip **arr, size_t *len, size_t *cap,
			  const struct wg_allowedip *aip)
{
	if (*len == *cap) {
		size_t ncap = *cap ? 2 * *cap : 4;
		struct wg_allowedip *grown;

		if (ncap > SIZE_MAX / sizeof(*grown))
			return -ENOMEM;
		grown = realloc(*arr, ncap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		*arr = grown;
		*cap = ncap;
	}
	(*arr)[(*len)++] = *aip;
	return 0;
}

int wg_config_peer_add_allowedip(struct wg_config_peer *peer,
				 const struct wg_allowedip *aip)
{
	return push_allowedip(&peer->allowedips, &peer->n_allowedips,
			      &peer->allowedips_cap, aip);
}

int wg_config_add_address(struct wg_config *cfg, const struct wg_allowedip *aip)
{
	return push_allowedip(&cfg->quick.addresses, &cfg->quick.n_addresses,
			      &cfg->quick.addresses_cap, aip);
}

int wg_strlist_add(struct wg_strlist *list, const char *s, size_t len)
{
	char *copy;

	if (len == SIZE_MAX)
		return -ENOMEM;
	if (list->len == list->cap) {
		size_t ncap = list->cap ? 2 * list->cap : 4;
		char **grown;

		if (ncap > SIZE_MAX / sizeof(*grown))
			return -ENOMEM;
		grown = realloc(list->items, ncap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		list->items = grown;
		list->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, s, len);
	copy[len] = '\0';
	list->items[list->len++] = copy;
	return 0;
}

static unsigned int family_bits(uint8_t family)
{
	return family == AF_INET ? 32 : family == AF_INET6 ? 128 : 0;
}

bool wg_allowedip_mask(struct wg_allowedip *aip)
{
	unsigned int bits = family_bits(aip->family);
	bool had = false;

	for (unsigned int i = 0; i < bits / 8; i++) {
		unsigned int keep = aip->cidr > 8 * i ?
			(aip->cidr - 8 * i >= 8 ? 8 : aip->cidr - 8 * i) : 0;
		uint8_t mask = (uint8_t)(0xff00u >> keep);

		if (aip->addr[i] & ~mask)
			had = true;
		aip->addr[i] &= mask;
	}
	return had;
}

bool wg_allowedip_parse(struct wg_allowedip *aip, const char *text, size_t len,
			bool allow_host_bits)
{
	char buf[INET6_ADDRSTRLEN];
	const char *slash = memchr(text, '/', len);
	size_t addr_len = slash ? (size_t)(slash - text) : len;
	unsigned int cidr = 0;

	memset(aip, 0, sizeof(*aip));
	if (addr_len == 0 || addr_len >= sizeof(buf) || memchr(text, '\0', len))
		return false;
	memcpy(buf, text, addr_len);
	buf[addr_len] = '\0';
	/* The family follows from the text, as in wg: a colon means IPv6. */
	if (memchr(buf, ':', addr_len)) {
		if (inet_pton(AF_INET6, buf, aip->addr) != 1)
			return false;
		aip->family = AF_INET6;
	} else {
		if (inet_pton(AF_INET, buf, aip->addr) != 1)
			return false;
		aip->family = AF_INET;
	}
	if (slash) {
		size_t n = len - addr_len - 1;

		/* At most three digits keeps the sum below any overflow. */
		if (n == 0 || n > 3)
			return false;
		for (size_t i = 0; i < n; i++) {
			char c = slash[1 + i];

			if (c < '0' || c > '9')
				return false;
			cidr = cidr * 10 + (unsigned int)(c - '0');
		}
		if (cidr > family_bits(aip->family))
			return false;
	} else {
		cidr = family_bits(aip->family);
	}
	aip->cidr = (uint8_t)cidr;
	if (!allow_host_bits) {
		struct wg_allowedip masked = *aip;

		if (wg_allowedip_mask(&masked))
			return false;
	}
	return true;
}

void wg_allowedip_format(const struct wg_allowedip *aip, char *buf,
			 size_t buflen)
{
	char addr[INET6_ADDRSTRLEN];

	if (buflen == 0)
		return;
	buf[0] = '\0';
	if (aip->family != AF_INET && aip->family != AF_INET6)
		return;
	if (!inet_ntop(aip->family, aip->addr, addr, sizeof(addr)))
		return;
	if (snprintf(buf, buflen, "%s/%u", addr, (unsigned int)aip->cidr) < 0)
		buf[0] = '\0';
}

/* The keys a UAPI text may begin with after "set=1"; any UAPI key on the
 * first line is enough to tell the format. */
static const char *const uapi_keys[] = {
	"private_key", "listen_port", "fwmark", "replace_peers", "public_key",
	"remove", "update_only", "preshared_key", "endpoint",
	"persistent_keepalive_interval", "replace_allowed_ips", "allowed_ip",
	"protocol_version",
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
	       c == '\n';
}

enum wg_config_format wg_config_detect(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t a = pos, b = end;
		const char *eq;

		pos = end + 1;
		while (a < b && is_blank(text[a]))
			a++;
		while (b > a && is_blank(text[b - 1]))
			b--;
		if (a == b || text[a] == '#')
			continue;
		if (text[a] == '[')
			return WG_CONFIG_FORMAT_INI;
		if (b - a == 5 && memcmp(text + a, "set=1", 5) == 0)
			return WG_CONFIG_FORMAT_UAPI;
		eq = memchr(text + a, '=', b - a);
		if (!eq)
			return WG_CONFIG_FORMAT_UNKNOWN;
		for (size_t i = 0; i < sizeof(uapi_keys) / sizeof(uapi_keys[0]);
		     i++) {
			size_t klen = strlen(uapi_keys[i]);

			/* Exact and lowercase: "PrivateKey=" is not UAPI. */
			if ((size_t)(eq - (text + a)) == klen &&
			    memcmp(text + a, uapi_keys[i], klen) == 0)
				return WG_CONFIG_FORMAT_UAPI;
		}
		return WG_CONFIG_FORMAT_UNKNOWN;
	}
	return WG_CONFIG_FORMAT_UNKNOWN;
}

/* Makes room for need more bytes plus the NUL. The old block may hold keys,
 * so it is wiped rather than handed to realloc. */
static bool buf_reserve(struct wg_buf *b, size_t need)
{
	size_t cap;
	char *grown;

	if (b->oom)
		return false;
	if (need > SIZE_MAX - b->len - 1)
		goto oom;
	if (b->len + need + 1 <= b->cap)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap < b->len + need + 1) {
		if (cap > SIZE_MAX / 2)
			goto oom;
		cap *= 2;
	}
	grown = malloc(cap);
	if (!grown)
		goto oom;
	if (b->data) {
		memcpy(grown, b->data, b->len + 1);
		wg_wipe(b->data, b->cap);
		free(b->data);
	} else {
		grown[0] = '\0';
	}
	b->data = grown;
	b->cap = cap;
	return true;
oom:
	b->oom = true;
	return false;
}

void wg_buf_append(struct wg_buf *b, const char *s, size_t len)
{
	if (!buf_reserve(b, len))
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void wg_buf_printf(struct wg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = true;
		return;
	}
	if (!buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void wg_buf_clear(struct wg_buf *b)
{
	if (b->data) {
		wg_wipe(b->data, b->cap);
		free(b->data);
	}
	memset(b, 0, sizeof(*b));
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-' || c == ' ' ||
	       c == '[' || c == ']';
}

int wg_quotable(const char *value, size_t len)
{
	if (len > WG_QUOTE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (value[i] < 0x20 || value[i] > 0x7e)
			return 0;
	if (wg_may_hold_key(value, len))
		return 0;
	return (int)len;
}

const char *wg_quote(char buf[WG_QUOTE_SIZE], const char *value, size_t len)
{
	bool printable = true;

	if (wg_quotable(value, len) == (int)len) {
		snprintf(buf, WG_QUOTE_SIZE, "`%.*s'", (int)len, value);
		return buf;
	}
	for (size_t i = 0; i < len && printable; i++)
		printable = value[i] >= 0x20 && value[i] <= 0x7e;
	if (!printable)
		snprintf(buf, WG_QUOTE_SIZE, "a value of %zu bytes (not shown: "
			 "not printable)", len);
	else if (wg_may_hold_key(value, len))
		snprintf(buf, WG_QUOTE_SIZE, "a value of %zu characters (not "
			 "shown: it may hold a key)", len);
	else
		snprintf(buf, WG_QUOTE_SIZE, "`%.*s...' (%zu characters)",
			 WG_QUOTE_START, value, len);
	return buf;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

bool wg_text_equal_ci(const char *s, size_t len, const char *word)
{
	if (strlen(word) != len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (ascii_lower(s[i]) != ascii_lower(word[i]))
			return false;
	return true;
}

bool wg_parse_decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

void wg_parse_error_set(struct wg_parse_error *err, unsigned int line,
			const char *key, size_t keylen, const char *fmt, ...)
{
	va_list ap;
	bool show = key && keylen > 0 && keylen < sizeof(err->key);

	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	err->line = line;
	for (size_t i = 0; show && i < keylen; i++)
		show = is_name_char(key[i]);
	/* A name has no '+' or '/' (is_name_char); the rule of redact.h
	 * judges the rest ("PersistentKeepAlive2", a typo, is still shown). */
	show = show && !wg_may_hold_key(key, keylen);
	if (show)
		memcpy(err->key, key, keylen);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

bool wg_config_peer_equal(const struct wg_config_peer *a,
			  const struct wg_config_peer *b)
{
	/* Bits that only describe the record, not the change. */
	const uint32_t ignored = WG_PEER_HAS_STATS | WG_PEER_HAS_ENDPOINT_HOST;
	bool same = true;

	if ((a->flags & ~ignored) != (b->flags & ~ignored))
		return false;
	same &= wg_equal(a->public_key, b->public_key, WG_KEY_LEN);
	if (a->flags & WG_PEER_HAS_PRESHARED_KEY)
		same &= wg_equal(a->preshared_key, b->preshared_key,
				 WG_KEY_LEN);
	if ((a->flags & WG_PEER_HAS_ENDPOINT) &&
	    !wg_endpoint_equal(&a->endpoint, &b->endpoint))
		return false;
	if ((a->flags & WG_PEER_HAS_KEEPALIVE) &&
	    a->persistent_keepalive != b->persistent_keepalive)
		return false;
	if (a->n_allowedips != b->n_allowedips)
		return false;
	for (size_t i = 0; i < a->n_allowedips; i++) {
		const struct wg_allowedip *x = &a->allowedips[i];
		const struct wg_allowedip *y = &b->allowedips[i];

		if (x->family != y->family || x->cidr != y->cidr ||
		    x->remove != y->remove ||
		    memcmp(x->addr, y->addr, family_bits(x->family) / 8) != 0)
			return false;
	}
	return same;
}

bool wg_config_equal(const struct wg_config *a, const struct wg_config *b)
{
	bool same = true;

	if (a->flags != b->flags || a->n_peers != b->n_peers)
		return false;
	if (a->flags & WG_DEVICE_HAS_PRIVATE_KEY)
		same &= wg_equal(a->private_key, b->private_key, WG_KEY_LEN);
	if ((a->flags & WG_DEVICE_HAS_LISTEN_PORT) &&
	    a->listen_port != b->listen_port)
		return false;
	if ((a->flags & WG_DEVICE_HAS_FWMARK) && a->fwmark != b->fwmark)
		return false;
	for (size_t i = 0; i < a->n_peers; i++)
		same &= wg_config_peer_equal(&a->peers[i], &b->peers[i]);
	return same;
}

int wg_text_for_each_line(const char *text, size_t len, wg_line_fn fn, void *ctx)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		int ret = fn(ctx, text + pos, end - pos);

		if (ret)
			return ret;
		pos = end + 1;
	}
	return 0;
}
