/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's denial-of-service defence (whitepaper section 5.4.4 and
 * 5.4.7): mac1 on every handshake message, proving the sender knows our
 * public key; and under load, mac2 keyed with a cookie bound to the sender's
 * address, which the responder hands out in an encrypted cookie reply.
 *
 * The checker is the responder's half (one per device), the maker the
 * initiator's half (one per peer).
 */
#ifndef UNIGUARD_COOKIE_H
#define UNIGUARD_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "messages.h"

struct wg_cookie_checker {
	uint8_t mac1_key[WG_HASH_LEN];		/* HASH("mac1----" || our public) */
	uint8_t cookie_key[WG_HASH_LEN];	/* HASH("cookie--" || our public) */
	uint8_t secret[WG_HASH_LEN];		/* R_m, rotated every 120 s */
	uint64_t secret_birth;
	bool has_secret;
};

struct wg_cookie_maker {
	uint8_t mac1_key[WG_HASH_LEN];		/* from the peer's public key */
	uint8_t cookie_key[WG_HASH_LEN];
	uint8_t cookie[WG_COOKIE_LEN];
	uint64_t cookie_birth;
	bool has_cookie;
	uint8_t last_mac1[WG_MAC_LEN];		/* AD for the cookie reply */
	bool has_sent_mac1;
};

enum wg_mac_state {
	WG_MAC_INVALID,
	WG_MAC_VALID_NO_COOKIE,		/* mac1 good; mac2 absent or wrong */
	WG_MAC_VALID_WITH_COOKIE,	/* mac1 and mac2 good */
};

/* Derives the checker's keys from our public key (all zero without one).
 * Keeps the current secret. */
void wg_cookie_checker_init(struct wg_cookie_checker *c,
			    const uint8_t public_key[WG_KEY_LEN]);
/* Installs a fresh R_m; the device calls this when
 * wg_cookie_checker_needs_secret says so, with random bytes. */
bool wg_cookie_checker_needs_secret(const struct wg_cookie_checker *c, uint64_t now);
void wg_cookie_checker_set_secret(struct wg_cookie_checker *c,
				  const uint8_t secret[WG_HASH_LEN], uint64_t now);
/* Checks a handshake message's mac1 and, if check_cookie, its mac2 for a
 * cookie bound to src. len is 148 or 92. */
enum wg_mac_state wg_cookie_validate(const struct wg_cookie_checker *c,
				     const uint8_t *msg, size_t len,
				     bool check_cookie,
				     const struct wg_endpoint *src);
/* The 64-byte cookie reply to msg (148 or 92 bytes) from src. */
void wg_cookie_make_reply(const struct wg_cookie_checker *c,
			  uint8_t out[WG_COOKIE_LEN_MSG], const uint8_t *msg,
			  size_t len, const struct wg_endpoint *src,
			  const uint8_t nonce[WG_XNONCE_LEN]);
/* The cookie itself, MAC(R_m, address || port); exposed for tests. */
void wg_cookie_compute(const struct wg_cookie_checker *c,
		       const struct wg_endpoint *src, uint8_t out[WG_COOKIE_LEN]);

void wg_cookie_maker_init(struct wg_cookie_maker *m,
			  const uint8_t remote_public[WG_KEY_LEN]);
/* Fills mac1 and mac2 (zero unless a cookie younger than 120 s is held)
 * of an outgoing handshake message of len 148 or 92. */
void wg_cookie_add_macs(struct wg_cookie_maker *m, uint8_t *msg, size_t len,
			uint64_t now);
/* Takes the cookie from a reply to our latest handshake message. */
bool wg_cookie_consume_reply(struct wg_cookie_maker *m,
			     const uint8_t msg[WG_COOKIE_LEN_MSG], uint64_t now);
void wg_cookie_maker_wipe(struct wg_cookie_maker *m);

#endif
