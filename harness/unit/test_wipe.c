/* SPDX-License-Identifier: MIT */
/*
 * Every heap block that held key material is wiped before it is freed.
 *
 * This suite is linked with -Wl,--wrap=free,--wrap=realloc (CMakeLists.txt):
 * each free() and realloc() the core (and this file) makes goes through the
 * wrappers below, which scan the block (malloc_usable_size bytes) for every
 * secret the test knows, raw and as hex or base64 text, before the real call.
 * The secrets: both devices' static private keys, the preshared key, every
 * ephemeral private key (reported through env->keylog), and every session
 * key, static-static DH and chaining key read out of the devices while they
 * live. Two devices run handshakes, data, rekeys, key expiry, a get=1, a
 * change of private key and a peer's removal, and are then freed; no freed
 * block may have held a secret.
 *
 * Under AddressSanitizer the wrap still sees each call: the wrapper runs
 * first, and __real_free is the sanitizer's interceptor (a planted secret
 * shows it). Under valgrind, the scan reads bytes the core never wrote
 * without memcheck taking it for the core's use of them.
 */
#include <arpa/inet.h>
#include <check.h>
#include <malloc.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#define HAVE_MEMCHECK 1
#endif

#include "crypto.h"
#include "device.h"
#include "sim.h"
#include "support.h"
#include "uapi.h"
#include "wg.h"

void __real_free(void *p);
void *__real_realloc(void *p, size_t len);
void __wrap_free(void *p);
void *__wrap_realloc(void *p, size_t len);

/* The secrets, each in the three forms a buffer could hold it in. */
struct secret {
	uint8_t raw[WG_KEY_LEN];
	char hex[2 * WG_KEY_LEN + 1];
	char b64[WG_KEY_BASE64_LEN];
	const char *what;
};

#define MAX_SECRETS 512

static struct {
	bool armed;
	size_t n_secrets;
	struct secret secrets[MAX_SECRETS];
	size_t frees;		/* blocks scanned */
	size_t leaks;		/* of them, those that held a secret */
	char first_leak[160];
} scan;

static void secret_add(const uint8_t raw[WG_KEY_LEN], const char *what)
{
	struct secret *s;

	if (sodium_is_zero(raw, WG_KEY_LEN))
		return;
	for (size_t i = 0; i < scan.n_secrets; i++)
		if (memcmp(scan.secrets[i].raw, raw, WG_KEY_LEN) == 0)
			return;
	ck_assert_uint_lt(scan.n_secrets, MAX_SECRETS);
	s = &scan.secrets[scan.n_secrets++];
	memcpy(s->raw, raw, WG_KEY_LEN);
	sodium_bin2hex(s->hex, sizeof(s->hex), raw, WG_KEY_LEN);
	sodium_bin2base64(s->b64, sizeof(s->b64), raw, WG_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	s->what = what;
}

static size_t secrets_of_kind(const char *what)
{
	size_t n = 0;

	for (size_t i = 0; i < scan.n_secrets; i++)
		n += strcmp(scan.secrets[i].what, what) == 0;
	return n;
}

/* The first secret the block holds in any form, or NULL. Base64 is looked
 * for without its padding, which a line may have lost. */
static const struct secret *block_secret(const void *p, size_t len)
{
	for (size_t i = 0; i < scan.n_secrets; i++) {
		const struct secret *s = &scan.secrets[i];

		if (memmem(p, len, s->raw, sizeof(s->raw)) ||
		    memmem(p, len, s->hex, sizeof(s->hex) - 1) ||
		    memmem(p, len, s->b64, sizeof(s->b64) - 2))
			return s;
	}
	return NULL;
}

static void check_block(const void *p, const char *how)
{
	const struct secret *s;
	size_t len;

	if (!p || !scan.armed)
		return;
	scan.frees++;
	len = malloc_usable_size((void *)p);
#ifdef HAVE_MEMCHECK
	/* Under valgrind the block's unwritten bytes are undefined, and
	 * scanning them is no bug of the core's: they count as defined for
	 * the scan and get their state back after it. */
	if (RUNNING_ON_VALGRIND) {
		/* No Check assertion in here: Check's own frees come back
		 * through this wrapper. */
		unsigned char *vbits = __real_realloc(NULL, len);

		if (!vbits)
			abort();
		(void)VALGRIND_GET_VBITS(p, vbits, len);
		(void)VALGRIND_MAKE_MEM_DEFINED(p, len);
		s = block_secret(p, len);
		(void)VALGRIND_SET_VBITS(p, vbits, len);
		__real_free(vbits);
	} else {
		s = block_secret(p, len);
	}
#else
	s = block_secret(p, len);
#endif
	if (!s)
		return;
	if (!scan.leaks++)
		snprintf(scan.first_leak, sizeof(scan.first_leak),
			 "%s of a %zu-byte block holding a %s", how, len,
			 s->what);
}

void __wrap_free(void *p)
{
	check_block(p, "free");
	__real_free(p);
}

/* A block that moves is freed with what it held: scanned first, counted
 * only if it did move. */
void *__wrap_realloc(void *p, size_t len)
{
	bool armed = scan.armed;
	size_t frees = scan.frees, leaks = scan.leaks;
	void *q;

	check_block(p, "realloc");
	q = __real_realloc(p, len);
	if (armed && (q == p || !q)) {
		scan.frees = frees;
		scan.leaks = leaks;
	}
	return q;
}

/* Two devices and a wire between them, with a clock moved by hand (SEC
 * and the seeded randomness are sim.h's). */

#define QUEUE_MAX 64

struct node {
	struct wg_device *dev;
	struct wg_endpoint addr;
	uint8_t seed[randombytes_SEEDBYTES];
	uint64_t random_calls;
	size_t delivered;
};

struct datagram {
	int to;
	size_t len;
	uint8_t data[256];
};

static struct world {
	uint64_t now;
	struct node node[2];
	size_t n_queue;
	struct datagram queue[QUEUE_MAX];
} w;

static void env_random(void *ctx, void *buf, size_t len)
{
	struct node *n = ctx;

	sim_seeded_random(n->seed, &n->random_calls, buf, len);
}

static void env_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	(void)ctx;
	*sec = 1700000000 + w.now / 1000000000ULL;
	*nsec = (uint32_t)(w.now % 1000000000ULL);
}

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	struct node *n = ctx;
	struct datagram *d;

	(void)to;
	ck_assert_uint_lt(w.n_queue, QUEUE_MAX);
	ck_assert_uint_le(len, sizeof(d->data));
	d = &w.queue[w.n_queue++];
	d->to = n == &w.node[0] ? 1 : 0;
	d->len = len;
	memcpy(d->data, data, len);
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct node *n = ctx;

	(void)packet;
	(void)len;
	n->delivered++;
}

/* "LOCAL_EPHEMERAL_PRIVATE_KEY = <base64>": the ephemeral becomes a
 * secret to look for. */
static void env_keylog(void *ctx, const char *line)
{
	const char *b64 = strstr(line, " = ");
	uint8_t key[WG_KEY_LEN];
	size_t len = 0;

	(void)ctx;
	ck_assert_ptr_nonnull(b64);
	ck_assert_int_eq(sodium_base642bin(key, sizeof(key), b64 + 3,
					   strlen(b64 + 3), NULL, &len, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	ck_assert_uint_eq(len, WG_KEY_LEN);
	secret_add(key, "ephemeral private key");
	sodium_memzero(key, sizeof(key));
}

static void pump(void)
{
	static struct datagram batch[QUEUE_MAX];

	for (int round = 0; round < 16 && w.n_queue; round++) {
		size_t n = w.n_queue;

		memcpy(batch, w.queue, n * sizeof(batch[0]));
		w.n_queue = 0;
		for (size_t i = 0; i < n; i++) {
			struct datagram *d = &batch[i];
			int from = 1 - d->to;

			(void)wg_device_receive(w.node[d->to].dev, w.now,
						&w.node[from].addr, d->data,
						d->len);
		}
	}
	sodium_memzero(batch, sizeof(batch));
}

/* Runs both devices' timers up to t, carrying what they send. */
static void advance_to(uint64_t t)
{
	for (;;) {
		uint64_t next = UINT64_MAX;

		for (int i = 0; i < 2; i++) {
			uint64_t d = wg_device_next_deadline(w.node[i].dev);

			if (d < next)
				next = d;
		}
		if (next > t)
			break;
		if (next > w.now)
			w.now = next;
		for (int i = 0; i < 2; i++)
			(void)wg_device_tick(w.node[i].dev, w.now);
		pump();
	}
	w.now = t;
}

static void set_addr(struct wg_endpoint *ep, uint8_t last)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.sin.sin_family = AF_INET;
	ep->addr.sin.sin_port = htons(51820);
	ep->addr.sin.sin_addr.s_addr = htonl(0xc0000200u | last);
}

/* Parses and applies a set text, as the daemon does with what a client
 * sends; the text is the caller's to wipe. */
static int apply_text(int i, const char *text)
{
	struct wg_config cfg;
	struct wg_parse_error err;
	int ret;

	wg_config_init(&cfg);
	ret = wg_uapi_parse_set(text, strlen(text), &cfg, &err);
	if (!ret)
		ret = wg_device_apply(w.node[i].dev, &cfg, w.now, &err);
	wg_config_clear(&cfg);
	return ret;
}

/* An IPv4 packet from node i's inner address to the other's, left on the
 * wire (carry false) or carried with all it causes. */
static void send_inner_then(int i, bool carry)
{
	uint8_t pkt[60] = { 0x45 };

	pkt[3] = sizeof(pkt);
	pkt[8] = 64;
	pkt[9] = 17;
	pkt[12] = 10;
	pkt[15] = (uint8_t)(i + 1);
	pkt[16] = 10;
	pkt[19] = (uint8_t)(2 - i);
	(void)wg_device_send(w.node[i].dev, w.now, pkt, sizeof(pkt));
	if (carry)
		pump();
}

static void send_inner(int i)
{
	send_inner_then(i, true);
}

/* Reads the live secrets out of a device: session keys of every keypair
 * slot, the static-static DH and the handshake's chaining key. */
static void harvest(int i)
{
	const struct wg_device *dev = w.node[i].dev;

	secret_add(dev->local.private_key, "static private key");
	for (const struct wg_peer *p = dev->peers_head; p; p = p->list_next) {
		const struct wg_noise_keypair *kps[] = {
			p->next, p->current, p->previous,
		};

		for (size_t k = 0; k < 3; k++) {
			if (!kps[k])
				continue;
			secret_add(kps[k]->send_key, "session key");
			secret_add(kps[k]->recv_key, "session key");
		}
		secret_add(p->handshake.static_static, "static-static DH");
		secret_add(p->handshake.chaining_key, "chaining key");
		secret_add(p->handshake.preshared_key, "preshared key");
	}
}

static void harvest_both(void)
{
	harvest(0);
	harvest(1);
}

static void world_init(void)
{
	uint8_t priv[2][WG_KEY_LEN], pub[2][WG_KEY_LEN], psk[WG_KEY_LEN];
	char priv_hex[2 * WG_KEY_LEN + 1], pub_hex[2 * WG_KEY_LEN + 1];
	char psk_hex[2 * WG_KEY_LEN + 1], text[512];

	ck_assert(wg_crypto_init());
	memset(&w, 0, sizeof(w));
	memset(&scan, 0, sizeof(scan));
	w.now = SEC(1);
	for (int i = 0; i < 2; i++) {
		struct node *n = &w.node[i];
		const struct wg_env env = {
			.ctx = n,
			.random = env_random,
			.wall_clock = env_wall_clock,
			.send = env_send,
			.deliver = env_deliver,
			.keylog = env_keylog,
			.log_level = WG_LOG_ERROR,
		};

		/* The call counter goes into the first bytes: the node's
		 * number in the last keeps each stream its own. */
		n->seed[randombytes_SEEDBYTES - 1] = (uint8_t)(i + 1);
		set_addr(&n->addr, (uint8_t)(i + 1));
		n->dev = wg_device_new(&env, w.now);
		ck_assert_ptr_nonnull(n->dev);
		randombytes_buf_deterministic(priv[i], WG_KEY_LEN, n->seed);
		wg_x25519_clamp(priv[i]);
		ck_assert(wg_x25519_public(pub[i], priv[i]));
		secret_add(priv[i], "static private key");
	}
	memset(psk, 0x5a, sizeof(psk));
	psk[0] = 1;
	secret_add(psk, "preshared key");
	wg_key_to_hex(psk_hex, psk);
	for (int i = 0; i < 2; i++) {
		wg_key_to_hex(priv_hex, priv[i]);
		wg_key_to_hex(pub_hex, pub[1 - i]);
		snprintf(text, sizeof(text),
			 "set=1\nprivate_key=%s\nlisten_port=51820\n"
			 "public_key=%s\npreshared_key=%s\n"
			 "endpoint=192.0.2.%d:51820\n"
			 "allowed_ip=10.0.0.%d/32\n\n",
			 priv_hex, pub_hex, psk_hex, 2 - i, 2 - i);
		ck_assert_int_eq(apply_text(i, text), 0);
	}
	sodium_memzero(text, sizeof(text));
	sodium_memzero(priv_hex, sizeof(priv_hex));
	sodium_memzero(psk_hex, sizeof(psk_hex));
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(psk, sizeof(psk));
}

/* The scanner itself: a block holding a secret in any form is caught, and
 * a wiped one is not. Also shows that the wrap is in place (under ASan
 * too): without it, nothing would be counted. */
START_TEST(test_scanner_catches_a_planted_secret)
{
	static const char *const forms[] = { "raw", "hex", "base64" };
	uint8_t key[WG_KEY_LEN];

	memset(&scan, 0, sizeof(scan));
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	secret_add(key, "planted key");
	scan.armed = true;
	for (size_t f = 0; f < 3; f++) {
		char *block = malloc(200);
		size_t before = scan.leaks;

		ck_assert_ptr_nonnull(block);
		memset(block, 'x', 200);
		if (f == 0)
			memcpy(block + 77, key, sizeof(key));
		else if (f == 1)
			memcpy(block + 3, scan.secrets[0].hex, 64);
		else
			memcpy(block + 150, scan.secrets[0].b64, 43);
		/* Observed, so that the compiler keeps the pair. */
		__asm__ volatile("" : : "r"(block) : "memory");
		free(block);
		ck_assert_msg(scan.leaks == before + 1,
			      "a %s key in a freed block went unseen (is the "
			      "suite linked with -Wl,--wrap=free?)", forms[f]);

		block = malloc(100);
		ck_assert_ptr_nonnull(block);
		memcpy(block + 10, key, sizeof(key));
		__asm__ volatile("" : : "r"(block) : "memory");
		block = realloc(block, 1 << 20);	/* moves */
		ck_assert_ptr_nonnull(block);
		ck_assert_uint_eq(scan.leaks, before + 2);
		sodium_memzero(block, 1 << 20);
		free(block);
		ck_assert_uint_eq(scan.leaks, before + 2);
		scan.leaks = before + 1;
	}
	ck_assert_str_eq(scan.first_leak, "free of a 200-byte block holding "
			 "a planted key");
	scan.armed = false;
	sodium_memzero(key, sizeof(key));
}
END_TEST

START_TEST(test_no_freed_block_held_a_secret)
{
	struct wg_config cfg;
	struct wg_buf get = { 0 };
	size_t frees_before_teardown;
	char text[256], priv_hex[2 * WG_KEY_LEN + 1];
	char pub_hex[2 * WG_KEY_LEN + 1];
	uint8_t new_priv[WG_KEY_LEN];

	world_init();
	scan.armed = true;

	/* Packets wait (staged) for the first handshake, then go. */
	send_inner_then(0, false);
	/* The initiator's chaining key, mid-way through the handshake. */
	harvest_both();
	pump();
	send_inner(0);
	harvest_both();
	ck_assert_uint_ge(secrets_of_kind("ephemeral private key"), 2);
	send_inner(1);
	harvest_both();
	ck_assert_uint_ge(w.node[1].delivered, 2);
	ck_assert_uint_ge(w.node[0].delivered, 1);

	/* Rekeys, from both sides, with traffic between: old keypairs are
	 * rotated out and freed while the devices live. */
	for (int round = 0; round < 4; round++) {
		advance_to(w.now + SEC(125));
		send_inner(round % 2);
		harvest_both();
		send_inner(1 - round % 2);
		harvest_both();
		advance_to(w.now + SEC(1));
		harvest_both();
	}
	ck_assert_uint_ge(secrets_of_kind("session key"), 8);
	ck_assert_uint_ge(secrets_of_kind("ephemeral private key"), 6);

	/* get=1 answers the private key and the preshared key as text. */
	ck_assert_int_eq(wg_device_get(w.node[0].dev, &cfg), 0);
	wg_uapi_emit_get(&get, &cfg);
	ck_assert(!get.oom);
	ck_assert_ptr_nonnull(strstr(get.data, "private_key="));
	wg_config_clear(&cfg);
	wg_buf_clear(&get);

	/* The sessions expire unused: the timers wipe them. */
	advance_to(w.now + SEC(600));

	/* Node 1 gets a new private key (and hands over the old one), and
	 * node 0 drops its peer: both while running. */
	wg_key_to_hex(pub_hex, w.node[1].dev->local.public_key);
	memset(new_priv, 0x33, sizeof(new_priv));
	wg_x25519_clamp(new_priv);
	secret_add(new_priv, "static private key");
	wg_key_to_hex(priv_hex, new_priv);
	snprintf(text, sizeof(text), "set=1\nprivate_key=%s\n\n", priv_hex);
	ck_assert_int_eq(apply_text(1, text), 0);
	harvest(1);
	snprintf(text, sizeof(text), "set=1\npublic_key=%s\nremove=true\n\n",
		 pub_hex);
	ck_assert_int_eq(apply_text(0, text), 0);
	ck_assert_ptr_null(w.node[0].dev->peers_head);
	sodium_memzero(text, sizeof(text));
	sodium_memzero(priv_hex, sizeof(priv_hex));
	sodium_memzero(new_priv, sizeof(new_priv));

	frees_before_teardown = scan.frees;
	wg_device_free(w.node[0].dev);
	wg_device_free(w.node[1].dev);
	/* The wrap saw the core's frees: at least the two devices, node 1's
	 * peer and their tables. */
	ck_assert_uint_ge(scan.frees, frees_before_teardown + 6);
	scan.armed = false;

	ck_assert_msg(scan.leaks == 0, "%zu freed blocks held secrets; first: "
		      "%s", scan.leaks, scan.first_leak);
	/* What was looked for, so that a quiet result means something. */
	ck_assert_uint_ge(secrets_of_kind("static private key"), 3);
	ck_assert_uint_eq(secrets_of_kind("preshared key"), 1);
	ck_assert_uint_ge(secrets_of_kind("static-static DH"), 1);
	ck_assert_uint_ge(secrets_of_kind("chaining key"), 1);
}
END_TEST

static Suite *wipe_suite(void)
{
	Suite *s = suite_create("wipe");
	TCase *tc = tcase_create("wipe");

	tcase_add_test(tc, test_scanner_catches_a_planted_secret);
	tcase_add_test(tc, test_no_freed_block_held_a_secret);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(wipe_suite)
