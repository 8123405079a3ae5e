/* SPDX-License-Identifier: MIT */
/*
 * The daemon: one WireGuard interface, from start-up to clean shutdown.
 * main.c reads the command line into these options and calls daemon_main.
 */
#ifndef UNIGUARD_DAEMON_H
#define UNIGUARD_DAEMON_H

#include <stdbool.h>

#include "datapath.h"
#include "wg.h"

struct daemon_options {
	const char *ifname;	/* asked for; the OS may choose another */
	const char *config_path;	/* -c: UAPI set text or wg-quick file */
	const char *log_path;		/* -l: append here */
	enum wg_log_level verbosity;
	bool foreground;
	bool drop_privileges;
	const char *netdev;		/* backend, "tun" or "tap:OPTIONS" */
	/* Debugging and recording (record.h): NULL when not asked for. */
	const char *capture_path;	/* --capture */
	const char *keylog_path;	/* --keylog */
	const char *seed;		/* --insecure-seed */
	/* --aead or UNIGUARD_AEAD: auto (NULL), libcrypto or libsodium. */
	const char *aead;
	/* Watching it (docs/operations.md); the -c file's HTTP and
	 * LogCounters keys stand in for options not given. */
	const char *http;		/* --http ADDR:PORT, NULL: none */
	bool has_log_counters;
	unsigned int log_counters;	/* --log-counters SECONDS, 0: never */
	/* The packet path's switches and the offloads (UNIGUARD_DATAPATH):
	 * TSO and coalescing on the tun device, GSO and GRO on the UDP
	 * socket. */
	struct datapath_options datapath;
	bool tun_offload, udp_gso, udp_gro;
	/* From boringtun's and wireguard-go's flags and variables
	 * (compat.h). */
	bool log_silent;		/* LOG_LEVEL=silent: no log at all */
	unsigned int threads;		/* -t, WG_THREADS; 0: not given */
	int tun_fd;			/* a TUN device already open, or -1 */
	int uapi_fd;			/* a UAPI socket already open, or -1 */
	unsigned int ignored;		/* enum compat_ignored */
	/* --peers-from (else the file's PeersFrom): "gce-metadata[:ATTR]";
	 * UNIGUARD_METADATA_WAIT and UNIGUARD_METADATA_BACKOFF_MAX shorten
	 * its long poll and its retries (seconds, 0 for the defaults). */
	const char *peers_from;
	unsigned int metadata_wait_sec, metadata_backoff_max_sec;
};

/* The counters line's period unless told otherwise: ten minutes. */
#define DAEMON_LOG_COUNTERS_DEFAULT 600

/* Runs the daemon; returns the process exit status. */
int daemon_main(const struct daemon_options *opts);

#endif
