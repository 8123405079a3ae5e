/* SPDX-License-Identifier: MIT */
/*
 * The daemon's one reader of the monotonic clock: the `now` every call
 * into the core takes, in nanoseconds.
 */
#ifndef UNIGUARD_MONOTONIC_H
#define UNIGUARD_MONOTONIC_H

#include <stdint.h>
#include <time.h>

static inline uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
