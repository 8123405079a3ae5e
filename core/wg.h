/* SPDX-License-Identifier: MIT */
/*
 * uniguard's protocol core: the whole public surface.
 *
 * The core is a WireGuard device with no I/O of its own. Its caller hands it
 * outer datagrams (wg_device_receive), inner packets (wg_device_send) and the
 * passage of time (wg_device_tick), each with a monotonic `now` in
 * nanoseconds read once per event. Everything the core emits, and the wall
 * clock and randomness it needs, goes through the environment below, so
 * tests, pcap replay and fuzzers drive exactly the code the daemon runs.
 *
 * Every output callback runs synchronously, inside the entry point that
 * caused it, before that entry point returns: a caller may rely on a
 * datagram having been handed to env->send by then.
 *
 * Not thread-safe: one caller at a time, except for the crypto steps of
 * the data path below, which any thread may run.
 */
#ifndef UNIGUARD_WG_H
#define UNIGUARD_WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "endpoint.h"

enum wg_log_level {
	WG_LOG_ERROR = 0,
	WG_LOG_WARN = 1,	/* something is wrong, and the interface runs on */
	WG_LOG_INFO = 2,
	WG_LOG_DEBUG = 3,
	WG_LOG_TRACE = 4,
};

struct wg_env {
	void *ctx;
	/* len bytes of cryptographic randomness (seeded in tests). */
	void (*random)(void *ctx, void *buf, size_t len);
	/* Real time since the Unix epoch, for TAI64N timestamps and the peers'
	 * latest handshake time. */
	void (*wall_clock)(void *ctx, uint64_t *sec, uint32_t *nsec);
	/* An outer datagram to send to `to` (from to->src when has_src). */
	void (*send)(void *ctx, const struct wg_endpoint *to, const uint8_t *data,
		     size_t len);
	/* A decrypted inner IP packet for the tun device. */
	void (*deliver)(void *ctx, const uint8_t *packet, size_t len);
	/* One readable line about an event; never contains a key. May be NULL. */
	void (*log)(void *ctx, enum wg_log_level level, const char *line);
	/* Lines above this level are not even formatted. */
	enum wg_log_level log_level;
	/* Optional, for debugging captures only: a line of the key log that
	 * Wireshark's WireGuard dissector reads, written when the core makes
	 * an ephemeral key ("LOCAL_EPHEMERAL_PRIVATE_KEY = <base64>"). The
	 * line holds a secret: NULL in production unless the user asked. */
	void (*keylog)(void *ctx, const char *line);
	/* Optional: where the memory that holds keys comes from (the device,
	 * with the private key; each peer, with its handshake state and
	 * preshared key; each session's keypair). secret_alloc returns len
	 * zeroed bytes or NULL; secret_free gets them back, already wiped.
	 * A program gives these to keep such memory out of core dumps; both
	 * NULL means calloc and free. */
	void *(*secret_alloc)(void *ctx, size_t len);
	void (*secret_free)(void *ctx, void *p, size_t len);
};

/* What became of one input; callers count these, tests assert on them. */
enum wg_verdict {
	WG_OK = 0,		/* consumed: delivered, sent, answered or staged */
	WG_DROP_MALFORMED,	/* unknown type or wrong length */
	WG_DROP_MAC,		/* mac1 (or mac2 under load) wrong */
	WG_DROP_COOKIE_SENT,	/* under load: answered with a cookie reply */
	WG_DROP_RATELIMIT,	/* handshake from a source over its rate */
	WG_DROP_HANDSHAKE,	/* decryption, unknown key, replayed timestamp,
				 * initiation flood, low-order key */
	WG_DROP_UNKNOWN_INDEX,	/* receiver index names no session */
	WG_DROP_KEY,		/* data with a bad tag, or an expired keypair */
	WG_DROP_REPLAY,		/* counter seen before or too old */
	WG_DROP_SOURCE,		/* inner source not in the peer's allowed IPs */
	WG_DROP_NO_PEER,	/* outbound: no allowed IP covers the destination */
	WG_DROP_NO_ENDPOINT,	/* outbound: the peer has no endpoint yet */
	WG_DROP_NO_KEY,		/* no private key configured */
	WG_DROP_TOO_BIG,	/* packet larger than the core handles */
	WG_VERDICT_COUNT
};

/* The verdict's name as counters show it ("ok", "drop_replay", ...);
 * NULL for a value out of range. */
const char *wg_verdict_name(int verdict);

struct wg_device_stats {
	uint64_t verdicts[WG_VERDICT_COUNT];
	uint64_t handshakes_initiated;
	uint64_t handshakes_completed;
	uint64_t cookies_sent;
	uint64_t cookies_received;
	uint64_t keepalives_sent;
	uint64_t staged_dropped;
};

struct wg_device;

/* NULL if out of memory or libsodium cannot start. */
struct wg_device *wg_device_new(const struct wg_env *env, uint64_t now);
/* Wipes every key and frees. */
void wg_device_free(struct wg_device *dev);

/* Applies a config delta (as a UAPI set or a wg-quick file produces it)
 * atomically: on error nothing has changed. 0 or a negative errno
 * (-EINVAL for a bad value, -ENOMEM), with err (may be NULL) saying why. */
int wg_device_apply(struct wg_device *dev, const struct wg_config *delta,
		    uint64_t now, struct wg_parse_error *err);

/* What an applied change ended, for a host that explains it to its user:
 * the peers it took away, and the sessions it ended of peers it kept. */
enum wg_removal_reason {
	WG_REMOVED_ON_REQUEST,	/* the delta said remove */
	WG_REMOVED_NOT_LISTED,	/* replace_peers, and it was not named again */
	WG_REMOVED_OWN_KEY,	/* its public key is ours under the new key */
};

struct wg_removed_peer {
	uint8_t public_key[WG_KEY_LEN];
	enum wg_removal_reason reason;
	bool had_session;	/* it had completed a handshake */
};

struct wg_apply_report {
	struct wg_removed_peer *removed;	/* in the device's peer order */
	size_t n_removed;
	/* Peers named again under replace_peers: made anew, so whatever
	 * session they had ended. Those that had one. */
	size_t replaced_sessions;
	/* The private key was changed or removed (not set the first time). */
	bool key_changed;
	bool has_key;				/* after the change */
	uint8_t public_key[WG_KEY_LEN];		/* when has_key */
	/* With key_changed: the peers kept whose sessions send no more. */
	size_t key_ended_sessions;
};

/* wg_device_apply, and on success *report says what the change ended
 * (wg_apply_report_clear'ed by the caller, also on failure). */
int wg_device_apply_report(struct wg_device *dev,
			   const struct wg_config *delta, uint64_t now,
			   struct wg_parse_error *err,
			   struct wg_apply_report *report);
void wg_apply_report_clear(struct wg_apply_report *report);
/* The running config with per-peer stats, for get=1. 0 or -ENOMEM; out is
 * wg_config_init'ed here and must be wg_config_clear'ed by the caller. */
int wg_device_get(struct wg_device *dev, struct wg_config *out);

/* An outer datagram from `from`. data is decrypted in place. */
enum wg_verdict wg_device_receive(struct wg_device *dev, uint64_t now,
				  const struct wg_endpoint *from, uint8_t *data,
				  size_t len);
/* An inner IP packet from the tun device. */
enum wg_verdict wg_device_send(struct wg_device *dev, uint64_t now,
			       const uint8_t *packet, size_t len);
/*
 * The data path in steps, for a caller that does the crypto of many packets
 * outside its lock, on one thread or several. Only the prepare and finish
 * steps touch the device, and like every entry point here they want one
 * caller at a time; wg_send_job_seal and wg_recv_job_open touch nothing but
 * their job and their packet, so they may run on any thread at any time,
 * also after the session they belong to has ended. wg_device_send and
 * wg_device_receive are these very steps in a row.
 *
 * A data message is WG_MESSAGE_HEADER_LEN bytes of header, the padded
 * inner packet, and a WG_MESSAGE_TAG_LEN-byte tag.
 */
#define WG_MESSAGE_HEADER_LEN 16
#define WG_MESSAGE_TAG_LEN 16
/* Padding rounds the inner packet up to a multiple of this. */
#define WG_MESSAGE_PADDING 16

struct wg_send_job {
	struct wg_endpoint to;		/* where the message goes */
	size_t len;			/* the inner packet's length */
	size_t padded;			/* with padding: what is sealed */
	uint64_t counter;
	uint32_t receiver;
	uint8_t key[WG_KEY_LEN];	/* a copy, wiped by the seal */
};

/* Routes an inner packet (only its IP header is read) and reserves the next
 * counter of its peer's session. WG_OK with *ready: seal it and send the
 * message to job->to. WG_OK without *ready: the peer has no session to
 * send with yet, or older packets wait for one; hand the whole packet to
 * wg_device_send, which keeps it for the handshake it starts. Any other
 * verdict: dropped. */
enum wg_verdict wg_device_send_prepare(struct wg_device *dev, uint64_t now,
				       const uint8_t *packet, size_t len,
				       struct wg_send_job *job, bool *ready);
/* Seals the inner packet at src (job->len bytes) into the data message at
 * msg and returns the message's length (header + job->padded + tag). src
 * needs job->padded - job->len bytes of room after the packet, which are
 * zeroed as padding; src may be msg + WG_MESSAGE_HEADER_LEN (in place) or
 * anywhere that does not overlap msg. */
size_t wg_send_job_seal(struct wg_send_job *job, uint8_t *src, uint8_t *msg);

struct wg_recv_job {
	uint64_t keypair;		/* which session, checked again */
	uint64_t counter;
	uint32_t index;
	uint8_t key[WG_KEY_LEN];	/* a copy, wiped by the open */
};

/* True for a handshake initiation or response (by type and length): the
 * messages that may cost public-key crypto and a reply. A receiver under a
 * flood may drop the excess of them before the core sees them. */
bool wg_message_is_handshake(const uint8_t *data, size_t len);

/* An outer datagram. Handshake messages and cookie replies are handled
 * here completely, as wg_device_receive would. For a data message of a
 * live session, WG_OK with *ready: open it (wg_recv_job_open), then finish
 * it (wg_device_receive_finish), in that order, before this caller's next
 * prepare for a later datagram if their order matters to it. */
enum wg_verdict wg_device_receive_prepare(struct wg_device *dev, uint64_t now,
					  const struct wg_endpoint *from,
					  uint8_t *data, size_t len,
					  struct wg_recv_job *job, bool *ready);
/* Authenticates and decrypts the data message in place; false if it does
 * not authenticate. */
bool wg_recv_job_open(struct wg_recv_job *job, uint8_t *data, size_t len);
/* The rest of receiving an opened (or not: opened false) data message:
 * replay window, session confirmation, roaming, timers and cryptokey
 * routing. On WG_OK the inner packet to deliver is *inner_len bytes at
 * data + WG_MESSAGE_HEADER_LEN (0 for a keepalive); the core does not call
 * env->deliver for it. */
enum wg_verdict wg_device_receive_finish(struct wg_device *dev, uint64_t now,
					 const struct wg_endpoint *from,
					 struct wg_recv_job *job, bool opened,
					 uint8_t *data, size_t len,
					 size_t *inner_len);

/* Runs every timer due at or before now; returns the next deadline
 * (UINT64_MAX if none). */
uint64_t wg_device_tick(struct wg_device *dev, uint64_t now);
/* The earliest deadline without running anything. It may be early (a timer
 * since cancelled): calling tick then is harmless. */
uint64_t wg_device_next_deadline(const struct wg_device *dev);

/* The tun MTU: data padding never grows a packet past it (0: no cap). */
void wg_device_set_mtu(struct wg_device *dev, uint32_t mtu);

const struct wg_device_stats *wg_device_stats(const struct wg_device *dev);

/* Whether a private key is configured: without one nothing is answered. */
bool wg_device_has_private_key(const struct wg_device *dev);

/* What an operator watches of one peer (a metrics page, a health check):
 * nothing secret, nothing that says where it is. */
struct wg_peer_stats {
	uint8_t public_key[WG_KEY_LEN];
	uint64_t rx_bytes, tx_bytes;
	uint64_t last_handshake_sec;	/* Unix time, 0: never */
	uint64_t handshakes;		/* completed, either side initiating */
	bool has_session;		/* a confirmed keypair exists */
};

/* The number of peers, and the first min(that, max) of them into out in
 * the device's order; no allocation, so that a caller holding a lock
 * only copies. */
size_t wg_device_peer_stats(const struct wg_device *dev,
			    struct wg_peer_stats *out, size_t max);

/* Whether the device has a peer with this public key. */
bool wg_device_has_peer(const struct wg_device *dev,
			const uint8_t public_key[WG_KEY_LEN]);

/* Short, key-safe name for a peer in logs: the first 8 base64 characters of
 * its public key, e.g. "peer 6SCWZuT/". out must hold 16 bytes. */
void wg_peer_label(const uint8_t public_key[WG_KEY_LEN], char out[16]);

#endif
