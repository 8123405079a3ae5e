/* SPDX-License-Identifier: MIT */
/*
 * The set of public keys a configuration's peers have been given so far,
 * so that a parser finds a second peer with one of them in constant time
 * (the device would fold the two into one peer). An open-addressing hash
 * table of peer indexes, kept at most half full; it holds no key of its
 * own but looks them up in the peers it is handed. Pure: no I/O.
 */
#ifndef UNIGUARD_KEYSET_H
#define UNIGUARD_KEYSET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct wg_keyset {
	uint32_t *slots;	/* peer index + 1, 0 when empty */
	size_t cap;		/* a power of two, or 0 */
	uint64_t probes;	/* slots looked at in all: tests bound it */
};

/* Adds peers[n - 1]'s public key, the set holding peers[0..n-2]'s: 0, or
 * -EEXIST with *earlier the index of the first peer that has it, or
 * -ENOMEM. A zeroed struct is an empty set. */
int wg_keyset_add(struct wg_keyset *set, const struct wg_config_peer *peers,
		  size_t n, size_t *earlier);

/* Frees the table; the set is empty again. */
void wg_keyset_clear(struct wg_keyset *set);

#endif
