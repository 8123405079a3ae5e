/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing's allowed-IPs table (whitepaper section 2): a
 * longest-prefix match over IPv4 and IPv6 prefixes, kept as one
 * path-compressed binary trie (a PATRICIA trie) per family.
 *
 * Addresses are held as 128-bit numbers in two host-order words, most
 * significant bit first; an IPv4 address fills the top 32 bits. A node
 * stands for the prefix (key, cidr) and its children extend it: the child
 * on side b has bit `cidr` of its key equal to b, and a longer cidr. Nodes
 * without an owner exist only where two branches part, so they always have
 * two children; that keeps the trie at fewer than two nodes per prefix and
 * lets a lookup skip every run of bits that no prefix tells apart.
 *
 * Lookup walks down from the root without allocating or recursing,
 * remembering the last owner whose prefix matched. Removal frees the node
 * and folds an ownerless parent left with one child into that child, so a
 * table returns to its earlier shape after any churn.
 *
 * Each owned node is also on its owner's circular list (first->prev is the
 * last), in insertion order, so listing and removing an owner's prefixes
 * never walks the trie.
 */
#include "allowedips.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct wg_allowedips_node {
	struct wg_allowedips_node *child[2];
	struct wg_allowedips_node *parent;	/* NULL at a root */
	struct wg_allowedips_owner *owner;	/* NULL: a branch point */
	struct wg_allowedips_node *owner_next;
	struct wg_allowedips_node *owner_prev;
	uint64_t key[2];	/* bits beyond cidr are zero */
	uint8_t cidr;
	uint8_t family;		/* 4 or 6, for listing */
};

struct wg_allowedips {
	struct wg_allowedips_node *root4;
	struct wg_allowedips_node *root6;
	size_t nodes;
	struct wg_allowedips_node *spare;	/* reserved, linked by parent */
	size_t n_spare;
};

static uint64_t load_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t load_be32(const uint8_t *p)
{
	return (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 |
	       (uint64_t)p[2] << 8 | (uint64_t)p[3];
}

/* Address bytes to the trie's key; false for an unknown family. */
static bool key_from_addr(uint64_t key[2], int family, const uint8_t *addr,
			  unsigned *max_cidr)
{
	if (family == AF_INET) {
		key[0] = load_be32(addr) << 32;
		key[1] = 0;
		*max_cidr = 32;
		return true;
	}
	if (family == AF_INET6) {
		key[0] = load_be64(addr);
		key[1] = load_be64(addr + 8);
		*max_cidr = 128;
		return true;
	}
	return false;
}

static void key_mask(uint64_t key[2], unsigned cidr)
{
	if (cidr == 0) {
		key[0] = 0;
		key[1] = 0;
	} else if (cidr < 64) {
		key[0] &= ~UINT64_C(0) << (64 - cidr);
		key[1] = 0;
	} else if (cidr == 64) {
		key[1] = 0;
	} else if (cidr < 128) {
		key[1] &= ~UINT64_C(0) << (128 - cidr);
	}
}

/* How many leading bits a and b share (128 if equal). */
static unsigned common_bits(const uint64_t a[2], const uint64_t b[2])
{
	uint64_t x = a[0] ^ b[0];

	if (x)
		return (unsigned)__builtin_clzll(x);
	x = a[1] ^ b[1];
	if (x)
		return 64 + (unsigned)__builtin_clzll(x);
	return 128;
}

/* Bit i of key, counting from the most significant; i < 128. */
static unsigned key_bit(const uint64_t key[2], unsigned i)
{
	return (unsigned)(key[i >> 6] >> (63 - (i & 63))) & 1;
}

static struct wg_allowedips_node **root_of(struct wg_allowedips *t,
					   int family)
{
	return family == AF_INET ? &t->root4 : &t->root6;
}

/* The pointer that holds n: its parent's child slot or the root. */
static struct wg_allowedips_node **link_of(struct wg_allowedips *t,
					   struct wg_allowedips_node *n)
{
	struct wg_allowedips_node *p = n->parent;

	if (!p)
		return root_of(t, n->family == 4 ? AF_INET : AF_INET6);
	return &p->child[p->child[1] == n];
}

static void owner_append(struct wg_allowedips_owner *o,
			 struct wg_allowedips_node *n)
{
	struct wg_allowedips_node *first = o->first;

	if (!first) {
		n->owner_next = n;
		n->owner_prev = n;
		o->first = n;
	} else {
		n->owner_prev = first->owner_prev;
		n->owner_next = first;
		first->owner_prev->owner_next = n;
		first->owner_prev = n;
	}
	n->owner = o;
	o->count++;
}

static void owner_unlink(struct wg_allowedips_node *n)
{
	struct wg_allowedips_owner *o = n->owner;

	if (n->owner_next == n) {
		o->first = NULL;
	} else {
		n->owner_prev->owner_next = n->owner_next;
		n->owner_next->owner_prev = n->owner_prev;
		if (o->first == n)
			o->first = n->owner_next;
	}
	n->owner_next = NULL;
	n->owner_prev = NULL;
	n->owner = NULL;
	o->count--;
}

static struct wg_allowedips_node *node_new(struct wg_allowedips *t,
					   const uint64_t key[2],
					   unsigned cidr, int family)
{
	struct wg_allowedips_node *n = t->spare;

	if (n) {
		t->spare = n->parent;
		t->n_spare--;
		memset(n, 0, sizeof(*n));
	} else {
		n = calloc(1, sizeof(*n));
		if (!n)
			return NULL;
	}
	n->key[0] = key[0];
	n->key[1] = key[1];
	key_mask(n->key, cidr);
	n->cidr = (uint8_t)cidr;
	n->family = family == AF_INET ? 4 : 6;
	t->nodes++;
	return n;
}

static void node_free(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	free(n);
	t->nodes--;
}

/*
 * Drops n's owner and then every node that no longer earns its place: an
 * ownerless leaf goes, and an ownerless node with one child is replaced by
 * that child. Removing a leaf can leave its parent with one child, so the
 * walk moves up; it stops at the first node that still has an owner or two
 * children, which is at most two steps.
 */
static void node_release(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	if (n->owner)
		owner_unlink(n);
	while (n && !n->owner) {
		struct wg_allowedips_node *parent = n->parent;
		struct wg_allowedips_node *only;

		if (n->child[0] && n->child[1])
			return;
		only = n->child[0] ? n->child[0] : n->child[1];
		*link_of(t, n) = only;
		node_free(t, n);
		if (only) {
			only->parent = parent;
			return;
		}
		n = parent;
	}
}

/* The node for exactly (key, cidr), or NULL. key is already masked. */
static struct wg_allowedips_node *
node_find_exact(struct wg_allowedips_node *n, const uint64_t key[2],
		unsigned cidr)
{
	while (n && n->cidr <= cidr) {
		if (common_bits(key, n->key) < n->cidr)
			return NULL;
		if (n->cidr == cidr)
			return n;
		n = n->child[key_bit(key, n->cidr)];
	}
	return NULL;
}

int wg_allowedips_insert(struct wg_allowedips *t, int family,
			 const uint8_t *addr, uint8_t cidr,
			 struct wg_allowedips_owner *owner)
{
	struct wg_allowedips_node **link, *parent = NULL, *n, *fresh, *branch;
	uint64_t key[2];
	unsigned max_cidr, common = 0;

	if (!owner || !key_from_addr(key, family, addr, &max_cidr) ||
	    cidr > max_cidr)
		return -EINVAL;
	key_mask(key, cidr);

	/* Descend while the node's prefix covers the new one. */
	link = root_of(t, family);
	for (n = *link; n; n = *link) {
		common = common_bits(key, n->key);
		if (n->cidr > cidr || common < n->cidr)
			break;
		if (n->cidr == cidr) {
			/* The same prefix: it changes hands. */
			if (n->owner != owner) {
				if (n->owner)
					owner_unlink(n);
				owner_append(owner, n);
			}
			return 0;
		}
		parent = n;
		link = &n->child[key_bit(key, n->cidr)];
	}

	fresh = node_new(t, key, cidr, family);
	if (!fresh)
		return -ENOMEM;
	fresh->parent = parent;
	if (!n) {
		/* An empty slot below every covering prefix. */
		*link = fresh;
		owner_append(owner, fresh);
		return 0;
	}

	/* n is longer than the new prefix or parts from it at bit common. */
	if (common >= cidr) {
		/* The new prefix covers n: it goes in between. */
		fresh->child[key_bit(n->key, cidr)] = n;
		n->parent = fresh;
		*link = fresh;
		owner_append(owner, fresh);
		return 0;
	}

	/* They part before either ends: an ownerless node joins them. */
	branch = node_new(t, key, common, family);
	if (!branch) {
		node_free(t, fresh);
		return -ENOMEM;
	}
	branch->parent = parent;
	branch->child[key_bit(key, common)] = fresh;
	branch->child[key_bit(n->key, common)] = n;
	fresh->parent = branch;
	n->parent = branch;
	*link = branch;
	owner_append(owner, fresh);
	return 0;
}

int wg_allowedips_remove(struct wg_allowedips *t, int family,
			 const uint8_t *addr, uint8_t cidr,
			 struct wg_allowedips_owner *owner)
{
	struct wg_allowedips_node *n;
	uint64_t key[2];
	unsigned max_cidr;

	if (!key_from_addr(key, family, addr, &max_cidr) || cidr > max_cidr)
		return -EINVAL;
	key_mask(key, cidr);
	n = node_find_exact(*root_of(t, family), key, cidr);
	if (!n || !n->owner || n->owner != owner)
		return -ENOENT;
	node_release(t, n);
	return 0;
}

void wg_allowedips_remove_by_owner(struct wg_allowedips *t,
				   struct wg_allowedips_owner *owner)
{
	while (owner->first)
		node_release(t, owner->first);
}

struct wg_allowedips_owner *wg_allowedips_lookup(const struct wg_allowedips *t,
						 int family,
						 const uint8_t *addr)
{
	const struct wg_allowedips_node *n;
	struct wg_allowedips_owner *best = NULL;
	uint64_t key[2];
	unsigned max_cidr;

	if (!key_from_addr(key, family, addr, &max_cidr))
		return NULL;
	n = family == AF_INET ? t->root4 : t->root6;
	while (n && common_bits(key, n->key) >= n->cidr) {
		if (n->owner)
			best = n->owner;
		if (n->cidr >= max_cidr)
			break;
		n = n->child[key_bit(key, n->cidr)];
	}
	return best;
}

void wg_allowedips_for_each(const struct wg_allowedips_owner *owner,
			    wg_allowedips_fn fn, void *ctx)
{
	const struct wg_allowedips_node *n = owner->first;
	uint8_t addr[16];

	if (!n)
		return;
	do {
		store_be64(addr, n->key[0]);
		store_be64(addr + 8, n->key[1]);
		fn(ctx, n->family == 4 ? AF_INET : AF_INET6, addr, n->cidr);
		n = n->owner_next;
	} while (n != owner->first);
}

struct wg_allowedips *wg_allowedips_new(void)
{
	return calloc(1, sizeof(struct wg_allowedips));
}

/*
 * Frees one trie bottom-up through the parent links (no recursion, no
 * stack), unlinking owned nodes from their owners on the way, so owners
 * are left empty rather than pointing at freed nodes.
 */
static void trie_free(struct wg_allowedips *t, struct wg_allowedips_node *n)
{
	while (n) {
		struct wg_allowedips_node *parent;

		if (n->child[0]) {
			n = n->child[0];
			continue;
		}
		if (n->child[1]) {
			n = n->child[1];
			continue;
		}
		parent = n->parent;
		if (parent)
			parent->child[parent->child[1] == n] = NULL;
		if (n->owner)
			owner_unlink(n);
		node_free(t, n);
		n = parent;
	}
}

int wg_allowedips_reserve(struct wg_allowedips *t, size_t n)
{
	while (t->n_spare < n) {
		struct wg_allowedips_node *s = malloc(sizeof(*s));

		if (!s)
			return -ENOMEM;
		s->parent = t->spare;
		t->spare = s;
		t->n_spare++;
	}
	return 0;
}

void wg_allowedips_release(struct wg_allowedips *t)
{
	while (t->spare) {
		struct wg_allowedips_node *s = t->spare;

		t->spare = s->parent;
		free(s);
	}
	t->n_spare = 0;
}

void wg_allowedips_free(struct wg_allowedips *t)
{
	if (!t)
		return;
	trie_free(t, t->root4);
	trie_free(t, t->root6);
	wg_allowedips_release(t);
	free(t);
}

size_t wg_allowedips_node_count(const struct wg_allowedips *t)
{
	return t->nodes;
}
