/* SPDX-License-Identifier: MIT */
/*
 * The key-redaction rule (core/redact.h) that the core's parse errors and
 * the daemon's log lines share: whole keys, base64 or hex, with or without
 * their padding, and key-like pieces are caught; names and their typos,
 * numbers and absolute paths are not.
 */
#include "redact.h"

#include <string.h>

#include "crypto.h"
#include "support.h"

static bool may_hold_key(const char *text)
{
	return wg_may_hold_key(text, strlen(text));
}

START_TEST(test_whole_keys)
{
	ck_assert(may_hold_key("OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI="));
	ck_assert(may_hold_key("OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI"));
	ck_assert(may_hold_key("6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs="));
	ck_assert(may_hold_key("38aaf39e0bb1e2a3e9209666ec8ab2a1"
			       "38aaf39e0bb1e2a3e9209666ec8ab2a1"));
	ck_assert(may_hold_key("38AAF39E0BB1E2A3E9209666EC8AB2A1"
			       "38AAF39E0BB1E2A3E9209666EC8AB2A1"));
	/* Inside other text. */
	ck_assert(may_hold_key("host.example.OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqd"
			       "yFK1PGVXI=.example:1"));
	ck_assert(may_hold_key("listen_port=6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7Fwo"
			       "MiH7xrpFs"));
}
END_TEST

/* Keys drawn from a fixed generator, in all four forms: none slips by. */
START_TEST(test_many_keys_in_every_form)
{
	uint64_t rng = 7;

	for (int n = 0; n < 20000; n++) {
		uint8_t key[WG_KEY_LEN];
		char b64[WG_KEY_BASE64_LEN], hex[WG_KEY_HEX_LEN];

		for (size_t i = 0; i < sizeof(key); i++) {
			rng = rng * 6364136223846793005ULL +
			      1442695040888963407ULL;
			key[i] = (uint8_t)(rng >> 56);
		}
		wg_key_to_base64(b64, key);
		wg_key_to_hex(hex, key);
		ck_assert_msg(wg_may_hold_key(b64, 44), "%s", b64);
		ck_assert_msg(wg_may_hold_key(b64, 43), "%.43s", b64);
		ck_assert_msg(wg_may_hold_key(hex, 64), "%s", hex);
		for (size_t i = 0; i < 64; i++)
			if (hex[i] >= 'a')
				hex[i] = (char)(hex[i] - 'a' + 'A');
		ck_assert_msg(wg_may_hold_key(hex, 64), "%s", hex);
	}
}
END_TEST

START_TEST(test_key_like_pieces)
{
	/* 16 characters with a digit before a letter, a '+' or an '='. */
	ck_assert(may_hold_key("6SCWZuT/kO8Q2C6L3ynL"));
	ck_assert(may_hold_key("6SCWZuTkO8Q2C6L3ynL2K:1"));
	ck_assert(may_hold_key("zO8Q2C6L3ynL2K58"));
	ck_assert(!may_hold_key("zO8Q2C6L3ynL2K5"));
	ck_assert(may_hold_key("abcdefghijklmno+"));
	ck_assert(may_hold_key("abcdefghijklmno="));
	ck_assert(may_hold_key("0123456789abcdef"));
	/* 24 letters and digits, whatever they are. */
	ck_assert(may_hold_key("a_bcdefghijabcdefghijabcd1"));
	ck_assert(!may_hold_key("a_bcdefghijabcdefghijabc1"));
	ck_assert(may_hold_key("abcdefghijklmnopqrstuvwx"));
	ck_assert(!may_hold_key("abcdefghijklmnopqrstuvw"));
	/* A run with a '/' that mixes cases, however the '/'s cut it. */
	ck_assert(may_hold_key("abcdefghijklmnopqrstu/vwxyzABCDEFGHIJKLMNOP"));
	ck_assert(may_hold_key("kO8Q2C/6L3ynL2Kx"));
	ck_assert(!may_hold_key("kO8Q2C/6L3ynL2K"));
	/* A path whose part is a 24-letter run still is one, or one with a
	 * part of 16 that mixes digits into letters. */
	ck_assert(may_hold_key("/etc/abcdefghijklmnopqrstuvwx"));
	ck_assert(may_hold_key("/etc/zO8Q2C6L3ynL2K58"));
	/* A key that begins with '/' is caught whole, however its other
	 * '/'s cut it. */
	ck_assert(may_hold_key("/kO8Q2C6L3y/L2K583YcVu/7FwoMiH7xrp/sQ2C6L3y"));
	ck_assert(may_hold_key("/kO8Q2C6L3y/L2K583YcVu/7FwoMiH7xrp/sQ2C6L3="));
}
END_TEST

START_TEST(test_what_still_prints)
{
	ck_assert(!may_hold_key("PersistentKeepAlive2"));
	ck_assert(!may_hold_key("PersistentKeepalive"));
	ck_assert(!may_hold_key("persistent_keepalive_interval=25"));
	ck_assert(!may_hold_key("Listen Port"));
	ck_assert(!may_hold_key("vpn.example.com:51820"));
	ck_assert(!may_hold_key("fe80::/64%1"));
	ck_assert(!may_hold_key("rx 18446744073709551615 bytes"));
	ck_assert(!may_hold_key("peer OKrznnAW...: handshake completed"));
	ck_assert(!may_hold_key("/run/wireguard/wg0.sock"));
	ck_assert(!may_hold_key("/usr/local/etc/wireguard/wg0.conf"));
	ck_assert(!may_hold_key("/tmp/pytest-of-root/pytest-12/test_key_as_"
				"endpoint0/ugt12345.conf:4: Endpoint: a key"));
	ck_assert(!may_hold_key("/var/lib/uniguard/peers/gateway1/clients"));
	/* A path's parts are judged one by one (the suite's interface
	 * names are hex). */
	ck_assert(!may_hold_key("interface ugt1b923 ready, UAPI socket "
				"/var/run/wireguard/ugt1b923.sock"));
	ck_assert(!may_hold_key("/home/a1b2/c3d4e5/f6a7b8c9d0e1f2a"));
	ck_assert(!may_hold_key("/tmp/pytest-of-root/pytest-256/test_exposed_"
				"config_file_draws0/ugt6041bf.conf is "
				"accessible to others"));
	ck_assert(!may_hold_key("harness/data/seed/nanoswg.conf"));
	ck_assert(!may_hold_key("2026-11-24T21:00:00.123Z"));
	ck_assert(!may_hold_key(""));
}
END_TEST

START_TEST(test_runs)
{
	ck_assert(wg_key_alphabet('a') && wg_key_alphabet('Z') &&
		  wg_key_alphabet('0') && wg_key_alphabet('+') &&
		  wg_key_alphabet('/'));
	ck_assert(!wg_key_alphabet('=') && !wg_key_alphabet('.') &&
		  !wg_key_alphabet('_') &&
		  !wg_key_alphabet('-') && !wg_key_alphabet(' ') &&
		  !wg_key_alphabet(':') && !wg_key_alphabet('\0'));
	/* A run is the alphabet, then its padding. */
	ck_assert_uint_eq(wg_key_run_len("key=abc", 7), 4);
	ck_assert_uint_eq(wg_key_run_len("ab==c", 5), 4);
	ck_assert_uint_eq(wg_key_run_len("=ab", 3), 0);
	ck_assert_uint_eq(wg_key_run_len(".ab", 3), 0);
	ck_assert_uint_eq(wg_key_run_len("abc", 2), 2);
	/* Fifteen is never enough, whatever they are. */
	ck_assert(!wg_key_like_run("6SCWZuT/kO8Q2C6", 15));
	ck_assert(wg_key_like_run("6SCWZuT/kO8Q2C6L", 16));
}
END_TEST

/* A host name about to be looked up: refused only for a whole key. */
START_TEST(test_whole_key_in_a_host)
{
	const char *key = "6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs=";
	const char *hex = "38aaf39e0bb1e2a3e9209666ec8ab2a1"
			  "38aaf39e0bb1e2a3e9209666ec8ab2a1";

	ck_assert(wg_holds_whole_key(key, 44));
	ck_assert(wg_holds_whole_key(key, 43));
	ck_assert(!wg_holds_whole_key(key, 42));
	ck_assert(wg_holds_whole_key(hex, 64));
	ck_assert(!wg_holds_whole_key("vpn.example.com", 15));
	/* Pieces and long labels are names, even where a message would not
	 * print them. */
	ck_assert(!wg_holds_whole_key("6SCWZuT5kO8Q2C6L3ynL2K583YcV.example",
				      36));
	ck_assert(may_hold_key("6SCWZuT5kO8Q2C6L3ynL2K583YcV.example"));
	ck_assert(!wg_holds_whole_key("a1b2c3d4e5f6a7b8.cloudfront.net", 31));
}
END_TEST

static Suite *redact_suite(void)
{
	Suite *su = suite_create("redact");
	TCase *tc = tcase_create("redact");

	tcase_add_test(tc, test_whole_keys);
	tcase_add_test(tc, test_many_keys_in_every_form);
	tcase_add_test(tc, test_key_like_pieces);
	tcase_add_test(tc, test_what_still_prints);
	tcase_add_test(tc, test_runs);
	tcase_add_test(tc, test_whole_key_in_a_host);
	suite_add_tcase(su, tc);
	return su;
}

UNIGUARD_TEST_MAIN(redact_suite)
