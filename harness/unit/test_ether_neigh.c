/* SPDX-License-Identifier: MIT */
/*
 * The neighbour cache (netdev/ether_neigh.c) without a device: resolution
 * with its queue and its bounds, retries, expiry and refresh under a clock
 * moved by hand, and eviction from a full table.
 */
#include "ether_fixtures.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

START_TEST(test_resolve_then_send)
{
	struct ether *e = make(false);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	ck_assert_int_eq(send_hex(e, S, tunnel_ping), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_request_ours);
	ck_assert_uint_eq(ether_pending_count(e), 1);

	ck_assert_int_eq(feed(e, S + 1000, arp_reply_host, buf, &off, &len),
			 ETHER_LEARNED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_hex_eq(frames[1], frame_len[1], tunnel_ping_framed);
	ck_assert_uint_eq(ether_pending_count(e), 0);

	/* Known now: straight out. */
	ck_assert_int_eq(send_hex(e, S + 2000, tunnel_ping), ETHER_SENT);
	ck_assert_uint_eq(n_frames, 3);
	ck_assert_hex_eq(frames[2], frame_len[2], tunnel_ping_framed);
	ether_free(e);
}
END_TEST

START_TEST(test_resolve_ipv6)
{
	struct ether *e = make(false);
	uint8_t pkt[48], buf[ETHER_FRAME_MAX];
	size_t off, len;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[5] = 8;
	pkt[6] = 17;
	pkt[7] = 64;
	pkt[8] = 0xfd;		/* from fd00::2, a client */
	pkt[23] = 2;
	memcpy(pkt + 24, host6, 16);
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], ns_ours);
	ck_assert_int_eq(feed(e, S + 5, na_host, buf, &off, &len),
			 ETHER_LEARNED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_mem_eq(frames[1], host_mac, 6);
	ck_assert_uint_eq(frames[1][14 + 7], 63);	/* hop limit */
	ck_assert_mem_eq(frames[1] + 14 + 24, host6, 16);
	ether_free(e);
}
END_TEST

START_TEST(test_pending_bounds)
{
	struct ether *e = make(false);
	uint8_t pkt[28];
	uint8_t dst[4] = { 10, 240, 1, 0 };
	size_t queued = 0;

	/* ETHER_PENDING_PER_NEIGH for one next hop, the rest dropped. */
	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, dst, 64,
		    sizeof(pkt));
	for (int i = 0; i < ETHER_PENDING_PER_NEIGH + 2; i++) {
		enum ether_verdict v = ether_output(e, S, pkt, sizeof(pkt));

		ck_assert_int_eq(v, i < ETHER_PENDING_PER_NEIGH ?
					    ETHER_QUEUED :
					    ETHER_UNRESOLVED);
	}
	/* One request, however many packets wait. */
	ck_assert_uint_eq(n_frames, 1);
	/* ETHER_PENDING_MAX over all next hops. */
	for (int h = 1; queued < 2 * ETHER_PENDING_MAX; h++) {
		dst[3] = (uint8_t)h;
		ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, dst, 64,
			    sizeof(pkt));
		for (int i = 0; i < ETHER_PENDING_PER_NEIGH; i++, queued++)
			(void)ether_output(e, S, pkt, sizeof(pkt));
	}
	ck_assert_uint_eq(ether_pending_count(e), ETHER_PENDING_MAX);
	ck_assert_uint_eq(ether_stats(e)[ETHER_QUEUED], ETHER_PENDING_MAX);
	ether_free(e);
}
END_TEST

START_TEST(test_retry_and_give_up)
{
	struct ether *e = make(false);

	ck_assert_int_eq(send_hex(e, S, tunnel_ping), ETHER_QUEUED);
	ck_assert_int_eq(send_hex(e, S + S / 2, tunnel_ping), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);		/* not yet asked again */
	ck_assert_int_eq(send_hex(e, S + ETHER_RETRY_NS, tunnel_ping),
			 ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 2);		/* once a second */
	ck_assert_hex_eq(frames[1], frame_len[1], arp_request_ours);
	ck_assert_uint_eq(ether_pending_count(e), 3);

	/* Unanswered for ETHER_GIVE_UP_NS: the packets go with it. */
	ck_assert_int_eq(feed_hex(e, S + ETHER_GIVE_UP_NS, arp_request_own),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(ether_pending_count(e), 0);
	ck_assert_uint_eq(ether_stats(e)[ETHER_UNRESOLVED], 3);
	/* The request above made the host known afresh, though. */
	ck_assert_uint_eq(ether_neigh_count(e), 1);
	ether_free(e);
}
END_TEST

START_TEST(test_expiry_and_refresh)
{
	struct ether *e = make(false);
	uint64_t t0 = 10 * S;

	ck_assert_int_eq(feed_hex(e, t0, arp_request_own), ETHER_ANSWERED);
	n_frames = 0;
	/* Fresh: no question asked. */
	ck_assert_int_eq(send_hex(e, t0 + 30 * S, tunnel_ping), ETHER_SENT);
	ck_assert_uint_eq(n_frames, 1);
	/* Close to expiry: sent, and the host asked directly. */
	ck_assert_int_eq(send_hex(e, t0 + ETHER_REACHABLE_NS -
					     ETHER_REFRESH_NS,
				  tunnel_ping),
			 ETHER_SENT);
	ck_assert_uint_eq(n_frames, 3);
	ck_assert_hex_eq(frames[1], frame_len[1], tunnel_ping_framed);
	ck_assert_mem_eq(frames[2], host_mac, 6);	/* unicast ARP */
	ck_assert_uint_eq(frames[2][12], 0x08);
	ck_assert_uint_eq(frames[2][13], 0x06);
	/* Exactly at expiry it is gone: asked by broadcast again. */
	n_frames = 0;
	ck_assert_int_eq(send_hex(e, t0 + ETHER_REACHABLE_NS, tunnel_ping),
			 ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_request_ours);
	ether_free(e);
}
END_TEST

/* Host i of the table test: 52:54:00:00:HH:LL at 10.240.(2 + HH).LL. */
static void table_host(int i, uint8_t mac[6], uint8_t ip[4])
{
	static const uint8_t base_mac[6] = { 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(mac, base_mac, 6);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
	ip[0] = 10;
	ip[1] = 240;
	ip[2] = (uint8_t)(2 + (i >> 8));
	ip[3] = (uint8_t)i;
}

START_TEST(test_table_full_evicts_least_recent)
{
	struct ether *e = make(false);
	uint8_t f[60], pkt[28], mac[6], ip[4], got[6];

	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		table_host(i, mac, ip);
		arp_frame(f, 1, mac, ip, own4);
		n_frames = 0;
		ck_assert_int_eq(ether_input(e, S + (uint64_t)i, f, 60,
					     &(size_t){ 0 }, &(size_t){ 0 }),
				 ETHER_ANSWERED);
	}
	ck_assert_uint_eq(ether_neigh_count(e), ETHER_NEIGH_MAX);
	/* Host 0 is the oldest, but traffic to it makes host 1 so. */
	table_host(0, mac, ip);
	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, ip, 64,
		    sizeof(pkt));
	ck_assert_int_eq(ether_output(e, S + 300, pkt, sizeof(pkt)),
			 ETHER_SENT);
	table_host(ETHER_NEIGH_MAX, mac, ip);
	arp_frame(f, 1, mac, ip, own4);
	ck_assert_int_eq(ether_input(e, S + 301, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(ether_neigh_count(e), ETHER_NEIGH_MAX);
	table_host(0, mac, ip);
	ck_assert(ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	table_host(1, mac, ip);
	ck_assert(!ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	table_host(ETHER_NEIGH_MAX, mac, ip);
	ck_assert(ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	ck_assert_mem_eq(got, mac, 6);
	ether_free(e);
}
END_TEST

static Suite *ether_neigh_suite(void)
{
	Suite *s = suite_create("ether_neigh");
	TCase *tc = tcase_create("ether_neigh");

	tcase_add_test(tc, test_resolve_then_send);
	tcase_add_test(tc, test_resolve_ipv6);
	tcase_add_test(tc, test_pending_bounds);
	tcase_add_test(tc, test_retry_and_give_up);
	tcase_add_test(tc, test_expiry_and_refresh);
	tcase_add_test(tc, test_table_full_evicts_least_recent);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ether_neigh_suite)
