/* SPDX-License-Identifier: MIT */
/*
 * Benchmarks of the protocol core alone, on one core, with no network:
 *
 *   core_bench handshakes SECONDS
 *	handshakes per second a responder completes under a flood of valid
 *	initiations: many initiator identities, each with its own source
 *	address, every initiation carrying a valid mac2 (the responder is
 *	under load, so it demands cookies, as it would under a real flood),
 *	each identity's initiations newer than the last and spaced past the
 *	per-peer flood limit. The initiations are made before the clock
 *	starts; the responder's work (mac checks, the rate limit, consuming
 *	the initiation, making the response, deriving the keys) is what is
 *	timed, after one untimed round that also does each peer's lazy
 *	static-static DH.
 *
 *   core_bench allowedips PREFIXES
 *	longest-prefix lookups per second in a trie of that many random
 *	prefixes (four in five IPv4 of /16 to /32, the rest IPv6 of /32 to
 *	/128) over a thousand owners, half the lookups inside a prefix.
 *
 * Each prints one JSON line on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "allowedips.h"
#include "cookie.h"
#include "noise.h"
#include "wg.h"

#include "../under_load.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long rss_kib(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
		rss = 0;
	fclose(f);
	return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

/* Handshakes. */

#define INITIATORS 1000

struct initiator {
	struct wg_noise_local local;
	struct wg_noise_handshake hs;
	struct wg_cookie_maker cookie;
	struct wg_endpoint addr;
};

struct responder_out {
	uint64_t responses;
	uint64_t cookie_replies;
	uint8_t last_reply[WG_COOKIE_LEN_MSG];
};

static void env_random(void *ctx, void *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

static void env_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	*sec = (uint64_t)ts.tv_sec;
	*nsec = (uint32_t)ts.tv_nsec;
}

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	struct responder_out *out = ctx;

	(void)to;
	if (len == WG_RESP_LEN && data[0] == WG_MSG_RESPONSE)
		out->responses++;
	if (len == WG_COOKIE_LEN_MSG && data[0] == WG_MSG_COOKIE_REPLY) {
		out->cookie_replies++;
		memcpy(out->last_reply, data, len);
	}
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	(void)ctx;
	(void)packet;
	(void)len;
}

/* An initiation from ini, its timestamp `second` seconds on. */
static void make_initiation(struct initiator *ini, uint8_t msg[WG_INIT_LEN],
			    uint64_t second, uint64_t now)
{
	uint8_t eph[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	uint32_t index;

	randombytes_buf(eph, sizeof(eph));
	wg_x25519_clamp(eph);
	randombytes_buf(&index, sizeof(index));
	wg_noise_tai64n(ts, 1700000000u + second, 0);
	if (!wg_noise_create_initiation(&ini->hs, &ini->local, msg, eph, index,
					ts))
		abort();
	wg_cookie_add_macs(&ini->cookie, msg, WG_INIT_LEN, now);
	sodium_memzero(eph, sizeof(eph));
}

static int bench_handshakes(double seconds)
{
	struct responder_out out = { 0 };
	const struct wg_env env = {
		.ctx = &out,
		.random = env_random,
		.wall_clock = env_wall_clock,
		.send = env_send,
		.deliver = env_deliver,
	};
	struct initiator *ini = calloc(INITIATORS, sizeof(*ini));
	struct wg_config cfg;
	struct wg_device *dev;
	uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];
	uint8_t (*msgs)[WG_INIT_LEN];
	size_t rounds, n;
	uint64_t base, done0;
	double t0, t1;

	if (!ini)
		return 1;
	/* Rounds enough for about `seconds` at 6,000 a second. */
	rounds = (size_t)(seconds * 6000 / INITIATORS) + 2;
	msgs = calloc(rounds * INITIATORS, sizeof(*msgs));
	if (!msgs)
		return 1;
	randombytes_buf(priv, sizeof(priv));
	wg_x25519_clamp(priv);
	if (!wg_x25519_public(pub, priv))
		return 1;
	base = now_ns();
	dev = wg_device_new(&env, base);
	if (!dev)
		return 1;
	wg_config_init(&cfg);
	cfg.flags = WG_DEVICE_HAS_PRIVATE_KEY;
	memcpy(cfg.private_key, priv, WG_KEY_LEN);
	for (size_t i = 0; i < INITIATORS; i++) {
		struct initiator *x = &ini[i];
		struct wg_config_peer *cp = wg_config_add_peer(&cfg);
		struct wg_allowedip a = { .family = AF_INET, .cidr = 32 };

		randombytes_buf(x->local.private_key, WG_KEY_LEN);
		wg_x25519_clamp(x->local.private_key);
		x->local.has_key = wg_x25519_public(x->local.public_key,
						    x->local.private_key);
		wg_noise_handshake_init(&x->hs, &x->local, pub, NULL);
		wg_cookie_maker_init(&x->cookie, pub);
		x->addr.addr.sin.sin_family = AF_INET;
		x->addr.addr.sin.sin_port = htons(51820);
		x->addr.addr.sin.sin_addr.s_addr =
			htonl(0xc6120000u + (uint32_t)i + 1); /* 198.18/15 */
		if (!cp)
			return 1;
		memcpy(cp->public_key, x->local.public_key, WG_KEY_LEN);
		a.addr[0] = 10;
		a.addr[1] = (uint8_t)(i >> 16);
		a.addr[2] = (uint8_t)(i >> 8);
		a.addr[3] = (uint8_t)i;
		if (wg_config_peer_add_allowedip(cp, &a) < 0)
			return 1;
	}
	if (wg_device_apply(dev, &cfg, base, NULL) < 0)
		return 1;
	wg_config_clear(&cfg);

	/* A flood: the responder is under load and wants cookies. Each
	 * initiator gets one, as a real one would from its first try. */
	harness_handshake_flood(dev, base, &ini[0].addr,
				WG_UNDER_LOAD_PER_SECOND);
	for (size_t i = 0; i < INITIATORS; i++) {
		uint8_t first[WG_INIT_LEN];

		make_initiation(&ini[i], first, 0, base);
		out.cookie_replies = 0;
		(void)wg_device_receive(dev, base, &ini[i].addr, first,
					sizeof(first));
		if (out.cookie_replies != 1 ||
		    !wg_cookie_consume_reply(&ini[i].cookie, out.last_reply,
					     base))
			return 1;
	}
	/* Every later initiation carries mac2; each identity's timestamps
	 * grow by a second a round. */
	for (size_t r = 0; r < rounds; r++)
		for (size_t i = 0; i < INITIATORS; i++)
			make_initiation(&ini[i], msgs[r * INITIATORS + i],
					r + 1, base);

	/* Round 0 untimed: every peer's static-static DH, done once. */
	out.responses = 0;
	for (size_t i = 0; i < INITIATORS; i++)
		(void)wg_device_receive(dev, now_ns(), &ini[i].addr, msgs[i],
					WG_INIT_LEN);
	done0 = out.responses;
	t0 = now_s();
	n = 0;
	for (size_t r = 1; r < rounds; r++) {
		for (size_t i = 0; i < INITIATORS; i++, n++)
			(void)wg_device_receive(dev, now_ns(), &ini[i].addr,
						msgs[r * INITIATORS + i],
						WG_INIT_LEN);
	}
	t1 = now_s();
	printf("{\"handshakes_per_sec\": %.1f, \"initiations\": %zu, "
	       "\"completed\": %llu, \"warmup_completed\": %llu, "
	       "\"identities\": %d}\n",
	       (double)(out.responses - done0) / (t1 - t0), n,
	       (unsigned long long)(out.responses - done0),
	       (unsigned long long)done0, INITIATORS);
	wg_device_free(dev);
	for (size_t i = 0; i < INITIATORS; i++) {
		wg_noise_handshake_wipe(&ini[i].hs);
		sodium_memzero(&ini[i].local, sizeof(ini[i].local));
	}
	free(ini);
	free(msgs);
	sodium_memzero(priv, sizeof(priv));
	return out.responses > done0 ? 0 : 1;
}

/* Allowed IPs. */

#define OWNERS 1000
#define LOOKUPS (1 << 20)

struct probe {
	int family;
	uint8_t addr[16];
};

static int bench_allowedips(size_t prefixes)
{
	struct wg_allowedips_owner *owners = calloc(OWNERS, sizeof(*owners));
	struct probe *probes = calloc(LOOKUPS, sizeof(*probes));
	struct probe *inside = calloc(LOOKUPS, sizeof(*inside));
	struct wg_allowedips *t = wg_allowedips_new();
	size_t hits = 0, done = 0, n_inside = 0;
	double t0, t1, t_insert;
	long rss0;
	uint32_t r[5];

	if (!owners || !probes || !inside || !t)
		return 1;
	/* Touched now, so that the trie alone makes the difference. */
	memset(probes, 0, LOOKUPS * sizeof(*probes));
	memset(inside, 0, LOOKUPS * sizeof(*inside));
	rss0 = rss_kib();
	t0 = now_s();
	for (size_t i = 0; i < prefixes; i++) {
		struct probe p;
		uint8_t cidr;

		randombytes_buf(r, sizeof(r));
		if (r[0] % 5) {
			p.family = AF_INET;
			cidr = (uint8_t)(16 + r[1] % 17);
		} else {
			p.family = AF_INET6;
			cidr = (uint8_t)(32 + r[1] % 97);
		}
		memcpy(p.addr, &r[1], 16);
		if (wg_allowedips_insert(t, p.family, p.addr, cidr,
					 &owners[i % OWNERS]) < 0)
			return 1;
		inside[n_inside++ % LOOKUPS] = p;
	}
	t_insert = now_s() - t0;
	if (n_inside > LOOKUPS)
		n_inside = LOOKUPS;
	/* Half the probes are addresses that were inserted (a prefix holds
	 * them), half are anywhere. */
	for (size_t i = 0; i < LOOKUPS; i++) {
		randombytes_buf(r, sizeof(r));
		if (i % 2 == 0 && n_inside) {
			probes[i] = inside[r[4] % n_inside];
			continue;
		}
		probes[i].family = r[0] % 5 ? AF_INET : AF_INET6;
		memcpy(probes[i].addr, &r[1], 16);
	}
	t0 = now_s();
	do {
		for (size_t i = 0; i < LOOKUPS; i++)
			hits += wg_allowedips_lookup(t, probes[i].family,
						     probes[i].addr) != NULL;
		done += LOOKUPS;
		t1 = now_s();
	} while (t1 - t0 < 1.0);
	printf("{\"lookups_per_sec\": %.0f, \"prefixes\": %zu, "
	       "\"insert_s\": %.3f, \"nodes\": %zu, \"trie_mib\": %.1f, "
	       "\"hit_fraction\": %.3f}\n",
	       (double)done / (t1 - t0), prefixes, t_insert,
	       wg_allowedips_node_count(t), (double)(rss_kib() - rss0) / 1024,
	       (double)hits / (double)done);
	wg_allowedips_free(t);
	free(owners);
	free(probes);
	free(inside);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "handshakes"))
		return bench_handshakes(atof(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "allowedips"))
		return bench_allowedips(strtoul(argv[2], NULL, 10));
	fprintf(stderr, "usage: core_bench handshakes SECONDS | "
			"allowedips PREFIXES\n");
	return 2;
}
