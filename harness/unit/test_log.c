/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log lines (daemon/log.c): log_redact replaces what the rule
 * of core/redact.h takes for a key, and nothing else, in place.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>

#include "support.h"

static void check_redact(const char *in, const char *want)
{
	char buf[512];

	snprintf(buf, sizeof(buf), "%s", in);
	log_redact(buf);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_redact_keys)
{
	check_redact("key OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI= set",
		     "key [redacted] set");
	check_redact("key OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI",
		     "key [redacted]");
	check_redact("public_key=38aaf39e0bb1e2a3e9209666ec8ab2a1"
		     "38aaf39e0bb1e2a3e9209666ec8ab2a1\n",
		     "public_key=[redacted]\n");
	check_redact("'6SCWZuT/kO8Q2C6L3ynL:51820'", "'[redacted]:51820'");
	check_redact("a_bcdefghijabcdefghijabcd1", "a_[redacted]");
}
END_TEST

START_TEST(test_redact_leaves_the_rest)
{
	const char *lines[] = {
		"/tmp/pytest-of-root/pytest-3/test_x0/ugt1.conf:4: Endpoint: "
		"a key, not a host name",
		"listening on /run/wireguard/wg0.sock",
		"interface ugt1b923 ready, UAPI socket "
		"/var/run/wireguard/ugt1b923.sock",
		"/tmp/pytest-of-root/pytest-256/test_exposed_config_file_"
		"draws0/ugt6041bf.conf is accessible to others (mode 0644)",
		"config /usr/local/etc/wireguard/wg0.conf",
		"PersistentKeepAlive2: unknown key",
		"new public key OKrznnAW...",
		"rx 18446744073709551615 bytes",
		"cannot resolve 'vpn.invalid:51820'",
		"",
	};

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		check_redact(lines[i], lines[i]);
}
END_TEST

static Suite *log_suite(void)
{
	Suite *su = suite_create("log");
	TCase *tc = tcase_create("redact");

	tcase_add_test(tc, test_redact_keys);
	tcase_add_test(tc, test_redact_leaves_the_rest);
	suite_add_tcase(su, tc);
	return su;
}

UNIGUARD_TEST_MAIN(log_suite)
