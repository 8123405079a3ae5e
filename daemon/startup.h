/* SPDX-License-Identifier: MIT */
/*
 * What the process does first, before it reads a file: drop what it
 * inherited and make itself unreadable to debuggers and dumps.
 */
#ifndef UNIGUARD_STARTUP_H
#define UNIGUARD_STARTUP_H

/* Closes every descriptor above 2 (whatever the caller left open: its
 * files, its pipes) but the n in keep (a TUN device and a UAPI socket that
 * a launcher passed on purpose; negative entries are ignored), and makes the process non-dumpable: no core file,
 * and no ptrace or /proc/PID/mem by a process of the same user without
 * CAP_SYS_PTRACE. Keys live in this process's memory from the first
 * file it reads; nothing of that may leave through a dump. */
#include <stddef.h>

void startup_harden(const int *keep, size_t n);

#endif
