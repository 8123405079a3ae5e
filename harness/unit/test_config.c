/* SPDX-License-Identifier: MIT */
/*
 * The configuration model: lifetime of a config with every kind of member
 * (leaks show under the sanitizer build), growth of the peer array, the
 * allowed-IP prefix parser and formatter against a table, host-bit masking,
 * format detection on the seed files and edge cases, the text buffer, the
 * error record's key filter, and config equality.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "support.h"

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static struct wg_allowedip aip_of(const char *text, bool host_bits)
{
	struct wg_allowedip aip;

	ck_assert_msg(wg_allowedip_parse(&aip, text, strlen(text), host_bits),
		      "%s", text);
	return aip;
}

/* A config with something in every field that owns memory. */
static void fill(struct wg_config *cfg, size_t npeers)
{
	struct wg_allowedip aip = aip_of("10.0.0.0/24", false);

	cfg->flags = WG_DEVICE_HAS_PRIVATE_KEY;
	memset(cfg->private_key, 0x11, WG_KEY_LEN);
	for (size_t i = 0; i < npeers; i++) {
		struct wg_config_peer *peer = wg_config_add_peer(cfg);

		ck_assert_ptr_nonnull(peer);
		memset(peer->public_key, (int)(i & 0xff), WG_KEY_LEN);
		memset(peer->preshared_key, 0x22, WG_KEY_LEN);
		peer->flags = WG_PEER_HAS_PRESHARED_KEY;
		peer->endpoint_host = strdup("vpn.example.com:51820");
		ck_assert_ptr_nonnull(peer->endpoint_host);
		for (int j = 0; j < 5; j++)
			ck_assert_int_eq(wg_config_peer_add_allowedip(peer,
								      &aip),
					 0);
	}
	ck_assert_int_eq(wg_config_add_address(cfg, &aip), 0);
	ck_assert_int_eq(wg_strlist_add(&cfg->quick.dns, "1.1.1.1", 7), 0);
	ck_assert_int_eq(wg_strlist_add(&cfg->quick.post_up, "echo up", 7), 0);
	ck_assert_int_eq(wg_strlist_add(&cfg->quick.pre_up, "a", 1), 0);
	ck_assert_int_eq(wg_strlist_add(&cfg->quick.pre_down, "b", 1), 0);
	ck_assert_int_eq(wg_strlist_add(&cfg->quick.post_down, "c", 1), 0);
	cfg->quick.table = strdup("off");
	ck_assert_ptr_nonnull(cfg->quick.table);
}

START_TEST(test_init_clear)
{
	struct wg_config cfg;

	memset(&cfg, 0xa5, sizeof(cfg));
	wg_config_init(&cfg);
	ck_assert(all_zero(&cfg, sizeof(cfg)));
	/* Clearing an empty config is fine, and so is clearing twice. */
	wg_config_clear(&cfg);
	wg_config_clear(&cfg);

	fill(&cfg, 3);
	ck_assert_uint_eq(cfg.n_peers, 3);
	ck_assert_uint_eq(cfg.peers[2].n_allowedips, 5);
	ck_assert_str_eq(cfg.quick.dns.items[0], "1.1.1.1");
	wg_config_clear(&cfg);
	/* Everything, keys included, is gone. */
	ck_assert(all_zero(&cfg, sizeof(cfg)));
}
END_TEST

START_TEST(test_add_peer_growth)
{
	struct wg_config cfg;

	wg_config_init(&cfg);
	for (size_t i = 0; i < 1000; i++) {
		struct wg_config_peer *peer = wg_config_add_peer(&cfg);

		ck_assert_ptr_nonnull(peer);
		ck_assert_ptr_eq(peer, &cfg.peers[i]);
		ck_assert_int_eq(peer->endpoint.addr.sa.sa_family, AF_UNSPEC);
		ck_assert_uint_eq(peer->flags, 0);
		ck_assert_ptr_null(peer->allowedips);
		ck_assert(all_zero(peer->preshared_key, WG_KEY_LEN));
		peer->persistent_keepalive = (uint16_t)i;
		memset(peer->preshared_key, 0x33, WG_KEY_LEN);
	}
	ck_assert_uint_eq(cfg.n_peers, 1000);
	ck_assert_uint_ge(cfg.peers_cap, 1000);
	/* Moves kept every peer's contents. */
	for (size_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(cfg.peers[i].persistent_keepalive, i);
	wg_config_clear(&cfg);
}
END_TEST

struct aip_case {
	const char *in;
	bool host_bits;		/* allow_host_bits */
	bool ok;
	int family;
	unsigned int cidr;
	const char *out;	/* formatted */
};

static const struct aip_case aip_table[] = {
	{ "10.0.0.0/24", false, true, AF_INET, 24, "10.0.0.0/24" },
	{ "10.0.0.2/32", false, true, AF_INET, 32, "10.0.0.2/32" },
	{ "0.0.0.0/0", false, true, AF_INET, 0, "0.0.0.0/0" },
	{ "10.0.0.3", false, true, AF_INET, 32, "10.0.0.3/32" },
	{ "10.240.0.0/16", false, true, AF_INET, 16, "10.240.0.0/16" },
	{ "10.0.0.0/024", false, true, AF_INET, 24, "10.0.0.0/24" },
	{ "::/0", false, true, AF_INET6, 0, "::/0" },
	{ "fd00::/64", false, true, AF_INET6, 64, "fd00::/64" },
	{ "FD00:0:0:0::1", false, true, AF_INET6, 128, "fd00::1/128" },
	{ "2001:db8::/32", false, true, AF_INET6, 32, "2001:db8::/32" },
	{ "::ffff:10.0.0.0/104", false, true, AF_INET6, 104,
	  "::ffff:10.0.0.0/104" },
	{ "fe80::1/128", false, true, AF_INET6, 128, "fe80::1/128" },
	/* Host bits: kept when allowed (Address=), refused otherwise. */
	{ "10.0.0.1/24", true, true, AF_INET, 24, "10.0.0.1/24" },
	{ "10.0.0.1/24", false, false, 0, 0, NULL },
	{ "10.0.0.128/25", false, true, AF_INET, 25, "10.0.0.128/25" },
	{ "10.0.0.129/25", false, false, 0, 0, NULL },
	{ "10.0.0.1/0", false, false, 0, 0, NULL },
	{ "fd00::1/64", true, true, AF_INET6, 64, "fd00::1/64" },
	{ "fd00::1/64", false, false, 0, 0, NULL },
	{ "fd00:0:0:0:8000::/65", false, true, AF_INET6, 65,
	  "fd00::8000:0:0:0/65" },
	{ "fd00:0:0:0:8000::/64", false, false, 0, 0, NULL },
	/* Range and syntax. */
	{ "10.0.0.0/33", true, false, 0, 0, NULL },
	{ "::/129", true, false, 0, 0, NULL },
	{ "10.0.0.0/", true, false, 0, 0, NULL },
	{ "10.0.0.0/-1", true, false, 0, 0, NULL },
	{ "10.0.0.0/+8", true, false, 0, 0, NULL },
	{ "10.0.0.0/0008", true, false, 0, 0, NULL },
	{ "10.0.0.0/8/8", true, false, 0, 0, NULL },
	{ "10.0.0.0 /8", true, false, 0, 0, NULL },
	{ "/8", true, false, 0, 0, NULL },
	{ "", true, false, 0, 0, NULL },
	{ "10.0.0/8", true, false, 0, 0, NULL },
	{ "10.0.0.256/32", true, false, 0, 0, NULL },
	{ "fe80::1%1/128", true, false, 0, 0, NULL },
	{ "example.com/32", true, false, 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8:9/128", true, false, 0, 0, NULL },
};

START_TEST(test_allowedip_table)
{
	const struct aip_case *t = &aip_table[_i];
	struct wg_allowedip aip;
	char buf[WG_ALLOWEDIP_TEXT_MAX];
	bool ok = wg_allowedip_parse(&aip, t->in, strlen(t->in), t->host_bits);

	ck_assert_msg(ok == t->ok, "%s: %d", t->in, ok);
	if (!ok)
		return;
	ck_assert_int_eq(aip.family, t->family);
	ck_assert_uint_eq(aip.cidr, t->cidr);
	ck_assert(!aip.remove);
	wg_allowedip_format(&aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, t->out);
}
END_TEST

START_TEST(test_allowedip_bytes)
{
	struct wg_allowedip aip = aip_of("192.0.2.0/24", false);

	ck_assert_hex_eq(aip.addr, 16, "c0000200000000000000000000000000");
	aip = aip_of("2001:db8::1", false);
	ck_assert_hex_eq(aip.addr, 16, "20010db8000000000000000000000001");
	/* Only len bytes are read. */
	ck_assert(wg_allowedip_parse(&aip, "10.0.0.0/8xyz", 10, false));
	ck_assert_uint_eq(aip.cidr, 8);
	ck_assert(!wg_allowedip_parse(&aip, "10.0.0.0\0/8", 11, true));
}
END_TEST

START_TEST(test_allowedip_mask)
{
	struct wg_allowedip aip = aip_of("10.1.2.3/12", true);
	char buf[WG_ALLOWEDIP_TEXT_MAX];

	ck_assert(wg_allowedip_mask(&aip));
	wg_allowedip_format(&aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.0/12");
	ck_assert(!wg_allowedip_mask(&aip));

	aip = aip_of("2001:db8:ffff:ffff::1/35", true);
	ck_assert(wg_allowedip_mask(&aip));
	wg_allowedip_format(&aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "2001:db8:e000::/35");

	aip = aip_of("255.255.255.255/0", true);
	ck_assert(wg_allowedip_mask(&aip));
	ck_assert(all_zero(aip.addr, sizeof(aip.addr)));

	aip = aip_of("255.255.255.255/32", true);
	ck_assert(!wg_allowedip_mask(&aip));
	ck_assert_hex_eq(aip.addr, 4, "ffffffff");

	/* Every prefix length of an all-ones address. */
	for (unsigned int cidr = 0; cidr <= 128; cidr++) {
		memset(&aip, 0, sizeof(aip));
		aip.family = AF_INET6;
		aip.cidr = (uint8_t)cidr;
		memset(aip.addr, 0xff, 16);
		ck_assert(wg_allowedip_mask(&aip) == (cidr < 128));
		for (unsigned int bit = 0; bit < 128; bit++) {
			bool set = aip.addr[bit / 8] & (0x80 >> (bit % 8));

			ck_assert_msg(set == (bit < cidr), "/%u bit %u", cidr,
				      bit);
		}
	}
}
END_TEST

START_TEST(test_allowedip_format_small)
{
	struct wg_allowedip aip = aip_of("10.0.0.0/24", false);
	char buf[8];

	memset(buf, 'x', sizeof(buf));
	wg_allowedip_format(&aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10.0.0.");	/* truncated, terminated */
	memset(&aip, 0, sizeof(aip));
	wg_allowedip_format(&aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_strlist)
{
	struct wg_strlist list = { 0 };

	for (int i = 0; i < 100; i++) {
		char item[16];
		int n = snprintf(item, sizeof(item), "item %d", i);

		ck_assert_int_eq(wg_strlist_add(&list, item, (size_t)n), 0);
	}
	ck_assert_uint_eq(list.len, 100);
	ck_assert_str_eq(list.items[0], "item 0");
	ck_assert_str_eq(list.items[99], "item 99");
	/* Copies exactly len bytes. */
	ck_assert_int_eq(wg_strlist_add(&list, "abcdef", 3), 0);
	ck_assert_str_eq(list.items[100], "abc");
	wg_strlist_clear(&list);
	ck_assert_uint_eq(list.len, 0);
	ck_assert_ptr_null(list.items);
}
END_TEST

struct detect_case {
	const char *text;
	enum wg_config_format want;
};

static const struct detect_case detect_table[] = {
	{ "[Interface]\nPrivateKey = x\n", WG_CONFIG_FORMAT_INI },
	{ "\n\n  # comment\n\t[Peer]\n", WG_CONFIG_FORMAT_INI },
	{ "# set=1\n[interface]\n", WG_CONFIG_FORMAT_INI },
	{ "[Whatever]\n", WG_CONFIG_FORMAT_INI },
	{ "set=1\nprivate_key=00\n", WG_CONFIG_FORMAT_UAPI },
	{ "\r\nset=1\r\n", WG_CONFIG_FORMAT_UAPI },
	{ "set=1", WG_CONFIG_FORMAT_UAPI },
	{ "private_key=abc\n", WG_CONFIG_FORMAT_UAPI },
	{ "listen_port=51820\n", WG_CONFIG_FORMAT_UAPI },
	{ "fwmark=0\n", WG_CONFIG_FORMAT_UAPI },
	{ "replace_peers=true\n", WG_CONFIG_FORMAT_UAPI },
	{ "public_key=abc\n", WG_CONFIG_FORMAT_UAPI },
	{ "allowed_ip=10.0.0.0/8\n", WG_CONFIG_FORMAT_UAPI },
	{ "", WG_CONFIG_FORMAT_UNKNOWN },
	{ "\n \n# only comments\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "PrivateKey = x\n[Interface]\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "Private_Key=x\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "set=2\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "get=1\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "listen_port\n", WG_CONFIG_FORMAT_UNKNOWN },
	{ "hello\n[Interface]\n", WG_CONFIG_FORMAT_UNKNOWN },
};

START_TEST(test_detect_table)
{
	const struct detect_case *t = &detect_table[_i];

	ck_assert_msg(wg_config_detect(t->text, strlen(t->text)) == t->want,
		      "row %d", _i);
}
END_TEST

START_TEST(test_detect_seed)
{
	size_t len;
	char *text = read_fixture("seed/boringtun.conf", &len);

	ck_assert_int_eq(wg_config_detect(text, len), WG_CONFIG_FORMAT_UAPI);
	free(text);
	text = read_fixture("seed/nanoswg.conf", &len);
	ck_assert_int_eq(wg_config_detect(text, len), WG_CONFIG_FORMAT_INI);
	free(text);
	text = read_fixture("seed/utun2.conf", &len);
	ck_assert_int_eq(wg_config_detect(text, len), WG_CONFIG_FORMAT_INI);
	free(text);
	/* Only len bytes are looked at. */
	ck_assert_int_eq(wg_config_detect("set=1", 4),
			 WG_CONFIG_FORMAT_UNKNOWN);
}
END_TEST

START_TEST(test_buf)
{
	struct wg_buf b = { 0 };
	char big[1000];

	wg_buf_printf(&b, "%s=%u\n", "listen_port", 51820u);
	ck_assert_str_eq(b.data, "listen_port=51820\n");
	ck_assert_uint_eq(b.len, 18);
	wg_buf_append(&b, "abc", 2);
	ck_assert_str_eq(b.data, "listen_port=51820\nab");
	/* Growth across several doublings keeps the contents. */
	memset(big, 'z', sizeof(big));
	for (int i = 0; i < 20; i++)
		wg_buf_append(&b, big, sizeof(big));
	ck_assert_uint_eq(b.len, 20 + 20 * sizeof(big));
	ck_assert(b.cap > b.len);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert(memcmp(b.data, "listen_port=51820\nabzzz", 23) == 0);
	ck_assert(!b.oom);
	wg_buf_printf(&b, "%0500d", 7);
	ck_assert_uint_eq(b.len, 20 + 20 * sizeof(big) + 500);
	ck_assert_int_eq(b.data[b.len - 1], '7');

	/* Once out of memory, nothing more is added. */
	size_t had = b.len;

	b.oom = true;
	wg_buf_printf(&b, "more");
	wg_buf_append(&b, "more", 4);
	ck_assert_uint_eq(b.len, had);
	wg_buf_clear(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	ck_assert(!b.oom);

	/* An empty append still leaves a terminated string. */
	wg_buf_append(&b, "", 0);
	ck_assert_ptr_nonnull(b.data);
	ck_assert_str_eq(b.data, "");
	wg_buf_clear(&b);
}
END_TEST

START_TEST(test_parse_error_set)
{
	struct wg_parse_error err;
	/* A base64 key where a name belongs is not echoed. */
	const char *b64 = "OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI";

	wg_parse_error_set(&err, 7, "ListenPort", 10, "bad %s", "port");
	ck_assert_uint_eq(err.line, 7);
	ck_assert_str_eq(err.key, "ListenPort");
	ck_assert_str_eq(err.message, "bad port");

	wg_parse_error_set(&err, 1, b64, strlen(b64), "x");
	ck_assert_str_eq(err.key, "");
	wg_parse_error_set(&err, 1, "a+b", 3, "x");
	ck_assert_str_eq(err.key, "");
	/* 31 characters fit, 32 do not. */
	wg_parse_error_set(&err, 1, "abcdefghij_bcdefghij_bcdefghij12", 32,
			   "x");
	ck_assert_str_eq(err.key, "");
	wg_parse_error_set(&err, 1, "abcdefghij_bcdefghij_bcdefghij12", 31,
			   "x");
	ck_assert_str_eq(err.key, "abcdefghij_bcdefghij_bcdefghij1");
	/* A run of 24 letters and digits may be a piece of a key; 23 is
	 * shown. */
	wg_parse_error_set(&err, 1, "a_bcdefghijabcdefghijabcd1", 26, "x");
	ck_assert_str_eq(err.key, "");
	wg_parse_error_set(&err, 1, "a_bcdefghijabcdefghijabc1", 25, "x");
	ck_assert_str_eq(err.key, "a_bcdefghijabcdefghijabc1");
	wg_parse_error_set(&err, 1, "Listen Port", 11, "x");
	ck_assert_str_eq(err.key, "Listen Port");
	wg_parse_error_set(&err, 1, "[Peers]", 7, "x");
	ck_assert_str_eq(err.key, "[Peers]");
	wg_parse_error_set(&err, 2, NULL, 0, "%s", "no key");
	ck_assert_str_eq(err.key, "");
	ck_assert_str_eq(err.message, "no key");
	wg_parse_error_set(NULL, 1, "x", 1, "ignored");
}
END_TEST

/* Never empty quotes: a value is shown whole, by its start and length,
 * or by its length alone when it may hold a key or is unprintable. */
START_TEST(test_quote)
{
	char buf[WG_QUOTE_SIZE], text[512];
	const char *b64 = "OKrznnAWZhskqHMx9F0JD46pMZWWEkeWqdyFK1PGVXI=";

	ck_assert_str_eq(wg_quote(buf, "51820x", 6), "`51820x'");
	ck_assert_str_eq(wg_quote(buf, "", 0), "`'");
	/* WG_QUOTE_MAX characters are shown whole, one more is cut. */
	memset(text, 'a', sizeof(text));
	for (size_t i = 0; i < sizeof(text); i += 4)
		text[i] = '.';
	ck_assert_uint_eq(strlen(wg_quote(buf, text, WG_QUOTE_MAX)),
			  WG_QUOTE_MAX + 2);
	ck_assert_str_eq(wg_quote(buf, text, WG_QUOTE_MAX + 1),
			 "`.aaa.aaa.aaa.aaa.aaa.aaa...' (41 characters)");
	ck_assert_str_eq(wg_quote(buf, text, 500),
			 "`.aaa.aaa.aaa.aaa.aaa.aaa...' (500 characters)");
	ck_assert_str_eq(WG_QUOTE(text, 300),
			 "`.aaa.aaa.aaa.aaa.aaa.aaa...' (300 characters)");
	/* A key, short or long, is never quoted, not even its start. */
	ck_assert_str_eq(wg_quote(buf, b64, strlen(b64)),
			 "a value of 44 characters (not shown: it may hold a "
			 "key)");
	snprintf(text, sizeof(text), "host.example.%s.example:1", b64);
	ck_assert_str_eq(wg_quote(buf, text, strlen(text)),
			 "a value of 67 characters (not shown: it may hold a "
			 "key)");
	ck_assert_str_eq(wg_quote(buf, "a\tb", 3),
			 "a value of 3 bytes (not shown: not printable)");
}
END_TEST

START_TEST(test_equal)
{
	struct wg_config a, b;

	wg_config_init(&a);
	wg_config_init(&b);
	fill(&a, 2);
	fill(&b, 2);
	ck_assert(wg_config_equal(&a, &b));

	/* What is not part of the change is not compared. */
	b.peers[0].line = 99;
	b.peers[0].rx_bytes = 5;
	b.peers[0].flags |= WG_PEER_HAS_STATS;
	wg_strlist_clear(&b.quick.dns);
	ck_assert(wg_config_equal(&a, &b));

	b.peers[1].preshared_key[31] ^= 1;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[1].preshared_key[31] ^= 1;
	b.peers[1].public_key[0] ^= 1;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[1].public_key[0] ^= 1;
	b.private_key[5] ^= 1;
	ck_assert(!wg_config_equal(&a, &b));
	b.private_key[5] ^= 1;
	b.peers[1].allowedips[4].cidr = 25;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[1].allowedips[4].cidr = 24;
	b.peers[1].allowedips[4].remove = true;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[1].allowedips[4].remove = false;
	b.peers[1].n_allowedips--;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[1].n_allowedips++;
	b.peers[0].flags |= WG_PEER_HAS_KEEPALIVE;
	ck_assert(!wg_config_equal(&a, &b));
	a.peers[0].flags |= WG_PEER_HAS_KEEPALIVE;
	ck_assert(wg_config_equal(&a, &b));
	b.peers[0].persistent_keepalive = 25;
	ck_assert(!wg_config_equal(&a, &b));
	b.peers[0].persistent_keepalive = 0;
	a.flags |= WG_DEVICE_HAS_LISTEN_PORT;
	b.flags |= WG_DEVICE_HAS_LISTEN_PORT;
	b.listen_port = 1;
	ck_assert(!wg_config_equal(&a, &b));
	b.listen_port = 0;
	ck_assert(wg_config_equal(&a, &b));
	ck_assert_ptr_nonnull(wg_config_add_peer(&b));
	ck_assert(!wg_config_equal(&a, &b));

	wg_config_clear(&a);
	wg_config_clear(&b);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	if (!wg_crypto_init())
		abort();
	tcase_add_test(tc, test_init_clear);
	tcase_add_test(tc, test_add_peer_growth);
	tcase_add_loop_test(tc, test_allowedip_table, 0,
			    sizeof(aip_table) / sizeof(aip_table[0]));
	tcase_add_test(tc, test_allowedip_bytes);
	tcase_add_test(tc, test_allowedip_mask);
	tcase_add_test(tc, test_allowedip_format_small);
	tcase_add_test(tc, test_strlist);
	tcase_add_loop_test(tc, test_detect_table, 0,
			    sizeof(detect_table) / sizeof(detect_table[0]));
	tcase_add_test(tc, test_detect_seed);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_parse_error_set);
	tcase_add_test(tc, test_quote);
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(config_suite)
