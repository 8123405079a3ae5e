/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform userspace API's text protocol
 * (https://www.wireguard.com/xplatform/): the "set=1" transaction parsed line
 * by line into a config delta, and the text that `wg setconf` sends and that
 * "get=1" answers. Push-style, so the socket server, the -c loader and the
 * fuzzer feed it the same way.
 */
#ifndef UNIGUARD_UAPI_H
#define UNIGUARD_UAPI_H

#include "config.h"

struct wg_uapi_parser {
	struct wg_config *cfg;
	struct wg_config_peer *peer;	/* or NULL: device lines */
	unsigned int line;
	bool ended;			/* the blank line was seen */
	struct wg_parse_error err;
};

/* Starts a set transaction filling cfg (wg_config_init'ed by the caller).
 * The optional first line "set=1" is accepted and skipped. */
void wg_uapi_set_begin(struct wg_uapi_parser *p, struct wg_config *cfg);
/* One line without its newline (a trailing '\r' is dropped, as the
 * reference server's line scanner does). Returns 0, or a negative errno as
 * the reference server answers it (-EINVAL for a bad key or value, -EPROTO
 * for a line without '=' or a line after the blank one, -ENOMEM), with
 * p->err filled in. An empty line ends the transaction. Keys are decoded
 * straight into the config: the line buffer is wiped by the caller. */
int wg_uapi_set_line(struct wg_uapi_parser *p, const char *line, size_t len);
/* After the blank line: final checks. 0 or negative errno. */
int wg_uapi_set_end(struct wg_uapi_parser *p);

/* A whole "set" text (as a -c file holds it): lines up to the first blank
 * one or the end; only blank lines may follow. 0 or negative errno; on
 * error cfg holds what was parsed and the caller clears it. err may be
 * NULL. */
int wg_uapi_parse_set(const char *text, size_t len, struct wg_config *cfg,
		      struct wg_parse_error *err);

/* What `wg setconf` sends for cfg: "set=1\n", the keys, the closing "\n".
 * "update_only=true" (which wg never sends) follows a peer's public_key.
 * A peer's endpoint is written only with WG_PEER_HAS_ENDPOINT: resolve an
 * endpoint_host first. */
void wg_uapi_emit_set(struct wg_buf *b, const struct wg_config *cfg);
/* The answer to "get=1": the keys of a full config with stats, in the
 * reference server's order, then "errno=0\n\n". Device keys appear when
 * nonzero; every peer has preshared_key (zeros for none),
 * protocol_version, the handshake time, counters and keepalive. */
void wg_uapi_emit_get(struct wg_buf *b, const struct wg_config *cfg);
/* The answer to a set: "errno=N\n\n". */
void wg_uapi_emit_errno(struct wg_buf *b, int err);

#endif
