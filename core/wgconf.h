/* SPDX-License-Identifier: MIT */
/*
 * The wg-quick INI file: [Interface] and [Peer] sections with every key that
 * `wg` and `wg-quick` accept, matched case-insensitively as they do, and
 * uniguard's own two in [Interface] (HTTP = ADDR:PORT, LogCounters =
 * SECONDS), read as wg-quick's keys are and kept in cfg->gateway.
 * Push-style line parser plus a whole-buffer helper; errors name the line and
 * the key. The result is what `wg setconf` would send: device flags
 * HAS_PRIVATE_KEY, HAS_LISTEN_PORT, HAS_FWMARK and REPLACE_PEERS, each peer
 * REPLACE_ALLOWEDIPS (unless its AllowedIPs are incremental, "+"/"-").
 *
 * As wg does, everything after '#' is a comment and whitespace anywhere in
 * a wg key or value is dropped; the wg-quick keys keep their inner spaces
 * (hooks keep the raw text after '=', '#' included, as wg-quick does).
 * Stricter than wg where a file would otherwise be taken silently in a way
 * its author hardly meant: a second [Interface], a single-valued key given
 * twice in a section, two peers with one PublicKey, AllowedIPs with host
 * bits, an IPv6 endpoint without brackets, and unknown keys are errors.
 */
#ifndef UNIGUARD_WGCONF_H
#define UNIGUARD_WGCONF_H

#include "config.h"
#include "keyset.h"

struct wg_conf_parser {
	struct wg_config *cfg;
	enum { WG_CONF_NONE, WG_CONF_INTERFACE, WG_CONF_PEER } section;
	unsigned int line;
	unsigned int interface_line;	/* line of [Interface], 0: none */
	uint32_t seen;			/* single keys seen here */
	struct wg_parse_error err;
	/* The peers' public keys so far, to find one given twice. Allocated
	 * as peers come, freed by wg_conf_end or the first error. */
	struct wg_keyset peer_keys;
};

void wg_conf_begin(struct wg_conf_parser *p, struct wg_config *cfg);
/* One line without its newline: 0, or -EINVAL (-ENOMEM) with p->err
 * filled in, after which the parser takes no more lines. Keys are decoded
 * straight into the config; the caller wipes its line buffer. Every
 * parse ends with an error or with wg_conf_end, which frees what the
 * parser holds. */
int wg_conf_line(struct wg_conf_parser *p, const char *line, size_t len);
/* After the last line: the last [Peer] must have a PublicKey. Linear in
 * the file's size whatever the number of peers. */
int wg_conf_end(struct wg_conf_parser *p);

/* A whole file: 0 or -EINVAL/-ENOMEM; on error cfg holds what was parsed
 * and the caller clears it. err may be NULL. */
int wg_conf_parse(const char *text, size_t len, struct wg_config *cfg,
		  struct wg_parse_error *err);

#endif
