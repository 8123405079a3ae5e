/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and cookie replies: WireGuard whitepaper sections 5.4.4 and
 * 5.4.7.
 */
#include "cookie.h"

#include <string.h>

#include "crypto.h"

static const char label_mac1[] = "mac1----";
static const char label_cookie[] = "cookie--";

static void derive_keys(uint8_t mac1_key[WG_HASH_LEN], uint8_t cookie_key[WG_HASH_LEN],
			const uint8_t public_key[WG_KEY_LEN])
{
	wg_hash(mac1_key, label_mac1, strlen(label_mac1), public_key, WG_KEY_LEN);
	wg_hash(cookie_key, label_cookie, strlen(label_cookie), public_key, WG_KEY_LEN);
}

void wg_cookie_checker_init(struct wg_cookie_checker *c,
			    const uint8_t public_key[WG_KEY_LEN])
{
	if (public_key) {
		derive_keys(c->mac1_key, c->cookie_key, public_key);
	} else {
		wg_wipe(c->mac1_key, sizeof(c->mac1_key));
		wg_wipe(c->cookie_key, sizeof(c->cookie_key));
	}
}

bool wg_cookie_checker_needs_secret(const struct wg_cookie_checker *c, uint64_t now)
{
	return !c->has_secret || now >= c->secret_birth + WG_COOKIE_SECRET_MAX_AGE;
}

void wg_cookie_checker_set_secret(struct wg_cookie_checker *c,
				  const uint8_t secret[WG_HASH_LEN], uint64_t now)
{
	memcpy(c->secret, secret, WG_HASH_LEN);
	c->secret_birth = now;
	c->has_secret = true;
}

void wg_cookie_compute(const struct wg_cookie_checker *c,
		       const struct wg_endpoint *src, uint8_t out[WG_COOKIE_LEN])
{
	uint8_t bound[18];
	size_t len = wg_endpoint_cookie_bytes(src, bound);

	wg_mac(out, c->secret, WG_HASH_LEN, bound, len);
}

enum wg_mac_state wg_cookie_validate(const struct wg_cookie_checker *c,
				     const uint8_t *msg, size_t len,
				     bool check_cookie,
				     const struct wg_endpoint *src)
{
	uint8_t computed[WG_MAC_LEN];
	uint8_t cookie[WG_COOKIE_LEN];
	size_t mac1_off = len - 2 * WG_MAC_LEN, mac2_off = len - WG_MAC_LEN;
	enum wg_mac_state state = WG_MAC_INVALID;

	wg_mac(computed, c->mac1_key, WG_HASH_LEN, msg, mac1_off);
	if (!wg_equal(computed, msg + mac1_off, WG_MAC_LEN))
		goto out;
	state = WG_MAC_VALID_NO_COOKIE;
	if (!check_cookie || !c->has_secret)
		goto out;
	wg_cookie_compute(c, src, cookie);
	wg_mac(computed, cookie, WG_COOKIE_LEN, msg, mac2_off);
	if (wg_equal(computed, msg + mac2_off, WG_MAC_LEN))
		state = WG_MAC_VALID_WITH_COOKIE;
out:
	wg_wipe(cookie, sizeof(cookie));
	return state;
}

void wg_cookie_make_reply(const struct wg_cookie_checker *c,
			  uint8_t out[WG_COOKIE_LEN_MSG], const uint8_t *msg,
			  size_t len, const struct wg_endpoint *src,
			  const uint8_t nonce[WG_XNONCE_LEN])
{
	uint8_t cookie[WG_COOKIE_LEN];
	const uint8_t *mac1 = msg + len - 2 * WG_MAC_LEN;

	memset(out, 0, WG_COOKIE_LEN_MSG);
	out[WG_COOKIE_OFF_TYPE] = WG_MSG_COOKIE_REPLY;
	/* The reply names the sender index of the message it answers. */
	memcpy(out + WG_COOKIE_OFF_RECEIVER, msg + 4, 4);
	memcpy(out + WG_COOKIE_OFF_NONCE, nonce, WG_XNONCE_LEN);
	wg_cookie_compute(c, src, cookie);
	wg_xaead_seal(out + WG_COOKIE_OFF_COOKIE, cookie, WG_COOKIE_LEN, mac1,
		      WG_MAC_LEN, nonce, c->cookie_key);
	wg_wipe(cookie, sizeof(cookie));
}

void wg_cookie_maker_init(struct wg_cookie_maker *m,
			  const uint8_t remote_public[WG_KEY_LEN])
{
	wg_cookie_maker_wipe(m);
	derive_keys(m->mac1_key, m->cookie_key, remote_public);
}

void wg_cookie_add_macs(struct wg_cookie_maker *m, uint8_t *msg, size_t len,
			uint64_t now)
{
	size_t mac1_off = len - 2 * WG_MAC_LEN, mac2_off = len - WG_MAC_LEN;

	wg_mac(msg + mac1_off, m->mac1_key, WG_HASH_LEN, msg, mac1_off);
	memcpy(m->last_mac1, msg + mac1_off, WG_MAC_LEN);
	m->has_sent_mac1 = true;

	if (m->has_cookie && now < m->cookie_birth + WG_COOKIE_REFRESH_TIME)
		wg_mac(msg + mac2_off, m->cookie, WG_COOKIE_LEN, msg, mac2_off);
	else
		memset(msg + mac2_off, 0, WG_MAC_LEN);
}

bool wg_cookie_consume_reply(struct wg_cookie_maker *m,
			     const uint8_t msg[WG_COOKIE_LEN_MSG], uint64_t now)
{
	uint8_t cookie[WG_COOKIE_LEN];

	/* Only a reply to a message we sent, and only once per message. */
	if (!m->has_sent_mac1)
		return false;
	if (!wg_xaead_open(cookie, msg + WG_COOKIE_OFF_COOKIE,
			   WG_COOKIE_LEN + WG_AEAD_TAG_LEN, m->last_mac1,
			   WG_MAC_LEN, msg + WG_COOKIE_OFF_NONCE, m->cookie_key))
		return false;
	memcpy(m->cookie, cookie, WG_COOKIE_LEN);
	wg_wipe(cookie, sizeof(cookie));
	m->cookie_birth = now;
	m->has_cookie = true;
	m->has_sent_mac1 = false;
	return true;
}

void wg_cookie_maker_wipe(struct wg_cookie_maker *m)
{
	wg_wipe(m, sizeof(*m));
}
