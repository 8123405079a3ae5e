/* SPDX-License-Identifier: MIT */
/*
 * Per-peer timers (whitepaper section 6). The packet paths only report
 * events; this module alone decides what to arm and what to do when a
 * deadline passes. Deadlines are absolute monotonic nanoseconds.
 *
 *   event                          effect
 *   handshake initiation sent      arm retransmit (5 s + jitter)
 *   handshake completed            stop retransmit, reset attempts
 *   session derived                arm key zeroing (540 s)
 *   data packet sent               arm new-handshake (15 s + jitter) if idle
 *   data packet received           arm keepalive (10 s), or note one more
 *   authenticated packet sent      stop keepalive
 *   authenticated packet received  stop new-handshake
 *   any authenticated traversal    re-arm persistent keepalive
 *
 *   expiry                         action
 *   retransmit                     resend initiation; give up after 90 s
 *   keepalive                      send a keepalive
 *   new-handshake                  initiate (we sent but never heard back)
 *   key zeroing                    wipe every keypair and handshake
 *   persistent keepalive           send a keepalive
 */
#ifndef UNIGUARD_TIMERS_H
#define UNIGUARD_TIMERS_H

#include <stdbool.h>
#include <stdint.h>

#define WG_TIMER_OFF UINT64_MAX

struct wg_peer;

struct wg_timers {
	uint64_t retransmit_handshake;
	uint64_t send_keepalive;
	uint64_t new_handshake;
	uint64_t zero_key_material;
	uint64_t persistent_keepalive;
	/* Initiations sent since the last completed handshake. */
	unsigned int handshake_attempts;
	bool need_another_keepalive;
};

void wg_timers_init(struct wg_timers *t);
uint64_t wg_timers_next(const struct wg_timers *t);

void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now);
void wg_timers_handshake_complete(struct wg_peer *peer, uint64_t now);
void wg_timers_session_derived(struct wg_peer *peer, uint64_t now);
void wg_timers_data_sent(struct wg_peer *peer, uint64_t now);
void wg_timers_data_received(struct wg_peer *peer, uint64_t now);
void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer, uint64_t now);
void wg_timers_any_authenticated_packet_received(struct wg_peer *peer, uint64_t now);
void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now);

/* Runs the peer's expired timers; returns its next deadline. */
uint64_t wg_timers_run(struct wg_peer *peer, uint64_t now);

/* The device's timer heap. A peer is filed when a timer is armed earlier
 * than its filed deadline; timers stopped or moved later leave it filed
 * early, and the tick then files it again under its real next deadline. */
struct wg_device;
/* Runs every peer due at now; returns the earliest filed deadline. */
uint64_t wg_timers_tick(struct wg_device *dev, uint64_t now);
/* The earliest filed deadline (UINT64_MAX if none); may be early. */
uint64_t wg_timers_earliest(const struct wg_device *dev);
/* Takes a peer out of the heap (it is being freed). */
void wg_timers_unfile(struct wg_peer *peer);

#endif
