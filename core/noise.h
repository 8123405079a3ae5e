/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2 as WireGuard uses it (whitepaper section 5.4): the handshake
 * state of one peer, the three steps that build and consume the initiation
 * and the response, and the keypairs a finished handshake derives.
 *
 * Every input that would make the result non-deterministic (the ephemeral
 * private key, the sender index, the TAI64N timestamp, the current time) is
 * a parameter, so these functions are pure and the known-answer tests drive
 * them directly. The MAC fields are the cookie module's (cookie.h).
 */
#ifndef UNIGUARD_NOISE_H
#define UNIGUARD_NOISE_H

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "messages.h"
#include "replay.h"

/* Our static identity. */
struct wg_noise_local {
	bool has_key;
	uint8_t private_key[WG_KEY_LEN];
	uint8_t public_key[WG_KEY_LEN];
};

/* Handshake states name what already happened. */
enum wg_handshake_state {
	WG_HANDSHAKE_ZEROED,
	WG_HANDSHAKE_CREATED_INITIATION,
	WG_HANDSHAKE_CONSUMED_INITIATION,
	WG_HANDSHAKE_CREATED_RESPONSE,
	WG_HANDSHAKE_CONSUMED_RESPONSE,
};

struct wg_noise_handshake {
	enum wg_handshake_state state;
	uint8_t remote_static[WG_KEY_LEN];
	/* DH(our static, their static); all zero when that DH fails or has
	 * not been computed yet (has_static_static false). */
	uint8_t static_static[WG_KEY_LEN];
	bool has_static_static;
	uint8_t preshared_key[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t ephemeral_private[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint32_t local_index;
	uint32_t remote_index;
	/* Greatest TAI64N accepted from this peer: older ones are replays. */
	uint8_t latest_timestamp[WG_TAI64N_LEN];
	bool has_consumed_initiation;
	uint64_t last_initiation_consumption;	/* monotonic ns */
};

/* One session's keys. */
struct wg_noise_keypair {
	bool valid;
	bool can_send;			/* cleared when our private key changes */
	bool i_am_initiator;
	uint64_t birth;			/* monotonic ns */
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	uint64_t send_counter;		/* next nonce to use */
	struct wg_replay replay;
	uint32_t local_index;		/* receiver index of messages to us */
	uint32_t remote_index;		/* receiver index we write */
	/* Set by the owner: tells this session from a later one that took
	 * the same storage or index (a packet opened meanwhile is checked). */
	uint64_t id;
};

/* Computes the whitepaper's constants C0 and H0 (idempotent). */
void wg_noise_init(void);
/* The precomputed chaining key and hash every handshake starts from. */
const uint8_t *wg_noise_initial_chaining_key(void);
const uint8_t *wg_noise_initial_hash(void);

/* Sets up a handshake for a peer; recomputes DH(static, static). */
void wg_noise_handshake_init(struct wg_noise_handshake *hs,
			     const struct wg_noise_local *local,
			     const uint8_t remote_static[WG_KEY_LEN],
			     const uint8_t preshared_key[WG_KEY_LEN]);

/* The same two, leaving the static-static DH for the first handshake that
 * needs it (wg_noise_handshake_precompute): a gateway configured with
 * 100,000 peers, or given a new private key, must not spend 100,000 DHs
 * before it answers anyone. */
void wg_noise_handshake_init_lazy(struct wg_noise_handshake *hs,
				  const uint8_t remote_static[WG_KEY_LEN],
				  const uint8_t preshared_key[WG_KEY_LEN]);
void wg_noise_handshake_forget_local(struct wg_noise_handshake *hs);
/* Computes the static-static DH unless it is known already. Call before
 * creating an initiation or finishing the consumption of one. */
void wg_noise_handshake_precompute(struct wg_noise_handshake *hs,
				   const struct wg_noise_local *local);
/* Forgets the ephemeral state (keeps identity, psk and replay memory). */
void wg_noise_handshake_clear(struct wg_noise_handshake *hs);
/* Wipes everything. */
void wg_noise_handshake_wipe(struct wg_noise_handshake *hs);

/* TAI64N for a wall-clock time, with the nanoseconds rounded down to a
 * power of two (about 16 ms) so the timestamp reveals little of the clock. */
void wg_noise_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t unix_sec,
		     uint32_t nsec);

/* Initiator: fills msg[0..WG_INIT_OFF_MAC1) of a 148-byte initiation. */
bool wg_noise_create_initiation(struct wg_noise_handshake *hs,
				const struct wg_noise_local *local,
				uint8_t msg[WG_INIT_LEN],
				const uint8_t ephemeral_private[WG_KEY_LEN],
				uint32_t sender_index,
				const uint8_t timestamp[WG_TAI64N_LEN]) WG_WARN_UNUSED;

/* Responder, first half: decrypts the initiator's static key. On success
 * *scratch holds the running state and remote_static the claimed key, which
 * the caller looks up among its peers. */
struct wg_noise_initiation_scratch {
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t remote_static[WG_KEY_LEN];
};
bool wg_noise_consume_initiation_begin(const struct wg_noise_local *local,
				       const uint8_t msg[WG_INIT_LEN],
				       struct wg_noise_initiation_scratch *scratch) WG_WARN_UNUSED;
/* Responder, second half, with that peer's handshake: checks the timestamp
 * (must be newer than any before) and the per-peer flood limit, then stores
 * the state. Wipes scratch either way. */
enum wg_noise_initiation_verdict {
	WG_NOISE_INITIATION_OK,
	WG_NOISE_INITIATION_BAD,	/* decryption or DH failed */
	WG_NOISE_INITIATION_REPLAY,	/* timestamp not newer */
	WG_NOISE_INITIATION_FLOOD,	/* over WG_INITIATIONS_PER_SECOND */
};
enum wg_noise_initiation_verdict
wg_noise_consume_initiation_finish(struct wg_noise_handshake *hs,
				   const uint8_t msg[WG_INIT_LEN],
				   struct wg_noise_initiation_scratch *scratch,
				   uint64_t now);

/* Responder: fills msg[0..WG_RESP_OFF_MAC1) of a 92-byte response. */
bool wg_noise_create_response(struct wg_noise_handshake *hs,
			      uint8_t msg[WG_RESP_LEN],
			      const uint8_t ephemeral_private[WG_KEY_LEN],
			      uint32_t sender_index) WG_WARN_UNUSED;

/* Initiator: consumes the response to the initiation hs created. */
bool wg_noise_consume_response(struct wg_noise_handshake *hs,
			       const struct wg_noise_local *local,
			       const uint8_t msg[WG_RESP_LEN]) WG_WARN_UNUSED;

/* Derives the transport keys of a completed handshake (state
 * CONSUMED_RESPONSE for the initiator, CREATED_RESPONSE for the responder)
 * into kp, then clears the handshake's ephemeral state. */
bool wg_noise_begin_session(struct wg_noise_handshake *hs,
			    struct wg_noise_keypair *kp, uint64_t now) WG_WARN_UNUSED;

void wg_noise_keypair_wipe(struct wg_noise_keypair *kp);

#endif
