/* SPDX-License-Identifier: MIT */
/*
 * The daemon as the packet path's host (datapath.h): what the packet path
 * hands back to it (packets for the core's one-at-a-time entry points,
 * datagrams too big for their route, a device that went away), and the
 * packet path started on its threads, or else driven by the event loop.
 */
#ifndef UNIGUARD_DP_HOST_H
#define UNIGUARD_DP_HOST_H

struct daemon;

/* Last in start-up: threads take the privileges they start with. 0, or -1
 * after logging why. */
int dp_host_start(struct daemon *d);
/* Stops the threads and frees the packet path. */
void dp_host_stop(struct daemon *d);

#endif
