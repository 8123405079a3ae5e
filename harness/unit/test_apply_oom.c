/* SPDX-License-Identifier: MIT */
/*
 * A configuration change that runs out of memory must change nothing: no
 * peer added or removed, no prefix moved, and the old listen port and
 * fwmark still reported (the daemon, told the apply failed, keeps its old
 * UDP socket). Every kind of change: peers added with prefixes, peers
 * replaced wholesale, a peer removed and made anew in one change.
 *
 * This suite is linked with -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc
 * (CMakeLists.txt): the wrappers below fail the Nth allocation the core
 * makes while a change is applied, for every N until the change needs no
 * more, so that each allocation on the path is a failure the test sees.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "device.h"
#include "sim.h"
#include "support.h"
#include "uapi.h"

void *__real_malloc(size_t len);
void *__real_calloc(size_t n, size_t len);
void *__real_realloc(void *p, size_t len);
void *__wrap_malloc(size_t len);
void *__wrap_calloc(size_t n, size_t len);
void *__wrap_realloc(void *p, size_t len);

static long fail_at = -1;	/* the allocation to fail, counted from 1 */
static long allocations;

static bool fail_this_one(void)
{
	if (fail_at < 0)
		return false;
	return ++allocations == fail_at;
}

void *__wrap_malloc(size_t len)
{
	return fail_this_one() ? NULL : __real_malloc(len);
}

void *__wrap_calloc(size_t n, size_t len)
{
	return fail_this_one() ? NULL : __real_calloc(n, len);
}

void *__wrap_realloc(void *p, size_t len)
{
	return fail_this_one() ? NULL : __real_realloc(p, len);
}

/* A change that moves the port and the mark and adds peers with allowed
 * IPs: a fresh peer table slot, peers and trie nodes to allocate. */
static void change_text(char *out, size_t cap, uint16_t port)
{
	size_t n = (size_t)snprintf(out, cap, "listen_port=%u\nfwmark=77\n",
				    port);

	for (int p = 0; p < 6; p++) {
		n += (size_t)snprintf(out + n, cap - n, "public_key=");
		for (int i = 0; i < 32; i++)
			n += (size_t)snprintf(out + n, cap - n, "%02x",
					      (unsigned int)(p * 37 + i * 11 + 5) &
						      0xff);
		n += (size_t)snprintf(out + n, cap - n,
				      "\nallowed_ip=10.%d.0.0/16\n"
				      "allowed_ip=10.%d.7.1/32\n"
				      "allowed_ip=fd00:%d::/64\n", 100 + p,
				      100 + p, p + 1);
	}
	ck_assert_uint_lt(n, cap);
}

/* Peer p's key as hex, for the changes below. */
static size_t put_key(char *out, size_t cap, int p)
{
	size_t n = 0;

	for (int i = 0; i < 32; i++)
		n += (size_t)snprintf(out + n, cap - n, "%02x",
				      (unsigned int)(p * 37 + i * 11 + 5) & 0xff);
	return n;
}

/* Peers 0..5 replace every peer there is; peer 0 is removed and made
 * anew with other prefixes. */
static void replace_text(char *out, size_t cap, uint16_t port)
{
	size_t n;

	change_text(out, cap, port);
	n = strlen(out);
	n += (size_t)snprintf(out + n, cap - n, "public_key=");
	n += put_key(out + n, cap - n, 0);
	n += (size_t)snprintf(out + n, cap - n, "\nremove=true\npublic_key=");
	n += put_key(out + n, cap - n, 0);
	n += (size_t)snprintf(out + n, cap - n,
			      "\nallowed_ip=10.200.0.0/24\n");
	ck_assert_uint_lt(n, cap);
	memmove(out + strlen("replace_peers=true\n"), out, n + 1);
	memcpy(out, "replace_peers=true\n", strlen("replace_peers=true\n"));
}

static struct sim s;

/* Applies the change made by text() with the k-th allocation failing, for
 * every k until it needs no more: each failure must leave the device as
 * it was; the run without one applies the change. */
static void fail_each_allocation(void (*text)(char *, size_t, uint16_t),
				 bool twice)
{
	char buf[8192];
	long k;

	for (k = 1;; k++) {
		struct wg_config delta, before, after;
		struct wg_parse_error err;
		int ret;

		sim_init(&s, 7);
		if (twice) {
			/* The peers are there first: the change replaces. */
			text(buf, sizeof(buf), 40000);
			wg_config_init(&delta);
			ck_assert_int_eq(wg_uapi_parse_set(buf, strlen(buf),
							   &delta, &err), 0);
			ck_assert_int_eq(wg_device_apply(s.node[0].dev, &delta,
							 s.now, &err), 0);
			wg_config_clear(&delta);
		}
		ck_assert_int_eq(wg_device_get(s.node[0].dev, &before), 0);
		text(buf, sizeof(buf), (uint16_t)(before.listen_port + 1));
		wg_config_init(&delta);
		ck_assert_int_eq(wg_uapi_parse_set(buf, strlen(buf), &delta,
						   &err), 0);
		allocations = 0;
		fail_at = k;
		ret = wg_device_apply(s.node[0].dev, &delta, s.now, &err);
		fail_at = -1;
		ck_assert_int_eq(wg_device_get(s.node[0].dev, &after), 0);
		if (ret == 0) {
			/* No allocation left to fail: the change applied. */
			ck_assert_int_lt(allocations, k);
			ck_assert_uint_eq(after.listen_port,
					  before.listen_port + 1);
			ck_assert_uint_eq(after.fwmark, 77);
			ck_assert(!wg_config_equal(&before, &after));
		} else {
			ck_assert_int_eq(ret, -ENOMEM);
			ck_assert_msg(wg_config_equal(&before, &after),
				      "allocation %ld failed and the device "
				      "changed all the same", k);
		}
		wg_config_clear(&delta);
		wg_config_clear(&before);
		wg_config_clear(&after);
		sim_free(&s);
		if (ret == 0)
			break;
	}
	/* Each allocation on the path failed once: more than one. */
	ck_assert_int_gt(k, 10);
}

START_TEST(test_failed_apply_changes_nothing)
{
	fail_each_allocation(change_text, false);
}
END_TEST

START_TEST(test_failed_replace_changes_nothing)
{
	fail_each_allocation(replace_text, true);
}
END_TEST

static Suite *apply_oom_suite(void)
{
	Suite *su = suite_create("apply_oom");
	TCase *tc = tcase_create("apply_oom");

	tcase_add_test(tc, test_failed_apply_changes_nothing);
	tcase_add_test(tc, test_failed_replace_changes_nothing);
	suite_add_tcase(su, tc);
	return su;
}

UNIGUARD_TEST_MAIN(apply_oom_suite)
