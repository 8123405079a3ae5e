/* SPDX-License-Identifier: MIT */
/*
 * The device's insides, shared by device.c, peer.c, timers.c, send.c and
 * receive.c. Not part of the public surface (that is wg.h).
 */
#ifndef UNIGUARD_DEVICE_H
#define UNIGUARD_DEVICE_H

#include "allowedips.h"
#include "cookie.h"
#include "noise.h"
#include "peer.h"
#include "ratelimit.h"
#include "wg.h"

/* "Under load" (cookies required, a rate per source): this many handshake
 * messages arrived within one second. Once under load, the device stays so
 * for a second after the last sign of it. How much of the machine a flood
 * may take is the host's to decide (receive.c, update_load). */
#define WG_UNDER_LOAD_PER_SECOND 512
#define WG_UNDER_LOAD_HYSTERESIS WG_NSEC_PER_SEC

struct wg_device {
	struct wg_env env;
	struct wg_noise_local local;
	uint16_t listen_port;
	uint32_t fwmark;
	uint32_t mtu;				/* 0: pad without a cap */

	struct wg_cookie_checker cookie_checker;
	struct wg_ratelimit *ratelimit;
	struct wg_allowedips *allowedips;

	struct wg_peer *peers_head, *peers_tail;
	size_t n_peers;
	/* Counts applied changes; a peer remembers the one that made it,
	 * so that a change reports only the peers it found there. */
	uint64_t apply_serial;
	struct wg_peer **key_buckets;
	size_t key_mask;
	uint8_t key_hash_secret[16];
	uint8_t jitter_key[16];			/* timer jitter: a keyed hash */
	uint64_t jitter_count;			/* of this counter */
	struct wg_index_entry **index_buckets;
	size_t index_mask;

	/* Peers with a timer armed, in a binary min-heap on the deadline
	 * each is filed under (timers.c): a tick touches only the peers that
	 * are due, however many there are. Room for every peer is reserved
	 * with the peer, so that arming never allocates. */
	struct wg_peer **timer_heap;
	size_t timer_heap_len;
	size_t timer_heap_cap;
	uint64_t keypair_ids;			/* the last one given */

	uint64_t load_window_start;
	uint32_t load_window_count;
	bool has_been_under_load;
	uint64_t last_under_load;

	struct wg_device_stats stats;
	/* One outgoing message: header, the padded packet, the tag. */
	uint8_t scratch[WG_DATA_HEADER_LEN + WG_MAX_PACKET + WG_DATA_PADDING +
			WG_AEAD_TAG_LEN];
};

void wg_log(struct wg_device *dev, enum wg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Random jitter in [0, max). */
uint64_t wg_device_jitter(struct wg_device *dev, uint64_t max);

/* send.c */
void wg_send_handshake_initiation(struct wg_peer *peer, uint64_t now, bool is_retry);
void wg_send_handshake_response(struct wg_peer *peer, uint64_t now);
void wg_send_keepalive(struct wg_peer *peer, uint64_t now);
void wg_send_staged(struct wg_peer *peer, uint64_t now);
void wg_send_to_peer(struct wg_peer *peer, const uint8_t *data, size_t len);

/* Memory that holds keys (the device, a peer, a keypair), from the
 * environment's allocator when it gives one (wg_env): len zeroed bytes or
 * NULL. wg_secret_free wipes them before it gives them back. */
void *wg_secret_alloc(const struct wg_env *env, size_t len);
void wg_secret_free(const struct wg_env *env, void *p, size_t len);

#endif
