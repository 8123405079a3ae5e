/* SPDX-License-Identifier: MIT */
/*
 * daemon/keymem.c: key memory comes zeroed, from mappings the kernel
 * leaves out of core dumps ("dd" among the mapping's VmFlags in
 * /proc/self/smaps), is handed out again after it comes back, and a
 * large request's own mapping goes when it is given back.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "keymem.h"
#include "support.h"

/* The VmFlags of the mapping that holds addr; false if none does. */
static bool mapping_flags(const void *addr, char *flags, size_t cap)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool inside = false, found = false;
	uintptr_t a = (uintptr_t)addr;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 &&
		    strchr(line, '-') < strchr(line, ' ')) {
			inside = a >= start && a < end;
			continue;
		}
		if (inside && !strncmp(line, "VmFlags:", 8)) {
			snprintf(flags, cap, "%s", line + 8);
			found = true;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool left_out_of_dumps(const void *addr)
{
	char flags[512];

	return mapping_flags(addr, flags, sizeof(flags)) &&
	       strstr(flags, " dd") != NULL;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

/* The three sizes the core asks for are near these. */
static const size_t sizes[] = { 40, 312, 1184, 5000 };

START_TEST(test_memory_is_zeroed_and_left_out_of_dumps)
{
	ck_assert(keymem_out_of_dumps());
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = keymem_alloc(sizes[i]);

		ck_assert_ptr_nonnull(p);
		ck_assert(all_zero(p, sizes[i]));
		ck_assert_msg(left_out_of_dumps(p),
			      "%zu bytes in a mapping that dumps", sizes[i]);
		/* A stack or heap address is not: the check can fail. */
		ck_assert(!left_out_of_dumps(&p));
		memset(p, 0xa5, sizes[i]);
		memset(p, 0, sizes[i]);	/* the core wipes before it frees */
		keymem_free(p, sizes[i]);
	}
	ck_assert(keymem_out_of_dumps());
}
END_TEST

START_TEST(test_given_back_memory_is_handed_out_again_zeroed)
{
	uint8_t *p = keymem_alloc(312), *q;

	ck_assert_ptr_nonnull(p);
	memset(p, 0, 312);
	keymem_free(p, 312);
	q = keymem_alloc(312);
	ck_assert_ptr_eq(q, p);
	ck_assert(all_zero(q, 312));
	keymem_free(q, 312);
}
END_TEST

/* More than one chunk's worth: every object its own, each left out of
 * dumps, none overlapping. */
START_TEST(test_many_objects_across_chunks)
{
	enum { N = 2000, SIZE = 1184 };
	static uint8_t *p[N];

	for (size_t i = 0; i < N; i++) {
		p[i] = keymem_alloc(SIZE);
		ck_assert_ptr_nonnull(p[i]);
		memset(p[i], (int)(i & 0xff) | 1, SIZE);
	}
	for (size_t i = 0; i < N; i++) {
		uint8_t want[SIZE];

		memset(want, (int)(i & 0xff) | 1, SIZE);
		ck_assert(!memcmp(p[i], want, SIZE));
		if (i % 97 == 0)
			ck_assert(left_out_of_dumps(p[i]));
	}
	for (size_t i = 0; i < N; i++) {
		memset(p[i], 0, SIZE);
		keymem_free(p[i], SIZE);
	}
}
END_TEST

START_TEST(test_large_request_gets_its_own_mapping)
{
	const size_t len = 200 * 1024;
	uint8_t *p = keymem_alloc(len);
	char flags[512];

	ck_assert_ptr_nonnull(p);
	ck_assert(all_zero(p, len));
	ck_assert(left_out_of_dumps(p));
	ck_assert(left_out_of_dumps(p + len - 1));
	keymem_free(p, len);
	ck_assert(!mapping_flags(p, flags, sizeof(flags)));
}
END_TEST

static Suite *keymem_suite(void)
{
	Suite *su = suite_create("keymem");
	TCase *tc = tcase_create("keymem");

	tcase_add_test(tc, test_memory_is_zeroed_and_left_out_of_dumps);
	tcase_add_test(tc, test_given_back_memory_is_handed_out_again_zeroed);
	tcase_add_test(tc, test_many_objects_across_chunks);
	tcase_add_test(tc, test_large_request_gets_its_own_mapping);
	suite_add_tcase(su, tc);
	return su;
}

UNIGUARD_TEST_MAIN(keymem_suite)
