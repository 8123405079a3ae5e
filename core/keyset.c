/* SPDX-License-Identifier: MIT */
/* The peers' public keys, hashed: keyset.h. */
#include "keyset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"

/* Public keys are not secret and come from the file's own author: a
 * plain hash of all 32 bytes will do, as long as every byte reaches the
 * low bits that pick the slot (splitmix64's finaliser on each word). */
static size_t key_hash(const uint8_t key[WG_KEY_LEN])
{
	uint64_t h = 0, word;

	for (size_t i = 0; i < WG_KEY_LEN; i += sizeof(word)) {
		memcpy(&word, key + i, sizeof(word));
		h ^= word;
		h ^= h >> 30;
		h *= UINT64_C(0xbf58476d1ce4e5b9);
		h ^= h >> 27;
		h *= UINT64_C(0x94d049bb133111eb);
		h ^= h >> 31;
	}
	return (size_t)h;
}

void wg_keyset_clear(struct wg_keyset *set)
{
	free(set->slots);
	set->slots = NULL;
	set->cap = 0;
}

/* Where peer `index`'s key goes in slots: the first empty slot after its
 * hash, or the slot of an earlier peer with the same key. */
static size_t slot_find(struct wg_keyset *set, const uint32_t *slots,
			size_t cap, const struct wg_config_peer *peers,
			size_t index)
{
	const uint8_t *key = peers[index].public_key;
	size_t mask = cap - 1, i = key_hash(key) & mask;

	for (;; i = (i + 1) & mask) {
		set->probes++;
		if (!slots[i] ||
		    wg_equal(peers[slots[i] - 1].public_key, key, WG_KEY_LEN))
			return i;
	}
}

/* Room for n keys at a load of at most one half. */
static int reserve(struct wg_keyset *set, const struct wg_config_peer *peers,
		   size_t n)
{
	size_t cap = set->cap;
	uint32_t *grown;

	if (n > UINT32_MAX - 1)
		return -ENOMEM;
	if (2 * n <= cap)
		return 0;
	cap = cap ? 2 * cap : 64;
	grown = calloc(cap, sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	for (size_t i = 0; i < set->cap; i++) {
		uint32_t v = set->slots[i];

		if (v)
			grown[slot_find(set, grown, cap, peers, v - 1)] = v;
	}
	free(set->slots);
	set->slots = grown;
	set->cap = cap;
	return 0;
}

int wg_keyset_add(struct wg_keyset *set, const struct wg_config_peer *peers,
		  size_t n, size_t *earlier)
{
	size_t slot;

	if (reserve(set, peers, n))
		return -ENOMEM;
	slot = slot_find(set, set->slots, set->cap, peers, n - 1);
	if (set->slots[slot]) {
		*earlier = set->slots[slot] - 1;
		return -EEXIST;
	}
	set->slots[slot] = (uint32_t)n;
	return 0;
}
