/* SPDX-License-Identifier: MIT */
/*
 * The event loop: one epoll set whose timeout is the core's next deadline.
 * Every source but the packet path's runs with the core's lock held; the
 * packet path takes it itself. The wake-up lets another thread end a wait
 * early: an earlier deadline armed, or a stop asked for.
 */
#ifndef UNIGUARD_EVENT_LOOP_H
#define UNIGUARD_EVENT_LOOP_H

struct daemon;

/* The epoll set and the wake-up. 0 or -errno. */
int event_loop_open(struct daemon *d);
/* Ends the current wait (any thread). */
void event_loop_wake(struct daemon *d);
/* Until a stop is asked for (d->stop) or epoll fails (d->status 1). */
void event_loop_run(struct daemon *d);
void event_loop_close(struct daemon *d);

#endif
