/* SPDX-License-Identifier: MIT */
/*
 * The interface's counters: the core's (verdicts, handshakes, cookies) and
 * the packet path's errors, as key=value lines (for the UAPI's stats=1)
 * or one log line of those that are not zero (SIGUSR1, shutdown).
 */
#ifndef UNIGUARD_STATS_H
#define UNIGUARD_STATS_H

#include "config.h"
#include "wg.h"

struct daemon;

/* One "name=value" line per counter, in a fixed order. */
void stats_emit(const struct daemon *d, struct wg_buf *out);
/* "counters: name=value ..." for those that are not zero. */
void stats_log(const struct daemon *d, enum wg_log_level level);

#endif
