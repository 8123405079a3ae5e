/* SPDX-License-Identifier: MIT */
/*
 * The interface's counters, as one table: the core's (verdicts, handshakes,
 * cookies) and the packet path's errors. Every view of them reads that
 * table: the UAPI's stats=1 (key=value lines), the log line (SIGUSR1, the
 * periodic line, shutdown) and the Prometheus page (metrics.c), which takes
 * each row's metric name and help from here.
 *
 * A snapshot is taken under the core's lock, which it holds only to copy;
 * what is made of it afterwards needs no lock.
 */
#ifndef UNIGUARD_STATS_H
#define UNIGUARD_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "datapath.h"
#include "wg.h"

struct daemon;

struct stats_snapshot {
	struct wg_device_stats core;
	struct datapath_counters datapath;
	/* Every peer; n_peers may exceed what peers holds (peers_len) when
	 * memory ran out. */
	struct wg_peer_stats *peers;
	size_t n_peers, peers_len;
	uint64_t uptime_sec;
};

/* With the core's lock held. Never fails: without memory for the peers
 * the snapshot has the counters and the number of peers. */
void stats_snapshot_take(const struct daemon *d, struct stats_snapshot *s);
void stats_snapshot_clear(struct stats_snapshot *s);

/* One row of the table, with its value in a snapshot. */
struct stats_counter {
	const char *name;	/* as stats=1 and the log name it */
	const char *metric;	/* its Prometheus family: rows of one family
				 * follow each other */
	const char *reason;	/* the family's "reason" label, or NULL */
	const char *help;	/* the family's */
	uint64_t value;
};

size_t stats_counter_count(void);
/* Row i (< stats_counter_count()) of the table, valued from s. */
void stats_counter_get(const struct stats_snapshot *s, size_t i,
		       struct stats_counter *out);

/* One "name=value" line per counter, in a fixed order (UAPI stats=1). */
void stats_emit(const struct daemon *d, struct wg_buf *out);
/* "counters: peers=N sessions=N rx_bytes=N tx_bytes=N name=value ..."
 * with the table's counters that are not zero, logged at level. */
void stats_log(const struct stats_snapshot *s, enum wg_log_level level);

#endif
