/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log: one readable line per event,
 *   2026-11-24T21:00:00.123Z uniguard[wg0] info: peer 6SCWZuT/: handshake completed
 * stamped in UTC (ISO 8601, milliseconds), to stderr, to a file opened for
 * appending, or to syslog (which stamps lines itself). Never a key: the
 * core names peers by a short public-key prefix, the daemon logs no
 * configuration values but ports and addresses, and as a last line of
 * defence its own lines lose any run of characters long enough to be a key
 * (a user's text quoted in an error may hold one).
 */
#ifndef UNIGUARD_LOG_H
#define UNIGUARD_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "wg.h"

/* Starts logging to stderr at level; ifname tags every line. */
void log_init(enum wg_log_level level, const char *ifname);
void log_set_ifname(const char *ifname);
enum wg_log_level log_level(void);
/* Appends to path from now on: 0 or negative errno. */
int log_open_file(const char *path);
/* Sends lines to syslog from now on (a daemon without a log file). */
void log_use_syslog(void);
/* Drops every line from now on (wireguard-go's LOG_LEVEL=silent). */
void log_silence(void);
/* Whether a syslog daemon listens on this system's log socket, for a
 * daemon about to detach to say where its lines will go. */
bool log_syslog_available(void);
/* Whether lines go to stderr (and so need it kept open). */
bool log_uses_stderr(void);
void log_close(void);

/* "error", "warn", "info", "debug", "trace" into *level: false if none of
 * those. */
bool log_parse_level(const char *text, enum wg_log_level *level);

/* Replaces in place every run that may be a key (the rule of core's
 * redact.h: the core's parse errors follow it too) with "[redacted]":
 * whatever a message quotes, a key pasted in the wrong place never reaches
 * a log. log_msg applies it to every line; code that prints to stderr
 * itself (the -c file's diagnostics) applies it to what it quotes. */
void log_redact(char *text);

/* A finished line, as the core's env->log hands them over: written as is
 * (the core's lines carry no key, wg.h, and may name a public key whole). */
void log_line(enum wg_log_level level, const char *line);
/* A line of the daemon's own, formatted, then redacted (log_redact). */
void log_msg(enum wg_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line per LOG_LIMIT_INTERVAL_NS at most for an event that may come
 * with every packet; zero-initialised, it lets the first line through. */
#define LOG_LIMIT_INTERVAL_NS (10ull * 1000000000ull)
struct log_limit {
	uint64_t next;		/* monotonic ns from which a line may go */
	uint64_t held;		/* events held back since the last line */
};
/* Whether a line may go at now (monotonic ns); if so, *held gets how many
 * were held back since the last one. Safe from several threads. */
bool log_limit_pass(struct log_limit *limit, uint64_t now, uint64_t *held);

#define log_error(...) log_msg(WG_LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(WG_LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(WG_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(WG_LOG_DEBUG, __VA_ARGS__)
#define log_trace(...) log_msg(WG_LOG_TRACE, __VA_ARGS__)

#endif
