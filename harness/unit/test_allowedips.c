/* SPDX-License-Identifier: MIT */
/*
 * The allowed-IPs trie: hand-picked cases with their answers worked out by
 * hand, and a randomized comparison against a plain list of prefixes that
 * answers every lookup by scanning all of them.
 */
#include "allowedips.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "support.h"

/* ---- helpers ---------------------------------------------------------- */

static void parse_addr(int family, const char *text, uint8_t out[16])
{
	memset(out, 0, 16);
	ck_assert_msg(inet_pton(family, text, out) == 1, "bad address %s",
		      text);
}

static int insert_text(struct wg_allowedips *t, const char *text,
		       uint8_t cidr, struct wg_allowedips_owner *o)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	parse_addr(family, text, a);
	return wg_allowedips_insert(t, family, a, cidr, o);
}

static int remove_text(struct wg_allowedips *t, const char *text,
		       uint8_t cidr, struct wg_allowedips_owner *o)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	parse_addr(family, text, a);
	return wg_allowedips_remove(t, family, a, cidr, o);
}

static struct wg_allowedips_owner *lookup_text(struct wg_allowedips *t,
					       const char *text)
{
	int family = strchr(text, ':') ? AF_INET6 : AF_INET;
	uint8_t a[16];

	parse_addr(family, text, a);
	return wg_allowedips_lookup(t, family, a);
}

#define INSERT_OK(t, text, cidr, o) \
	ck_assert_int_eq(insert_text((t), (text), (cidr), (o)), 0)
#define LOOKUP_IS(t, text, o) \
	ck_assert_ptr_eq(lookup_text((t), (text)), (o))

/* for_each collects "addr/cidr" strings joined by spaces. */
struct listing {
	char text[4096];
	size_t n;
};

static void collect(void *ctx, int family, const uint8_t *addr, uint8_t cidr)
{
	struct listing *l = ctx;
	char buf[INET6_ADDRSTRLEN];
	size_t used = strlen(l->text);

	ck_assert_ptr_nonnull(inet_ntop(family, addr, buf, sizeof(buf)));
	snprintf(l->text + used, sizeof(l->text) - used, "%s%s/%u",
		 used ? " " : "", buf, cidr);
	l->n++;
}

static const char *list_owner(const struct wg_allowedips_owner *o,
			      struct listing *l)
{
	memset(l, 0, sizeof(*l));
	wg_allowedips_for_each(o, collect, l);
	return l->text;
}

/* ---- hand-picked cases ------------------------------------------------ */

START_TEST(test_default_routes_coexist)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 };

	ck_assert_ptr_nonnull(t);
	LOOKUP_IS(t, "1.2.3.4", NULL);
	LOOKUP_IS(t, "::1", NULL);
	INSERT_OK(t, "0.0.0.0", 0, &a);
	LOOKUP_IS(t, "1.2.3.4", &a);
	LOOKUP_IS(t, "255.255.255.255", &a);
	LOOKUP_IS(t, "0.0.0.0", &a);
	LOOKUP_IS(t, "2001:db8::1", NULL);	/* families never mix */
	INSERT_OK(t, "::", 0, &b);
	LOOKUP_IS(t, "2001:db8::1", &b);
	LOOKUP_IS(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &b);
	LOOKUP_IS(t, "1.2.3.4", &a);
	/* A /0 with host bits set is still the default route. */
	INSERT_OK(t, "9.9.9.9", 0, &b);
	LOOKUP_IS(t, "1.2.3.4", &b);
	ck_assert_uint_eq(a.count, 0);
	ck_assert_uint_eq(b.count, 2);
	ck_assert_int_eq(remove_text(t, "0.0.0.0", 0, &b), 0);
	LOOKUP_IS(t, "1.2.3.4", NULL);
	LOOKUP_IS(t, "::", &b);
	ck_assert_int_eq(remove_text(t, "::", 0, &b), 0);
	LOOKUP_IS(t, "::", NULL);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_host_routes)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 }, c = { 0 };

	INSERT_OK(t, "10.0.0.1", 32, &a);
	LOOKUP_IS(t, "10.0.0.1", &a);
	LOOKUP_IS(t, "10.0.0.0", NULL);
	LOOKUP_IS(t, "10.0.0.2", NULL);
	LOOKUP_IS(t, "138.0.0.1", NULL);	/* differs in the first bit */
	INSERT_OK(t, "10.0.0.0", 24, &b);
	LOOKUP_IS(t, "10.0.0.1", &a);
	LOOKUP_IS(t, "10.0.0.2", &b);
	LOOKUP_IS(t, "10.0.0.255", &b);
	LOOKUP_IS(t, "10.0.1.1", NULL);
	INSERT_OK(t, "255.255.255.255", 32, &c);
	LOOKUP_IS(t, "255.255.255.255", &c);
	LOOKUP_IS(t, "255.255.255.254", NULL);

	INSERT_OK(t, "2001:db8::1", 128, &a);
	INSERT_OK(t, "2001:db8::", 64, &b);
	INSERT_OK(t, "2001:db8::", 65, &c);
	LOOKUP_IS(t, "2001:db8::1", &a);
	LOOKUP_IS(t, "2001:db8::2", &c);
	LOOKUP_IS(t, "2001:db8::8000:0:0:1", &b);	/* bit 64 set */
	LOOKUP_IS(t, "2001:db8:0:1::1", NULL);
	INSERT_OK(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128, &c);
	LOOKUP_IS(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", &c);
	LOOKUP_IS(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL);
	/* The IPv4 and IPv6 tables hold the same bit patterns apart. */
	LOOKUP_IS(t, "::a00:1", NULL);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_overlapping_prefixes)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
	struct wg_allowedips_owner e = { 0 };

	/* Inserted longest first, so shorter prefixes land above them. */
	INSERT_OK(t, "10.1.1.128", 25, &d);
	INSERT_OK(t, "10.1.1.0", 24, &c);
	INSERT_OK(t, "10.0.0.0", 8, &a);
	INSERT_OK(t, "10.1.0.0", 16, &b);
	INSERT_OK(t, "10.1.1.64", 26, &e);
	LOOKUP_IS(t, "10.1.1.200", &d);
	LOOKUP_IS(t, "10.1.1.128", &d);
	LOOKUP_IS(t, "10.1.1.127", &e);
	LOOKUP_IS(t, "10.1.1.64", &e);
	LOOKUP_IS(t, "10.1.1.63", &c);
	LOOKUP_IS(t, "10.1.2.1", &b);
	LOOKUP_IS(t, "10.2.0.1", &a);
	LOOKUP_IS(t, "11.0.0.1", NULL);
	LOOKUP_IS(t, "9.255.255.255", NULL);

	/* Taking out the middle of the chain exposes the next one up. */
	ck_assert_int_eq(remove_text(t, "10.1.1.0", 24, &c), 0);
	LOOKUP_IS(t, "10.1.1.63", &b);
	LOOKUP_IS(t, "10.1.1.200", &d);
	ck_assert_int_eq(remove_text(t, "10.1.0.0", 16, &b), 0);
	LOOKUP_IS(t, "10.1.1.63", &a);
	LOOKUP_IS(t, "10.1.1.64", &e);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 8, &a), 0);
	LOOKUP_IS(t, "10.1.1.63", NULL);
	LOOKUP_IS(t, "10.1.1.129", &d);

	/* Same shape in IPv6, across the boundary between the two words. */
	INSERT_OK(t, "2001:db8::", 32, &a);
	INSERT_OK(t, "2001:db8:1::", 48, &b);
	INSERT_OK(t, "2001:db8:1:2::", 63, &c);
	INSERT_OK(t, "2001:db8:1:3::", 64, &d);
	INSERT_OK(t, "2001:db8:1:3:8000::", 66, &e);
	LOOKUP_IS(t, "2001:db8:1:3:8000::1", &e);
	LOOKUP_IS(t, "2001:db8:1:3:c000::1", &d);
	LOOKUP_IS(t, "2001:db8:1:3::1", &d);
	LOOKUP_IS(t, "2001:db8:1:2::1", &c);
	LOOKUP_IS(t, "2001:db8:1:4::1", &b);
	LOOKUP_IS(t, "2001:db8:2::1", &a);
	LOOKUP_IS(t, "2001:db9::1", NULL);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_host_bits_ignored)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 };
	struct listing l;

	INSERT_OK(t, "192.168.1.77", 24, &a);
	INSERT_OK(t, "2001:db8::dead:beef", 100, &a);
	ck_assert_str_eq(list_owner(&a, &l),
			 "192.168.1.0/24 2001:db8::d000:0/100");
	LOOKUP_IS(t, "192.168.1.1", &a);
	/* The same prefix written with other host bits is the same prefix. */
	INSERT_OK(t, "192.168.1.200", 24, &b);
	ck_assert_uint_eq(a.count, 1);
	ck_assert_uint_eq(b.count, 1);
	ck_assert_int_eq(remove_text(t, "192.168.1.3", 24, &b), 0);
	ck_assert_int_eq(remove_text(t, "2001:db8::d123:4567", 100, &a), 0);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_owner_change)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 };
	struct listing l;

	INSERT_OK(t, "10.0.0.0", 8, &a);
	INSERT_OK(t, "10.9.0.0", 16, &a);
	INSERT_OK(t, "172.16.0.0", 12, &a);
	LOOKUP_IS(t, "10.9.9.9", &a);
	INSERT_OK(t, "10.9.0.0", 16, &b);
	LOOKUP_IS(t, "10.9.9.9", &b);
	LOOKUP_IS(t, "10.8.9.9", &a);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_uint_eq(b.count, 1);
	ck_assert_str_eq(list_owner(&a, &l), "10.0.0.0/8 172.16.0.0/12");
	ck_assert_str_eq(list_owner(&b, &l), "10.9.0.0/16");
	/* Inserting again for the same owner changes nothing. */
	INSERT_OK(t, "10.0.0.0", 8, &a);
	ck_assert_str_eq(list_owner(&a, &l), "10.0.0.0/8 172.16.0.0/12");
	/* The old owner no longer holds it. */
	ck_assert_int_eq(remove_text(t, "10.9.0.0", 16, &a), -ENOENT);
	LOOKUP_IS(t, "10.9.9.9", &b);
	/* Three prefixes, and the /0 where 10/8 and 172.16/12 part. */
	ck_assert_uint_eq(wg_allowedips_node_count(t), 4);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_remove_needs_owner)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 };
	size_t nodes;

	INSERT_OK(t, "10.0.0.0", 24, &a);
	INSERT_OK(t, "10.0.1.0", 24, &a);
	INSERT_OK(t, "fd00::", 8, &a);
	nodes = wg_allowedips_node_count(t);
	ck_assert_uint_eq(nodes, 4);	/* two /24s joined under a /23 */

	ck_assert_int_eq(remove_text(t, "10.0.0.0", 24, &b), -ENOENT);
	ck_assert_int_eq(remove_text(t, "fd00::", 8, &b), -ENOENT);
	/* The /23 branch point exists but nobody holds it. */
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 23, &a), -ENOENT);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 25, &a), -ENOENT);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 22, &a), -ENOENT);
	ck_assert_int_eq(remove_text(t, "11.0.0.0", 24, &a), -ENOENT);
	ck_assert_int_eq(remove_text(t, "fd00::", 9, &a), -ENOENT);
	ck_assert_int_eq(remove_text(t, "fd00::", 0, &a), -ENOENT);
	ck_assert_uint_eq(wg_allowedips_node_count(t), nodes);
	ck_assert_uint_eq(a.count, 3);
	ck_assert_uint_eq(b.count, 0);
	LOOKUP_IS(t, "10.0.0.5", &a);
	LOOKUP_IS(t, "10.0.1.5", &a);
	LOOKUP_IS(t, "fdff::1", &a);

	/* Claiming the branch point's own prefix adds no node; giving it up
	 * keeps the branch point. */
	INSERT_OK(t, "10.0.1.255", 23, &b);
	ck_assert_uint_eq(wg_allowedips_node_count(t), nodes);
	LOOKUP_IS(t, "10.0.0.5", &a);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 23, &b), 0);
	ck_assert_uint_eq(wg_allowedips_node_count(t), nodes);
	ck_assert_uint_eq(b.count, 0);

	ck_assert_int_eq(remove_text(t, "10.0.0.0", 24, &a), 0);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 24, &a), -ENOENT);
	/* The branch point went with it. */
	ck_assert_uint_eq(wg_allowedips_node_count(t), 2);
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_invalid_arguments)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 };
	uint8_t addr[16] = { 10 };

	ck_assert_int_eq(wg_allowedips_insert(t, AF_UNIX, addr, 8, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET, addr, 33, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET6, addr, 129, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET6, addr, 255, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET, addr, 8, NULL),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_remove(t, AF_UNIX, addr, 8, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_remove(t, AF_INET, addr, 33, &a),
			 -EINVAL);
	ck_assert_int_eq(wg_allowedips_remove(t, AF_INET6, addr, 129, &a),
			 -EINVAL);
	ck_assert_ptr_null(wg_allowedips_lookup(t, AF_UNIX, addr));
	ck_assert_uint_eq(a.count, 0);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
	/* The largest valid lengths are accepted. */
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET, addr, 32, &a), 0);
	ck_assert_int_eq(wg_allowedips_insert(t, AF_INET6, addr, 128, &a), 0);
	wg_allowedips_free(t);
	wg_allowedips_free(NULL);
}
END_TEST

START_TEST(test_for_each_order)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 }, c = { 0 };
	struct listing l;

	ck_assert_str_eq(list_owner(&a, &l), "");
	ck_assert_uint_eq(l.n, 0);
	INSERT_OK(t, "192.168.0.0", 16, &a);
	INSERT_OK(t, "10.0.0.1", 32, &b);
	INSERT_OK(t, "fd00::", 64, &a);
	INSERT_OK(t, "10.0.0.0", 8, &a);
	INSERT_OK(t, "0.0.0.0", 0, &b);
	INSERT_OK(t, "2001:db8::", 32, &a);
	INSERT_OK(t, "10.0.0.2", 31, &a);
	INSERT_OK(t, "172.16.0.0", 12, &c);
	ck_assert_str_eq(list_owner(&a, &l),
			 "192.168.0.0/16 fd00::/64 10.0.0.0/8 2001:db8::/32 "
			 "10.0.0.2/31");
	ck_assert_uint_eq(l.n, 5);
	ck_assert_uint_eq(a.count, 5);
	ck_assert_str_eq(list_owner(&b, &l), "10.0.0.1/32 0.0.0.0/0");
	ck_assert_str_eq(list_owner(&c, &l), "172.16.0.0/12");

	/* Removing from the front, middle and end keeps the rest in order. */
	ck_assert_int_eq(remove_text(t, "192.168.0.0", 16, &a), 0);
	ck_assert_int_eq(remove_text(t, "10.0.0.0", 8, &a), 0);
	ck_assert_int_eq(remove_text(t, "10.0.0.2", 31, &a), 0);
	ck_assert_str_eq(list_owner(&a, &l), "fd00::/64 2001:db8::/32");
	/* A prefix that changes hands goes to the end of its new owner's. */
	INSERT_OK(t, "fd00::", 64, &c);
	INSERT_OK(t, "10.0.0.0", 8, &a);
	ck_assert_str_eq(list_owner(&a, &l), "2001:db8::/32 10.0.0.0/8");
	ck_assert_str_eq(list_owner(&c, &l), "172.16.0.0/12 fd00::/64");
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_remove_by_owner)
{
	struct wg_allowedips *t = wg_allowedips_new();
	struct wg_allowedips_owner a = { 0 }, b = { 0 };
	struct listing l;

	INSERT_OK(t, "10.0.0.0", 8, &a);
	INSERT_OK(t, "10.1.0.0", 16, &b);
	INSERT_OK(t, "10.1.1.0", 24, &a);
	INSERT_OK(t, "10.1.1.1", 32, &b);
	INSERT_OK(t, "0.0.0.0", 0, &a);
	INSERT_OK(t, "2001:db8::", 32, &a);
	INSERT_OK(t, "2001:db8::1", 128, &b);
	wg_allowedips_remove_by_owner(t, &a);
	ck_assert_uint_eq(a.count, 0);
	ck_assert_ptr_null(a.first);
	ck_assert_str_eq(list_owner(&a, &l), "");
	ck_assert_str_eq(list_owner(&b, &l),
			 "10.1.0.0/16 10.1.1.1/32 2001:db8::1/128");
	LOOKUP_IS(t, "10.1.1.1", &b);
	LOOKUP_IS(t, "10.1.1.2", &b);
	LOOKUP_IS(t, "10.2.0.0", NULL);
	LOOKUP_IS(t, "1.1.1.1", NULL);
	LOOKUP_IS(t, "2001:db8::1", &b);
	LOOKUP_IS(t, "2001:db8::2", NULL);
	/* Removing an owner that holds nothing is harmless. */
	wg_allowedips_remove_by_owner(t, &a);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 3);
	wg_allowedips_remove_by_owner(t, &b);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
	LOOKUP_IS(t, "10.1.1.1", NULL);
	wg_allowedips_free(t);
}
END_TEST

/* ---- randomized ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* xorshift64*: reproducible from a fixed seed. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

static unsigned rng_below(unsigned n)
{
	return (unsigned)(rng_next() % n);
}

static void mask_bytes(uint8_t *a, unsigned cidr)
{
	for (unsigned i = 0; i < 16; i++) {
		if (cidr >= 8 * (i + 1))
			continue;
		if (cidr <= 8 * i)
			a[i] = 0;
		else
			a[i] &= (uint8_t)(0xff << (8 - (cidr - 8 * i)));
	}
}

static bool prefix_covers(const uint8_t *prefix, unsigned cidr,
			  const uint8_t *addr)
{
	unsigned whole = cidr / 8, rest = cidr % 8;

	if (memcmp(prefix, addr, whole))
		return false;
	return !rest || ((prefix[whole] ^ addr[whole]) &
			 (uint8_t)(0xff << (8 - rest))) == 0;
}

/* The model: every prefix in a flat array; seq orders an owner's list. */
#define MODEL_MAX 512
#define OWNERS 8

struct model_entry {
	int family;
	uint8_t addr[16];	/* masked */
	unsigned cidr;
	int owner;
	unsigned long seq;
};

struct model {
	struct model_entry e[MODEL_MAX];
	size_t n;
	unsigned long seq;
};

static struct model_entry *model_find(struct model *m, int family,
				      const uint8_t *addr, unsigned cidr)
{
	for (size_t i = 0; i < m->n; i++) {
		struct model_entry *e = &m->e[i];

		if (e->family == family && e->cidr == cidr &&
		    !memcmp(e->addr, addr, 16))
			return e;
	}
	return NULL;
}

static void model_insert(struct model *m, int family, const uint8_t *addr,
			 unsigned cidr, int owner)
{
	struct model_entry *e = model_find(m, family, addr, cidr);

	if (e) {
		if (e->owner != owner) {
			e->owner = owner;
			e->seq = ++m->seq;
		}
		return;
	}
	ck_assert_uint_lt(m->n, MODEL_MAX);
	e = &m->e[m->n++];
	e->family = family;
	memcpy(e->addr, addr, 16);
	e->cidr = cidr;
	e->owner = owner;
	e->seq = ++m->seq;
}

static int model_remove(struct model *m, int family, const uint8_t *addr,
			unsigned cidr, int owner)
{
	struct model_entry *e = model_find(m, family, addr, cidr);

	if (!e || e->owner != owner)
		return -ENOENT;
	*e = m->e[--m->n];
	return 0;
}

static void model_remove_owner(struct model *m, int owner)
{
	for (size_t i = 0; i < m->n;) {
		if (m->e[i].owner == owner)
			m->e[i] = m->e[--m->n];
		else
			i++;
	}
}

static int model_lookup(const struct model *m, int family,
			const uint8_t *addr)
{
	int best = -1;
	int best_cidr = -1;

	for (size_t i = 0; i < m->n; i++) {
		const struct model_entry *e = &m->e[i];

		if (e->family == family && (int)e->cidr > best_cidr &&
		    prefix_covers(e->addr, e->cidr, addr)) {
			best = e->owner;
			best_cidr = (int)e->cidr;
		}
	}
	return best;
}

/*
 * Addresses cluster around a few bases with a few random bits flipped, so
 * prefixes nest and part at every depth; some are wholly random.
 */
static const uint8_t bases[4][16] = {
	{ 10, 0, 0, 0 },
	{ 192, 168, 1, 0 },
	{ 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 },
	{ 0xfd, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x80 },
};

static int random_addr(uint8_t a[16])
{
	unsigned which = rng_below(4);
	int family = which < 2 ? AF_INET : AF_INET6;
	unsigned bits = family == AF_INET ? 32 : 128;

	memcpy(a, bases[which], 16);
	if (rng_below(8) == 0) {
		for (unsigned i = 0; i < bits / 8; i++)
			a[i] = (uint8_t)rng_next();
	} else {
		unsigned flips = rng_below(4);

		for (unsigned i = 0; i < flips; i++) {
			unsigned bit = rng_below(bits);

			a[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		}
	}
	return family;
}

static unsigned random_cidr(int family)
{
	unsigned bits = family == AF_INET ? 32 : 128;
	unsigned k = rng_below(32);

	if (k < 6)
		return bits;
	if (k == 6)
		return rng_below(9);		/* short, including /0 */
	return 8 + rng_below(bits - 7);
}

struct order_check {
	const struct model *m;
	int owner;
	unsigned long last_seq;
	size_t n;
};

/* Each listed prefix must be the owner's, in increasing seq order. */
static void check_listed(void *ctx, int family, const uint8_t *addr,
			 uint8_t cidr)
{
	struct order_check *c = ctx;
	struct model *m = (struct model *)c->m;
	struct model_entry *e = model_find(m, family, addr, cidr);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->owner, c->owner);
	ck_assert_uint_gt(e->seq, c->last_seq);
	c->last_seq = e->seq;
	c->n++;
}

static void check_owners(const struct model *m,
			 struct wg_allowedips_owner *owners)
{
	for (int o = 0; o < OWNERS; o++) {
		struct order_check c = { .m = m, .owner = o };
		size_t held = 0;

		for (size_t i = 0; i < m->n; i++)
			held += m->e[i].owner == o;
		wg_allowedips_for_each(&owners[o], check_listed, &c);
		ck_assert_uint_eq(c.n, held);
		ck_assert_uint_eq(owners[o].count, held);
	}
}

static void run_differential(uint64_t seed, unsigned steps)
{
	static struct model m;
	struct wg_allowedips_owner owners[OWNERS];
	struct wg_allowedips *t = wg_allowedips_new();
	unsigned lookups = 0, hits = 0, removed = 0, refused = 0;

	ck_assert_ptr_nonnull(t);
	memset(&m, 0, sizeof(m));
	memset(owners, 0, sizeof(owners));
	rng_state = seed;
	for (unsigned step = 0; step < steps; step++) {
		uint8_t raw[16], a[16];
		int family = random_addr(raw);
		unsigned cidr = random_cidr(family);
		int o = (int)rng_below(OWNERS);
		unsigned op = rng_below(100);

		/* The model holds masked prefixes; the table is given the
		 * address with its host bits and must ignore them. */
		memcpy(a, raw, 16);
		mask_bytes(a, cidr);
		if (op < 62 && m.n < MODEL_MAX - 1) {	/* else remove */
			model_insert(&m, family, a, cidr, o);
			ck_assert_int_eq(wg_allowedips_insert(t, family, raw,
							      (uint8_t)cidr,
							      &owners[o]), 0);
		} else if (op < 90) {
			/* Remove: half the time a prefix that is there. */
			if (m.n && rng_below(2)) {
				struct model_entry *e = &m.e[rng_below(
					(unsigned)m.n)];

				family = e->family;
				memcpy(a, e->addr, 16);
				memcpy(raw, e->addr, 16);
				cidr = e->cidr;
				if (rng_below(4))
					o = e->owner;
			}
			int want = model_remove(&m, family, a, cidr, o);

			ck_assert_int_eq(wg_allowedips_remove(t, family, raw,
							      (uint8_t)cidr,
							      &owners[o]),
					 want);
			if (want)
				refused++;
			else
				removed++;
		} else if (op < 91) {
			model_remove_owner(&m, o);
			wg_allowedips_remove_by_owner(t, &owners[o]);
		}

		/* Every step: lookups compared with the model. */
		for (int i = 0; i < 8; i++) {
			uint8_t q[16];
			int qf = random_addr(q);
			int want = model_lookup(&m, qf, q);
			struct wg_allowedips_owner *got =
				wg_allowedips_lookup(t, qf, q);

			ck_assert_ptr_eq(got, want < 0 ? NULL : &owners[want]);
			lookups++;
			hits += want >= 0;
		}
		ck_assert_uint_le(wg_allowedips_node_count(t),
				  m.n ? 2 * m.n - 1 : 0);
		if (step % 256 == 0)
			check_owners(&m, owners);
	}
	check_owners(&m, owners);
	ck_assert_uint_gt(m.n, 20);
	ck_assert_uint_gt(hits, lookups / 4);
	ck_assert_uint_gt(lookups - hits, lookups / 20);
	ck_assert_uint_gt(removed, steps / 20);
	ck_assert_uint_gt(refused, steps / 20);

	for (int o = 0; o < OWNERS; o++)
		wg_allowedips_remove_by_owner(t, &owners[o]);
	ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
	wg_allowedips_free(t);
}

START_TEST(test_differential)
{
	run_differential(UINT64_C(0x5eed0f0a11de1f5), 20000);
	run_differential(UINT64_C(0x0123456789abcdef), 20000);
}
END_TEST

START_TEST(test_churn_returns_to_empty)
{
	enum { N = 10000 };
	static uint8_t addrs[N][16];
	static uint8_t cidrs[N];
	static int families[N];
	struct wg_allowedips_owner owners[4];
	struct wg_allowedips *t = wg_allowedips_new();

	memset(owners, 0, sizeof(owners));
	rng_state = 42;
	for (int round = 0; round < 4; round++) {
		size_t held = 0;

		for (int i = 0; i < N; i++) {
			families[i] = random_addr(addrs[i]);
			cidrs[i] = (uint8_t)random_cidr(families[i]);
			ck_assert_int_eq(wg_allowedips_insert(t, families[i],
							      addrs[i],
							      cidrs[i],
							      &owners[i % 4]),
					 0);
		}
		for (int o = 0; o < 4; o++)
			held += owners[o].count;
		ck_assert_uint_le(wg_allowedips_node_count(t), 2 * held - 1);
		/* Half go one at a time (in another order), half by owner. */
		for (int i = N - 1; i >= 0; i--) {
			if (i % 4 >= 2)
				continue;
			/* A duplicate prefix may have moved to a later
			 * owner or be gone already. */
			(void)wg_allowedips_remove(t, families[i], addrs[i],
						   cidrs[i], &owners[i % 4]);
		}
		ck_assert_uint_eq(owners[0].count, 0);
		ck_assert_uint_eq(owners[1].count, 0);
		wg_allowedips_remove_by_owner(t, &owners[2]);
		wg_allowedips_remove_by_owner(t, &owners[3]);
		ck_assert_uint_eq(wg_allowedips_node_count(t), 0);
		for (int i = 0; i < N; i += 97)
			ck_assert_ptr_null(wg_allowedips_lookup(t, families[i],
								addrs[i]));
	}
	wg_allowedips_free(t);
}
END_TEST

START_TEST(test_free_populated)
{
	struct wg_allowedips_owner owners[3];
	struct wg_allowedips *t = wg_allowedips_new();

	memset(owners, 0, sizeof(owners));
	rng_state = 7;
	for (int i = 0; i < 5000; i++) {
		uint8_t a[16];
		int family = random_addr(a);
		uint8_t cidr = (uint8_t)random_cidr(family);

		ck_assert_int_eq(wg_allowedips_insert(t, family, a, cidr,
						      &owners[i % 3]),
				 0);
	}
	ck_assert_uint_gt(wg_allowedips_node_count(t), 1000);
	/* The sanitizer build reports any node left behind. */
	wg_allowedips_free(t);
	/* Owners are left empty rather than pointing at freed nodes. */
	for (int o = 0; o < 3; o++) {
		ck_assert_ptr_null(owners[o].first);
		ck_assert_uint_eq(owners[o].count, 0);
	}
}
END_TEST

static Suite *allowedips_suite(void)
{
	Suite *s = suite_create("allowedips");
	TCase *cases = tcase_create("cases");
	TCase *random = tcase_create("random");

	tcase_add_test(cases, test_default_routes_coexist);
	tcase_add_test(cases, test_host_routes);
	tcase_add_test(cases, test_overlapping_prefixes);
	tcase_add_test(cases, test_host_bits_ignored);
	tcase_add_test(cases, test_owner_change);
	tcase_add_test(cases, test_remove_needs_owner);
	tcase_add_test(cases, test_invalid_arguments);
	tcase_add_test(cases, test_for_each_order);
	tcase_add_test(cases, test_remove_by_owner);
	tcase_add_test(random, test_differential);
	tcase_add_test(random, test_churn_returns_to_empty);
	tcase_add_test(random, test_free_populated);
	suite_add_tcase(s, cases);
	suite_add_tcase(s, random);
	return s;
}

UNIGUARD_TEST_MAIN(allowedips_suite)
