/* SPDX-License-Identifier: MIT */
/*
 * Seeded randomness (seeded.h): the ChaCha20 keystream (RFC 8439's cipher,
 * with the original 64-bit block counter) under a key that is the BLAKE2b
 * hash (RFC 7693) of the seed, handed out as one byte stream whatever the
 * sizes of the calls.
 */
#include "seeded.h"

#include <sodium.h>
#include <string.h>

/* Binds the key to this use, so that a seed hashed elsewhere for another
 * purpose never gives these bytes. */
static const char seeded_label[] = "uniguard seeded randomness v1";

void seeded_random_init(struct seeded_random *r, const char *seed)
{
	crypto_generichash_state st;

	memset(r, 0, sizeof(*r));
	crypto_generichash_init(&st, NULL, 0, sizeof(r->key));
	crypto_generichash_update(&st, (const unsigned char *)seeded_label,
				  sizeof(seeded_label));
	crypto_generichash_update(&st, (const unsigned char *)seed,
				  strlen(seed));
	crypto_generichash_final(&st, r->key, sizeof(r->key));
	r->used = sizeof(r->block);
}

void seeded_random_fill(struct seeded_random *r, void *buf, size_t len)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	uint8_t *out = buf;

	while (len) {
		size_t n;

		if (r->used == sizeof(r->block)) {
			memset(r->block, 0, sizeof(r->block));
			crypto_stream_chacha20_xor_ic(r->block, r->block,
						      sizeof(r->block), nonce,
						      r->counter++, r->key);
			r->used = 0;
		}
		n = sizeof(r->block) - r->used;
		if (n > len)
			n = len;
		memcpy(out, r->block + r->used, n);
		sodium_memzero(r->block + r->used, n);
		r->used += n;
		out += n;
		len -= n;
	}
}

void seeded_random_clear(struct seeded_random *r)
{
	sodium_memzero(r, sizeof(*r));
}
