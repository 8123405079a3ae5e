/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers for the Check suites: a main() per suite, hex decoding,
 * reading fixtures from harness/data, and looking up known-answer values in
 * harness/data/wg_handshake_kat.json.
 */
#ifndef UNIGUARD_TEST_SUPPORT_H
#define UNIGUARD_TEST_SUPPORT_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Each test_<module>.c ends with UNIGUARD_TEST_MAIN(<module>_suite). */
#define UNIGUARD_TEST_MAIN(suite_fn)                                   \
	int main(void)                                                 \
	{                                                              \
		SRunner *sr = srunner_create(suite_fn());              \
		srunner_run_all(sr, CK_NORMAL);                        \
		int failed = srunner_ntests_failed(sr);                \
		srunner_free(sr);                                      \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS;           \
	}

/* Decodes exactly outlen bytes of hex; aborts the test on a mismatch. */
void hex_decode(uint8_t *out, size_t outlen, const char *hex);
/* Allocated bytes of a hex string; *outlen gets the length. */
uint8_t *hex_decode_alloc(const char *hex, size_t *outlen);
/* ck_assert that got equals the hex string want, printing both on failure. */
#define ck_assert_hex_eq(got, len, want) support_assert_hex((got), (len), (want), __FILE__, __LINE__)
void support_assert_hex(const uint8_t *got, size_t len, const char *want,
			const char *file, int line);

/* RFC 1071's plain ones'-complement sum of big-endian 16-bit words, folded,
 * added to acc: the reference the checksum tests hold inet.h's to. */
uint16_t ref_ones_sum(const uint8_t *p, size_t len, uint32_t acc);

/* A fixture under harness/data (NUL-terminated, *len without the NUL). */
char *read_fixture(const char *relpath, size_t *len);

/* The string value of "key" inside the object that follows the n-th
 * occurrence of "section" (e.g. section "\"handshakes\"" n 0 means the first
 * handshake). Searches the KAT file; returns a malloc'd string or aborts. */
char *kat_value(const char *section, int n, const char *key);

#endif
