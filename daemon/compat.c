/* SPDX-License-Identifier: MIT */
/*
 * boringtun's and wireguard-go's flags and variables (compat.h). Their
 * meanings, from their sources: boringtun-cli's src/main.rs (clap, each
 * flag with its variable) and wireguard-go's main.go.
 */
#include "compat.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

/* Far more than any machine has cores: a typo, not a request. */
#define COMPAT_THREADS_MAX 1024

bool compat_parse_yes_no(const char *word, bool *value)
{
	static const char *const yes[] = { "yes", "true", "1" };
	static const char *const no[] = { "no", "false", "0" };

	for (size_t i = 0; i < 3; i++) {
		if (strcmp(word, yes[i]) == 0) {
			*value = true;
			return true;
		}
		if (strcmp(word, no[i]) == 0) {
			*value = false;
			return true;
		}
	}
	return false;
}

bool compat_parse_threads(const char *what, const char *text,
			  unsigned int *threads)
{
	uint64_t n;

	if (!wg_parse_decimal(text, strlen(text), COMPAT_THREADS_MAX, &n) ||
	    n == 0) {
		fprintf(stderr, "uniguard: %s: '%s' is not a number of "
			"threads (1 to %d)\n", what, text, COMPAT_THREADS_MAX);
		return false;
	}
	*threads = (unsigned int)n;
	return true;
}

bool compat_parse_fd(const char *what, const char *text, int *fd)
{
	uint64_t n;

	if (strcmp(text, "-1") == 0) {
		*fd = -1;
		return true;
	}
	if (!wg_parse_decimal(text, strlen(text), INT32_MAX, &n)) {
		fprintf(stderr, "uniguard: %s: '%s' is not a file "
			"descriptor number\n", what, text);
		return false;
	}
	*fd = (int)n;
	return true;
}

/* wireguard-go's LOG_LEVEL: "verbose" or "debug", "error", "silent", and
 * anything else is its default, error. uniguard's own level names keep
 * their meaning. */
static void read_wireguard_go_level(struct daemon_options *o,
				    const char *text)
{
	if (strcmp(text, "verbose") == 0) {
		o->verbosity = WG_LOG_DEBUG;
	} else if (strcmp(text, "silent") == 0) {
		o->log_silent = true;
	} else if (!log_parse_level(text, &o->verbosity)) {
		o->verbosity = WG_LOG_ERROR;
	}
}

static const char *env_set(const char *name)
{
	const char *value = getenv(name);

	return value && *value ? value : NULL;
}

int compat_read_env(struct daemon_options *o)
{
	const char *env;
	bool yes;

	o->tun_fd = -1;
	o->uapi_fd = -1;
	/* The more specific variable wins: boringtun's over wireguard-go's
	 * generic one (and UNIGUARD_LOG_LEVEL, read after, over both). */
	env = env_set("LOG_LEVEL");
	if (env)
		read_wireguard_go_level(o, env);
	env = env_set("WG_LOG_LEVEL");
	if (env) {
		if (!log_parse_level(env, &o->verbosity)) {
			fprintf(stderr, "uniguard: WG_LOG_LEVEL: unknown level "
				"'%s' (error, info, debug, trace)\n", env);
			return 2;
		}
		o->log_silent = false;
	}
	env = env_set("WG_THREADS");
	if (env && !compat_parse_threads("WG_THREADS", env, &o->threads))
		return 2;
	/* boringtun: keep root ("do not drop sudo privileges"). */
	env = env_set("WG_SUDO");
	if (env) {
		if (!compat_parse_yes_no(env, &yes)) {
			fprintf(stderr, "uniguard: WG_SUDO: '%s' is not yes or "
				"no (1 or 0)\n", env);
			return 2;
		}
		o->drop_privileges = !yes;
	}
	/* wireguard-go: exactly "1" keeps it in the foreground. */
	env = getenv("WG_PROCESS_FOREGROUND");
	if (env && strcmp(env, "1") == 0)
		o->foreground = true;
	env = env_set("WG_TUN_FD");
	if (env && !compat_parse_fd("WG_TUN_FD", env, &o->tun_fd))
		return 2;
	env = env_set("WG_UAPI_FD");
	if (env && !compat_parse_fd("WG_UAPI_FD", env, &o->uapi_fd))
		return 2;
	if (env_set("WG_TUN_NAME_FILE"))
		o->ignored |= COMPAT_TUN_NAME_FILE;
	return 0;
}

void compat_finish(struct daemon_options *o)
{
	const char *env = env_set("WG_LOG_FILE");

	/* boringtun logs to its file only once detached; in the foreground
	 * its log stays on the terminal. */
	if (env && !o->log_path && !o->foreground)
		o->log_path = env;
	/* One thread does everything: uniguard's event loop without the
	 * packet path's two threads. */
	if (o->threads == 1)
		o->datapath.threads = false;
}

void compat_log(const struct daemon_options *o)
{
	if (o->ignored & COMPAT_CONNECTED_UDP)
		log_debug("--disable-connected-udp: accepted, no effect: "
			  "uniguard never connects its UDP socket to a peer");
	if (o->ignored & COMPAT_MULTI_QUEUE)
		log_debug("--disable-multi-queue: accepted, no effect: "
			  "uniguard opens the TUN device with one queue");
	if (o->ignored & COMPAT_TUN_NAME_FILE)
		log_debug("WG_TUN_NAME_FILE: accepted, no effect: it names "
			  "the file for a utun name on macOS and OpenBSD");
	if (o->threads == 1)
		log_debug("1 thread: the packet path runs in the event loop");
	else if (o->threads)
		log_debug("%u threads: accepted; the packet path has one "
			  "thread per direction", o->threads);
}
