/* SPDX-License-Identifier: MIT */
/*
 * What the wg-quick parser's two files share (wgconf.c: lines, sections
 * and wg's keys; wgconf_quick.c: wg-quick's and the gateway's keys). Not
 * for other modules: they use wgconf.h.
 */
#ifndef UNIGUARD_WGCONF_PRIV_H
#define UNIGUARD_WGCONF_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "wgconf.h"

/* The smallest MTU wg-quick's MTU key takes (IPv4's, RFC 791). */
#define WG_CONF_MTU_MIN 68

enum conf_key {
	KEY_PRIVATE_KEY,
	KEY_LISTEN_PORT,
	KEY_FWMARK,
	KEY_PUBLIC_KEY,
	KEY_PRESHARED_KEY,
	KEY_ALLOWED_IPS,
	KEY_ENDPOINT,
	KEY_PERSISTENT_KEEPALIVE,
	KEY_ADDRESS,
	KEY_DNS,
	KEY_MTU,
	KEY_TABLE,
	KEY_PRE_UP,
	KEY_POST_UP,
	KEY_PRE_DOWN,
	KEY_POST_DOWN,
	KEY_SAVE_CONFIG,
	KEY_HTTP,
	KEY_LOG_COUNTERS,
	KEY_PEERS_FROM,
	KEY_COUNT
};

/* Fills p->err (wg_parse_error_set) and returns ret. */
int wg_conf_fail(struct wg_conf_parser *p, int ret, unsigned int line,
		 const char *key, size_t klen, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* The whitespace of both readers (C's isspace in the C locale). */
static inline bool wg_conf_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

/* Text the daemon or a shell will see: no control characters (a NUL would
 * cut it short), tabs allowed. */
static inline bool wg_conf_is_clean_text(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((s[i] >= 0 && s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return false;
	return true;
}

/* A NUL-terminated copy of value into *out: 0, or -ENOMEM with p->err
 * filled in. */
int wg_conf_copy_value(struct wg_conf_parser *p, const char *key,
		       size_t klen, const char *value, size_t vlen, char **out);

/* A key of wg-quick's own, or of the gateway's, on the [Interface] line
 * that holds it: its value trimmed, never empty. 0, or -EINVAL (-ENOMEM)
 * with p->err filled in. */
int wg_conf_quick_key_line(struct wg_conf_parser *p, enum conf_key k,
			   const char *key, size_t klen, const char *value,
			   size_t vlen);
int wg_conf_gateway_key_line(struct wg_conf_parser *p, enum conf_key k,
			     const char *key, size_t klen, const char *value,
			     size_t vlen);

#endif
