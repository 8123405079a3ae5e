/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the transport AEAD's two implementations (crypto.h,
 * struct wg_aead_impl), libsodium's and libcrypto's, against each other.
 * The input is a key, a counter, associated data and a message (layout
 * below). Promises held:
 *
 *  - both seal the message to the same bytes, into another buffer and in
 *    place;
 *  - each opens what the other sealed, to the message;
 *  - with one bit of the sealed message flipped (where the input says),
 *    both refuse it and leave the same zeros behind;
 *  - the message taken as a sealed one as it stands: both give the same
 *    verdict and leave the same bytes.
 *
 * Layout: flags (1 byte: bit 0 flip a bit, bits 1-3 which bit), flip
 * position (2 bytes, little-endian, modulo the sealed length), key (32),
 * counter (8, little-endian), associated data length (1, up to 64), the
 * associated data, then the message.
 */
#include "support_fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "crypto.h"

#define HEADER (1 + 2 + 32 + 8 + 1)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	FUZZ_CHECK(wg_crypto_init(), "libsodium");
	return 0;
}

static void check_same(const uint8_t *a, const uint8_t *b, size_t len,
		       const char *what)
{
	FUZZ_CHECK(memcmp(a, b, len) == 0, "%s differ (%zu bytes)", what, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct wg_aead_impl *sodium = &wg_aead_libsodium;
	const struct wg_aead_impl *libcrypto = &wg_aead_libcrypto;
	uint8_t key[WG_KEY_LEN], flags;
	uint64_t counter = 0;
	size_t flip, adlen, len;
	const uint8_t *ad, *msg;
	uint8_t *a, *b, *c, *d;
	bool ok_a, ok_b;

	if (size < HEADER)
		return 0;
	flags = data[0];
	flip = (size_t)data[1] | (size_t)data[2] << 8;
	memcpy(key, data + 3, WG_KEY_LEN);
	for (int i = 7; i >= 0; i--)
		counter = counter << 8 | data[3 + WG_KEY_LEN + i];
	adlen = data[HEADER - 1] % 65;
	if (size < HEADER + adlen)
		return 0;
	ad = data + HEADER;
	msg = ad + adlen;
	len = size - HEADER - adlen;

	/* Exactly sized buffers, so that a write past the end trips ASan. */
	a = malloc(len + WG_AEAD_TAG_LEN);
	b = malloc(len + WG_AEAD_TAG_LEN);
	c = malloc(len + WG_AEAD_TAG_LEN);
	d = malloc(len + WG_AEAD_TAG_LEN);
	FUZZ_CHECK(a && b && c && d, "out of memory");

	sodium->seal(a, msg, len, ad, adlen, counter, key);
	libcrypto->seal(b, msg, len, ad, adlen, counter, key);
	check_same(a, b, len + WG_AEAD_TAG_LEN, "sealed messages");
	memcpy(c, msg, len);
	libcrypto->seal(c, c, len, ad, adlen, counter, key);
	check_same(a, c, len + WG_AEAD_TAG_LEN, "messages sealed in place");
	memcpy(c, msg, len);
	sodium->seal(c, c, len, ad, adlen, counter, key);
	check_same(a, c, len + WG_AEAD_TAG_LEN, "messages sealed in place");

	FUZZ_CHECK(sodium->open(c, b, len + WG_AEAD_TAG_LEN, ad, adlen,
				counter, key), "libsodium opens libcrypto's");
	check_same(c, msg, len, "opened messages");
	memcpy(c, a, len + WG_AEAD_TAG_LEN);
	FUZZ_CHECK(libcrypto->open(c, c, len + WG_AEAD_TAG_LEN, ad, adlen,
				   counter, key),
		   "libcrypto opens libsodium's");
	check_same(c, msg, len, "opened messages");

	if (flags & 1) {
		size_t at = flip % (len + WG_AEAD_TAG_LEN);

		a[at] ^= (uint8_t)(1u << ((flags >> 1) & 7));
		memcpy(b, a, len + WG_AEAD_TAG_LEN);
		memset(c, 0x55, len + WG_AEAD_TAG_LEN);
		memset(d, 0xaa, len + WG_AEAD_TAG_LEN);
		/* Into other buffers, then in place. */
		for (int in_place = 0; in_place < 2; in_place++) {
			uint8_t *out_a = in_place ? a : c;
			uint8_t *out_b = in_place ? b : d;

			FUZZ_CHECK(!sodium->open(out_a, a, len + WG_AEAD_TAG_LEN,
						 ad, adlen, counter, key),
				   "libsodium opens a forgery");
			FUZZ_CHECK(!libcrypto->open(out_b, b,
						    len + WG_AEAD_TAG_LEN, ad,
						    adlen, counter, key),
				   "libcrypto opens a forgery");
			check_same(out_a, out_b, len + (in_place ?
							WG_AEAD_TAG_LEN : 0),
				   "what failed opens leave");
			FUZZ_CHECK(wg_is_zero(out_a, len),
				   "a failed open leaves text");
		}
	}

	/* The message itself as a sealed one (a tag and less: refused). */
	memset(c, 0x55, len + WG_AEAD_TAG_LEN);
	memset(d, 0x55, len + WG_AEAD_TAG_LEN);
	ok_a = sodium->open(c, msg, len, ad, adlen, counter, key);
	ok_b = libcrypto->open(d, msg, len, ad, adlen, counter, key);
	FUZZ_CHECK(ok_a == ok_b, "verdicts differ: libsodium %d libcrypto %d",
		   ok_a, ok_b);
	if (len >= WG_AEAD_TAG_LEN)
		check_same(c, d, len - WG_AEAD_TAG_LEN,
			   "opened arbitrary input");

	wg_wipe(key, sizeof(key));
	free(a);
	free(b);
	free(c);
	free(d);
	return 0;
}
