/* SPDX-License-Identifier: MIT */
/*
 * Seeded randomness (seeded.h): the ChaCha20 keystream (RFC 8439's cipher,
 * with the original 64-bit block counter) under a key that is the BLAKE2b
 * hash (RFC 7693) of the seed, handed out as one byte stream whatever the
 * sizes of the calls.
 */
#include "seeded.h"

#include <assert.h>
#include <string.h>

#include "crypto.h"

/* Binds the key to this use, so that a seed hashed elsewhere for another
 * purpose never gives these bytes. */
static const char seeded_label[] = "uniguard seeded randomness v1";

void seeded_random_init(struct seeded_random *r, const char *seed)
{
	static_assert(sizeof(r->key) == 32 && sizeof(r->block) == 64,
		      "one BLAKE2b-256 key, one ChaCha20 block");
	memset(r, 0, sizeof(*r));
	wg_blake2b_256(r->key, seeded_label, sizeof(seeded_label), seed,
		       strlen(seed));
	r->used = sizeof(r->block);
}

void seeded_random_fill(struct seeded_random *r, void *buf, size_t len)
{
	uint8_t *out = buf;

	while (len) {
		size_t n;

		if (r->used == sizeof(r->block)) {
			wg_chacha20_block(r->block, r->key, r->counter++);
			r->used = 0;
		}
		n = sizeof(r->block) - r->used;
		if (n > len)
			n = len;
		memcpy(out, r->block + r->used, n);
		wg_wipe(r->block + r->used, n);
		r->used += n;
		out += n;
		len -= n;
	}
}

void seeded_random_clear(struct seeded_random *r)
{
	wg_wipe(r, sizeof(*r));
}
