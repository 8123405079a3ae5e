/* SPDX-License-Identifier: MIT */
/*
 * The constant-time check of the core ("ctgrind", run by ci/ctgrind under
 * valgrind memcheck). Secrets (static and ephemeral private keys, the
 * preshared key, session keys, the cookie secret) are marked undefined with
 * VALGRIND_MAKE_MEM_UNDEFINED before the core works on them. Memcheck then
 * reports every branch ("conditional jump depends on uninitialised
 * value") and every memory address ("use of uninitialised value") computed
 * from them: a secret-dependent branch or table index is a timing leak.
 * Values computed from secrets stay undefined, so the check follows a key
 * through the KDF into session keys and on into sealing and opening.
 *
 * Some results derived from secrets are public by design, and are marked
 * defined ("declassified") where they appear, each for a stated reason:
 *
 *  - in this program: a message once built, because it goes on the wire;
 *    and copies of results the program itself checks;
 *  - at libsodium's and libcrypto's boundaries, by the valgrind function
 *    wrappers at the end of this file: the verdicts of comparisons, zero
 *    tests, tag checks and X25519's low-order refusal (a packet is
 *    accepted or dropped, a key is present or not, for all to see), a
 *    public key computed from a private one, and the plaintext of an AEAD
 *    that opened (the message itself, which the receiver parses; the key
 *    that hid it stays secret).
 *
 * Anything else memcheck reports is a finding, unless ctgrind.supp
 * suppresses it with a reason (docs/security.md lists them).
 *
 * Run with --self-test, the program branches on a secret and indexes a
 * table with one: ci/ctgrind checks that memcheck catches both.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>

#include <sodium.h>

#include "blake2s.h"
#include "cookie.h"
#include "crypto.h"
#include "noise.h"
#include "replay.h"
#include "wg.h"

#include "../under_load.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

static int failures;

/* The program's own checks look at declassified copies. */
static void check_bool(bool got, const char *what)
{
	PUBLIC(&got, sizeof(got));
	if (!got) {
		fprintf(stderr, "ctgrind: %s failed\n", what);
		failures++;
	}
}

static void check_same(const void *a, const void *b, size_t len,
		       const char *what)
{
	uint8_t *x = malloc(len), *y = malloc(len);

	if (!x || !y)
		abort();
	memcpy(x, a, len);
	memcpy(y, b, len);
	PUBLIC(x, len);
	PUBLIC(y, len);
	check_bool(memcmp(x, y, len) == 0, what);
	free(x);
	free(y);
}

/* A fixed, distinct byte pattern per key, then marked secret. */
static void make_secret(uint8_t *out, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		out[i] = (uint8_t)(seed * 31 + i * 7);
	SECRET(out, len);
}

/* BLAKE2s and the whitepaper's HASH, MAC, HMAC and KDF over secrets, at
 * lengths around the block size. */
static void check_hashes(void)
{
	static const size_t lens[] = { 0, 1, 31, 32, 63, 64, 65, 128, 200 };
	uint8_t key[32], in[200], out[32], t1[32], t2[32], t3[32];

	make_secret(key, sizeof(key), 1);
	make_secret(in, sizeof(in), 2);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		blake2s(out, 32, key, 32, in, lens[i]);
		blake2s(out, 16, key, 1 + lens[i] % 32, in, lens[i]);
		blake2s(out, 32, NULL, 0, in, lens[i]);
		wg_hash(out, in, lens[i], key, sizeof(key));
		wg_mac(out, key, sizeof(key), in, lens[i]);
		wg_hmac(out, key, in, lens[i]);
		wg_kdf(t1, NULL, NULL, key, in, lens[i]);
		wg_kdf(t1, t2, NULL, key, in, lens[i]);
		wg_kdf(t1, t2, t3, key, in, lens[i]);
	}
	/* The chaining key is passed as key and first output at once. */
	wg_kdf(key, t2, t3, key, in, 32);
}

/* Comparisons and zero tests: the verdict is public, the work is not. */
static void check_compare(void)
{
	uint8_t a[32], b[32], zero[32];

	make_secret(a, sizeof(a), 3);
	memcpy(b, a, sizeof(b));
	memset(zero, 0, sizeof(zero));
	SECRET(zero, sizeof(zero));
	check_bool(wg_equal(a, b, 32), "equal secrets compare equal");
	b[31] ^= 1;
	check_bool(!wg_equal(a, b, 32), "different secrets compare unequal");
	check_bool(wg_is_zero(zero, 32), "a zero secret is zero");
	check_bool(!wg_is_zero(a, 32), "a nonzero secret is not zero");
}

/* Key text: encoding a private key, and decoding its text. */
static void check_key_text(void)
{
	uint8_t key[32], back[32];
	char hex[WG_KEY_HEX_LEN], b64[WG_KEY_BASE64_LEN];

	make_secret(key, sizeof(key), 4);
	wg_key_to_hex(hex, key);
	wg_key_to_base64(b64, key);
	/* The text of a key is as secret as the key. */
	SECRET(hex, sizeof(hex) - 1);
	SECRET(b64, sizeof(b64) - 1);
	check_bool(wg_key_from_hex(back, hex, 64), "hex decodes");
	check_same(back, key, 32, "hex round trip");
	check_bool(wg_key_from_base64(back, b64, 44), "base64 decodes");
	check_same(back, key, 32, "base64 round trip");
}

/* A full handshake through noise.h, then data both ways. */
struct side {
	struct wg_noise_local local;
	struct wg_noise_handshake hs;
	struct wg_noise_keypair kp;
};

static void make_local(struct wg_noise_local *l, uint8_t seed)
{
	make_secret(l->private_key, WG_KEY_LEN, seed);
	wg_x25519_clamp(l->private_key);
	l->has_key = wg_x25519_public(l->public_key, l->private_key);
	check_bool(l->has_key, "a public key from a secret private key");
}

static void check_data(struct wg_noise_keypair *from,
		       struct wg_noise_keypair *to)
{
	uint8_t plain[100], sealed[100 + WG_AEAD_TAG_LEN], opened[100];

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)i;
	for (uint64_t counter = 0; counter < 3; counter++) {
		wg_aead_seal(sealed, plain, sizeof(plain), NULL, 0, counter,
			     from->send_key);
		PUBLIC(sealed, sizeof(sealed));		/* on the wire */
		check_bool(wg_aead_open(opened, sealed, sizeof(sealed), NULL,
					0, counter, to->recv_key),
			   "data opens");
		check_same(opened, plain, sizeof(plain), "data round trip");
		check_bool(wg_replay_accept(&to->replay, counter),
			   "a new counter is accepted");
		sealed[0] ^= 1;
		check_bool(!wg_aead_open(opened, sealed, sizeof(sealed), NULL,
					 0, counter, to->recv_key),
			   "tampered data does not open");
	}
	/* Transport data by each implementation of the data AEAD. */
	for (size_t i = 0; i < 2; i++) {
		const struct wg_aead_impl *aead = i ? &wg_aead_libcrypto :
						      &wg_aead_libsodium;

		for (uint64_t counter = 3; counter < 6; counter++) {
			aead->seal(sealed, plain, sizeof(plain), NULL, 0,
				   counter, from->send_key);
			PUBLIC(sealed, sizeof(sealed));	/* on the wire */
			check_bool(aead->open(opened, sealed, sizeof(sealed),
					      NULL, 0, counter, to->recv_key),
				   "data opens");
			check_same(opened, plain, sizeof(plain),
				   "data round trip");
			/* In place, as the packet path does. */
			check_bool(aead->open(sealed, sealed, sizeof(sealed),
					      NULL, 0, counter, to->recv_key),
				   "data opens in place");
			aead->seal(sealed, sealed, sizeof(plain), NULL, 0,
				   counter, from->send_key);
			PUBLIC(sealed, sizeof(sealed));	/* on the wire */
			sealed[sizeof(plain) + 3] ^= 1;
			check_bool(!aead->open(opened, sealed, sizeof(sealed),
					       NULL, 0, counter,
					       to->recv_key),
				   "tampered data does not open");
		}
	}
	wg_crypto_thread_done();
}

static void check_handshake(bool with_psk)
{
	struct side i, r;
	struct wg_noise_initiation_scratch scratch;
	uint8_t psk[32], eph_i[32], eph_r[32], ts[WG_TAI64N_LEN];
	uint8_t init[WG_INIT_LEN], resp[WG_RESP_LEN];
	uint8_t dh1[32], dh2[32];
	bool ok;

	wg_noise_init();
	memset(&i, 0, sizeof(i));
	memset(&r, 0, sizeof(r));
	make_local(&i.local, 10);
	make_local(&r.local, 11);
	if (with_psk)
		make_secret(psk, sizeof(psk), 12);
	else
		memset(psk, 0, sizeof(psk));
	make_secret(eph_i, sizeof(eph_i), 13);
	make_secret(eph_r, sizeof(eph_r), 14);
	wg_x25519_clamp(eph_i);
	wg_x25519_clamp(eph_r);
	wg_noise_tai64n(ts, 1700000000, 5);

	/* DH directly: both sides reach one shared secret. */
	check_bool(wg_x25519(dh1, i.local.private_key, r.local.public_key),
		   "DH");
	check_bool(wg_x25519(dh2, r.local.private_key, i.local.public_key),
		   "DH back");
	check_same(dh1, dh2, 32, "DH agrees");

	wg_noise_handshake_init(&i.hs, &i.local, r.local.public_key, psk);
	wg_noise_handshake_init(&r.hs, &r.local, i.local.public_key, psk);

	ok = wg_noise_create_initiation(&i.hs, &i.local, init, eph_i,
					0x01020304, ts);
	check_bool(ok, "initiation created");
	PUBLIC(init, sizeof(init));		/* on the wire */

	ok = wg_noise_consume_initiation_begin(&r.local, init, &scratch);
	check_bool(ok, "initiation decrypts");
	check_same(scratch.remote_static, i.local.public_key, 32,
		   "the initiator's static key");
	check_bool(wg_noise_consume_initiation_finish(&r.hs, init, &scratch,
						      1000) ==
			   WG_NOISE_INITIATION_OK,
		   "initiation consumed");

	ok = wg_noise_create_response(&r.hs, resp, eph_r, 0x05060708);
	check_bool(ok, "response created");
	PUBLIC(resp, sizeof(resp));		/* on the wire */
	check_bool(wg_noise_consume_response(&i.hs, &i.local, resp),
		   "response consumed");

	check_bool(wg_noise_begin_session(&i.hs, &i.kp, 2000), "session i");
	check_bool(wg_noise_begin_session(&r.hs, &r.kp, 2000), "session r");
	check_same(i.kp.send_key, r.kp.recv_key, 32, "keys agree");
	check_same(i.kp.recv_key, r.kp.send_key, 32, "keys agree back");
	check_data(&i.kp, &r.kp);
	check_data(&r.kp, &i.kp);

	/* A replayed initiation is refused on its (public) timestamp. */
	check_bool(wg_noise_consume_initiation_begin(&r.local, init, &scratch),
		   "replay decrypts");
	check_bool(wg_noise_consume_initiation_finish(&r.hs, init, &scratch,
						      5000000000ULL) ==
			   WG_NOISE_INITIATION_REPLAY,
		   "replay refused");

	wg_noise_keypair_wipe(&i.kp);
	wg_noise_keypair_wipe(&r.kp);
	wg_noise_handshake_wipe(&i.hs);
	wg_noise_handshake_wipe(&r.hs);
}

/* mac1, mac2 and a cookie reply, with a secret cookie secret. */
static void check_cookies(void)
{
	struct wg_cookie_checker checker;
	struct wg_cookie_maker maker;
	struct wg_noise_local responder;
	struct wg_endpoint src;
	uint8_t secret[32], nonce[WG_XNONCE_LEN], msg[WG_INIT_LEN];
	uint8_t reply[WG_COOKIE_LEN_MSG];

	make_local(&responder, 20);
	PUBLIC(responder.public_key, 32);
	memset(&checker, 0, sizeof(checker));
	wg_cookie_checker_init(&checker, responder.public_key);
	make_secret(secret, sizeof(secret), 21);
	wg_cookie_checker_set_secret(&checker, secret, 1000);
	wg_cookie_maker_init(&maker, responder.public_key);

	memset(&src, 0, sizeof(src));
	src.addr.sin.sin_family = AF_INET;
	src.addr.sin.sin_port = htons(51820);
	src.addr.sin.sin_addr.s_addr = htonl(0xc0000202);
	memset(nonce, 0x33, sizeof(nonce));
	memset(msg, 0x44, sizeof(msg));
	msg[0] = WG_MSG_INITIATION;

	wg_cookie_add_macs(&maker, msg, sizeof(msg), 1000);
	check_bool(wg_cookie_validate(&checker, msg, sizeof(msg), true, &src) ==
			   WG_MAC_VALID_NO_COOKIE,
		   "mac1 without a cookie");
	wg_cookie_make_reply(&checker, reply, msg, sizeof(msg), &src, nonce);
	PUBLIC(reply, sizeof(reply));		/* on the wire */
	check_bool(wg_cookie_consume_reply(&maker, reply, 1000),
		   "the cookie reply opens");
	wg_cookie_add_macs(&maker, msg, sizeof(msg), 1000);
	PUBLIC(msg, sizeof(msg));		/* on the wire */
	check_bool(wg_cookie_validate(&checker, msg, sizeof(msg), true, &src) ==
			   WG_MAC_VALID_WITH_COOKIE,
		   "mac2 with the cookie");
	msg[WG_INIT_LEN - 1] ^= 1;
	check_bool(wg_cookie_validate(&checker, msg, sizeof(msg), true, &src) ==
			   WG_MAC_VALID_NO_COOKIE,
		   "a wrong mac2");
	wg_cookie_maker_wipe(&maker);
	wg_wipe(&checker, sizeof(checker));
}

/* Two devices through the public API (wg.h): the private keys and the
 * preshared key enter as configuration, and every 32 bytes of randomness
 * (ephemeral keys, the cookie secret) are secret. A handshake, data both
 * ways, then a handshake under load: cookie reply, mac2, rate limit. */
struct node {
	struct wg_device *dev;
	struct wg_endpoint addr;
	uint64_t calls;
	size_t delivered;
};

static struct node nodes[2];
static uint64_t node_now = 1000000000ULL;

struct datagram {
	int to;
	size_t len;
	uint8_t data[512];
};

static struct datagram wire[64];
static size_t n_wire;

static void node_random(void *ctx, void *buf, size_t len)
{
	struct node *n = ctx;
	uint8_t seed[randombytes_SEEDBYTES] = { (uint8_t)(n - nodes) };

	memcpy(seed + 8, &n->calls, sizeof(n->calls));
	n->calls++;
	randombytes_buf_deterministic(buf, len, seed);
	/* Key-sized draws become keys: ephemerals, the cookie secret. */
	if (len == 32)
		SECRET(buf, len);
}

static void node_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	(void)ctx;
	*sec = 1700000000 + node_now / 1000000000ULL;
	*nsec = (uint32_t)(node_now % 1000000000ULL);
}

static void node_send(void *ctx, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	struct datagram *d;

	(void)to;
	if (n_wire == sizeof(wire) / sizeof(wire[0]) ||
	    len > sizeof(wire[0].data)) {
		fprintf(stderr, "ctgrind: the wire is full\n");
		abort();
	}
	d = &wire[n_wire++];
	d->to = 1 - (int)(n - nodes);
	d->len = len;
	memcpy(d->data, data, len);
	PUBLIC(d->data, len);			/* on the wire */
}

static void node_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct node *n = ctx;

	(void)packet;
	(void)len;
	n->delivered++;
}

static void pump(void)
{
	while (n_wire) {
		struct datagram d = wire[0];
		struct node *from = &nodes[1 - d.to];

		memmove(wire, wire + 1, --n_wire * sizeof(wire[0]));
		(void)wg_device_receive(nodes[d.to].dev, node_now, &from->addr,
					d.data, d.len);
	}
}

static void advance(uint64_t ns)
{
	node_now += ns;
	for (int i = 0; i < 2; i++)
		(void)wg_device_tick(nodes[i].dev, node_now);
	pump();
}

/* The same, with node 1 under load when the timers run (a flood's worth
 * of handshake messages just before, under_load.h). */
static void advance_under_load(uint64_t ns)
{
	node_now += ns;
	harness_handshake_flood(nodes[1].dev, node_now, &nodes[0].addr,
				WG_UNDER_LOAD_PER_SECOND);
	advance(0);
}

static void configure(int i, const uint8_t *psk)
{
	struct wg_config cfg;
	struct wg_config_peer *peer;
	struct wg_allowedip aip = { .family = AF_INET, .cidr = 32 };
	struct wg_noise_local me, other;

	make_local(&me, (uint8_t)(30 + i));
	make_local(&other, (uint8_t)(31 - i));
	wg_config_init(&cfg);
	cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY | WG_DEVICE_HAS_LISTEN_PORT;
	memcpy(cfg.private_key, me.private_key, 32);	/* stays secret */
	cfg.listen_port = 51820;
	peer = wg_config_add_peer(&cfg);
	if (!peer)
		abort();
	memcpy(peer->public_key, other.public_key, 32);
	peer->flags = WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_ENDPOINT;
	memcpy(peer->preshared_key, psk, 32);
	peer->endpoint = nodes[1 - i].addr;
	aip.addr[0] = 10;
	aip.addr[3] = (uint8_t)(2 - i);
	if (wg_config_peer_add_allowedip(peer, &aip) != 0)
		abort();
	check_bool(wg_device_apply(nodes[i].dev, &cfg, node_now, NULL) == 0,
		   "configuration applied");
	wg_config_clear(&cfg);
	wg_wipe(&me, sizeof(me));
	wg_wipe(&other, sizeof(other));
}

/* An IPv4 packet of PING_LEN bytes: long enough that the transport AEAD
 * of choice seals it (crypto.c sends shorter ones to libsodium). */
#define PING_LEN 320

static size_t ping(uint8_t *pkt, int from)
{
	memset(pkt, 0, PING_LEN);
	pkt[0] = 0x45;
	pkt[2] = PING_LEN >> 8;
	pkt[3] = PING_LEN & 0xff;
	pkt[8] = 64;
	pkt[9] = 1;
	pkt[12] = 10;
	pkt[15] = (uint8_t)(from + 1);
	pkt[16] = 10;
	pkt[19] = (uint8_t)(2 - from);
	return PING_LEN;
}

static void send_ping(int from)
{
	uint8_t pkt[PING_LEN];
	size_t len = ping(pkt, from);

	(void)wg_device_send(nodes[from].dev, node_now, pkt, len);
	pump();
}

static void check_devices(void)
{
	uint8_t psk[32];
	struct wg_config running;

	for (int i = 0; i < 2; i++) {
		struct wg_env env = {
			.ctx = &nodes[i],
			.random = node_random,
			.wall_clock = node_wall,
			.send = node_send,
			.deliver = node_deliver,
		};

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].addr.addr.sin.sin_family = AF_INET;
		nodes[i].addr.addr.sin.sin_port = htons(51820);
		nodes[i].addr.addr.sin.sin_addr.s_addr =
			htonl(0xc0000201 + (uint32_t)i);
		nodes[i].dev = wg_device_new(&env, node_now);
		if (!nodes[i].dev)
			abort();
	}
	make_secret(psk, sizeof(psk), 40);
	configure(0, psk);
	configure(1, psk);

	send_ping(0);		/* staged, handshake, then sent */
	send_ping(1);
	send_ping(0);
	check_bool(nodes[1].delivered == 2 && nodes[0].delivered == 1,
		   "pings delivered");

	/* Under load: the next handshake needs a cookie first. */
	advance_under_load(121000000000ULL);
	send_ping(0);		/* rekey: answered with a cookie */
	advance_under_load(6000000000ULL);	/* the retry carries mac2 */
	send_ping(0);
	check_bool(wg_device_stats(nodes[1].dev)->cookies_sent >= 1,
		   "a cookie was sent");
	check_bool(wg_device_stats(nodes[0].dev)->cookies_received >= 1,
		   "a cookie was taken");
	check_bool(wg_device_stats(nodes[1].dev)->handshakes_completed >= 2,
		   "a handshake completed under load");

	/* The running config holds the keys; it is wiped when cleared. */
	check_bool(wg_device_get(nodes[0].dev, &running) == 0, "get");
	wg_config_clear(&running);
	for (int i = 0; i < 2; i++)
		wg_device_free(nodes[i].dev);
}

/* What memcheck must catch: a branch on a secret and a secret index. */
static int leak_on_purpose(void)
{
	static const uint8_t table[256] = { 1 };
	uint8_t secret[2];
	int r = 0;

	make_secret(secret, sizeof(secret), 99);
	/* A call in the branch keeps the compiler from making it a cmov. */
	if (secret[0] & 1)
		r = puts("ctgrind self-test: odd");
	return r + table[secret[1]];
}

int main(int argc, char **argv)
{
	if (!RUNNING_ON_VALGRIND) {
		fputs("ctgrind: run me under valgrind (ci/ctgrind)\n", stderr);
		return 2;
	}
	if (!wg_crypto_init())
		return 2;
	if (argc > 1 && strcmp(argv[1], "--self-test") == 0) {
		int r = leak_on_purpose();

		PUBLIC(&r, sizeof(r));
		printf("ctgrind self-test: %d\n", r);
		return 0;
	}
	check_hashes();
	check_compare();
	check_key_text();
	check_handshake(false);
	check_handshake(true);
	check_cookies();
	check_devices();
	/* The devices again, with libcrypto sealing and opening data. */
	wg_crypto_use_aead(&wg_aead_libcrypto);
	check_devices();
	wg_crypto_thread_done();
	printf("ctgrind: %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}

/*
 * The declassifications at libsodium's boundary: valgrind calls these in
 * place of the library's functions (valgrind.h, "function wrapping"); each
 * calls the original and marks public what is public.
 */
#define WRAP(fn) I_WRAP_SONAME_FNNAME_ZU(libsodiumZdsoZa, fn)

int WRAP(sodium_memcmp)(const void *a, const void *b, size_t len);
int WRAP(sodium_is_zero)(const unsigned char *n, size_t len);
int WRAP(crypto_verify_16)(const unsigned char *x, const unsigned char *y);
int WRAP(crypto_scalarmult)(unsigned char *q, const unsigned char *n,
			    const unsigned char *p);
int WRAP(crypto_scalarmult_base)(unsigned char *q, const unsigned char *n);
int WRAP(crypto_aead_chacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec,
	const unsigned char *c, unsigned long long clen,
	const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k);
int WRAP(crypto_aead_xchacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec,
	const unsigned char *c, unsigned long long clen,
	const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k);

/* Equal or not: a MAC check's verdict (the packet is dropped or not), or
 * whether a configured key changed. */
int WRAP(sodium_memcmp)(const void *a, const void *b, size_t len)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, a, b, len);
	PUBLIC(&ret, sizeof(ret));
	return ret;
}

/* All zero or not: "no key configured", or a DH result refused because
 * the peer's public key has low order. */
int WRAP(sodium_is_zero)(const unsigned char *n, size_t len)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WW(ret, fn, n, len);
	PUBLIC(&ret, sizeof(ret));
	return ret;
}

/* The AEAD tag check inside libsodium's decrypt: the packet opens or not. */
int WRAP(crypto_verify_16)(const unsigned char *x, const unsigned char *y)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WW(ret, fn, x, y);
	PUBLIC(&ret, sizeof(ret));
	return ret;
}

/* X25519 refuses an all-zero result: the peer's key has low order. */
int WRAP(crypto_scalarmult)(unsigned char *q, const unsigned char *n,
			    const unsigned char *p)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WWW(ret, fn, q, n, p);
	PUBLIC(&ret, sizeof(ret));
	return ret;
}

/* A public key is public (ours goes into every initiation as mac1's key,
 * an ephemeral one onto the wire). */
int WRAP(crypto_scalarmult_base)(unsigned char *q, const unsigned char *n)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_WW(ret, fn, q, n);
	PUBLIC(q, 32);
	PUBLIC(&ret, sizeof(ret));
	return ret;
}

/* An opened AEAD's plaintext is the message: a timestamp, a public key,
 * an inner packet, or the cookie a responder under load hands out; the
 * receiver reads and parses it. */
int WRAP(crypto_aead_chacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec,
	const unsigned char *c, unsigned long long clen,
	const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_9W(ret, fn, m, mlen_p, nsec, c, clen, ad, adlen, npub, k);
	PUBLIC(&ret, sizeof(ret));
	if (ret == 0 && m && clen >= 16)
		PUBLIC(m, clen - 16);
	return ret;
}

int WRAP(crypto_aead_xchacha20poly1305_ietf_decrypt)(
	unsigned char *m, unsigned long long *mlen_p, unsigned char *nsec,
	const unsigned char *c, unsigned long long clen,
	const unsigned char *ad, unsigned long long adlen,
	const unsigned char *npub, const unsigned char *k)
{
	OrigFn fn;
	int ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_9W(ret, fn, m, mlen_p, nsec, c, clen, ad, adlen, npub, k);
	PUBLIC(&ret, sizeof(ret));
	if (ret == 0 && m && clen >= 16)
		PUBLIC(m, clen - 16);
	return ret;
}

/*
 * libcrypto (core/crypto_libcrypto.c, the transport AEAD when it is the
 * faster): the core makes ChaCha20's key stream and Poly1305's tag with
 * libcrypto and compares the tag it computed with the one received by
 * wg_equal, whose verdict the wrapper of sodium_memcmp makes public. The
 * plaintext is public once that verdict is "opened", as libsodium's is:
 * the wrapper of the core's libcrypto_open (a function of this program,
 * hence the soname NONE) declassifies what it wrote when it returns true.
 */
#define WRAP_CORE(fn) I_WRAP_SONAME_FNNAME_ZU(NONE, fn)

bool WRAP_CORE(libcrypto_open)(uint8_t *dst, const uint8_t *src,
			       size_t srclen, const uint8_t *ad, size_t adlen,
			       uint64_t counter, const uint8_t *key);

bool WRAP_CORE(libcrypto_open)(uint8_t *dst, const uint8_t *src,
			       size_t srclen, const uint8_t *ad, size_t adlen,
			       uint64_t counter, const uint8_t *key)
{
	OrigFn fn;
	bool ret;

	VALGRIND_GET_ORIG_FN(fn);
	CALL_FN_W_7W(ret, fn, dst, src, srclen, ad, adlen, counter, key);
	PUBLIC(&ret, sizeof(ret));
	if (ret && srclen >= 16)
		PUBLIC(dst, srclen - 16);
	return ret;
}
