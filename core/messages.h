/* SPDX-License-Identifier: MIT */
/*
 * WireGuard's wire formats and protocol constants, as the whitepaper
 * ("WireGuard: Next Generation Kernel Network Tunnel", sections 5 and 6)
 * defines them. Every limit the protocol names lives here.
 *
 * Messages are handled as byte arrays: fields are read and written with the
 * explicit little-endian helpers below, never by casting a receive buffer.
 * The offsets are named so that a reader can check them against the paper.
 */
#ifndef UNIGUARD_MESSAGES_H
#define UNIGUARD_MESSAGES_H

#include <assert.h>
#include <stdint.h>
#include <string.h>

#define WG_KEY_LEN 32
#define WG_HASH_LEN 32
#define WG_COOKIE_LEN 16
#define WG_MAC_LEN 16
#define WG_AEAD_TAG_LEN 16
#define WG_TAI64N_LEN 12
#define WG_XNONCE_LEN 24

enum wg_message_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE_REPLY = 3,
	WG_MSG_DATA = 4,
};

/* Handshake initiation: 148 bytes. */
enum {
	WG_INIT_OFF_TYPE = 0,		/* u8 type, 3 reserved zero bytes */
	WG_INIT_OFF_SENDER = 4,		/* u32le sender index */
	WG_INIT_OFF_EPHEMERAL = 8,	/* 32 bytes */
	WG_INIT_OFF_STATIC = 40,	/* AEAD(static public): 32 + 16 */
	WG_INIT_OFF_TIMESTAMP = 88,	/* AEAD(TAI64N): 12 + 16 */
	WG_INIT_OFF_MAC1 = 116,
	WG_INIT_OFF_MAC2 = 132,
	WG_INIT_LEN = 148,
};

/* Handshake response: 92 bytes. */
enum {
	WG_RESP_OFF_TYPE = 0,
	WG_RESP_OFF_SENDER = 4,
	WG_RESP_OFF_RECEIVER = 8,
	WG_RESP_OFF_EPHEMERAL = 12,
	WG_RESP_OFF_EMPTY = 44,		/* AEAD(empty): 16-byte tag */
	WG_RESP_OFF_MAC1 = 60,
	WG_RESP_OFF_MAC2 = 76,
	WG_RESP_LEN = 92,
};

/* Cookie reply: 64 bytes. */
enum {
	WG_COOKIE_OFF_TYPE = 0,
	WG_COOKIE_OFF_RECEIVER = 4,
	WG_COOKIE_OFF_NONCE = 8,	/* 24-byte XChaCha20 nonce */
	WG_COOKIE_OFF_COOKIE = 32,	/* XAEAD(cookie): 16 + 16 */
	WG_COOKIE_LEN_MSG = 64,
};

/* Transport data: 16-byte header, then the AEAD of the padded packet. */
enum {
	WG_DATA_OFF_TYPE = 0,
	WG_DATA_OFF_RECEIVER = 4,
	WG_DATA_OFF_COUNTER = 8,	/* u64le nonce counter */
	WG_DATA_OFF_PAYLOAD = 16,
	WG_DATA_HEADER_LEN = 16,
	WG_DATA_MIN_LEN = WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN, /* keepalive */
	WG_DATA_PADDING = 16,
};

static_assert(WG_INIT_OFF_MAC2 + WG_MAC_LEN == WG_INIT_LEN, "initiation is 148 bytes");
static_assert(WG_RESP_OFF_MAC2 + WG_MAC_LEN == WG_RESP_LEN, "response is 92 bytes");
static_assert(WG_COOKIE_OFF_COOKIE + WG_COOKIE_LEN + WG_AEAD_TAG_LEN == WG_COOKIE_LEN_MSG,
	      "cookie reply is 64 bytes");
static_assert(WG_DATA_MIN_LEN == 32, "a keepalive is 32 bytes");

/* Protocol limits, whitepaper section 6.1 and the kernel's messages.h. */
#define WG_NSEC_PER_SEC 1000000000ULL
#define WG_REKEY_AFTER_MESSAGES (1ULL << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - 8192ULL) /* 2^64 - 2^13 - 1 */
#define WG_REKEY_AFTER_TIME (120 * WG_NSEC_PER_SEC)
#define WG_REJECT_AFTER_TIME (180 * WG_NSEC_PER_SEC)
#define WG_REKEY_ATTEMPT_TIME (90 * WG_NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT (5 * WG_NSEC_PER_SEC)
#define WG_REKEY_TIMEOUT_JITTER_MAX (333 * 1000000ULL)
#define WG_KEEPALIVE_TIMEOUT (10 * WG_NSEC_PER_SEC)
#define WG_COOKIE_SECRET_MAX_AGE (120 * WG_NSEC_PER_SEC)
#define WG_COOKIE_REFRESH_TIME (120 * WG_NSEC_PER_SEC)
/* Retries before giving up: REKEY_ATTEMPT_TIME / REKEY_TIMEOUT. */
#define WG_MAX_TIMER_HANDSHAKES (WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)
/* Unused key material is wiped after three REJECT_AFTER_TIMEs. */
#define WG_ZERO_KEYS_AFTER (3 * WG_REJECT_AFTER_TIME)
/* A responder accepts at most this many initiations per second per peer. */
#define WG_INITIATIONS_PER_SECOND 50
/* Packets held for a peer while its handshake completes. */
#define WG_MAX_STAGED_PACKETS 128
/* Largest inner packet the core accepts (tun MTUs top out here). */
#define WG_MAX_PACKET 65535

/* Little-endian field access on byte arrays. */
static inline uint32_t wg_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t wg_get_le64(const uint8_t *p)
{
	return (uint64_t)wg_get_le32(p) | (uint64_t)wg_get_le32(p + 4) << 32;
}

static inline void wg_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void wg_put_le64(uint8_t *p, uint64_t v)
{
	wg_put_le32(p, (uint32_t)v);
	wg_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
