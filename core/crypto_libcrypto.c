/* SPDX-License-Identifier: MIT */
/*
 * ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce (whitepaper 5.4), by
 * OpenSSL libcrypto's ChaCha20 and Poly1305, whose assembly (AVX2 and
 * AVX-512 code paths) is about twice as fast as libsodium 1.0.18 on the
 * machines we measured. Only transport data comes here (crypto.h, struct
 * wg_aead_impl); the handshake stays with libsodium.
 *
 * The AEAD is put together here from the stream cipher (EVP_chacha20) and
 * the MAC (EVP_MAC "POLY1305") rather than taken whole from
 * EVP_chacha20_poly1305, for speed: libcrypto's AEAD makes three calls
 * into its ChaCha20 assembly per message (the one-time Poly1305 key, the
 * whole 64-byte blocks, the last partial block), and the two short ones
 * cost as much as a kilobyte of text each. Here one call makes the whole
 * key stream: the text is copied behind a block of zeros in a buffer of
 * the thread's, and that buffer is encrypted in one go, rounded up to
 * whole blocks. Block 0 of the stream is the Poly1305 key and the text
 * starts at block 1, as RFC 8439 (2.8) lays it out. A full-sized message
 * is sealed and opened in about two thirds of the time, a short one in
 * half (docs/benchmarks.md). Texts longer than the buffer go through it a
 * piece at a time; the stream's counter runs on across the pieces.
 *
 * Opening checks the tag over the ciphertext first, in constant time
 * (wg_equal), and writes the plaintext only if it is right; a wrong
 * tag leaves dst zeroed, as libsodium leaves it (crypto.h).
 *
 * One cipher context and one MAC context per thread, made at the thread's
 * first message and kept until wg_crypto_thread_done: making them per
 * message would cost more than sealing a full-sized packet. The key is set
 * per message and overwritten with zeros as soon as the message is done,
 * so that the context never holds a session key between messages; inside
 * a batch (wg_crypto_batch_begin) it stays until the batch ends, and the
 * next message of the same key sets only its nonce. The one-time Poly1305
 * key is wiped from the buffer after each message, and libcrypto wipes its
 * own copy when the tag is made (Poly1305_Final). The contexts are freed,
 * and cleansed by libcrypto, when the thread is done.
 *
 * Where libcrypto cannot help (no memory for a context, a length beyond
 * its int, a key it refuses) a message is sealed or opened by libsodium
 * instead: the results are the same bytes.
 */
#include "crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

enum {
	BLOCK = 64,		/* ChaCha20's block */
	/* A full-sized message (1,500 bytes and its tag) in one piece. */
	PIECE = 32 * BLOCK,
};

/* What overwrites the key after each message. */
static const uint8_t zero_key[WG_KEY_LEN];
static const uint8_t zero_pad[16];

struct thread_state {
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;
	/* Block 0's zeros, then a piece of the text: encrypted in place. */
	uint8_t stream[BLOCK + PIECE];
};

static _Thread_local struct thread_state *thread_state;
/* Inside a batch: the key the cipher context holds. */
static _Thread_local bool in_batch;
static _Thread_local bool holding;
static _Thread_local uint8_t held_key[WG_KEY_LEN];

static void state_free(struct thread_state *st)
{
	if (!st)
		return;
	/* Both free with OPENSSL_clear_free. */
	EVP_CIPHER_CTX_free(st->cipher);
	EVP_MAC_CTX_free(st->mac);
	wg_wipe(st->stream, sizeof(st->stream));
	free(st);
}

/* The thread's contexts, made once; NULL if libcrypto cannot make them. */
static struct thread_state *state(void)
{
	struct thread_state *st = thread_state;
	EVP_MAC *poly1305;

	if (st)
		return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->cipher = EVP_CIPHER_CTX_new();
	poly1305 = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	/* The context keeps its own reference to the MAC. */
	st->mac = poly1305 ? EVP_MAC_CTX_new(poly1305) : NULL;
	EVP_MAC_free(poly1305);
	if (!st->cipher || !st->mac ||
	    EVP_CipherInit_ex(st->cipher, EVP_chacha20(), NULL, NULL, NULL,
			      1) != 1 ||
	    EVP_CIPHER_CTX_get_iv_length(st->cipher) != 16) {
		state_free(st);
		return NULL;
	}
	thread_state = st;
	return st;
}

/* The key out of the context again (the nonce is public). */
static void end(struct thread_state *st)
{
	(void)EVP_CipherInit_ex(st->cipher, NULL, NULL, zero_key, NULL, 1);
	if (holding) {
		wg_wipe(held_key, sizeof(held_key));
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
	if (holding && thread_state)
		end(thread_state);
}

void wg_crypto_thread_done(void)
{
	wg_crypto_batch_end();
	state_free(thread_state);
	thread_state = NULL;
}

/* libcrypto's ChaCha20 takes a 16-byte IV: the 32-bit block counter
 * (little-endian, from 0), then the 96-bit nonce. */
static void make_iv(uint8_t iv[16], uint64_t counter)
{
	wg_put_le32(iv, 0);
	wg_aead_nonce(iv + 4, counter);
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

/* Key and nonce in, for one message. Inside a batch, a key the context
 * holds already is not set again. */
static bool begin(struct thread_state *st, const uint8_t key[WG_KEY_LEN],
		  uint64_t counter)
{
	uint8_t iv[16];

	make_iv(iv, counter);
	if (holding && holds(key))
		return EVP_CipherInit_ex(st->cipher, NULL, NULL, NULL, iv,
					 1) == 1;
	if (EVP_CipherInit_ex(st->cipher, NULL, NULL, key, iv, 1) != 1)
		return false;
	if (in_batch) {
		memcpy(held_key, key, WG_KEY_LEN);
		holding = true;
	}
	return true;
}

/* After a message: the key stays only inside a batch. */
static void done(struct thread_state *st)
{
	if (!in_batch)
		end(st);
}

/* XORs the next len bytes of the key stream into src, to dst, through
 * the buffer: with first, block 0 (the Poly1305 key) comes too and stays
 * in st->stream. Every call but the last must take whole blocks. */
static bool xor_stream(struct thread_state *st, uint8_t *dst,
		       const uint8_t *src, size_t len, bool first)
{
	uint8_t *text = first ? st->stream + BLOCK : st->stream;
	size_t whole = (len + BLOCK - 1) & ~(size_t)(BLOCK - 1);
	int outl;

	if (first)
		memset(st->stream, 0, BLOCK);
	if (len)	/* an empty text may come with no buffer at all */
		memcpy(text, src, len);
	memset(text + len, 0, whole - len);
	/* The key stream beyond the text, left in the buffer, is used for
	 * nothing and tells nothing of the key (nor of another message). */
	if (EVP_CipherUpdate(st->cipher, st->stream, &outl, st->stream,
			     (int)(whole + (first ? BLOCK : 0))) != 1)
		return false;
	if (dst && len)
		memcpy(dst, text, len);
	return true;
}

/* The MAC keyed with block 0 of the stream, which is wiped once the MAC
 * holds it (before a second piece of text overwrites the buffer). */
static bool mac_start(struct thread_state *st)
{
	bool ok = EVP_MAC_init(st->mac, st->stream, 32, NULL) == 1;

	wg_wipe(st->stream, BLOCK);
	return ok;
}

/* RFC 8439's MAC input: the associated data and the ciphertext, each
 * padded to 16 bytes, then both lengths as 64-bit little-endian. */
static bool mac_finish(struct thread_state *st, uint8_t tag[WG_AEAD_TAG_LEN],
		       const uint8_t *ad, size_t adlen, const uint8_t *ct,
		       size_t len)
{
	uint8_t lengths[16];
	size_t taglen;
	bool ok;

	wg_put_le64(lengths, adlen);
	wg_put_le64(lengths + 8, len);
	ok = !adlen || EVP_MAC_update(st->mac, ad, adlen) == 1;
	ok = ok && (adlen % 16 == 0 ||
		    EVP_MAC_update(st->mac, zero_pad, 16 - adlen % 16) == 1);
	ok = ok && (!len || EVP_MAC_update(st->mac, ct, len) == 1);
	ok = ok && (len % 16 == 0 ||
		    EVP_MAC_update(st->mac, zero_pad, 16 - len % 16) == 1);
	ok = ok && EVP_MAC_update(st->mac, lengths, sizeof(lengths)) == 1;
	ok = ok && EVP_MAC_final(st->mac, tag, &taglen, WG_AEAD_TAG_LEN) == 1 &&
	     taglen == WG_AEAD_TAG_LEN;
	return ok;
}

static bool fits(size_t srclen, size_t adlen)
{
	return srclen <= INT_MAX - WG_AEAD_TAG_LEN && adlen <= INT_MAX;
}

/* The rest of a text after its first piece, a piece at a time. */
static bool xor_rest(struct thread_state *st, uint8_t *dst,
		     const uint8_t *src, size_t len)
{
	for (size_t at = PIECE; at < len; at += PIECE) {
		size_t n = len - at < PIECE ? len - at : PIECE;

		if (!xor_stream(st, dst + at, src + at, n, false))
			return false;
	}
	return true;
}

static void libcrypto_seal(uint8_t *dst, const uint8_t *src, size_t srclen,
			   const uint8_t *ad, size_t adlen, uint64_t counter,
			   const uint8_t key[WG_KEY_LEN])
{
	struct thread_state *st = fits(srclen, adlen) ? state() : NULL;
	size_t first = srclen < PIECE ? srclen : PIECE;
	bool ok;

	/* Until the text is written, libsodium can take over. */
	if (!st || !begin(st, key, counter)) {
		if (st)
			end(st);
		wg_aead_seal(dst, src, srclen, ad, adlen, counter, key);
		return;
	}
	ok = xor_stream(st, dst, src, first, true) && mac_start(st) &&
	     xor_rest(st, dst, src, srclen) &&
	     mac_finish(st, dst + srclen, ad, adlen, dst, srclen);
	done(st);
	/* libcrypto fails these only on misuse (a wrong length). Sealed in
	 * place, a half-done message can be neither redone nor sent: stop
	 * rather than send anything. */
	if (!ok)
		__builtin_trap();
}

static bool libcrypto_open(uint8_t *dst, const uint8_t *src, size_t srclen,
			   const uint8_t *ad, size_t adlen, uint64_t counter,
			   const uint8_t key[WG_KEY_LEN])
{
	struct thread_state *st;
	uint8_t tag[WG_AEAD_TAG_LEN];
	size_t len, first;
	bool ok;

	if (srclen < WG_AEAD_TAG_LEN)
		return false;
	len = srclen - WG_AEAD_TAG_LEN;
	first = len < PIECE ? len : PIECE;
	st = fits(srclen, adlen) ? state() : NULL;
	if (!st || !begin(st, key, counter)) {
		if (st)
			end(st);
		/* libsodium checks the tag before it writes anything. */
		return wg_aead_open(dst, src, srclen, ad, adlen, counter, key);
	}
	/* The first piece stays in the buffer until the tag is checked over
	 * the whole ciphertext, which is still intact in src even in place. */
	ok = xor_stream(st, NULL, src, first, true) && mac_start(st) &&
	     mac_finish(st, tag, ad, adlen, src, len);
	ok = ok && wg_equal(tag, src + len, WG_AEAD_TAG_LEN);
	if (ok) {
		if (first)
			memcpy(dst, st->stream + BLOCK, first);
		ok = xor_rest(st, dst, src, len);
	}
	/* The right tag for a forged message would be a forgery. */
	wg_wipe(tag, sizeof(tag));
	done(st);
	/* Never leave unauthenticated plaintext behind, in the buffer or
	 * (should libcrypto fail midway) in dst. An authentic message's
	 * plaintext stays in the buffer, as it does in the packet's, until
	 * the next message overwrites it. */
	if (!ok) {
		wg_wipe(st->stream, BLOCK + first);
		if (len)
			wg_wipe(dst, len);
	}
	return ok;
}

const struct wg_aead_impl wg_aead_libcrypto = {
	.name = "libcrypto",
	.seal = libcrypto_seal,
	.open = libcrypto_open,
};
