/* SPDX-License-Identifier: MIT */
/*
 * The handshake-flood policy: how much of the receiving thread's time
 * handshake messages may take before further ones are dropped unseen.
 * The policy, and why it lives here rather than in the core, are in
 * datapath_shed.c.
 */
#ifndef UNIGUARD_DATAPATH_SHED_H
#define UNIGUARD_DATAPATH_SHED_H

#include <stdbool.h>
#include <stdint.h>

struct datapath_shed {
	bool on;			/* off: never shed (for measuring) */
	uint64_t *shed;			/* counts what was dropped */
	uint64_t window_start;		/* the current window, and the time */
	uint64_t spent;			/* handshakes took in it (ns) */
};

void datapath_shed_init(struct datapath_shed *s, bool on, uint64_t *shed);
/* Whether a handshake message arriving at now may go to the core; if
 * not, it is counted as shed. */
bool datapath_shed_allow(struct datapath_shed *s, uint64_t now);
/* The core took a handshake message from start to end. */
void datapath_shed_spent(struct datapath_shed *s, uint64_t start,
			 uint64_t end);

#endif
