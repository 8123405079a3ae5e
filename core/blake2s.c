/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s as specified by RFC 7693 (sections 2 and 3): the 32-bit variant
 * with a 64-byte block, 10 rounds and outputs of 1 to 32 bytes, keyed
 * through the parameter block and a first block holding the key.
 */
#include "blake2s.h"

#include <stdbool.h>
#include <string.h>

#include "crypto.h"

/* RFC 7693 section 2.6: the same words as SHA-256's initial state. */
static const uint32_t blake2s_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* RFC 7693 section 2.7: message word order for each of the 10 rounds. */
static const uint8_t blake2s_sigma[10][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3 },
	{ 11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4 },
	{ 7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8 },
	{ 9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13 },
	{ 2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9 },
	{ 12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11 },
	{ 13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10 },
	{ 6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5 },
	{ 10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0 },
};

static uint32_t ror32(uint32_t x, unsigned int n)
{
	return (x >> n) | (x << (32 - n));
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void store_le32(uint8_t *p, uint32_t x)
{
	p[0] = (uint8_t)x;
	p[1] = (uint8_t)(x >> 8);
	p[2] = (uint8_t)(x >> 16);
	p[3] = (uint8_t)(x >> 24);
}

/* The mixing function G of RFC 7693 section 3.1, with BLAKE2s's rotation
 * distances (R1..R4 = 16, 12, 8, 7). */
static void mix(uint32_t v[16], int a, int b, int c, int d, uint32_t x,
		uint32_t y)
{
	v[a] = v[a] + v[b] + x;
	v[d] = ror32(v[d] ^ v[a], 16);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 12);
	v[a] = v[a] + v[b] + y;
	v[d] = ror32(v[d] ^ v[a], 8);
	v[c] = v[c] + v[d];
	v[b] = ror32(v[b] ^ v[c], 7);
}

/* The compression function F of RFC 7693 section 3.2. The byte counter has
 * already been advanced by the caller; last marks the final block. */
static void compress(struct blake2s_state *s, const uint8_t block[64],
		     bool last)
{
	uint32_t m[16], v[16];
	int i;

	for (i = 0; i < 16; i++)
		m[i] = load_le32(block + 4 * i);
	for (i = 0; i < 8; i++) {
		v[i] = s->h[i];
		v[i + 8] = blake2s_iv[i];
	}
	v[12] ^= s->t[0];
	v[13] ^= s->t[1];
	if (last)
		v[14] = ~v[14];

	for (i = 0; i < 10; i++) {
		const uint8_t *sg = blake2s_sigma[i];

		/* Columns, then diagonals. */
		mix(v, 0, 4, 8, 12, m[sg[0]], m[sg[1]]);
		mix(v, 1, 5, 9, 13, m[sg[2]], m[sg[3]]);
		mix(v, 2, 6, 10, 14, m[sg[4]], m[sg[5]]);
		mix(v, 3, 7, 11, 15, m[sg[6]], m[sg[7]]);
		mix(v, 0, 5, 10, 15, m[sg[8]], m[sg[9]]);
		mix(v, 1, 6, 11, 12, m[sg[10]], m[sg[11]]);
		mix(v, 2, 7, 8, 13, m[sg[12]], m[sg[13]]);
		mix(v, 3, 4, 9, 14, m[sg[14]], m[sg[15]]);
	}

	for (i = 0; i < 8; i++)
		s->h[i] ^= v[i] ^ v[i + 8];

	/* The block may hold the key, and v is derived from it. */
	wg_wipe(m, sizeof(m));
	wg_wipe(v, sizeof(v));
}

/* The offset counter t is a 64-bit count of bytes, split over two words. */
static void count_bytes(struct blake2s_state *s, uint32_t n)
{
	s->t[0] += n;
	if (s->t[0] < n)
		s->t[1]++;
}

void blake2s_init(struct blake2s_state *s, size_t outlen, const void *key,
		  size_t keylen)
{
	int i;

	/* Out-of-range parameters are programming errors; clamp them rather
	 * than write past out later. */
	if (outlen == 0 || outlen > BLAKE2S_OUT_MAX)
		outlen = BLAKE2S_OUT_MAX;
	if (keylen > BLAKE2S_KEY_MAX)
		keylen = BLAKE2S_KEY_MAX;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < 8; i++)
		s->h[i] = blake2s_iv[i];
	/* Parameter block word 0: digest length, key length, fanout 1 and
	 * depth 1 (sequential mode); every other parameter is zero. */
	s->h[0] ^= 0x01010000u ^ ((uint32_t)keylen << 8) ^ (uint32_t)outlen;
	s->outlen = outlen;

	/* A key is hashed as a whole first block padded with zeros. It stays
	 * buffered, so an empty message still compresses it as the last. */
	if (keylen > 0) {
		memcpy(s->buf, key, keylen);
		s->buflen = BLAKE2S_BLOCK_LEN;
	}
}

void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen)
{
	const uint8_t *p = in;

	while (inlen > 0) {
		size_t room, n;

		/* Compress a full buffer only once more input shows that it
		 * is not the last block: final must see the last one. */
		if (s->buflen == BLAKE2S_BLOCK_LEN) {
			count_bytes(s, BLAKE2S_BLOCK_LEN);
			compress(s, s->buf, false);
			s->buflen = 0;
		}
		room = BLAKE2S_BLOCK_LEN - s->buflen;
		n = inlen < room ? inlen : room;
		memcpy(s->buf + s->buflen, p, n);
		s->buflen += n;
		p += n;
		inlen -= n;
	}
}

void blake2s_final(struct blake2s_state *s, uint8_t *out)
{
	uint8_t full[BLAKE2S_OUT_MAX];
	int i;

	count_bytes(s, (uint32_t)s->buflen);
	memset(s->buf + s->buflen, 0, BLAKE2S_BLOCK_LEN - s->buflen);
	compress(s, s->buf, true);

	for (i = 0; i < 8; i++)
		store_le32(full + 4 * i, s->h[i]);
	memcpy(out, full, s->outlen);

	wg_wipe(full, sizeof(full));
	wg_wipe(s, sizeof(*s));
}

void blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
	     const void *in, size_t inlen)
{
	struct blake2s_state s;

	blake2s_init(&s, outlen, key, keylen);
	blake2s_update(&s, in, inlen);
	blake2s_final(&s, out);
}
