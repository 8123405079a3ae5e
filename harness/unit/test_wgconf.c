/* SPDX-License-Identifier: MIT */
/*
 * The wg-quick file: the seed's known answer (nanoswg.conf converts to
 * exactly boringtun.conf), the seed's client file, a file using every key
 * with the exact set text it must give, case, comments and whitespace as wg
 * and wg-quick read them, the wg-quick keys, incremental allowed IPs, host
 * name endpoints, a table with a row for every way a line is refused (line
 * and key), and the trip INI -> set text -> UAPI parser.
 */
#include "wgconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "support.h"
#include "uapi.h"

/* Keys whose base64 and hex were worked out independently. */
#define B0 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define H0 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define B1 "EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8="
#define H1 "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define B2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="
#define H2 "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
#define HZ "0000000000000000000000000000000000000000000000000000000000000000"

#define DEVICE_FLAGS (WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_HAS_LISTEN_PORT | \
		      WG_DEVICE_HAS_FWMARK | WG_DEVICE_REPLACE_PEERS)

static int parse(const char *text, struct wg_config *cfg,
		 struct wg_parse_error *err)
{
	wg_config_init(cfg);
	return wg_conf_parse(text, strlen(text), cfg, err);
}

static void parse_ok(const char *text, struct wg_config *cfg)
{
	struct wg_parse_error err;

	ck_assert_msg(parse(text, cfg, &err) == 0, "%u: %s: %s", err.line,
		      err.key, err.message);
}

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

static void aip_is(const struct wg_allowedip *aip, const char *text,
		   bool remove)
{
	char buf[WG_ALLOWEDIP_TEXT_MAX];

	wg_allowedip_format(aip, buf, sizeof(buf));
	ck_assert_str_eq(buf, text);
	ck_assert(aip->remove == remove);
}

START_TEST(test_seed_conversion)
{
	size_t ilen, ulen;
	char *itext = read_fixture("seed/nanoswg.conf", &ilen);
	char *utext = read_fixture("seed/boringtun.conf", &ulen);
	struct wg_config cfg;
	struct wg_parse_error err;
	char *out;

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_conf_parse(itext, ilen, &cfg, &err), 0);
	out = emit_set(&cfg);
	ck_assert_uint_eq(strlen(out), ulen);
	ck_assert(memcmp(out, utext, ulen) == 0);
	free(out);
	wg_config_clear(&cfg);
	free(itext);
	free(utext);
}
END_TEST

START_TEST(test_seed_client)
{
	size_t len;
	char *text = read_fixture("seed/utun2.conf", &len);
	struct wg_config cfg;
	struct wg_parse_error err;
	const struct wg_config_peer *peer;
	char ep[WG_ENDPOINT_TEXT_MAX];

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_conf_parse(text, len, &cfg, &err), 0);
	ck_assert_uint_eq(cfg.flags, DEVICE_FLAGS);
	ck_assert_hex_eq(cfg.private_key, WG_KEY_LEN,
			 "e86e54f5f3a2039a956d6325274c31d394622617ef163f9b"
			 "d838a2b7e10a5b6a");
	ck_assert_uint_eq(cfg.listen_port, 0);
	ck_assert_uint_eq(cfg.quick.n_addresses, 1);
	aip_is(&cfg.quick.addresses[0], "10.0.0.3/32", false);
	ck_assert_uint_eq(cfg.n_peers, 1);
	peer = &cfg.peers[0];
	ck_assert_uint_eq(peer->line, 5);
	ck_assert_hex_eq(peer->public_key, WG_KEY_LEN,
			 "84eb6f30371144926db5df3111367fd7b5be827dc16c77ca"
			 "a4b415a66109eb39");
	ck_assert_uint_eq(peer->flags,
			  WG_PEER_REPLACE_ALLOWEDIPS | WG_PEER_HAS_ENDPOINT);
	ck_assert(wg_endpoint_format(&peer->endpoint, ep, sizeof(ep)));
	ck_assert_str_eq(ep, "34.35.212.58:51820");
	ck_assert_uint_eq(peer->n_allowedips, 2);
	aip_is(&peer->allowedips[0], "10.0.0.0/24", false);
	aip_is(&peer->allowedips[1], "10.240.0.0/16", false);
	wg_config_clear(&cfg);
	free(text);
}
END_TEST

/* The seed's two ends know each other: each side's peer key is the other
 * side's private key made public. */
START_TEST(test_seed_keys_pair_up)
{
	size_t slen, clen;
	char *stext = read_fixture("seed/nanoswg.conf", &slen);
	char *ctext = read_fixture("seed/utun2.conf", &clen);
	struct wg_config server, client;
	struct wg_parse_error err;
	uint8_t pub[WG_KEY_LEN];

	wg_config_init(&server);
	wg_config_init(&client);
	ck_assert_int_eq(wg_conf_parse(stext, slen, &server, &err), 0);
	ck_assert_int_eq(wg_conf_parse(ctext, clen, &client, &err), 0);
	ck_assert(wg_x25519_public(pub, server.private_key));
	ck_assert(memcmp(pub, client.peers[0].public_key, WG_KEY_LEN) == 0);
	ck_assert(wg_x25519_public(pub, client.private_key));
	ck_assert(memcmp(pub, server.peers[1].public_key, WG_KEY_LEN) == 0);
	aip_is(&server.peers[1].allowedips[0], "10.0.0.3/32", false);
	wg_config_clear(&server);
	wg_config_clear(&client);
	free(stext);
	free(ctext);
}
END_TEST

static const char full_ini[] =
	"# every key once\n"
	"[Interface]\n"
	"PrivateKey = " B0 "\n"
	"ListenPort = 51820\n"
	"FwMark = 0x1f\n"
	"Address = 10.0.0.1/24, fd00::1/64\n"
	"Address = 10.0.1.1\n"
	"DNS = 1.1.1.1, example.com 2606:4700::1111\n"
	"MTU = 1420\n"
	"Table = off\n"
	"PreUp = echo pre up\n"
	"PostUp = iptables -A FORWARD -i %i -j ACCEPT; echo 'a # b' # note\n"
	"PostUp = echo second\n"
	"PreDown = echo pre down\n"
	"PostDown = echo post down\n"
	"SaveConfig = false\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " B1 "\n"
	"PresharedKey = " B2 "\n"
	"Endpoint = [2001:db8::1]:51820\n"
	"PersistentKeepalive = 25\n"
	"AllowedIPs = 10.0.0.2/32, fd00::2/128\n"
	"AllowedIPs = 192.168.0.0/16\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " B2 "\n"
	"Endpoint = 192.0.2.7:1\n"
	"AllowedIPs = +10.9.0.0/16, -10.8.0.0/16\n"
	"PersistentKeepalive = off\n";

static const char full_set[] =
	"set=1\n"
	"private_key=" H0 "\n"
	"listen_port=51820\n"
	"fwmark=31\n"
	"replace_peers=true\n"
	"public_key=" H1 "\n"
	"preshared_key=" H2 "\n"
	"endpoint=[2001:db8::1]:51820\n"
	"persistent_keepalive_interval=25\n"
	"replace_allowed_ips=true\n"
	"allowed_ip=10.0.0.2/32\n"
	"allowed_ip=fd00::2/128\n"
	"allowed_ip=192.168.0.0/16\n"
	"public_key=" H2 "\n"
	"endpoint=192.0.2.7:1\n"
	"persistent_keepalive_interval=0\n"
	"allowed_ip=10.9.0.0/16\n"
	"allowed_ip=-10.8.0.0/16\n"
	"\n";

START_TEST(test_full_file)
{
	struct wg_config cfg;
	const struct wg_quick_config *q = &cfg.quick;
	char *out;

	parse_ok(full_ini, &cfg);
	out = emit_set(&cfg);
	ck_assert_str_eq(out, full_set);
	free(out);

	ck_assert_uint_eq(cfg.flags, DEVICE_FLAGS);
	/* For a port or mark the system refuses later. */
	ck_assert_uint_eq(cfg.listen_port_line, 4);
	ck_assert_uint_eq(cfg.fwmark_line, 5);
	ck_assert_uint_eq(cfg.peers[0].line, 18);
	ck_assert_uint_eq(cfg.peers[1].line, 26);
	ck_assert_uint_eq(cfg.peers[0].flags,
			  WG_PEER_REPLACE_ALLOWEDIPS |
				  WG_PEER_HAS_PRESHARED_KEY |
				  WG_PEER_HAS_ENDPOINT | WG_PEER_HAS_KEEPALIVE);
	ck_assert_uint_eq(cfg.peers[1].flags,
			  WG_PEER_HAS_ENDPOINT | WG_PEER_HAS_KEEPALIVE);

	/* The wg-quick keys. */
	ck_assert_uint_eq(q->n_addresses, 3);
	aip_is(&q->addresses[0], "10.0.0.1/24", false);
	aip_is(&q->addresses[1], "fd00::1/64", false);
	aip_is(&q->addresses[2], "10.0.1.1/32", false);
	ck_assert_uint_eq(q->dns.len, 3);
	ck_assert_str_eq(q->dns.items[0], "1.1.1.1");
	ck_assert_str_eq(q->dns.items[1], "example.com");
	ck_assert_str_eq(q->dns.items[2], "2606:4700::1111");
	ck_assert(q->has_mtu);
	ck_assert_uint_eq(q->mtu, 1420);
	ck_assert_str_eq(q->table, "off");
	ck_assert_uint_eq(q->pre_up.len, 1);
	ck_assert_str_eq(q->pre_up.items[0], "echo pre up");
	ck_assert_uint_eq(q->post_up.len, 2);
	ck_assert_str_eq(q->post_up.items[0],
			 "iptables -A FORWARD -i %i -j ACCEPT; "
			 "echo 'a # b' # note");
	ck_assert_str_eq(q->post_up.items[1], "echo second");
	ck_assert_str_eq(q->pre_down.items[0], "echo pre down");
	ck_assert_str_eq(q->post_down.items[0], "echo post down");
	ck_assert(q->has_save_config);
	ck_assert(!q->save_config);
	wg_config_clear(&cfg);
}
END_TEST

/* The set text, read back by the UAPI parser, is the same change. */
START_TEST(test_ini_to_uapi)
{
	static const char *const inis[] = {
		full_ini,
		"",
		"[Peer]\nPublicKey = " B1 "\n",
		"[Interface]\nPrivateKey = " B0 "\nFwMark = off\n",
		"[Peer]\nPublicKey = " B1 "\nAllowedIPs = -::/0\n"
		"Endpoint = [::ffff:192.0.2.1]:9\n",
	};

	for (size_t i = 0; i < sizeof(inis) / sizeof(inis[0]); i++) {
		struct wg_config a, b;
		struct wg_parse_error err;
		char *out;

		parse_ok(inis[i], &a);
		out = emit_set(&a);
		wg_config_init(&b);
		ck_assert_int_eq(wg_uapi_parse_set(out, strlen(out), &b, &err),
				 0);
		ck_assert_msg(wg_config_equal(&a, &b), "file %zu", i);
		free(out);
		wg_config_clear(&a);
		wg_config_clear(&b);
	}
}
END_TEST

START_TEST(test_empty_file)
{
	struct wg_config cfg;
	char *out;

	/* What `wg setconf` sends for an empty file: the key removed, the
	 * port and mark reset, the peers dropped. */
	parse_ok("# nothing\n\n", &cfg);
	out = emit_set(&cfg);
	ck_assert_str_eq(out, "set=1\nprivate_key=" HZ "\nlisten_port=0\n"
			      "fwmark=0\nreplace_peers=true\n\n");
	free(out);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_case_insensitive)
{
	struct wg_config cfg;
	char *out;
	const char *ini =
		"[INTERFACE]\n"
		"privatekey = " B0 "\n"
		"LISTENPORT = 7\n"
		"fwmark = OFF\n"
		"address = 10.0.0.1/24\n"
		"dns = 1.1.1.1\n"
		"mtu = 1280\n"
		"TABLE = 1234\n"
		"postup = echo Hi\n"
		"SAVECONFIG = TRUE\n"
		"[peer]\n"
		"PUBLICKEY = " B1 "\n"
		"presharedkey = " B2 "\n"
		"allowedips = 10.0.0.2/32\n"
		"ENDPOINT = 192.0.2.1:1\n"
		"persistentkeepalive = Off\n"
		"[pEeR]\n"
		"PublicKey = " B2 "\n";

	parse_ok(ini, &cfg);
	out = emit_set(&cfg);
	ck_assert_str_eq(out, "set=1\nprivate_key=" H0 "\nlisten_port=7\n"
			      "fwmark=0\nreplace_peers=true\npublic_key=" H1
			      "\npreshared_key=" H2 "\nendpoint=192.0.2.1:1\n"
			      "persistent_keepalive_interval=0\n"
			      "replace_allowed_ips=true\n"
			      "allowed_ip=10.0.0.2/32\npublic_key=" H2 "\n"
			      "replace_allowed_ips=true\n\n");
	ck_assert_str_eq(cfg.quick.table, "1234");
	ck_assert_uint_eq(cfg.quick.mtu, 1280);
	ck_assert(cfg.quick.save_config);
	/* Values keep their case. */
	ck_assert_str_eq(cfg.quick.post_up.items[0], "echo Hi");
	free(out);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_comments_whitespace)
{
	struct wg_config a, b;
	const char *plain =
		"[Interface]\nPrivateKey=" B0 "\nListenPort=51820\n"
		"[Peer]\nPublicKey=" B1 "\nAllowedIPs=10.0.0.0/24,fd00::/64\n"
		"Endpoint=192.0.2.1:51820\n";
	/* wg drops every space and everything after '#'. */
	const char *spaced =
		"  # leading comment\r\n"
		"\t[Interface]   # section comment\r\n"
		"\r\n"
		"   Private Key =  " B0 "   # the key\r\n"
		"Listen Port = 5 1820\r\n"
		"#[Peer]\r\n"
		"[ Peer ]\r\n"
		"PublicKey\t=\t" B1 "\r\n"
		"AllowedIPs = 10.0.0.0 / 24 , fd00:: / 64 #, 10.9.0.0/16\r\n"
		"Endpoint = 192.0.2.1 : 51820\r\n"
		"# trailing\r\n"
		"   ";

	parse_ok(plain, &a);
	parse_ok(spaced, &b);
	ck_assert(wg_config_equal(&a, &b));
	ck_assert_uint_eq(b.listen_port, 51820);
	ck_assert_uint_eq(b.peers[0].n_allowedips, 2);
	ck_assert_uint_eq(b.peers[0].line, 7);
	wg_config_clear(&a);
	wg_config_clear(&b);
}
END_TEST

START_TEST(test_quick_values)
{
	struct wg_config cfg;
	const struct wg_quick_config *q = &cfg.quick;

	parse_ok("[Interface]\n"
		 "Address = 10.0.0.1/24,,fd00::1/64 ,\n"
		 "Address = 10.0.0.9\n"
		 "DNS = 1.1.1.1,8.8.8.8\tsearch.example\n"
		 "PostUp =   ip rule add   table 7   \r\n"
		 "PreDown = printf '%s\\n' \"x=1\" # keep = this\n"
		 "Table = auto\n"
		 "MTU = 68\n",
		 &cfg);
	ck_assert_uint_eq(q->n_addresses, 3);
	aip_is(&q->addresses[0], "10.0.0.1/24", false);
	aip_is(&q->addresses[1], "fd00::1/64", false);
	aip_is(&q->addresses[2], "10.0.0.9/32", false);
	ck_assert_uint_eq(q->dns.len, 3);
	ck_assert_str_eq(q->dns.items[2], "search.example");
	/* Spaces inside a hook are the command's; only the ends go. */
	ck_assert_str_eq(q->post_up.items[0], "ip rule add   table 7");
	ck_assert_str_eq(q->pre_down.items[0],
			 "printf '%s\\n' \"x=1\" # keep = this");
	ck_assert_str_eq(q->table, "auto");
	ck_assert_uint_eq(q->mtu, 68);
	ck_assert(!q->has_save_config);
	wg_config_clear(&cfg);

	/* uniguard's own keys, read as wg-quick's are. */
	parse_ok("[Interface]\nhttp = [::]:9586 \nLogCounters = 0\n", &cfg);
	ck_assert_str_eq(cfg.gateway.http, "[::]:9586");
	ck_assert(cfg.gateway.has_log_counters);
	ck_assert_uint_eq(cfg.gateway.log_counters, 0);
	wg_config_clear(&cfg);
	parse_ok("[Interface]\nHTTP = 10.0.0.1:80\n", &cfg);
	ck_assert_str_eq(cfg.gateway.http, "10.0.0.1:80");
	ck_assert(!cfg.gateway.has_log_counters);
	ck_assert_ptr_null(cfg.gateway.peers_from);
	wg_config_clear(&cfg);
	parse_ok("[Interface]\npeersfrom = gce-metadata:vpn-peers \n", &cfg);
	ck_assert_str_eq(cfg.gateway.peers_from, "gce-metadata:vpn-peers");
	wg_config_clear(&cfg);

	parse_ok("[Interface]\nMTU = 65535\nSaveConfig = true\n", &cfg);
	ck_assert_uint_eq(cfg.quick.mtu, 65535);
	ck_assert(cfg.quick.has_save_config && cfg.quick.save_config);
	ck_assert_uint_eq(cfg.quick.n_addresses, 0);
	ck_assert_ptr_null(cfg.quick.table);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_values)
{
	struct wg_config cfg;

	parse_ok("[Interface]\nListenPort = 0\nFwMark = 4294967295\n", &cfg);
	ck_assert_uint_eq(cfg.listen_port, 0);
	ck_assert_uint_eq(cfg.fwmark, 4294967295u);
	wg_config_clear(&cfg);
	parse_ok("[Interface]\nListenPort = 65535\nFwMark = 0xffffffff\n",
		 &cfg);
	ck_assert_uint_eq(cfg.listen_port, 65535);
	ck_assert_uint_eq(cfg.fwmark, 0xffffffffu);
	wg_config_clear(&cfg);
	parse_ok("[Interface]\nFwMark = 0xAbC\n", &cfg);
	ck_assert_uint_eq(cfg.fwmark, 0xabc);
	wg_config_clear(&cfg);
	/* Decimal, as wg reads it. */
	parse_ok("[Interface]\nFwMark = 010\n", &cfg);
	ck_assert_uint_eq(cfg.fwmark, 10);
	wg_config_clear(&cfg);

	parse_ok("[Peer]\nPublicKey = " B1 "\nPersistentKeepalive = 65535\n"
		 "AllowedIPs = 10.0.0.1, ::/0, 0.0.0.0/0\n",
		 &cfg);
	ck_assert_uint_eq(cfg.peers[0].persistent_keepalive, 65535);
	aip_is(&cfg.peers[0].allowedips[0], "10.0.0.1/32", false);
	aip_is(&cfg.peers[0].allowedips[1], "::/0", false);
	aip_is(&cfg.peers[0].allowedips[2], "0.0.0.0/0", false);
	wg_config_clear(&cfg);

	/* An all-zero preshared key is still given: it clears the key. */
	parse_ok("[Peer]\nPublicKey = " B1 "\nPresharedKey = "
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		 &cfg);
	ck_assert(cfg.peers[0].flags & WG_PEER_HAS_PRESHARED_KEY);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_incremental_allowedips)
{
	struct wg_config cfg;
	const struct wg_config_peer *peer;

	parse_ok("[Peer]\nPublicKey = " B1 "\n"
		 "AllowedIPs = 10.0.0.0/24, -10.1.0.0/16, +fd00::/64\n",
		 &cfg);
	peer = &cfg.peers[0];
	ck_assert_uint_eq(peer->flags & WG_PEER_REPLACE_ALLOWEDIPS, 0);
	ck_assert_uint_eq(peer->n_allowedips, 3);
	aip_is(&peer->allowedips[0], "10.0.0.0/24", false);
	aip_is(&peer->allowedips[1], "10.1.0.0/16", true);
	aip_is(&peer->allowedips[2], "fd00::/64", false);
	wg_config_clear(&cfg);

	/* As in wg, each AllowedIPs line starts as a replacement again. */
	parse_ok("[Peer]\nPublicKey = " B1 "\n"
		 "AllowedIPs = +10.0.0.0/24\nAllowedIPs = 10.1.0.0/16\n",
		 &cfg);
	ck_assert(cfg.peers[0].flags & WG_PEER_REPLACE_ALLOWEDIPS);
	wg_config_clear(&cfg);
	parse_ok("[Peer]\nPublicKey = " B1 "\n"
		 "AllowedIPs = 10.1.0.0/16\nAllowedIPs = -10.0.0.0/24\n",
		 &cfg);
	ck_assert(!(cfg.peers[0].flags & WG_PEER_REPLACE_ALLOWEDIPS));
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_endpoint_hosts)
{
	static const struct {
		const char *value;
		const char *host;
	} rows[] = {
		{ "vpn.example.com:51820", "vpn.example.com:51820" },
		{ "vpn.example.com : 51820", "vpn.example.com:51820" },
		{ "[vpn.example.com]:51820", "[vpn.example.com]:51820" },
		{ "[fe80::1%eth0]:51820", "[fe80::1%eth0]:51820" },
		{ "my_host-1:1", "my_host-1:1" },
		{ "localhost:0", "localhost:0" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wg_config cfg;
		char ini[256];
		char *out;

		snprintf(ini, sizeof(ini), "[Peer]\nPublicKey = %s\n"
					   "Endpoint = %s\n",
			 B1, rows[i].value);
		parse_ok(ini, &cfg);
		ck_assert_uint_eq(cfg.peers[0].flags,
				  WG_PEER_REPLACE_ALLOWEDIPS |
					  WG_PEER_HAS_ENDPOINT_HOST);
		ck_assert_str_eq(cfg.peers[0].endpoint_host, rows[i].host);
		ck_assert_int_eq(cfg.peers[0].endpoint.addr.sa.sa_family,
				 AF_UNSPEC);
		/* Unresolved, it is not sent. */
		out = emit_set(&cfg);
		ck_assert_ptr_null(strstr(out, "endpoint="));
		free(out);
		wg_config_clear(&cfg);
	}
}
END_TEST

struct error_case {
	const char *text;
	unsigned int line;
	const char *key;
};

#define I "[Interface]\n"
#define PEER "[Peer]\nPublicKey = " B1 "\n"	/* lines 1 and 2 */

static const struct error_case error_table[] = {
	/* Sections. */
	{ "[Foo]\n", 1, "[Foo]" },
	{ "[Interface\n", 1, "[Interface" },
	{ "[Interface]x\n", 1, "[Interface]x" },
	{ "[Interface]=\n", 1, "" },
	{ "[Peer] [Peer]\n", 1, "[Peer][Peer]" },
	{ "[AVeryLongSectionName]\n", 1, "" },
	{ I "[Peer]\nPublicKey = " B1 "\n[Interface]\n", 4, "[Interface]" },
	{ "[Peer]\nAllowedIPs = 10.0.0.0/8\n" PEER, 1, "PublicKey" },
	{ I "\n[Peer]\n# no key\n", 3, "PublicKey" },
	{ PEER "[Peer]\nEndpoint = 192.0.2.1:1\n[Interface]\n", 3,
	  "PublicKey" },
	{ PEER "[Peer]\nPublicKey = " B1 "\n", 4, "PublicKey" },
	/* Line shape and place. */
	{ I "ListenPort\n", 2, "" },
	{ I "ListenPort 51820\n", 2, "" },
	{ "PrivateKey = " B0 "\n", 1, "PrivateKey" },
	{ "ListenPort = 1\n[Interface]\n", 1, "ListenPort" },
	{ "Address = 10.0.0.1/24\n", 1, "Address" },
	{ "Foo = 1\n", 1, "Foo" },
	{ PEER "Address = 10.0.0.1/32\n", 3, "Address" },
	{ PEER "DNS = 1.1.1.1\n", 3, "DNS" },
	{ PEER "PostUp = true\n", 3, "PostUp" },
	{ PEER "ListenPort = 1\n", 3, "ListenPort" },
	{ PEER "PrivateKey = " B0 "\n", 3, "PrivateKey" },
	{ I "PublicKey = " B1 "\n", 2, "PublicKey" },
	{ I "Endpoint = 192.0.2.1:1\n", 2, "Endpoint" },
	{ I "AllowedIPs = 10.0.0.0/8\n", 2, "AllowedIPs" },
	{ I "Foo = bar\n", 2, "Foo" },
	{ I "Post Up = echo\n", 2, "Post Up" },
	{ I "ExcludedIPs = 10.0.0.0/8\n", 2, "ExcludedIPs" },
	{ PEER "PersistentKeepAlive2 = 1\n", 3, "PersistentKeepAlive2" },
	{ PEER "Jc = 4\n", 3, "Jc" },
	/* A key where the name belongs is not echoed. */
	{ I B0 "\n", 2, "" },
	{ I "PrivateKey " B0 "\n", 2, "" },
	/* Nor one pasted where a value belongs (found by fuzz_uapi). */
	{ I "ListenPort = " B0 "\n", 2, "ListenPort" },
	{ PEER "Endpoint = " B2 ":1\n", 3, "Endpoint" },
	{ PEER "AllowedIPs = " B0 "\n", 3, "AllowedIPs" },
	/* No value. */
	{ I "ListenPort =\n", 2, "ListenPort" },
	{ I "PrivateKey = # none\n", 2, "PrivateKey" },
	{ I "Address =\n", 2, "Address" },
	{ I "PostUp =   \n", 2, "PostUp" },
	{ I "SaveConfig =\n", 2, "SaveConfig" },
	{ PEER "AllowedIPs =\n", 3, "AllowedIPs" },
	/* Given twice in one section. */
	{ I "PrivateKey = " B0 "\nprivatekey = " B0 "\n", 3, "privatekey" },
	{ I "ListenPort = 1\nListenPort = 2\n", 3, "ListenPort" },
	{ I "FwMark = 1\nFwMark = 1\n", 3, "FwMark" },
	{ I "MTU = 1420\nMTU = 1280\n", 3, "MTU" },
	{ I "Table = off\nTable = 7\n", 3, "Table" },
	{ I "SaveConfig = true\nSaveConfig = true\n", 3, "SaveConfig" },
	{ PEER "PublicKey = " B2 "\n", 3, "PublicKey" },
	{ PEER "PresharedKey = " B2 "\nPresharedKey = " B2 "\n", 4,
	  "PresharedKey" },
	{ PEER "Endpoint = 192.0.2.1:1\nEndpoint = 192.0.2.1:2\n", 4,
	  "Endpoint" },
	{ PEER "PersistentKeepalive = 1\nPersistentKeepalive = 1\n", 4,
	  "PersistentKeepalive" },
	/* Keys. */
	{ I "PrivateKey = abc\n", 2, "PrivateKey" },
	{ I "PrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n", 2,
	  "PrivateKey" },
	{ I "PrivateKey = " B0 "A\n", 2, "PrivateKey" },
	{ I "PrivateKey = AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n", 2,
	  "PrivateKey" },
	{ I "PrivateKey = " H0 "\n", 2, "PrivateKey" },
	{ "[Peer]\nPublicKey = " B1 "x\n", 2, "PublicKey" },
	{ "[Peer]\nPublicKey = !BESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8=\n",
	  2, "PublicKey" },
	{ PEER "PresharedKey = xyz\n", 3, "PresharedKey" },
	/* Numbers. */
	{ I "ListenPort = 65536\n", 2, "ListenPort" },
	{ I "ListenPort = -1\n", 2, "ListenPort" },
	{ I "ListenPort = 0x10\n", 2, "ListenPort" },
	{ I "ListenPort = http\n", 2, "ListenPort" },
	{ I "ListenPort = 1.5\n", 2, "ListenPort" },
	{ I "FwMark = 0x\n", 2, "FwMark" },
	{ I "FwMark = 0X10\n", 2, "FwMark" },
	{ I "FwMark = 0x100000000\n", 2, "FwMark" },
	{ I "FwMark = 4294967296\n", 2, "FwMark" },
	{ I "FwMark = -1\n", 2, "FwMark" },
	{ I "FwMark = of\n", 2, "FwMark" },
	{ I "FwMark = 0xg\n", 2, "FwMark" },
	{ PEER "PersistentKeepalive = 65536\n", 3, "PersistentKeepalive" },
	{ PEER "PersistentKeepalive = -1\n", 3, "PersistentKeepalive" },
	{ PEER "PersistentKeepalive = 25s\n", 3, "PersistentKeepalive" },
	{ PEER "PersistentKeepalive = offf\n", 3, "PersistentKeepalive" },
	{ I "MTU = 67\n", 2, "MTU" },
	{ I "MTU = 65536\n", 2, "MTU" },
	{ I "MTU = auto\n", 2, "MTU" },
	{ I "MTU = 14 20\n", 2, "MTU" },
	/* AllowedIPs. */
	{ PEER "AllowedIPs = 10.0.0.1/24\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = fd00::1/64\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = ,10.0.0.0/8\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = 10.0.0.0/8,\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = 10.0.0.0/8,,10.1.0.0/16\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = +\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = +-10.0.0.0/8\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = 10.0.0.0/33\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = ::/129\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = 10.0.0.0/8;10.1.0.0/16\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = example.com\n", 3, "AllowedIPs" },
	{ PEER "AllowedIPs = 10.0.0.0/8\nAllowedIPs = x\n", 4, "AllowedIPs" },
	/* Endpoint. */
	{ PEER "Endpoint = 192.0.2.1\n", 3, "Endpoint" },
	{ PEER "Endpoint = vpn.example.com:\n", 3, "Endpoint" },
	{ PEER "Endpoint = :51820\n", 3, "Endpoint" },
	{ PEER "Endpoint = vpn:wireguard\n", 3, "Endpoint" },
	{ PEER "Endpoint = 192.0.2.1:65536\n", 3, "Endpoint" },
	{ PEER "Endpoint = 2001:db8::1:51820\n", 3, "Endpoint" },
	{ PEER "Endpoint = vpn!example:1\n", 3, "Endpoint" },
	{ PEER "Endpoint = 10.1:51820\n", 3, "Endpoint" },
	{ PEER "Endpoint = 192.0.2.300:1\n", 3, "Endpoint" },
	{ PEER "Endpoint = [x]y:1\n", 3, "Endpoint" },
	{ PEER "Endpoint = [a[b]:1\n", 3, "Endpoint" },
	/* wg-quick values. */
	{ I "Address = 10.0.0.300/24\n", 2, "Address" },
	{ I "Address = 10.0.0.1/33\n", 2, "Address" },
	{ I "Address = 10.0.0.1 /24\n", 2, "Address" },
	{ I "Address = 10.0.0.1/24, fd00::1/64, bogus\n", 2, "Address" },
	{ I "DNS = 1.1.1.1,a\x01" "b\n", 2, "DNS" },
	{ I "Table = 12 34\n", 2, "Table" },
	{ I "SaveConfig = yes\n", 2, "SaveConfig" },
	{ I "SaveConfig = 1\n", 2, "SaveConfig" },
	{ I "PostUp = echo \x01\n", 2, "PostUp" },
	{ I "PreUp = echo\x7f\n", 2, "PreUp" },
	{ I "HTTP = localhost:9586\n", 2, "HTTP" },
	{ I "HTTP = 9586\n", 2, "HTTP" },
	{ I "HTTP = 10.0.0.1:1\nHTTP = 10.0.0.1:2\n", 3, "HTTP" },
	{ PEER "HTTP = 10.0.0.1:1\n", 3, "HTTP" },
	{ I "LogCounters = 10m\n", 2, "LogCounters" },
	{ I "PeersFrom = gce-metadata here\n", 2, "PeersFrom" },
	{ I "PeersFrom = gce-metadata\nPeersFrom = gce-metadata\n", 3,
	  "PeersFrom" },
	{ I "LogCounters = -1\n", 2, "LogCounters" },
	{ I "LogCounters = 4294967296\n", 2, "LogCounters" },
};

START_TEST(test_errors)
{
	const struct error_case *t = &error_table[_i];
	struct wg_config cfg;
	struct wg_parse_error err;
	int ret = parse(t->text, &cfg, &err);

	ck_assert_msg(ret == -EINVAL, "row %d: got %d", _i, ret);
	ck_assert_msg(err.line == t->line, "row %d: line %u, want %u (%s)",
		      _i, err.line, t->line, err.message);
	ck_assert_msg(strcmp(err.key, t->key) == 0,
		      "row %d: key \"%s\", want \"%s\"", _i, err.key, t->key);
	ck_assert(err.message[0] != '\0');
	/* No message quotes key material. */
	ck_assert_ptr_null(strstr(err.message, "AAECAwQF"));
	ck_assert_ptr_null(strstr(err.message, "EBESExQV"));
	ck_assert_ptr_null(strstr(err.message, "ICEiIyQl"));
	ck_assert_ptr_null(strstr(err.message, "00010203"));
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_push_lines)
{
	struct wg_config cfg;
	struct wg_conf_parser p;
	const char *l;

	wg_config_init(&cfg);
	wg_conf_begin(&p, &cfg);
	ck_assert_uint_eq(cfg.flags, DEVICE_FLAGS);
	ck_assert_int_eq(wg_conf_line(&p, "[Peer]", 6), 0);
	ck_assert_int_eq(p.section, WG_CONF_PEER);
	l = "PublicKey = " B1 "garbage";
	ck_assert_int_eq(wg_conf_line(&p, l, 12 + 44), 0);
	ck_assert_hex_eq(cfg.peers[0].public_key, WG_KEY_LEN, H1);
	ck_assert_int_eq(wg_conf_line(&p, "", 0), 0);
	ck_assert_int_eq(wg_conf_line(&p, "[Interface]", 11), 0);
	ck_assert_int_eq(p.section, WG_CONF_INTERFACE);
	ck_assert_uint_eq(p.interface_line, 4);
	ck_assert_int_eq(wg_conf_line(&p, "[Peer]", 6), 0);
	ck_assert_int_eq(wg_conf_end(&p), -EINVAL);
	ck_assert_uint_eq(p.err.line, 5);
	ck_assert_str_eq(p.err.key, "PublicKey");
	wg_config_clear(&cfg);

	wg_config_init(&cfg);
	ck_assert_int_eq(wg_conf_parse("x", 1, &cfg, NULL), -EINVAL);
	wg_config_clear(&cfg);
}
END_TEST

START_TEST(test_many_peers)
{
	struct wg_buf in = { 0 };
	struct wg_config cfg;
	char b64[WG_KEY_BASE64_LEN];
	uint8_t key[WG_KEY_LEN];

	wg_buf_printf(&in, "[Interface]\nPrivateKey = %s\n", B0);
	for (unsigned int i = 0; i < 500; i++) {
		memset(key, 0, sizeof(key));
		key[0] = (uint8_t)(i >> 8);
		key[1] = (uint8_t)i;
		wg_key_to_base64(b64, key);
		wg_buf_printf(&in, "[Peer]\nPublicKey = %s\n"
				   "AllowedIPs = 10.%u.%u.0/24\n",
			      b64, i >> 8, i & 0xff);
	}
	ck_assert(!in.oom);
	parse_ok(in.data, &cfg);
	ck_assert_uint_eq(cfg.n_peers, 500);
	ck_assert_uint_eq(cfg.peers[499].public_key[1], 499 & 0xff);
	ck_assert_uint_eq(cfg.peers[499].line, 3 + 3 * 499);
	aip_is(&cfg.peers[258].allowedips[0], "10.1.2.0/24", false);
	wg_config_clear(&cfg);
	wg_buf_clear(&in);
}
END_TEST

static int push_line(void *p, const char *line, size_t len)
{
	return wg_conf_line(p, line, len);
}

/* Keys that differ only in their last bytes, the duplicate far from the
 * first: found, named by both lines, and the scan stays linear (a few
 * slots looked at per peer, where comparing each key with every earlier
 * one would look at n * n / 2). */
START_TEST(test_duplicate_scan_is_linear)
{
	enum { N = 10000 };
	struct wg_buf in = { 0 };
	struct wg_conf_parser p;
	struct wg_config cfg;
	char b64[WG_KEY_BASE64_LEN];
	uint8_t key[WG_KEY_LEN];
	int ret;

	wg_buf_printf(&in, "[Interface]\nPrivateKey = %s\n", B0);
	for (unsigned int i = 0; i <= N; i++) {
		memset(key, 0x42, sizeof(key));
		key[30] = (uint8_t)((i % N) >> 8);
		key[31] = (uint8_t)(i % N);
		wg_key_to_base64(b64, key);
		wg_buf_printf(&in, "[Peer]\nPublicKey = %s\n", b64);
	}
	ck_assert(!in.oom);
	wg_config_init(&cfg);
	wg_conf_begin(&p, &cfg);
	ret = wg_text_for_each_line(in.data, in.len, push_line, &p);
	ck_assert_int_eq(ret, -EINVAL);
	/* Peer N (0-based) begins at line 3 + 2 * N, its key on the next. */
	ck_assert_uint_eq(p.err.line, 3 + 2 * N + 1);
	ck_assert_str_eq(p.err.key, "PublicKey");
	ck_assert_str_eq(p.err.message,
			 "the peer at line 3 has this PublicKey too");
	ck_assert_uint_eq(cfg.n_peers, N + 1);
	ck_assert_msg(p.peer_keys.probes < 4 * (uint64_t)N,
		      "%llu slots looked at",
		      (unsigned long long)p.peer_keys.probes);
	ck_assert_ptr_null(p.peer_keys.slots);
	wg_config_clear(&cfg);

	/* Without the duplicate the file loads, and the end frees the set. */
	in.len = 0;
	in.data[0] = '\0';
	for (unsigned int i = 0; i < N; i++) {
		memset(key, 0x42, sizeof(key));
		key[30] = (uint8_t)(i >> 8);
		key[31] = (uint8_t)i;
		wg_key_to_base64(b64, key);
		wg_buf_printf(&in, "[Peer]\nPublicKey = %s\n", b64);
	}
	wg_config_init(&cfg);
	wg_conf_begin(&p, &cfg);
	ck_assert_int_eq(wg_text_for_each_line(in.data, in.len,
					       push_line, &p),
			 0);
	ck_assert_ptr_nonnull(p.peer_keys.slots);
	ck_assert_int_eq(wg_conf_end(&p), 0);
	ck_assert_ptr_null(p.peer_keys.slots);
	ck_assert_uint_eq(cfg.n_peers, N);
	ck_assert_msg(p.peer_keys.probes < 4 * (uint64_t)N,
		      "%llu slots looked at",
		      (unsigned long long)p.peer_keys.probes);
	wg_config_clear(&cfg);
	wg_buf_clear(&in);
}
END_TEST

static Suite *wgconf_suite(void)
{
	Suite *s = suite_create("wgconf");
	TCase *tc = tcase_create("wgconf");

	if (!wg_crypto_init())
		abort();
	tcase_add_test(tc, test_seed_conversion);
	tcase_add_test(tc, test_seed_client);
	tcase_add_test(tc, test_seed_keys_pair_up);
	tcase_add_test(tc, test_full_file);
	tcase_add_test(tc, test_ini_to_uapi);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_case_insensitive);
	tcase_add_test(tc, test_comments_whitespace);
	tcase_add_test(tc, test_quick_values);
	tcase_add_test(tc, test_values);
	tcase_add_test(tc, test_incremental_allowedips);
	tcase_add_test(tc, test_endpoint_hosts);
	tcase_add_loop_test(tc, test_errors, 0,
			    sizeof(error_table) / sizeof(error_table[0]));
	tcase_add_test(tc, test_push_lines);
	tcase_add_test(tc, test_many_peers);
	tcase_add_test(tc, test_duplicate_scan_is_linear);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(wgconf_suite)
