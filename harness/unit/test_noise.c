/* SPDX-License-Identifier: MIT */
/*
 * The Noise_IKpsk2 handshake against the known-answer vectors in
 * harness/data/wg_handshake_kat.json (checked against wireguard-go): every
 * message, the intermediate chaining keys and hashes, the session keys and
 * the first transport messages, byte for byte; then the failure paths.
 */
#include "noise.h"

#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "support.h"

#define HS "\"handshakes\""

struct kat {
	struct wg_noise_local initiator, responder;
	uint8_t psk[WG_KEY_LEN];
	uint8_t ie[WG_KEY_LEN], re[WG_KEY_LEN];
	uint32_t i_index, r_index;
	uint8_t timestamp[WG_TAI64N_LEN];
	bool has_cookie;
	uint8_t cookie[WG_COOKIE_LEN];
};

static void kat_hex(int n, const char *key, uint8_t *out, size_t len)
{
	char *v = kat_value(HS, n, key);
	hex_decode(out, len, v);
	free(v);
}

static uint32_t kat_u32(int n, const char *key)
{
	char *v = kat_value(HS, n, key);
	uint32_t x = (uint32_t)strtoul(v, NULL, 10);
	free(v);
	return x;
}

static void kat_expect(int n, const char *key, const uint8_t *got, size_t len)
{
	char *v = kat_value(HS, n, key);
	ck_assert_hex_eq(got, len, v);
	free(v);
}

static void load_kat(int n, struct kat *k)
{
	uint8_t pub[WG_KEY_LEN];
	char *cookie;

	memset(k, 0, sizeof(*k));
	ck_assert(wg_crypto_init());
	kat_hex(n, "initiator_static_private", k->initiator.private_key, WG_KEY_LEN);
	kat_hex(n, "responder_static_private", k->responder.private_key, WG_KEY_LEN);
	ck_assert(wg_x25519_public(k->initiator.public_key, k->initiator.private_key));
	ck_assert(wg_x25519_public(k->responder.public_key, k->responder.private_key));
	k->initiator.has_key = k->responder.has_key = true;
	kat_hex(n, "initiator_static_public", pub, WG_KEY_LEN);
	ck_assert_mem_eq(pub, k->initiator.public_key, WG_KEY_LEN);
	kat_hex(n, "responder_static_public", pub, WG_KEY_LEN);
	ck_assert_mem_eq(pub, k->responder.public_key, WG_KEY_LEN);
	kat_hex(n, "preshared_key", k->psk, WG_KEY_LEN);
	kat_hex(n, "initiator_ephemeral_private", k->ie, WG_KEY_LEN);
	kat_hex(n, "responder_ephemeral_private", k->re, WG_KEY_LEN);
	k->i_index = kat_u32(n, "initiator_sender_index");
	k->r_index = kat_u32(n, "responder_sender_index");
	kat_hex(n, "tai64n_timestamp", k->timestamp, WG_TAI64N_LEN);
	cookie = kat_value(HS, n, "mac2_cookie");
	if (strcmp(cookie, "null") != 0) {
		hex_decode(k->cookie, WG_COOKIE_LEN, cookie);
		k->has_cookie = true;
	}
	free(cookie);
}

/* A transport message: header, then the zero-padded plaintext sealed. */
static size_t seal_transport(uint8_t *out, const uint8_t key[WG_KEY_LEN],
			     uint32_t receiver, uint64_t counter,
			     const uint8_t *plain, size_t len)
{
	size_t padded = (len + 15) & ~(size_t)15;

	wg_put_le32(out, WG_MSG_DATA);
	wg_put_le32(out + 4, receiver);
	wg_put_le64(out + 8, counter);
	memset(out + 16, 0, padded);
	if (len)
		memcpy(out + 16, plain, len);
	wg_aead_seal(out + 16, out + 16, padded, NULL, 0, counter, key);
	return 16 + padded + 16;
}

static void run_handshake_kat(int n)
{
	struct kat k;
	struct wg_noise_handshake hi, hr;
	struct wg_noise_initiation_scratch scratch;
	struct wg_cookie_maker to_responder, to_initiator;
	struct wg_noise_keypair ki, kr;
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN];
	uint8_t transport[256];

	load_kat(n, &k);
	wg_noise_handshake_init(&hi, &k.initiator, k.responder.public_key, k.psk);
	kat_expect(n, "dh_static_static", hi.static_static, WG_KEY_LEN);

	/* Initiator: the 148-byte initiation with both MACs. */
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init, k.ie, k.i_index,
					     k.timestamp));
	kat_expect(n, "init.H_final", hi.hash, WG_HASH_LEN);
	kat_expect(n, "init.C_final", hi.chaining_key, WG_HASH_LEN);
	wg_cookie_maker_init(&to_responder, k.responder.public_key);
	kat_expect(n, "mac1_key_for_responder", to_responder.mac1_key, WG_HASH_LEN);
	if (k.has_cookie) {
		memcpy(to_responder.cookie, k.cookie, WG_COOKIE_LEN);
		to_responder.has_cookie = true;
		to_responder.cookie_birth = 0;
	}
	wg_cookie_add_macs(&to_responder, init, sizeof(init), 1);
	kat_expect(n, "handshake_initiation_148", init, sizeof(init));

	/* Responder: consume it and answer. */
	ck_assert(wg_noise_consume_initiation_begin(&k.responder, init, &scratch));
	ck_assert_mem_eq(scratch.remote_static, k.initiator.public_key, WG_KEY_LEN);
	wg_noise_handshake_init(&hr, &k.responder, k.initiator.public_key, k.psk);
	ck_assert_int_eq(wg_noise_consume_initiation_finish(&hr, init, &scratch, 1000),
			 WG_NOISE_INITIATION_OK);
	ck_assert_uint_eq(hr.remote_index, k.i_index);
	ck_assert_mem_eq(hr.latest_timestamp, k.timestamp, WG_TAI64N_LEN);
	ck_assert(wg_noise_create_response(&hr, resp, k.re, k.r_index));
	kat_expect(n, "resp.H_final", hr.hash, WG_HASH_LEN);
	kat_expect(n, "final_hash", hr.hash, WG_HASH_LEN);
	kat_expect(n, "final_chaining_key", hr.chaining_key, WG_HASH_LEN);
	wg_cookie_maker_init(&to_initiator, k.initiator.public_key);
	kat_expect(n, "mac1_key_for_initiator", to_initiator.mac1_key, WG_HASH_LEN);
	wg_cookie_add_macs(&to_initiator, resp, sizeof(resp), 1);
	kat_expect(n, "handshake_response_92", resp, sizeof(resp));

	/* Initiator: consume the response; both derive the same session. */
	ck_assert(wg_noise_consume_response(&hi, &k.initiator, resp));
	ck_assert_uint_eq(hi.remote_index, k.r_index);
	kat_expect(n, "final_hash", hi.hash, WG_HASH_LEN);
	kat_expect(n, "final_chaining_key", hi.chaining_key, WG_HASH_LEN);
	memset(&ki, 0, sizeof(ki));
	memset(&kr, 0, sizeof(kr));
	ck_assert(wg_noise_begin_session(&hi, &ki, 5));
	ck_assert(wg_noise_begin_session(&hr, &kr, 6));
	ck_assert(ki.i_am_initiator);
	ck_assert(!kr.i_am_initiator);
	kat_expect(n, "initiator_send_key", ki.send_key, WG_KEY_LEN);
	kat_expect(n, "initiator_recv_key", ki.recv_key, WG_KEY_LEN);
	kat_expect(n, "transport.responder_send", kr.send_key, WG_KEY_LEN);
	kat_expect(n, "transport.responder_recv", kr.recv_key, WG_KEY_LEN);
	ck_assert_uint_eq(ki.local_index, k.i_index);
	ck_assert_uint_eq(ki.remote_index, k.r_index);
	ck_assert_uint_eq(kr.local_index, k.r_index);
	ck_assert_uint_eq(kr.remote_index, k.i_index);
	/* The handshakes forgot their ephemeral state. */
	ck_assert_int_eq(hi.state, WG_HANDSHAKE_ZEROED);
	ck_assert(wg_is_zero(hi.ephemeral_private, WG_KEY_LEN));
	ck_assert(wg_is_zero(hr.chaining_key, WG_HASH_LEN));

	/* Transport messages at counters 0 and 1 (a keepalive). */
	char *plain_hex = kat_value(HS, n, "transport_plaintext_ipv4_icmp_echo");
	size_t plain_len;
	uint8_t *plain = hex_decode_alloc(plain_hex, &plain_len);
	size_t len = seal_transport(transport, ki.send_key, ki.remote_index, 0, plain,
				    plain_len);
	kat_expect(n, "transport_i2r_counter0", transport, len);
	len = seal_transport(transport, ki.send_key, ki.remote_index, 1, NULL, 0);
	kat_expect(n, "transport_i2r_keepalive_counter1", transport, len);
	len = seal_transport(transport, kr.send_key, kr.remote_index, 0, plain, plain_len);
	kat_expect(n, "transport_r2i_counter0", transport, len);
	/* And the responder opens what the initiator sealed. */
	len = seal_transport(transport, ki.send_key, ki.remote_index, 0, plain, plain_len);
	ck_assert(wg_aead_open(transport + 16, transport + 16, len - 16, NULL, 0, 0,
			       kr.recv_key));
	ck_assert_mem_eq(transport + 16, plain, plain_len);
	free(plain);
	free(plain_hex);
}

START_TEST(test_kat_no_psk)
{
	run_handshake_kat(0);
}
END_TEST

START_TEST(test_kat_psk)
{
	run_handshake_kat(1);
}
END_TEST

START_TEST(test_kat_mac2_cookie)
{
	run_handshake_kat(2);
}
END_TEST

START_TEST(test_initial_constants)
{
	ck_assert_hex_eq(wg_noise_initial_chaining_key(), WG_HASH_LEN,
			 "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
	ck_assert_hex_eq(wg_noise_initial_hash(), WG_HASH_LEN,
			 "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}
END_TEST

START_TEST(test_tai64n)
{
	uint8_t t[WG_TAI64N_LEN];

	/* The KAT's timestamp is 2023-12-31 23:59:28 UTC (0x65920080). */
	wg_noise_tai64n(t, 0x65920080, 0);
	ck_assert_hex_eq(t, sizeof(t), "400000006592008a00000000");
	/* Nanoseconds are rounded down to multiples of 2^24. */
	wg_noise_tai64n(t, 1, (1u << 24) * 3 + 12345);
	ck_assert_hex_eq(t, sizeof(t), "400000000000000b03000000");
	wg_noise_tai64n(t, 1, (1u << 24) - 1);
	ck_assert_hex_eq(t, sizeof(t), "400000000000000b00000000");
}
END_TEST

/* A responder set up with the KAT's initiation in hand. */
static void responder_consumes(struct kat *k, struct wg_noise_handshake *hr,
			       const uint8_t init[WG_INIT_LEN], uint64_t now,
			       enum wg_noise_initiation_verdict want)
{
	struct wg_noise_initiation_scratch scratch;

	ck_assert(wg_noise_consume_initiation_begin(&k->responder, init, &scratch));
	ck_assert_int_eq(wg_noise_consume_initiation_finish(hr, init, &scratch, now), want);
	ck_assert(wg_is_zero(&scratch, sizeof(scratch)));
}

START_TEST(test_replayed_and_older_timestamps_rejected)
{
	struct kat k;
	struct wg_noise_handshake hi, hr;
	uint8_t init1[WG_INIT_LEN], init2[WG_INIT_LEN], init0[WG_INIT_LEN];
	uint8_t ts[WG_TAI64N_LEN];

	load_kat(0, &k);
	wg_noise_handshake_init(&hi, &k.initiator, k.responder.public_key, NULL);
	wg_noise_handshake_init(&hr, &k.responder, k.initiator.public_key, NULL);
	wg_noise_tai64n(ts, 1000, 0);
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init1, k.ie, 1, ts));
	wg_noise_tai64n(ts, 999, 0);
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init0, k.ie, 2, ts));
	wg_noise_tai64n(ts, 1001, 0);
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init2, k.ie, 3, ts));

	responder_consumes(&k, &hr, init1, 0, WG_NOISE_INITIATION_OK);
	/* The same message again: a replay. */
	responder_consumes(&k, &hr, init1, WG_NSEC_PER_SEC, WG_NOISE_INITIATION_REPLAY);
	/* An older timestamp, even from a fresh message: a replay. */
	responder_consumes(&k, &hr, init0, 2 * WG_NSEC_PER_SEC, WG_NOISE_INITIATION_REPLAY);
	/* Newer: accepted. */
	responder_consumes(&k, &hr, init2, 3 * WG_NSEC_PER_SEC, WG_NOISE_INITIATION_OK);
	ck_assert_uint_eq(hr.remote_index, 3);
}
END_TEST

START_TEST(test_initiation_flood_limit)
{
	struct kat k;
	struct wg_noise_handshake hi, hr;
	uint8_t init[WG_INIT_LEN];
	uint8_t ts[WG_TAI64N_LEN];
	uint64_t now = 7 * WG_NSEC_PER_SEC;
	const uint64_t gap = WG_NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND;

	load_kat(0, &k);
	wg_noise_handshake_init(&hi, &k.initiator, k.responder.public_key, NULL);
	wg_noise_handshake_init(&hr, &k.responder, k.initiator.public_key, NULL);
	/* Accepted at 7 s; then half of 1/50 s later and one nanosecond
	 * short of it: both floods. */
	const uint64_t at[3] = { now, now + gap / 2, now + gap - 1 };
	for (int i = 0; i < 3; i++) {
		wg_noise_tai64n(ts, 5000 + i, 0);
		ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init, k.ie, 1, ts));
		responder_consumes(&k, &hr, init, at[i], i == 0 ? WG_NOISE_INITIATION_OK :
							WG_NOISE_INITIATION_FLOOD);
	}
	/* Exactly 1/50 s after the last accepted one: allowed again. */
	now = 7 * WG_NSEC_PER_SEC + gap;
	wg_noise_tai64n(ts, 6000, 0);
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init, k.ie, 1, ts));
	responder_consumes(&k, &hr, init, now, WG_NOISE_INITIATION_OK);
}
END_TEST

START_TEST(test_tampered_messages_fail)
{
	struct kat k;
	struct wg_noise_handshake hi, hr, hr_wrong;
	struct wg_noise_initiation_scratch scratch;
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN], bad[WG_RESP_LEN];

	load_kat(1, &k);
	wg_noise_handshake_init(&hi, &k.initiator, k.responder.public_key, k.psk);
	wg_noise_handshake_init(&hr, &k.responder, k.initiator.public_key, k.psk);
	ck_assert(wg_noise_create_initiation(&hi, &k.initiator, init, k.ie, 1, k.timestamp));

	/* Any flipped bit in the encrypted static or timestamp fails. */
	for (size_t off = WG_INIT_OFF_EPHEMERAL; off < WG_INIT_OFF_MAC1; off += 7) {
		uint8_t t[WG_INIT_LEN];
		memcpy(t, init, sizeof(t));
		t[off] ^= 0x20;
		if (wg_noise_consume_initiation_begin(&k.responder, t, &scratch)) {
			ck_assert_int_eq(wg_noise_consume_initiation_finish(&hr, t, &scratch, 0),
					 WG_NOISE_INITIATION_BAD);
		}
		ck_assert_int_eq(hr.state, WG_HANDSHAKE_ZEROED);
	}
	/* A responder with the wrong preshared key cannot answer usefully. */
	uint8_t other_psk[WG_KEY_LEN];
	memset(other_psk, 0x42, sizeof(other_psk));
	wg_noise_handshake_init(&hr_wrong, &k.responder, k.initiator.public_key, other_psk);
	responder_consumes(&k, &hr_wrong, init, 0, WG_NOISE_INITIATION_OK);
	ck_assert(wg_noise_create_response(&hr_wrong, bad, k.re, 2));
	ck_assert(!wg_noise_consume_response(&hi, &k.initiator, bad));
	/* The failed response left the initiation pending: the right one
	 * still completes it. */
	ck_assert_int_eq(hi.state, WG_HANDSHAKE_CREATED_INITIATION);
	responder_consumes(&k, &hr, init, 0, WG_NOISE_INITIATION_OK);
	ck_assert(wg_noise_create_response(&hr, resp, k.re, 2));
	ck_assert(wg_noise_consume_response(&hi, &k.initiator, resp));
	/* A response cannot be consumed twice. */
	ck_assert(!wg_noise_consume_response(&hi, &k.initiator, resp));
	/* Nor can a response be created without a consumed initiation. */
	struct wg_noise_handshake fresh;
	wg_noise_handshake_init(&fresh, &k.responder, k.initiator.public_key, NULL);
	ck_assert(!wg_noise_create_response(&fresh, bad, k.re, 3));
	struct wg_noise_keypair kp;
	ck_assert(!wg_noise_begin_session(&fresh, &kp, 0));
}
END_TEST

START_TEST(test_low_order_peer_key_refused)
{
	struct kat k;
	struct wg_noise_handshake hs;
	uint8_t init[WG_INIT_LEN];
	/* A point of order 8 on Curve25519: DH with it gives all zeros. */
	uint8_t low_order[WG_KEY_LEN];

	hex_decode(low_order, sizeof(low_order),
		   "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
	load_kat(0, &k);
	wg_noise_handshake_init(&hs, &k.initiator, low_order, NULL);
	ck_assert(wg_is_zero(hs.static_static, WG_KEY_LEN));
	ck_assert(!wg_noise_create_initiation(&hs, &k.initiator, init, k.ie, 1, k.timestamp));
	ck_assert_int_eq(hs.state, WG_HANDSHAKE_ZEROED);
	/* Without a private key nothing is created either. */
	struct wg_noise_local none = { 0 };
	wg_noise_handshake_init(&hs, &none, k.responder.public_key, NULL);
	ck_assert(!wg_noise_create_initiation(&hs, &none, init, k.ie, 1, k.timestamp));
}
END_TEST

static Suite *noise_suite(void)
{
	Suite *s = suite_create("noise");
	TCase *tc = tcase_create("known answers");

	tcase_add_test(tc, test_initial_constants);
	tcase_add_test(tc, test_tai64n);
	tcase_add_test(tc, test_kat_no_psk);
	tcase_add_test(tc, test_kat_psk);
	tcase_add_test(tc, test_kat_mac2_cookie);
	suite_add_tcase(s, tc);
	tc = tcase_create("refusals");
	tcase_add_test(tc, test_replayed_and_older_timestamps_rejected);
	tcase_add_test(tc, test_initiation_flood_limit);
	tcase_add_test(tc, test_tampered_messages_fail);
	tcase_add_test(tc, test_low_order_peer_key_refused);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(noise_suite)
