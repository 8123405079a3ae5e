/* SPDX-License-Identifier: MIT */
/*
 * Cryptokey routing's table: a longest-prefix-match trie per address family.
 * Outbound packets find their peer by destination address; inbound packets
 * are accepted only if their source maps back to the peer that sent them.
 *
 * Each prefix belongs to one owner (a peer). The owner embeds a
 * `struct wg_allowedips_owner`, which links that owner's prefixes so that
 * listing and removing them never walks the whole trie.
 */
#ifndef UNIGUARD_ALLOWEDIPS_H
#define UNIGUARD_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

struct wg_allowedips_node;

struct wg_allowedips_owner {
	struct wg_allowedips_node *first;	/* this owner's prefixes */
	size_t count;
};

struct wg_allowedips;

struct wg_allowedips *wg_allowedips_new(void);
void wg_allowedips_free(struct wg_allowedips *t);

/* Sets aside memory for n more nodes, so that the inserts of one change
 * cannot fail half-way: an insert adds at most two nodes. 0 or -ENOMEM
 * (what was set aside stays until released). */
int wg_allowedips_reserve(struct wg_allowedips *t, size_t n);
/* Frees what was set aside and not used. */
void wg_allowedips_release(struct wg_allowedips *t);

/* family is AF_INET or AF_INET6, addr in network byte order (4 or 16 bytes),
 * host bits beyond cidr ignored. An existing identical prefix changes owner.
 * 0, -EINVAL (bad family or cidr) or -ENOMEM. */
int wg_allowedips_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
			 uint8_t cidr, struct wg_allowedips_owner *owner);
/* Removes the prefix if owner holds it: 0, or -ENOENT. */
int wg_allowedips_remove(struct wg_allowedips *t, int family, const uint8_t *addr,
			 uint8_t cidr, struct wg_allowedips_owner *owner);
void wg_allowedips_remove_by_owner(struct wg_allowedips *t,
				   struct wg_allowedips_owner *owner);
/* Longest match, or NULL. */
struct wg_allowedips_owner *wg_allowedips_lookup(const struct wg_allowedips *t,
						 int family, const uint8_t *addr);

typedef void (*wg_allowedips_fn)(void *ctx, int family, const uint8_t *addr,
				 uint8_t cidr);
/* Calls fn for each of owner's prefixes, in the order they were inserted. */
void wg_allowedips_for_each(const struct wg_allowedips_owner *owner,
			    wg_allowedips_fn fn, void *ctx);

/* For tests: nodes currently allocated (0 for an empty table). */
size_t wg_allowedips_node_count(const struct wg_allowedips *t);

#endif
