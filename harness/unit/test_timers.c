/* SPDX-License-Identifier: MIT */
/*
 * Every timer of the whitepaper's section 6, on two devices with a clock
 * moved by hand: rekey after 120 s, reject after 180 s, retransmission
 * after 5 s plus jitter, giving up after 90 s, keepalive after 10 s of
 * receiving without sending, a new handshake after 15 s of sending without
 * receiving, persistent keepalive, and key material wiped after 540 s.
 */
#include "device.h"

#include <stdio.h>
#include <string.h>

#include "sim.h"
#include "support.h"

static struct sim s;

static void setup(void)
{
	sim_init(&s, 7);
}

static void teardown(void)
{
	sim_free(&s);
}

static struct wg_peer *peer_of(int i)
{
	return s.node[i].dev->peers_head;
}

static void send_ping(int from)
{
	uint8_t pkt[128];
	size_t len = from == 0 ? sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 1, 30) :
				 sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 1, 30);

	ck_assert_int_eq(sim_send(&s, from, pkt, len), WG_OK);
	sim_pump(&s);
}

/* Times at which node i sent messages of a type, in order. */
static size_t sent_times(int i, uint8_t type, uint64_t *out, size_t max)
{
	size_t n = 0;

	for (size_t k = 0; k < s.n_sent_log && n < max; k++)
		if (s.sent_from[k] == i && s.sent_type[k] == type)
			out[n++] = s.sent_at[k];
	return n;
}

START_TEST(test_retransmit_with_jitter_then_give_up)
{
	uint64_t t[64];
	const uint64_t start = s.now;
	bool jitter_varies = false;

	s.link_down[0] = true;	/* node 1 never hears us */
	send_ping(0);
	ck_assert_uint_eq(peer_of(0)->n_staged, 1);
	sim_advance_to(&s, start + SEC(200));

	size_t n = sent_times(0, WG_MSG_INITIATION, t, 64);
	/* REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18 initiations, then silence. */
	ck_assert_uint_eq(n, WG_MAX_TIMER_HANDSHAKES);
	ck_assert_uint_eq(t[0], start);
	for (size_t i = 1; i < n; i++) {
		uint64_t gap = t[i] - t[i - 1];
		ck_assert_uint_ge(gap, WG_REKEY_TIMEOUT);
		ck_assert_uint_lt(gap, WG_REKEY_TIMEOUT + WG_REKEY_TIMEOUT_JITTER_MAX);
		if (i > 1 && gap != t[i - 1] - t[i - 2])
			jitter_varies = true;
	}
	ck_assert(jitter_varies);
	/* Gave up about 90 s after the first attempt: what waited is gone,
	 * and the wipe of what is left is scheduled. */
	ck_assert_uint_eq(peer_of(0)->n_staged, 0);
	ck_assert_uint_eq(peer_of(0)->timers.retransmit_handshake, WG_TIMER_OFF);
	ck_assert_uint_ne(peer_of(0)->timers.zero_key_material, WG_TIMER_OFF);
	ck_assert_uint_ge(peer_of(0)->timers.zero_key_material,
			  start + WG_REKEY_ATTEMPT_TIME + WG_ZERO_KEYS_AFTER);
	/* New traffic starts a new round of attempts. */
	s.link_down[0] = false;
	send_ping(0);
	ck_assert_uint_eq(s.node[1].n_delivered, 1);
}
END_TEST

START_TEST(test_rekey_after_120_seconds)
{
	const uint64_t start = s.now;

	send_ping(0);
	struct wg_noise_keypair *first = peer_of(0)->current;
	ck_assert_ptr_nonnull(first);
	/* Just short of REKEY_AFTER_TIME: sending keeps the session. */
	sim_advance_to(&s, start + WG_REKEY_AFTER_TIME - 1);
	send_ping(0);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	ck_assert_ptr_eq(peer_of(0)->current, first);
	/* The responder never rekeys on time: that is the initiator's job. */
	sim_advance_to(&s, start + WG_REKEY_AFTER_TIME + SEC(1));
	send_ping(1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_INITIATION, 0, UINT64_MAX), 0);
	/* The initiator's next packet after 120 s starts a new handshake. */
	send_ping(0);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 2);
	ck_assert_uint_eq(wg_device_stats(s.node[0].dev)->handshakes_completed, 2);
	ck_assert_ptr_ne(peer_of(0)->current, first);
	ck_assert_ptr_eq(peer_of(0)->previous, first);
	/* Both directions on the new session. */
	size_t d0 = s.node[0].n_delivered, d1 = s.node[1].n_delivered;
	send_ping(0);
	send_ping(1);
	ck_assert_uint_eq(s.node[1].n_delivered, d1 + 1);
	ck_assert_uint_eq(s.node[0].n_delivered, d0 + 1);
}
END_TEST

START_TEST(test_reject_after_180_seconds)
{
	const uint64_t start = s.now;
	uint8_t pkt[128], saved[256];
	size_t len;

	send_ping(0);
	/* Capture a data message from node 1 under this session. */
	s.link_down[1] = true;
	len = sim_ipv4_packet(pkt, "10.0.0.2", "10.0.0.1", 0, 20);
	s.link_down[1] = false;
	ck_assert_int_eq(sim_send(&s, 1, pkt, len), WG_OK);
	ck_assert_uint_eq(s.n_queue, 1);
	size_t saved_len = s.queue[0].len;
	memcpy(saved, s.queue[0].data, saved_len);
	s.n_queue = 0;
	/* Both links die; at REJECT_AFTER_TIME the session is unusable. */
	s.link_down[0] = s.link_down[1] = true;
	sim_advance_to(&s, start + WG_REJECT_AFTER_TIME);
	ck_assert_int_eq(wg_device_receive(s.node[0].dev, s.now, &s.node[1].addr, saved,
					   saved_len),
			 WG_DROP_KEY);
	size_t data_before = sim_count_sent(&s, 0, WG_MSG_DATA, 0, UINT64_MAX);
	len = sim_ipv4_packet(pkt, "10.0.0.1", "10.0.0.2", 0, 20);
	ck_assert_int_eq(sim_send(&s, 0, pkt, len), WG_OK);
	/* Nothing went out under the dead keys: the packet waits for a new
	 * handshake, which is under way. */
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_DATA, 0, UINT64_MAX), data_before);
	ck_assert_uint_eq(peer_of(0)->n_staged, 1);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, s.now, UINT64_MAX), 1);
}
END_TEST

START_TEST(test_keepalive_after_receiving_without_sending)
{
	send_ping(0);
	const uint64_t got = s.now;
	ck_assert_uint_eq(peer_of(1)->timers.send_keepalive, got + WG_KEEPALIVE_TIMEOUT);
	sim_advance_to(&s, got + WG_KEEPALIVE_TIMEOUT - 1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, got, UINT64_MAX), 0);
	sim_advance_to(&s, got + WG_KEEPALIVE_TIMEOUT);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, got, UINT64_MAX), 1);
	ck_assert_uint_eq(wg_device_stats(s.node[1].dev)->keepalives_sent, 1);
	/* A keepalive is not data: node 0 delivers nothing and does not
	 * answer it with one of its own. */
	ck_assert_uint_eq(s.node[0].n_delivered, 0);
	sim_advance_to(&s, got + SEC(40));
	ck_assert_uint_eq(wg_device_stats(s.node[0].dev)->keepalives_sent, 0);
	ck_assert_uint_eq(wg_device_stats(s.node[1].dev)->keepalives_sent, 1);
	/* Sending a reply in time makes the keepalive unnecessary. */
	const uint64_t t2 = s.now;
	send_ping(0);
	sim_advance_to(&s, t2 + SEC(2));
	send_ping(1);
	sim_advance_to(&s, t2 + SEC(30));
	ck_assert_uint_eq(wg_device_stats(s.node[1].dev)->keepalives_sent, 1);
}
END_TEST

START_TEST(test_new_handshake_after_sending_without_reply)
{
	send_ping(0);
	const uint64_t t0 = s.now + SEC(1);
	sim_advance_to(&s, t0);
	s.link_down[1] = true;	/* node 1 goes quiet */
	send_ping(0);
	sim_advance_to(&s, t0 + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT - 1);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, t0, UINT64_MAX), 0);
	sim_advance_to(&s, t0 + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT +
				   WG_REKEY_TIMEOUT_JITTER_MAX);
	uint64_t t[8];
	size_t n = sent_times(0, WG_MSG_INITIATION, t, 8);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_ge(t[1], t0 + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT);
	/* A reply in time prevents it. */
	s.link_down[1] = false;
	sim_advance_to(&s, s.now + SEC(10));
	const uint64_t t1 = s.now;
	send_ping(0);
	send_ping(1);
	sim_advance_to(&s, t1 + SEC(20));
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, t1, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_persistent_keepalive)
{
	char text[256], pub0[65];

	send_ping(0);
	wg_key_to_hex(pub0, s.node[0].public_key);
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%s\npersistent_keepalive_interval=25\n\n", pub0);
	const uint64_t t0 = s.now;
	ck_assert_int_eq(sim_apply_uapi(&s, 1, text), 0);
	sim_pump(&s);
	/* Turning it on sends one at once, then one every 25 s of quiet. */
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, t0, t0 + 1), 1);
	sim_advance_to(&s, t0 + SEC(100));
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, t0 + 1, t0 + SEC(100) + 1), 4);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, t0 + SEC(25), t0 + SEC(25) + 1), 1);
	/* Off again: silence. */
	snprintf(text, sizeof(text),
		 "set=1\npublic_key=%s\npersistent_keepalive_interval=0\n\n", pub0);
	ck_assert_int_eq(sim_apply_uapi(&s, 1, text), 0);
	const uint64_t t1 = s.now;
	sim_advance_to(&s, t1 + SEC(100));
	/* (The fourth keepalive went out at exactly t1, before the change.) */
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, t1 + 1, UINT64_MAX), 0);
}
END_TEST

START_TEST(test_keys_wiped_after_540_seconds)
{
	const uint64_t start = s.now;

	send_ping(0);
	ck_assert_ptr_nonnull(peer_of(0)->current);
	sim_advance_to(&s, start + WG_ZERO_KEYS_AFTER - SEC(1));
	ck_assert_ptr_nonnull(peer_of(0)->current);
	sim_advance_to(&s, start + WG_ZERO_KEYS_AFTER + SEC(1));
	for (int i = 0; i < 2; i++) {
		struct wg_peer *p = peer_of(i);
		ck_assert_ptr_null(p->current);
		ck_assert_ptr_null(p->previous);
		ck_assert_ptr_null(p->next);
		for (int k = 0; k < WG_KEYPAIR_SLOTS; k++)
			ck_assert(wg_is_zero(&p->keypair_storage[k],
					     sizeof(p->keypair_storage[k])));
		ck_assert(wg_is_zero(p->handshake.chaining_key, WG_HASH_LEN));
	}
	/* And the tunnel still comes back on demand. */
	send_ping(0);
	ck_assert_uint_eq(s.node[1].n_delivered, 2);
}
END_TEST

START_TEST(test_last_minute_rekey_on_receive)
{
	const uint64_t start = s.now;

	send_ping(0);
	/* Only node 1 talks from now on; node 0 (the initiator) must still
	 * rekey before its session expires: at 180 - 10 - 5 = 165 s. */
	sim_advance_to(&s, start + SEC(164));
	send_ping(1);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 1);
	sim_advance_to(&s, start + SEC(166));
	send_ping(1);
	ck_assert_uint_eq(sim_count_sent(&s, 0, WG_MSG_INITIATION, 0, UINT64_MAX), 2);
	ck_assert_uint_eq(wg_device_stats(s.node[0].dev)->handshakes_completed, 2);
	/* Traffic continues on the new session past 180 s. */
	sim_advance_to(&s, start + SEC(200));
	size_t d0 = s.node[0].n_delivered;
	send_ping(1);
	ck_assert_uint_eq(s.node[0].n_delivered, d0 + 1);
}
END_TEST

START_TEST(test_exactly_at_the_deadline)
{
	send_ping(0);
	uint64_t d = wg_device_next_deadline(s.node[1].dev);
	ck_assert_uint_ne(d, UINT64_MAX);
	/* One nanosecond early does nothing; at the deadline it fires. */
	size_t before = sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX);
	wg_device_tick(s.node[1].dev, d - 1);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX), before);
	s.now = d;
	wg_device_tick(s.node[1].dev, d);
	ck_assert_uint_eq(sim_count_sent(&s, 1, WG_MSG_DATA, 0, UINT64_MAX), before + 1);
	/* A device with no peers has no deadline. */
	ck_assert_uint_eq(wg_device_tick(s.node[1].dev, d), wg_device_next_deadline(s.node[1].dev));
}
END_TEST

/* Many peers: the device files each under its earliest deadline in a
 * heap. Whatever happens (packets to random peers, peers removed and
 * added, time jumping), the device's deadline is never later than any
 * peer's, and a tick leaves no peer due. */

struct many {
	uint64_t rng;
	size_t sent;
};

static void many_random(void *ctx, void *buf, size_t len)
{
	struct many *m = ctx;
	uint8_t *p = buf;

	for (size_t i = 0; i < len; i++) {
		m->rng ^= m->rng << 13;
		m->rng ^= m->rng >> 7;
		m->rng ^= m->rng << 17;
		p[i] = (uint8_t)m->rng;
	}
}

static void many_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	(void)ctx;
	*sec = 1700000000;
	*nsec = 0;
}

static void many_send(void *ctx, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len)
{
	struct many *m = ctx;

	(void)to;
	(void)data;
	(void)len;
	m->sent++;
}

static void many_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	(void)ctx;
	(void)packet;
	(void)len;
}

static uint64_t next_of_all(struct wg_device *dev)
{
	uint64_t next = UINT64_MAX;

	for (struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
		uint64_t d = wg_timers_next(&p->timers);

		if (d < next)
			next = d;
	}
	return next;
}

static void check_heap(struct wg_device *dev)
{
	size_t filed = 0;

	ck_assert_uint_le(dev->timer_heap_len, dev->n_peers);
	for (size_t i = 0; i < dev->timer_heap_len; i++) {
		struct wg_peer *p = dev->timer_heap[i];

		ck_assert_uint_eq(p->timer_slot, i + 1);
		if (i)
			ck_assert_uint_le(dev->timer_heap[(i - 1) / 2]->timer_key,
					  p->timer_key);
		/* Filed no later than its earliest timer. */
		ck_assert_uint_le(p->timer_key, wg_timers_next(&p->timers));
	}
	for (struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
		if (p->timer_slot)
			filed++;
		else
			ck_assert_uint_eq(wg_timers_next(&p->timers),
					  WG_TIMER_OFF);
	}
	ck_assert_uint_eq(filed, dev->timer_heap_len);
}

static void peer_config(struct wg_config *cfg, uint32_t i, bool remove)
{
	struct wg_config_peer *cp = wg_config_add_peer(cfg);
	struct wg_allowedip a = { .family = AF_INET, .cidr = 32 };
	char ep[32];

	ck_assert_ptr_nonnull(cp);
	memset(cp->public_key, 0, WG_KEY_LEN);
	/* Distinct keys that are valid points: 9 times i, as bytes. */
	cp->public_key[0] = 9;
	cp->public_key[1] = (uint8_t)(i + 1);
	cp->public_key[2] = (uint8_t)((i + 1) >> 8);
	if (remove) {
		cp->flags = WG_PEER_REMOVE;
		return;
	}
	a.addr[0] = 10;
	a.addr[1] = 1;
	a.addr[2] = (uint8_t)(i >> 8);
	a.addr[3] = (uint8_t)i;
	ck_assert_int_eq(wg_config_peer_add_allowedip(cp, &a), 0);
	snprintf(ep, sizeof(ep), "192.0.2.%u:%u", i % 250 + 1, 1000 + i);
	ck_assert(wg_endpoint_parse(&cp->endpoint, ep, strlen(ep)));
	cp->flags |= WG_PEER_HAS_ENDPOINT;
	if (i % 7 == 0) {
		cp->persistent_keepalive = (uint16_t)(1 + i % 30);
		cp->flags |= WG_PEER_HAS_KEEPALIVE;
	}
}

START_TEST(test_many_peers_in_the_timer_heap)
{
	struct many m = { .rng = 0x9e3779b97f4a7c15ULL };
	const struct wg_env env = {
		.ctx = &m,
		.random = many_random,
		.wall_clock = many_wall,
		.send = many_send,
		.deliver = many_deliver,
	};
	enum { N = 200 };
	uint64_t now = SEC(1);
	struct wg_device *dev = wg_device_new(&env, now);
	struct wg_config cfg;

	ck_assert_ptr_nonnull(dev);
	wg_config_init(&cfg);
	cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
	cfg.private_key[0] = 0x28;
	cfg.private_key[31] = 0x68;
	for (uint32_t i = 0; i < N; i++)
		peer_config(&cfg, i, false);
	ck_assert_int_eq(wg_device_apply(dev, &cfg, now, NULL), 0);
	wg_config_clear(&cfg);
	check_heap(dev);

	for (int step = 0; step < 2500; step++) {
		uint32_t r, i;
		uint8_t pkt[64];

		many_random(&m, &r, sizeof(r));
		i = r % N;
		switch ((r >> 16) % 8) {
		case 0:
			/* A peer goes, or comes back. */
			wg_config_init(&cfg);
			peer_config(&cfg, i, (r >> 24) & 1);
			ck_assert_int_eq(wg_device_apply(dev, &cfg, now, NULL),
					 0);
			wg_config_clear(&cfg);
			break;
		case 1:
		case 2:
		case 3: {
			/* A packet for it: staged, and a handshake begins. */
			char dst[16];

			snprintf(dst, sizeof(dst), "10.1.%u.%u", i >> 8,
				 i & 255);
			(void)wg_device_send(dev, now, pkt,
					     sim_ipv4_packet(pkt, "10.9.9.9",
							     dst, 1, 20));
			break;
		}
		default:
			now += (r >> 20) % SEC(3);
			break;
		}
		check_heap(dev);
		ck_assert_uint_le(wg_device_next_deadline(dev),
				  next_of_all(dev));
		if (wg_device_next_deadline(dev) <= now) {
			uint64_t next = wg_device_tick(dev, now);

			ck_assert_uint_gt(next_of_all(dev), now);
			ck_assert_uint_gt(next, now);
			ck_assert_uint_le(next, next_of_all(dev));
			check_heap(dev);
		}
	}
	/* Retries and keepalives went out along the way. */
	ck_assert_uint_gt(m.sent, N / 2);
	wg_device_free(dev);
}
END_TEST

static Suite *timers_suite(void)
{
	Suite *suite = suite_create("timers");
	TCase *tc = tcase_create("whitepaper timers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_retransmit_with_jitter_then_give_up);
	tcase_add_test(tc, test_rekey_after_120_seconds);
	tcase_add_test(tc, test_reject_after_180_seconds);
	tcase_add_test(tc, test_keepalive_after_receiving_without_sending);
	tcase_add_test(tc, test_new_handshake_after_sending_without_reply);
	tcase_add_test(tc, test_persistent_keepalive);
	tcase_add_test(tc, test_keys_wiped_after_540_seconds);
	tcase_add_test(tc, test_last_minute_rekey_on_receive);
	tcase_add_test(tc, test_exactly_at_the_deadline);
	suite_add_tcase(suite, tc);
	tc = tcase_create("many peers");
	tcase_add_test(tc, test_many_peers_in_the_timer_heap);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIGUARD_TEST_MAIN(timers_suite)
