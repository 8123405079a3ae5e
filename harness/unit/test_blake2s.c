/* SPDX-License-Identifier: MIT */
/*
 * BLAKE2s against RFC 7693: the Appendix B example, the Appendix E
 * self-test ("grand hash" over many output and input lengths, keyed and
 * unkeyed), a table of keyed and unkeyed known answers, and the streaming
 * interface against the one-shot one across block boundaries.
 */
#include "blake2s.h"

#include <string.h>

#include "support.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes 0, 1, 2, ... (mod 256): the message and key pattern of the
 * known-answer table below. */
static void fill_counting(uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)i;
}

START_TEST(test_rfc7693_appendix_b_abc)
{
	uint8_t out[32];

	blake2s(out, sizeof(out), NULL, 0, "abc", 3);
	ck_assert_hex_eq(out, sizeof(out),
			 "508c5e8c327c14e2e1a72ba34eeb452f"
			 "37458b209ed63a294d999b4c86675982");
}
END_TEST

START_TEST(test_empty_message)
{
	uint8_t out[32];

	blake2s(out, sizeof(out), NULL, 0, NULL, 0);
	ck_assert_hex_eq(out, sizeof(out),
			 "69217a3079908094e11121d042354a7c"
			 "1f55b6482ca1a51e1b250dfd1ed0eef9");
}
END_TEST

/* RFC 7693 Appendix E: a deterministic byte sequence from a Fibonacci-like
 * recurrence seeded by a multiple of 0xDEAD4BAD, keeping each sum's top
 * byte. */
static void selftest_seq(uint8_t *out, size_t len, uint32_t seed)
{
	uint32_t a = 0xdead4badu * seed, b = 1, t;

	for (size_t i = 0; i < len; i++) {
		t = a + b;
		a = b;
		b = t;
		out[i] = (uint8_t)(t >> 24);
	}
}

START_TEST(test_rfc7693_appendix_e_selftest)
{
	static const size_t md_len[] = { 16, 20, 28, 32 };
	static const size_t in_len[] = { 0, 3, 64, 65, 255, 1024 };
	static const char grand[] = "6a411f08ce25adcdfb02aba641451cec"
				    "53c598b24f4fc787fbdc88797f4c1dfe";
	struct blake2s_state all;
	uint8_t in[1024], key[32], md[32];

	/* Every digest, unkeyed then keyed, feeds one BLAKE2s-256. */
	blake2s_init(&all, 32, NULL, 0);
	for (size_t i = 0; i < ARRAY_LEN(md_len); i++) {
		size_t outlen = md_len[i];

		for (size_t j = 0; j < ARRAY_LEN(in_len); j++) {
			size_t inlen = in_len[j];

			selftest_seq(in, inlen, (uint32_t)inlen);
			blake2s(md, outlen, NULL, 0, in, inlen);
			blake2s_update(&all, md, outlen);

			selftest_seq(key, outlen, (uint32_t)outlen);
			blake2s(md, outlen, key, outlen, in, inlen);
			blake2s_update(&all, md, outlen);
		}
	}
	blake2s_final(&all, md);
	ck_assert_hex_eq(md, 32, grand);
}
END_TEST

/* Known answers from an independent BLAKE2s implementation. The message
 * is 0, 1, 2, ... of msglen bytes; the key is 0, 1, 2, ... of keylen
 * bytes. The keyed 32-byte rows around the block size are where a wrong
 * "last block" rule or a wrong byte counter shows. */
static const struct {
	size_t keylen, outlen, msglen;
	const char *digest;
} kat_rows[] = {
	{ 32, 32, 0,
	  "48a8997da407876b3d79c0d92325ad3b"
	  "89cbb754d86ab71aee047ad345fd2c49" },
	{ 32, 32, 1,
	  "40d15fee7c328830166ac3f918650f80"
	  "7e7e01e177258cdc0a39b11f598066f1" },
	{ 32, 32, 2,
	  "6bb71300644cd3991b26ccd4d274acd1"
	  "adeab8b1d7914546c1198bbe9fc9d803" },
	{ 32, 32, 55,
	  "f16012d93f28851a1eb989f5d0b43f3f"
	  "39ca73c9a62d5181bff237536bd348c3" },
	{ 32, 32, 63,
	  "c65382513f07460da39833cb666c5ed8"
	  "2e61b9e998f4b0c4287cee56c3cc9bcd" },
	{ 32, 32, 64,
	  "8975b0577fd35566d750b362b0897a26"
	  "c399136df07bababbde6203ff2954ed4" },
	{ 32, 32, 65,
	  "21fe0ceb0052be7fb0f004187cacd7de"
	  "67fa6eb0938d927677f2398c132317a8" },
	{ 32, 32, 127,
	  "ddbfea75cc467882eb3483ce5e2e756a"
	  "4f4701b76b445519e89f22d60fa86e06" },
	{ 32, 32, 128,
	  "0c311f38c35a4fb90d651c289d486856"
	  "cd1413df9b0677f53ece2cd9e477c60a" },
	{ 32, 32, 129,
	  "46a73a8dd3e70f59d3942c01df599def"
	  "783c9da82fd83222cd662b53dce7dbdf" },
	{ 32, 32, 255,
	  "3fb735061abc519dfe979e54c1ee5bfa"
	  "d0a9d858b3315bad34bde999efd724dd" },
	{ 32, 32, 256,
	  "5211d1aefc0025be7f85c06b3e14e0fc"
	  "645ae12bd41746485ea6d8a364a2eaee" },
	{ 0, 32, 1,
	  "e34d74dbaf4ff4c6abd871cc220451d2"
	  "ea2648846c7757fbaac82fe51ad64bea" },
	{ 0, 32, 64,
	  "56f34e8b96557e90c1f24b52d0c89d51"
	  "086acf1b00f634cf1dde9233b8eaaa3e" },
	{ 0, 32, 65,
	  "1b53ee94aaf34e4b159d48de352c7f06"
	  "61d0a40edff95a0b1639b4090e974472" },
	{ 0, 32, 200,
	  "6d244e1a06ce4ef578dd0f63aff09367"
	  "06735119ca9c8d22d86c801414ab9741" },
	{ 1, 16, 3, "2dc274d52c2abc1db926bcb9e565636c" },
	{ 16, 20, 64, "bcc27f040b3f2420b5e120c0c3eb7effc1b05169" },
	{ 31, 28, 65,
	  "3d860c3fbf025134e359ec48fd33de73"
	  "0a973193b4d0f965bdda9991" },
	{ 32, 1, 0, "3a" },
	{ 0, 7, 100, "219785f69d1358" },
	{ 20, 32, 129,
	  "6732e83c88d76991efc3f164433a05e2"
	  "be34698f6801cddb6ad9e74eb01f3abe" },
};

START_TEST(test_known_answer_table)
{
	uint8_t key[32], msg[256], out[32];

	fill_counting(key, sizeof(key));
	fill_counting(msg, sizeof(msg));
	blake2s(out, kat_rows[_i].outlen, key, kat_rows[_i].keylen, msg,
		kat_rows[_i].msglen);
	ck_assert_hex_eq(out, kat_rows[_i].outlen, kat_rows[_i].digest);
}
END_TEST

/* Feeding the message in pieces of any size must give the one-shot digest,
 * including pieces that end exactly on a block boundary and empty ones. */
START_TEST(test_streaming_matches_one_shot)
{
	static const size_t chunks[] = { 1,  2,  3,  5,  7,  13,
					 31, 63, 64, 65, 100 };
	uint8_t msg[600], key[32], want[32], got[32];

	selftest_seq(msg, sizeof(msg), 7);
	fill_counting(key, sizeof(key));
	for (size_t keylen = 0; keylen <= 32; keylen += 32) {
		for (size_t len = 0; len <= sizeof(msg); len++) {
			blake2s(want, 32, key, keylen, msg, len);
			for (size_t c = 0; c < ARRAY_LEN(chunks); c++) {
				struct blake2s_state s;
				size_t off = 0;

				blake2s_init(&s, 32, key, keylen);
				while (off < len) {
					size_t n = len - off;

					if (n > chunks[c])
						n = chunks[c];

					blake2s_update(&s, msg + off, n);
					blake2s_update(&s, msg, 0);
					off += n;
				}
				blake2s_final(&s, got);
				ck_assert_msg(memcmp(got, want, 32) == 0,
					      "keylen %zu len %zu chunk %zu",
					      keylen, len, chunks[c]);
			}
		}
	}
}
END_TEST

/* Uneven, changing piece sizes: 1, 2, 3, ... bytes at a time. */
START_TEST(test_streaming_growing_pieces)
{
	uint8_t msg[2000], want[32], got[32];
	struct blake2s_state s;
	size_t off = 0, n = 1;

	selftest_seq(msg, sizeof(msg), 2000);
	blake2s(want, 32, NULL, 0, msg, sizeof(msg));
	blake2s_init(&s, 32, NULL, 0);
	while (off < sizeof(msg)) {
		if (n > sizeof(msg) - off)
			n = sizeof(msg) - off;
		blake2s_update(&s, msg + off, n);
		off += n;
		n++;
	}
	blake2s_final(&s, got);
	ck_assert_mem_eq(got, want, 32);
}
END_TEST

/* The output length is in the parameter block: a short digest is not a
 * prefix of the long one. */
START_TEST(test_outlen_is_not_truncation)
{
	uint8_t d16[16], d32[32];

	blake2s(d16, 16, NULL, 0, "abc", 3);
	blake2s(d32, 32, NULL, 0, "abc", 3);
	ck_assert(memcmp(d16, d32, 16) != 0);
}
END_TEST

/* A key is not the same as a message block that holds it. */
START_TEST(test_key_is_not_prefix)
{
	uint8_t key[32], block[64], keyed[32], prefixed[32];

	fill_counting(key, sizeof(key));
	memset(block, 0, sizeof(block));
	memcpy(block, key, sizeof(key));
	blake2s(keyed, 32, key, 32, "abc", 3);
	blake2s(prefixed, 32, NULL, 0, block, sizeof(block));
	ck_assert(memcmp(keyed, prefixed, 32) != 0);
}
END_TEST

START_TEST(test_final_wipes_state)
{
	static const uint8_t zero[sizeof(struct blake2s_state)];
	struct blake2s_state s;
	uint8_t key[32], out[32];

	fill_counting(key, sizeof(key));
	blake2s_init(&s, 32, key, sizeof(key));
	blake2s_update(&s, "secret material", 15);
	blake2s_final(&s, out);
	ck_assert_mem_eq(&s, zero, sizeof(s));
}
END_TEST

/* The byte counter is 64 bits over two words: the low word's overflow
 * must carry into the high word. */
START_TEST(test_counter_carries)
{
	struct blake2s_state s;
	uint8_t msg[128] = { 0 };

	blake2s_init(&s, 32, NULL, 0);
	s.t[0] = 0xffffffc0u;
	blake2s_update(&s, msg, sizeof(msg));
	/* The first block is compressed, the second waits for final. */
	ck_assert_uint_eq(s.t[0], 0);
	ck_assert_uint_eq(s.t[1], 1);
	ck_assert_uint_eq(s.buflen, 64);
}
END_TEST

static Suite *blake2s_suite(void)
{
	Suite *s = suite_create("blake2s");
	TCase *tc = tcase_create("rfc7693");

	tcase_add_test(tc, test_rfc7693_appendix_b_abc);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_rfc7693_appendix_e_selftest);
	tcase_add_loop_test(tc, test_known_answer_table, 0,
			    ARRAY_LEN(kat_rows));
	suite_add_tcase(s, tc);

	tc = tcase_create("streaming");
	tcase_add_test(tc, test_streaming_matches_one_shot);
	tcase_add_test(tc, test_streaming_growing_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("properties");
	tcase_add_test(tc, test_outlen_is_not_truncation);
	tcase_add_test(tc, test_key_is_not_prefix);
	tcase_add_test(tc, test_final_wipes_state);
	tcase_add_test(tc, test_counter_carries);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(blake2s_suite)
