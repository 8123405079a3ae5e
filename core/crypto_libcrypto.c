/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (whitepaper 5.4), by
 * OpenSSL libcrypto's EVP_chacha20_poly1305, whose assembly (AVX2 and
 * AVX-512 code paths) seals about twice as fast as libsodium 1.0.18 on
 * the machines we measured. Only transport data comes here (crypto.h,
 * struct wg_aead_impl); the handshake stays with libsodium.
 *
 * One cipher context per thread, made at the thread's first message and
 * kept until wg_crypto_thread_done: making one per message would cost
 * more than sealing a full-sized packet. The key is set per message and
 * overwritten with zeros as soon as the message is done, so that the
 * context never holds a session key between messages; inside a batch
 * (wg_crypto_batch_begin) it stays until the batch ends, and the next
 * message of the same key and direction sets only its nonce, which
 * libcrypto's ChaCha20-Poly1305 takes as a new message (its counter,
 * lengths and Poly1305 state start again). What stays after a message or
 * a batch is the last message's one-time Poly1305 key, which
 * authenticates nothing else; clearing it too would cost a third of the
 * cipher's speed. The context is freed, and cleansed by libcrypto, when
 * the thread is done.
 *
 * Where libcrypto cannot help (no memory for a context, a length beyond
 * its int, a key it refuses) a message is sealed or opened by libsodium
 * instead: the results are the same bytes.
 */
#include "crypto.h"

#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

/* What overwrites the key after each message. */
static const uint8_t zero_key[WG_KEY_LEN];

static _Thread_local EVP_CIPHER_CTX *thread_ctx;
/* Inside a batch: the key the context holds, for which direction. */
static _Thread_local bool in_batch;
static _Thread_local bool holding;
static _Thread_local int held_enc;
static _Thread_local uint8_t held_key[WG_KEY_LEN];

/* The thread's context, with the cipher fetched once; NULL if libcrypto
 * cannot make one. */
static EVP_CIPHER_CTX *context(void)
{
	EVP_CIPHER_CTX *ctx = thread_ctx;

	if (ctx)
		return ctx;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return NULL;
	if (EVP_CipherInit_ex(ctx, EVP_chacha20_poly1305(), NULL, NULL, NULL,
			      1) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(ctx) != 12) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	thread_ctx = ctx;
	return ctx;
}

/* The key out of the context again (the nonce is public). */
static void end(EVP_CIPHER_CTX *ctx)
{
	(void)EVP_CipherInit_ex(ctx, NULL, NULL, zero_key, NULL, -1);
	if (holding) {
		OPENSSL_cleanse(held_key, sizeof(held_key));
		holding = false;
	}
}

void wg_crypto_batch_begin(void)
{
	in_batch = true;
}

void wg_crypto_batch_end(void)
{
	in_batch = false;
	if (holding && thread_ctx)
		end(thread_ctx);
}

void wg_crypto_thread_done(void)
{
	wg_crypto_batch_end();
	/* Frees the provider's state with OPENSSL_clear_free. */
	EVP_CIPHER_CTX_free(thread_ctx);
	thread_ctx = NULL;
}

/* The whitepaper's nonce: 32 zero bits, then the little-endian counter. */
static void make_nonce(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

/* Whether key is the one held, in constant time: a word at a time
 * (wg_equal's byte loop cost 4% of a TCP stream's samples here). */
static bool holds(const uint8_t key[WG_KEY_LEN])
{
	uint64_t a, b, diff = 0;

	for (size_t i = 0; i < WG_KEY_LEN; i += sizeof(a)) {
		memcpy(&a, held_key + i, sizeof(a));
		memcpy(&b, key + i, sizeof(b));
		diff |= a ^ b;
	}
	return diff == 0;
}

/* Key and nonce in, for one message; enc 1 seals, 0 opens. Inside a
 * batch, a key the context holds already is not set again. */
static bool begin(EVP_CIPHER_CTX *ctx, const uint8_t key[WG_KEY_LEN],
		  uint64_t counter, int enc)
{
	uint8_t nonce[12];

	make_nonce(nonce, counter);
	if (holding && held_enc == enc && holds(key))
		return EVP_CipherInit_ex(ctx, NULL, NULL, NULL, nonce,
					 enc) == 1;
	if (EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) != 1)
		return false;
	if (in_batch) {
		memcpy(held_key, key, WG_KEY_LEN);
		held_enc = enc;
		holding = true;
	}
	return true;
}

/* After a message: the key stays only inside a batch. */
static void done(EVP_CIPHER_CTX *ctx)
{
	if (!in_batch)
		end(ctx);
}

/* The associated data, then the text; dst may equal src. */
static bool run(EVP_CIPHER_CTX *ctx, uint8_t *dst, const uint8_t *src,
		size_t len, const uint8_t *ad, size_t adlen)
{
	int outl;

	if (adlen && EVP_CipherUpdate(ctx, NULL, &outl, ad, (int)adlen) != 1)
		return false;
	if (len && EVP_CipherUpdate(ctx, dst, &outl, src, (int)len) != 1)
		return false;
	return true;
}

static bool fits(size_t srclen, size_t adlen)
{
	return srclen <= INT_MAX - WG_AEAD_TAG_LEN && adlen <= INT_MAX;
}

static void libcrypto_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
			   const uint8_t *ad, size_t adlen, uint64_t counter,
			   const uint8_t key[WG_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx = fits(srclen, adlen) ? context() : NULL;
	bool ok = false;
	int outl;

	/* Until the text is written, libsodium can take over. */
	if (!ctx || !begin(ctx, key, counter, 1)) {
		if (ctx)
			end(ctx);
		wg_aead_seal(dst, src, srclen, ad, adlen, counter, key);
		return;
	}
	ok = run(ctx, dst, src, srclen, ad, adlen);
	/* The stream cipher holds nothing back: Final writes no bytes. */
	ok = ok && EVP_CipherFinal_ex(ctx, dst + srclen, &outl) == 1 &&
	     outl == 0;
	ok = ok && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
				       WG_AEAD_TAG_LEN, dst + srclen) == 1;
	done(ctx);
	/* libcrypto fails these only on misuse (a wrong length, a context
	 * set to open). Sealed in place, a half-done message can be neither
	 * redone nor sent: stop rather than send anything. */
	if (!ok)
		__builtin_trap();
}

static bool libcrypto_open(uint8_t *dst, const uint8_t *src, size_t srclen,
			   const uint8_t *ad, size_t adlen, uint64_t counter,
			   const uint8_t key[WG_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx;
	size_t len;
	bool ok;
	int outl;

	if (srclen < WG_AEAD_TAG_LEN)
		return false;
	len = srclen - WG_AEAD_TAG_LEN;
	ctx = fits(srclen, adlen) ? context() : NULL;
	if (!ctx || !begin(ctx, key, counter, 0)) {
		if (ctx)
			end(ctx);
		/* libsodium checks the tag before it writes anything. */
		ok = wg_aead_open(dst, src, srclen, ad, adlen, counter, key);
		goto out;
	}
	/* The tag before the text: in place, dst ends where it starts. */
	ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, WG_AEAD_TAG_LEN,
				 (void *)(uintptr_t)(src + len)) == 1;
	ok = ok && run(ctx, dst, src, len, ad, adlen);
	/* libcrypto decrypts first, then checks the tag here, in constant
	 * time (CRYPTO_memcmp); its verdict is the only branch. */
	ok = ok && EVP_CipherFinal_ex(ctx, dst + len, &outl) == 1;
	done(ctx);
out:
	/* Never leave unauthenticated plaintext behind. */
	if (!ok && len)
		OPENSSL_cleanse(dst, len);
	return ok;
}

const struct wg_aead_impl wg_aead_libcrypto = {
	.name = "libcrypto",
	.seal = libcrypto_seal,
	.open = libcrypto_open,
};
