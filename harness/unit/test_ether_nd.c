/* SPDX-License-Identifier: MIT */
/*
 * Neighbour discovery (netdev/ether_nd.c) without a device: advertisements
 * checked byte for byte against frames built by a separate implementation,
 * the validity rules of RFC 4861 7.1, proxying and duplicate address
 * detection.
 */
#include "ether_fixtures.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

START_TEST(test_ns_own_address)
{
	struct ether *e = make(false);
	uint8_t mac[6];

	ck_assert_int_eq(feed_hex(e, S, ns_own), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], na_own);
	ck_assert(ether_neigh_lookup(e, S, AF_INET6, host6, mac));
	ck_assert_mem_eq(mac, host_mac, 6);
	ether_free(e);
}
END_TEST

START_TEST(test_ns_validity)
{
	struct ether *e = make(false);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	/* Not from this link: a hop limit below 255. */
	feed(e, S, ns_own, buf, &off, &len);
	n_frames = 0;
	{
		size_t n;
		uint8_t *b = hex_decode_alloc(ns_own, &n);

		b[14 + 7] = 64;
		ck_assert_int_eq(ether_input(e, S, b, n, &off, &len),
				 ETHER_MALFORMED);
		b[14 + 7] = 255;
		b[14 + 40 + 2] ^= 1;	/* checksum */
		ck_assert_int_eq(ether_input(e, S, b, n, &off, &len),
				 ETHER_MALFORMED);
		free(b);
	}
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_ns_proxy_and_dad)
{
	static const uint8_t client6[16] = { 0xfd, 0, 0x02, 0x40, [14] = 1 };
	struct ether_prefix p = { AF_INET6, 128, { 0xfd, 0, 0x02, 0x40,
						   [14] = 1 } };
	struct ether *e = make(true);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t n, off, len;
	uint8_t *b = hex_decode_alloc(ns_own, &n);
	uint8_t *ip = b + 14, *msg = ip + 40;
	uint16_t c;

	ck_assert_int_eq(ether_set_tunnel_routes(e, &p, 1), 0);
	/* The host asks for the client's address fd00:240::100. */
	memcpy(msg + 8, client6, 16);
	ip[24 + 13] = 0;
	ip[24 + 14] = 1;
	ip[24 + 15] = 0;
	b[3] = 0;
	b[4] = 1;
	b[5] = 0;
	msg[2] = msg[3] = 0;
	{
		/* The checksum over the pseudo-header, by the test's sum. */
		uint8_t ph[40 + 32];

		memcpy(ph, ip + 8, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 32;
		ph[39] = 58;
		memcpy(ph + 40, msg, 32);
		c = sum16(ph, sizeof(ph));
		msg[2] = (uint8_t)(c >> 8);
		msg[3] = (uint8_t)c;
	}
	memcpy(buf, b, n);
	ck_assert_int_eq(ether_input(e, S, buf, n, &off, &len),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	/* Solicited, router, and no override: the owner would win. */
	ck_assert_uint_eq(frames[0][14 + 40], 136);
	ck_assert_uint_eq(frames[0][14 + 40 + 4], 0xc0);
	ck_assert_mem_eq(frames[0] + 14 + 40 + 8, client6, 16);
	ck_assert_mem_eq(frames[0] + 14 + 40 + 26, our_mac, 6);
	ck_assert_mem_eq(frames[0], host_mac, 6);

	/* Duplicate address detection for our own address: from ::, no
	 * link-layer option; the answer goes to all nodes, unsolicited. */
	n_frames = 0;
	free(b);
	b = hex_decode_alloc(ns_own, &n);
	ip = b + 14;
	msg = ip + 40;
	memset(ip + 8, 0, 16);
	ip[5] = 24;
	msg[2] = msg[3] = 0;
	{
		uint8_t ph[40 + 24];

		memcpy(ph, ip + 8, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 24;
		ph[39] = 58;
		memcpy(ph + 40, msg, 24);
		c = sum16(ph, sizeof(ph));
		msg[2] = (uint8_t)(c >> 8);
		msg[3] = (uint8_t)c;
	}
	ck_assert_int_eq(ether_input(e, S, b, 14 + 40 + 24, &off, &len),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_uint_eq(frames[0][0], 0x33);
	ck_assert_uint_eq(frames[0][5], 0x01);
	ck_assert_uint_eq(frames[0][14 + 40 + 4], 0xa0);	/* R, O */
	free(b);
	ether_free(e);
}
END_TEST

static Suite *ether_nd_suite(void)
{
	Suite *s = suite_create("ether_nd");
	TCase *tc = tcase_create("ether_nd");

	tcase_add_test(tc, test_ns_own_address);
	tcase_add_test(tc, test_ns_validity);
	tcase_add_test(tc, test_ns_proxy_and_dad);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ether_nd_suite)
