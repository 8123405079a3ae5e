/* SPDX-License-Identifier: MIT */
/*
 * The wg-quick configuration file, as wg(8) ("CONFIGURATION FILE FORMAT")
 * and wg-quick(8) describe it: [Interface] and [Peer] sections of
 * "Key = Value" lines, keys matched without regard to case.
 *
 * Two readers share that file and this parser follows each for its own
 * keys. wg drops everything after '#' and every whitespace character of a
 * line, so "Listen Port = 5 1820" is ListenPort 51820 to it, and so here.
 * wg-quick takes its keys (Address, DNS, MTU, Table, SaveConfig and the
 * hooks) out of the [Interface] section first, trimming only around the
 * value; the hooks get the raw text after '=', '#' included, because it is
 * handed to a shell that knows what a comment is.
 *
 * The resulting flags are those `wg setconf` builds: the device replaces
 * its private key (zero when the file has none), port, mark and peers; each
 * peer replaces its allowed IPs unless a "+" or "-" entry makes the change
 * incremental.
 */
#include "wgconf.h"
#include "wgconf_priv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "keyset.h"

/* OWNER_GATEWAY: uniguard's own keys, read as wg-quick's are. */
enum key_owner { OWNER_WG, OWNER_QUICK, OWNER_GATEWAY };

struct key_info {
	const char *name;
	int section;		/* WG_CONF_INTERFACE or WG_CONF_PEER */
	enum key_owner owner;
	bool repeatable;
};

#define IFACE WG_CONF_INTERFACE	/* keeps the table in 80 columns */

static const struct key_info keys[KEY_COUNT] = {
	[KEY_PRIVATE_KEY] = { "PrivateKey", IFACE, OWNER_WG, false },
	[KEY_LISTEN_PORT] = { "ListenPort", IFACE, OWNER_WG, false },
	[KEY_FWMARK] = { "FwMark", IFACE, OWNER_WG, false },
	[KEY_PUBLIC_KEY] = { "PublicKey", WG_CONF_PEER, OWNER_WG, false },
	[KEY_PRESHARED_KEY] = { "PresharedKey", WG_CONF_PEER, OWNER_WG, false },
	[KEY_ALLOWED_IPS] = { "AllowedIPs", WG_CONF_PEER, OWNER_WG, true },
	[KEY_ENDPOINT] = { "Endpoint", WG_CONF_PEER, OWNER_WG, false },
	[KEY_PERSISTENT_KEEPALIVE] = { "PersistentKeepalive", WG_CONF_PEER,
				       OWNER_WG, false },
	[KEY_ADDRESS] = { "Address", IFACE, OWNER_QUICK, true },
	[KEY_DNS] = { "DNS", IFACE, OWNER_QUICK, true },
	[KEY_MTU] = { "MTU", IFACE, OWNER_QUICK, false },
	[KEY_TABLE] = { "Table", IFACE, OWNER_QUICK, false },
	[KEY_PRE_UP] = { "PreUp", IFACE, OWNER_QUICK, true },
	[KEY_POST_UP] = { "PostUp", IFACE, OWNER_QUICK, true },
	[KEY_PRE_DOWN] = { "PreDown", IFACE, OWNER_QUICK, true },
	[KEY_POST_DOWN] = { "PostDown", IFACE, OWNER_QUICK, true },
	[KEY_SAVE_CONFIG] = { "SaveConfig", IFACE, OWNER_QUICK, false },
	[KEY_HTTP] = { "HTTP", IFACE, OWNER_GATEWAY, false },
	[KEY_LOG_COUNTERS] = { "LogCounters", IFACE, OWNER_GATEWAY, false },
	[KEY_PEERS_FROM] = { "PeersFrom", IFACE, OWNER_GATEWAY, false },
};

static_assert(KEY_COUNT <= 32, "p->seen is a 32-bit set");

int wg_conf_fail(struct wg_conf_parser *p, int ret, unsigned int line,
		 const char *key, size_t klen, const char *fmt, ...)
{
	char msg[sizeof(p->err.message)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wg_parse_error_set(&p->err, line, key, klen, "%s", msg);
	return ret;
}

int wg_conf_copy_value(struct wg_conf_parser *p, const char *key,
		       size_t klen, const char *value, size_t vlen, char **out)
{
	*out = malloc(vlen + 1);
	if (!*out)
		return wg_conf_fail(p, -ENOMEM, p->line, key, klen,
				    "out of memory");
	memcpy(*out, value, vlen);
	(*out)[vlen] = '\0';
	return 0;
}

static void trim(const char **s, size_t *len)
{
	while (*len > 0 && wg_conf_is_space((*s)[0])) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && wg_conf_is_space((*s)[*len - 1]))
		(*len)--;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool is_ci(const char *s, size_t len, const char *word)
{
	return wg_text_equal_ci(s, len, word);
}

/* Copies s without its whitespace into out (len + 1 bytes). */
static size_t compact(char *out, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (!wg_conf_is_space(s[i]))
			out[n++] = s[i];
	out[n] = '\0';
	return n;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* "off", decimal, or hex after a lowercase "0x", as wg reads a mark. */
static bool parse_fwmark(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (is_ci(s, len, "off")) {
		*out = 0;
		return true;
	}
	if (len > 2 && s[0] == '0' && s[1] == 'x') {
		for (size_t i = 2; i < len; i++) {
			int d = hex_digit(s[i]);

			if (d < 0)
				return false;
			v = v * 16 + (uint64_t)d;
			if (v > UINT32_MAX)
				return false;
		}
		*out = (uint32_t)v;
		return true;
	}
	if (!wg_parse_decimal(s, len, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

void wg_conf_begin(struct wg_conf_parser *p, struct wg_config *cfg)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	p->section = WG_CONF_NONE;
	cfg->flags |= WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_HAS_LISTEN_PORT |
		      WG_DEVICE_HAS_FWMARK | WG_DEVICE_REPLACE_PEERS;
}

static struct wg_config_peer *current_peer(struct wg_conf_parser *p)
{
	return &p->cfg->peers[p->cfg->n_peers - 1];
}

/* Leaving a section: a peer is only a peer with its public key. */
static int finish_section(struct wg_conf_parser *p)
{
	if (p->section == WG_CONF_PEER &&
	    !(p->seen & (1u << KEY_PUBLIC_KEY)))
		return wg_conf_fail(p, -EINVAL, current_peer(p)->line,
				    "PublicKey", 9,
				    "this [Peer] has no PublicKey");
	return 0;
}

static int section_line(struct wg_conf_parser *p, const char *s, size_t len)
{
	char name[16];
	size_t n;
	int ret;

	/* Sections are matched on the line without its whitespace, as wg
	 * does: "[ Peer ]" is [Peer]. */
	if (len >= sizeof(name))
		return wg_conf_fail(p, -EINVAL, p->line, NULL, 0,
				    "unknown section (only [Interface] and "
				    "[Peer])");
	n = compact(name, s, len);
	if (!is_ci(name, n, "[Interface]") && !is_ci(name, n, "[Peer]"))
		return wg_conf_fail(p, -EINVAL, p->line, name, n,
				    "unknown section (only [Interface] and "
				    "[Peer])");
	ret = finish_section(p);
	if (ret)
		return ret;
	p->seen = 0;
	if (is_ci(name, n, "[Interface]")) {
		/* wg would merge a second one; two are a paste gone wrong. */
		if (p->interface_line)
			return wg_conf_fail(p, -EINVAL, p->line, "[Interface]",
					    11,
					    "a second [Interface] section "
					    "(the first is at line %u)",
					    p->interface_line);
		p->interface_line = p->line;
		p->section = WG_CONF_INTERFACE;
		return 0;
	}
	struct wg_config_peer *peer = wg_config_add_peer(p->cfg);

	if (!peer)
		return wg_conf_fail(p, -ENOMEM, p->line, "[Peer]", 6,
				    "out of memory");
	peer->flags = WG_PEER_REPLACE_ALLOWEDIPS;
	peer->line = p->line;
	p->section = WG_CONF_PEER;
	return 0;
}

static int parse_key_value(struct wg_conf_parser *p, const char *key,
			   size_t klen, const char *value, size_t vlen,
			   uint8_t out[WG_KEY_LEN])
{
	if (!wg_key_from_base64(out, value, vlen))
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "not a key of 44 base64 characters");
	return 0;
}

static int public_key_line(struct wg_conf_parser *p, const char *key,
			   size_t klen, const char *value, size_t vlen)
{
	struct wg_config *cfg = p->cfg;
	struct wg_config_peer *peer = current_peer(p);
	int ret = parse_key_value(p, key, klen, value, vlen, peer->public_key);
	size_t earlier;

	if (ret)
		return ret;
	/* The device would fold two sections into one peer, the second
	 * replacing the first's allowed IPs. */
	ret = wg_keyset_add(&p->peer_keys, cfg->peers, cfg->n_peers,
			    &earlier);
	if (ret == -ENOMEM)
		return wg_conf_fail(p, -ENOMEM, p->line, key, klen,
				    "out of memory");
	if (ret)
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "the peer at line %u has this "
				    "PublicKey too",
				    cfg->peers[earlier].line);
	return 0;
}

static int allowed_ips_line(struct wg_conf_parser *p, const char *key,
			    size_t klen, const char *value, size_t vlen)
{
	struct wg_config_peer *peer = current_peer(p);
	size_t pos = 0;

	peer->flags |= WG_PEER_REPLACE_ALLOWEDIPS;
	while (pos <= vlen) {
		const char *item = value + pos;
		const char *comma = memchr(item, ',', vlen - pos);
		size_t ilen = comma ? (size_t)(comma - item) : vlen - pos;
		struct wg_allowedip aip;
		bool remove = false;
		const char *text = item;
		size_t tlen = ilen;

		pos += ilen + 1;
		if (tlen > 0 && (text[0] == '+' || text[0] == '-')) {
			/* An incremental change, as wg(8) has it. */
			remove = text[0] == '-';
			peer->flags &= ~(uint32_t)WG_PEER_REPLACE_ALLOWEDIPS;
			text++;
			tlen--;
		}
		if (tlen == 0)
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "an empty entry in the list");
		if (!wg_allowedip_parse(&aip, text, tlen, true))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is not an "
					    "address[/prefix-length]",
					    WG_QUOTE(text, tlen));
		struct wg_allowedip net = aip;

		if (wg_allowedip_mask(&net)) {
			char want[WG_ALLOWEDIP_TEXT_MAX];

			wg_allowedip_format(&net, want, sizeof(want));
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s has host bits set; the "
					    "network is %s",
					    WG_QUOTE(text, tlen), want);
		}
		aip.remove = remove;
		if (wg_config_peer_add_allowedip(peer, &aip))
			return wg_conf_fail(p, -ENOMEM, p->line, key, klen,
					    "out of memory");
	}
	return 0;
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static int endpoint_line(struct wg_conf_parser *p, const char *key,
			 size_t klen, const char *value, size_t vlen)
{
	struct wg_config_peer *peer = current_peer(p);
	const char *host, *port;
	size_t host_len, port_len;
	uint64_t portnum;
	bool numeric = true;
	int ret;

	if (wg_endpoint_parse(&peer->endpoint, value, vlen)) {
		peer->flags |= WG_PEER_HAS_ENDPOINT;
		return 0;
	}
	if (!wg_endpoint_split(value, vlen, &host, &host_len, &port,
			       &port_len))
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "%s is not host:port or [host]:port",
				    WG_QUOTE(value, vlen));
	if (!wg_parse_decimal(port, port_len, UINT16_MAX, &portnum))
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "%s has no port number (0-65535)",
				    WG_QUOTE(value, vlen));
	if (value[0] != '[') {
		for (size_t i = 0; i < host_len; i++) {
			if (host[i] == ':')
				return wg_conf_fail(p, -EINVAL, p->line, key,
						    klen,
						    "an IPv6 endpoint needs "
						    "brackets: [address]:port");
			if (!is_host_char(host[i]))
				return wg_conf_fail(p, -EINVAL, p->line, key,
						    klen,
						    "%s is not a host name",
						    WG_QUOTE(host, host_len));
			if (!(host[i] == '.' || (host[i] >= '0' &&
						 host[i] <= '9')))
				numeric = false;
		}
		/* The resolver would read "10.1" as 10.0.0.1. */
		if (numeric)
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is not an IPv4 address",
					    WG_QUOTE(host, host_len));
	} else if (!wg_conf_is_clean_text(host, host_len) ||
		   memchr(host, '[', host_len)) {
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "not a host name in brackets");
	}
	ret = wg_conf_copy_value(p, key, klen, value, vlen,
				 &peer->endpoint_host);
	if (ret)
		return ret;
	peer->flags |= WG_PEER_HAS_ENDPOINT_HOST;
	return 0;
}

/* One wg key: value has no whitespace left. */
static int wg_key_line(struct wg_conf_parser *p, enum conf_key k,
		       const char *key, size_t klen, const char *value,
		       size_t vlen)
{
	struct wg_config *cfg = p->cfg;
	uint64_t n;
	uint32_t mark;
	int ret;

	switch (k) {
	case KEY_PRIVATE_KEY:
		return parse_key_value(p, key, klen, value, vlen,
				       cfg->private_key);
	case KEY_LISTEN_PORT:
		if (!wg_parse_decimal(value, vlen, UINT16_MAX, &n))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is not a port number (0-65535)",
					    WG_QUOTE(value, vlen));
		cfg->listen_port = (uint16_t)n;
		cfg->listen_port_line = p->line;
		return 0;
	case KEY_FWMARK:
		if (!parse_fwmark(value, vlen, &mark))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is neither off nor "
					    "0-0xffffffff",
					    WG_QUOTE(value, vlen));
		cfg->fwmark = mark;
		cfg->fwmark_line = p->line;
		return 0;
	case KEY_PUBLIC_KEY:
		return public_key_line(p, key, klen, value, vlen);
	case KEY_PRESHARED_KEY:
		ret = parse_key_value(p, key, klen, value, vlen,
				      current_peer(p)->preshared_key);
		if (!ret)
			current_peer(p)->flags |= WG_PEER_HAS_PRESHARED_KEY;
		return ret;
	case KEY_ALLOWED_IPS:
		return allowed_ips_line(p, key, klen, value, vlen);
	case KEY_ENDPOINT:
		return endpoint_line(p, key, klen, value, vlen);
	case KEY_PERSISTENT_KEEPALIVE:
		if (is_ci(value, vlen, "off"))
			n = 0;
		else if (!wg_parse_decimal(value, vlen, UINT16_MAX, &n))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is neither off nor 0-65535",
					    WG_QUOTE(value, vlen));
		current_peer(p)->persistent_keepalive = (uint16_t)n;
		current_peer(p)->flags |= WG_PEER_HAS_KEEPALIVE;
		return 0;
	default:
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "unknown key");
	}
}

static int find_key(const char *name, size_t len, enum key_owner owner)
{
	for (int k = 0; k < KEY_COUNT; k++)
		if (keys[k].owner == owner && is_ci(name, len, keys[k].name))
			return k;
	return -1;
}

static const char *section_name(int section)
{
	return section == WG_CONF_PEER ? "[Peer]" : "[Interface]";
}

static int parse_line(struct wg_conf_parser *p, const char *line, size_t len)
{
	const char *s = line, *hash, *eq, *kt, *vt;
	size_t slen, klen, vlen;
	char *kbuf = NULL, *vbuf = NULL;
	size_t kn, vn;
	int k, ret;

	p->line++;
	hash = memchr(line, '#', len);
	slen = hash ? (size_t)(hash - line) : len;
	trim(&s, &slen);
	if (slen == 0)
		return 0;
	if (s[0] == '[')
		return section_line(p, s, slen);

	eq = memchr(s, '=', slen);
	if (!eq)
		return wg_conf_fail(p, -EINVAL, p->line, NULL, 0,
				    "not a Key = Value line");
	kt = s;
	klen = (size_t)(eq - s);
	trim(&kt, &klen);

	/* wg-quick's own keys and ours first, on the name as written. */
	k = find_key(kt, klen, OWNER_QUICK);
	if (k < 0)
		k = find_key(kt, klen, OWNER_GATEWAY);
	if (k >= 0) {
		if (p->section != WG_CONF_INTERFACE)
			return wg_conf_fail(p, -EINVAL, p->line, kt, klen,
					    p->section == WG_CONF_NONE ?
						    "a key before any section" :
						    "belongs in [Interface]");
		if (k >= KEY_PRE_UP && k <= KEY_POST_DOWN) {
			/* The raw rest of the line: '#' may be the shell's. */
			vt = eq + 1;
			vlen = len - (size_t)(vt - line);
		} else {
			vt = eq + 1;
			vlen = slen - (size_t)(vt - s);
		}
		trim(&vt, &vlen);
		if (vlen == 0)
			return wg_conf_fail(p, -EINVAL, p->line, kt, klen,
					    "no value");
		if (!keys[k].repeatable && (p->seen & (1u << k)))
			return wg_conf_fail(p, -EINVAL, p->line, kt, klen,
					    "given twice in this section");
		p->seen |= 1u << k;
		if (keys[k].owner == OWNER_GATEWAY)
			return wg_conf_gateway_key_line(p, (enum conf_key)k,
							kt, klen, vt, vlen);
		return wg_conf_quick_key_line(p, (enum conf_key)k, kt, klen,
					      vt, vlen);
	}

	/* wg's keys, on the line without whitespace. The value may be a
	 * key, so its copy is wiped. */
	ret = -ENOMEM;
	kbuf = malloc(klen + 1);
	vbuf = malloc(slen - (size_t)(eq - s));
	if (!kbuf || !vbuf) {
		wg_conf_fail(p, ret, p->line, kt, klen, "out of memory");
		goto out;
	}
	kn = compact(kbuf, kt, klen);
	vn = compact(vbuf, eq + 1, slen - (size_t)(eq + 1 - s));
	ret = -EINVAL;
	k = find_key(kbuf, kn, OWNER_WG);
	if (p->section == WG_CONF_NONE) {
		wg_conf_fail(p, ret, p->line, kt, klen,
			     "a key before any section");
		goto out;
	}
	if (k < 0) {
		wg_conf_fail(p, ret, p->line, kt, klen, "unknown key in %s",
			     section_name(p->section));
		goto out;
	}
	if (keys[k].section != (int)p->section) {
		wg_conf_fail(p, ret, p->line, kt, klen, "belongs in %s",
			     section_name(keys[k].section));
		goto out;
	}
	if (vn == 0) {
		wg_conf_fail(p, ret, p->line, kt, klen, "no value");
		goto out;
	}
	if (!keys[k].repeatable && (p->seen & (1u << k))) {
		wg_conf_fail(p, ret, p->line, kt, klen,
			     "given twice in this section");
		goto out;
	}
	p->seen |= 1u << k;
	ret = wg_key_line(p, (enum conf_key)k, kt, klen, vbuf, vn);
out:
	if (kbuf) {
		wg_wipe(kbuf, klen + 1);
		free(kbuf);
	}
	if (vbuf) {
		wg_wipe(vbuf, slen - (size_t)(eq - s));
		free(vbuf);
	}
	return ret;
}

int wg_conf_line(struct wg_conf_parser *p, const char *line, size_t len)
{
	int ret = parse_line(p, line, len);

	if (ret)
		wg_keyset_clear(&p->peer_keys);
	return ret;
}

int wg_conf_end(struct wg_conf_parser *p)
{
	wg_keyset_clear(&p->peer_keys);
	return finish_section(p);
}

static int conf_line(void *ctx, const char *line, size_t len)
{
	return wg_conf_line(ctx, line, len);
}

int wg_conf_parse(const char *text, size_t len, struct wg_config *cfg,
		  struct wg_parse_error *err)
{
	struct wg_conf_parser p;
	int ret;

	wg_conf_begin(&p, cfg);
	ret = wg_text_for_each_line(text, len, conf_line, &p);
	if (!ret)
		ret = wg_conf_end(&p);
	if (ret && err)
		*err = p.err;
	return ret;
}
