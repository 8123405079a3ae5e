/* SPDX-License-Identifier: MIT */
/*
 * How the packet path's two threads (datapath.h) wait for work: each
 * direction under a lock of its own, taken by whichever thread serves it;
 * polling for a moment after work before sleeping; one thread serving both
 * directions while traffic is light; a busy thread kept to a CPU of its
 * own (datapath_pin.h). The thread bodies are here; starting and joining
 * them is the caller's (datapath.c).
 */
#ifndef UNIGUARD_DATAPATH_WAIT_H
#define UNIGUARD_DATAPATH_WAIT_H

#include "datapath.h"
#include "datapath_receive.h"
#include "datapath_send.h"

struct datapath_wait;

/* The wake-ups and the sets to wait on, for the two pipelines; 0 or
 * -errno. */
int datapath_wait_new(struct datapath_wait **out,
		      const struct datapath_host *host,
		      const struct datapath_options *opts,
		      struct datapath_send *tx, struct datapath_receive *rx);
/* The threads' bodies (pthread_create's), arg the datapath_wait. */
void *datapath_wait_sending(void *arg);
void *datapath_wait_receiving(void *arg);
/* Both threads return soon after. */
void datapath_wait_stop(struct datapath_wait *dw);
/* The UDP socket was replaced under the same fd: wait on it afresh. */
void datapath_wait_udp_changed(struct datapath_wait *dw);
/* Once the threads have returned. */
void datapath_wait_free(struct datapath_wait *dw);

#endif
