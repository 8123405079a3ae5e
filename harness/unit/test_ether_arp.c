/* SPDX-License-Identifier: MIT */
/*
 * ARP (netdev/ether_arp.c) without a device: answers for our address and
 * proxied ones checked byte for byte against frames built by a separate
 * implementation, probes defended, malformed requests refused.
 */
#include "ether_fixtures.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

START_TEST(test_arp_own_address)
{
	struct ether *e = make(false);
	uint8_t mac[6];

	ck_assert_int_eq(feed_hex(e, S, arp_request_own), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_reply_own);
	/* The asker is known now, without asking it. */
	ck_assert(ether_neigh_lookup(e, S, AF_INET, host4, mac));
	ck_assert_mem_eq(mac, host_mac, 6);
	ck_assert(!ether_neigh_lookup(e, S + ETHER_REACHABLE_NS, AF_INET,
				      host4, mac));
	ether_free(e);
}
END_TEST

START_TEST(test_arp_proxy)
{
	static const uint8_t client[4] = { 10, 240, 100, 2 };
	static const uint8_t outside[4] = { 10, 0, 0, 2 };
	struct ether_prefix client32 = { AF_INET, 32, { 10, 240, 100, 2 } };
	struct ether_prefix all = { AF_INET, 0, { 0 } };
	struct ether_prefix vpn = { AF_INET, 24, { 10, 0, 0, 0 } };
	struct ether *e = make(false);
	uint8_t f[60];

	/* Off: nobody answers for the client. */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &client32, 1), 0);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_IGNORED);
	ck_assert_uint_eq(n_frames, 0);

	/* On: answered with our MAC for the client's address. */
	ether_set_proxy(e, true);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_reply_proxy);

	/* A host announcing the address itself is not asking. */
	n_frames = 0;
	arp_frame(f, 1, host_mac, client, client);
	ck_assert_int_ne(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 0);

	/* A route for everything claims nothing on the segment... */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &all, 1), 0);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_LEARNED);
	/* ...and addresses off the segment are routed, not proxied. */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &vpn, 1), 0);
	arp_frame(f, 1, host_mac, host4, outside);
	ck_assert_int_ne(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_arp_probe_defended)
{
	static const uint8_t zero[4];
	struct ether *e = make(false);
	uint8_t f[60];

	/* RFC 5227: a probe for our address hears that it is taken. */
	arp_frame(f, 1, host_mac, zero, own4);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_mem_eq(frames[0], host_mac, 6);
	ck_assert_mem_eq(frames[0] + 14 + 24, zero, 4);	/* tpa */
	ck_assert_uint_eq(ether_neigh_count(e), 0);	/* nothing learned */
	ether_free(e);
}
END_TEST

START_TEST(test_arp_malformed)
{
	struct ether *e = make(false);
	uint8_t f[60];

	arp_frame(f, 1, host_mac, host4, own4);
	f[18] = 8;	/* hardware address length */
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	arp_frame(f, 3, host_mac, host4, own4);	/* RARP's opcode */
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	arp_frame(f, 1, host_mac, host4, own4);
	ck_assert_int_eq(ether_input(e, S, f, 14 + 27, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	ck_assert_int_eq(ether_input(e, S, f, 13, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	ck_assert_uint_eq(n_frames, 0);
	ck_assert_uint_eq(ether_stats(e)[ETHER_MALFORMED], 4);
	ether_free(e);
}
END_TEST

static Suite *ether_arp_suite(void)
{
	Suite *s = suite_create("ether_arp");
	TCase *tc = tcase_create("ether_arp");

	tcase_add_test(tc, test_arp_own_address);
	tcase_add_test(tc, test_arp_proxy);
	tcase_add_test(tc, test_arp_probe_defended);
	tcase_add_test(tc, test_arp_malformed);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ether_arp_suite)
