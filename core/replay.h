/* SPDX-License-Identifier: MIT */
/*
 * The receive side's sliding window over nonce counters (RFC 6479's
 * redundant-bitmap scheme, 8192 bits, as the kernel and wireguard-go keep
 * it). Only called after a packet has authenticated.
 */
#ifndef UNIGUARD_CORE_REPLAY_H
#define UNIGUARD_CORE_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS 8192
#define WG_REPLAY_WORD_BITS 64
#define WG_REPLAY_WORDS (WG_REPLAY_BITS / WG_REPLAY_WORD_BITS)
/* How far behind the greatest counter a packet may still arrive. */
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS - WG_REPLAY_WORD_BITS)

struct wg_replay {
	uint64_t next;		/* one past the greatest counter seen */
	uint64_t bitmap[WG_REPLAY_WORDS];
};

void wg_replay_init(struct wg_replay *r);
/* true if counter is new (and records it); false if seen, too old, or at or
 * beyond REJECT_AFTER_MESSAGES. */
bool wg_replay_accept(struct wg_replay *r, uint64_t counter);

#endif
