/* SPDX-License-Identifier: MIT */
/*
 * Peers from a metadata attribute (daemon/metadata_peers.c): the option's
 * spelling, what an attribute may say (a table of refusals with line and
 * key), and the change from one attribute to the next: unchanged peers
 * left out, changed ones set whole, dropped ones removed, the image's
 * peers never touched; and a change from elsewhere made to keep the
 * peers metadata owns.
 */
#include "metadata_peers.h"

#include <errno.h>
#include <string.h>

#include "crypto.h"
#include "uapi.h"
#include "support.h"

#define B0 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define B1 "EBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8="
#define B2 "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

START_TEST(test_source)
{
	char attr[METADATA_ATTRIBUTE_MAX + 1];
	char longest[METADATA_ATTRIBUTE_MAX + 2 + 13];

	ck_assert(metadata_source_parse("gce-metadata", attr));
	ck_assert_str_eq(attr, "uniguard-peers");
	ck_assert(metadata_source_parse("gce-metadata:vpn_peers-2", attr));
	ck_assert_str_eq(attr, "vpn_peers-2");
	ck_assert(!metadata_source_parse("gce-metadata:", attr));
	ck_assert(!metadata_source_parse("gce-metadata:a/b", attr));
	ck_assert(!metadata_source_parse("gce-metadata:a b", attr));
	ck_assert(!metadata_source_parse("gce-metadataX", attr));
	ck_assert(!metadata_source_parse("file:/etc/peers", attr));
	strcpy(longest, "gce-metadata:");
	memset(longest + 13, 'a', METADATA_ATTRIBUTE_MAX);
	longest[13 + METADATA_ATTRIBUTE_MAX] = '\0';
	ck_assert(metadata_source_parse(longest, attr));
	strcat(longest, "a");
	ck_assert(!metadata_source_parse(longest, attr));
}
END_TEST

static void parse_ok(const char *text, struct wg_config *cfg)
{
	struct wg_parse_error err;
	int ret = metadata_peers_parse(text, strlen(text), cfg, &err);

	ck_assert_msg(ret == 0, "%u: %s: %s", err.line, err.key, err.message);
}

START_TEST(test_parse)
{
	struct wg_config cfg;

	parse_ok("# two clients\n[Peer]\nPublicKey = " B1 "\n"
		 "AllowedIPs = 10.0.0.5/32\n\n[Peer]\nPublicKey = " B2 "\n"
		 "AllowedIPs = 10.0.0.6/32, fd00::6/128\n"
		 "PresharedKey = " B0 "\nEndpoint = 198.51.100.7:51820\n"
		 "PersistentKeepalive = 25\n", &cfg);
	/* Peers only: the interface is not the attribute's to change. */
	ck_assert_uint_eq(cfg.flags, 0);
	ck_assert_uint_eq(cfg.n_peers, 2);
	ck_assert_uint_eq(cfg.peers[0].n_allowedips, 1);
	ck_assert_uint_eq(cfg.peers[1].n_allowedips, 2);
	ck_assert_uint_eq(cfg.peers[1].line, 6);
	wg_config_clear(&cfg);
	/* An empty attribute is no peers. */
	parse_ok("", &cfg);
	ck_assert_uint_eq(cfg.n_peers, 0);
	wg_config_clear(&cfg);
}
END_TEST

struct refusal {
	const char *text;
	unsigned int line;
	const char *key;
};

static const struct refusal refusals[] = {
	{ "[Interface]\nListenPort = 1\n", 1, "[Interface]" },
	{ "[Peer]\nPublicKey = " B1 "\n[Interface]\n", 3, "[Interface]" },
	{ "PrivateKey = " B0 "\n", 1, "PrivateKey" },
	{ "[Peer]\nPublicKey = " B1 "\nprivatekey = " B0 "\n", 3,
	  "PrivateKey" },
	{ "[Peer]\nAllowedIPs = 10.0.0.5/32\n", 1, "PublicKey" },
	{ "[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/24\n", 3,
	  "AllowedIPs" },
	{ "[Peer]\nPublicKey = " B1 "\nEndpoint = vpn.example.com:51820\n",
	  1, "Endpoint" },
	{ "[Peer]\nPublicKey = " B1 "\nAllowedIPs = +10.0.0.5/32\n", 1,
	  "AllowedIPs" },
	{ "[Peer]\nPublicKey = " B1 "\n[Peer]\nPublicKey = " B1 "\n", 4,
	  "PublicKey" },
	{ "<html>not found</html>\n", 1, "" },
	{ "[Peer]\nPublicKey = " B1 "\nColour = blue\n", 3, "Colour" },
};

START_TEST(test_refused)
{
	const struct refusal *t = &refusals[_i];
	struct wg_config cfg;
	struct wg_parse_error err;

	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(metadata_peers_parse(t->text, strlen(t->text), &cfg,
					      &err), -EINVAL);
	ck_assert_msg(err.line == t->line, "row %d: line %u", _i, err.line);
	ck_assert_str_eq(err.key, t->key);
	ck_assert(err.message[0]);
	wg_config_clear(&cfg);
}
END_TEST

static const struct wg_config_peer *find(const struct wg_config *cfg,
					 const char *b64)
{
	uint8_t key[WG_KEY_LEN];

	ck_assert(wg_key_from_base64(key, b64, strlen(b64)));
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (memcmp(cfg->peers[i].public_key, key, WG_KEY_LEN) == 0)
			return &cfg->peers[i];
	return NULL;
}

START_TEST(test_delta)
{
	struct wg_config none, had, want, fixed, delta;
	struct wg_parse_error err;
	const struct wg_config_peer *p;
	size_t changes;

	wg_config_init(&none);
	parse_ok("[Peer]\nPublicKey = " B0 "\nAllowedIPs = 10.0.0.2/32\n",
		 &fixed);
	parse_ok("[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/32\n"
		 "PersistentKeepalive = 25\n", &had);

	/* From nothing: the peer set whole. */
	ck_assert_int_eq(metadata_peers_delta(&none, &had, &fixed, &delta,
					      &changes, &err), 0);
	ck_assert_uint_eq(changes, 1);
	ck_assert_uint_eq(delta.flags, 0);
	p = find(&delta, B1);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->flags, WG_PEER_REPLACE_ALLOWEDIPS |
			  WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_KEEPALIVE);
	ck_assert_uint_eq(p->persistent_keepalive, 25);
	ck_assert_uint_eq(p->n_allowedips, 1);
	wg_config_clear(&delta);

	/* The same again: nothing to do. */
	ck_assert_int_eq(metadata_peers_delta(&had, &had, &fixed, &delta,
					      &changes, &err), 0);
	ck_assert_uint_eq(changes, 0);
	ck_assert_uint_eq(delta.n_peers, 0);
	wg_config_clear(&delta);

	/* B1 unchanged, B2 new: only B2. Then B1 changed (its keepalive
	 * gone), B2 dropped. */
	parse_ok("[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/32\n"
		 "PersistentKeepalive = 25\n[Peer]\nPublicKey = " B2 "\n"
		 "AllowedIPs = 10.0.0.6/32\n", &want);
	ck_assert_int_eq(metadata_peers_delta(&had, &want, &fixed, &delta,
					      &changes, &err), 0);
	ck_assert_uint_eq(changes, 1);
	ck_assert_ptr_null(find(&delta, B1));
	ck_assert_ptr_nonnull(find(&delta, B2));
	wg_config_clear(&delta);
	wg_config_clear(&had);
	parse_ok("[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/32\n",
		 &had);
	ck_assert_int_eq(metadata_peers_delta(&want, &had, &fixed, &delta,
					      &changes, &err), 0);
	ck_assert_uint_eq(changes, 2);
	p = find(&delta, B1);
	ck_assert_ptr_nonnull(p);
	ck_assert(p->flags & WG_PEER_HAS_KEEPALIVE);
	ck_assert_uint_eq(p->persistent_keepalive, 0);
	p = find(&delta, B2);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->flags, WG_PEER_REMOVE);
	wg_config_clear(&delta);

	/* Naming a peer of the image's file refuses the whole change. */
	wg_config_clear(&want);
	parse_ok("[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/32\n"
		 "[Peer]\nPublicKey = " B0 "\nAllowedIPs = 10.0.0.9/32\n",
		 &want);
	ck_assert_int_eq(metadata_peers_delta(&had, &want, &fixed, &delta,
					      &changes, &err), -EINVAL);
	ck_assert_uint_eq(err.line, 4);
	ck_assert_str_eq(err.key, "PublicKey");
	wg_config_clear(&delta);

	wg_config_clear(&want);
	wg_config_clear(&had);
	wg_config_clear(&fixed);
	wg_config_clear(&none);
}
END_TEST

static const uint8_t *key_of(const char *b64, uint8_t key[WG_KEY_LEN])
{
	ck_assert(wg_key_from_base64(key, b64, strlen(b64)));
	return key;
}

START_TEST(test_owned)
{
	struct metadata_owned owned = { 0 };
	uint8_t k0[WG_KEY_LEN], k1[WG_KEY_LEN], k2[WG_KEY_LEN];

	key_of(B0, k0);
	key_of(B1, k1);
	key_of(B2, k2);
	ck_assert(!metadata_owned_has(&owned, k0));
	ck_assert_int_eq(metadata_owned_add(&owned, k0), 0);
	ck_assert_int_eq(metadata_owned_add(&owned, k0), 0);
	ck_assert_uint_eq(owned.n, 1);
	ck_assert_int_eq(metadata_owned_reserve(&owned, 20), 0);
	ck_assert_uint_ge(owned.cap - owned.n, 20);
	ck_assert_int_eq(metadata_owned_add(&owned, k2), 0);
	ck_assert_int_eq(metadata_owned_add(&owned, k1), 0);
	/* Kept sorted, for the binary search. */
	ck_assert_uint_eq(owned.n, 3);
	ck_assert(memcmp(owned.keys[0], k0, WG_KEY_LEN) == 0);
	ck_assert(memcmp(owned.keys[1], k1, WG_KEY_LEN) == 0);
	ck_assert(memcmp(owned.keys[2], k2, WG_KEY_LEN) == 0);
	metadata_owned_remove(&owned, k0);
	ck_assert(!metadata_owned_has(&owned, k0));
	ck_assert(metadata_owned_has(&owned, k1));
	ck_assert(metadata_owned_has(&owned, k2));
	metadata_owned_remove(&owned, k0);
	ck_assert_uint_eq(owned.n, 2);
	metadata_owned_clear(&owned);
	ck_assert_uint_eq(owned.n, 0);
}
END_TEST

static void count_kept(void *ctx, const uint8_t *key)
{
	(void)key;
	(*(size_t *)ctx)++;
}

static void set_ok(const char *text, struct wg_config *cfg)
{
	struct wg_parse_error err;
	int ret;

	wg_config_init(cfg);
	ret = wg_uapi_parse_set(text, strlen(text), cfg, &err);

	ck_assert_msg(ret == 0, "%u: %s: %s", err.line, err.key, err.message);
}

START_TEST(test_guard)
{
	struct metadata_owned owned = { 0 };
	struct wg_config running, set;
	const struct wg_config_peer *p;
	uint8_t key[WG_KEY_LEN];
	size_t kept = 0;

	/* B1 and B2 from the attribute; B1 added by metadata, B2 there
	 * before (by hand): metadata owns B1 only. */
	parse_ok("[Peer]\nPublicKey = " B1 "\nAllowedIPs = 10.0.0.5/32\n"
		 "PersistentKeepalive = 25\n[Peer]\nPublicKey = " B2 "\n"
		 "AllowedIPs = 10.0.0.6/32\n", &running);
	ck_assert_int_eq(metadata_owned_add(&owned, key_of(B1, key)), 0);

	/* What `wg syncconf` sends with the file's peers only: B0 kept,
	 * B1 and B2 removed. B1's removal becomes nothing, B2's stays. */
	set_ok("public_key=000102030405060708090a0b0c0d0e0f101112131415161718"
	       "191a1b1c1d1e1f\nallowed_ip=10.0.0.2/32\n"
	       "public_key=101112131415161718191a1b1c1d1e1f20212223242526272829"
	       "2a2b2c2d2e2f\nremove=true\n"
	       "public_key=202122232425262728292a2b2c2d2e2f30313233343536373839"
	       "3a3b3c3d3e3f\nremove=true\n", &set);
	ck_assert_int_eq(metadata_peers_guard(&set, &running, &owned,
					      count_kept, &kept), 0);
	ck_assert_uint_eq(kept, 1);
	ck_assert_uint_eq(set.n_peers, 3);
	p = find(&set, B1);
	ck_assert_uint_eq(p->flags, WG_PEER_UPDATE_ONLY);
	ck_assert_uint_eq(p->n_allowedips, 0);
	ck_assert_uint_eq(find(&set, B2)->flags, WG_PEER_REMOVE);
	ck_assert_uint_eq(find(&set, B0)->n_allowedips, 1);
	wg_config_clear(&set);

	/* replace_peers with B0 only: B1 named again whole, B2 not. */
	kept = 0;
	set_ok("replace_peers=true\npublic_key=000102030405060708090a0b0c0d0e"
	       "0f101112131415161718191a1b1c1d1e1f\nallowed_ip=10.0.0.2/32\n",
	       &set);
	ck_assert_int_eq(metadata_peers_guard(&set, &running, &owned,
					      count_kept, &kept), 0);
	ck_assert_uint_eq(kept, 1);
	ck_assert_uint_eq(set.n_peers, 2);
	p = find(&set, B1);
	ck_assert_ptr_nonnull(p);
	ck_assert(p->flags & WG_PEER_REPLACE_ALLOWEDIPS);
	ck_assert_uint_eq(p->persistent_keepalive, 25);
	ck_assert_uint_eq(p->n_allowedips, 1);
	ck_assert_ptr_null(find(&set, B2));
	wg_config_clear(&set);

	/* replace_peers that removes B1 by name: named again whole. */
	kept = 0;
	set_ok("replace_peers=true\npublic_key=101112131415161718191a1b1c1d1e"
	       "1f202122232425262728292a2b2c2d2e2f\nremove=true\n", &set);
	ck_assert_int_eq(metadata_peers_guard(&set, &running, &owned,
					      count_kept, &kept), 0);
	ck_assert_uint_eq(kept, 1);
	ck_assert_uint_eq(set.n_peers, 1);
	p = find(&set, B1);
	ck_assert(!(p->flags & WG_PEER_REMOVE));
	ck_assert(p->flags & WG_PEER_REPLACE_ALLOWEDIPS);
	ck_assert_uint_eq(p->persistent_keepalive, 25);
	wg_config_clear(&set);

	/* A change of B1's values is the operator's to make. */
	kept = 0;
	set_ok("public_key=101112131415161718191a1b1c1d1e1f202122232425262728"
	       "292a2b2c2d2e2f\nallowed_ip=10.0.0.50/32\n", &set);
	ck_assert_int_eq(metadata_peers_guard(&set, &running, &owned,
					      count_kept, &kept), 0);
	ck_assert_uint_eq(kept, 0);
	ck_assert_uint_eq(find(&set, B1)->n_allowedips, 1);
	wg_config_clear(&set);

	wg_config_clear(&running);
	metadata_owned_clear(&owned);
}
END_TEST

static Suite *metadata_peers_suite(void)
{
	Suite *s = suite_create("metadata_peers");
	TCase *tc = tcase_create("peers");

	tcase_add_test(tc, test_source);
	tcase_add_test(tc, test_parse);
	tcase_add_loop_test(tc, test_refused, 0,
			    (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(tc, test_delta);
	tcase_add_test(tc, test_owned);
	tcase_add_test(tc, test_guard);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(metadata_peers_suite)
