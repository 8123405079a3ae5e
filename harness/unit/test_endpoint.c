/* SPDX-License-Identifier: MIT */
/*
 * Endpoint text: a table of accepted forms with the text wg prints for
 * each, a table of refused ones, equality, splitting host and port, and the
 * cookie bytes (address then big-endian port) against hand-computed values.
 */
#include "endpoint.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "support.h"

struct parse_ok {
	const char *in;
	const char *out;	/* as formatted back */
	int family;
	unsigned int port;
};

static const struct parse_ok parse_ok_table[] = {
	{ "192.0.2.1:51820", "192.0.2.1:51820", AF_INET, 51820 },
	{ "0.0.0.0:0", "0.0.0.0:0", AF_INET, 0 },
	{ "255.255.255.255:65535", "255.255.255.255:65535", AF_INET, 65535 },
	{ "10.0.0.1:1", "10.0.0.1:1", AF_INET, 1 },
	/* Leading zeros in the port are only a spelling. */
	{ "192.0.2.1:051820", "192.0.2.1:51820", AF_INET, 51820 },
	{ "[2001:db8::1]:51820", "[2001:db8::1]:51820", AF_INET6, 51820 },
	{ "[2001:DB8:0:0:0:0:0:1]:1", "[2001:db8::1]:1", AF_INET6, 1 },
	{ "[::]:51820", "[::]:51820", AF_INET6, 51820 },
	{ "[::1]:0", "[::1]:0", AF_INET6, 0 },
	{ "[::ffff:192.0.2.1]:443", "[::ffff:192.0.2.1]:443", AF_INET6, 443 },
	{ "[2001:db8:0:1:0:0:0:1]:9", "[2001:db8:0:1::1]:9", AF_INET6, 9 },
	/* The first of two equal zero runs is the one compressed. */
	{ "[2001:db8:0:0:1:0:0:1]:9", "[2001:db8::1:0:0:1]:9", AF_INET6, 9 },
	/* A single zero group is not compressed (RFC 5952 4.2.2). */
	{ "[2001:db8:0:1:1:1:1:1]:9", "[2001:db8:0:1:1:1:1:1]:9", AF_INET6, 9 },
	{ "[fe80::1%2]:51820", "[fe80::1%2]:51820", AF_INET6, 51820 },
};

static const char *const parse_bad_table[] = {
	"",
	":",
	"192.0.2.1",
	"192.0.2.1:",
	":51820",
	"192.0.2.1:65536",
	"192.0.2.1:99999999999999999999",
	"192.0.2.1:-1",
	"192.0.2.1:+1",
	"192.0.2.1: 1",
	" 192.0.2.1:1",
	"192.0.2.1:1 ",
	"192.0.2.1:1x",
	"192.0.2:1",
	"192.0.2.256:1",
	"192.0.2.1.5:1",
	"example.com:51820",
	"2001:db8::1:51820",	/* IPv6 needs brackets */
	"[2001:db8::1]51820",
	"[2001:db8::1]:",
	"[2001:db8::1",
	"[2001:db8::1]",
	"[192.0.2.1]:1",	/* brackets are for IPv6 */
	"[fe80::1%eth0]:1",	/* zone names need the OS */
	"[fe80::1%]:1",
	"[fe80::1%4294967296]:1",
	"[]:1",
	"[::1]:1:2",
	"[2001:db8::g]:1",
};

START_TEST(test_parse_ok)
{
	const struct parse_ok *t = &parse_ok_table[_i];
	struct wg_endpoint ep;
	char buf[WG_ENDPOINT_TEXT_MAX];

	ck_assert_msg(wg_endpoint_parse(&ep, t->in, strlen(t->in)),
		      "refused %s", t->in);
	ck_assert_int_eq(ep.addr.sa.sa_family, t->family);
	if (t->family == AF_INET)
		ck_assert_uint_eq(ntohs(ep.addr.sin.sin_port), t->port);
	else
		ck_assert_uint_eq(ntohs(ep.addr.sin6.sin6_port), t->port);
	ck_assert(!ep.has_src);
	ck_assert(wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, t->out);
	/* The printed form reads back as the same endpoint. */
	struct wg_endpoint again;

	ck_assert(wg_endpoint_parse(&again, buf, strlen(buf)));
	ck_assert(wg_endpoint_equal(&ep, &again));
}
END_TEST

START_TEST(test_parse_bad)
{
	const char *in = parse_bad_table[_i];
	struct wg_endpoint ep;

	ck_assert_msg(!wg_endpoint_parse(&ep, in, strlen(in)), "took %s", in);
	ck_assert_int_eq(ep.addr.sa.sa_family, AF_UNSPEC);
}
END_TEST

START_TEST(test_parse_length_bounded)
{
	struct wg_endpoint ep;
	char buf[WG_ENDPOINT_TEXT_MAX];

	/* Only len bytes count: the rest of the buffer is not read. */
	ck_assert(wg_endpoint_parse(&ep, "192.0.2.1:51820junk", 15));
	ck_assert(wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "192.0.2.1:51820");
	/* An embedded NUL is not an end. */
	ck_assert(!wg_endpoint_parse(&ep, "192.0.2.1\0:1", 12));
	ck_assert(!wg_endpoint_parse(&ep, "192.0.2.1:1\0", 12));
}
END_TEST

START_TEST(test_format_limits)
{
	struct wg_endpoint ep;
	char buf[WG_ENDPOINT_TEXT_MAX];
	const char *longest = "[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"
			      "%4294967295]:65535";

	memset(&ep, 0, sizeof(ep));
	ep.addr.sa.sa_family = AF_UNSPEC;
	ck_assert(!wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "");

	ck_assert(wg_endpoint_parse(&ep, "192.0.2.1:51820", 15));
	ck_assert(!wg_endpoint_format(&ep, buf, 15));	/* needs 16 */
	ck_assert_str_eq(buf, "");
	ck_assert(wg_endpoint_format(&ep, buf, 16));
	ck_assert_str_eq(buf, "192.0.2.1:51820");

	/* The longest text fits WG_ENDPOINT_TEXT_MAX. */
	ck_assert(wg_endpoint_parse(&ep, longest, strlen(longest)));
	ck_assert(wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%"
			      "4294967295]:65535");
}
END_TEST

static struct wg_endpoint ep_of(const char *text)
{
	struct wg_endpoint ep;

	ck_assert_msg(wg_endpoint_parse(&ep, text, strlen(text)), "%s", text);
	return ep;
}

START_TEST(test_equal)
{
	struct wg_endpoint a = ep_of("192.0.2.1:51820");
	struct wg_endpoint b = ep_of("192.0.2.1:51820");
	struct wg_endpoint none1, none2;

	ck_assert(wg_endpoint_equal(&a, &b));
	/* The local source is not part of the comparison. */
	b.has_src = true;
	b.src.v4.s_addr = htonl(0x0a000001);
	b.src_ifindex = 3;
	ck_assert(wg_endpoint_equal(&a, &b));

	b = ep_of("192.0.2.1:51821");
	ck_assert(!wg_endpoint_equal(&a, &b));
	b = ep_of("192.0.2.2:51820");
	ck_assert(!wg_endpoint_equal(&a, &b));
	b = ep_of("[::ffff:192.0.2.1]:51820");
	ck_assert(!wg_endpoint_equal(&a, &b));

	a = ep_of("[fe80::1%1]:1");
	b = ep_of("[fe80::1%2]:1");
	ck_assert(!wg_endpoint_equal(&a, &b));
	b = ep_of("[fe80::1%1]:1");
	ck_assert(wg_endpoint_equal(&a, &b));
	b = ep_of("[fe80::2%1]:1");
	ck_assert(!wg_endpoint_equal(&a, &b));

	ck_assert(!wg_endpoint_parse(&none1, "", 0));
	ck_assert(!wg_endpoint_parse(&none2, "x", 1));
	ck_assert(wg_endpoint_equal(&none1, &none2));
	ck_assert(!wg_endpoint_equal(&none1, &a));
}
END_TEST

START_TEST(test_cookie_bytes)
{
	unsigned char out[18];
	struct wg_endpoint ep = ep_of("192.0.2.1:51820");

	/* 192.0.2.1 = c0 00 02 01, 51820 = 0xca6c. */
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&ep, out), 6);
	ck_assert_hex_eq(out, 6, "c0000201ca6c");

	ep = ep_of("[2001:db8::1]:51820");
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&ep, out), 18);
	ck_assert_hex_eq(out, 18, "20010db8000000000000000000000001ca6c");

	ep = ep_of("10.1.2.3:1");
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&ep, out), 6);
	ck_assert_hex_eq(out, 6, "0a0102030001");

	ck_assert(!wg_endpoint_parse(&ep, "", 0));
	ck_assert_uint_eq(wg_endpoint_cookie_bytes(&ep, out), 0);
}
END_TEST

struct split_case {
	const char *in;
	const char *host;	/* NULL: refused */
	const char *port;
};

static const struct split_case split_table[] = {
	{ "vpn.example.com:51820", "vpn.example.com", "51820" },
	{ "[vpn.example.com]:51820", "vpn.example.com", "51820" },
	{ "[fe80::1%eth0]:51820", "fe80::1%eth0", "51820" },
	/* The last colon splits, as wg splits. */
	{ "a:b:c", "a:b", "c" },
	{ "host:wireguard", "host", "wireguard" },
	{ "host:", NULL, NULL },
	{ ":1", NULL, NULL },
	{ "host", NULL, NULL },
	{ "[]:1", NULL, NULL },
	{ "[x]", NULL, NULL },
	{ "[x]y:1", NULL, NULL },
	{ "[x:1", NULL, NULL },
	{ "", NULL, NULL },
};

START_TEST(test_split)
{
	const struct split_case *t = &split_table[_i];
	const char *host, *port;
	size_t hl, pl;
	bool ok = wg_endpoint_split(t->in, strlen(t->in), &host, &hl, &port,
				    &pl);

	ck_assert_msg(ok == (t->host != NULL), "%s", t->in);
	if (!ok)
		return;
	ck_assert_uint_eq(hl, strlen(t->host));
	ck_assert(memcmp(host, t->host, hl) == 0);
	ck_assert_uint_eq(pl, strlen(t->port));
	ck_assert(memcmp(port, t->port, pl) == 0);
}
END_TEST

START_TEST(test_from_sockaddr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(51820) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(7) };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct wg_endpoint ep;
	char buf[WG_ENDPOINT_TEXT_MAX];

	sin.sin_addr.s_addr = htonl(0xc0000201);
	ck_assert(wg_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin,
					    sizeof(sin)));
	ck_assert(wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "192.0.2.1:51820");
	ck_assert(!wg_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin,
					     sizeof(sin) - 1));

	ck_assert(inet_pton(AF_INET6, "2001:db8::5", &sin6.sin6_addr) == 1);
	ck_assert(wg_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sin6,
					    sizeof(sin6)));
	ck_assert(wg_endpoint_format(&ep, buf, sizeof(buf)));
	ck_assert_str_eq(buf, "[2001:db8::5]:7");

	ck_assert(!wg_endpoint_from_sockaddr(&ep, (struct sockaddr *)&sun,
					     sizeof(sun)));
	ck_assert_int_eq(ep.addr.sa.sa_family, AF_UNSPEC);
}
END_TEST

static Suite *endpoint_suite(void)
{
	Suite *s = suite_create("endpoint");
	TCase *tc = tcase_create("endpoint");

	tcase_add_loop_test(tc, test_parse_ok, 0,
			    sizeof(parse_ok_table) / sizeof(parse_ok_table[0]));
	tcase_add_loop_test(tc, test_parse_bad, 0,
			    sizeof(parse_bad_table) /
				    sizeof(parse_bad_table[0]));
	tcase_add_test(tc, test_parse_length_bounded);
	tcase_add_test(tc, test_format_limits);
	tcase_add_test(tc, test_equal);
	tcase_add_test(tc, test_cookie_bytes);
	tcase_add_loop_test(tc, test_split, 0,
			    sizeof(split_table) / sizeof(split_table[0]));
	tcase_add_test(tc, test_from_sockaddr);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(endpoint_suite)
