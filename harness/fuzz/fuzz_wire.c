/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the device's outer side (wg_device_receive) with every
 * message consumer behind it, interleaved with timers (wg_device_tick),
 * inner packets (wg_device_send) and configuration changes.
 *
 * Each input starts from the same world: device A (the gateway under test)
 * knows peers B and C, and B already holds an established session with A.
 * The harness plays B and C with the core's own Noise and cookie code, so
 * the input can do more than throw bytes at A: it is a list of operations,
 * each one opcode byte and its operands, and besides raw datagrams an
 * operation may have the harness
 *
 *  - take fuzzer bytes as the body of an initiation, response or cookie
 *    reply and fix up mac1 (and mac2, from A's own cookie secret), so that
 *    the consumers behind the MAC checks see them;
 *  - build a genuine initiation, response or cookie reply with
 *    fuzzer-chosen ephemeral keys, indices, timestamps and cookies;
 *  - seal a fuzzer-chosen inner packet under a known session at a
 *    fuzzer-chosen counter, so that inner-packet parsing, the allowed-IPs
 *    source check, the replay window and keypair rotation run;
 *  - move the clock, send inner packets (up to and past the largest the
 *    core takes), change the load and the MTU, apply configuration changes
 *    while sessions run, and read the running config back (get=1);
 *  - take the data path in steps (prepare now, open or seal and finish in
 *    a later operation, out of order), as a multi-threaded caller does.
 *
 * What A sends, the harness reads as B or C would: it answers A's
 * initiations, takes A's cookies, and decrypts A's data. Beyond "no crash,
 * no leak, no undefined behaviour", these must hold:
 *
 *  - A delivers (or a finish step returns) an inner packet only when the
 *    harness sealed it, untampered, exactly as sealed (padding stripped),
 *    and only from the sending peer's allowed IPs;
 *  - every data message A sends (or a send job seals) under a session the
 *    harness knows decrypts there, and no counter (nonce) is used twice
 *    under one session, whatever order the jobs are sealed in;
 *  - after a tick, the next deadline lies in the future;
 *  - no log line holds key text; the debugging key log (on here) gets
 *    well-formed lines.
 */
#include "support_fuzz.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cookie.h"
#include "crypto.h"
#include "device.h"
#include "noise.h"
#include "uapi.h"

#include "../under_load.h"

#define MAX_OPS 48		/* operations per input */
#define MAX_COSTLY 6		/* of them, ones doing several X25519s
				 * or a load's hundreds of MACs */
#define MAX_SESSIONS 8		/* sessions the harness remembers */
#define MAX_A_INITS 4		/* initiations of A it remembers */
#define MAX_INNER (WG_MAX_PACKET + 64)	/* room past the core's limit */
#define USUAL_INNER 1600
#define START_NOW (1ULL * WG_NSEC_PER_SEC)
#define WALL_BASE 1700000000ULL

/* Keys of the handshake known-answer test (harness/data): A is its
 * responder, B its initiator, so the test's initiation is valid for A. */
static const char a_private_hex[] =
	"c8f81eff564031f77590b2d99911a9d82fdaced8423b1abc459dfae08845024f";
static const char b_private_hex[] =
	"e03cd3ed07aabcbc0de10be05eee1080a8be6bdadc4189e9279c29bd8f3ab150";
static const char c_psk_hex[] =
	"e1c12a84674daac32631434a6a18b32e934620a8044959fe0ddf2c881a45825c";

enum remote_id { REMOTE_B, REMOTE_C, N_REMOTES };

/* Keys and the precomputed handshake of one remote (B or C). */
struct remote_keys {
	struct wg_noise_local local;
	uint8_t psk[WG_KEY_LEN];
	bool has_psk;
	/* Initialised towards A: holds the static-static DH. */
	struct wg_noise_handshake template;
};

/* FUZZ_TRACE=1 in the environment prints each operation, verdict and log
 * line: for reading what a crashing input does. */
static bool trace;

static struct {
	bool ready;
	uint8_t a_private[WG_KEY_LEN];
	uint8_t a_public[WG_KEY_LEN];
	uint8_t a_other_private[WG_KEY_LEN];	/* a key change moves here */
	struct remote_keys remote[N_REMOTES];
	/* B's opening initiation and the session it gives (computed once,
	 * checked every run: the world must be deterministic). */
	uint8_t opening_init[WG_INIT_LEN];
	uint8_t opening_resp[WG_RESP_LEN];
	uint8_t opening_send[WG_KEY_LEN], opening_recv[WG_KEY_LEN];
	uint32_t opening_a_index;
} keys;

/* A session as the harness sees it. */
struct session {
	enum remote_id remote;
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	uint32_t a_index;		/* what the harness writes to A */
	uint32_t my_index;		/* what A writes to the harness */
	uint64_t next_counter;		/* the harness's next nonce */
	/* The nonces A used under it: a bitmap of the first 4096, then
	 * the greatest (send jobs may be sealed out of order). */
	uint8_t a_used[4096 / 8];
	bool a_sent_high;
	uint64_t a_high;
};

/* What the harness remembers of one remote's conversation with A. */
struct remote_state {
	struct wg_cookie_maker cookie;	/* mac1/mac2 of what it sends A */
	uint32_t last_sender_index;	/* of its last handshake message */
	uint64_t last_tai_sec;		/* its timestamps only grow */
};

/* An initiation A sent, for the harness to answer. */
struct a_init {
	uint8_t msg[WG_INIT_LEN];
};

static struct world {
	struct wg_device *dev;
	struct fuzz_rng rng;
	uint64_t now;
	struct remote_state remote[N_REMOTES];
	struct session sessions[MAX_SESSIONS];
	size_t n_sessions;
	struct a_init a_inits[MAX_A_INITS];
	size_t n_a_inits;		/* total seen; ring of MAX_A_INITS */
	uint8_t last_resp[WG_RESP_LEN];	/* the latest response A sent */
	bool has_resp;
	/* The data message the harness hands A now, which A may deliver. */
	const struct sealed *expect;
	bool delivered;
	size_t n_recv_jobs, n_send_jobs;	/* pending data path steps */
} w;

/* The input, read from the front; short reads give zeros. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static void take(struct cursor *c, void *out, size_t n)
{
	size_t k = n < c->left ? n : c->left;

	if (k)
		memcpy(out, c->p, k);
	memset((uint8_t *)out + k, 0, n - k);
	c->p += k;
	c->left -= k;
}

static uint8_t take_u8(struct cursor *c)
{
	uint8_t v;

	take(c, &v, 1);
	return v;
}

static uint16_t take_u16(struct cursor *c)
{
	uint8_t b[2];

	take(c, b, 2);
	return (uint16_t)(b[0] | b[1] << 8);
}

static uint32_t take_u32(struct cursor *c)
{
	uint8_t b[4];

	take(c, b, 4);
	return wg_get_le32(b);
}

static uint64_t take_u64(struct cursor *c)
{
	uint8_t b[8];

	take(c, b, 8);
	return wg_get_le64(b);
}

/* Where datagrams come from: B's own address, B roaming, IPv6, a local
 * source address, an odd address, and C's address. */
static void pick_endpoint(struct cursor *c, struct wg_endpoint *ep)
{
	static const struct {
		const char *addr;
		uint16_t port;
	} table[] = {
		{ "192.0.2.2", 51820 },	{ "192.0.2.2", 1 },
		{ "198.51.100.7", 4500 }, { "2001:db8::2", 51820 },
		{ "192.0.2.3", 51820 },	{ "0.0.0.0", 0 },
		{ "::ffff:192.0.2.2", 51820 }, { "fe80::1", 65535 },
	};
	uint8_t sel = take_u8(c);
	size_t i = sel % (sizeof(table) / sizeof(table[0]));

	memset(ep, 0, sizeof(*ep));
	if (strchr(table[i].addr, ':')) {
		ep->addr.sin6.sin6_family = AF_INET6;
		ep->addr.sin6.sin6_port = htons(table[i].port);
		inet_pton(AF_INET6, table[i].addr, &ep->addr.sin6.sin6_addr);
		if (sel & 0x40)
			ep->addr.sin6.sin6_scope_id = 2;
	} else {
		ep->addr.sin.sin_family = AF_INET;
		ep->addr.sin.sin_port = htons(table[i].port);
		inet_pton(AF_INET, table[i].addr, &ep->addr.sin.sin_addr);
	}
	if (sel & 0x80) {
		/* The daemon reports the local address the datagram hit. */
		ep->has_src = true;
		ep->src_ifindex = 3;
		ep->src.v4.s_addr = htonl(0xc0000201);
	}
}

static enum remote_id pick_remote(struct cursor *c)
{
	return take_u8(c) & 1 ? REMOTE_C : REMOTE_B;
}

/* ---- The allowed IPs of B and C, as configured ---- */

static bool v4_in(const uint8_t *a, const char *net, unsigned int cidr)
{
	uint8_t n[4];
	uint32_t x, y, mask = cidr ? ~0u << (32 - cidr) : 0;

	inet_pton(AF_INET, net, n);
	x = (uint32_t)a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
	y = (uint32_t)n[0] << 24 | n[1] << 16 | n[2] << 8 | n[3];
	return (x & mask) == (y & mask);
}

static bool v6_is(const uint8_t *a, const char *addr)
{
	uint8_t n[16];

	inet_pton(AF_INET6, addr, n);
	return memcmp(a, n, 16) == 0;
}

static bool source_allowed(enum remote_id r, const uint8_t *pkt, size_t len)
{
	if (len >= 20 && pkt[0] >> 4 == 4) {
		if (r == REMOTE_B)
			return v4_in(pkt + 12, "10.0.0.2", 32) ||
			       v4_in(pkt + 12, "10.240.0.0", 16);
		return v4_in(pkt + 12, "10.0.0.3", 32);
	}
	if (len >= 40 && pkt[0] >> 4 == 6)
		return v6_is(pkt + 8, r == REMOTE_B ? "fd00::2" : "fd00::3");
	return false;
}

/* A sealed data message and what it holds, for delivering now or later. */
struct sealed {
	struct wg_endpoint from;
	enum remote_id remote;
	bool tampered;
	size_t len;			/* of the message */
	size_t plain_len;		/* of the padded inner packet */
	uint8_t msg[WG_DATA_HEADER_LEN + MAX_INNER + WG_DATA_PADDING +
		    WG_AEAD_TAG_LEN];
	uint8_t plain[MAX_INNER + WG_DATA_PADDING];
};

/* An inner packet A hands over (delivered, or returned by a finish step):
 * exactly what the harness sealed, from the sealing peer's allowed IPs. */
static void check_inner(const struct sealed *d, const uint8_t *packet,
			size_t len)
{
	FUZZ_CHECK(!d->tampered, "A took %zu bytes of a tampered message",
		   len);
	FUZZ_CHECK(len > 0 && len <= d->plain_len &&
			   memcmp(packet, d->plain, len) == 0,
		   "A took %zu bytes that differ from the %zu sealed", len,
		   d->plain_len);
	FUZZ_CHECK(source_allowed(d->remote, packet, len),
		   "A took a packet from outside the peer's allowed IPs");
}

/* ---- The configuration of A ---- */

static void add_allowed(struct wg_config_peer *p, int family, const char *a,
			uint8_t cidr)
{
	struct wg_allowedip aip = { .family = (uint8_t)family, .cidr = cidr };

	inet_pton(family, a, aip.addr);
	FUZZ_CHECK(wg_config_peer_add_allowedip(p, &aip) == 0, "oom");
}

static void config_peer(struct wg_config *cfg, enum remote_id r)
{
	struct wg_config_peer *p = wg_config_add_peer(cfg);

	FUZZ_CHECK(p, "oom");
	memcpy(p->public_key, keys.remote[r].local.public_key, WG_KEY_LEN);
	p->flags = WG_PEER_REPLACE_ALLOWEDIPS;
	if (keys.remote[r].has_psk) {
		p->flags |= WG_PEER_HAS_PRESHARED_KEY;
		memcpy(p->preshared_key, keys.remote[r].psk, WG_KEY_LEN);
	}
	if (r == REMOTE_B) {
		p->flags |= WG_PEER_HAS_ENDPOINT;
		FUZZ_CHECK(wg_endpoint_parse(&p->endpoint, "192.0.2.2:51820",
					     15), "endpoint");
		add_allowed(p, AF_INET, "10.0.0.2", 32);
		add_allowed(p, AF_INET, "10.240.0.0", 16);
		add_allowed(p, AF_INET6, "fd00::2", 128);
	} else {
		add_allowed(p, AF_INET, "10.0.0.3", 32);
		add_allowed(p, AF_INET6, "fd00::3", 128);
	}
}

static void apply(struct wg_config *cfg)
{
	struct wg_parse_error err;

	FUZZ_CHECK(wg_device_apply(w.dev, cfg, w.now, &err) == 0,
		   "apply: %s", err.message);
	wg_config_clear(cfg);
}

static void configure_a(void)
{
	struct wg_config cfg;

	wg_config_init(&cfg);
	cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_HAS_LISTEN_PORT |
		    WG_DEVICE_REPLACE_PEERS;
	memcpy(cfg.private_key, keys.a_private, WG_KEY_LEN);
	cfg.listen_port = 51820;
	config_peer(&cfg, REMOTE_B);
	config_peer(&cfg, REMOTE_C);
	apply(&cfg);
}

/* Changes while sessions run. */
static void op_config(struct cursor *c)
{
	struct wg_config cfg;
	struct wg_config_peer *p;
	uint8_t what = take_u8(c) % 10;
	struct wg_allowedip d_ip = { .family = AF_INET, .cidr = 32,
				     .addr = { 10, 0, 0, 4 } };

	wg_config_init(&cfg);
	switch (what) {
	case 0:	/* B removed */
		p = wg_config_add_peer(&cfg);
		FUZZ_CHECK(p, "oom");
		memcpy(p->public_key, keys.remote[REMOTE_B].local.public_key,
		       WG_KEY_LEN);
		p->flags = WG_PEER_REMOVE;
		break;
	case 1:	/* B (re-)added */
		config_peer(&cfg, REMOTE_B);
		break;
	case 2:	/* a new private key */
		cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
		memcpy(cfg.private_key, keys.a_other_private, WG_KEY_LEN);
		break;
	case 3:	/* the old one back */
		cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
		memcpy(cfg.private_key, keys.a_private, WG_KEY_LEN);
		break;
	case 4:	/* no private key at all */
		cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
		break;
	case 5:	/* C gets an endpoint and a persistent keepalive */
		p = wg_config_add_peer(&cfg);
		FUZZ_CHECK(p, "oom");
		memcpy(p->public_key, keys.remote[REMOTE_C].local.public_key,
		       WG_KEY_LEN);
		p->flags = WG_PEER_UPDATE_ONLY | WG_PEER_HAS_ENDPOINT |
			   WG_PEER_HAS_KEEPALIVE;
		FUZZ_CHECK(wg_endpoint_parse(&p->endpoint, "192.0.2.3:51820",
					     15), "endpoint");
		p->persistent_keepalive = (uint16_t)(1 + take_u8(c) % 30);
		break;
	case 6:	/* D, whose public key has low order: no handshake */
		p = wg_config_add_peer(&cfg);
		FUZZ_CHECK(p, "oom");
		memset(p->public_key, 0, WG_KEY_LEN);
		p->flags = WG_PEER_HAS_ENDPOINT;
		FUZZ_CHECK(wg_endpoint_parse(&p->endpoint, "192.0.2.4:51820",
					     15), "endpoint");
		FUZZ_CHECK(wg_config_peer_add_allowedip(p, &d_ip) == 0, "oom");
		break;
	case 7:	/* A takes C's private key: C, now A itself, goes */
		cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
		memcpy(cfg.private_key, keys.remote[REMOTE_C].local.private_key,
		       WG_KEY_LEN);
		break;
	case 8:	/* a peer with A's own public key: ignored */
		p = wg_config_add_peer(&cfg);
		FUZZ_CHECK(p, "oom");
		memcpy(p->public_key, keys.a_public, WG_KEY_LEN);
		FUZZ_CHECK(wg_config_peer_add_allowedip(p, &d_ip) == 0, "oom");
		break;
	default: /* everything replaced by the starting config */
		wg_config_clear(&cfg);
		configure_a();
		return;
	}
	apply(&cfg);
}

/* ---- What A sends ---- */

static void remember_session(enum remote_id r,
			     const struct wg_noise_keypair *kp)
{
	struct session *s;

	if (w.n_sessions == MAX_SESSIONS) {
		memmove(&w.sessions[0], &w.sessions[1],
			(MAX_SESSIONS - 1) * sizeof(w.sessions[0]));
		w.n_sessions--;
	}
	s = &w.sessions[w.n_sessions++];
	memset(s, 0, sizeof(*s));
	s->remote = r;
	memcpy(s->send_key, kp->send_key, WG_KEY_LEN);
	memcpy(s->recv_key, kp->recv_key, WG_KEY_LEN);
	s->a_index = kp->remote_index;
	s->my_index = kp->local_index;
}

/* A data message from A: it must open under one session the harness
 * knows by that index (several may share one, the fuzzer picks indices),
 * with a counter A has not used under that session before. */
static void a_sent_data(const uint8_t *msg, size_t len)
{
	static uint8_t plain[WG_MAX_PACKET + 64];
	uint32_t index = wg_get_le32(msg + WG_DATA_OFF_RECEIVER);
	uint64_t counter = wg_get_le64(msg + WG_DATA_OFF_COUNTER);
	size_t body = len - WG_DATA_HEADER_LEN;
	bool known = false;

	FUZZ_CHECK(len >= WG_DATA_MIN_LEN && body <= sizeof(plain),
		   "A sent a data message of %zu bytes", len);
	FUZZ_CHECK((body - WG_AEAD_TAG_LEN) % WG_DATA_PADDING == 0 ||
			   w.dev->mtu != 0,
		   "A sent %zu unpadded bytes", body - WG_AEAD_TAG_LEN);
	for (size_t i = 0; i < w.n_sessions; i++) {
		struct session *s = &w.sessions[i];

		if (s->my_index != index)
			continue;
		known = true;
		if (!wg_aead_open(plain, msg + WG_DATA_HEADER_LEN, body, NULL,
				  0, counter, s->recv_key))
			continue;
		if (counter < 8 * sizeof(s->a_used)) {
			uint8_t bit = (uint8_t)(1u << (counter & 7));

			FUZZ_CHECK(!(s->a_used[counter / 8] & bit),
				   "A reused nonce %llu under index %08x",
				   (unsigned long long)counter, index);
			s->a_used[counter / 8] |= bit;
		} else {
			FUZZ_CHECK(!s->a_sent_high || counter > s->a_high,
				   "A reused nonce %llu under index %08x",
				   (unsigned long long)counter, index);
			s->a_sent_high = true;
			s->a_high = counter;
		}
		return;
	}
	FUZZ_CHECK(!known, "A's data under index %08x opens under no session",
		   index);
}

static void a_sent_cookie(const uint8_t *msg)
{
	uint32_t receiver = wg_get_le32(msg + WG_COOKIE_OFF_RECEIVER);

	/* The remote whose message it answers takes it, as a client would. */
	for (int r = 0; r < N_REMOTES; r++)
		if (w.remote[r].last_sender_index == receiver)
			(void)wg_cookie_consume_reply(&w.remote[r].cookie, msg,
						      w.now);
}

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	(void)ctx;
	FUZZ_CHECK(to->addr.sa.sa_family == AF_INET ||
			   to->addr.sa.sa_family == AF_INET6,
		   "A sent to family %d", to->addr.sa.sa_family);
	FUZZ_CHECK(len >= 4, "A sent %zu bytes", len);
	if (trace)
		fprintf(stderr, "  A sends type %u len %zu\n", data[0], len);
	switch (data[0]) {
	case WG_MSG_INITIATION:
		FUZZ_CHECK(len == WG_INIT_LEN, "initiation of %zu bytes", len);
		memcpy(w.a_inits[w.n_a_inits++ % MAX_A_INITS].msg, data, len);
		break;
	case WG_MSG_RESPONSE:
		FUZZ_CHECK(len == WG_RESP_LEN, "response of %zu bytes", len);
		memcpy(w.last_resp, data, len);
		w.has_resp = true;
		break;
	case WG_MSG_COOKIE_REPLY:
		FUZZ_CHECK(len == WG_COOKIE_LEN_MSG, "cookie of %zu bytes",
			   len);
		a_sent_cookie(data);
		break;
	case WG_MSG_DATA:
		a_sent_data(data, len);
		break;
	default:
		FUZZ_CHECK(0, "A sent a message of type %u", data[0]);
	}
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	(void)ctx;
	if (trace)
		fprintf(stderr, "  A delivers %zu bytes\n", len);
	FUZZ_CHECK(w.expect, "A delivered %zu bytes nobody sealed", len);
	FUZZ_CHECK(!w.delivered, "A delivered one packet twice");
	check_inner(w.expect, packet, len);
	w.delivered = true;
}

static void env_log(void *ctx, enum wg_log_level level, const char *line)
{
	fuzz_log_check(ctx, level, line);
	if (trace)
		fprintf(stderr, "  log: %s\n", line);
}

/* The debugging key log: one well-formed line per ephemeral key. */
static void env_keylog(void *ctx, const char *line)
{
	static const char prefix[] = "LOCAL_EPHEMERAL_PRIVATE_KEY = ";
	uint8_t key[WG_KEY_LEN];

	(void)ctx;
	FUZZ_CHECK(strncmp(line, prefix, sizeof(prefix) - 1) == 0 &&
			   wg_key_from_base64(key, line + sizeof(prefix) - 1,
					      strlen(line) - (sizeof(prefix) - 1)),
		   "a malformed key-log line");
	wg_wipe(key, sizeof(key));
}

static void env_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	fuzz_rng_bytes(&w.rng, buf, len);
}

static void env_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	(void)ctx;
	*sec = WALL_BASE + w.now / WG_NSEC_PER_SEC;
	*nsec = (uint32_t)(w.now % WG_NSEC_PER_SEC);
}

/* ---- What the harness sends ---- */

static enum wg_verdict receive(const struct wg_endpoint *from, uint8_t *msg,
			       size_t len)
{
	enum wg_verdict v = wg_device_receive(w.dev, w.now, from, msg, len);

	FUZZ_CHECK(v < WG_VERDICT_COUNT, "verdict %d", (int)v);
	if (trace)
		fprintf(stderr, "  receive type %u len %zu: verdict %d\n",
			len ? msg[0] : 0, len, (int)v);
	return v;
}

/* mac1 for A, and mac2: none, the remote's own cookie (if A gave it one),
 * or one computed from A's cookie secret for `from`. */
static void fix_macs(uint8_t *msg, size_t len, enum remote_id r,
		     uint8_t mode, const struct wg_endpoint *from)
{
	const struct wg_cookie_checker *chk = &w.dev->cookie_checker;

	w.remote[r].last_sender_index = wg_get_le32(msg + 4);
	wg_cookie_add_macs(&w.remote[r].cookie, msg, len, w.now);
	if (mode % 3 == 2 && chk->has_secret) {
		uint8_t cookie[WG_COOKIE_LEN];

		wg_cookie_compute(chk, from, cookie);
		wg_mac(msg + len - WG_MAC_LEN, cookie, WG_COOKIE_LEN, msg,
		       len - WG_MAC_LEN);
	} else if (mode % 3 == 0) {
		memset(msg + len - WG_MAC_LEN, 0, WG_MAC_LEN);
	}
}

static void op_raw(struct cursor *c)
{
	static uint8_t msg[2048];
	struct wg_endpoint from;
	size_t len = take_u16(c) % sizeof(msg);

	pick_endpoint(c, &from);
	take(c, msg, len);
	receive(&from, msg, len);
}

/* Fuzzer bytes as the body of a handshake message or cookie reply, with
 * the type and (optionally) the receiver index and MACs made right. */
static void op_body(struct cursor *c, uint8_t type)
{
	uint8_t msg[WG_INIT_LEN];
	size_t len = type == WG_MSG_INITIATION ? WG_INIT_LEN :
		     type == WG_MSG_RESPONSE   ? WG_RESP_LEN :
						 WG_COOKIE_LEN_MSG;
	struct wg_endpoint from;
	enum remote_id r = pick_remote(c);
	uint8_t mode = take_u8(c);

	pick_endpoint(c, &from);
	take(c, msg, len);
	wg_put_le32(msg, type);
	/* Aim at A's latest initiation: a pending handshake. */
	if ((mode & 0x10) && w.n_a_inits && type != WG_MSG_INITIATION) {
		const uint8_t *init =
			w.a_inits[(w.n_a_inits - 1) % MAX_A_INITS].msg;
		memcpy(msg + 4 + 4 * (type == WG_MSG_RESPONSE),
		       init + WG_INIT_OFF_SENDER, 4);
	}
	if (type != WG_MSG_COOKIE_REPLY)
		fix_macs(msg, len, r, mode, &from);
	receive(&from, msg, len);
}

static void fresh_timestamp(enum remote_id r, uint8_t ts[WG_TAI64N_LEN])
{
	struct remote_state *rs = &w.remote[r];
	uint64_t sec = WALL_BASE + w.now / WG_NSEC_PER_SEC;

	if (sec <= rs->last_tai_sec)
		sec = rs->last_tai_sec + 1;
	rs->last_tai_sec = sec;
	wg_noise_tai64n(ts, sec, 0);
}

/* A genuine initiation from B or C; if A answers, the harness completes the
 * handshake on its side and remembers the session. */
static void op_initiation(struct cursor *c)
{
	enum remote_id r = pick_remote(c);
	const struct remote_keys *k = &keys.remote[r];
	struct wg_noise_handshake hs = k->template;
	struct wg_noise_keypair kp;
	uint8_t msg[WG_INIT_LEN], eph[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	struct wg_endpoint from;
	uint8_t mode = take_u8(c);
	uint32_t index = take_u32(c);

	pick_endpoint(c, &from);
	take(c, eph, sizeof(eph));
	wg_x25519_clamp(eph);
	if (mode & 0x20)
		take(c, ts, sizeof(ts));	/* any time: replays too */
	else
		fresh_timestamp(r, ts);
	if (!wg_noise_create_initiation(&hs, &k->local, msg, eph, index, ts))
		goto out;
	fix_macs(msg, sizeof(msg), r, mode, &from);
	w.has_resp = false;
	receive(&from, msg, sizeof(msg));
	if (!w.has_resp ||
	    wg_get_le32(w.last_resp + WG_RESP_OFF_RECEIVER) != index)
		goto out;
	if (!wg_noise_consume_response(&hs, &k->local, w.last_resp))
		FUZZ_CHECK(0, "A's response to a genuine initiation is bad");
	FUZZ_CHECK(wg_noise_begin_session(&hs, &kp, w.now), "no session");
	remember_session(r, &kp);
	wg_noise_keypair_wipe(&kp);
out:
	wg_noise_handshake_wipe(&hs);
	wg_wipe(eph, sizeof(eph));
}

/* A genuine response to one of A's initiations, from whichever remote it
 * was meant for. */
static void op_response(struct cursor *c)
{
	struct wg_noise_initiation_scratch scratch;
	struct wg_noise_handshake hs;
	struct wg_noise_keypair kp;
	uint8_t msg[WG_RESP_LEN], eph[WG_KEY_LEN];
	const uint8_t *init;
	struct wg_endpoint from;
	uint8_t pick = take_u8(c), mode = take_u8(c);
	uint32_t index = take_u32(c);
	int r;

	pick_endpoint(c, &from);
	take(c, eph, sizeof(eph));
	wg_x25519_clamp(eph);
	if (!w.n_a_inits)
		goto out_eph;
	if (pick >= w.n_a_inits || pick >= MAX_A_INITS)
		pick = 0;
	init = w.a_inits[(w.n_a_inits - 1 - pick) % MAX_A_INITS].msg;
	for (r = 0; r < N_REMOTES; r++)
		if (wg_noise_consume_initiation_begin(&keys.remote[r].local,
						      init, &scratch))
			break;
	if (r == N_REMOTES)
		goto out_eph;	/* sent under A's other key, for instance */
	hs = keys.remote[r].template;
	if (wg_noise_consume_initiation_finish(&hs, init, &scratch, w.now) !=
		    WG_NOISE_INITIATION_OK ||
	    !wg_noise_create_response(&hs, msg, eph, index))
		goto out;
	fix_macs(msg, sizeof(msg), (enum remote_id)r, mode, &from);
	/* A sends under the new session from within receive (a keepalive
	 * or what it staged), so the harness must know it before. */
	if (!wg_noise_begin_session(&hs, &kp, w.now))
		goto out;
	remember_session((enum remote_id)r, &kp);
	wg_noise_keypair_wipe(&kp);
	if (receive(&from, msg, sizeof(msg)) != WG_OK)
		wg_wipe(&w.sessions[--w.n_sessions], sizeof(w.sessions[0]));
out:
	wg_noise_handshake_wipe(&hs);
out_eph:
	wg_wipe(eph, sizeof(eph));
}

/* A genuine cookie reply to A's latest initiation, as B or C under load
 * would send it, with a fuzzer-chosen cookie secret and nonce. */
static void op_cookie(struct cursor *c)
{
	struct wg_cookie_checker chk;
	uint8_t msg[WG_COOKIE_LEN_MSG], secret[WG_HASH_LEN];
	uint8_t nonce[WG_XNONCE_LEN];
	enum remote_id r = pick_remote(c);
	struct wg_endpoint from, a_addr;

	pick_endpoint(c, &from);
	pick_endpoint(c, &a_addr);
	take(c, secret, sizeof(secret));
	take(c, nonce, sizeof(nonce));
	if (!w.n_a_inits)
		return;
	memset(&chk, 0, sizeof(chk));
	wg_cookie_checker_init(&chk, keys.remote[r].local.public_key);
	wg_cookie_checker_set_secret(&chk, secret, w.now);
	wg_cookie_make_reply(&chk, msg,
			     w.a_inits[(w.n_a_inits - 1) % MAX_A_INITS].msg,
			     WG_INIT_LEN, &a_addr, nonce);
	receive(&from, msg, sizeof(msg));
	wg_wipe(&chk, sizeof(chk));
}

/* An inner packet: raw bytes, or an IPv4/IPv6 header made right around
 * fuzzer bytes with a source (for data to A) or destination (for sends
 * from A) from a table that spans B's, C's, D's and nobody's addresses.
 * Usually up to 1600 bytes; with 0x40 in the mode, up to and past the
 * 65535 the core takes (the rest zeros). */
static size_t make_inner(struct cursor *c, uint8_t *out, bool inbound)
{
	static const char *const v4[] = { "10.0.0.2",  "10.240.7.9",
					  "10.0.0.3",  "10.9.9.9",
					  "10.0.0.1",  "255.255.255.255",
					  "10.0.0.4" };
	static const char *const v6[] = { "fd00::2", "fd00::3", "fd00::9",
					  "fd00::1" };
	uint8_t mode = take_u8(c), sel = take_u8(c);
	size_t payload = take_u16(c);
	size_t len;

	if (!(mode & 0x40))
		payload %= USUAL_INNER - 40;

	switch (mode % 4) {
	case 0:		/* raw */
		take(c, out, payload);
		return payload;
	case 1:		/* IPv4 */
		len = 20 + payload;
		take(c, out + 20, payload);
		memset(out, 0, 20);
		out[0] = 0x45;
		out[2] = (uint8_t)(len >> 8);
		out[3] = (uint8_t)len;
		out[8] = 64;
		out[9] = 17;
		inet_pton(AF_INET, v4[sel % 7], out + (inbound ? 12 : 16));
		inet_pton(AF_INET, "10.0.0.1", out + (inbound ? 16 : 12));
		if (mode & 0x10) {	/* a lying length field */
			out[2] = take_u8(c);
			out[3] = take_u8(c);
		}
		return len;
	case 2:		/* IPv6 */
		len = 40 + payload;
		take(c, out + 40, payload);
		memset(out, 0, 40);
		out[0] = 0x60;
		out[4] = (uint8_t)(payload >> 8);
		out[5] = (uint8_t)payload;
		out[6] = 17;
		out[7] = 64;
		inet_pton(AF_INET6, v6[sel % 4], out + (inbound ? 8 : 24));
		inet_pton(AF_INET6, "fd00::1", out + (inbound ? 24 : 8));
		if (mode & 0x10) {
			out[4] = take_u8(c);
			out[5] = take_u8(c);
		}
		return len;
	default:	/* empty: a keepalive */
		return 0;
	}
}

/* A data message under a session the harness knows (or under a made-up
 * index), at the session's next counter or one the fuzzer picks; with
 * 0x40 in the counter mode, one bit of it flipped after sealing. */
static void seal_data(struct cursor *c, struct sealed *out)
{
	uint8_t pick = take_u8(c), cmode = take_u8(c);
	uint64_t counter_arg = take_u64(c);
	struct session *s = NULL;
	struct session made_up;
	size_t len, padded;
	uint64_t counter;

	pick_endpoint(c, &out->from);
	len = make_inner(c, out->plain, true);
	if (w.n_sessions && !(pick & 0x80)) {
		s = &w.sessions[pick % w.n_sessions];
	} else {
		memset(&made_up, 0, sizeof(made_up));
		made_up.a_index = (uint32_t)counter_arg;
		take(c, made_up.send_key, WG_KEY_LEN);
		s = &made_up;
	}
	switch (cmode % 4) {
	case 0:
	case 1:		/* in order */
		counter = s->next_counter++;
		break;
	case 2:		/* behind or ahead of the window's edge */
		counter = s->next_counter - (counter_arg % 9000) +
			  (cmode & 0x10 ? 8192 : 0);
		break;
	default:	/* anywhere */
		counter = counter_arg;
		break;
	}
	padded = len;
	if (!(cmode & 0x20))
		padded = (len + WG_DATA_PADDING - 1) &
			 ~(size_t)(WG_DATA_PADDING - 1);
	memset(out->plain + len, 0, padded - len);
	wg_put_le32(out->msg, WG_MSG_DATA);
	wg_put_le32(out->msg + WG_DATA_OFF_RECEIVER, s->a_index);
	wg_put_le64(out->msg + WG_DATA_OFF_COUNTER, counter);
	wg_aead_seal(out->msg + WG_DATA_HEADER_LEN, out->plain, padded, NULL, 0,
		     counter, s->send_key);
	out->len = WG_DATA_HEADER_LEN + padded + WG_AEAD_TAG_LEN;
	out->plain_len = padded;
	out->remote = s->remote;
	out->tampered = cmode & 0x40;
	if (out->tampered)
		out->msg[(counter_arg >> 3) % out->len] ^=
			(uint8_t)(1u << (counter_arg & 7));
	if (s == &made_up)
		wg_wipe(&made_up, sizeof(made_up));
}

static void op_data(struct cursor *c)
{
	static struct sealed d;

	seal_data(c, &d);
	w.expect = &d;
	w.delivered = false;
	receive(&d.from, d.msg, d.len);
	w.expect = NULL;
}

/*
 * The data path in steps (wg.h): a message prepared now is opened and
 * finished by a later operation, with anything in between (a rekey, a
 * peer removed, the session expired); a packet's send job is sealed later,
 * in any order. The core must notice a session that changed meanwhile, and
 * never use a counter twice however the seals are ordered.
 */
#define MAX_PENDING 4

static struct sealed pending_recv[MAX_PENDING];
static struct wg_recv_job recv_jobs[MAX_PENDING];

struct pending_send {
	struct wg_send_job job;
	uint8_t msg[WG_DATA_HEADER_LEN + MAX_INNER + WG_DATA_PADDING +
		    WG_AEAD_TAG_LEN];
};

static struct pending_send pending_send[MAX_PENDING];

static void op_recv_prepare(struct cursor *c)
{
	struct sealed *d;
	bool ready = false;
	enum wg_verdict v;

	if (w.n_recv_jobs == MAX_PENDING)
		return;
	d = &pending_recv[w.n_recv_jobs];
	seal_data(c, d);
	v = wg_device_receive_prepare(w.dev, w.now, &d->from, d->msg, d->len,
				      &recv_jobs[w.n_recv_jobs], &ready);
	FUZZ_CHECK(v < WG_VERDICT_COUNT, "verdict %d", (int)v);
	FUZZ_CHECK(!ready || v == WG_OK, "ready with verdict %d", (int)v);
	if (ready)
		w.n_recv_jobs++;
}

static void op_recv_finish(struct cursor *c)
{
	uint8_t pick = take_u8(c);
	size_t i, inner_len = 0;
	struct sealed *d;
	bool opened;
	enum wg_verdict v;

	if (!w.n_recv_jobs)
		return;
	i = pick % w.n_recv_jobs;
	d = &pending_recv[i];
	opened = wg_recv_job_open(&recv_jobs[i], d->msg, d->len);
	FUZZ_CHECK(!(opened && d->tampered), "a tampered message opened");
	v = wg_device_receive_finish(w.dev, w.now, &d->from, &recv_jobs[i],
				     opened, d->msg, d->len, &inner_len);
	FUZZ_CHECK(v < WG_VERDICT_COUNT, "verdict %d", (int)v);
	FUZZ_CHECK(opened || v != WG_OK, "finished unopened with WG_OK");
	if (trace)
		fprintf(stderr, "  finish len %zu: verdict %d, inner %zu\n",
			d->len, (int)v, inner_len);
	if (v == WG_OK && inner_len)
		check_inner(d, d->msg + WG_DATA_HEADER_LEN, inner_len);
	FUZZ_CHECK(v == WG_OK || inner_len == 0, "an inner packet with a drop");
	/* The last pending job takes the finished one's place. */
	w.n_recv_jobs--;
	if (i != w.n_recv_jobs) {
		memcpy(d, &pending_recv[w.n_recv_jobs], sizeof(*d));
		recv_jobs[i] = recv_jobs[w.n_recv_jobs];
	}
	wg_wipe(&recv_jobs[w.n_recv_jobs], sizeof(recv_jobs[0]));
}

static void op_send_prepare(struct cursor *c)
{
	struct pending_send *ps;
	size_t len;
	bool ready = false;
	enum wg_verdict v;

	if (w.n_send_jobs == MAX_PENDING)
		return;
	ps = &pending_send[w.n_send_jobs];
	/* The packet goes where the seal wants it: after the header. */
	len = make_inner(c, ps->msg + WG_DATA_HEADER_LEN, false);
	v = wg_device_send_prepare(w.dev, w.now, ps->msg + WG_DATA_HEADER_LEN,
				   len, &ps->job, &ready);
	FUZZ_CHECK(v < WG_VERDICT_COUNT, "verdict %d", (int)v);
	if (ready) {
		FUZZ_CHECK(v == WG_OK && ps->job.len == len &&
				   ps->job.padded >= len &&
				   ps->job.padded <= len + WG_DATA_PADDING,
			   "a send job of %zu for %zu bytes", ps->job.padded,
			   len);
		w.n_send_jobs++;
	} else if (v == WG_OK) {
		/* No session to send with yet: the packet goes the long
		 * way, as the API says. */
		(void)wg_device_send(w.dev, w.now, ps->msg + WG_DATA_HEADER_LEN,
				     len);
	}
}

static void op_send_seal(struct cursor *c)
{
	uint8_t pick = take_u8(c);
	struct pending_send *ps;
	size_t i, mlen;

	if (!w.n_send_jobs)
		return;
	i = pick % w.n_send_jobs;
	ps = &pending_send[i];
	mlen = wg_send_job_seal(&ps->job, ps->msg + WG_DATA_HEADER_LEN,
				ps->msg);
	FUZZ_CHECK(mlen == WG_DATA_HEADER_LEN + ps->job.padded +
				   WG_AEAD_TAG_LEN,
		   "sealed %zu bytes for %zu", mlen, ps->job.padded);
	a_sent_data(ps->msg, mlen);
	w.n_send_jobs--;
	if (i != w.n_send_jobs)
		memcpy(ps, &pending_send[w.n_send_jobs], sizeof(*ps));
	wg_wipe(&pending_send[w.n_send_jobs].job, sizeof(ps->job));
}

static void op_send(struct cursor *c)
{
	static uint8_t pkt[MAX_INNER];
	size_t len = make_inner(c, pkt, false);
	enum wg_verdict v = wg_device_send(w.dev, w.now, pkt, len);

	FUZZ_CHECK(v < WG_VERDICT_COUNT, "verdict %d", (int)v);
	if (trace)
		fprintf(stderr, "  send len %zu: verdict %d\n", len, (int)v);
}

static void op_tick(struct cursor *c)
{
	static const uint64_t steps[] = {
		0,
		1000000ULL,
		WG_NSEC_PER_SEC,
		WG_REKEY_TIMEOUT + 1,
		WG_KEEPALIVE_TIMEOUT,
		WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT,
		WG_REKEY_AFTER_TIME,
		WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT - WG_REKEY_TIMEOUT,
		WG_REJECT_AFTER_TIME,
		WG_ZERO_KEYS_AFTER,
		WG_REKEY_ATTEMPT_TIME,
	};
	uint8_t sel = take_u8(c);
	uint16_t ms = take_u16(c);
	uint64_t next = wg_device_next_deadline(w.dev);

	if (sel < 64 && next != UINT64_MAX && next > w.now)
		w.now = next;	/* exactly at the deadline */
	else if (sel < 128)
		w.now += (uint64_t)ms * 1000000ULL;
	else
		w.now += steps[sel % (sizeof(steps) / sizeof(steps[0]))];
	next = wg_device_tick(w.dev, w.now);
	FUZZ_CHECK(next > w.now, "tick at %llu leaves a deadline at %llu",
		   (unsigned long long)w.now, (unsigned long long)next);
}

/* get=1 while sessions run: the running config and its counters. */
static void op_get(void)
{
	struct wg_config running;
	struct wg_buf b = { 0 };

	FUZZ_CHECK(wg_device_get(w.dev, &running) == 0, "get failed");
	wg_uapi_emit_get(&b, &running);
	fuzz_check_buf(&b);
	wg_buf_clear(&b);
	wg_config_clear(&running);
}

/* ---- The world every input starts from ---- */

static void decode_key(uint8_t out[WG_KEY_LEN], const char *hex)
{
	FUZZ_CHECK(wg_key_from_hex(out, hex, strlen(hex)), "bad key text");
}

static void remote_keys_init(struct remote_keys *k, const uint8_t priv[32],
			     const uint8_t *psk)
{
	memset(k, 0, sizeof(*k));
	k->local.has_key = true;
	memcpy(k->local.private_key, priv, WG_KEY_LEN);
	wg_x25519_clamp(k->local.private_key);
	FUZZ_CHECK(wg_x25519_public(k->local.public_key, k->local.private_key),
		   "public key");
	if (psk) {
		memcpy(k->psk, psk, WG_KEY_LEN);
		k->has_psk = true;
	}
	/* Towards A: the static-static DH is computed once, here. */
	wg_noise_handshake_init(&k->template, &k->local, keys.a_public,
				k->has_psk ? k->psk : NULL);
}

/* Starts A, configured, with B's opening initiation answered. */
static void start_world(void)
{
	struct wg_env env = {
		.random = env_random,
		.wall_clock = env_wall,
		.send = env_send,
		.deliver = env_deliver,
		.log = env_log,
		.log_level = WG_LOG_TRACE,
		.keylog = env_keylog,
	};
	struct wg_endpoint from;
	uint8_t msg[WG_INIT_LEN];

	memset(&w, 0, sizeof(w));
	fuzz_rng_init(&w.rng, 0x77697265);
	w.now = START_NOW;
	w.dev = wg_device_new(&env, w.now);
	FUZZ_CHECK(w.dev, "wg_device_new failed");
	configure_a();
	for (int r = 0; r < N_REMOTES; r++)
		wg_cookie_maker_init(&w.remote[r].cookie,
				     keys.a_public);
	w.remote[REMOTE_B].last_tai_sec = WALL_BASE;
	FUZZ_CHECK(wg_endpoint_parse(&from, "192.0.2.2:51820", 15), "ep");
	memcpy(msg, keys.opening_init, sizeof(msg));
	w.remote[REMOTE_B].last_sender_index = 0x0b0b0b0b;
	FUZZ_CHECK(receive(&from, msg, sizeof(msg)) == WG_OK,
		   "A refused B's opening initiation");
	FUZZ_CHECK(w.has_resp, "A did not answer B's opening initiation");
}

/* B's opening: an initiation at a fixed time with a fixed ephemeral. */
static void make_opening(void)
{
	struct wg_noise_handshake hs = keys.remote[REMOTE_B].template;
	struct wg_cookie_maker maker;
	struct wg_noise_keypair kp;
	uint8_t eph[WG_KEY_LEN], ts[WG_TAI64N_LEN];

	memset(eph, 0x42, sizeof(eph));
	wg_x25519_clamp(eph);
	wg_noise_tai64n(ts, WALL_BASE, 0);
	FUZZ_CHECK(wg_noise_create_initiation(&hs, &keys.remote[REMOTE_B].local,
					      keys.opening_init, eph,
					      0x0b0b0b0b, ts),
		   "opening initiation");
	wg_cookie_maker_init(&maker, keys.a_public);
	wg_cookie_add_macs(&maker, keys.opening_init, WG_INIT_LEN, START_NOW);

	start_world();
	memcpy(keys.opening_resp, w.last_resp, WG_RESP_LEN);
	FUZZ_CHECK(wg_noise_consume_response(&hs, &keys.remote[REMOTE_B].local,
					     keys.opening_resp),
		   "opening response");
	FUZZ_CHECK(wg_noise_begin_session(&hs, &kp, START_NOW), "session");
	memcpy(keys.opening_send, kp.send_key, WG_KEY_LEN);
	memcpy(keys.opening_recv, kp.recv_key, WG_KEY_LEN);
	keys.opening_a_index = kp.remote_index;
	wg_device_free(w.dev);
	w.dev = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t b_priv[WG_KEY_LEN], c_priv[WG_KEY_LEN], c_psk[WG_KEY_LEN];

	(void)argc;
	(void)argv;
	trace = getenv("FUZZ_TRACE") != NULL;
	FUZZ_CHECK(wg_crypto_init(), "libsodium");
	decode_key(keys.a_private, a_private_hex);
	FUZZ_CHECK(wg_x25519_public(keys.a_public, keys.a_private), "A key");
	wg_hash(keys.a_other_private, "uniguard fuzz: A's second key", 29,
		NULL, 0);
	decode_key(b_priv, b_private_hex);
	wg_hash(c_priv, "uniguard fuzz: peer C", 21, NULL, 0);
	decode_key(c_psk, c_psk_hex);
	remote_keys_init(&keys.remote[REMOTE_B], b_priv, NULL);
	remote_keys_init(&keys.remote[REMOTE_C], c_priv, c_psk);
	make_opening();
	keys.ready = true;
	return 0;
}

/* The established session: A's answer must be the one computed at start,
 * then B's first keepalive confirms the session to A. */
static void establish(void)
{
	struct wg_noise_keypair kp;

	start_world();
	FUZZ_CHECK(memcmp(w.last_resp, keys.opening_resp, WG_RESP_LEN) == 0,
		   "the starting world is not deterministic");
	memset(&kp, 0, sizeof(kp));
	memcpy(kp.send_key, keys.opening_send, WG_KEY_LEN);
	memcpy(kp.recv_key, keys.opening_recv, WG_KEY_LEN);
	kp.remote_index = keys.opening_a_index;
	kp.local_index = 0x0b0b0b0b;
	remember_session(REMOTE_B, &kp);
	wg_noise_keypair_wipe(&kp);
}

static void confirm_opening(void)
{
	static const uint8_t keepalive_input[] = {
		0,	/* pick session 0 */
		0,	/* in order */
		0, 0, 0, 0, 0, 0, 0, 0,
		0,	/* from B's address */
		3,	/* empty inner packet */
		0, 0, 0,
	};
	struct cursor c = { keepalive_input, sizeof(keepalive_input) };

	op_data(&c);
	FUZZ_CHECK(wg_device_stats(w.dev)->handshakes_completed == 1,
		   "B's keepalive did not confirm the opening session");
}

/* Load: up to twice the handshake messages in a second that put A under
 * load (under_load.h), each with a wrong mac1. */
static void op_load(struct cursor *c)
{
	struct wg_endpoint from = { 0 };

	from.addr.sin.sin_family = AF_INET;
	from.addr.sin.sin_port = htons(4500);
	from.addr.sin.sin_addr.s_addr = htonl(0xc6336407);	/* 198.51.100.7 */
	harness_handshake_flood(w.dev, w.now, &from, (size_t)take_u8(c) * 4);
}

enum op {
	OP_RAW,
	OP_INIT_BODY,
	OP_RESP_BODY,
	OP_COOKIE_BODY,
	OP_INITIATION,
	OP_RESPONSE,
	OP_COOKIE,
	OP_DATA,
	OP_SEND,
	OP_TICK,
	OP_LOAD,
	OP_MTU,
	OP_CONFIG,
	OP_GET,
	OP_RECV_PREPARE,
	OP_RECV_FINISH,
	OP_SEND_PREPARE,
	OP_SEND_SEAL,
	OP_COUNT
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cursor c = { data, size };
	int costly = 0;

	if (!keys.ready)
		LLVMFuzzerInitialize(NULL, NULL);
	establish();
	confirm_opening();
	for (int n = 0; n < MAX_OPS && c.left > 0; n++) {
		enum op op = (enum op)(take_u8(&c) % OP_COUNT);

		if (trace)
			fprintf(stderr, "op %d at %llu ms\n", (int)op,
				(unsigned long long)(w.now / 1000000));
		if (op == OP_INITIATION || op == OP_RESPONSE ||
		    op == OP_CONFIG || op == OP_LOAD) {
			if (costly++ >= MAX_COSTLY)
				continue;
		}
		switch (op) {
		case OP_RAW:
			op_raw(&c);
			break;
		case OP_INIT_BODY:
			op_body(&c, WG_MSG_INITIATION);
			break;
		case OP_RESP_BODY:
			op_body(&c, WG_MSG_RESPONSE);
			break;
		case OP_COOKIE_BODY:
			op_body(&c, WG_MSG_COOKIE_REPLY);
			break;
		case OP_INITIATION:
			op_initiation(&c);
			break;
		case OP_RESPONSE:
			op_response(&c);
			break;
		case OP_COOKIE:
			op_cookie(&c);
			break;
		case OP_DATA:
			op_data(&c);
			break;
		case OP_SEND:
			op_send(&c);
			break;
		case OP_TICK:
			op_tick(&c);
			break;
		case OP_LOAD:
			op_load(&c);
			break;
		case OP_MTU:
			wg_device_set_mtu(w.dev, take_u16(&c) % 1600);
			break;
		case OP_CONFIG:
			op_config(&c);
			break;
		case OP_GET:
			op_get();
			break;
		case OP_RECV_PREPARE:
			op_recv_prepare(&c);
			break;
		case OP_RECV_FINISH:
			op_recv_finish(&c);
			break;
		case OP_SEND_PREPARE:
			op_send_prepare(&c);
			break;
		default:
			op_send_seal(&c);
			break;
		}
	}
	wg_device_free(w.dev);
	w.dev = NULL;
	wg_wipe(w.sessions, sizeof(w.sessions));
	wg_wipe(recv_jobs, sizeof(recv_jobs));
	for (size_t i = 0; i < MAX_PENDING; i++)
		wg_wipe(&pending_send[i].job, sizeof(pending_send[i].job));
	return 0;
}
