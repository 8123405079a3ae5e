/* SPDX-License-Identifier: MIT */
/*
 * The core's only door to cryptography. Everything else in core/ calls these
 * functions and never includes <sodium.h> or OpenSSL's headers: X25519,
 * ChaCha20-Poly1305 (IETF) with WireGuard's 64-bit counter nonce (for
 * transport data also from libcrypto, when that is faster),
 * XChaCha20-Poly1305, and the whitepaper's HASH, MAC, HMAC and KDF1/2/3
 * over BLAKE2s.
 */
#ifndef UNIGUARD_CRYPTO_H
#define UNIGUARD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "messages.h"

#define WG_WARN_UNUSED __attribute__((warn_unused_result))

/* Must run once before any other call; safe to call again. false if
 * libsodium cannot initialise. */
bool wg_crypto_init(void) WG_WARN_UNUSED;

/* X25519. Fails (and leaves out zeroed) when the result is all zero, i.e.
 * the peer's key is of low order. */
bool wg_x25519(uint8_t out[WG_KEY_LEN], const uint8_t scalar[WG_KEY_LEN],
	       const uint8_t point[WG_KEY_LEN]) WG_WARN_UNUSED;
/* Public key for a private key; clamps as X25519 does. */
bool wg_x25519_public(uint8_t pub[WG_KEY_LEN],
		      const uint8_t priv[WG_KEY_LEN]) WG_WARN_UNUSED;
/* Clamp a random 32-byte string into a private key (RFC 7748). */
void wg_x25519_clamp(uint8_t key[WG_KEY_LEN]);

/* The transport AEAD's 96-bit nonce: 32 zero bits, then the message
 * counter as a little-endian 64-bit integer (the whitepaper's). Every
 * implementation of the AEAD below builds it here. */
#define WG_AEAD_NONCE_LEN 12

static inline void wg_aead_nonce(uint8_t nonce[WG_AEAD_NONCE_LEN],
				 uint64_t counter)
{
	wg_put_le32(nonce, 0);
	wg_put_le64(nonce + 4, counter);
}

/* ChaCha20-Poly1305 (RFC 8439) with the nonce wg_aead_nonce(counter).
 * dst holds srclen + 16 bytes for seal, srclen - 16 for open; dst may equal
 * src (in place). open returns false on a bad tag or short input. */
void wg_aead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		  const uint8_t *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WG_KEY_LEN]);
bool wg_aead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		  const uint8_t *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WG_KEY_LEN]) WG_WARN_UNUSED;

/* The AEAD of transport data messages: the same ChaCha20-Poly1305 with
 * the same nonce, from whichever library is fastest on the machine. Every
 * implementation gives byte-identical results (harness/unit/test_crypto.c
 * and harness/fuzz/fuzz_aead.c compare them); the handshake and cookies
 * always use libsodium through the functions above. seal and open keep
 * wg_aead_seal's and wg_aead_open's contract, except that a failed open
 * leaves the srclen - 16 bytes of dst zeroed (never unauthenticated
 * plaintext). Neither keeps the key once it returns. */
struct wg_aead_impl {
	const char *name;
	void (*seal)(uint8_t *dst, const uint8_t *src, size_t srclen,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN]);
	bool (*open)(uint8_t *dst, const uint8_t *src, size_t srclen,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN]);
};

/* libsodium's; the default. */
extern const struct wg_aead_impl wg_aead_libsodium;
/* ChaCha20-Poly1305 from OpenSSL libcrypto's ChaCha20 and Poly1305,
 * through one cipher and one MAC context per thread
 * (core/crypto_libcrypto.c). Where the contexts cannot be had, it falls
 * back to libsodium's for that message. */
extern const struct wg_aead_impl wg_aead_libcrypto;

/* Chooses the transport AEAD (NULL: libsodium). Call it at start, before
 * any thread seals or opens: the choice is read without a lock. Which one
 * is faster is the caller's question (the core has no clock). */
void wg_crypto_use_aead(const struct wg_aead_impl *impl);
const struct wg_aead_impl *wg_crypto_aead(void);

/* Transport data, by the chosen implementation; messages of under 300
 * bytes by libsodium's, which is the faster for them (crypto.c). */
void wg_data_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		  uint64_t counter, const uint8_t key[WG_KEY_LEN]);
bool wg_data_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		  uint64_t counter,
		  const uint8_t key[WG_KEY_LEN]) WG_WARN_UNUSED;

/* A batch of transport messages sealed or opened by the calling thread.
 * Between begin and end, libcrypto's context keeps a message's session
 * key for the next message of the same key, which then
 * sets only its nonce (setting a key and wiping it again cost about a
 * tenth of a full-sized message's seal); end wipes it. Outside a batch
 * the key is wiped as soon as each message is done. */
void wg_crypto_batch_begin(void);
void wg_crypto_batch_end(void);

/* Frees what the calling thread holds for the AEAD (libcrypto's cipher
 * context); a thread that sealed or opened calls it before it ends. */
void wg_crypto_thread_done(void);

/* XChaCha20-Poly1305, for cookie replies. */
void wg_xaead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[WG_XNONCE_LEN],
		   const uint8_t key[WG_KEY_LEN]);
bool wg_xaead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[WG_XNONCE_LEN],
		   const uint8_t key[WG_KEY_LEN]) WG_WARN_UNUSED;

/* HASH(a || b): BLAKE2s-256 of the concatenation; b may be NULL. */
void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	     const void *b, size_t blen);
/* MAC(key, in): keyed BLAKE2s-128. */
void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
	    const void *in, size_t inlen);
/* HMAC-BLAKE2s-256 (RFC 2104 with a 64-byte block). */
void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t key[WG_HASH_LEN],
	     const void *in, size_t inlen);
/* KDF_n(key, input) as the whitepaper's HKDF: writes n 32-byte outputs to
 * t1, t2, t3 (t2, t3 may be NULL for KDF1 and KDF2). */
void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
	    const uint8_t key[WG_HASH_LEN], const void *in, size_t inlen);

/* SipHash-2-4 of in under a 16-byte key, for hash tables whose layout an
 * attacker must not predict (ratelimit sources, receiver indices). */
uint64_t wg_shorthash(const uint8_t key[16], const void *in, size_t inlen);

/* Randomness is not here: the core takes it from its environment. The
 * deterministic streams below are for recordings and their replay only
 * (the daemon's --insecure-seed): BLAKE2b (RFC 7693) of a || b into 32
 * bytes, and block `counter` of the ChaCha20 keystream (64-bit block
 * counter, all-zero nonce) under key. */
void wg_blake2b_256(uint8_t out[32], const void *a, size_t alen,
		    const void *b, size_t blen);
void wg_chacha20_block(uint8_t out[64], const uint8_t key[32],
		       uint64_t counter);

/* Constant-time equality and zero test; wipe that the compiler keeps. */
bool wg_equal(const void *a, const void *b, size_t len) WG_WARN_UNUSED;
bool wg_is_zero(const void *p, size_t len) WG_WARN_UNUSED;
void wg_wipe(void *p, size_t len);

/* Key text: 64 lowercase hex digits or 44 characters of base64.
 * Encoders write a NUL-terminated string; decoders return false on any
 * malformed input and wipe what they wrote. Both are constant time in the
 * key's value (libsodium's hex and base64 codecs). */
#define WG_KEY_HEX_LEN 65
#define WG_KEY_BASE64_LEN 45
void wg_key_to_hex(char out[WG_KEY_HEX_LEN], const uint8_t key[WG_KEY_LEN]);
void wg_key_to_base64(char out[WG_KEY_BASE64_LEN], const uint8_t key[WG_KEY_LEN]);
bool wg_key_from_hex(uint8_t key[WG_KEY_LEN], const char *hex, size_t len) WG_WARN_UNUSED;
bool wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *b64, size_t len) WG_WARN_UNUSED;

#endif
