/* SPDX-License-Identifier: MIT */
/*
 * Two devices over an in-memory wire with a hand-moved clock: handshake,
 * data both ways, cryptokey routing, replay and garbage, the responder's
 * key confirmation, roaming, staging, cookies under load, and configuration
 * changes while sessions run. The timers have their own suite
 * (test_timers.c).
 */
#include "device.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "uapi.h"
#include "support.h"
#include "../under_load.h"

static struct sim s;


static void setup(void)
{
	sim_init(&s, 42);
}

static void teardown(void)
{
	sim_free(&s);
}

static struct wg_peer *peer_of(int i)
{
	return s.node[i].dev->peers_head;
}

static size_t ping(int from, const char *src, const char *dst, uint8_t pattern,
		   uint8_t *pkt)
{
	size_t len = sim_ipv4_packet(pkt, src, dst, pattern, 36);
	ck_assert_int_eq(sim_send(&s, from, pkt, len), WG_OK);
	sim_pump(&s);
	return len;
}

static void expect_last_delivered(int i, const uint8_t *pkt, size_t len)
{
	struct sim_node *n = &s.node[i];

	ck_assert_uint_gt(n->n_delivered, 0);
	ck_assert_uint_eq(n->delivered_len[n->n_delivered - 1], len);
	ck_assert_mem_eq(n->delivered[n->n_delivered - 1], pkt, len);
}

START_TEST(test_handshake_and_data_both_ways)
{
	uint8_t pkt[256];
	size_t len;

	len = ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	ck_assert_uint_eq(s.node[1].n_delivered, 1);
	expect_last_delivered(1, pkt, len);
	ck_assert_uint_eq(wg_device_stats(s.node[0].dev)->handshakes_completed, 1);
	ck_assert_uint_eq(wg_device_stats(s.node[1].dev)->handshakes_completed, 1);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_RESPONSE, 0, UINT64_MAX), 1);

	len = ping(1, "10.0.0.2", "10.0.0.1", 2, pkt);
	expect_last_delivered(0, pkt, len);
	/* A host behind node 1 (in its allowed 10.240.0.0/16) reaches node 0. */
	len = ping(1, "10.240.0.2", "10.0.0.1", 3, pkt);
	ck_assert_uint_eq(s.node[0].n_delivered, 2);
	expect_last_delivered(0, pkt, len);
	len = ping(0, "10.0.0.1", "10.240.7.9", 4, pkt);
	expect_last_delivered(1, pkt, len);

	/* IPv6 inside the tunnel, both ways. */
	len = sim_ipv6_packet(pkt, "fd00::1", "fd00::2", 5, 100);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	sim_pump(&s);
	expect_last_delivered(1, pkt, len);
	len = sim_ipv6_packet(pkt, "fd00::2", "fd00::1", 6, 7);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_OK);
	sim_pump(&s);
	expect_last_delivered(0, pkt, len);

	/* Still one handshake; counters add up on both sides. */
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	struct wg_config c0, c1;
	ck_assert_int_eq(wg_device_get(s.node[0].dev, &c0), 0);
	ck_assert_int_eq(wg_device_get(s.node[1].dev, &c1), 0);
	ck_assert_uint_eq(c0.n_peers, 1);
	ck_assert_uint_eq(c0.peers[0].tx_bytes, c1.peers[0].rx_bytes);
	ck_assert_uint_eq(c0.peers[0].rx_bytes, c1.peers[0].tx_bytes);
	ck_assert_uint_gt(c0.peers[0].last_handshake_sec, 0);

	/* What a metrics page shows: the same counts, without a key. */
	struct wg_peer_stats ps[2];
	ck_assert_uint_eq(wg_device_peer_stats(s.node[0].dev, NULL, 0), 1);
	ck_assert_uint_eq(wg_device_peer_stats(s.node[0].dev, ps, 2), 1);
	ck_assert_mem_eq(ps[0].public_key, c0.peers[0].public_key, WG_KEY_LEN);
	ck_assert_uint_eq(ps[0].rx_bytes, c0.peers[0].rx_bytes);
	ck_assert_uint_eq(ps[0].tx_bytes, c0.peers[0].tx_bytes);
	ck_assert_uint_eq(ps[0].last_handshake_sec,
			  c0.peers[0].last_handshake_sec);
	ck_assert_uint_eq(ps[0].handshakes, 1);
	ck_assert(ps[0].has_session);
	ck_assert(wg_device_has_private_key(s.node[0].dev));
	wg_config_clear(&c0);
	wg_config_clear(&c1);
}
END_TEST

/* The environment's randomness is a system call in the daemon: data
 * packets must not draw on it, though each exchange re-arms a timer with
 * jitter. */
START_TEST(test_data_draws_no_randomness)
{
	uint8_t pkt[256];
	uint64_t before[2];

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	ping(1, "10.0.0.2", "10.0.0.1", 2, pkt);
	before[0] = s.node[0].random_calls;
	before[1] = s.node[1].random_calls;
	for (int i = 0; i < 20; i++) {
		ping(0, "10.0.0.1", "10.0.0.2", 3, pkt);
		ping(1, "10.0.0.2", "10.0.0.1", 4, pkt);
	}
	ck_assert_uint_eq(s.node[1].n_delivered, 21);
	ck_assert_uint_eq(s.node[0].random_calls, before[0]);
	ck_assert_uint_eq(s.node[1].random_calls, before[1]);
}
END_TEST

/* What a receiver may shed under a flood: initiations and responses of
 * their exact lengths, nothing else. A real handshake's messages are the
 * reference. */
START_TEST(test_which_messages_are_handshakes)
{
	struct sim_datagram d;
	uint8_t pkt[256], msg[256];
	size_t len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 36);

	/* The initiation, carried by hand; then the response to it. */
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.n_queue, 1);
	d = s.queue[0];
	s.n_queue = 0;
	ck_assert_uint_eq(d.data[0], WG_MSG_INITIATION);
	ck_assert(wg_message_is_handshake(d.data, d.len));
	ck_assert(!wg_message_is_handshake(d.data, d.len - 1));
	(void)wg_device_receive(s.node[1].dev, s.now, &s.node[0].addr, d.data,
				d.len);
	ck_assert_uint_eq(s.n_queue, 1);
	ck_assert_uint_eq(s.queue[0].data[0], WG_MSG_RESPONSE);
	ck_assert(wg_message_is_handshake(s.queue[0].data, s.queue[0].len));
	ck_assert(!wg_message_is_handshake(s.queue[0].data, d.len));
	/* The staged packet follows as data. */
	sim_pump(&s);
	ck_assert_uint_eq(s.node[1].n_delivered, 1);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.n_queue, 1);
	ck_assert_uint_eq(s.queue[0].data[0], WG_MSG_DATA);
	ck_assert(!wg_message_is_handshake(s.queue[0].data, s.queue[0].len));
	sim_pump(&s);

	memset(msg, 0, sizeof(msg));
	msg[0] = WG_MSG_RESPONSE;
	msg[1] = 1;	/* the reserved bytes must be zero */
	ck_assert(!wg_message_is_handshake(msg, WG_RESP_LEN));
	msg[1] = 0;
	msg[0] = WG_MSG_COOKIE_REPLY;
	ck_assert(!wg_message_is_handshake(msg, WG_COOKIE_LEN_MSG));
	msg[0] = WG_MSG_DATA;
	ck_assert(!wg_message_is_handshake(msg, WG_INIT_LEN));
	ck_assert(!wg_message_is_handshake(msg, 3));
}
END_TEST

START_TEST(test_padding_to_16)
{
	uint8_t pkt[256];
	size_t len;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	ck_assert_uint_eq(s.n_queue, 0);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 0, 1); /* 21 bytes */
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.n_queue, 1);
	/* 16-byte header, 21 bytes padded to 32, 16-byte tag. */
	ck_assert_uint_eq(s.queue[0].len, 16 + 32 + 16);
	wg_device_set_mtu(s.node[0].dev, 1420);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 0, 200);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.queue[1].len, 16 + 224 + 16);
	/* Padding never passes the MTU. */
	wg_device_set_mtu(s.node[0].dev, 221);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.queue[2].len, 16 + 221 + 16);
	sim_pump(&s);
	ck_assert_uint_eq(s.node[1].n_delivered, 4);
	expect_last_delivered(1, pkt, len);
}
END_TEST

START_TEST(test_cryptokey_routing)
{
	uint8_t pkt[256];
	size_t len;
	const struct wg_device_stats *st0 = wg_device_stats(s.node[0].dev);

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	/* No allowed IP covers the destination: nothing leaves. */
	size_t before = s.n_sent_log;
	len = sim_ipv4_packet(pkt, "10.0.0.1", "192.168.1.1", 0, 8);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_DROP_NO_PEER);
	ck_assert_uint_eq(s.n_sent_log, before);
	/* Node 1 forges a source outside its allowed IPs: node 0 drops it. */
	len = sim_ipv4_packet(pkt, "10.0.0.77", "10.0.0.1", 0, 8);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_OK);
	sim_pump(&s);
	ck_assert_uint_eq(s.node[0].n_delivered, 0);
	ck_assert_uint_eq(st0->verdicts[WG_DROP_SOURCE], 1);
	/* Not an IP packet at all. */
	uint8_t junk[30] = { 0x20 };
	ck_assert_int_eq(sim_send(&s, 0, junk, sizeof(junk)), WG_DROP_MALFORMED);
	ck_assert_int_eq(sim_send(&s, 0, junk, 3), WG_DROP_MALFORMED);
}
END_TEST

START_TEST(test_bad_input_on_the_wire)
{
	uint8_t pkt[256], saved[1600];
	size_t saved_len;
	struct wg_device *d1 = s.node[1].dev;
	const struct wg_device_stats *st = wg_device_stats(d1);
	const struct wg_endpoint *from = &s.node[0].addr;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	size_t len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 9, 50);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_uint_eq(s.n_queue, 1);
	saved_len = s.queue[0].len;
	memcpy(saved, s.queue[0].data, saved_len);
	sim_pump(&s);
	ck_assert_uint_eq(s.node[1].n_delivered, 2);

	uint8_t copy[1600];
	/* Replayed. */
	memcpy(copy, saved, saved_len);
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, saved_len), WG_DROP_REPLAY);
	/* A flipped bit anywhere after the header: the tag fails. */
	memcpy(copy, saved, saved_len);
	copy[saved_len - 3] ^= 1;
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, saved_len), WG_DROP_KEY);
	/* Unknown receiver index. */
	memcpy(copy, saved, saved_len);
	copy[5] ^= 0xff;
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, saved_len),
			 WG_DROP_UNKNOWN_INDEX);
	/* Truncated, wrong lengths, unknown types, reserved bytes set. */
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, 3), WG_DROP_MALFORMED);
	memcpy(copy, saved, saved_len);
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, 31), WG_DROP_MALFORMED);
	uint8_t hs[WG_INIT_LEN + 1] = { 1 };
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, hs, WG_INIT_LEN + 1),
			 WG_DROP_MALFORMED);
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, hs, WG_INIT_LEN), WG_DROP_MAC);
	hs[0] = 2;
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, hs, WG_RESP_LEN), WG_DROP_MAC);
	hs[0] = 3;
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, hs, WG_COOKIE_LEN_MSG),
			 WG_DROP_UNKNOWN_INDEX);
	hs[0] = 9;
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, hs, 100), WG_DROP_MALFORMED);
	memcpy(copy, saved, saved_len);
	copy[2] = 1;	/* reserved byte */
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, saved_len),
			 WG_DROP_MALFORMED);
	ck_assert_uint_eq(st->verdicts[WG_DROP_REPLAY], 1);
	ck_assert_uint_eq(st->verdicts[WG_DROP_KEY], 1);

	/* The session is untouched by all of it. */
	len = ping(0, "10.0.0.1", "10.0.0.2", 11, pkt);
	expect_last_delivered(1, pkt, len);
	len = ping(1, "10.0.0.2", "10.0.0.1", 12, pkt);
	expect_last_delivered(0, pkt, len);
	ck_assert_uint_eq(st->handshakes_completed, 1);
}
END_TEST

START_TEST(test_responder_waits_for_confirmation)
{
	uint8_t pkt[256];
	size_t len;
	struct wg_peer *p1;

	/* Node 0's initiation reaches node 1, whose response is held back. */
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 20);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	s.link_down[1] = true;
	sim_pump(&s);
	p1 = peer_of(1);
	ck_assert_ptr_nonnull(p1->next);
	ck_assert_ptr_null(p1->current);
	/* Node 1 may not send under an unconfirmed session: it stages. */
	uint8_t reply[256];
	size_t rlen = sim_ipv4_packet(reply, "10.0.0.2", "10.0.0.1", 2, 20);
	ck_assert_int_eq(sim_send(&s, 1, reply, rlen), WG_OK);
	ck_assert_uint_eq(p1->n_staged, 1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX), 0);
	s.link_down[1] = false;
	/* Node 0 retries; this time everything flows, staged packets too. */
	sim_advance_to(&s, s.now + SEC(6));
	ck_assert_uint_ge(s.node[1].n_delivered, 1);
	expect_last_delivered(1, pkt, len);
	ck_assert_uint_eq(s.node[0].n_delivered, 1);
	expect_last_delivered(0, reply, rlen);
	ck_assert_uint_eq(p1->n_staged, 0);
	ck_assert_ptr_nonnull(p1->current);
}
END_TEST

START_TEST(test_roaming)
{
	uint8_t pkt[256];
	size_t len;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	len = ping(1, "10.0.0.2", "10.0.0.1", 2, pkt);
	expect_last_delivered(0, pkt, len);
	/* Node 0 moves to a new address and port. */
	struct wg_endpoint moved = s.node[0].addr;
	moved.addr.sin.sin_port = htons(40000);
	moved.addr.sin.sin_addr.s_addr = htonl(0xc000020b);	/* 192.0.2.11 */
	s.node[0].addr = moved;
	/* Until it speaks, replies go to the old address and are lost. */
	len = ping(1, "10.0.0.2", "10.0.0.1", 3, pkt);
	ck_assert_uint_eq(s.node[0].n_delivered, 1);
	ping(0, "10.0.0.1", "10.0.0.2", 4, pkt);
	ck_assert(wg_endpoint_equal(&peer_of(1)->endpoint, &moved));
	len = ping(1, "10.0.0.2", "10.0.0.1", 5, pkt);
	ck_assert_uint_eq(s.node[0].n_delivered, 2);
	expect_last_delivered(0, pkt, len);
	/* A forged packet from elsewhere does not move the endpoint. */
	uint8_t junk[64] = { 4 };
	struct wg_endpoint attacker = moved;
	attacker.addr.sin.sin_port = htons(666);
	wg_device_receive(s.node[1].dev, s.now, &attacker, junk, sizeof(junk));
	ck_assert(wg_endpoint_equal(&peer_of(1)->endpoint, &moved));
}
END_TEST

START_TEST(test_staging_is_bounded)
{
	uint8_t pkt[256];
	size_t len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 20);

	s.link_down[0] = true;
	for (int i = 0; i < WG_MAX_STAGED_PACKETS + 72; i++) {
		pkt[20] = (uint8_t)i;
		ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	}
	ck_assert_uint_eq(peer_of(0)->n_staged, WG_MAX_STAGED_PACKETS);
	ck_assert_uint_eq(wg_device_stats(s.node[0].dev)->staged_dropped, 72);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	/* The link comes back: the newest 128 arrive, in order. */
	s.link_down[0] = false;
	sim_advance_to(&s, s.now + SEC(6));
	ck_assert_uint_eq(s.node[1].n_delivered, WG_MAX_STAGED_PACKETS);
	for (size_t i = 0; i < WG_MAX_STAGED_PACKETS; i++)
		ck_assert_uint_eq(s.node[1].delivered[i][20], (uint8_t)(72 + i));
	/* Node 1 has no endpoint for node 0 until node 0 spoke; a fresh
	 * device in its place would have none. */
	struct wg_endpoint none = { 0 };
	peer_of(1)->endpoint = none;
	len = sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 1, 20);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_DROP_NO_ENDPOINT);
}
END_TEST

/* Node i under load now, as a flood would put it (under_load.h). */
static void under_load(int i)
{
	harness_handshake_flood(s.node[i].dev, s.now, &s.node[1 - i].addr,
				WG_UNDER_LOAD_PER_SECOND);
}

START_TEST(test_cookie_round_trip_under_load)
{
	uint8_t pkt[256];
	size_t len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 20);
	const struct wg_device_stats *st0 = wg_device_stats(s.node[0].dev);
	const struct wg_device_stats *st1 = wg_device_stats(s.node[1].dev);

	const uint64_t start = s.now;

	under_load(1);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	sim_pump(&s);
	/* Answered with a cookie, not a response. */
	ck_assert_uint_eq(st1->cookies_sent, 1);
	ck_assert_uint_eq(st1->verdicts[WG_DROP_COOKIE_SENT], 1);
	ck_assert_uint_eq(st0->cookies_received, 1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_RESPONSE, 0, UINT64_MAX), 0);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_COOKIE_REPLY, 0, UINT64_MAX), 1);
	/* The retransmission (5 s later, plus up to 333 ms of jitter)
	 * carries mac2 and gets through under load. */
	sim_advance_to(&s, start + SEC(5) - MSEC(100));
	under_load(1);
	sim_advance_to(&s, start + SEC(6));
	ck_assert_uint_eq(st1->cookies_sent, 1);
	ck_assert_uint_eq(st0->handshakes_completed, 1);
	expect_last_delivered(1, pkt, len);

	/* Under load, a source over its rate is refused even with a cookie:
	 * replaying node 0's latest initiation (valid mac1 and mac2) a few
	 * times within the same instant uses up its burst of 5. */
	peer_of(0)->has_sent_handshake = false;
	wg_send_handshake_initiation(peer_of(0), s.now, false);
	ck_assert_uint_eq(s.n_queue, 1);
	uint8_t init[WG_INIT_LEN];
	memcpy(init, s.queue[0].data, WG_INIT_LEN);
	s.n_queue = 0;
	under_load(1);
	int refused = 0, handshake_drops = 0;
	for (int i = 0; i < 10; i++) {
		uint8_t copy[WG_INIT_LEN];
		memcpy(copy, init, sizeof(copy));
		enum wg_verdict v = wg_device_receive(s.node[1].dev, s.now,
						      &s.node[0].addr, copy, sizeof(copy));
		refused += v == WG_DROP_RATELIMIT;
		handshake_drops += v == WG_DROP_HANDSHAKE;
		ck_assert(v == WG_OK || v == WG_DROP_RATELIMIT || v == WG_DROP_HANDSHAKE);
	}
	ck_assert_int_ge(refused, 5);
	/* Load ends: a second after the last sign of it, no cookies. */
	s.n_queue = 0;
	sim_advance_to(&s, s.now + SEC(2));
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_COOKIE_REPLY, s.now - SEC(1),
					 UINT64_MAX), 0);
}
END_TEST

START_TEST(test_update_remove_and_replace_peers)
{
	uint8_t pkt[256];
	char pub1[65], text[512];
	struct wg_config c;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	wg_key_to_hex(pub1, s.node[1].public_key);
	/* Update an existing peer: keepalive, a new allowed IP, endpoint. */
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%s\npersistent_keepalive_interval=25\n"
		 "allowed_ip=10.9.0.0/24\nendpoint=192.0.2.2:51820\n\n", pub1);
	ck_assert_int_eq(sim_apply_uapi(&s, 0, text), 0);
	ck_assert_int_eq(wg_device_get(s.node[0].dev, &c), 0);
	ck_assert_uint_eq(c.n_peers, 1);
	ck_assert_uint_eq(c.peers[0].persistent_keepalive, 25);
	ck_assert_uint_eq(c.peers[0].n_allowedips, 4);
	wg_config_clear(&c);
	/* The session survived the update. */
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	size_t len = ping(0, "10.0.0.1", "10.9.0.5", 2, pkt);
	expect_last_delivered(1, pkt, len);

	/* Remove one prefix, replace the rest. */
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%s\nreplace_allowed_ips=true\n"
		 "allowed_ip=10.0.0.2/32\n\n", pub1);
	ck_assert_int_eq(sim_apply_uapi(&s, 0, text), 0);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.9.0.5", 0, 8);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_DROP_NO_PEER);

	/* update_only on an unknown peer adds nothing. */
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%064x\nupdate_only=true\nallowed_ip=10.7.0.0/16\n\n", 7);
	ck_assert_int_eq(sim_apply_uapi(&s, 0, text), 0);
	ck_assert_uint_eq(s.node[0].dev->n_peers, 1);

	/* Remove the peer: its route and session are gone. */
	snprintf(text, sizeof(text), "set=1\npublic_key=%s\nremove=true\n\n", pub1);
	ck_assert_int_eq(sim_apply_uapi(&s, 0, text), 0);
	ck_assert_uint_eq(s.node[0].dev->n_peers, 0);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 0, 8);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_DROP_NO_PEER);
	/* Node 1's packets to node 0 now find no session there. */
	sim_send(&s, 1, pkt, sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 0, 8));
	sim_pump(&s);
	ck_assert_uint_ge(wg_device_stats(s.node[0].dev)->verdicts[WG_DROP_UNKNOWN_INDEX], 1);

	/* replace_peers: everything goes, the new set comes in. The new
	 * peer's initiation needs a newer timestamp than the last one node 1
	 * accepted, so let the clock move on. */
	s.now += SEC(1);
	snprintf(text, sizeof(text),
		 "set=1\nreplace_peers=true\npublic_key=%s\nendpoint=192.0.2.2:51820\n"
		 "allowed_ip=10.0.0.2/32\npublic_key=%064x\nallowed_ip=10.5.0.0/16\n\n",
		 pub1, 9);
	ck_assert_int_eq(sim_apply_uapi(&s, 0, text), 0);
	ck_assert_uint_eq(s.node[0].dev->n_peers, 2);
	len = ping(0, "10.0.0.1", "10.0.0.2", 3, pkt);
	expect_last_delivered(1, pkt, len);
}
END_TEST

START_TEST(test_rejected_set_changes_nothing)
{
	char pub1[65], text[512];
	struct wg_config before, after;
	struct wg_buf b1 = { 0 }, b2 = { 0 };

	wg_key_to_hex(pub1, s.node[1].public_key);
	ck_assert_int_eq(wg_device_get(s.node[0].dev, &before), 0);
	/* A bad value half-way through: the parser refuses the whole set. */
	snprintf(text, sizeof(text),
		 "set=1\nlisten_port=999\npublic_key=%s\nallowed_ip=10.8.0.0/16\n"
		 "persistent_keepalive_interval=70000\n\n", pub1);
	ck_assert_int_lt(sim_apply_uapi(&s, 0, text), 0);
	ck_assert_int_eq(wg_device_get(s.node[0].dev, &after), 0);
	wg_uapi_emit_get(&b1, &before);
	wg_uapi_emit_get(&b2, &after);
	ck_assert_str_eq(b1.data, b2.data);
	wg_buf_clear(&b1);
	wg_buf_clear(&b2);
	wg_config_clear(&before);
	wg_config_clear(&after);
}
END_TEST

START_TEST(test_private_key_change)
{
	uint8_t pkt[256], priv[32];
	char hex[65], text[256];

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	struct wg_peer *p1 = peer_of(1);
	ck_assert_ptr_nonnull(p1->current);
	memset(priv, 0x33, sizeof(priv));
	wg_key_to_hex(hex, priv);
	snprintf(text, sizeof(text), "set=1\nprivate_key=%s\n\n", hex);
	ck_assert_int_eq(sim_apply_uapi(&s, 1, text), 0);
	/* The old session may not send any more: node 1 starts afresh,
	 * which node 0 (knowing the old key) refuses. */
	ck_assert(!p1->current->can_send);
	size_t len = sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 0, 8);
	size_t inits = sim_count_sent(&s, 1, WG_MSG_INITIATION, 0, UINT64_MAX);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_OK);
	ck_assert_uint_eq(p1->n_staged, 1);
	/* ... at once, though the last handshake is less than 5 s old. */
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_INITIATION, 0, UINT64_MAX), inits + 1);
	sim_pump(&s);
	ck_assert_uint_eq(s.node[0].n_delivered, 0);
	ck_assert_uint_ge(wg_device_stats(s.node[0].dev)->verdicts[WG_DROP_HANDSHAKE], 1);
	/* Removing the key stops handshakes altogether. */
	snprintf(text, sizeof(text), "set=1\nprivate_key=%064d\n\n", 0);
	ck_assert_int_eq(sim_apply_uapi(&s, 1, text), 0);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_DROP_NO_KEY);
}
END_TEST

/* Applies text to node 0 and says what the core reports it ended. */
static void apply_reported(const char *text, struct wg_apply_report *r)
{
	struct wg_config cfg;
	struct wg_parse_error err;

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_uapi_parse_set(text, strlen(text), &cfg, &err), 0);
	ck_assert_int_eq(wg_device_apply_report(s.node[0].dev, &cfg, s.now,
						&err, r), 0);
	wg_config_clear(&cfg);
}

START_TEST(test_apply_reports_what_it_ended)
{
	uint8_t pkt[256], priv[32], pub[32];
	char pub1[65], hex[65], text[512];
	struct wg_apply_report r;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	wg_key_to_hex(pub1, s.node[1].public_key);
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%064x\nallowed_ip=10.5.0.0/16\n\n", 9);
	apply_reported(text, &r);
	/* Adding ends nothing. */
	ck_assert_uint_eq(r.n_removed, 0);
	ck_assert_uint_eq(r.replaced_sessions, 0);
	ck_assert(!r.key_changed);
	wg_apply_report_clear(&r);

	/* replace_peers naming node 1 again: its session ends, the other
	 * peer goes as not listed, having had none. */
	snprintf(text, sizeof(text),
		 "set=1\nreplace_peers=true\npublic_key=%s\n"
		 "endpoint=192.0.2.2:51820\nallowed_ip=10.0.0.2/32\n\n", pub1);
	apply_reported(text, &r);
	ck_assert_uint_eq(r.n_removed, 1);
	ck_assert_uint_eq(r.removed[0].public_key[31], 9);
	ck_assert_int_eq(r.removed[0].reason, WG_REMOVED_NOT_LISTED);
	ck_assert(!r.removed[0].had_session);
	ck_assert_uint_eq(r.replaced_sessions, 1);
	wg_apply_report_clear(&r);

	/* Added and removed in one change: it was never there to end. */
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%064x\npublic_key=%064x\nremove=true\n\n",
		 8, 8);
	apply_reported(text, &r);
	ck_assert_uint_eq(r.n_removed, 0);
	wg_apply_report_clear(&r);

	/* A new private key ends the session of the peer kept. */
	s.now += SEC(1);
	ping(0, "10.0.0.1", "10.0.0.2", 2, pkt);
	memset(priv, 0x33, sizeof(priv));
	wg_key_to_hex(hex, priv);
	snprintf(text, sizeof(text), "set=1\nprivate_key=%s\n\n", hex);
	apply_reported(text, &r);
	ck_assert(r.key_changed);
	ck_assert(r.has_key);
	wg_x25519_clamp(priv);
	ck_assert(wg_x25519_public(pub, priv));
	ck_assert_mem_eq(r.public_key, pub, 32);
	ck_assert_uint_eq(r.key_ended_sessions, 1);
	ck_assert_uint_eq(r.n_removed, 0);
	wg_apply_report_clear(&r);

	/* Removed on request, with its session. */
	snprintf(text, sizeof(text), "set=1\npublic_key=%s\nremove=true\n\n",
		 pub1);
	apply_reported(text, &r);
	ck_assert_uint_eq(r.n_removed, 1);
	ck_assert_int_eq(r.removed[0].reason, WG_REMOVED_ON_REQUEST);
	ck_assert(r.removed[0].had_session);
	wg_apply_report_clear(&r);
	wg_wipe(priv, sizeof(priv));
}
END_TEST

START_TEST(test_rekey_after_messages)
{
	uint8_t pkt[256];
	size_t len;

	ping(0, "10.0.0.1", "10.0.0.2", 1, pkt);
	/* Even the responder rekeys when its counter passes 2^60. */
	struct wg_noise_keypair *kp = peer_of(1)->current;
	ck_assert_ptr_nonnull(kp);
	kp->send_counter = WG_REKEY_AFTER_MESSAGES - 1;
	s.now += SEC(1);
	len = ping(1, "10.0.0.2", "10.0.0.1", 2, pkt);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_INITIATION, 0, UINT64_MAX), 0);
	len = ping(1, "10.0.0.2", "10.0.0.1", 3, pkt);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	ck_assert_ptr_ne(peer_of(1)->current, kp);
	len = ping(1, "10.0.0.2", "10.0.0.1", 4, pkt);
	expect_last_delivered(0, pkt, len);
	/* At REJECT_AFTER_MESSAGES a keypair sends no more. */
	peer_of(1)->current->send_counter = WG_REJECT_AFTER_MESSAGES;
	size_t data_before = sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX);
	len = sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 5, 20);
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_OK);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX), data_before);
	ck_assert_uint_eq(peer_of(1)->n_staged, 1);
}
END_TEST

static char keylog_line[128];
static int keylog_calls;

static void capture_keylog(void *ctx, const char *line)
{
	snprintf(keylog_line, sizeof(keylog_line), "%s", line);
	keylog_calls++;
}

START_TEST(test_keylog_names_the_ephemeral_key)
{
	uint8_t pkt[256], priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	const char *prefix = "LOCAL_EPHEMERAL_PRIVATE_KEY = ";

	s.node[0].dev->env.keylog = capture_keylog;
	size_t len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 20);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	ck_assert_int_eq(keylog_calls, 1);
	ck_assert_uint_eq(s.n_queue, 1);
	ck_assert(strncmp(keylog_line, prefix, strlen(prefix)) == 0);
	ck_assert(wg_key_from_base64(priv, keylog_line + strlen(prefix),
				     strlen(keylog_line + strlen(prefix))));
	ck_assert(wg_x25519_public(pub, priv));
	/* It is the key whose public half the initiation carries. */
	ck_assert_mem_eq(pub, s.queue[0].data + WG_INIT_OFF_EPHEMERAL, WG_KEY_LEN);
	/* Without a key log nothing is reported. */
	s.node[0].dev->env.keylog = NULL;
	sim_pump(&s);
	ck_assert_int_eq(keylog_calls, 1);
}
END_TEST

/* The data path in steps (prepare, seal, open, finish) against the one
 * call it is made of: the same bytes arrive, the same counters move. */
START_TEST(test_data_path_in_steps)
{
	struct wg_device *d0 = s.node[0].dev, *d1 = s.node[1].dev;
	const struct wg_endpoint *from = &s.node[0].addr;
	uint8_t pkt[256], buf[512], copy[512], other[512];
	struct wg_send_job job;
	struct wg_recv_job rjob;
	uint64_t ok0;
	size_t len, n, inner;
	bool ready;

	/* No session yet: not ready, and left for wg_device_send to count
	 * and keep. */
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 9, 37);
	ok0 = wg_device_stats(d0)->verdicts[WG_OK];
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, pkt, len, &job,
						&ready), WG_OK);
	ck_assert(!ready);
	ck_assert_uint_eq(wg_device_stats(d0)->verdicts[WG_OK], ok0);
	ck_assert_uint_eq(s.n_queue, 0);
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, pkt, 10, &job,
						&ready), WG_DROP_MALFORMED);
	ping(0, "10.0.0.1", "10.0.0.2", 1, buf);

	/* Sealed in place, from the packet's own buffer. */
	memcpy(buf + WG_MESSAGE_HEADER_LEN, pkt, len);
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, pkt, len, &job,
						&ready), WG_OK);
	ck_assert(ready);
	ck_assert_uint_eq(job.len, len);
	ck_assert_uint_eq(job.padded % WG_MESSAGE_PADDING, 0);
	ck_assert_uint_lt(job.padded - len, WG_MESSAGE_PADDING);
	ck_assert(wg_endpoint_equal(&job.to, &s.node[1].addr));
	n = wg_send_job_seal(&job, buf + WG_MESSAGE_HEADER_LEN, buf);
	ck_assert_uint_eq(n, WG_MESSAGE_HEADER_LEN + job.padded +
			     WG_MESSAGE_TAG_LEN);
	ck_assert(wg_is_zero(job.key, sizeof(job.key)));
	memcpy(copy, buf, n);

	/* Opened in steps: the packet, without its padding. */
	ck_assert_int_eq(wg_device_receive_prepare(d1, s.now, from, buf, n,
						   &rjob, &ready), WG_OK);
	ck_assert(ready);
	ck_assert(wg_recv_job_open(&rjob, buf, n));
	ck_assert(wg_is_zero(rjob.key, sizeof(rjob.key)));
	ck_assert_int_eq(wg_device_receive_finish(d1, s.now, from, &rjob, true,
						  buf, n, &inner), WG_OK);
	ck_assert_uint_eq(inner, len);
	ck_assert_mem_eq(buf + WG_MESSAGE_HEADER_LEN, pkt, len);
	/* Nothing was delivered through the environment for it. */
	ck_assert_uint_eq(s.node[1].n_delivered, 1);

	/* The same message again: the window has seen its counter. */
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, copy, n),
			 WG_DROP_REPLAY);

	/* Sealed from elsewhere (a packet that stays where it is), and
	 * through the one-call path: the same packet arrives. */
	memcpy(other, pkt, len);
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, other, len, &job,
						&ready), WG_OK);
	ck_assert(ready);
	n = wg_send_job_seal(&job, other, buf);
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, buf, n), WG_OK);
	expect_last_delivered(1, pkt, len);
}
END_TEST

/* A message that does not open changes nothing: the genuine one with the
 * same counter is still accepted. */
START_TEST(test_failed_open_leaves_the_window)
{
	struct wg_device *d0 = s.node[0].dev, *d1 = s.node[1].dev;
	const struct wg_endpoint *from = &s.node[0].addr;
	uint8_t pkt[256], buf[512], forged[512];
	struct wg_send_job job;
	struct wg_recv_job rjob;
	uint64_t drops;
	size_t len, n, inner;
	bool ready;

	ping(0, "10.0.0.1", "10.0.0.2", 1, buf);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 3, 50);
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, pkt, len, &job,
						&ready), WG_OK);
	n = wg_send_job_seal(&job, pkt, buf);
	memcpy(forged, buf, n);
	forged[n - 1] ^= 1;
	drops = wg_device_stats(d1)->verdicts[WG_DROP_KEY];
	ck_assert_int_eq(wg_device_receive_prepare(d1, s.now, from, forged, n,
						   &rjob, &ready), WG_OK);
	ck_assert(ready);
	ck_assert(!wg_recv_job_open(&rjob, forged, n));
	ck_assert_int_eq(wg_device_receive_finish(d1, s.now, from, &rjob,
						  false, forged, n, &inner),
			 WG_DROP_KEY);
	ck_assert_uint_eq(inner, 0);
	ck_assert_uint_eq(wg_device_stats(d1)->verdicts[WG_DROP_KEY], drops + 1);
	ck_assert_int_eq(wg_device_receive(d1, s.now, from, buf, n), WG_OK);
	expect_last_delivered(1, pkt, len);
}
END_TEST

/* The session ends while a message is being opened outside the lock:
 * the finish notices, and nothing of the old session is touched. */
START_TEST(test_session_gone_while_opening)
{
	struct wg_device *d0 = s.node[0].dev, *d1 = s.node[1].dev;
	const struct wg_endpoint *from = &s.node[0].addr;
	uint8_t pkt[256], buf[512];
	struct wg_send_job job;
	struct wg_recv_job rjob;
	size_t len, n, inner, delivered;
	bool ready;

	ping(0, "10.0.0.1", "10.0.0.2", 1, buf);
	delivered = s.node[1].n_delivered;
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 4, 60);
	ck_assert_int_eq(wg_device_send_prepare(d0, s.now, pkt, len, &job,
						&ready), WG_OK);
	n = wg_send_job_seal(&job, pkt, buf);
	ck_assert_int_eq(wg_device_receive_prepare(d1, s.now, from, buf, n,
						   &rjob, &ready), WG_OK);
	ck_assert(ready);
	wg_peer_zero_keys(peer_of(1));
	/* The job's own copy of the key still opens it... */
	ck_assert(wg_recv_job_open(&rjob, buf, n));
	/* ...but its session is gone. */
	ck_assert_int_eq(wg_device_receive_finish(d1, s.now, from, &rjob, true,
						  buf, n, &inner),
			 WG_DROP_UNKNOWN_INDEX);
	ck_assert_uint_eq(inner, 0);
	ck_assert_uint_eq(s.node[1].n_delivered, delivered);
}
END_TEST

/* An idle peer holds no session state and has not paid for its
 * static-static DH; both come with the first handshake and the keypairs
 * go with the session. */
START_TEST(test_sessions_allocated_while_they_exist)
{
	struct wg_peer *p0 = peer_of(0), *p1 = peer_of(1);
	uint8_t buf[256];

	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		ck_assert_ptr_null(p0->keypair_storage[i]);
		ck_assert_ptr_null(p1->keypair_storage[i]);
	}
	ck_assert(!p0->handshake.has_static_static);
	ck_assert(!p1->handshake.has_static_static);
	ck_assert(wg_is_zero(p0->handshake.static_static, WG_KEY_LEN));
	ping(0, "10.0.0.1", "10.0.0.2", 1, buf);
	ck_assert(p0->handshake.has_static_static);
	ck_assert(p1->handshake.has_static_static);
	ck_assert_ptr_nonnull(p0->current);
	ck_assert_ptr_nonnull(p1->current);
	ck_assert_uint_ne(p0->current->id, 0);
	wg_peer_zero_keys(p0);
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++)
		ck_assert_ptr_null(p0->keypair_storage[i]);
	/* A new private key: the DH is computed again when next needed. */
	ck_assert_int_eq(sim_apply_uapi(&s, 1, "set=1\nprivate_key="
		"2800000000000000000000000000000000000000000000000000000000000068"
		"\n"), 0);
	ck_assert(!p1->handshake.has_static_static);
}
END_TEST

/* Key memory from the environment's allocator: what it hands out and
 * gets back, by size; every block comes back wiped. */
static struct {
	size_t handed_out, given_back, given_back_dirty, bytes_out;
	size_t sizes[8], n_sizes;
} keymem_seen;

static void *counting_secret_alloc(void *ctx, size_t len)
{
	bool known = false;

	(void)ctx;
	keymem_seen.handed_out++;
	keymem_seen.bytes_out += len;
	for (size_t i = 0; i < keymem_seen.n_sizes; i++)
		known |= keymem_seen.sizes[i] == len;
	if (!known && keymem_seen.n_sizes < 8)
		keymem_seen.sizes[keymem_seen.n_sizes++] = len;
	return calloc(1, len);
}

static void counting_secret_free(void *ctx, void *p, size_t len)
{
	(void)ctx;
	keymem_seen.given_back++;
	keymem_seen.bytes_out -= len;
	keymem_seen.given_back_dirty += !wg_is_zero(p, len);
	free(p);
}

START_TEST(test_key_memory_comes_from_the_environment)
{
	uint8_t buf[256];

	memset(&keymem_seen, 0, sizeof(keymem_seen));
	sim_secret_alloc = counting_secret_alloc;
	sim_secret_free = counting_secret_free;
	setup();
	ping(0, "10.0.0.1", "10.0.0.2", 1, buf);
	ck_assert_ptr_nonnull(peer_of(0)->current);
	/* Two devices, a peer each, a keypair each at least. */
	ck_assert_uint_ge(keymem_seen.handed_out, 6);
	ck_assert_uint_eq(keymem_seen.n_sizes, 3);
	for (size_t i = 0; i < keymem_seen.n_sizes; i++)
		ck_assert(keymem_seen.sizes[i] == sizeof(struct wg_device) ||
			  keymem_seen.sizes[i] == sizeof(struct wg_peer) ||
			  keymem_seen.sizes[i] == sizeof(struct wg_noise_keypair));
	teardown();
	sim_secret_alloc = NULL;
	sim_secret_free = NULL;
	ck_assert_uint_eq(keymem_seen.given_back, keymem_seen.handed_out);
	ck_assert_uint_eq(keymem_seen.bytes_out, 0);
	ck_assert_uint_eq(keymem_seen.given_back_dirty, 0);
}
END_TEST

static Suite *device_suite(void)
{
	Suite *suite = suite_create("device");
	TCase *tc = tcase_create("two devices");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_handshake_and_data_both_ways);
	tcase_add_test(tc, test_data_draws_no_randomness);
	tcase_add_test(tc, test_which_messages_are_handshakes);
	tcase_add_test(tc, test_padding_to_16);
	tcase_add_test(tc, test_cryptokey_routing);
	tcase_add_test(tc, test_bad_input_on_the_wire);
	tcase_add_test(tc, test_responder_waits_for_confirmation);
	tcase_add_test(tc, test_roaming);
	tcase_add_test(tc, test_staging_is_bounded);
	tcase_add_test(tc, test_cookie_round_trip_under_load);
	tcase_add_test(tc, test_update_remove_and_replace_peers);
	tcase_add_test(tc, test_rejected_set_changes_nothing);
	tcase_add_test(tc, test_private_key_change);
	tcase_add_test(tc, test_apply_reports_what_it_ended);
	tcase_add_test(tc, test_rekey_after_messages);
	tcase_add_test(tc, test_keylog_names_the_ephemeral_key);
	tcase_add_test(tc, test_data_path_in_steps);
	tcase_add_test(tc, test_failed_open_leaves_the_window);
	tcase_add_test(tc, test_session_gone_while_opening);
	tcase_add_test(tc, test_sessions_allocated_while_they_exist);
	suite_add_tcase(suite, tc);
	tc = tcase_create("key memory");
	tcase_add_test(tc, test_key_memory_comes_from_the_environment);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIGUARD_TEST_MAIN(device_suite)
