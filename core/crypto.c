/* SPDX-License-Identifier: MIT */
/*
 * The cryptographic primitives of the WireGuard whitepaper, section 5.4:
 * DH (X25519, RFC 7748), AEAD (ChaCha20-Poly1305, RFC 8439, with a 64-bit
 * little-endian counter as nonce), XAEAD (XChaCha20-Poly1305), HASH, MAC,
 * HMAC (RFC 2104) and KDF_n over BLAKE2s (RFC 7693). Everything but
 * BLAKE2s comes from libsodium; this is the only core file that sees it.
 * Transport data may go to libcrypto instead (crypto_libcrypto.c): the
 * choice of implementation is kept here.
 */
#include "crypto.h"

#include <sodium.h>
#include <string.h>

#include "blake2s.h"

static_assert(crypto_scalarmult_BYTES == WG_KEY_LEN, "X25519 output size");
static_assert(crypto_scalarmult_SCALARBYTES == WG_KEY_LEN, "X25519 scalar");
static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == WG_KEY_LEN,
	      "AEAD key size");
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == WG_AEAD_TAG_LEN,
	      "AEAD tag size");
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12,
	      "AEAD nonce size");
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == WG_XNONCE_LEN,
	      "XAEAD nonce size");
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == WG_AEAD_TAG_LEN,
	      "XAEAD tag size");
static_assert(crypto_shorthash_siphash24_KEYBYTES == 16, "SipHash key size");
static_assert(crypto_shorthash_siphash24_BYTES == 8, "SipHash output size");

/* HMAC works on whole BLAKE2s blocks (RFC 2104's B). */
#define HMAC_BLOCK_LEN BLAKE2S_BLOCK_LEN

bool wg_crypto_init(void)
{
	/* 0: initialised now, 1: already initialised, -1: failure. */
	return sodium_init() >= 0;
}

bool wg_x25519(uint8_t out[WG_KEY_LEN], const uint8_t scalar[WG_KEY_LEN],
	       const uint8_t point[WG_KEY_LEN])
{
	uint8_t shared[WG_KEY_LEN];
	bool ok = false;

	/* libsodium refuses an all-zero result (a low-order point); the
	 * second test keeps that promise whatever the library version. */
	if (crypto_scalarmult(shared, scalar, point) != 0)
		goto out;
	if (wg_is_zero(shared, sizeof(shared)))
		goto out;
	ok = true;
out:
	/* A local result lets out alias scalar or point. */
	if (ok)
		memcpy(out, shared, WG_KEY_LEN);
	else
		sodium_memzero(out, WG_KEY_LEN);
	sodium_memzero(shared, sizeof(shared));
	return ok;
}

bool wg_x25519_public(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	uint8_t result[WG_KEY_LEN];
	bool ok;

	ok = crypto_scalarmult_base(result, priv) == 0;
	if (ok)
		memcpy(pub, result, WG_KEY_LEN);
	else
		sodium_memzero(pub, WG_KEY_LEN);
	sodium_memzero(result, sizeof(result));
	return ok;
}

void wg_x25519_clamp(uint8_t key[WG_KEY_LEN])
{
	/* RFC 7748 section 5: clear the cofactor bits, set the top bit. */
	key[0] &= 248;
	key[31] &= 127;
	key[31] |= 64;
}

void wg_aead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		  const uint8_t *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[WG_AEAD_NONCE_LEN];

	wg_aead_nonce(nonce, counter);
	/* Cannot fail: the only error is a message over 2^38 bytes. */
	(void)crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, srclen,
							ad, adlen, NULL, nonce,
							key);
}

bool wg_aead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		  const uint8_t *ad, size_t adlen, uint64_t counter,
		  const uint8_t key[WG_KEY_LEN])
{
	uint8_t nonce[WG_AEAD_NONCE_LEN];

	if (srclen < WG_AEAD_TAG_LEN)
		return false;
	wg_aead_nonce(nonce, counter);
	/* The tag is checked before any plaintext is written. */
	return crypto_aead_chacha20poly1305_ietf_decrypt(dst, NULL, NULL, src,
							 srclen, ad, adlen,
							 nonce, key) == 0;
}

/* The table's open zeroes a failed message's output, as libcrypto's
 * must (it decrypts before it checks the tag), so that both leave the
 * same bytes behind. */
static bool libsodium_open(uint8_t *dst, const uint8_t *src, size_t srclen,
			   const uint8_t *ad, size_t adlen, uint64_t counter,
			   const uint8_t key[WG_KEY_LEN])
{
	if (wg_aead_open(dst, src, srclen, ad, adlen, counter, key))
		return true;
	if (srclen > WG_AEAD_TAG_LEN)
		sodium_memzero(dst, srclen - WG_AEAD_TAG_LEN);
	return false;
}

const struct wg_aead_impl wg_aead_libsodium = {
	.name = "libsodium",
	.seal = wg_aead_seal,
	.open = libsodium_open,
};

static const struct wg_aead_impl *data_aead = &wg_aead_libsodium;

void wg_crypto_use_aead(const struct wg_aead_impl *impl)
{
	data_aead = impl ? impl : &wg_aead_libsodium;
}

const struct wg_aead_impl *wg_crypto_aead(void)
{
	return data_aead;
}

/* Short messages (keepalives, acknowledgments, small datagrams) go to
 * libsodium whatever the choice: libcrypto's ChaCha20 computes at least
 * four blocks per call and its EVP layer costs more per message than it
 * saves on a few blocks (a 64-byte seal and open took 0.55 us with
 * libsodium and 0.64 us with libcrypto where libcrypto was 2.3 times
 * faster at 1424 bytes; they met at about 300 bytes). The bytes are the
 * same either way. */
#define DATA_SHORT_LEN 300

static const struct wg_aead_impl *data_impl(size_t len)
{
	return len < DATA_SHORT_LEN ? &wg_aead_libsodium : data_aead;
}

void wg_data_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		  uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	data_impl(srclen)->seal(dst, src, srclen, NULL, 0, counter, key);
}

bool wg_data_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		  uint64_t counter, const uint8_t key[WG_KEY_LEN])
{
	return data_impl(srclen)->open(dst, src, srclen, NULL, 0, counter,
				       key);
}

void wg_xaead_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[WG_XNONCE_LEN],
		   const uint8_t key[WG_KEY_LEN])
{
	(void)crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, srclen,
							 ad, adlen, NULL, nonce,
							 key);
}

bool wg_xaead_open(uint8_t *dst, const uint8_t *src, size_t srclen,
		   const uint8_t *ad, size_t adlen,
		   const uint8_t nonce[WG_XNONCE_LEN],
		   const uint8_t key[WG_KEY_LEN])
{
	if (srclen < WG_AEAD_TAG_LEN)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(dst, NULL, NULL, src,
							  srclen, ad, adlen,
							  nonce, key) == 0;
}

void wg_hash(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	     const void *b, size_t blen)
{
	struct blake2s_state s;

	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, a, alen);
	if (b)
		blake2s_update(&s, b, blen);
	blake2s_final(&s, out);
}

void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
	    const void *in, size_t inlen)
{
	blake2s(out, WG_MAC_LEN, key, keylen, in, inlen);
}

/* HMAC over a message given in two parts, so that KDF can append its
 * counter byte without copying. */
static void hmac2(uint8_t out[WG_HASH_LEN], const uint8_t key[WG_HASH_LEN],
		  const void *in1, size_t in1len, const void *in2,
		  size_t in2len)
{
	struct blake2s_state s;
	uint8_t pad[HMAC_BLOCK_LEN];
	uint8_t inner[WG_HASH_LEN];
	int i;

	/* The key is shorter than a block: zero-pad it (RFC 2104 step 1). */
	memset(pad, 0, sizeof(pad));
	memcpy(pad, key, WG_HASH_LEN);
	for (i = 0; i < HMAC_BLOCK_LEN; i++)
		pad[i] ^= 0x36;
	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, in1, in1len);
	blake2s_update(&s, in2, in2len);
	blake2s_final(&s, inner);

	/* Turn the inner pad into the outer one: 0x36 ^ 0x5c == 0x6a. */
	for (i = 0; i < HMAC_BLOCK_LEN; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, WG_HASH_LEN, NULL, 0);
	blake2s_update(&s, pad, sizeof(pad));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out);

	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t key[WG_HASH_LEN],
	     const void *in, size_t inlen)
{
	uint8_t result[WG_HASH_LEN];

	/* Through a local, so that out may alias key or in. */
	hmac2(result, key, in, inlen, NULL, 0);
	memcpy(out, result, WG_HASH_LEN);
	sodium_memzero(result, sizeof(result));
}

void wg_kdf(uint8_t *t1, uint8_t *t2, uint8_t *t3,
	    const uint8_t key[WG_HASH_LEN], const void *in, size_t inlen)
{
	uint8_t t0[WG_HASH_LEN], t[3][WG_HASH_LEN];
	uint8_t ctr;

	/* Whitepaper 5.4: t0 = HMAC(key, input), t1 = HMAC(t0, 0x1),
	 * t(i) = HMAC(t0, t(i-1) || i). Everything is computed before any
	 * output is written, since callers pass the chaining key as both
	 * key and t1. */
	hmac2(t0, key, in, inlen, NULL, 0);
	ctr = 1;
	hmac2(t[0], t0, &ctr, 1, NULL, 0);
	if (t2 || t3) {
		ctr = 2;
		hmac2(t[1], t0, t[0], WG_HASH_LEN, &ctr, 1);
	}
	if (t3) {
		ctr = 3;
		hmac2(t[2], t0, t[1], WG_HASH_LEN, &ctr, 1);
	}

	if (t1)
		memcpy(t1, t[0], WG_HASH_LEN);
	if (t2)
		memcpy(t2, t[1], WG_HASH_LEN);
	if (t3)
		memcpy(t3, t[2], WG_HASH_LEN);

	sodium_memzero(t0, sizeof(t0));
	sodium_memzero(t, sizeof(t));
}

uint64_t wg_shorthash(const uint8_t key[16], const void *in, size_t inlen)
{
	uint8_t h[crypto_shorthash_siphash24_BYTES];
	uint64_t v = 0;
	int i;

	(void)crypto_shorthash_siphash24(h, in, inlen, key);
	for (i = 7; i >= 0; i--)
		v = v << 8 | h[i];
	return v;
}

bool wg_equal(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}

bool wg_is_zero(const void *p, size_t len)
{
	return sodium_is_zero(p, len) == 1;
}

void wg_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

void wg_blake2b_256(uint8_t out[32], const void *a, size_t alen,
		    const void *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

void wg_chacha20_block(uint8_t out[64], const uint8_t key[32],
		       uint64_t counter)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	memset(out, 0, 64);
	crypto_stream_chacha20_xor_ic(out, out, 64, nonce, counter, key);
}

void wg_key_to_hex(char out[WG_KEY_HEX_LEN], const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2hex(out, WG_KEY_HEX_LEN, key, WG_KEY_LEN);
}

void wg_key_to_base64(char out[WG_KEY_BASE64_LEN],
		      const uint8_t key[WG_KEY_LEN])
{
	sodium_bin2base64(out, WG_KEY_BASE64_LEN, key, WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

bool wg_key_from_hex(uint8_t key[WG_KEY_LEN], const char *hex, size_t len)
{
	const char *end = NULL;
	size_t binlen = 0;
	bool ok = false;

	/* Exactly 64 digits; either case is accepted, as other
	 * implementations of the configuration protocol do. */
	if (len != 2 * WG_KEY_LEN)
		goto out;
	if (sodium_hex2bin(key, WG_KEY_LEN, hex, len, NULL, &binlen, &end) != 0)
		goto out;
	if (binlen != WG_KEY_LEN || end != hex + len)
		goto out;
	ok = true;
out:
	if (!ok)
		sodium_memzero(key, WG_KEY_LEN);
	return ok;
}

bool wg_key_from_base64(uint8_t key[WG_KEY_LEN], const char *b64, size_t len)
{
	char again[WG_KEY_BASE64_LEN];
	const char *end = NULL;
	size_t binlen = 0;
	bool ok = false;

	if (len != WG_KEY_BASE64_LEN - 1)
		goto out;
	if (sodium_base642bin(key, WG_KEY_LEN, b64, len, NULL, &binlen, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		goto out;
	if (binlen != WG_KEY_LEN || end != b64 + len)
		goto out;
	/* 32 bytes leave two unused bits in the last digit; a text that sets
	 * them names the same key differently, so only the encoder's own
	 * spelling is accepted. */
	wg_key_to_base64(again, key);
	if (!wg_equal(again, b64, len))
		goto out;
	ok = true;
out:
	if (!ok)
		sodium_memzero(key, WG_KEY_LEN);
	sodium_memzero(again, sizeof(again));
	return ok;
}
