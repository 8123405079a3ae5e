/* SPDX-License-Identifier: MIT */
/*
 * What the packet path's parts (datapath.h) share: the core's lock, held
 * only for the bookkeeping and reported on release as a visit that may
 * have moved the core's next deadline; the counters, which both threads
 * update. The clock is netdev_now_ns (sysio.h), the one reader.
 */
#ifndef UNIGUARD_DATAPATH_SHARED_H
#define UNIGUARD_DATAPATH_SHARED_H

#include <pthread.h>
#include <stdint.h>

#include "datapath.h"
#include "sysio.h"

/* What a message adds to its packet: header, padding, tag. */
#define DATAPATH_MSG_EXTRA \
	(WG_MESSAGE_HEADER_LEN + WG_MESSAGE_PADDING + WG_MESSAGE_TAG_LEN)

static inline void datapath_count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static inline void datapath_lock(const struct datapath_host *h)
{
	pthread_mutex_lock(h->lock);
}

static inline void datapath_unlock(const struct datapath_host *h)
{
	h->touched(h->ctx);
	pthread_mutex_unlock(h->lock);
}

#endif
