/* SPDX-License-Identifier: MIT */
/*
 * The handshake rate limiter, driven by a clock the tests move by hand.
 * The expected counts follow from the rule alone: a packet costs 50 ms of
 * tokens, a bucket holds 250 ms, a new source starts with 200 ms left.
 */
#include "ratelimit.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "support.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define COST (50 * MS)

static const uint8_t hash_key[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
				      9, 10, 11, 12, 13, 14, 15, 16 };

/* The fake clock: an arbitrary start, moved only by the tests. */
static uint64_t clock_now;

static struct wg_ratelimit *setup(void)
{
	struct wg_ratelimit *rl;

	ck_assert(wg_crypto_init());
	rl = wg_ratelimit_new(hash_key);
	ck_assert_ptr_nonnull(rl);
	clock_now = 1000 * SEC + 12345;
	return rl;
}

static bool allow_text(struct wg_ratelimit *rl, const char *text)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	ck_assert_int_eq(inet_pton(family, text, a), 1);
	return wg_ratelimit_allow(rl, clock_now, family, a);
}

/* How many of n back-to-back packets (at the same instant) get through. */
static unsigned burst(struct wg_ratelimit *rl, const char *text, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += allow_text(rl, text);
	return ok;
}

START_TEST(test_burst_then_refuse)
{
	struct wg_ratelimit *rl = setup();

	for (int i = 0; i < 5; i++)
		ck_assert_msg(allow_text(rl, "192.0.2.1"), "packet %d", i);
	ck_assert(!allow_text(rl, "192.0.2.1"));
	ck_assert(!allow_text(rl, "192.0.2.1"));
	clock_now += 10 * MS;
	ck_assert(!allow_text(rl, "192.0.2.1"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 1);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_refill_one_packet)
{
	struct wg_ratelimit *rl = setup();

	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 5);
	/* One nanosecond short of a packet's worth. */
	clock_now += COST - 1;
	ck_assert(!allow_text(rl, "192.0.2.1"));
	/* The refused packet did not cost anything: at exactly 50 ms after
	 * the burst there is exactly one packet's worth. */
	clock_now += 1;
	ck_assert(allow_text(rl, "192.0.2.1"));
	ck_assert(!allow_text(rl, "192.0.2.1"));
	/* 100 ms later: two. */
	clock_now += 2 * COST;
	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 2);
	/* The bucket holds five packets however long the wait (below the
	 * idle limit, so the source is still the same entry). */
	clock_now += 900 * MS;
	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 5);
	/* ...and not a nanosecond more. */
	clock_now += COST - 1;
	ck_assert(!allow_text(rl, "192.0.2.1"));
	clock_now += 4 * COST;
	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 4);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_steady_rate)
{
	struct wg_ratelimit *rl = setup();
	unsigned ok = 0;

	/*
	 * 100 packets a second for 10 s (t = 0, 10, ..., 9990 ms): the
	 * first five pass on the burst (t = 0..40 ms, the bucket refilling
	 * 10 ms per packet leaves 0.8 packets at 40 ms), then one passes at
	 * each multiple of 50 ms from 50 to 9950: 5 + 199 = 204.
	 */
	for (int i = 0; i < 1000; i++) {
		ok += allow_text(rl, "198.51.100.7");
		clock_now += 10 * MS;
	}
	ck_assert_uint_eq(ok, 204);

	/* Exactly 20 a second is sustained indefinitely. The 1000-packet run
	 * ended 10 ms after a refusal that left 0.8 packets in the bucket,
	 * so this run starts with one to spare. */
	ok = 0;
	for (int i = 0; i < 200; i++) {
		clock_now += COST;
		ok += allow_text(rl, "198.51.100.7");
	}
	ck_assert_uint_eq(ok, 200);
	/*
	 * 21 a second is not: over 210 packets 1 s / 21 apart the bucket
	 * earns 210 * 47619047 ns on top of the one packet (50 ms) it held,
	 * 10049999870 ns in all, never reaching its cap, so exactly
	 * floor(10049999870 / 50e6) = 200 pass.
	 */
	ok = 0;
	for (int i = 0; i < 210; i++) {
		clock_now += SEC / 21;
		ok += allow_text(rl, "198.51.100.7");
	}
	ck_assert_uint_eq(ok, 200);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_sources_independent)
{
	struct wg_ratelimit *rl = setup();

	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 5);
	ck_assert_uint_eq(burst(rl, "192.0.2.2", 10), 5);
	ck_assert_uint_eq(burst(rl, "10.0.0.1", 10), 5);
	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 0);
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 3);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_ipv6_prefix64)
{
	struct wg_ratelimit *rl = setup();

	/* One /64 is one source, whatever the interface identifier. */
	ck_assert_uint_eq(burst(rl, "2001:db8:1:2::1", 3), 3);
	ck_assert_uint_eq(burst(rl, "2001:db8:1:2:ffff:ffff:ffff:ffff", 3), 2);
	ck_assert_uint_eq(burst(rl, "2001:db8:1:2:abcd::", 3), 0);
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 1);
	/* Neighbouring /64s are other sources. */
	ck_assert_uint_eq(burst(rl, "2001:db8:1:3::1", 10), 5);
	ck_assert_uint_eq(burst(rl, "2001:db8:1:1::1", 10), 5);
	ck_assert_uint_eq(burst(rl, "3001:db8:1:2::1", 10), 5);
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 4);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_families_separate)
{
	struct wg_ratelimit *rl = setup();

	/* The IPv6 /64 whose bytes are the IPv4 address padded with zeros,
	 * and the mapped form, are not the IPv4 source. */
	ck_assert_uint_eq(burst(rl, "192.0.2.1", 10), 5);
	ck_assert_uint_eq(burst(rl, "c000:201::", 10), 5);
	ck_assert_uint_eq(burst(rl, "::ffff:192.0.2.1", 10), 5);
	ck_assert_uint_eq(burst(rl, "0.0.0.0", 10), 5);
	/* :: is in the same /64 as ::ffff:192.0.2.1. */
	ck_assert_uint_eq(burst(rl, "::", 10), 0);
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 4);
	wg_ratelimit_free(rl);
}
END_TEST

START_TEST(test_bad_family)
{
	struct wg_ratelimit *rl = setup();
	uint8_t a[16] = { 0 };

	ck_assert(!wg_ratelimit_allow(rl, clock_now, AF_UNIX, a));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 0);
	wg_ratelimit_free(rl);
	wg_ratelimit_free(NULL);
}
END_TEST

START_TEST(test_idle_reclaimed)
{
	struct wg_ratelimit *rl = setup();
	char text[32];

	for (int i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "203.0.113.%d", i);
		ck_assert(allow_text(rl, text));
	}
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 100);
	/* Idle for exactly one second is not yet idle for more. */
	clock_now += SEC;
	ck_assert(allow_text(rl, "203.0.113.0"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 100);
	clock_now += SEC / 2;
	ck_assert(allow_text(rl, "203.0.113.0"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 100);
	/* Two seconds after their last packet the other 99 are gone; the
	 * one seen half a second ago stays, and a newcomer takes a slot. */
	clock_now += SEC / 2 + 1;
	ck_assert(allow_text(rl, "198.51.100.1"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 2);
	/* A reclaimed source starts over with a full burst. */
	ck_assert_uint_eq(burst(rl, "203.0.113.5", 10), 5);
	clock_now += 3 * SEC;
	ck_assert(allow_text(rl, "198.51.100.1"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 1);
	wg_ratelimit_free(rl);
}
END_TEST

static void addr_of(unsigned i, uint8_t a[4])
{
	a[0] = 10;
	a[1] = (uint8_t)(i >> 16);
	a[2] = (uint8_t)(i >> 8);
	a[3] = (uint8_t)i;
}

START_TEST(test_full_table)
{
	struct wg_ratelimit *rl = setup();
	uint8_t a[4];
	uint64_t t0 = clock_now;

	for (unsigned i = 0; i < WG_RATELIMIT_MAX_ENTRIES; i++) {
		addr_of(i, a);
		ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	}
	ck_assert_uint_eq(wg_ratelimit_entries(rl), WG_RATELIMIT_MAX_ENTRIES);

	/* Full of live sources: newcomers are refused, every time. */
	clock_now = t0 + 10 * MS;
	for (unsigned i = 0; i < 100; i++) {
		addr_of(WG_RATELIMIT_MAX_ENTRIES + i, a);
		ck_assert(!wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	}
	ck_assert(!allow_text(rl, "2001:db8::1"));
	/* Those already in keep their buckets. */
	for (unsigned i = 0; i < WG_RATELIMIT_MAX_ENTRIES; i += 7) {
		addr_of(i, a);
		ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	}
	addr_of(0, a);
	ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	ck_assert(!wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), WG_RATELIMIT_MAX_ENTRIES);

	/* A second on, nobody has been idle for more than a second. */
	clock_now = t0 + SEC;
	ck_assert(!allow_text(rl, "2001:db8::1"));
	/* Two seconds after their last packet, all slots are free again. */
	clock_now = t0 + 10 * MS + 2 * SEC + 1;
	ck_assert(allow_text(rl, "2001:db8::1"));
	ck_assert_uint_eq(wg_ratelimit_entries(rl), 1);
	for (unsigned i = 0; i < WG_RATELIMIT_MAX_ENTRIES - 1; i++) {
		addr_of(WG_RATELIMIT_MAX_ENTRIES + i, a);
		ck_assert(wg_ratelimit_allow(rl, clock_now, AF_INET, a));
	}
	ck_assert_uint_eq(wg_ratelimit_entries(rl), WG_RATELIMIT_MAX_ENTRIES);
	ck_assert(!allow_text(rl, "2001:db8:0:1::1"));
	wg_ratelimit_free(rl);
}
END_TEST

/*
 * The model: one bucket per source, never forgotten. Forgetting an idle
 * source changes no verdict (after a second its bucket would be full
 * again), so while the table has room both must agree on every packet.
 */
#define MODEL_SOURCES 16

struct model_source {
	bool seen;
	uint64_t tokens, last;
};

static bool model_allow(struct model_source *s, uint64_t now)
{
	const uint64_t cap = 5 * COST;

	if (!s->seen) {
		s->seen = true;
		s->tokens = cap - COST;
		s->last = now;
		return true;
	}
	s->tokens += now - s->last;
	if (s->tokens > cap)
		s->tokens = cap;
	s->last = now;
	if (s->tokens < COST)
		return false;
	s->tokens -= COST;
	return true;
}

static uint64_t rng_state = 0x8badf00ddeadbeefULL;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

START_TEST(test_differential)
{
	static struct model_source model[MODEL_SOURCES];
	struct wg_ratelimit *rl = setup();
	unsigned allowed = 0, refused = 0, reclaims = 0;
	size_t held = 0;

	clock_now = 0;		/* also start the clock at zero */
	for (int step = 0; step < 200000; step++) {
		unsigned src = (unsigned)(rng_next() % MODEL_SOURCES);
		uint64_t r = rng_next() % 1000;
		uint8_t a[16] = { 0 };
		int family = src % 2 ? AF_INET6 : AF_INET;

		/* Mostly small steps, sometimes long pauses. */
		if (r < 800)
			clock_now += 0;
		else if (r < 999)
			clock_now += rng_next() % (2 * MS);
		else
			clock_now += rng_next() % (3 * SEC);
		a[0] = (uint8_t)(src / 2);
		a[7] = 0x5a;	/* inside the /64, beyond an IPv4 address */
		a[8] = (uint8_t)rng_next();	/* ignored for IPv6 */
		bool want = model_allow(&model[src], clock_now);
		bool got = wg_ratelimit_allow(rl, clock_now, family, a);

		ck_assert_msg(got == want, "step %d source %u at %llu", step,
			      src, (unsigned long long)clock_now);
		allowed += got;
		refused += !got;
		ck_assert_uint_le(wg_ratelimit_entries(rl), MODEL_SOURCES);
		reclaims += wg_ratelimit_entries(rl) < held;
		held = wg_ratelimit_entries(rl);
	}
	ck_assert_uint_gt(allowed, 20000);
	ck_assert_uint_gt(refused, 20000);
	ck_assert_uint_gt(reclaims, 50);
	wg_ratelimit_free(rl);
}
END_TEST

static Suite *ratelimit_suite(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("bucket");

	tcase_add_test(tc, test_burst_then_refuse);
	tcase_add_test(tc, test_refill_one_packet);
	tcase_add_test(tc, test_steady_rate);
	tcase_add_test(tc, test_sources_independent);
	tcase_add_test(tc, test_ipv6_prefix64);
	tcase_add_test(tc, test_families_separate);
	tcase_add_test(tc, test_bad_family);
	tcase_add_test(tc, test_idle_reclaimed);
	tcase_add_test(tc, test_full_table);
	tcase_add_test(tc, test_differential);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ratelimit_suite)
