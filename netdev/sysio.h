/* SPDX-License-Identifier: MIT */
/*
 * What the backends and the UDP socket do around their system calls: make
 * a call again when a signal interrupts it, report a failure the way every
 * netdev function does (a negative errno, EWOULDBLOCK as -EAGAIN), and
 * read the monotonic clock.
 */
#ifndef UNIGUARD_SYSIO_H
#define UNIGUARD_SYSIO_H

#include <errno.h>
#include <stdint.h>
#include <time.h>

/* n = call, made again while a signal interrupts it (n < 0, EINTR). */
#define NETDEV_RETRY(n, call)                                   \
	do {                                                    \
		(n) = (call);                                   \
	} while ((n) < 0 && errno == EINTR)

/* errno after a failed call, as netdev returns it. */
static inline int netdev_errno(void)
{
	return errno == EWOULDBLOCK ? -EAGAIN : -errno;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t netdev_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
