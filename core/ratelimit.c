/* SPDX-License-Identifier: MIT */
/*
 * Handshake rate limiting under load (whitepaper section 5.3, "Denial of
 * Service Mitigation & Cookies"): a token bucket per source address, 20
 * packets a second with a burst of 5, counted in nanoseconds. A packet
 * costs 1e9 / 20 ns of tokens; a bucket holds at most five packets' worth
 * and refills with elapsed time. A source seen for the first time is
 * charged its first packet from a full bucket.
 *
 * Sources are an IPv4 address or an IPv6 /64 (one host usually owns a
 * whole /64), with the family in the key so the two never share a bucket.
 *
 * State is bounded: WG_RATELIMIT_MAX_ENTRIES sources in one array, chained
 * from a power-of-two bucket array by 32-bit indices, all allocated in
 * _new. The bucket is chosen by SipHash under a secret key so an attacker
 * cannot aim many sources at one chain. A source idle for more than a
 * second has a full bucket again and so carries no information: it is
 * reclaimed when a lookup walks past it, and by a sweep of the whole table
 * at most once a second of `now`, so it is gone at most two seconds after
 * its last packet. While every slot holds a live source a new source is
 * refused: letting it in would mean evicting someone or growing.
 */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "crypto.h"
#include "messages.h"

#define PACKET_COST (WG_NSEC_PER_SEC / WG_RATELIMIT_PER_SECOND)
#define TOKEN_MAX (PACKET_COST * WG_RATELIMIT_BURST)
#define IDLE_LIMIT WG_NSEC_PER_SEC
#define SWEEP_INTERVAL WG_NSEC_PER_SEC
#define NBUCKETS WG_RATELIMIT_MAX_ENTRIES
#define NIL UINT32_MAX

static_assert((NBUCKETS & (NBUCKETS - 1)) == 0, "buckets are masked");
static_assert(WG_RATELIMIT_MAX_ENTRIES < NIL, "indices fit in 32 bits");

struct source {
	uint64_t addr;		/* IPv4 address or IPv6 /64, big-endian */
	uint64_t last;		/* now at its last packet */
	uint64_t tokens;	/* in nanoseconds of allowance */
	uint32_t next;		/* chain, or free list */
	uint8_t family;		/* 4 or 6 */
};

struct wg_ratelimit {
	uint8_t hash_key[16];
	uint64_t last_sweep;
	size_t used;
	uint32_t free_head;
	uint32_t buckets[NBUCKETS];
	struct source sources[WG_RATELIMIT_MAX_ENTRIES];
};

struct wg_ratelimit *wg_ratelimit_new(const uint8_t hash_key[16])
{
	struct wg_ratelimit *rl = calloc(1, sizeof(*rl));
	uint32_t i;

	if (!rl)
		return NULL;
	memcpy(rl->hash_key, hash_key, sizeof(rl->hash_key));
	for (i = 0; i < NBUCKETS; i++)
		rl->buckets[i] = NIL;
	for (i = 0; i < WG_RATELIMIT_MAX_ENTRIES; i++)
		rl->sources[i].next = i + 1 < WG_RATELIMIT_MAX_ENTRIES ? i + 1
								       : NIL;
	rl->free_head = 0;
	return rl;
}

void wg_ratelimit_free(struct wg_ratelimit *rl)
{
	if (!rl)
		return;
	/* The key and the addresses of recent sources go with it. */
	wg_wipe(rl, sizeof(*rl));
	free(rl);
}

size_t wg_ratelimit_entries(const struct wg_ratelimit *rl)
{
	return rl->used;
}

static bool is_idle(const struct source *s, uint64_t now)
{
	return now > s->last && now - s->last > IDLE_LIMIT;
}

/* Unlinks the source *link points at and returns it to the free list. */
static void source_release(struct wg_ratelimit *rl, uint32_t *link)
{
	uint32_t i = *link;
	struct source *s = &rl->sources[i];

	*link = s->next;
	memset(s, 0, sizeof(*s));
	s->next = rl->free_head;
	rl->free_head = i;
	rl->used--;
}

static void sweep(struct wg_ratelimit *rl, uint64_t now)
{
	for (uint32_t b = 0; b < NBUCKETS; b++) {
		uint32_t *link = &rl->buckets[b];

		while (*link != NIL) {
			if (is_idle(&rl->sources[*link], now))
				source_release(rl, link);
			else
				link = &rl->sources[*link].next;
		}
	}
}

bool wg_ratelimit_allow(struct wg_ratelimit *rl, uint64_t now, int family,
			const uint8_t *addr)
{
	uint8_t key[9] = { 0 };
	uint32_t *link, i;
	struct source *s;
	uint64_t a;

	if (family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, addr, 4);
	} else if (family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, addr, 8);	/* the /64 */
	} else {
		return false;
	}
	memcpy(&a, key + 1, sizeof(a));

	/* (A clock that went backwards wraps around and sweeps too.) */
	if (now - rl->last_sweep >= SWEEP_INTERVAL) {
		sweep(rl, now);
		rl->last_sweep = now;
	}

	link = &rl->buckets[wg_shorthash(rl->hash_key, key, sizeof(key)) &
			    (NBUCKETS - 1)];
	while (*link != NIL) {
		s = &rl->sources[*link];
		if (is_idle(s, now)) {
			source_release(rl, link);
			continue;
		}
		if (s->family == key[0] && s->addr == a) {
			uint64_t elapsed = now > s->last ? now - s->last : 0;

			s->tokens = elapsed >= TOKEN_MAX - s->tokens
					    ? TOKEN_MAX
					    : s->tokens + elapsed;
			s->last = now;
			if (s->tokens < PACKET_COST)
				return false;
			s->tokens -= PACKET_COST;
			return true;
		}
		link = &s->next;
	}

	/* A new source. */
	if (rl->free_head == NIL)
		return false;
	i = rl->free_head;
	s = &rl->sources[i];
	rl->free_head = s->next;
	s->addr = a;
	s->family = key[0];
	s->last = now;
	s->tokens = TOKEN_MAX - PACKET_COST;
	s->next = *link;	/* NIL: appended at the chain's end */
	*link = i;
	rl->used++;
	return true;
}
