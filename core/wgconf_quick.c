/* SPDX-License-Identifier: MIT */
/*
 * The wg-quick file's keys that wg(8) does not read: wg-quick's own
 * (Address, DNS, MTU, Table, SaveConfig and the hooks) and uniguard's
 * gateway keys (HTTP, LogCounters, PeersFrom), read as wg-quick reads its
 * own: the value trimmed only around, kept as the daemon will use it.
 * wgconf.c finds the key, checks its section and repetition, and hands
 * the value here.
 */
#include "wgconf_priv.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* No whitespace, no control characters. */
static bool is_one_word(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (wg_conf_is_space(s[i]) || !wg_conf_is_clean_text(s + i, 1))
			return false;
	return true;
}

/* Address and DNS are lists split at commas and spaces, as wg-quick
 * splits them; empty items fall away there too. */
static int list_line(struct wg_conf_parser *p, enum conf_key k,
		     const char *key, size_t klen, const char *value,
		     size_t vlen)
{
	size_t pos = 0;

	while (pos < vlen) {
		size_t start, end;

		while (pos < vlen &&
		       (value[pos] == ',' || wg_conf_is_space(value[pos])))
			pos++;
		start = pos;
		while (pos < vlen && value[pos] != ',' &&
		       !wg_conf_is_space(value[pos]))
			pos++;
		end = pos;
		if (start == end)
			break;
		if (k == KEY_ADDRESS) {
			struct wg_allowedip aip;

			if (!wg_allowedip_parse(&aip, value + start,
						end - start, true))
				return wg_conf_fail(p, -EINVAL, p->line, key,
						    klen,
						    "%s is not an "
						    "address[/prefix-length]",
						    WG_QUOTE(value + start,
						    end - start));
			if (wg_config_add_address(p->cfg, &aip))
				return wg_conf_fail(p, -ENOMEM, p->line, key,
						    klen,
						    "out of memory");
		} else {
			if (!wg_conf_is_clean_text(value + start, end - start))
				return wg_conf_fail(p, -EINVAL, p->line, key,
						    klen,
						    "control characters in a "
						    "name");
			if (wg_strlist_add(&p->cfg->quick.dns, value + start,
					   end - start))
				return wg_conf_fail(p, -ENOMEM, p->line, key,
						    klen,
						    "out of memory");
		}
	}
	return 0;
}

int wg_conf_quick_key_line(struct wg_conf_parser *p, enum conf_key k,
			   const char *key, size_t klen, const char *value,
			   size_t vlen)
{
	struct wg_quick_config *q = &p->cfg->quick;
	struct wg_strlist *hooks;
	uint64_t n;

	switch (k) {
	case KEY_ADDRESS:
	case KEY_DNS:
		return list_line(p, k, key, klen, value, vlen);
	case KEY_MTU:
		if (!wg_parse_decimal(value, vlen, UINT16_MAX, &n) ||
		    n < WG_CONF_MTU_MIN)
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is not an MTU (%d-65535)",
					    WG_QUOTE(value, vlen),
					    WG_CONF_MTU_MIN);
		q->has_mtu = true;
		q->mtu = (uint32_t)n;
		return 0;
	case KEY_TABLE:
		if (!is_one_word(value, vlen))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "a table is one word (off, auto, "
					    "a number or a name)");
		return wg_conf_copy_value(p, key, klen, value, vlen,
					  &q->table);
	case KEY_SAVE_CONFIG:
		if (wg_text_equal_ci(value, vlen, "true"))
			q->save_config = true;
		else if (wg_text_equal_ci(value, vlen, "false"))
			q->save_config = false;
		else
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "%s is neither true nor false",
					    WG_QUOTE(value, vlen));
		q->has_save_config = true;
		return 0;
	case KEY_PRE_UP:
		hooks = &q->pre_up;
		break;
	case KEY_POST_UP:
		hooks = &q->post_up;
		break;
	case KEY_PRE_DOWN:
		hooks = &q->pre_down;
		break;
	case KEY_POST_DOWN:
		hooks = &q->post_down;
		break;
	default:
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "unknown key");
	}
	if (!wg_conf_is_clean_text(value, vlen))
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "control characters in a command");
	if (wg_strlist_add(hooks, value, vlen))
		return wg_conf_fail(p, -ENOMEM, p->line, key, klen,
				    "out of memory");
	return 0;
}

int wg_conf_gateway_key_line(struct wg_conf_parser *p, enum conf_key k,
			     const char *key, size_t klen, const char *value,
			     size_t vlen)
{
	struct wg_gateway_config *g = &p->cfg->gateway;
	struct wg_endpoint ep;
	uint64_t n;

	switch (k) {
	case KEY_HTTP:
		if (!wg_endpoint_parse(&ep, value, vlen))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "`%.*s' is not a numeric ADDR:PORT",
					    wg_quotable(value, vlen), value);
		return wg_conf_copy_value(p, key, klen, value, vlen,
					  &g->http);
	case KEY_LOG_COUNTERS:
		if (!wg_parse_decimal(value, vlen, UINT32_MAX, &n))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "`%.*s' is not a number of seconds",
					    wg_quotable(value, vlen), value);
		g->has_log_counters = true;
		g->log_counters = (uint32_t)n;
		return 0;
	case KEY_PEERS_FROM:
		/* One word; the daemon knows the sources. */
		if (!is_one_word(value, vlen))
			return wg_conf_fail(p, -EINVAL, p->line, key, klen,
					    "one word: "
					    "gce-metadata[:ATTRIBUTE]");
		return wg_conf_copy_value(p, key, klen, value, vlen,
					  &g->peers_from);
	default:
		return wg_conf_fail(p, -EINVAL, p->line, key, klen,
				    "unknown key");
	}
}
