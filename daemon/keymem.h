/* SPDX-License-Identifier: MIT */
/*
 * Memory for keys, kept out of core dumps. The core takes the memory of
 * everything that holds a key (the device, each peer, each session's
 * keypair) from here (wg_env's secret_alloc). The daemon is made
 * non-dumpable with a core limit of 0 (startup.c), but a system that pipes
 * core dumps to a handler dumps even such a process; the pages from here
 * are left out of any dump all the same (MADV_DONTDUMP).
 */
#ifndef UNIGUARD_KEYMEM_H
#define UNIGUARD_KEYMEM_H

#include <stdbool.h>
#include <stddef.h>

/* len zeroed bytes, or NULL. Thread-safe. */
void *keymem_alloc(size_t len);
/* Gives back what keymem_alloc(len) returned; the caller has wiped it. */
void keymem_free(void *p, size_t len);
/* false when the kernel refused to leave a mapping out of dumps (then
 * non-dumpability alone protects the keys; Nanos writes no dumps). */
bool keymem_out_of_dumps(void);

#endif
