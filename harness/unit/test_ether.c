/* SPDX-License-Identifier: MIT */
/*
 * The tap backend's Ethernet router as a whole (netdev/ether.c): its
 * settings and the announcement of our addresses.
 */
#include "ether_fixtures.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

START_TEST(test_settings)
{
	static const uint8_t mcast[4] = { 239, 1, 1, 1 };
	struct ether *e = make(false);

	ck_assert_int_eq(ether_set_address(e, AF_INET, own4, 16), 0);
	ck_assert_int_eq(ether_set_address(e, AF_INET, host4, 16), -EEXIST);
	ck_assert_int_eq(ether_set_address(e, AF_INET, mcast, 16), -EINVAL);
	ck_assert_int_eq(ether_set_gateway(e, AF_INET, mcast), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, 67), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, ETHER_MTU_MAX + 1), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, 9000), 0);
	ether_announce(e);
	ck_assert_uint_eq(n_frames, 2);
	/* Gratuitous ARP: our address as sender and target. */
	ck_assert_mem_eq(frames[0] + 14 + 14, own4, 4);
	ck_assert_mem_eq(frames[0] + 14 + 24, own4, 4);
	ck_assert_uint_eq(frames[1][14 + 40], 136);
	ether_free(e);
}
END_TEST

static Suite *ether_suite(void)
{
	Suite *s = suite_create("ether");
	TCase *tc = tcase_create("ether");

	tcase_add_test(tc, test_settings);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(ether_suite)
