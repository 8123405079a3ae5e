/* SPDX-License-Identifier: MIT */
/*
 * The crypto ceiling of this machine: how fast ChaCha20-Poly1305 (RFC 8439,
 * the AEAD of WireGuard's transport messages) seals and opens 1420-byte
 * packets on one core, and seals on every core at once, by each library
 * the daemon can use for it: libsodium and OpenSSL's libcrypto, through
 * the core's own wrappers (crypto.h, struct wg_aead_impl), so that the
 * figures include what the daemon pays around each call. A tunnel that
 * seals each packet once and opens it once cannot beat these figures, so
 * the benchmark reads its throughput as a fraction of them.
 *
 * Usage: crypto_ceiling [SECONDS]   (one JSON line on stdout: libsodium's
 * figures as seal_gbps, open_gbps, ..., libcrypto's with a libcrypto_
 * prefix)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"

#define PACKET 1420
#define TAG WG_AEAD_TAG_LEN

struct run {
	const struct wg_aead_impl *aead;
	double seconds;
	int open;		/* 0: seal, 1: open */
	uint64_t packets;
	double elapsed;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	struct run *r = arg;
	uint8_t key[32];
	static _Thread_local uint8_t buf[PACKET + TAG], sealed[PACKET + TAG];
	uint64_t n = 0;
	double start, end;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 29 + 3);
	for (size_t i = 0; i < PACKET; i++)
		buf[i] = (uint8_t)(i * 7);
	r->aead->seal(sealed, buf, PACKET, NULL, 0, 0, key);
	start = now_s();
	end = start + r->seconds;
	for (;;) {
		/* The clock is read once every 256 packets. */
		for (int i = 0; i < 256; i++, n++) {
			if (r->open) {
				if (!r->aead->open(buf, sealed, PACKET + TAG,
						   NULL, 0, 0, key))
					abort();
			} else {
				r->aead->seal(buf, buf, PACKET, NULL, 0, n,
					      key);
			}
		}
		if (now_s() >= end)
			break;
	}
	r->packets = n;
	r->elapsed = now_s() - start;
	wg_wipe(key, sizeof(key));
	wg_crypto_thread_done();
	return NULL;
}

static double gbps(const struct run *r)
{
	return (double)r->packets * PACKET * 8 / r->elapsed / 1e9;
}

/* One library's figures, as JSON members (without braces). */
static int measure(const struct wg_aead_impl *aead, const char *prefix,
		   double seconds, long cpus, const char *sep)
{
	struct run seal = { .aead = aead, .seconds = seconds };
	struct run open = { .aead = aead, .seconds = seconds, .open = 1 };
	struct run *all = calloc((size_t)cpus, sizeof(*all));
	pthread_t *threads = calloc((size_t)cpus, sizeof(*threads));
	double total = 0;

	if (!all || !threads)
		return -1;
	work(&seal);
	work(&open);
	for (long i = 0; i < cpus; i++) {
		all[i].aead = aead;
		all[i].seconds = seconds;
		if (pthread_create(&threads[i], NULL, work, &all[i]))
			return -1;
	}
	for (long i = 0; i < cpus; i++) {
		pthread_join(threads[i], NULL);
		total += gbps(&all[i]);
	}
	printf("%s\"%sseal_gbps\": %.4f, \"%sseal_pps\": %.0f, "
	       "\"%sopen_gbps\": %.4f, \"%sopen_pps\": %.0f, "
	       "\"%sparallel_gbps\": %.4f", sep,
	       prefix, gbps(&seal), prefix, (double)seal.packets / seal.elapsed,
	       prefix, gbps(&open), prefix, (double)open.packets / open.elapsed,
	       prefix, total);
	free(all);
	free(threads);
	return 0;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (!wg_crypto_init())
		return 1;
	if (cpus < 1)
		cpus = 1;
	printf("{");
	if (measure(&wg_aead_libsodium, "", seconds, cpus, "") ||
	    measure(&wg_aead_libcrypto, "libcrypto_", seconds, cpus, ", "))
		return 1;
	printf(", \"parallel_threads\": %ld}\n", cpus);
	return 0;
}
