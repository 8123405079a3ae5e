/* SPDX-License-Identifier: MIT */
/*
 * The UAPI text protocol: the seed's boringtun.conf against the seed's
 * nanoswg.conf (the same config in the other format), round trips through
 * the set emitter, texts that normalise, a table with a row for every way a
 * set line can be refused (errno, line and key), the push interface line by
 * line, and the exact text of a get answer and an errno answer.
 */
#include "uapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "support.h"
#include "wgconf.h"

#define K1 "38aaf39e7016661b24a87331f45d090f8ea9319596124796a9dc852b53c65572"
#define K2 "e9209666e4ff90ef10d82e8bdf29cbd8ae7cdd8715b86ec5c283221fbc6ba45b"
#define K3 "e43029285a82aea0c4dbf3cc47edf120c1c5c0605d82eab65caeca68ad33cb55"
#define K4 "0101010101010101010101010101010101010101010101010101010101010101"
#define KZ "0000000000000000000000000000000000000000000000000000000000000000"

static int parse(const char *text, struct wg_config *cfg,
		 struct wg_parse_error *err)
{
	wg_config_init(cfg);
	return wg_uapi_parse_set(text, strlen(text), cfg, err);
}

/* emit_set of cfg, as a malloc'd string. */
static char *emit_set(const struct wg_config *cfg)
{
	struct wg_buf b = { 0 };
	char *s;

	wg_uapi_emit_set(&b, cfg);
	ck_assert(!b.oom);
	s = strdup(b.data);
	ck_assert_ptr_nonnull(s);
	wg_buf_clear(&b);
	return s;
}

START_TEST(test_seed_uapi)
{
	size_t len;
	char *text = read_fixture("seed/boringtun.conf", &len);
	struct wg_config cfg;
	struct wg_parse_error err;
	char *out;

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_uapi_parse_set(text, len, &cfg, &err), 0);
	ck_assert_uint_eq(cfg.flags, WG_DEVICE_HAS_PRIVATE_KEY |
					     WG_DEVICE_HAS_LISTEN_PORT |
					     WG_DEVICE_HAS_FWMARK |
					     WG_DEVICE_REPLACE_PEERS);
	ck_assert_hex_eq(cfg.private_key, WG_KEY_LEN, K1);
	ck_assert_uint_eq(cfg.listen_port, 51820);
	ck_assert_uint_eq(cfg.fwmark, 0);
	/* For a port or mark the system refuses later. */
	ck_assert_uint_eq(cfg.listen_port_line, 3);
	ck_assert_uint_eq(cfg.fwmark_line, 4);
	ck_assert_uint_eq(cfg.n_peers, 2);
	ck_assert_hex_eq(cfg.peers[0].public_key, WG_KEY_LEN, K2);
	ck_assert_hex_eq(cfg.peers[1].public_key, WG_KEY_LEN, K3);
	ck_assert_uint_eq(cfg.peers[0].line, 6);
	ck_assert_uint_eq(cfg.peers[1].line, 9);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(cfg.peers[i].flags,
				  WG_PEER_REPLACE_ALLOWEDIPS);
		ck_assert_uint_eq(cfg.peers[i].n_allowedips, 1);
		ck_assert_uint_eq(cfg.peers[i].allowedips[0].cidr, 32);
	}
	ck_assert_hex_eq(cfg.peers[1].allowedips[0].addr, 4, "0a000003");

	/* Emitting gives the file back, byte for byte. */
	out = emit_set(&cfg);
	ck_assert_str_eq(out, text);
	free(out);
	wg_config_clear(&cfg);
	free(text);
}
END_TEST

START_TEST(test_seed_both_formats)
{
	size_t ulen, ilen;
	char *utext = read_fixture("seed/boringtun.conf", &ulen);
	char *itext = read_fixture("seed/nanoswg.conf", &ilen);
	struct wg_config u, i;
	struct wg_parse_error err;

	wg_config_init(&u);
	wg_config_init(&i);
	ck_assert_int_eq(wg_uapi_parse_set(utext, ulen, &u, &err), 0);
	ck_assert_int_eq(wg_conf_parse(itext, ilen, &i, &err), 0);
	ck_assert(wg_config_equal(&u, &i));
	wg_config_clear(&u);
	wg_config_clear(&i);
	free(utext);
	free(itext);
}
END_TEST

/* Canonical texts: parsed and emitted, each comes back unchanged. */
static const char *const round_trips[] = {
	"set=1\n\n",
	"set=1\nprivate_key=" K1 "\n\n",
	"set=1\nprivate_key=" KZ "\nlisten_port=0\nfwmark=0\n\n",
	"set=1\nlisten_port=65535\nfwmark=4294967295\nreplace_peers=true\n\n",
	"set=1\nfwmark=51820\n\n",
	"set=1\npublic_key=" K2 "\n\n",
	"set=1\nprivate_key=" K1 "\nlisten_port=51820\nfwmark=0\n"
	"replace_peers=true\npublic_key=" K2 "\npreshared_key=" K4 "\n"
	"endpoint=192.0.2.1:51820\npersistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\nallowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::2/128\n\n",
	"set=1\npublic_key=" K2 "\nendpoint=[2001:db8::1]:51820\n\n",
	"set=1\npublic_key=" K2 "\nendpoint=[::ffff:192.0.2.1]:1\n\n",
	"set=1\npublic_key=" K2 "\nendpoint=[fe80::1%3]:51820\n\n",
	"set=1\npublic_key=" K2 "\nendpoint=0.0.0.0:0\n\n",
	"set=1\npublic_key=" K2 "\npreshared_key=" KZ "\n"
	"persistent_keepalive_interval=0\n\n",
	"set=1\npublic_key=" K2 "\npersistent_keepalive_interval=65535\n\n",
	"set=1\npublic_key=" K2 "\nremove=true\npublic_key=" K3 "\n"
	"update_only=true\nendpoint=[2001:db8::2]:2\n\n",
	"set=1\npublic_key=" K2 "\nupdate_only=true\n"
	"allowed_ip=-10.0.0.0/24\nallowed_ip=10.1.0.0/16\n"
	"allowed_ip=-::/0\nallowed_ip=0.0.0.0/0\n\n",
	"set=1\npublic_key=" K2 "\nreplace_allowed_ips=true\n"
	"public_key=" K2 "\nallowed_ip=10.0.0.0/8\n\n",
	"set=1\nreplace_peers=true\npublic_key=" K2 "\n"
	"replace_allowed_ips=true\npublic_key=" K3 "\n"
	"replace_allowed_ips=true\npublic_key=" K4 "\n"
	"endpoint=203.0.113.7:51820\nreplace_allowed_ips=true\n"
	"allowed_ip=10.0.0.4/32\nallowed_ip=2001:db8:1::/48\n\n",
};

START_TEST(test_round_trip)
{
	const char *text = round_trips[_i];
	struct wg_config a, b;
	struct wg_parse_error err;
	char *out;

	ck_assert_msg(parse(text, &a, &err) == 0, "row %d: %u %s: %s", _i,
		      err.line, err.key, err.message);
	out = emit_set(&a);
	ck_assert_str_eq(out, text);
	ck_assert_int_eq(parse(out, &b, &err), 0);
	ck_assert(wg_config_equal(&a, &b));
	free(out);
	wg_config_clear(&a);
	wg_config_clear(&b);
}
END_TEST

struct normalise_case {
	const char *in;
	const char *out;
};

static const struct normalise_case normalise_table[] = {
	/* "set=1" is optional, the blank line too. */
	{ "listen_port=1\n", "set=1\nlisten_port=1\n\n" },
	{ "listen_port=1", "set=1\nlisten_port=1\n\n" },
	{ "", "set=1\n\n" },
	/* Line ends of either kind. */
	{ "set=1\r\nlisten_port=1\r\n\r\n", "set=1\nlisten_port=1\n\n" },
	/* Blank lines may follow the end. */
	{ "set=1\nlisten_port=1\n\n\n\r\n", "set=1\nlisten_port=1\n\n" },
	/* Numbers with leading zeros, hex in capitals. */
	{ "listen_port=051820\nfwmark=007\n",
	  "set=1\nlisten_port=51820\nfwmark=7\n\n" },
	{ "private_key=38AAF39E7016661B24A87331F45D090F8EA9319596124796A9DC852"
	  "B53C65572\n",
	  "set=1\nprivate_key=" K1 "\n\n" },
	/* Host bits are cleared, as a device clears them. */
	{ "public_key=" K2 "\nallowed_ip=10.0.0.1/24\n"
	  "allowed_ip=-fd00::1/64\n",
	  "set=1\npublic_key=" K2 "\nallowed_ip=10.0.0.0/24\n"
	  "allowed_ip=-fd00::/64\n\n" },
	/* Addresses in their printed form. */
	{ "public_key=" K2 "\nendpoint=[2001:DB8:0:0::1]:00080\n"
	  "allowed_ip=2001:DB8::/32\n",
	  "set=1\npublic_key=" K2 "\nendpoint=[2001:db8::1]:80\n"
	  "allowed_ip=2001:db8::/32\n\n" },
	/* protocol_version is checked, not kept; the emitter's order wins. */
	{ "public_key=" K2 "\nallowed_ip=10.0.0.0/8\nprotocol_version=1\n"
	  "replace_allowed_ips=true\npersistent_keepalive_interval=5\n"
	  "endpoint=192.0.2.1:1\npreshared_key=" K4 "\nupdate_only=true\n",
	  "set=1\npublic_key=" K2 "\nupdate_only=true\npreshared_key=" K4 "\n"
	  "endpoint=192.0.2.1:1\npersistent_keepalive_interval=5\n"
	  "replace_allowed_ips=true\nallowed_ip=10.0.0.0/8\n\n" },
	/* A peer to remove is only removed. */
	{ "public_key=" K2 "\nendpoint=192.0.2.1:1\nremove=true\n"
	  "allowed_ip=10.0.0.0/8\n",
	  "set=1\npublic_key=" K2 "\nremove=true\n\n" },
	/* The last value of a key wins, as on the reference server. */
	{ "listen_port=1\nlisten_port=2\npublic_key=" K2 "\n"
	  "endpoint=192.0.2.1:1\nendpoint=192.0.2.2:2\n",
	  "set=1\nlisten_port=2\npublic_key=" K2 "\nendpoint=192.0.2.2:2\n\n" },
};

START_TEST(test_normalise)
{
	const struct normalise_case *t = &normalise_table[_i];
	struct wg_config cfg;
	struct wg_parse_error err;
	char *out;

	ck_assert_msg(parse(t->in, &cfg, &err) == 0, "row %d: %u %s: %s", _i,
		      err.line, err.key, err.message);
	out = emit_set(&cfg);
	ck_assert_str_eq(out, t->out);
	free(out);
	wg_config_clear(&cfg);
}
END_TEST

struct error_case {
	const char *text;
	int ret;
	unsigned int line;
	const char *key;
};

#define P "set=1\npublic_key=" K2 "\n"	/* a peer begun at line 2 */

static const struct error_case error_table[] = {
	/* Protocol errors. */
	{ "set=1\nlisten_port\n", -EPROTO, 2, "" },
	{ "set=1\n" K1 "\n", -EPROTO, 2, "" },
	{ "set=1\nlisten_port=1\n\nlisten_port=2\n", -EPROTO, 4, "" },
	{ "set=1\n\nx\n", -EPROTO, 3, "" },
	/* Device keys. */
	{ "set=1\nprivate_key=\n", -EINVAL, 2, "private_key" },
	{ "set=1\nprivate_key=" K1 "0\n", -EINVAL, 2, "private_key" },
	{ "set=1\nprivate_key=38aaf39e\n", -EINVAL, 2, "private_key" },
	{ "set=1\nprivate_key=x8aaf39e7016661b24a87331f45d090f8ea9319596124796"
	  "a9dc852b53c65572\n", -EINVAL, 2, "private_key" },
	{ "set=1\nprivate_key= " K1 "\n", -EINVAL, 2, "private_key" },
	{ "set=1\nlisten_port=\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=65536\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=-1\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=+1\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port= 1\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=1 \n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=0x10\n", -EINVAL, 2, "listen_port" },
	{ "set=1\nlisten_port=99999999999999999999999\n", -EINVAL, 2,
	  "listen_port" },
	{ "set=1\nfwmark=4294967296\n", -EINVAL, 2, "fwmark" },
	{ "set=1\nfwmark=off\n", -EINVAL, 2, "fwmark" },
	{ "set=1\nfwmark=\n", -EINVAL, 2, "fwmark" },
	{ "set=1\nreplace_peers=false\n", -EINVAL, 2, "replace_peers" },
	{ "set=1\nreplace_peers=TRUE\n", -EINVAL, 2, "replace_peers" },
	{ "set=1\nreplace_peers=\n", -EINVAL, 2, "replace_peers" },
	{ "set=1\nfoo=bar\n", -EINVAL, 2, "foo" },
	{ "set=1\nListen_Port=1\n", -EINVAL, 2, "Listen_Port" },
	{ "set=1\n listen_port=1\n", -EINVAL, 2, " listen_port" },
	{ "set=1\n=1\n", -EINVAL, 2, "" },
	{ "set=1\nset=1\n", -EINVAL, 2, "set" },
	{ "get=1\n", -EINVAL, 1, "get" },
	{ "set=1\nerrno=0\n", -EINVAL, 2, "errno" },
	/* A key pasted where a name belongs is not echoed. */
	{ "set=1\n" K1 "=1\n", -EINVAL, 2, "" },
	/* Nor one pasted where a value belongs (found by fuzz_uapi). */
	{ "set=1\nfwmark=6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs=\n",
	  -EINVAL, 2, "fwmark" },
	{ P "endpoint=6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs=:1\n",
	  -EINVAL, 3, "endpoint" },
	/* Nor without its '=' (43 characters), nor a piece of one, in a
	 * value or in a name (found by the integration suite). */
	{ "set=1\nlisten_port=6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs\n",
	  -EINVAL, 2, "listen_port" },
	{ "set=1\nfwmark=6SCWZuT/kO8Q2C6L3ynL\n", -EINVAL, 2, "fwmark" },
	{ P "endpoint=6SCWZuTkO8Q2C6L3ynL2K:1\n", -EINVAL, 3, "endpoint" },
	{ "set=1\n6SCWZuT5kO8Q2C6L3ynL2K583YcV=1\n", -EINVAL, 2, "" },
	/* Peer keys before any peer. */
	{ "set=1\nendpoint=192.0.2.1:1\n", -EINVAL, 2, "endpoint" },
	{ "set=1\nallowed_ip=10.0.0.0/8\n", -EINVAL, 2, "allowed_ip" },
	{ "set=1\nremove=true\n", -EINVAL, 2, "remove" },
	{ "set=1\nprotocol_version=1\n", -EINVAL, 2, "protocol_version" },
	/* public_key. */
	{ "set=1\npublic_key=\n", -EINVAL, 2, "public_key" },
	{ "set=1\npublic_key=" K2 "00\n", -EINVAL, 2, "public_key" },
	{ "set=1\npublic_key=6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs=\n",
	  -EINVAL, 2, "public_key" },
	{ P "public_key=zz\n", -EINVAL, 3, "public_key" },
	/* Device keys once a peer has begun. */
	{ P "listen_port=1\n", -EINVAL, 3, "listen_port" },
	{ P "private_key=" K1 "\n", -EINVAL, 3, "private_key" },
	{ P "fwmark=1\n", -EINVAL, 3, "fwmark" },
	{ P "replace_peers=true\n", -EINVAL, 3, "replace_peers" },
	/* Peer keys. */
	{ P "remove=false\n", -EINVAL, 3, "remove" },
	{ P "remove=\n", -EINVAL, 3, "remove" },
	{ P "update_only=yes\n", -EINVAL, 3, "update_only" },
	{ P "preshared_key=\n", -EINVAL, 3, "preshared_key" },
	{ P "preshared_key=" K4 "01\n", -EINVAL, 3, "preshared_key" },
	{ P "endpoint=\n", -EINVAL, 3, "endpoint" },
	{ P "endpoint=vpn.example.com:51820\n", -EINVAL, 3, "endpoint" },
	{ P "endpoint=2001:db8::1:51820\n", -EINVAL, 3, "endpoint" },
	{ P "endpoint=192.0.2.1:65536\n", -EINVAL, 3, "endpoint" },
	{ P "endpoint=192.0.2.1\n", -EINVAL, 3, "endpoint" },
	{ P "endpoint=[fe80::1%eth0]:1\n", -EINVAL, 3, "endpoint" },
	{ P "persistent_keepalive_interval=65536\n", -EINVAL, 3,
	  "persistent_keepalive_interval" },
	{ P "persistent_keepalive_interval=-1\n", -EINVAL, 3,
	  "persistent_keepalive_interval" },
	{ P "persistent_keepalive_interval=\n", -EINVAL, 3,
	  "persistent_keepalive_interval" },
	{ P "persistent_keepalive_interval=off\n", -EINVAL, 3,
	  "persistent_keepalive_interval" },
	{ P "replace_allowed_ips=false\n", -EINVAL, 3, "replace_allowed_ips" },
	{ P "allowed_ip=\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=-\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=10.0.0.1\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=--10.0.0.0/8\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=+10.0.0.0/8\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=10.0.0.0/33\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=::/129\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=x/8\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=10.0.0.0/8 \n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=10.0.0.0/8,10.1.0.0/16\n", -EINVAL, 3, "allowed_ip" },
	{ P "allowed_ip=fe80::/64%1\n", -EINVAL, 3, "allowed_ip" },
	{ P "protocol_version=2\n", -EINVAL, 3, "protocol_version" },
	{ P "protocol_version=\n", -EINVAL, 3, "protocol_version" },
	{ P "bogus=1\n", -EINVAL, 3, "bogus" },
	{ P "endpoint=192.0.2.1:1\nallowed_ip=10.0.0.0/8\npublic_key=" K3 "\n"
	  "allowed_ip=10.0.0.0/x\n", -EINVAL, 6, "allowed_ip" },
};

START_TEST(test_errors)
{
	const struct error_case *t = &error_table[_i];
	struct wg_config cfg;
	struct wg_parse_error err;
	int ret = parse(t->text, &cfg, &err);

	ck_assert_msg(ret == t->ret, "row %d: got %d, want %d", _i, ret,
		      t->ret);
	ck_assert_uint_eq(err.line, t->line);
	ck_assert_str_eq(err.key, t->key);
	ck_assert_msg(err.message[0] != '\0', "row %d has no message", _i);
	/* No message quotes a key, in whatever case. */
	ck_assert_ptr_null(strstr(err.message, "38aaf39e"));
	ck_assert_ptr_null(strstr(err.message, "38AAF39E"));
	ck_assert_ptr_null(strstr(err.message, "e9209666"));
	ck_assert_ptr_null(strstr(err.message, "01010101"));
	ck_assert_ptr_null(strstr(err.message, "6SCWZuT"));
	wg_config_clear(&cfg);
}
END_TEST

/* What is no key is still quoted, so that a user sees what was wrong. */
START_TEST(test_errors_quote_plain_values)
{
	static const struct {
		const char *text;
		const char *quoted;
	} cases[] = {
		{ "set=1\nlisten_port=65536\n", "65536" },
		{ "set=1\nfwmark=off\n", "off" },
		{ P "endpoint=vpn.example.com:51820\n", "vpn.example.com" },
		{ P "allowed_ip=fe80::/64%1\n", "fe80::/64%1" },
		{ "set=1\nPersistentKeepalive=1\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wg_config cfg;
		struct wg_parse_error err;

		ck_assert_int_lt(parse(cases[i].text, &cfg, &err), 0);
		if (cases[i].quoted)
			ck_assert_msg(strstr(err.message, cases[i].quoted),
				      "case %zu: %s", i, err.message);
		else
			ck_assert_str_eq(err.key, "PersistentKeepalive");
		wg_config_clear(&cfg);
	}
}
END_TEST

START_TEST(test_push_lines)
{
	struct wg_config cfg;
	struct wg_uapi_parser p;

	wg_config_init(&cfg);
	wg_uapi_set_begin(&p, &cfg);
	ck_assert_int_eq(wg_uapi_set_line(&p, "set=1", 5), 0);
	ck_assert_ptr_null(p.peer);
	ck_assert_int_eq(wg_uapi_set_line(&p, "listen_port=7\r", 14), 0);
	ck_assert_uint_eq(cfg.listen_port, 7);
	/* Only len bytes count. */
	ck_assert_int_eq(wg_uapi_set_line(&p, "fwmark=12345", 8), 0);
	ck_assert_uint_eq(cfg.fwmark, 1);
	ck_assert_int_eq(wg_uapi_set_line(&p, "public_key=" K2, 75), 0);
	ck_assert_ptr_eq(p.peer, &cfg.peers[0]);
	ck_assert_uint_eq(p.peer->line, 4);
	ck_assert_int_eq(wg_uapi_set_line(&p, "public_key=" K3, 75), 0);
	ck_assert_ptr_eq(p.peer, &cfg.peers[1]);
	ck_assert_int_eq(wg_uapi_set_line(&p, "allowed_ip=10.0.0.0/8", 21), 0);
	ck_assert_uint_eq(cfg.peers[1].n_allowedips, 1);
	ck_assert_uint_eq(cfg.peers[0].n_allowedips, 0);
	ck_assert(!p.ended);
	ck_assert_int_eq(wg_uapi_set_line(&p, "", 0), 0);
	ck_assert(p.ended);
	ck_assert_int_eq(wg_uapi_set_line(&p, "\r", 1), 0);
	ck_assert_int_eq(wg_uapi_set_end(&p), 0);
	ck_assert_int_eq(wg_uapi_set_line(&p, "listen_port=8", 13), -EPROTO);
	ck_assert_uint_eq(p.err.line, 9);
	ck_assert_uint_eq(cfg.listen_port, 7);
	wg_config_clear(&cfg);

	/* "set=1" is skipped on the first line only. */
	wg_config_init(&cfg);
	wg_uapi_set_begin(&p, &cfg);
	ck_assert_int_eq(wg_uapi_set_line(&p, "listen_port=1", 13), 0);
	ck_assert_int_eq(wg_uapi_set_line(&p, "set=1", 5), -EINVAL);
	ck_assert_str_eq(p.err.key, "set");
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_no_error_record)
{
	struct wg_config cfg;

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_uapi_parse_set("x\n", 2, &cfg, NULL), -EPROTO);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_emit_unresolved_endpoint)
{
	struct wg_config cfg;
	struct wg_config_peer *peer;
	char *out;

	wg_config_init(&cfg);
	peer = wg_config_add_peer(&cfg);
	ck_assert_ptr_nonnull(peer);
	hex_decode(peer->public_key, WG_KEY_LEN, K2);
	peer->endpoint_host = strdup("vpn.example.com:51820");
	peer->flags = WG_PEER_HAS_ENDPOINT_HOST;
	out = emit_set(&cfg);
	ck_assert_str_eq(out, "set=1\npublic_key=" K2 "\n\n");
	free(out);
	wg_config_clear(&cfg);
}
END_TEST

static void add_aip(struct wg_config_peer *peer, const char *text, bool rm)
{
	struct wg_allowedip aip;

	ck_assert(wg_allowedip_parse(&aip, text, strlen(text), false));
	aip.remove = rm;
	ck_assert_int_eq(wg_config_peer_add_allowedip(peer, &aip), 0);
}

START_TEST(test_emit_get)
{
	struct wg_config cfg;
	struct wg_config_peer *peer;
	struct wg_buf b = { 0 };
	const char *want =
		"private_key=" K1 "\n"
		"listen_port=51820\n"
		"public_key=" K2 "\n"
		"preshared_key=" K4 "\n"
		"protocol_version=1\n"
		"endpoint=[2001:db8::1]:51820\n"
		"last_handshake_time_sec=1700000000\n"
		"last_handshake_time_nsec=123456789\n"
		"tx_bytes=18446744073709551615\n"
		"rx_bytes=92\n"
		"persistent_keepalive_interval=25\n"
		"allowed_ip=10.0.0.2/32\n"
		"allowed_ip=fd00::/64\n"
		"public_key=" K3 "\n"
		"preshared_key=" KZ "\n"
		"protocol_version=1\n"
		"last_handshake_time_sec=0\n"
		"last_handshake_time_nsec=0\n"
		"tx_bytes=0\n"
		"rx_bytes=0\n"
		"persistent_keepalive_interval=0\n"
		"errno=0\n\n";

	wg_config_init(&cfg);
	cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_HAS_LISTEN_PORT |
		    WG_DEVICE_HAS_FWMARK;
	hex_decode(cfg.private_key, WG_KEY_LEN, K1);
	cfg.listen_port = 51820;
	cfg.fwmark = 0;		/* zero: not shown */

	peer = wg_config_add_peer(&cfg);
	ck_assert_ptr_nonnull(peer);
	hex_decode(peer->public_key, WG_KEY_LEN, K2);
	hex_decode(peer->preshared_key, WG_KEY_LEN, K4);
	ck_assert(wg_endpoint_parse(&peer->endpoint, "[2001:db8::1]:51820",
				    19));
	peer->flags = WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_ENDPOINT |
		      WG_PEER_HAS_KEEPALIVE | WG_PEER_HAS_STATS;
	peer->persistent_keepalive = 25;
	peer->last_handshake_sec = 1700000000;
	peer->last_handshake_nsec = 123456789;
	peer->tx_bytes = UINT64_MAX;
	peer->rx_bytes = 92;
	add_aip(peer, "10.0.0.2/32", false);
	add_aip(peer, "10.9.0.0/16", true);	/* a change, not state */
	add_aip(peer, "fd00::/64", false);

	peer = wg_config_add_peer(&cfg);
	ck_assert_ptr_nonnull(peer);
	hex_decode(peer->public_key, WG_KEY_LEN, K3);
	/* A key left in the struct without its flag is not shown. */
	hex_decode(peer->preshared_key, WG_KEY_LEN, K4);
	peer->flags = WG_PEER_HAS_STATS;

	wg_uapi_emit_get(&b, &cfg);
	ck_assert(!b.oom);
	ck_assert_str_eq(b.data, want);
	wg_buf_clear(&b);

	/* A device without a key, port or mark shows none of them (the
	 * peers are hidden for a moment and restored to be freed). */
	memset(cfg.private_key, 0, WG_KEY_LEN);
	cfg.listen_port = 0;
	cfg.n_peers = 0;
	wg_uapi_emit_get(&b, &cfg);
	ck_assert_str_eq(b.data, "errno=0\n\n");
	wg_buf_clear(&b);
	cfg.fwmark = 4294967295u;
	wg_uapi_emit_get(&b, &cfg);
	ck_assert_str_eq(b.data, "fwmark=4294967295\nerrno=0\n\n");
	wg_buf_clear(&b);
	cfg.n_peers = 2;
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_emit_errno)
{
	struct wg_buf b = { 0 };

	wg_uapi_emit_errno(&b, 0);
	wg_uapi_emit_errno(&b, -EINVAL);
	wg_uapi_emit_errno(&b, -EPROTO);
	ck_assert_str_eq(b.data, "errno=0\n\nerrno=-22\n\nerrno=-71\n\n");
	wg_buf_clear(&b);
}
END_TEST

START_TEST(test_many_peers)
{
	struct wg_buf in = { 0 };
	struct wg_config a, b;
	struct wg_parse_error err;
	char *out;

	wg_buf_printf(&in, "set=1\nreplace_peers=true\n");
	for (unsigned int i = 0; i < 300; i++) {
		wg_buf_printf(&in, "public_key=%064x\n", i);
		wg_buf_printf(&in, "endpoint=[2001:db8::%x]:%u\n", i + 1, i);
		wg_buf_printf(&in, "replace_allowed_ips=true\n");
		wg_buf_printf(&in, "allowed_ip=10.%u.%u.0/24\n", i >> 8,
			      i & 0xff);
	}
	wg_buf_printf(&in, "\n");
	ck_assert(!in.oom);
	ck_assert_int_eq(parse(in.data, &a, &err), 0);
	ck_assert_uint_eq(a.n_peers, 300);
	out = emit_set(&a);
	/* Too long for a readable failure message: compare, then say. */
	ck_assert_msg(strcmp(out, in.data) == 0, "emitted text differs");
	ck_assert_int_eq(parse(out, &b, &err), 0);
	ck_assert(wg_config_equal(&a, &b));
	free(out);
	wg_buf_clear(&in);
	wg_config_clear(&a);
	wg_config_clear(&b);
}
END_TEST

static Suite *uapi_suite(void)
{
	Suite *s = suite_create("uapi");
	TCase *tc = tcase_create("uapi");

	if (!wg_crypto_init())
		abort();
	tcase_add_test(tc, test_seed_uapi);
	tcase_add_test(tc, test_seed_both_formats);
	tcase_add_loop_test(tc, test_round_trip, 0,
			    sizeof(round_trips) / sizeof(round_trips[0]));
	tcase_add_loop_test(tc, test_normalise, 0,
			    sizeof(normalise_table) /
				    sizeof(normalise_table[0]));
	tcase_add_loop_test(tc, test_errors, 0,
			    sizeof(error_table) / sizeof(error_table[0]));
	tcase_add_test(tc, test_errors_quote_plain_values);
	tcase_add_test(tc, test_push_lines);
	tcase_add_test(tc, test_no_error_record);
	tcase_add_test(tc, test_emit_unresolved_endpoint);
	tcase_add_test(tc, test_emit_get);
	tcase_add_test(tc, test_emit_errno);
	tcase_add_test(tc, test_many_peers);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(uapi_suite)
