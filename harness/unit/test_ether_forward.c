/* SPDX-License-Identifier: MIT */
/*
 * IP forwarding (netdev/ether_forward.c) without a device: the rules both
 * ways, echo answers checked byte for byte, and the incremental TTL
 * checksum against a full recomputation.
 */
#include "ether_fixtures.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

START_TEST(test_gateway)
{
	static const uint8_t gw[4] = { 10, 240, 0, 1 };
	static const uint8_t far[4] = { 198, 51, 100, 7 };
	struct ether *e = make(false);
	uint8_t pkt[28];

	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, far, 64,
		    sizeof(pkt));
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)),
			 ETHER_NO_ROUTE);
	ck_assert_uint_eq(n_frames, 0);
	ck_assert_int_eq(ether_set_gateway(e, AF_INET, gw), 0);
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_mem_eq(frames[0] + 14 + 24, gw, 4);	/* who has gw? */
	ether_free(e);
}
END_TEST

START_TEST(test_output_refusals)
{
	struct ether *e = make(false);
	uint8_t pkt[1600];
	static const uint8_t src[4] = { 10, 0, 0, 2 };

	ipv4_packet(pkt, src, own4, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_LOCAL);
	ipv4_packet(pkt, src, (const uint8_t[]){ 224, 0, 0, 1 }, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_NO_ROUTE);
	ipv4_packet(pkt, src, (const uint8_t[]){ 10, 240, 255, 255 }, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_NO_ROUTE);
	ipv4_packet(pkt, src, host4, 1, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_TTL_EXPIRED);
	ipv4_packet(pkt, src, host4, 64, 1501);
	ck_assert_int_eq(ether_output(e, S, pkt, 1501), ETHER_TOO_BIG);
	ipv4_packet(pkt, src, host4, 64, 40);
	ck_assert_int_eq(ether_output(e, S, pkt, 39), ETHER_MALFORMED);
	ck_assert_int_eq(ether_output(e, S, pkt, 0), ETHER_MALFORMED);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_input_forwarding)
{
	struct ether *e = make(false);
	uint8_t f[ETHER_FRAME_MAX];
	size_t off, len;
	static const uint8_t client[4] = { 10, 0, 0, 2 };

	/* A 28-byte packet in a padded 60-byte frame, to our MAC. */
	memset(f, 0, sizeof(f));
	memcpy(f, our_mac, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x08;
	ipv4_packet(f + 14, host4, client, 64, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_TO_TUNNEL);
	ck_assert_uint_eq(off, 14);
	ck_assert_uint_eq(len, 28);
	ck_assert_uint_eq(f[14 + 8], 63);
	ck_assert_uint_eq(sum16(f + 14, 20), 0);	/* still valid */

	/* For another MAC (a bridge flooding): not ours. */
	f[5] = 9;
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len), ETHER_IGNORED);
	f[5] = 1;
	/* The last hop. */
	ipv4_packet(f + 14, host4, client, 1, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_TTL_EXPIRED);
	/* The segment's broadcast. */
	ipv4_packet(f + 14, host4, (const uint8_t[]){ 10, 240, 255, 255 },
		    64, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len), ETHER_IGNORED);
	/* A broken header checksum. */
	ipv4_packet(f + 14, host4, client, 64, 28);
	f[14 + 10] ^= 0x40;
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_MALFORMED);
	/* IPv6 to a link-local address stays on the link. */
	memset(f + 14, 0, 48);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[14 + 5] = 8;
	f[14 + 6] = 17;
	f[14 + 7] = 64;
	memcpy(f + 14 + 8, host6, 16);
	f[14 + 24] = 0xfe;
	f[14 + 25] = 0x80;
	f[14 + 39] = 7;
	ck_assert_int_eq(ether_input(e, S, f, 14 + 48, &off, &len),
			 ETHER_IGNORED);
	f[14 + 24] = 0xfd;
	f[14 + 25] = 0;
	ck_assert_int_eq(ether_input(e, S, f, 14 + 48, &off, &len),
			 ETHER_TO_TUNNEL);
	ck_assert_uint_eq(len, 48);
	ck_assert_uint_eq(f[14 + 7], 63);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_echo)
{
	struct ether *e = make(false);

	ck_assert_int_eq(feed_hex(e, S, echo_to_us), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], echo_reply_ours);
	ck_assert_int_eq(feed_hex(e, S, echo6_to_us), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_hex_eq(frames[1], frame_len[1], echo6_reply_ours);
	ether_free(e);
}
END_TEST

START_TEST(test_dec_ttl_matches_full_sum)
{
	uint8_t hdr[20];
	uint32_t x = 12345;

	for (int i = 0; i < 20000; i++) {
		uint16_t c;

		for (size_t k = 0; k < sizeof(hdr); k++) {
			x = x * 1103515245u + 12345u;
			hdr[k] = (uint8_t)(x >> 16);
		}
		hdr[0] = 0x45;
		hdr[8] = (uint8_t)(hdr[8] | 2);	/* TTL of 2 or more */
		if (i < 256) {			/* every TTL and protocol */
			hdr[8] = (uint8_t)(i < 2 ? i + 2 : i);
			hdr[9] = (uint8_t)(255 - i);
		}
		hdr[10] = hdr[11] = 0;
		c = sum16(hdr, 20);
		hdr[10] = (uint8_t)(c >> 8);
		hdr[11] = (uint8_t)c;
		ether_ipv4_dec_ttl(hdr);
		ck_assert_uint_eq(sum16(hdr, 20), 0);
	}
}
END_TEST

static Suite *ether_forward_suite(void)
{
	Suite *s = suite_create("ether_forward");
	TCase *tc = tcase_create("ether_forward");

	tcase_add_test(tc, test_gateway);
	tcase_add_test(tc, test_output_refusals);
	tcase_add_test(tc, test_input_forwarding);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_dec_ttl_matches_full_sum);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ether_forward_suite)
