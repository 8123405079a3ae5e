/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log: one readable line per event,
 *   2026-11-24 21:00:00 uniguard[wg0] info: peer 6SCWZuT/: handshake completed
 * to stderr, to a file opened for appending, or to syslog. Never a key: the
 * core names peers by a short public-key prefix, and the daemon logs no
 * configuration values but ports and addresses.
 */
#ifndef UNIGUARD_LOG_H
#define UNIGUARD_LOG_H

#include <stdbool.h>

#include "wg.h"

/* Starts logging to stderr at level; ifname tags every line. */
void log_init(enum wg_log_level level, const char *ifname);
void log_set_ifname(const char *ifname);
enum wg_log_level log_level(void);
/* Appends to path from now on: 0 or negative errno. */
int log_open_file(const char *path);
/* Sends lines to syslog from now on (a daemon without a log file). */
void log_use_syslog(void);
/* Whether lines go to stderr (and so need it kept open). */
bool log_uses_stderr(void);
void log_close(void);

/* "error", "info", "debug", "trace" into *level: false if none of those. */
bool log_parse_level(const char *text, enum wg_log_level *level);

void log_line(enum wg_log_level level, const char *line);
void log_msg(enum wg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(WG_LOG_ERROR, __VA_ARGS__)
#define log_info(...) log_msg(WG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(WG_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(WG_LOG_TRACE, __VA_ARGS__)

#endif
