/* SPDX-License-Identifier: MIT */
/*
 * CPU pinning for the packet path's threads (datapath_pin.h).
 *
 * A busy thread keeps to a CPU of its own, the sending one to the first
 * the daemon may use, the receiving one to the second. With two CPUs and
 * two busy threads that is the only sensible split, and the scheduler left
 * alone stacks them on one CPU (as it does with a thread and the one it
 * wakes: a tunnel's two ends on one machine, or a thread and the reader of
 * what it writes), which costs a third of the throughput. A thread that
 * waits more than it works goes back to every CPU: pinned, it would wait
 * for its CPU whenever something else runs there, and a lone packet's
 * latency is what matters then.
 */
#include "datapath_pin.h"

#include <pthread.h>

/* Short waits in a row that pin a thread. */
#define PIN_AFTER 64

static bool keep_to(int cpu)
{
	cpu_set_t one;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	return !pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
}

void datapath_pin_init(struct datapath_pin *p, enum datapath_pinning when,
		       unsigned int which)
{
	unsigned int seen = 0;

	p->cpu = -1;
	p->busy = 0;
	p->pinned = false;
	if (when == DATAPATH_PIN_NEVER ||
	    pthread_getaffinity_np(pthread_self(), sizeof(p->allowed),
				   &p->allowed))
		return;
	if (CPU_COUNT(&p->allowed) < 2 ||
	    (when == DATAPATH_PIN_ON_TWO_CPUS && CPU_COUNT(&p->allowed) != 2))
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &p->allowed) && seen++ == which) {
			p->cpu = cpu;
			break;
		}
	}
	if (when == DATAPATH_PIN_ALWAYS && p->cpu >= 0) {
		/* For good, busy or not. */
		(void)keep_to(p->cpu);
		p->cpu = -1;
	}
}

void datapath_pin_waited(struct datapath_pin *p, bool short_wait,
			 bool quiet)
{
	if (p->cpu < 0)
		return;
	if (short_wait) {
		if (!p->pinned && ++p->busy >= PIN_AFTER)
			p->pinned = keep_to(p->cpu);
		return;
	}
	p->busy = 0;
	if (p->pinned && quiet) {
		(void)pthread_setaffinity_np(pthread_self(), sizeof(p->allowed),
					     &p->allowed);
		p->pinned = false;
	}
}
