/* SPDX-License-Identifier: MIT */
/*
 * Detaching as wg-quick expects of a userspace implementation
 * (wg-quick(8)): `uniguard IFNAME` returns once the interface is ready, or
 * with status 1 when it failed, and the interface lives on in a detached
 * process, so that `uniguard wg0 && wg setconf wg0 ...` finds the socket.
 */
#ifndef UNIGUARD_DETACH_H
#define UNIGUARD_DETACH_H

/* Forks: the parent waits for the child's word and exits here; the child
 * returns 0 with *notify_fd set, in a session of its own. -errno. */
int detach_begin(int *notify_fd);
/* In the child, once ready: lets go of the terminal and of whoever
 * started us, and tells the parent to exit 0. */
void detach_finish(int notify_fd);

#endif
