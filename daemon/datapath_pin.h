/* SPDX-License-Identifier: MIT */
/*
 * Keeping a busy packet-path thread to a CPU of its own, and letting it go
 * when it is quiet again (datapath_pin.c says why). Each thread has its
 * own; the waiting (datapath_wait.h) tells it after every wait.
 */
#ifndef UNIGUARD_DATAPATH_PIN_H
#define UNIGUARD_DATAPATH_PIN_H

#include <sched.h>
#include <stdbool.h>

#include "datapath.h"

struct datapath_pin {
	cpu_set_t allowed;
	int cpu;			/* -1: not to be pinned */
	unsigned int busy;		/* short waits in a row */
	bool pinned;
};

/* For the calling thread: which 0 is the sending thread, 1 the
 * receiving one. */
void datapath_pin_init(struct datapath_pin *p, enum datapath_pinning when,
		       unsigned int which);
/* After each wait: short (the thread is busy), and whether the thread
 * has been quiet for a while. */
void datapath_pin_waited(struct datapath_pin *p, bool short_wait,
			 bool quiet);

#endif
