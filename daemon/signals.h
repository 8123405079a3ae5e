/* SPDX-License-Identifier: MIT */
/*
 * Signals, read from a signalfd in the event loop: SIGINT and SIGTERM stop
 * the daemon, SIGUSR1 logs the counters, SIGHUP is ignored, SIGPIPE too.
 */
#ifndef UNIGUARD_SIGNALS_H
#define UNIGUARD_SIGNALS_H

struct daemon;

/* Blocks them and watches them from d->epfd. 0 or -errno. */
int signals_open(struct daemon *d);
void signals_close(struct daemon *d);

#endif
