/* SPDX-License-Identifier: MIT */
/*
 * The crypto ceiling of this machine: how fast libsodium's ChaCha20-Poly1305
 * (RFC 8439, the AEAD of WireGuard's transport messages) seals and opens
 * 1420-byte packets on one core, and sealing on every core at once. A tunnel
 * that seals each packet once and opens it once cannot beat these figures,
 * so the benchmark reads its throughput as a fraction of them.
 *
 * Usage: crypto_ceiling [SECONDS]   (one JSON line on stdout)
 */
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PACKET 1420
#define TAG crypto_aead_chacha20poly1305_ietf_ABYTES

struct run {
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

static void nonce_of(uint8_t nonce[12], uint64_t counter)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(counter >> (8 * i));
}

static void *work(void *arg)
{
	struct run *r = arg;
	uint8_t key[32], nonce[12];
	static _Thread_local uint8_t buf[PACKET + TAG], sealed[PACKET + TAG];
	uint64_t n = 0;
	double start, end;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(buf, PACKET);
	nonce_of(nonce, 0);
	crypto_aead_chacha20poly1305_ietf_encrypt(sealed, NULL, buf, PACKET,
						  NULL, 0, NULL, nonce, key);
	start = now_s();
	end = start + r->seconds;
	for (;;) {
		/* The clock is read once every 256 packets. */
		for (int i = 0; i < 256; i++, n++) {
			if (r->open) {
				if (crypto_aead_chacha20poly1305_ietf_decrypt(
					    buf, NULL, NULL, sealed,
					    PACKET + TAG, NULL, 0, nonce,
					    key) != 0)
					abort();
			} else {
				nonce_of(nonce, n);
				crypto_aead_chacha20poly1305_ietf_encrypt(
					buf, NULL, buf, PACKET, NULL, 0, NULL,
					nonce, key);
			}
		}
		if (now_s() >= end)
			break;
	}
	r->packets = n;
	r->elapsed = now_s() - start;
	sodium_memzero(key, sizeof(key));
	return NULL;
}

static double gbps(const struct run *r)
{
	return (double)r->packets * PACKET * 8 / r->elapsed / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 2.0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	struct run seal = { .seconds = seconds }, open = { .seconds = seconds,
							   .open = 1 };
	struct run *all;
	pthread_t *threads;
	double total = 0;

	if (sodium_init() < 0)
		return 1;
	if (cpus < 1)
		cpus = 1;
	work(&seal);
	work(&open);
	all = calloc((size_t)cpus, sizeof(*all));
	threads = calloc((size_t)cpus, sizeof(*threads));
	if (!all || !threads)
		return 1;
	for (long i = 0; i < cpus; i++) {
		all[i].seconds = seconds;
		if (pthread_create(&threads[i], NULL, work, &all[i]))
			return 1;
	}
	for (long i = 0; i < cpus; i++) {
		pthread_join(threads[i], NULL);
		total += gbps(&all[i]);
	}
	printf("{\"seal_gbps\": %.4f, \"seal_pps\": %.0f, \"open_gbps\": %.4f, "
	       "\"open_pps\": %.0f, \"parallel_gbps\": %.4f, "
	       "\"parallel_threads\": %ld}\n",
	       gbps(&seal), (double)seal.packets / seal.elapsed, gbps(&open),
	       (double)open.packets / open.elapsed, total, cpus);
	free(all);
	free(threads);
	return 0;
}
