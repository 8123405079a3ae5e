/* SPDX-License-Identifier: MIT */
/*
 * Per-source token bucket for handshake messages under load: 20 per second
 * with a burst of 5, sources keyed by IPv4 address or IPv6 /64, in a bounded
 * table (a full table refuses new sources rather than growing).
 */
#ifndef UNIGUARD_RATELIMIT_H
#define UNIGUARD_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WG_RATELIMIT_PER_SECOND 20
#define WG_RATELIMIT_BURST 5
#define WG_RATELIMIT_MAX_ENTRIES 8192

struct wg_ratelimit;

/* hash_key: 16 random bytes that keep the table's layout unguessable. */
struct wg_ratelimit *wg_ratelimit_new(const uint8_t hash_key[16]);
void wg_ratelimit_free(struct wg_ratelimit *rl);
/* now: monotonic nanoseconds. family AF_INET or AF_INET6, addr in network
 * byte order. */
bool wg_ratelimit_allow(struct wg_ratelimit *rl, uint64_t now, int family,
			const uint8_t *addr);
/* Entries currently held (for tests and stats). */
size_t wg_ratelimit_entries(const struct wg_ratelimit *rl);

#endif
