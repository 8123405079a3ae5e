/* SPDX-License-Identifier: MIT */
/*
 * Randomness from a seed, for recordings and their replay only: the same
 * seed gives the same bytes in the same order on every machine, so that a
 * replay makes the same ephemeral keys, indexes and jitter as the run it
 * replays. Never for a tunnel anyone relies on: whoever knows the seed
 * knows every key it made.
 */
#ifndef UNIGUARD_SEEDED_H
#define UNIGUARD_SEEDED_H

#include <stddef.h>
#include <stdint.h>

struct seeded_random {
	uint8_t key[32];
	uint8_t block[64];
	size_t used;		/* bytes of block handed out */
	uint64_t counter;	/* blocks made */
};

/* Any text is a seed; "" too. */
void seeded_random_init(struct seeded_random *r, const char *seed);
void seeded_random_fill(struct seeded_random *r, void *buf, size_t len);
void seeded_random_clear(struct seeded_random *r);

#endif
