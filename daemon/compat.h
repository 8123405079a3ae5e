/* SPDX-License-Identifier: MIT */
/*
 * The flags and environment variables of the two userspace WireGuard
 * daemons uniguard replaces, boringtun (boringtun-cli) and wireguard-go,
 * read with the meaning each has in its home tool, so that their launch
 * configurations, wg-quick set-ups and launchers work unchanged. Those that
 * mean nothing for uniguard are accepted, noted here, and logged at debug
 * level. docs/daemon.md has the table, one row per flag or variable.
 */
#ifndef UNIGUARD_COMPAT_H
#define UNIGUARD_COMPAT_H

#include <stdbool.h>

struct daemon_options;

/* Accepted with no effect; kept to be logged once the log is set up. */
enum compat_ignored {
	COMPAT_CONNECTED_UDP = 1 << 0,	/* --disable-connected-udp */
	COMPAT_MULTI_QUEUE = 1 << 1,	/* --disable-multi-queue */
	COMPAT_TUN_NAME_FILE = 1 << 2,	/* WG_TUN_NAME_FILE */
};

/* The variables, as defaults the command line overrides: WG_LOG_LEVEL,
 * LOG_LEVEL, WG_THREADS, WG_SUDO, WG_PROCESS_FOREGROUND, WG_TUN_FD,
 * WG_UAPI_FD, WG_TUN_NAME_FILE. WG_LOG_FILE is for compat_finish. 0, or 2
 * after saying on stderr what is wrong. */
int compat_read_env(struct daemon_options *o);
/* After the command line: WG_LOG_FILE names the log of a daemon that
 * detaches (boringtun's meaning) when nothing else names one. */
void compat_finish(struct daemon_options *o);

/* -t/--threads and WG_THREADS: a number of threads from 1 on. what names
 * the source in the message. false after saying why on stderr. */
bool compat_parse_threads(const char *what, const char *text,
			  unsigned int *threads);
/* --tun-fd, --uapi-fd, WG_TUN_FD, WG_UAPI_FD: a descriptor number, -1 for
 * none (boringtun's default). false after saying why on stderr. */
bool compat_parse_fd(const char *what, const char *text, int *fd);

/* "yes", "true", "1" or "no", "false", "0" into *value; false for any
 * other word. */
bool compat_parse_yes_no(const char *word, bool *value);

/* What the daemon does with them, at debug level, once logging is set up:
 * each flag or variable accepted with no effect, and -t. */
void compat_log(const struct daemon_options *o);

#endif
