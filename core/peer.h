/* SPDX-License-Identifier: MIT */
/*
 * A peer: its handshake, its three keypair slots (next, current, previous),
 * its endpoint, allowed IPs, timers and the packets staged while it has no
 * session. Also the two lookup tables the receive path needs: public key to
 * peer, and receiver index to handshake or keypair.
 */
#ifndef UNIGUARD_PEER_H
#define UNIGUARD_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "allowedips.h"
#include "cookie.h"
#include "endpoint.h"
#include "noise.h"
#include "timers.h"

struct wg_device;
struct wg_peer;

/* An entry of the receiver-index table, embedded where it points. */
enum wg_index_kind { WG_INDEX_HANDSHAKE, WG_INDEX_KEYPAIR };
struct wg_index_entry {
	struct wg_index_entry *next;	/* bucket chain */
	struct wg_peer *peer;
	uint32_t index;
	uint8_t kind;
	uint8_t slot;			/* keypair storage slot */
	bool hashed;
};

struct wg_staged_packet {
	struct wg_staged_packet *next;
	size_t len;
	uint8_t data[];
};

#define WG_KEYPAIR_SLOTS 3

struct wg_peer {
	struct wg_device *dev;
	struct wg_peer *list_next, *list_prev;	/* device order = config order */
	struct wg_peer *hash_next;		/* public-key bucket chain */
	uint8_t public_key[WG_KEY_LEN];
	char label[16];				/* "peer XXXXXXXX" for logs */

	struct wg_noise_handshake handshake;
	struct wg_index_entry handshake_index;
	/* A keypair (with its kilobyte of replay window) exists only while
	 * its session does: allocated when a handshake completes, freed when
	 * the session is dropped, so that an idle peer costs well under
	 * 2 KiB. Rotation moves the three pointers, never the keys; slot i's
	 * receiver index is keypair_index[i]. */
	struct wg_noise_keypair *keypair_storage[WG_KEYPAIR_SLOTS];
	struct wg_index_entry keypair_index[WG_KEYPAIR_SLOTS];
	struct wg_noise_keypair *next, *current, *previous;

	struct wg_cookie_maker cookie;
	struct wg_endpoint endpoint;
	struct wg_allowedips_owner allowedips;
	uint16_t persistent_keepalive;		/* seconds, 0 = off */
	uint64_t made_by_apply;			/* dev->apply_serial then */

	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_sec;
	uint32_t last_handshake_nsec;
	uint64_t handshakes;			/* completed, for the metrics */

	struct wg_timers timers;
	/* In the device's timer heap: position + 1 (0 when not filed) and
	 * the deadline filed under, never later than the earliest timer. */
	size_t timer_slot;
	uint64_t timer_key;
	bool has_sent_handshake;
	uint64_t last_sent_handshake;		/* monotonic ns */
	bool sent_lastminute_handshake;

	struct wg_staged_packet *staged_head, *staged_tail;
	size_t n_staged;
};

/* Allocates a peer and links it into the device (list, key table). */
struct wg_peer *wg_peer_new(struct wg_device *dev,
			    const uint8_t public_key[WG_KEY_LEN]);
/* The same in mem (sizeof(struct wg_peer) from wg_secret_alloc, taken
 * over), with room in the device's tables already reserved: it cannot
 * fail. */
struct wg_peer *wg_peer_new_in(struct wg_device *dev,
			       const uint8_t public_key[WG_KEY_LEN], void *mem);
/* Unlinks it from everything, wipes and frees it. */
void wg_peer_free(struct wg_peer *peer);
struct wg_peer *wg_peer_lookup(const struct wg_device *dev,
			       const uint8_t public_key[WG_KEY_LEN]);

/* The current keypair if it may still send (age and counter limits). */
struct wg_noise_keypair *wg_peer_sending_keypair(struct wg_peer *peer, uint64_t now);
/* A fresh keypair from the completed handshake, placed as the role says:
 * the initiator uses it at once, the responder keeps it as next until the
 * initiator's first data packet confirms it. */
bool wg_peer_begin_session(struct wg_peer *peer, uint64_t now);
/* A packet arrived under kp: if kp was next, it is now confirmed and
 * becomes current. Returns true when that rotation happened. */
bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_noise_keypair *kp);
/* Wipes the handshake and all keypairs (the 540 s timer, key changes). */
void wg_peer_zero_keys(struct wg_peer *peer);
/* Stops current and next keypairs from sending (our private key changed). */
void wg_peer_expire_keypairs(struct wg_peer *peer);

/* Receiver-index table. */
uint32_t wg_index_assign(struct wg_device *dev, struct wg_index_entry *entry);
void wg_index_remove(struct wg_device *dev, struct wg_index_entry *entry);
struct wg_index_entry *wg_index_lookup(const struct wg_device *dev, uint32_t index);
/* Grows the device's tables for n_peers peers; 0 or -ENOMEM. */
int wg_peer_tables_reserve(struct wg_device *dev, size_t n_peers);

/* Staging while there is no session: bounded, the oldest packet dropped. */
bool wg_peer_stage_packet(struct wg_peer *peer, const uint8_t *packet, size_t len);
void wg_peer_purge_staged(struct wg_peer *peer);

#endif
