/* SPDX-License-Identifier: MIT */
/*
 * Inner-packet layout (core/inet.h): the Internet checksum against RFC 1071's
 * worked example and a plain byte-pair reference, its pseudo-headers
 * against a sum written out word by word, the IPv4 header checksum, and the
 * big-endian loads and stores.
 */
#include "inet.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "support.h"

START_TEST(test_checksum_known_answer)
{
	/* RFC 1071 section 3: the sum of these words is ddf2 (folded). */
	static const uint8_t words[] = { 0x00, 0x01, 0xf2, 0x03,
					 0xf4, 0xf5, 0xf6, 0xf7 };
	uint16_t sum = inet_csum_fold(inet_csum_add(0, words, 8));
	uint8_t be[2];

	memcpy(be, &sum, 2);
	ck_assert_uint_eq(be[0], (uint8_t)~0xdd);
	ck_assert_uint_eq(be[1], (uint8_t)~0xf2);
}
END_TEST

START_TEST(test_checksum_against_reference)
{
	uint8_t buf[3000];
	uint64_t rng = 1;

	for (size_t i = 0; i < sizeof(buf); i++) {
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		buf[i] = (uint8_t)(rng >> 56);
	}
	for (size_t len = 0; len < sizeof(buf); len += 1 + len / 7) {
		uint16_t got = inet_csum_fold(inet_csum_add(0, buf, len));
		uint16_t want = (uint16_t)~ref_ones_sum(buf, len, 0);
		uint8_t be[2];
		uint64_t acc = 0;

		memcpy(be, &got, 2);
		ck_assert_uint_eq((unsigned)(be[0] << 8 | be[1]), want);
		/* Chunks at even offsets add up to the same. */
		for (size_t off = 0; off < len; off += 2 * (1 + off % 37)) {
			size_t n = 2 * (1 + off % 37);

			acc = inet_csum_add(acc, buf + off,
					       off + n > len ? len - off : n);
		}
		ck_assert_uint_eq(inet_csum_fold(acc), got);
	}
}
END_TEST

START_TEST(test_pseudo_headers)
{
	/* RFC 768 / RFC 8200 8.1 written out as big-endian words. */
	uint8_t src4[4], dst4[4], src6[16], dst6[16], be[2];
	uint32_t want;
	uint16_t got;

	ck_assert_int_eq(inet_pton(AF_INET, "10.1.2.3", src4), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "192.0.2.250", dst4), 1);
	want = (uint32_t)ref_ones_sum(src4, 4, 0) + ref_ones_sum(dst4, 4, 0) +
	       IPPROTO_UDP + 1234;
	got = inet_csum_fold(inet_pseudo_sum(src4, dst4, 4, IPPROTO_UDP, 1234));
	memcpy(be, &got, 2);
	ck_assert_uint_eq((unsigned)(be[0] << 8 | be[1]),
			  (uint16_t)~ref_ones_sum((const uint8_t *)"", 0, want));

	ck_assert_int_eq(inet_pton(AF_INET6, "fd00::1:ffff", src6), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "2001:db8::beef", dst6), 1);
	/* A 32-bit length: its upper half counts too. */
	want = (uint32_t)ref_ones_sum(src6, 16, 0) + ref_ones_sum(dst6, 16, 0) +
	       IPPROTO_ICMPV6 + 0x1 + 0x2345;
	got = inet_csum_fold(inet_pseudo_sum(src6, dst6, 16, IPPROTO_ICMPV6,
					     0x12345));
	memcpy(be, &got, 2);
	ck_assert_uint_eq((unsigned)(be[0] << 8 | be[1]),
			  (uint16_t)~ref_ones_sum((const uint8_t *)"", 0, want));
}
END_TEST

START_TEST(test_ipv4_header_checksum)
{
	uint8_t ip[24] = { 0x46, 0, 0, 24, 0x12, 0x34, 0x40, 0, 64, 17,
			   0xaa, 0xbb, 10, 0, 0, 1, 10, 0, 0, 2, 1, 1, 1, 1 };

	ck_assert_uint_eq(inet_ipv4_hdr_len(ip), 24);
	inet_ipv4_set_checksum(ip, inet_ipv4_hdr_len(ip));
	ck_assert_uint_eq(ref_ones_sum(ip, 24, 0), 0xffff);
	ck_assert_uint_eq(inet_csum_fold(inet_csum_add(0, ip, 24)), 0);
}
END_TEST

START_TEST(test_byte_order)
{
	uint8_t b[4];

	inet_put16(b, 0x1234);
	ck_assert_uint_eq(b[0], 0x12);
	ck_assert_uint_eq(b[1], 0x34);
	ck_assert_uint_eq(inet_get16(b), 0x1234);
	inet_put32(b, 0xdeadbeef);
	ck_assert_uint_eq(b[0], 0xde);
	ck_assert_uint_eq(b[3], 0xef);
	ck_assert_uint_eq(inet_get32(b), 0xdeadbeef);
	b[0] = 0x45;
	ck_assert_uint_eq(inet_version(b), 4);
	b[0] = 0x60;
	ck_assert_uint_eq(inet_version(b), 6);
}
END_TEST

static Suite *inet_suite(void)
{
	Suite *suite = suite_create("inet");
	TCase *tc = tcase_create("inner-packet layout");

	tcase_add_test(tc, test_checksum_known_answer);
	tcase_add_test(tc, test_checksum_against_reference);
	tcase_add_test(tc, test_pseudo_headers);
	tcase_add_test(tc, test_ipv4_header_checksum);
	tcase_add_test(tc, test_byte_order);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIGUARD_TEST_MAIN(inet_suite)
