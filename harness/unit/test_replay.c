/* SPDX-License-Identifier: MIT */
/*
 * The replay window: a table of counters in arrival order with the verdict
 * each must get, loops that fill the whole window from either end, and a
 * randomized comparison against a plain set of seen counters under the same
 * window rule.
 */
#include "replay.h"

#include <stdio.h>
#include <string.h>

#include "messages.h"
#include "support.h"

#define W WG_REPLAY_WINDOW		/* 8128 */
#define B ((uint64_t)WG_REPLAY_BITS)	/* 8192 */
#define R WG_REJECT_AFTER_MESSAGES

struct replay_case {
	uint64_t counter;
	bool accept;
};

/* Greatest counters the table moves through (see the comments below). */
#define G1 ((uint64_t)W + 20)
#define G2 (3 * B + 5)
#define G3 (G2 + B)
#define G4 (G3 + W)
#define G5 (G4 + 64)

static const struct replay_case replay_table[] = {
	/* Counter 0 is the first one a sender uses. */
	{ 0, true },
	{ 0, false },
	/* In order, then a duplicate. */
	{ 1, true },
	{ 2, true },
	{ 3, true },
	{ 2, false },
	/* A gap, then the late ones arrive out of order. */
	{ 9, true },
	{ 8, true },
	{ 6, true },
	{ 7, true },
	{ 8, false },
	{ 9, false },
	{ 4, true },
	{ 5, true },
	{ 5, false },
	/* Ahead by almost a window: 20 is then exactly W behind. */
	{ G1, true },
	{ 20, true },		/* at the edge: accepted */
	{ 19, false },		/* one past the edge */
	{ 10, false },
	{ 21, true },
	{ 20, false },		/* seen, at the edge */
	{ G1 - 1, true },
	{ G1, false },
	/* The window moves by one: 20 falls out, 21 sits on the edge. */
	{ G1 + 1, true },
	{ 20, false },
	{ 21, false },
	{ 22, true },
	/* A jump of more than the whole bitmap clears every word. */
	{ G2, true },
	{ G2 - W, true },
	{ G2 - W - 1, false },
	{ G1 + 1, false },
	{ G2 - 1, true },
	{ G2 - 64, true },
	/* A jump of exactly the bitmap size: the counter's bit lands where
	 * G2's was and must read as new. */
	{ G3, true },
	{ G2, false },		/* B behind: too old */
	{ G3 - W, true },
	{ G3 - W - 1, false },
	{ G3 - 1, true },
	/* A jump of exactly the window: G3 stays on the edge, and its word
	 * must survive the words cleared for G4. */
	{ G4, true },
	{ G3, false },
	{ G3 - 1, false },
	{ G3 + 1, true },
	{ G4 - 1, true },
	/* One more word ahead: G3 falls out, the words between stay new. */
	{ G5, true },
	{ G3 + 1, false },
	{ G3 + 64, true },
	{ G3 + 65, true },
	{ G5 - 1, true },
	{ G4, false },
	/* The end of the counter space. */
	{ R, false },
	{ R - 1, true },
	{ R, false },
	{ R - 1, false },
	{ R - 2, true },
	{ R + 1, false },
	{ R + 2, false },
	{ UINT64_MAX, false },
	{ R - 2, false },
	{ R - 3, true },
	{ R - 1 - W, true },	/* at the edge below the last counter */
	{ R - 2 - W, false },
	{ 0, false },
	{ G5, false },
};

START_TEST(test_replay_table)
{
	struct wg_replay r;
	size_t i;

	wg_replay_init(&r);
	for (i = 0; i < sizeof(replay_table) / sizeof(replay_table[0]); i++) {
		const struct replay_case *c = &replay_table[i];
		bool got = wg_replay_accept(&r, c->counter);

		ck_assert_msg(got == c->accept,
			      "case %zu: counter %llu %s, expected %s", i,
			      (unsigned long long)c->counter,
			      got ? "accepted" : "refused",
			      c->accept ? "accepted" : "refused");
	}
}
END_TEST

START_TEST(test_replay_fill_ascending)
{
	struct wg_replay r;

	/* 1..W, then 0 is exactly W behind the greatest. */
	wg_replay_init(&r);
	for (uint64_t i = 1; i <= W; i++)
		ck_assert(wg_replay_accept(&r, i));
	ck_assert(wg_replay_accept(&r, 0));
	ck_assert(!wg_replay_accept(&r, 0));

	/* 2..W+1: 1 is on the edge, 0 one past it. */
	wg_replay_init(&r);
	for (uint64_t i = 2; i <= W + 1; i++)
		ck_assert(wg_replay_accept(&r, i));
	ck_assert(wg_replay_accept(&r, 1));
	ck_assert(!wg_replay_accept(&r, 0));
	for (uint64_t i = 1; i <= W + 1; i++)
		ck_assert(!wg_replay_accept(&r, i));
}
END_TEST

START_TEST(test_replay_fill_descending)
{
	struct wg_replay r;
	uint64_t i;

	/* The whole window arriving backwards, down to 0. */
	wg_replay_init(&r);
	for (i = W + 1; i-- > 0;)
		ck_assert(wg_replay_accept(&r, i));
	for (i = 0; i <= W; i++)
		ck_assert(!wg_replay_accept(&r, i));

	/* W+1 down to 1: 0 is then one past the edge. */
	wg_replay_init(&r);
	for (i = W + 2; i-- > 1;)
		ck_assert(wg_replay_accept(&r, i));
	ck_assert(!wg_replay_accept(&r, 0));

	/* W down to 1, then W+1 pushes 0 out. */
	wg_replay_init(&r);
	for (i = W + 1; i-- > 1;)
		ck_assert(wg_replay_accept(&r, i));
	ck_assert(wg_replay_accept(&r, W + 1));
	ck_assert(!wg_replay_accept(&r, 0));

	/* W down to 0, then W+1 still fits. */
	wg_replay_init(&r);
	for (i = W + 1; i-- > 1;)
		ck_assert(wg_replay_accept(&r, i));
	ck_assert(wg_replay_accept(&r, 0));
	ck_assert(wg_replay_accept(&r, W + 1));
}
END_TEST

START_TEST(test_replay_every_offset_after_wrap)
{
	struct wg_replay r;

	/*
	 * After the ring has been used many times over, every counter in
	 * the window is new exactly once, and nothing outside it is.
	 */
	wg_replay_init(&r);
	for (uint64_t i = 0; i < 5 * B; i++)
		ck_assert(wg_replay_accept(&r, i));
	uint64_t g = 20 * B + 17;
	ck_assert(wg_replay_accept(&r, g));
	for (uint64_t i = g - W; i < g; i++)
		ck_assert_msg(wg_replay_accept(&r, i), "counter %llu",
			      (unsigned long long)i);
	for (uint64_t i = g - W - 2 * B; i <= g; i++)
		ck_assert(!wg_replay_accept(&r, i));
}
END_TEST

/*
 * The model: every accepted counter is remembered (a bit per counter over
 * a bounded range starting at base), with the rule stated plainly.
 */
#define MODEL_RANGE (UINT64_C(1) << 26)

struct replay_model {
	uint64_t base;
	uint64_t greatest;
	bool have;
	uint8_t *seen;		/* MODEL_RANGE bits */
};

static bool model_accept(struct replay_model *m, uint64_t c)
{
	uint64_t off = c - m->base;

	if (c >= R)
		return false;
	if (m->have && c < m->greatest && m->greatest - c > W)
		return false;
	ck_assert(c >= m->base && off < MODEL_RANGE);
	if (m->seen[off / 8] & (1u << (off % 8)))
		return false;
	m->seen[off / 8] |= (uint8_t)(1u << (off % 8));
	if (!m->have || c > m->greatest) {
		m->greatest = c;
		m->have = true;
	}
	return true;
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64*: reproducible from a fixed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static uint64_t rng_below(uint64_t n)
{
	return rng_next() % n;
}

static uint64_t ahead(uint64_t g, uint64_t d)
{
	return UINT64_MAX - g < d ? UINT64_MAX : g + d;
}

static uint64_t behind(const struct replay_model *m, uint64_t g, uint64_t d)
{
	return g - m->base < d ? m->base : g - d;
}

/* A counter near the model's greatest, biased toward the interesting
 * places: next in line, small gaps, late arrivals, the edge, far jumps. */
static uint64_t pick_counter(const struct replay_model *m, uint64_t prev)
{
	uint64_t g = m->have ? m->greatest : m->base;
	unsigned k = (unsigned)rng_below(128);

	if (k < 40)
		return ahead(g, 1);
	if (k < 60)
		return ahead(g, 1 + rng_below(100));
	if (k < 62)
		return ahead(g, rng_below(3 * B));
	if (k < 64)
		return ahead(g, B - 2 + rng_below(4)); /* about a ring */
	if (k < 90)
		return behind(m, g, rng_below(W + 200));
	if (k < 100)
		return behind(m, g, W - 1 + rng_below(3)); /* the edge */
	if (k < 110)
		return prev;				  /* a duplicate */
	return behind(m, g, rng_below(64));
}

static void run_differential(uint64_t base, uint64_t seed, unsigned steps)
{
	struct replay_model m = { .base = base };
	struct wg_replay r;
	uint64_t prev = base;
	unsigned accepted = 0, refused = 0, done = 0;

	m.seen = calloc(MODEL_RANGE / 8, 1);
	ck_assert_ptr_nonnull(m.seen);
	rng_state = seed;
	wg_replay_init(&r);
	for (unsigned i = 0; i < steps; i++) {
		uint64_t c = pick_counter(&m, prev);

		if (c - base >= MODEL_RANGE - 8 * B)
			break;	/* the model's range is used up */
		bool want = model_accept(&m, c);
		bool got = wg_replay_accept(&r, c);

		ck_assert_msg(got == want,
			      "step %u: counter %llu (greatest %llu): got %d",
			      i, (unsigned long long)c,
			      (unsigned long long)m.greatest, got);
		if (got)
			accepted++;
		else
			refused++;
		prev = c;
		done++;
	}
	/* Most steps ran, and both verdicts were exercised a fair amount. */
	ck_assert_uint_gt(done, steps / 2);
	ck_assert_uint_gt(accepted, done / 20);
	ck_assert_uint_gt(refused, done / 20);
	free(m.seen);
}

START_TEST(test_replay_differential)
{
	run_differential(0, UINT64_C(0x9e3779b97f4a7c15), 100000);
}
END_TEST

START_TEST(test_replay_differential_near_limit)
{
	/* The walk starts a few hundred thousand counters below the limit,
	 * so it runs into WG_REJECT_AFTER_MESSAGES and stays there. */
	run_differential(R - 300000, UINT64_C(0x243f6a8885a308d3), 100000);
}
END_TEST

static Suite *replay_suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("window");

	tcase_add_test(tc, test_replay_table);
	tcase_add_test(tc, test_replay_fill_ascending);
	tcase_add_test(tc, test_replay_fill_descending);
	tcase_add_test(tc, test_replay_every_offset_after_wrap);
	tcase_add_test(tc, test_replay_differential);
	tcase_add_test(tc, test_replay_differential_near_limit);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(replay_suite)
