/* SPDX-License-Identifier: MIT */
/*
 * Anti-replay window for transport data counters (whitepaper section
 * 5.4.6): the bitmap ring of RFC 6479, "IPsec Anti-Replay Algorithm without
 * Bit Shifting". The ring is 8192 bits in 128 words of 64. When the
 * greatest counter moves into a new word, that word and any skipped ones
 * are cleared whole instead of shifting the bitmap; the window is therefore
 * one word short of the ring (WG_REPLAY_WINDOW, 8128 counters), so that
 * clearing a word never loses a counter still inside the window.
 *
 * Counter c is kept at bit position c + 1: position 0 then stands for
 * "nothing received yet", and `next` (one past the greatest counter) is
 * the position of the greatest counter. Counters at or beyond
 * WG_REJECT_AFTER_MESSAGES are refused: the sender must have rekeyed long
 * before, and the limit keeps c + 1 + WG_REPLAY_WINDOW from overflowing.
 */
#include "replay.h"

#include <string.h>

#include "messages.h"

static_assert(WG_REPLAY_WORDS > 0 &&
		      (WG_REPLAY_WORDS & (WG_REPLAY_WORDS - 1)) == 0,
	      "the word ring is indexed with a mask");
/* pos <= WG_REJECT_AFTER_MESSAGES, and pos + WG_REPLAY_WINDOW must fit. */
static_assert(WG_REJECT_AFTER_MESSAGES <= UINT64_MAX - WG_REPLAY_WINDOW,
	      "positions near the limit must not overflow");

#define WORD_SHIFT 6	/* log2(WG_REPLAY_WORD_BITS) */
#define WORD_MASK (WG_REPLAY_WORDS - 1)

static_assert(1 << WORD_SHIFT == WG_REPLAY_WORD_BITS, "64-bit words");

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_accept(struct wg_replay *r, uint64_t counter)
{
	uint64_t pos, word, top, bit, skip;

	if (counter >= WG_REJECT_AFTER_MESSAGES)
		return false;
	pos = counter + 1;

	/* Too old: its bit may already stand for a newer counter. */
	if (pos + WG_REPLAY_WINDOW < r->next)
		return false;

	word = pos >> WORD_SHIFT;
	if (pos > r->next) {
		/*
		 * Ahead of the window: the words after the greatest
		 * counter's word, up to and including the new one, hold
		 * bits of counters a whole ring ago; clear them (never more
		 * than the ring, however far the jump).
		 */
		top = r->next >> WORD_SHIFT;
		skip = word - top;
		if (skip > WG_REPLAY_WORDS)
			skip = WG_REPLAY_WORDS;
		for (uint64_t i = 1; i <= skip; i++)
			r->bitmap[(top + i) & WORD_MASK] = 0;
		r->next = pos;
	}

	bit = UINT64_C(1) << (pos & (WG_REPLAY_WORD_BITS - 1));
	word &= WORD_MASK;
	if (r->bitmap[word] & bit)
		return false;
	r->bitmap[word] |= bit;
	return true;
}
