/* SPDX-License-Identifier: MIT */
#include "support.h"

#include <stdio.h>
#include <string.h>

#ifndef UNIGUARD_SHARED_DIR
#error "UNIGUARD_SHARED_DIR names harness/data"
#endif

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

uint8_t *hex_decode_alloc(const char *hex, size_t *outlen)
{
	size_t n = strlen(hex);
	ck_assert_msg(n % 2 == 0, "odd hex length %zu", n);
	uint8_t *out = malloc(n / 2 + 1);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_nibble(hex[2 * i]), lo = hex_nibble(hex[2 * i + 1]);
		ck_assert_msg(hi >= 0 && lo >= 0, "bad hex at %zu", 2 * i);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return out;
}

void hex_decode(uint8_t *out, size_t outlen, const char *hex)
{
	size_t n;
	uint8_t *b = hex_decode_alloc(hex, &n);
	ck_assert_msg(n == outlen, "hex is %zu bytes, want %zu", n, outlen);
	memcpy(out, b, n);
	free(b);
}

void support_assert_hex(const uint8_t *got, size_t len, const char *want,
			const char *file, int line)
{
	char *g = malloc(2 * len + 1);
	ck_assert_ptr_nonnull(g);
	for (size_t i = 0; i < len; i++)
		snprintf(g + 2 * i, 3, "%02x", got[i]);
	g[2 * len] = '\0';
	int same = strcmp(g, want) == 0;
	if (!same)
		fprintf(stderr, "%s:%d: hex mismatch\n  got  %s\n  want %s\n",
			file, line, g, want);
	free(g);
	ck_assert_msg(same, "%s:%d: bytes differ from the known answer", file, line);
}

char *read_fixture(const char *relpath, size_t *len)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", UNIGUARD_SHARED_DIR, relpath);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open fixture %s", path);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

char *kat_value(const char *section, int n, const char *key)
{
	static char *kat;
	if (!kat)
		kat = read_fixture("wg_handshake_kat.json", NULL);
	const char *p = strstr(kat, section);
	ck_assert_msg(p != NULL, "no section %s", section);
	/* For an array section, step to its n-th "name" entry. */
	for (int i = 0; i <= n; i++) {
		p = strstr(p + 1, "\"name\"");
		ck_assert_msg(p != NULL, "no entry %d in %s", n, section);
	}
	const char *end = strstr(p + 1, "\"name\"");
	char pattern[128];
	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	const char *k = strstr(p, pattern);
	ck_assert_msg(k != NULL && (!end || k < end), "no key %s in %s[%d]", key,
		      section, n);
	const char *colon = strchr(k + strlen(pattern), ':');
	ck_assert_ptr_nonnull(colon);
	const char *v = colon + 1;
	while (*v == ' ')
		v++;
	if (*v != '"') {	/* a number or null */
		size_t l = strcspn(v, ",\n}");
		return strndup(v, l);
	}
	v++;
	size_t l = strcspn(v, "\"");
	return strndup(v, l);
}

uint16_t ref_ones_sum(const uint8_t *p, size_t len, uint32_t acc)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		acc += (uint32_t)p[len - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}
