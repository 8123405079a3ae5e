/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s (RFC 7693), the hash under WireGuard's HASH, MAC, HMAC and KDF.
 * libsodium ships only BLAKE2b, so the core carries its own.
 */
#ifndef UNIGUARD_BLAKE2S_H
#define UNIGUARD_BLAKE2S_H

#include <stddef.h>
#include <stdint.h>

#define BLAKE2S_BLOCK_LEN 64
#define BLAKE2S_OUT_MAX 32
#define BLAKE2S_KEY_MAX 32

struct blake2s_state {
	uint32_t h[8];
	uint32_t t[2];
	uint8_t buf[BLAKE2S_BLOCK_LEN];
	size_t buflen;
	size_t outlen;
};

/* key may be NULL when keylen is 0. outlen is 1..32, keylen 0..32. */
void blake2s_init(struct blake2s_state *s, size_t outlen, const void *key,
		  size_t keylen);
void blake2s_update(struct blake2s_state *s, const void *in, size_t inlen);
/* Writes outlen bytes and wipes the state. */
void blake2s_final(struct blake2s_state *s, uint8_t *out);
/* One call: out = BLAKE2s(key; in). */
void blake2s(uint8_t *out, size_t outlen, const void *key, size_t keylen,
	     const void *in, size_t inlen);

#endif
