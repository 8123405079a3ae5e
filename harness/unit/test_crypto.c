/* SPDX-License-Identifier: MIT */
/*
 * The crypto wrapper against independent known answers: the whitepaper's
 * construction constants, RFC 7748 X25519, RFC 8439 and XChaCha20 AEAD
 * vectors (for each transport AEAD implementation, and the two compared
 * byte for byte), HMAC/KDF values, the handshake known-answer file (every HASH,
 * KDF, DH, AEAD and MAC step of three recorded handshakes, the cookie reply
 * and the first data packets), SipHash-2-4, and the key text codecs.
 */
#include "crypto.h"

#include <stdio.h>
#include <string.h>

#include "support.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define HS "\"handshakes\""

/* Every implementation of the transport AEAD (crypto.h): the AEAD tests
 * run once per entry (their loop index), so both libraries meet the same
 * vectors; test_aead_differential compares them with each other. */
static const struct wg_aead_impl *const aeads[] = { &wg_aead_libsodium,
						     &wg_aead_libcrypto };
#define COOKIE "\"cookie_reply\""

static void setup(void)
{
	ck_assert(wg_crypto_init());
}

/* Bytes of a known-answer value that must be exactly len bytes long. */
static void kat_bytes(uint8_t *out, size_t len, const char *section, int n,
		      const char *key)
{
	char *hex = kat_value(section, n, key);

	hex_decode(out, len, hex);
	free(hex);
}

/* Asserts that got equals the known-answer value section[n].key. */
static void kat_expect(const uint8_t *got, size_t len, const char *section,
		       int n, const char *key)
{
	char *hex = kat_value(section, n, key);

	ck_assert_msg(strlen(hex) == 2 * len, "%s is not %zu bytes", key, len);
	ck_assert_hex_eq(got, len, hex);
	free(hex);
}

/* --- HASH and the construction constants (whitepaper 5.4) --------------- */

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
static const char c0_hex[] =
	"60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36";
static const char h0_hex[] =
	"2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3";

START_TEST(test_hash_construction_constants)
{
	uint8_t c0[32], h0[32], h0b[32];

	wg_hash(c0, construction, strlen(construction), NULL, 0);
	ck_assert_hex_eq(c0, 32, c0_hex);
	wg_hash(h0, c0, sizeof(c0), identifier, strlen(identifier));
	ck_assert_hex_eq(h0, 32, h0_hex);

	/* The split point of a || b does not matter. */
	uint8_t cat[32 + sizeof(identifier)];
	memcpy(cat, c0, 32);
	memcpy(cat + 32, identifier, strlen(identifier));
	wg_hash(h0b, cat, 32 + strlen(identifier), NULL, 0);
	ck_assert_mem_eq(h0, h0b, 32);
	wg_hash(h0b, cat, 10, cat + 10, 22 + strlen(identifier));
	ck_assert_mem_eq(h0, h0b, 32);

	/* The known-answer file was made with the same constants. */
	char *file = read_fixture("wg_handshake_kat.json", NULL);
	ck_assert_ptr_nonnull(strstr(file, c0_hex));
	ck_assert_ptr_nonnull(strstr(file, h0_hex));
	free(file);
}
END_TEST

/* --- HMAC, KDF and MAC ---------------------------------------------------- */

/* HMAC-BLAKE2s-256 from an independent RFC 2104 implementation. */
static const struct {
	uint8_t keybyte;	/* 0: key is 0, 1, ..., 31; else 32 copies */
	size_t msglen;		/* message 0, 1, 2, ... of this length */
	const char *mac;
} hmac_rows[] = {
	{ 0, 0,
	  "e2641d24dfa8dd89e8cb77f1cdc77d8c"
	  "006e5bebdfc4d6a3a3a6f8d5b7586fb0" },
	{ 0xaa, 200,
	  "463810d49939ba91a1aca42b97a369cf"
	  "aeebd540e42ae0a789c580f38c9b489a" },
};

START_TEST(test_hmac_known_answers)
{
	uint8_t key[32], msg[200], out[32];

	for (size_t i = 0; i < 32; i++)
		key[i] = hmac_rows[_i].keybyte ? hmac_rows[_i].keybyte :
						 (uint8_t)i;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	wg_hmac(out, key, msg, hmac_rows[_i].msglen);
	ck_assert_hex_eq(out, 32, hmac_rows[_i].mac);
}
END_TEST

START_TEST(test_hmac_abc_and_aliasing)
{
	uint8_t key[32], out[32];

	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	wg_hmac(out, key, "abc", 3);
	ck_assert_hex_eq(out, 32,
			 "82623be5bc0a391b24dce53e67d028ef"
			 "f92d586de0485ac37822e597d049c74f");
	/* Output over the key, as a chaining-key update would do. */
	wg_hmac(key, key, "abc", 3);
	ck_assert_mem_eq(key, out, 32);
}
END_TEST

START_TEST(test_kdf_known_answers)
{
	static const char t1_hex[] =
		"0fdb30723493fcfd0a79dedb7b6640ff"
		"f933b921885fd591cafa98a7ec1b73b3";
	static const char t2_hex[] =
		"c66a5b3ca64fdcbad3916c4a133c31ac"
		"2ebd7b0c06bc5efff0de2bc22bda31e4";
	static const char t3_hex[] =
		"a3d9d85ad3db32d72c3e6bbf9940a1e5"
		"4e1e63e2d4ec04f3cde32780ecc2b21c";
	static const char in[] = "uniguard kdf";
	uint8_t key[32], t1[32], t2[32], t3[32], u1[32], u2[32];

	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	wg_kdf(t1, t2, t3, key, in, strlen(in));
	ck_assert_hex_eq(t1, 32, t1_hex);
	ck_assert_hex_eq(t2, 32, t2_hex);
	ck_assert_hex_eq(t3, 32, t3_hex);

	/* KDF1 and KDF2 are prefixes of KDF3. */
	memset(u1, 0, 32);
	wg_kdf(u1, NULL, NULL, key, in, strlen(in));
	ck_assert_hex_eq(u1, 32, t1_hex);
	wg_kdf(u1, u2, NULL, key, in, strlen(in));
	ck_assert_hex_eq(u1, 32, t1_hex);
	ck_assert_hex_eq(u2, 32, t2_hex);

	/* Only the asked-for outputs are written. */
	memset(u1, 0x5a, 32);
	wg_kdf(NULL, u2, NULL, key, in, strlen(in));
	ck_assert_hex_eq(u2, 32, t2_hex);
	ck_assert(u1[0] == 0x5a && u1[31] == 0x5a);

	/* The chaining key as both key and first output. */
	wg_kdf(key, u2, NULL, key, in, strlen(in));
	ck_assert_hex_eq(key, 32, t1_hex);
	ck_assert_hex_eq(u2, 32, t2_hex);
}
END_TEST

START_TEST(test_mac_known_answer)
{
	uint8_t key[32], out[16];

	for (size_t i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	wg_mac(out, key, sizeof(key), "abc", 3);
	ck_assert_hex_eq(out, 16, "61ba5f165c194692e09d12520cc4c74a");
	/* A 16-byte keyed digest, not a truncated 32-byte one. */
	uint8_t full[32];
	wg_hash(full, "abc", 3, NULL, 0);
	ck_assert(memcmp(full, out, 16) != 0);
}
END_TEST

/* --- X25519 (RFC 7748) ---------------------------------------------------- */

static const struct {
	const char *scalar, *u, *out;
} x25519_rows[] = {
	/* Section 5.2, the two single-step vectors. */
	{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	/* Section 6.1: Alice's and Bob's halves of the shared secret. */
	{ "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
	  "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
	  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
	{ "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
	  "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
	  "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742" },
};

START_TEST(test_x25519_rfc7748)
{
	uint8_t k[32], u[32], out[32];

	hex_decode(k, 32, x25519_rows[_i].scalar);
	hex_decode(u, 32, x25519_rows[_i].u);
	ck_assert(wg_x25519(out, k, u));
	ck_assert_hex_eq(out, 32, x25519_rows[_i].out);
	/* The output may overwrite the point. */
	ck_assert(wg_x25519(u, k, u));
	ck_assert_hex_eq(u, 32, x25519_rows[_i].out);
}
END_TEST

START_TEST(test_x25519_rfc7748_iterated)
{
	/* Section 5.2: k = u = 9; repeatedly (k, u) = (X25519(k, u), k). */
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32];

	for (int i = 1; i <= 1000; i++) {
		ck_assert(wg_x25519(r, k, u));
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			ck_assert_hex_eq(k, 32,
					 "422c8e7a6227d7bca1350b3e2bb7279f"
					 "7897b87bb6854b783c60e80311ae3079");
	}
	ck_assert_hex_eq(k, 32,
			 "684cf59ba83309552800ef566f2f4d3c"
			 "1c3887c49360e3875f2eb94d99532c51");
}
END_TEST

START_TEST(test_x25519_public_rfc7748)
{
	static const char *pairs[][2] = {
		{ "77076d0a7318a57d3c16c17251b26645"
		  "df4c2f87ebc0992ab177fba51db92c2a",
		  "8520f0098930a754748b7ddcb43ef75a"
		  "0dbf3a0d26381af4eba4a98eaa9b4e6a" },
		{ "5dab087e624a8a4b79e17f8b83800ee6"
		  "6f3bb1292618b6fd1c2f8b27ff88e0eb",
		  "de9edb7d7b7dc1b4d35b61c2ece43537"
		  "3f8343c85b78674dadfc7e146f882b4f" },
	};
	uint8_t priv[32], pub[32];

	for (size_t i = 0; i < 2; i++) {
		hex_decode(priv, 32, pairs[i][0]);
		ck_assert(wg_x25519_public(pub, priv));
		ck_assert_hex_eq(pub, 32, pairs[i][1]);
		/* Clamping first changes nothing: X25519 clamps anyway. */
		wg_x25519_clamp(priv);
		ck_assert(wg_x25519_public(pub, priv));
		ck_assert_hex_eq(pub, 32, pairs[i][1]);
	}
}
END_TEST

/* Points of small order (and non-canonical spellings of them) give an
 * all-zero shared secret, which wg_x25519 must refuse. */
static const char *low_order_points[] = {
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0100000000000000000000000000000000000000000000000000000000000000",
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	/* The top bit is ignored, so these are the same points again. */
	"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
	"0000000000000000000000000000000000000000000000000000000000000080",
};

START_TEST(test_x25519_rejects_low_order)
{
	uint8_t k[32], u[32], out[32];

	hex_decode(k, 32, x25519_rows[2].scalar);
	hex_decode(u, 32, low_order_points[_i]);
	memset(out, 0xaa, sizeof(out));
	ck_assert(!wg_x25519(out, k, u));
	ck_assert(wg_is_zero(out, sizeof(out)));
}
END_TEST

START_TEST(test_x25519_clamp)
{
	uint8_t k[32];

	memset(k, 0xff, sizeof(k));
	wg_x25519_clamp(k);
	ck_assert_hex_eq(k, 32,
			 "f8ffffffffffffffffffffffffffffff"
			 "ffffffffffffffffffffffffffffff7f");
	memset(k, 0, sizeof(k));
	wg_x25519_clamp(k);
	ck_assert_hex_eq(k, 32,
			 "00000000000000000000000000000000"
			 "00000000000000000000000000000040");
}
END_TEST

/* The seed's keys: the server's private key, its public half as the
 * client's peer, and the client's public half as the server's peer. */
START_TEST(test_seed_keys)
{
	static const char *pairs[][2] = {
		{ "OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=",
		  "hOtvMDcRRJJttd8xETZ/17W+gn3BbHfKpLQVpmEJ6zk=" },
		{ "6G5U9fOiA5qVbWMlJ0wx05RiJhfvFj+b2Diit+EKW2o=",
		  "5DApKFqCrqDE2/PMR+3xIMHFwGBdguq2XK7KaK0zy1U=" },
	};
	uint8_t priv[32], pub[32], want[32];
	char hex[WG_KEY_HEX_LEN];

	ck_assert(wg_key_from_base64(priv, pairs[0][0], 44));
	wg_key_to_hex(hex, priv);
	ck_assert_str_eq(hex, "38aaf39e7016661b24a87331f45d090f"
			      "8ea9319596124796a9dc852b53c65572");
	for (size_t i = 0; i < 2; i++) {
		ck_assert(wg_key_from_base64(priv, pairs[i][0], 44));
		ck_assert(wg_key_from_base64(want, pairs[i][1], 44));
		ck_assert(wg_x25519_public(pub, priv));
		ck_assert_mem_eq(pub, want, 32);
	}
	/* The client key's public half in the server's UAPI file. */
	wg_key_to_hex(hex, pub);
	ck_assert_str_eq(hex, "e43029285a82aea0c4dbf3cc47edf120"
			      "c1c5c0605d82eab65caeca68ad33cb55");
}
END_TEST

/* --- AEAD (RFC 8439) and XAEAD -------------------------------------------- */

/* RFC 8439 appendix A.5. Its nonce 00000000 0102030405060708 is exactly
 * WireGuard's shape: four zero bytes, then the counter 0x0807060504030201
 * little-endian. */
static const char a5_key[] =
	"1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
static const uint64_t a5_counter = 0x0807060504030201ull;
static const char a5_ad[] = "f33388860000000000004e91";
static const char a5_plain[] =
	"Internet-Drafts are draft documents valid for a maximum of six "
	"months and may be updated, replaced, or obsoleted by other documents "
	"at any time. It is inappropriate to use Internet-Drafts as reference "
	"material or to cite them other than as /\xe2\x80\x9c"
	"work in progress./\xe2\x80\x9d";
static const char a5_sealed[] =
	"64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
	"4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
	"332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
	"9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
	"b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
	"af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
	"0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
	"49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
	"a6ad5cb4022b02709b"
	"eead9d67890cbb22392336fea1851f38";

START_TEST(test_aead_rfc8439_a5)
{
	const struct wg_aead_impl *aead = aeads[_i];
	size_t plen = strlen(a5_plain), slen;
	uint8_t key[32], ad[12], buf[300];
	uint8_t *sealed = hex_decode_alloc(a5_sealed, &slen);

	ck_assert_uint_eq(plen, 265);
	ck_assert_uint_eq(slen, plen + 16);
	hex_decode(key, 32, a5_key);
	hex_decode(ad, 12, a5_ad);

	aead->seal(buf, (const uint8_t *)a5_plain, plen, ad, 12, a5_counter,
		     key);
	ck_assert_mem_eq(buf, sealed, slen);

	memset(buf, 0, sizeof(buf));
	ck_assert(aead->open(buf, sealed, slen, ad, 12, a5_counter, key));
	ck_assert_mem_eq(buf, a5_plain, plen);

	/* In place, both ways. */
	memcpy(buf, a5_plain, plen);
	aead->seal(buf, buf, plen, ad, 12, a5_counter, key);
	ck_assert_mem_eq(buf, sealed, slen);
	ck_assert(aead->open(buf, buf, slen, ad, 12, a5_counter, key));
	ck_assert_mem_eq(buf, a5_plain, plen);

	/* Any other counter is another nonce. */
	ck_assert(!aead->open(buf, sealed, slen, ad, 12, a5_counter + 1,
				key));
	ck_assert(!aead->open(buf, sealed, slen, ad, 12,
				__builtin_bswap64(a5_counter), key));
	free(sealed);
}
END_TEST

START_TEST(test_aead_round_trips)
{
	const struct wg_aead_impl *aead = aeads[_i];
	uint8_t key[32], ad[40], msg[300], opened[300];
	uint8_t sealed[316], inplace[316];
	static const uint64_t counters[] = { 0, 1, 255, 256, 1ull << 32,
					     UINT64_MAX - 1, UINT64_MAX };

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < sizeof(ad); i++)
		ad[i] = (uint8_t)(3 * i);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(7 * i + 1);

	for (size_t len = 0; len <= sizeof(msg); len += len < 70 ? 1 : 23) {
		for (size_t c = 0; c < ARRAY_LEN(counters); c++) {
			size_t adlen = (len + c) % sizeof(ad);

			aead->seal(sealed, msg, len, ad, adlen, counters[c],
				     key);
			ck_assert(aead->open(opened, sealed, len + 16, ad,
					       adlen, counters[c], key));
			ck_assert_mem_eq(opened, msg, len);

			memcpy(inplace, msg, len);
			aead->seal(inplace, inplace, len, ad, adlen,
				     counters[c], key);
			ck_assert_mem_eq(inplace, sealed, len + 16);
			ck_assert(aead->open(inplace, inplace, len + 16, ad,
					       adlen, counters[c], key));
			ck_assert_mem_eq(inplace, msg, len);
		}
	}
}
END_TEST

START_TEST(test_aead_rejects_tampering)
{
	const struct wg_aead_impl *aead = aeads[_i];
	uint8_t key[32], ad[8] = "header!", msg[33], sealed[49], out[49];

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	memset(msg, 'm', sizeof(msg));
	aead->seal(sealed, msg, sizeof(msg), ad, sizeof(ad), 42, key);

	/* Every single bit flip of ciphertext or tag is caught, and what
	 * the failed open leaves in its output is zeros, not plaintext. */
	for (size_t i = 0; i < sizeof(sealed) * 8; i++) {
		sealed[i / 8] ^= (uint8_t)(1u << (i % 8));
		memset(out, 'x', sizeof(out));
		ck_assert(!aead->open(out, sealed, sizeof(sealed), ad,
					sizeof(ad), 42, key));
		ck_assert(wg_is_zero(out, sizeof(msg)));
		sealed[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	/* So is a change of associated data, of its length, or of key. */
	for (size_t i = 0; i < sizeof(ad); i++) {
		ad[i] ^= 1;
		ck_assert(!aead->open(out, sealed, sizeof(sealed), ad,
					sizeof(ad), 42, key));
		ad[i] ^= 1;
	}
	ck_assert(!aead->open(out, sealed, sizeof(sealed), ad,
				sizeof(ad) - 1, 42, key));
	ck_assert(!aead->open(out, sealed, sizeof(sealed), NULL, 0, 42, key));
	key[31] ^= 0x80;
	ck_assert(!aead->open(out, sealed, sizeof(sealed), ad, sizeof(ad),
				42, key));
	key[31] ^= 0x80;
	/* A truncated packet is refused, including one shorter than a tag. */
	ck_assert(!aead->open(out, sealed, sizeof(sealed) - 1, ad,
				sizeof(ad), 42, key));
	for (size_t len = 0; len < 16; len++)
		ck_assert(!aead->open(out, sealed, len, ad, sizeof(ad), 42,
					key));
	/* And the untouched packet still opens. */
	ck_assert(aead->open(out, sealed, sizeof(sealed), ad, sizeof(ad), 42,
			       key));
	ck_assert_mem_eq(out, msg, sizeof(msg));
}
END_TEST

START_TEST(test_aead_empty_is_a_tag)
{
	const struct wg_aead_impl *aead = aeads[_i];
	uint8_t key[32] = { 1 }, tag[16], nothing[1];

	aead->seal(tag, NULL, 0, NULL, 0, 0, key);
	ck_assert(aead->open(nothing, tag, 16, NULL, 0, 0, key));
	tag[0] ^= 1;
	ck_assert(!aead->open(nothing, tag, 16, NULL, 0, 0, key));
}
END_TEST

/* A reproducible stream of test bytes (xorshift64*). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void rng_fill(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/* libsodium and libcrypto, byte for byte: random keys, counters, lengths
 * (every length up to 300, then the sizes packets have, up to a 64 KiB
 * one), associated data; each opens what the other sealed, in place and
 * not; a tampered message fails in both and leaves the same zeros. */
START_TEST(test_aead_differential)
{
	enum { MAX = 65535 };
	static uint8_t msg[MAX], a[MAX + 16], b[MAX + 16], out[MAX + 16];
	static const size_t sizes[] = { 1280, 1420, 1424, 1440, 1452, 1500,
					4096, 8192, 9000, 16384, MAX };
	uint8_t key[32], ad[64];

	for (size_t round = 0; round < 300 + 3 * ARRAY_LEN(sizes); round++) {
		size_t len = round <= 300 ? round :
			     sizes[(round - 301) % ARRAY_LEN(sizes)];
		size_t adlen = rng() % 3 ? 0 : rng() % sizeof(ad);
		uint64_t counter = rng();
		size_t flip;

		if (round % 7 == 0)
			counter = round % 2 ? UINT64_MAX - round : round;
		rng_fill(key, sizeof(key));
		rng_fill(ad, sizeof(ad));
		rng_fill(msg, len);

		wg_aead_libsodium.seal(a, msg, len, ad, adlen, counter, key);
		wg_aead_libcrypto.seal(b, msg, len, ad, adlen, counter, key);
		ck_assert_msg(memcmp(a, b, len + 16) == 0,
			      "sealed differently at length %zu", len);

		/* Each opens the other's, in place and into another buffer. */
		ck_assert(wg_aead_libsodium.open(out, b, len + 16, ad, adlen,
						 counter, key));
		ck_assert(memcmp(out, msg, len) == 0);
		ck_assert(wg_aead_libcrypto.open(out, a, len + 16, ad, adlen,
						 counter, key));
		ck_assert(memcmp(out, msg, len) == 0);
		ck_assert(wg_aead_libcrypto.open(a, a, len + 16, ad, adlen,
						 counter, key));
		ck_assert(memcmp(a, msg, len) == 0);
		memcpy(a, msg, len);
		wg_aead_libcrypto.seal(a, a, len, ad, adlen, counter, key);
		ck_assert(memcmp(a, b, len + 16) == 0);
		ck_assert(wg_aead_libsodium.open(b, b, len + 16, ad, adlen,
						 counter, key));
		ck_assert(memcmp(b, msg, len) == 0);

		/* One bit off anywhere: both refuse, and leave zeros. */
		flip = rng() % (len + 16);
		a[flip] ^= (uint8_t)(1u << (rng() % 8));
		memset(out, 'x', len);
		memset(b, 'y', len);
		ck_assert(!wg_aead_libsodium.open(out, a, len + 16, ad, adlen,
						  counter, key));
		ck_assert(!wg_aead_libcrypto.open(b, a, len + 16, ad, adlen,
						  counter, key));
		ck_assert(wg_is_zero(out, len));
		ck_assert(wg_is_zero(b, len));
		/* In place too: the bytes left behind are the same. */
		memcpy(b, a, len + 16);
		ck_assert(!wg_aead_libsodium.open(a, a, len + 16, ad, adlen,
						  counter, key));
		ck_assert(!wg_aead_libcrypto.open(b, b, len + 16, ad, adlen,
						  counter, key));
		ck_assert(memcmp(a, b, len + 16) == 0);
	}
}
END_TEST

/* The transport path's AEAD is libsodium's until another is chosen, and
 * seals exactly as the one chosen does. */
START_TEST(test_aead_choice)
{
	uint8_t key[32], msg[100], want[116], got[116];

	rng_fill(key, sizeof(key));
	rng_fill(msg, sizeof(msg));
	ck_assert_ptr_eq(wg_crypto_aead(), &wg_aead_libsodium);
	ck_assert_str_eq(wg_crypto_aead()->name, "libsodium");
	wg_aead_seal(want, msg, sizeof(msg), NULL, 0, 7, key);

	wg_crypto_use_aead(&wg_aead_libcrypto);
	ck_assert_ptr_eq(wg_crypto_aead(), &wg_aead_libcrypto);
	ck_assert_str_eq(wg_crypto_aead()->name, "libcrypto");
	wg_data_seal(got, msg, sizeof(msg), 7, key);
	ck_assert_mem_eq(got, want, sizeof(want));
	ck_assert(wg_data_open(got, got, sizeof(got), 7, key));
	ck_assert_mem_eq(got, msg, sizeof(msg));
	ck_assert(!wg_data_open(got, want, sizeof(want), 8, key));

	/* A thread that is done can start again. */
	wg_crypto_thread_done();
	wg_crypto_thread_done();
	wg_data_seal(got, msg, sizeof(msg), 7, key);
	ck_assert_mem_eq(got, want, sizeof(want));

	/* Short messages go to libsodium, long ones to the choice: the
	 * same bytes on both sides of the line. */
	static const size_t lens[] = { 0, 1, 64, 299, 300, 301, 1420 };
	static uint8_t big[1420], sealed[1436], again[1436];

	rng_fill(big, sizeof(big));
	for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
		size_t len = lens[i];

		wg_aead_seal(sealed, big, len, NULL, 0, 99, key);
		wg_data_seal(again, big, len, 99, key);
		ck_assert(memcmp(sealed, again, len + 16) == 0);
		ck_assert(wg_data_open(again, again, len + 16, 99, key));
		ck_assert(memcmp(again, big, len) == 0);
	}

	wg_crypto_use_aead(NULL);
	ck_assert_ptr_eq(wg_crypto_aead(), &wg_aead_libsodium);
	wg_data_seal(got, msg, sizeof(msg), 7, key);
	ck_assert_mem_eq(got, want, sizeof(want));
	wg_crypto_thread_done();
}
END_TEST

/* Inside a batch, libcrypto keeps a key from one message to the next:
 * every message, however the keys, directions and counters follow one
 * another, still comes out as libsodium's, and a forged one still fails. */
START_TEST(test_aead_batch)
{
	static uint8_t msg[1420], want[4][1436], got[1436];
	static const struct {
		unsigned int key;
		uint64_t counter;
		bool open;
	} steps[] = {
		{ 0, 1, false }, { 0, 2, false }, { 0, 2, true },
		{ 1, 3, false }, { 0, 1, true }, { 0, 5, false },
		{ 1, 3, true }, { 1, 3, true }, { 0, 5, true },
	};
	uint8_t key[2][32];

	rng_fill((uint8_t *)key, sizeof(key));
	rng_fill(msg, sizeof(msg));
	wg_crypto_use_aead(&wg_aead_libcrypto);
	for (int round = 0; round < 2; round++) {
		wg_crypto_batch_begin();
		for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
			const uint8_t *k = key[steps[i].key];
			uint64_t c = steps[i].counter;
			uint8_t *w = want[(steps[i].key * 2 + c) % 4];

			wg_aead_seal(w, msg, sizeof(msg), NULL, 0, c, k);
			if (!steps[i].open) {
				wg_data_seal(got, msg, sizeof(msg), c, k);
				ck_assert_mem_eq(got, w, sizeof(got));
				continue;
			}
			memcpy(got, w, sizeof(got));
			ck_assert(wg_data_open(got, got, sizeof(got), c, k));
			ck_assert_mem_eq(got, msg, sizeof(msg));
			/* The wrong counter, the other key. */
			memcpy(got, w, sizeof(got));
			ck_assert(!wg_data_open(got, got, sizeof(got), c + 1,
						k));
			memcpy(got, w, sizeof(got));
			ck_assert(!wg_data_open(got, got, sizeof(got), c,
						key[!steps[i].key]));
		}
		wg_crypto_batch_end();
	}
	/* After the batch, each message on its own again. */
	wg_aead_seal(want[0], msg, sizeof(msg), NULL, 0, 9, key[1]);
	wg_data_seal(got, msg, sizeof(msg), 9, key[1]);
	ck_assert_mem_eq(got, want[0], sizeof(got));
	wg_crypto_use_aead(NULL);
	wg_crypto_thread_done();
}
END_TEST

/* XChaCha20-Poly1305 from the CFRG XChaCha draft, appendix A.3.1. */
START_TEST(test_xaead_draft_vector)
{
	static const char plain[] =
		"Ladies and Gentlemen of the class of '99: If I could offer "
		"you only one tip for the future, sunscreen would be it.";
	static const char sealed_hex[] =
		"bd6d179d3e83d43b9576579493c0e939"
		"572a1700252bfaccbed2902c21396cbb"
		"731c7f1b0b4aa6440bf3a82f4eda7e39"
		"ae64c6708c54c216cb96b72e1213b452"
		"2f8c9ba40db5d945b11b69b982c1bb9e"
		"3f3fac2bc369488f76b2383565d3fff9"
		"21f9664c97637da9768812f615c68b13b52e"
		"c0875924c1c7987947deafd8780acf49";
	uint8_t key[32], nonce[24], ad[12], buf[160];
	size_t plen = strlen(plain), slen;
	uint8_t *sealed = hex_decode_alloc(sealed_hex, &slen);

	ck_assert_uint_eq(slen, plen + 16);
	hex_decode(key, 32, "808182838485868788898a8b8c8d8e8f"
			    "909192939495969798999a9b9c9d9e9f");
	hex_decode(nonce, 24,
	  "404142434445464748494a4b4c4d4e4f"
	  "5051525354555657");
	hex_decode(ad, 12, "50515253c0c1c2c3c4c5c6c7");

	wg_xaead_seal(buf, (const uint8_t *)plain, plen, ad, 12, nonce, key);
	ck_assert_mem_eq(buf, sealed, slen);
	memset(buf, 0, sizeof(buf));
	ck_assert(wg_xaead_open(buf, sealed, slen, ad, 12, nonce, key));
	ck_assert_mem_eq(buf, plain, plen);

	memcpy(buf, plain, plen);
	wg_xaead_seal(buf, buf, plen, ad, 12, nonce, key);
	ck_assert_mem_eq(buf, sealed, slen);
	ck_assert(wg_xaead_open(buf, buf, slen, ad, 12, nonce, key));
	ck_assert_mem_eq(buf, plain, plen);

	sealed[slen - 1] ^= 1;
	ck_assert(!wg_xaead_open(buf, sealed, slen, ad, 12, nonce, key));
	sealed[slen - 1] ^= 1;
	nonce[23] ^= 1;
	ck_assert(!wg_xaead_open(buf, sealed, slen, ad, 12, nonce, key));
	nonce[23] ^= 1;
	ad[0] ^= 1;
	ck_assert(!wg_xaead_open(buf, sealed, slen, ad, 12, nonce, key));
	ck_assert(!wg_xaead_open(buf, sealed, 15, NULL, 0, nonce, key));
	free(sealed);
}
END_TEST

/* --- The handshake known-answer file -------------------------------------- */

struct handshake {
	uint8_t s_i_priv[32], s_i_pub[32], s_r_priv[32], s_r_pub[32];
	uint8_t e_i_priv[32], e_i_pub[32], e_r_priv[32], e_r_pub[32];
	uint8_t psk[32], timestamp[12];
	uint8_t init[148], resp[92];
};

static void load_handshake(struct handshake *h, int n)
{
	kat_bytes(h->s_i_priv, 32, HS, n, "initiator_static_private");
	kat_bytes(h->s_i_pub, 32, HS, n, "initiator_static_public");
	kat_bytes(h->s_r_priv, 32, HS, n, "responder_static_private");
	kat_bytes(h->s_r_pub, 32, HS, n, "responder_static_public");
	kat_bytes(h->e_i_priv, 32, HS, n, "initiator_ephemeral_private");
	kat_bytes(h->e_i_pub, 32, HS, n, "initiator_ephemeral_public");
	kat_bytes(h->e_r_priv, 32, HS, n, "responder_ephemeral_private");
	kat_bytes(h->e_r_pub, 32, HS, n, "responder_ephemeral_public");
	kat_bytes(h->psk, 32, HS, n, "preshared_key");
	kat_bytes(h->timestamp, 12, HS, n, "tai64n_timestamp");
	kat_bytes(h->init, 148, HS, n, "handshake_initiation_148");
	kat_bytes(h->resp, 92, HS, n, "handshake_response_92");
}

#define N_HANDSHAKES 3

START_TEST(test_kat_keys_are_key_pairs)
{
	struct handshake h;
	uint8_t pub[32], dh1[32], dh2[32];

	load_handshake(&h, _i);
	ck_assert(wg_x25519_public(pub, h.s_i_priv));
	ck_assert_mem_eq(pub, h.s_i_pub, 32);
	ck_assert(wg_x25519_public(pub, h.s_r_priv));
	ck_assert_mem_eq(pub, h.s_r_pub, 32);
	ck_assert(wg_x25519_public(pub, h.e_i_priv));
	ck_assert_mem_eq(pub, h.e_i_pub, 32);
	ck_assert(wg_x25519_public(pub, h.e_r_priv));
	ck_assert_mem_eq(pub, h.e_r_pub, 32);

	/* Both sides of the static-static DH agree with the file. */
	ck_assert(wg_x25519(dh1, h.s_i_priv, h.s_r_pub));
	ck_assert(wg_x25519(dh2, h.s_r_priv, h.s_i_pub));
	ck_assert_mem_eq(dh1, dh2, 32);
	kat_expect(dh1, 32, HS, _i, "dh_static_static");
}
END_TEST

START_TEST(test_kat_mac1_keys)
{
	struct handshake h;
	uint8_t key[32];

	load_handshake(&h, _i);
	wg_hash(key, "mac1----", 8, h.s_r_pub, 32);
	kat_expect(key, 32, HS, _i, "mac1_key_for_responder");
	wg_hash(key, "mac1----", 8, h.s_i_pub, 32);
	kat_expect(key, 32, HS, _i, "mac1_key_for_initiator");
}
END_TEST

/* The initiator's side of whitepaper 5.4.2, step by step, checked against
 * the recorded intermediate values and the recorded 148-byte message. */
START_TEST(test_kat_initiation)
{
	struct handshake h;
	uint8_t c[32], hh[32], k[32], dh[32], mac1_key[32];
	uint8_t sealed_static[48], sealed_ts[28], mac[16], opened[32];

	load_handshake(&h, _i);
	hex_decode(c, 32, c0_hex);
	hex_decode(hh, 32, h0_hex);

	wg_hash(hh, hh, 32, h.s_r_pub, 32);
	kat_expect(hh, 32, HS, _i, "init.H_after_responder_static");

	/* e */
	wg_kdf(c, NULL, NULL, c, h.e_i_pub, 32);
	kat_expect(c, 32, HS, _i, "init.C_after_e");
	wg_hash(hh, hh, 32, h.e_i_pub, 32);
	kat_expect(hh, 32, HS, _i, "init.H_after_e");
	ck_assert_mem_eq(h.init + 8, h.e_i_pub, 32);

	/* es */
	ck_assert(wg_x25519(dh, h.e_i_priv, h.s_r_pub));
	wg_kdf(c, k, NULL, c, dh, 32);
	kat_expect(c, 32, HS, _i, "init.C_after_es");
	kat_expect(k, 32, HS, _i, "init.k_static");

	/* s */
	wg_aead_seal(sealed_static, h.s_i_pub, 32, hh, 32, 0, k);
	ck_assert_mem_eq(sealed_static, h.init + 40, 48);
	wg_hash(hh, hh, 32, sealed_static, 48);
	kat_expect(hh, 32, HS, _i, "init.H_after_static");

	/* ss */
	ck_assert(wg_x25519(dh, h.s_i_priv, h.s_r_pub));
	wg_kdf(c, k, NULL, c, dh, 32);
	kat_expect(c, 32, HS, _i, "init.C_after_ss");
	kat_expect(k, 32, HS, _i, "init.k_timestamp");

	/* {t} */
	wg_aead_seal(sealed_ts, h.timestamp, 12, hh, 32, 0, k);
	ck_assert_mem_eq(sealed_ts, h.init + 88, 28);
	wg_hash(hh, hh, 32, sealed_ts, 28);
	kat_expect(hh, 32, HS, _i, "init.H_final");
	kat_expect(c, 32, HS, _i, "init.C_final");

	/* The responder opens what the initiator sealed, given the same
	 * transcript hash as associated data and only then. */
	kat_bytes(hh, 32, HS, _i, "init.H_after_static");
	ck_assert(!wg_aead_open(opened, h.init + 88, 28, NULL, 0, 0, k));
	ck_assert(wg_aead_open(opened, h.init + 88, 28, hh, 32, 0, k));
	ck_assert_mem_eq(opened, h.timestamp, 12);

	/* mac1 over everything before it. */
	wg_hash(mac1_key, "mac1----", 8, h.s_r_pub, 32);
	wg_mac(mac, mac1_key, 32, h.init, 116);
	ck_assert_mem_eq(mac, h.init + 116, 16);

	/* mac2 is zero without a cookie, else MAC(cookie, msg up to mac2). */
	char *cookie_hex = kat_value(HS, _i, "mac2_cookie");
	if (strcmp(cookie_hex, "null") == 0) {
		ck_assert(wg_is_zero(h.init + 132, 16));
	} else {
		uint8_t cookie[16];

		hex_decode(cookie, 16, cookie_hex);
		wg_mac(mac, cookie, 16, h.init, 132);
		ck_assert_mem_eq(mac, h.init + 132, 16);
	}
	free(cookie_hex);

	wg_wipe(k, sizeof(k));
	ck_assert(wg_is_zero(k, sizeof(k)));
}
END_TEST

/* The responder's side of whitepaper 5.4.3, then the transport keys. */
START_TEST(test_kat_response)
{
	struct handshake h;
	uint8_t c[32], hh[32], tau[32], k[32], dh[32], mac1_key[32];
	uint8_t send[32], recv[32], empty[16], mac[16], nothing[1];

	load_handshake(&h, _i);
	kat_bytes(c, 32, HS, _i, "init.C_final");
	kat_bytes(hh, 32, HS, _i, "init.H_final");

	/* e */
	wg_kdf(c, NULL, NULL, c, h.e_r_pub, 32);
	kat_expect(c, 32, HS, _i, "resp.C_after_e");
	wg_hash(hh, hh, 32, h.e_r_pub, 32);
	kat_expect(hh, 32, HS, _i, "resp.H_after_e");
	ck_assert_mem_eq(h.resp + 12, h.e_r_pub, 32);

	/* ee, from both ends */
	ck_assert(wg_x25519(dh, h.e_r_priv, h.e_i_pub));
	uint8_t dh_other[32];
	ck_assert(wg_x25519(dh_other, h.e_i_priv, h.e_r_pub));
	ck_assert_mem_eq(dh, dh_other, 32);
	wg_kdf(c, NULL, NULL, c, dh, 32);
	kat_expect(c, 32, HS, _i, "resp.C_after_ee");

	/* se */
	ck_assert(wg_x25519(dh, h.e_r_priv, h.s_i_pub));
	wg_kdf(c, NULL, NULL, c, dh, 32);
	kat_expect(c, 32, HS, _i, "resp.C_after_se");

	/* psk: the one KDF3 of the handshake */
	wg_kdf(c, tau, k, c, h.psk, 32);
	kat_expect(c, 32, HS, _i, "resp.C_after_psk");
	kat_expect(tau, 32, HS, _i, "resp.tau");
	kat_expect(k, 32, HS, _i, "resp.k_empty");
	wg_hash(hh, hh, 32, tau, 32);

	/* {} */
	wg_aead_seal(empty, NULL, 0, hh, 32, 0, k);
	ck_assert_mem_eq(empty, h.resp + 44, 16);
	ck_assert(wg_aead_open(nothing, h.resp + 44, 16, hh, 32, 0, k));
	wg_hash(hh, hh, 32, empty, 16);
	kat_expect(hh, 32, HS, _i, "resp.H_final");
	kat_expect(hh, 32, HS, _i, "final_hash");
	kat_expect(c, 32, HS, _i, "final_chaining_key");

	wg_hash(mac1_key, "mac1----", 8, h.s_i_pub, 32);
	wg_mac(mac, mac1_key, 32, h.resp, 60);
	ck_assert_mem_eq(mac, h.resp + 60, 16);

	/* Transport keys: KDF2(C, empty). */
	wg_kdf(send, recv, NULL, c, NULL, 0);
	kat_expect(send, 32, HS, _i, "transport.initiator_send");
	kat_expect(recv, 32, HS, _i, "transport.initiator_recv");
	kat_expect(send, 32, HS, _i, "initiator_send_key");
	kat_expect(recv, 32, HS, _i, "initiator_recv_key");
	kat_expect(recv, 32, HS, _i, "transport.responder_send");
	kat_expect(send, 32, HS, _i, "transport.responder_recv");
}
END_TEST

/* The first data packets: a 16-byte header, then the AEAD of the packet
 * zero-padded to a multiple of 16, with no associated data. */
static void check_data_packet(int n, const char *packet_key,
			      const char *key_name, uint32_t receiver,
			      uint64_t counter, bool with_payload)
{
	uint8_t key[32], buf[128], opened[128];
	size_t plen = 0, padded = 0, wlen;
	uint8_t *plain = NULL;
	char *want_hex = kat_value(HS, n, packet_key);
	uint8_t *want = hex_decode_alloc(want_hex, &wlen);

	kat_bytes(key, 32, HS, n, key_name);
	if (with_payload) {
		char *hex = kat_value(HS, n,
				      "transport_plaintext_ipv4_icmp_echo");

		plain = hex_decode_alloc(hex, &plen);
		free(hex);
		padded = (plen + 15) / 16 * 16;
	}
	ck_assert_uint_eq(wlen, 16 + padded + 16);

	memset(buf, 0, sizeof(buf));
	buf[0] = 4;
	for (int i = 0; i < 4; i++)
		buf[4 + i] = (uint8_t)(receiver >> (8 * i));
	for (int i = 0; i < 8; i++)
		buf[8 + i] = (uint8_t)(counter >> (8 * i));
	if (plen)
		memcpy(buf + 16, plain, plen);
	/* Sealed in place, as the send path does. */
	wg_aead_seal(buf + 16, buf + 16, padded, NULL, 0, counter, key);
	ck_assert_hex_eq(buf, wlen, want_hex);

	ck_assert(wg_aead_open(opened, want + 16, wlen - 16, NULL, 0, counter,
			       key));
	if (plen)
		ck_assert_mem_eq(opened, plain, plen);
	ck_assert(wg_is_zero(opened + plen, padded - plen));
	ck_assert(!wg_aead_open(opened, want + 16, wlen - 16, NULL, 0,
				counter + 1, key));

	/* The same packet by each transport AEAD, in place. */
	for (size_t a = 0; a < ARRAY_LEN(aeads); a++) {
		memset(buf + 16, 0, sizeof(buf) - 16);
		if (plen)
			memcpy(buf + 16, plain, plen);
		aeads[a]->seal(buf + 16, buf + 16, padded, NULL, 0, counter,
			       key);
		ck_assert_hex_eq(buf, wlen, want_hex);
		ck_assert(aeads[a]->open(buf + 16, buf + 16, wlen - 16, NULL,
					 0, counter, key));
		if (plen)
			ck_assert_mem_eq(buf + 16, plain, plen);
		ck_assert(!aeads[a]->open(opened, want + 16, wlen - 16, NULL,
					  0, counter + 1, key));
	}

	free(plain);
	free(want);
	free(want_hex);
}

START_TEST(test_kat_data_packets)
{
	char *ri = kat_value(HS, _i, "responder_sender_index");
	char *ii = kat_value(HS, _i, "initiator_sender_index");
	uint32_t r = (uint32_t)strtoul(ri, NULL, 10);
	uint32_t i = (uint32_t)strtoul(ii, NULL, 10);

	free(ri);
	free(ii);
	ck_assert_uint_eq(r, 0x0b0b0b0b);
	ck_assert_uint_eq(i, 0x0a0a0a0a);
	check_data_packet(_i, "transport_i2r_counter0", "initiator_send_key",
			  r, 0, true);
	check_data_packet(_i, "transport_i2r_keepalive_counter1",
			  "initiator_send_key", r, 1, false);
	check_data_packet(_i, "transport_r2i_counter0", "initiator_recv_key",
			  i, 0, true);
}
END_TEST

/* The cookie reply (whitepaper 5.4.7): the cookie, its encryption key and
 * the XAEAD that carries it. */
START_TEST(test_kat_cookie_reply)
{
	uint8_t s_r_pub[32], rm[32], nonce[24], mac1[16], key[32];
	uint8_t cookie[16], sealed[32], opened[16], reply[64];
	size_t srclen;
	char *src_hex = kat_value(COOKIE, 0, "source_ip_port_bytes");
	uint8_t *src = hex_decode_alloc(src_hex, &srclen);

	free(src_hex);
	kat_bytes(s_r_pub, 32, COOKIE, 0, "responder_static_public");
	kat_bytes(rm, 32, COOKIE, 0, "cookie_secret_Rm");
	kat_bytes(nonce, 24, COOKIE, 0, "nonce_24");
	kat_bytes(mac1, 16, COOKIE, 0, "mac1_of_triggering_msg");
	kat_bytes(reply, 64, COOKIE, 0, "cookie_reply_64");

	wg_mac(cookie, rm, 32, src, srclen);
	kat_expect(cookie, 16, COOKIE, 0, "cookie_16");
	wg_hash(key, "cookie--", 8, s_r_pub, 32);
	kat_expect(key, 32, COOKIE, 0, "cookie_encryption_key");

	ck_assert_mem_eq(reply + 8, nonce, 24);
	wg_xaead_seal(sealed, cookie, 16, mac1, 16, nonce, key);
	ck_assert_mem_eq(sealed, reply + 32, 32);
	ck_assert(wg_xaead_open(opened, reply + 32, 32, mac1, 16, nonce, key));
	ck_assert_mem_eq(opened, cookie, 16);
	mac1[0] ^= 1;
	ck_assert(!wg_xaead_open(opened, reply + 32, 32, mac1, 16, nonce, key));

	/* The triggering message is the recorded cookie-less initiation. */
	uint8_t init[148];
	kat_bytes(init, 148, HS, 0, "handshake_initiation_148");
	mac1[0] ^= 1;
	ck_assert_mem_eq(init + 116, mac1, 16);
	free(src);
}
END_TEST

/* --- SipHash, comparisons, wiping ----------------------------------------- */

START_TEST(test_shorthash_reference_vectors)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..(n-1);
	 * the 8 output bytes read as a little-endian integer. */
	static const struct {
		size_t len;
		uint64_t want;
	} rows[] = {
		{ 0, 0x726fdb47dd0e0e31ull },
		{ 1, 0x74f839c593dc67fdull },
		{ 15, 0xa129ca6149be45e5ull },
	};
	uint8_t key[16], msg[16];

	for (size_t i = 0; i < 16; i++)
		key[i] = msg[i] = (uint8_t)i;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++)
		ck_assert_msg(wg_shorthash(key, msg, rows[i].len) ==
				      rows[i].want,
			      "len %zu", rows[i].len);
	key[0] ^= 1;
	ck_assert(wg_shorthash(key, msg, 15) != rows[2].want);
}
END_TEST

START_TEST(test_equal_zero_wipe)
{
	uint8_t a[33], b[33];

	memset(a, 0x11, sizeof(a));
	memset(b, 0x11, sizeof(b));
	ck_assert(wg_equal(a, b, sizeof(a)));
	ck_assert(wg_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		ck_assert(!wg_equal(a, b, sizeof(a)));
		ck_assert(wg_equal(a, b, i));
		b[i] ^= 0x80;
	}
	ck_assert(!wg_is_zero(a, sizeof(a)));
	wg_wipe(a, sizeof(a));
	ck_assert(wg_is_zero(a, sizeof(a)));
	a[32] = 1;
	ck_assert(!wg_is_zero(a, sizeof(a)));
	ck_assert(wg_is_zero(a, 32));
	ck_assert(wg_is_zero(a, 0));
}
END_TEST

START_TEST(test_crypto_init_is_idempotent)
{
	ck_assert(wg_crypto_init());
	ck_assert(wg_crypto_init());
}
END_TEST

/* --- Key text ------------------------------------------------------------- */

static const char seed_b64[] = "OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=";
static const char seed_hex[] =
	"38aaf39e7016661b24a87331f45d090f8ea9319596124796a9dc852b53c65572";

START_TEST(test_key_codec_round_trips)
{
	uint8_t key[32], back[32];
	char hex[WG_KEY_HEX_LEN], b64[WG_KEY_BASE64_LEN];

	ck_assert(wg_key_from_base64(key, seed_b64, strlen(seed_b64)));
	ck_assert_hex_eq(key, 32, seed_hex);
	wg_key_to_base64(b64, key);
	ck_assert_str_eq(b64, seed_b64);
	wg_key_to_hex(hex, key);
	ck_assert_str_eq(hex, seed_hex);
	ck_assert(wg_key_from_hex(back, hex, 64));
	ck_assert_mem_eq(back, key, 32);

	/* Every byte value in every position survives both codecs. */
	for (int round = 0; round < 256; round++) {
		for (int i = 0; i < 32; i++)
			key[i] = (uint8_t)(round * 37 + i * 101 +
					   (round >> 3) * i);
		key[round % 32] = (uint8_t)round;
		wg_key_to_base64(b64, key);
		ck_assert_uint_eq(strlen(b64), 44);
		ck_assert(wg_key_from_base64(back, b64, 44));
		ck_assert_mem_eq(back, key, 32);
		wg_key_to_hex(hex, key);
		ck_assert_uint_eq(strlen(hex), 64);
		ck_assert(wg_key_from_hex(back, hex, 64));
		ck_assert_mem_eq(back, key, 32);
	}

	/* Upper-case hex names the same key. */
	char upper[65];
	for (int i = 0; i < 64; i++)
		upper[i] = (char)(seed_hex[i] >= 'a' ? seed_hex[i] - 32 :
						       seed_hex[i]);
	ck_assert(wg_key_from_hex(back, upper, 64));
	ck_assert_hex_eq(back, 32, seed_hex);

	/* The length argument, not a NUL, ends the text. */
	char longer[80];
	snprintf(longer, sizeof(longer), "%s\ngarbage", seed_b64);
	ck_assert(wg_key_from_base64(back, longer, 44));
	ck_assert_hex_eq(back, 32, seed_hex);
}
END_TEST

/* Malformed base64: each must be refused and leave the key wiped. */
static const char *bad_base64[] = {
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI",	  /* 43 */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI==",  /* 45 */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXIA",	  /* no pad */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVX==",	  /* 31 bytes */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXJ=",	  /* unused bits */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXK=",
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXL=",
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PG!XI=",	  /* bad char */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PG-XI=",	  /* URL-safe */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PG_XI=",
	" OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI",	  /* space */
	"OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=\n", /* newline */
	"OKrznnAWZhskqHMx9F0J=46pMZWWEkeWqdyFK1PGVXI=",	  /* pad inside */
	"",
};

START_TEST(test_key_base64_rejects)
{
	uint8_t key[32];

	memset(key, 0xaa, sizeof(key));
	ck_assert(!wg_key_from_base64(key, bad_base64[_i],
				      strlen(bad_base64[_i])));
	ck_assert(wg_is_zero(key, sizeof(key)));
}
END_TEST

START_TEST(test_key_base64_rejects_embedded_nul)
{
	char text[45];
	uint8_t key[32];

	memcpy(text, seed_b64, 45);
	text[20] = '\0';
	memset(key, 0xaa, sizeof(key));
	ck_assert(!wg_key_from_base64(key, text, 44));
	ck_assert(wg_is_zero(key, sizeof(key)));
}
END_TEST

/* Malformed hex; the 64-digit stem is the seed key. */
static const char *bad_hex[] = {
	/* 63 digits */
	"38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c6557",
	/* 65 digits */
	"38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c655720",
	/* 62 digits */
	"38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c655",
	/* not a digit */
	"38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c6557g",
	/* trailing space */
	"38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c6557 ",
	/* a 0x prefix */
	"0x38aaf39e7016661b24a87331f45d090f"
	"8ea9319596124796a9dc852b53c655",
	/* a separator */
	"38aaf39e7016661b24a87331f45d090f"
	":ea9319596124796a9dc852b53c65572",
	"",
};

START_TEST(test_key_hex_rejects)
{
	uint8_t key[32];

	memset(key, 0xaa, sizeof(key));
	ck_assert(!wg_key_from_hex(key, bad_hex[_i], strlen(bad_hex[_i])));
	ck_assert(wg_is_zero(key, sizeof(key)));
}
END_TEST

START_TEST(test_key_hex_rejects_embedded_nul)
{
	char text[65];
	uint8_t key[32];

	memcpy(text, seed_hex, 65);
	text[63] = '\0';
	memset(key, 0xaa, sizeof(key));
	ck_assert(!wg_key_from_hex(key, text, 64));
	ck_assert(wg_is_zero(key, sizeof(key)));
}
END_TEST

static Suite *crypto_suite(void)
{
	Suite *s = suite_create("crypto");
	TCase *tc;

	tc = tcase_create("hash");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_hash_construction_constants);
	tcase_add_loop_test(tc, test_hmac_known_answers, 0,
			    ARRAY_LEN(hmac_rows));
	tcase_add_test(tc, test_hmac_abc_and_aliasing);
	tcase_add_test(tc, test_kdf_known_answers);
	tcase_add_test(tc, test_mac_known_answer);
	suite_add_tcase(s, tc);

	tc = tcase_create("x25519");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_x25519_rfc7748, 0,
			    ARRAY_LEN(x25519_rows));
	tcase_add_test(tc, test_x25519_rfc7748_iterated);
	tcase_add_test(tc, test_x25519_public_rfc7748);
	tcase_add_loop_test(tc, test_x25519_rejects_low_order, 0,
			    ARRAY_LEN(low_order_points));
	tcase_add_test(tc, test_x25519_clamp);
	tcase_add_test(tc, test_seed_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("aead");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_aead_rfc8439_a5, 0, ARRAY_LEN(aeads));
	tcase_add_loop_test(tc, test_aead_round_trips, 0, ARRAY_LEN(aeads));
	tcase_add_loop_test(tc, test_aead_rejects_tampering, 0,
			    ARRAY_LEN(aeads));
	tcase_add_loop_test(tc, test_aead_empty_is_a_tag, 0, ARRAY_LEN(aeads));
	tcase_add_test(tc, test_aead_differential);
	tcase_add_test(tc, test_aead_choice);
	tcase_add_test(tc, test_aead_batch);
	tcase_add_test(tc, test_xaead_draft_vector);
	suite_add_tcase(s, tc);

	tc = tcase_create("handshake_kat");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_kat_keys_are_key_pairs, 0, N_HANDSHAKES);
	tcase_add_loop_test(tc, test_kat_mac1_keys, 0, N_HANDSHAKES);
	tcase_add_loop_test(tc, test_kat_initiation, 0, N_HANDSHAKES);
	tcase_add_loop_test(tc, test_kat_response, 0, N_HANDSHAKES);
	tcase_add_loop_test(tc, test_kat_data_packets, 0, N_HANDSHAKES);
	tcase_add_test(tc, test_kat_cookie_reply);
	suite_add_tcase(s, tc);

	tc = tcase_create("util");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_shorthash_reference_vectors);
	tcase_add_test(tc, test_equal_zero_wipe);
	tcase_add_test(tc, test_crypto_init_is_idempotent);
	suite_add_tcase(s, tc);

	tc = tcase_create("key_text");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_key_codec_round_trips);
	tcase_add_loop_test(tc, test_key_base64_rejects, 0,
			    ARRAY_LEN(bad_base64));
	tcase_add_test(tc, test_key_base64_rejects_embedded_nul);
	tcase_add_loop_test(tc, test_key_hex_rejects, 0,
			    ARRAY_LEN(bad_hex));
	tcase_add_test(tc, test_key_hex_rejects_embedded_nul);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(crypto_suite)
