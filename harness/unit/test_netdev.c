/* SPDX-License-Identifier: MIT */
/*
 * The backend registry (netdev/netdev.c): backends found by name, options
 * after "NAME:" handed to the backends that take them and refused by the
 * others, and the offload question answered for a backend without any.
 */
#include "netdev.h"

#include <errno.h>
#include <string.h>

#include "support.h"

START_TEST(test_lookup)
{
	ck_assert_ptr_eq(netdev_lookup("tun"), &netdev_tun_ops);
	ck_assert_ptr_eq(netdev_lookup("tap"), &netdev_tap_ops);
	ck_assert_ptr_null(netdev_lookup("tu"));
	ck_assert_ptr_null(netdev_lookup(""));
}
END_TEST

START_TEST(test_select)
{
	struct netdev nd;

	memset(&nd, 0, sizeof(nd));
	ck_assert_int_eq(netdev_select(&nd, "tun"), 0);
	ck_assert_ptr_eq(nd.ops, &netdev_tun_ops);
	ck_assert_ptr_null(nd.args);
	/* "tun:" is "tun": nothing after the colon. */
	ck_assert_int_eq(netdev_select(&nd, "tun:"), 0);
	ck_assert_ptr_null(nd.args);
	ck_assert_int_eq(netdev_select(&nd, "tun:proxy-arp"), -EINVAL);
	ck_assert_int_eq(netdev_select(&nd, "tap:proxy-arp,"
					 "mac=02:00:00:00:00:01"), 0);
	ck_assert_ptr_eq(nd.ops, &netdev_tap_ops);
	ck_assert_str_eq(nd.args, "proxy-arp,mac=02:00:00:00:00:01");
	ck_assert_int_eq(netdev_select(&nd, "pcap"), -ENOENT);
	ck_assert_int_eq(netdev_select(&nd, "a-name-longer-than-ifnamsiz"),
			 -ENOENT);
}
END_TEST

START_TEST(test_offload_asked_through_the_contract)
{
	struct netdev nd;

	memset(&nd, 0, sizeof(nd));
	nd.ops = &netdev_tap_ops;
	ck_assert(!netdev_offload(&nd));
}
END_TEST

static Suite *netdev_suite(void)
{
	Suite *s = suite_create("netdev");
	TCase *tc = tcase_create("registry");

	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_select);
	tcase_add_test(tc, test_offload_asked_through_the_contract);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(netdev_suite)
