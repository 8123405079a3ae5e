/* SPDX-License-Identifier: MIT */
/*
 * The transport AEAD's implementation, chosen at start (aead_choice.h).
 * The core cannot tell which is faster (it has no clock); this times them
 * here, on the CPU the daemon runs on: libcrypto's assembly is about twice
 * libsodium's on CPUs with AVX2 or AVX-512, and no faster elsewhere.
 *
 * The timing is of the thread's own CPU time, so that other work on the
 * machine does not tilt it, and each implementation's best of several
 * short rounds, taken in turns. It takes about a millisecond.
 */
#include "aead_choice.h"

#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "crypto.h"
#include "log.h"

#define PACKET 1420
#define PACKETS_PER_ROUND 16
#define ROUNDS 8

bool aead_choice_valid(const char *word)
{
	return !strcmp(word, "auto") || !strcmp(word, "libcrypto") ||
	       !strcmp(word, "libsodium");
}

/* The thread's CPU clock when it counts finely enough for a round of a
 * few dozen microseconds, else the monotonic one (the best of several
 * rounds then leaves out the ones another thread cut into). */
static clockid_t timing_clock(void)
{
	struct timespec res;

	if (clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) == 0 &&
	    res.tv_sec == 0 && res.tv_nsec <= 1000)
		return CLOCK_THREAD_CPUTIME_ID;
	return CLOCK_MONOTONIC;
}

static double now_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds for one round of sealing and opening PACKETS_PER_ROUND packets;
 * a negative figure if a packet did not open. */
static double round_time(clockid_t clock, const struct wg_aead_impl *impl,
			 uint8_t *buf, const uint8_t key[WG_KEY_LEN])
{
	double start = now_s(clock);

	for (uint64_t i = 0; i < PACKETS_PER_ROUND; i++) {
		impl->seal(buf, buf, PACKET, NULL, 0, i, key);
		if (!impl->open(buf, buf, PACKET + WG_AEAD_TAG_LEN, NULL, 0, i,
				key))
			return -1;
	}
	return now_s(clock) - start;
}

/* Bytes sealed and opened per second by each, best of ROUNDS; 0 for one
 * that failed. */
static void measure(double *sodium_rate, double *crypto_rate)
{
	static uint8_t buf[PACKET + WG_AEAD_TAG_LEN];
	/* A key for timing only: it protects nothing. */
	static const uint8_t key[WG_KEY_LEN] = { 0x75, 0x67 };
	clockid_t clock = timing_clock();
	double best[2] = { 0, 0 };
	const struct wg_aead_impl *impls[2] = { &wg_aead_libsodium,
						&wg_aead_libcrypto };

	for (int r = 0; r < ROUNDS; r++) {
		for (int i = 0; i < 2; i++) {
			double t = round_time(clock, impls[i], buf, key);

			if (t < 0) {
				best[i] = -1;
				continue;
			}
			if (best[i] >= 0 && (best[i] == 0 || t < best[i]))
				best[i] = t;
		}
	}
	for (int i = 0; i < 2; i++) {
		double bytes = 2.0 * PACKETS_PER_ROUND * PACKET;
		double *rate = i ? crypto_rate : sodium_rate;

		*rate = best[i] > 0 ? bytes / best[i] : 0;
	}
}

void aead_choose(const char *word)
{
	double sodium = 0, libcrypto = 0;

	/* libcrypto starts itself at its first use and would then read its
	 * configuration file; it has nothing to configure here. */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	if (word && !strcmp(word, "libsodium")) {
		wg_crypto_use_aead(&wg_aead_libsodium);
		log_info("AEAD: libsodium, as asked");
		return;
	}
	if (word && !strcmp(word, "libcrypto")) {
		wg_crypto_use_aead(&wg_aead_libcrypto);
		log_info("AEAD: libcrypto, as asked");
		return;
	}
	measure(&sodium, &libcrypto);
	/* A tie goes to libsodium, the library the rest uses. */
	if (libcrypto > sodium * 1.05) {
		wg_crypto_use_aead(&wg_aead_libcrypto);
		log_info("AEAD: libcrypto, %.2f GB/s vs libsodium %.2f GB/s",
			 libcrypto / 1e9, sodium / 1e9);
	} else {
		wg_crypto_use_aead(&wg_aead_libsodium);
		log_info("AEAD: libsodium, %.2f GB/s vs libcrypto %.2f GB/s",
			 sodium / 1e9, libcrypto / 1e9);
	}
}
