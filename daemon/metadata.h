/* SPDX-License-Identifier: MIT */
/*
 * --peers-from gce-metadata[:ATTRIBUTE]: a thread of its own that reads
 * the attribute from the Compute Engine metadata server, at start and then
 * by long-polling it, and applies each new value as the running set of
 * metadata peers (metadata_peers.h says how it combines with the file's
 * peers). The instance's attribute wins; without one (404), the
 * project's. The server away or answering garbage: it retries with
 * exponential backoff while the gateway forwards on unchanged.
 */
#ifndef UNIGUARD_METADATA_H
#define UNIGUARD_METADATA_H

#include "config.h"

struct daemon;
struct metadata;

struct metadata_options {
	const char *attribute;		/* the key's name */
	unsigned int wait_sec;		/* a long poll's timeout_sec */
	unsigned int backoff_max_sec;	/* the longest wait between tries */
};

#define METADATA_WAIT_SEC 60
#define METADATA_BACKOFF_MAX_SEC 60

/* Starts the thread. fixed: the -c file's peers, which metadata leaves
 * alone (only their public keys are kept). 0 or -errno. */
int metadata_start(struct daemon *d, const struct metadata_options *opts,
		   const struct wg_config *fixed, struct metadata **out);
/* A change over the UAPI socket, before it is applied, with the core's
 * lock held: rewritten to keep the peers metadata added
 * (metadata_peers_guard), each kept one logged. NULL m: nothing to keep.
 * 0, or -ENOMEM with err saying so (refuse the change). */
int metadata_guard_set(struct metadata *m, struct wg_config *set,
		       struct wg_parse_error *err);
/* Ends a request in flight and the thread, and frees. NULL is fine. */
void metadata_stop(struct metadata *m);

#endif
