/* SPDX-License-Identifier: MIT */
/*
 * mac1, mac2 and the cookie reply: the known-answer cookie reply of
 * harness/data/wg_handshake_kat.json, then the checker's verdicts, the
 * maker's use of a cookie and its expiry, and the refusals.
 */
#include "cookie.h"

#include <arpa/inet.h>
#include <string.h>

#include "crypto.h"
#include "support.h"

#define CR "\"cookie_reply\""

static void cr_hex(const char *key, uint8_t *out, size_t len)
{
	char *v = kat_value(CR, 0, key);
	hex_decode(out, len, v);
	free(v);
}

/* The no-psk initiation from the handshake vectors, and its source. */
static void kat_initiation(uint8_t msg[WG_INIT_LEN])
{
	char *v = kat_value("\"handshakes\"", 0, "handshake_initiation_148");
	hex_decode(msg, WG_INIT_LEN, v);
	free(v);
}

static void endpoint4(struct wg_endpoint *ep, const char *addr, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.sin.sin_family = AF_INET;
	ep->addr.sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, addr, &ep->addr.sin.sin_addr), 1);
}

static void responder_public(uint8_t pub[WG_KEY_LEN])
{
	cr_hex("responder_static_public", pub, WG_KEY_LEN);
}

START_TEST(test_cookie_reply_known_answer)
{
	struct wg_cookie_checker chk = { 0 };
	struct wg_cookie_maker maker;
	uint8_t pub[WG_KEY_LEN], secret[WG_HASH_LEN], nonce[WG_XNONCE_LEN];
	uint8_t init[WG_INIT_LEN], reply[WG_COOKIE_LEN_MSG], cookie[WG_COOKIE_LEN];
	uint8_t src_bytes[18];
	struct wg_endpoint src;

	ck_assert(wg_crypto_init());
	responder_public(pub);
	cr_hex("cookie_secret_Rm", secret, sizeof(secret));
	cr_hex("nonce_24", nonce, sizeof(nonce));
	kat_initiation(init);
	endpoint4(&src, "192.0.2.1", 51820);
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&src, src_bytes), 6);
	char *want_src = kat_value(CR, 0, "source_ip_port_bytes");
	ck_assert_hex_eq(src_bytes, 6, want_src);
	free(want_src);
	char *mac1 = kat_value(CR, 0, "mac1_of_triggering_msg");
	ck_assert_hex_eq(init + WG_INIT_OFF_MAC1, WG_MAC_LEN, mac1);
	free(mac1);

	wg_cookie_checker_init(&chk, pub);
	char *key = kat_value(CR, 0, "cookie_encryption_key");
	ck_assert_hex_eq(chk.cookie_key, WG_HASH_LEN, key);
	free(key);
	wg_cookie_checker_set_secret(&chk, secret, 0);
	wg_cookie_compute(&chk, &src, cookie);
	char *want_cookie = kat_value(CR, 0, "cookie_16");
	ck_assert_hex_eq(cookie, sizeof(cookie), want_cookie);
	free(want_cookie);
	wg_cookie_make_reply(&chk, reply, init, sizeof(init), &src, nonce);
	char *want_reply = kat_value(CR, 0, "cookie_reply_64");
	ck_assert_hex_eq(reply, sizeof(reply), want_reply);
	free(want_reply);

	/* The initiator that sent that initiation takes the cookie. */
	wg_cookie_maker_init(&maker, pub);
	memcpy(maker.last_mac1, init + WG_INIT_OFF_MAC1, WG_MAC_LEN);
	maker.has_sent_mac1 = true;
	ck_assert(wg_cookie_consume_reply(&maker, reply, 10));
	ck_assert(maker.has_cookie);
	ck_assert_mem_eq(maker.cookie, cookie, WG_COOKIE_LEN);
	/* Only once per message sent. */
	ck_assert(!wg_cookie_consume_reply(&maker, reply, 11));
}
END_TEST

START_TEST(test_checker_verdicts)
{
	struct wg_cookie_checker chk = { 0 };
	struct wg_cookie_maker maker;
	uint8_t pub[WG_KEY_LEN], secret[WG_HASH_LEN] = { 1, 2, 3 };
	uint8_t msg[WG_INIT_LEN], reply[WG_COOKIE_LEN_MSG], nonce[WG_XNONCE_LEN] = { 9 };
	struct wg_endpoint src, other;
	const uint64_t t0 = 1000 * WG_NSEC_PER_SEC;

	ck_assert(wg_crypto_init());
	responder_public(pub);
	wg_cookie_checker_init(&chk, pub);
	ck_assert(wg_cookie_checker_needs_secret(&chk, t0));
	wg_cookie_checker_set_secret(&chk, secret, t0);
	ck_assert(!wg_cookie_checker_needs_secret(&chk, t0 + WG_COOKIE_SECRET_MAX_AGE - 1));
	ck_assert(wg_cookie_checker_needs_secret(&chk, t0 + WG_COOKIE_SECRET_MAX_AGE));
	endpoint4(&src, "198.51.100.7", 40000);
	endpoint4(&other, "198.51.100.7", 40001);

	kat_initiation(msg);
	wg_cookie_maker_init(&maker, pub);
	wg_cookie_add_macs(&maker, msg, sizeof(msg), t0);
	ck_assert(wg_is_zero(msg + WG_INIT_OFF_MAC2, WG_MAC_LEN));
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), false, &src),
			 WG_MAC_VALID_NO_COOKIE);
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), true, &src),
			 WG_MAC_VALID_NO_COOKIE);
	/* Any change to the covered bytes breaks mac1. */
	msg[20] ^= 1;
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), false, &src),
			 WG_MAC_INVALID);
	msg[20] ^= 1;
	msg[WG_INIT_OFF_MAC1] ^= 0x80;
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), true, &src),
			 WG_MAC_INVALID);
	msg[WG_INIT_OFF_MAC1] ^= 0x80;

	/* Round trip: reply, consume, resend with mac2. */
	wg_cookie_make_reply(&chk, reply, msg, sizeof(msg), &src, nonce);
	ck_assert_uint_eq(wg_get_le32(reply + WG_COOKIE_OFF_RECEIVER),
			  wg_get_le32(msg + WG_INIT_OFF_SENDER));
	ck_assert(wg_cookie_consume_reply(&maker, reply, t0 + 1));
	wg_cookie_add_macs(&maker, msg, sizeof(msg), t0 + 2);
	ck_assert(!wg_is_zero(msg + WG_INIT_OFF_MAC2, WG_MAC_LEN));
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), true, &src),
			 WG_MAC_VALID_WITH_COOKIE);
	/* The cookie is bound to the source address and port. */
	ck_assert_int_eq(wg_cookie_validate(&chk, msg, sizeof(msg), true, &other),
			 WG_MAC_VALID_NO_COOKIE);
	/* A rotated secret invalidates it. */
	uint8_t secret2[WG_HASH_LEN] = { 4, 5, 6 };
	struct wg_cookie_checker rotated = chk;
	wg_cookie_checker_set_secret(&rotated, secret2, t0 + WG_COOKIE_SECRET_MAX_AGE);
	ck_assert_int_eq(wg_cookie_validate(&rotated, msg, sizeof(msg), true, &src),
			 WG_MAC_VALID_NO_COOKIE);

	/* The maker stops using a cookie 120 s after it arrived. */
	wg_cookie_add_macs(&maker, msg, sizeof(msg), t0 + 1 + WG_COOKIE_REFRESH_TIME - 1);
	ck_assert(!wg_is_zero(msg + WG_INIT_OFF_MAC2, WG_MAC_LEN));
	wg_cookie_add_macs(&maker, msg, sizeof(msg), t0 + 1 + WG_COOKIE_REFRESH_TIME);
	ck_assert(wg_is_zero(msg + WG_INIT_OFF_MAC2, WG_MAC_LEN));
}
END_TEST

START_TEST(test_reply_refusals)
{
	struct wg_cookie_checker chk = { 0 };
	struct wg_cookie_maker maker, stranger;
	uint8_t pub[WG_KEY_LEN], secret[WG_HASH_LEN] = { 7 };
	uint8_t msg[WG_INIT_LEN], reply[WG_COOKIE_LEN_MSG], nonce[WG_XNONCE_LEN] = { 1 };
	struct wg_endpoint src;

	ck_assert(wg_crypto_init());
	responder_public(pub);
	wg_cookie_checker_init(&chk, pub);
	wg_cookie_checker_set_secret(&chk, secret, 0);
	endpoint4(&src, "203.0.113.5", 1234);
	kat_initiation(msg);
	wg_cookie_maker_init(&maker, pub);

	/* Nothing sent yet: an unsolicited reply is refused. */
	wg_cookie_make_reply(&chk, reply, msg, sizeof(msg), &src, nonce);
	ck_assert(!wg_cookie_consume_reply(&maker, reply, 0));
	wg_cookie_add_macs(&maker, msg, sizeof(msg), 0);
	wg_cookie_make_reply(&chk, reply, msg, sizeof(msg), &src, nonce);
	/* Tampered ciphertext or nonce: refused, no cookie kept. */
	for (size_t off = WG_COOKIE_OFF_NONCE; off < WG_COOKIE_LEN_MSG; off += 5) {
		uint8_t t[WG_COOKIE_LEN_MSG];
		memcpy(t, reply, sizeof(t));
		t[off] ^= 4;
		ck_assert(!wg_cookie_consume_reply(&maker, t, 0));
		ck_assert(!maker.has_cookie);
	}
	/* Sealed for another responder's key: refused. */
	uint8_t other_pub[WG_KEY_LEN];
	memset(other_pub, 0x55, sizeof(other_pub));
	wg_cookie_maker_init(&stranger, other_pub);
	wg_cookie_add_macs(&stranger, msg, sizeof(msg), 0);
	ck_assert(!wg_cookie_consume_reply(&stranger, reply, 0));
	/* A reply to an older message (different mac1) is refused. */
	msg[30] ^= 1;
	wg_cookie_add_macs(&maker, msg, sizeof(msg), 0);
	ck_assert(!wg_cookie_consume_reply(&maker, reply, 0));
	wg_cookie_maker_wipe(&maker);
	ck_assert(wg_is_zero(&maker, sizeof(maker)));
}
END_TEST

START_TEST(test_ipv6_cookie_binding)
{
	struct wg_endpoint ep;
	uint8_t b[18];

	memset(&ep, 0, sizeof(ep));
	ep.addr.sin6.sin6_family = AF_INET6;
	ep.addr.sin6.sin6_port = htons(51820);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::1", &ep.addr.sin6.sin6_addr), 1);
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&ep, b), 18);
	ck_assert_hex_eq(b, 18, "20010db8000000000000000000000001ca6c");
}
END_TEST

static Suite *cookie_suite(void)
{
	Suite *s = suite_create("cookie");
	TCase *tc = tcase_create("cookie");

	tcase_add_test(tc, test_cookie_reply_known_answer);
	tcase_add_test(tc, test_checker_verdicts);
	tcase_add_test(tc, test_reply_refusals);
	tcase_add_test(tc, test_ipv6_cookie_binding);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(cookie_suite)
