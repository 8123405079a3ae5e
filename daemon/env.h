/* SPDX-License-Identifier: MIT */
/*
 * The environment the protocol core runs in (wg.h's struct wg_env): its
 * randomness, wall clock and log, and where its datagrams and decrypted
 * packets go (the UDP socket and the packet device).
 */
#ifndef UNIGUARD_ENV_H
#define UNIGUARD_ENV_H

struct daemon;

/* Fills d->env with the daemon's callbacks. */
void env_init(struct daemon *d);

#endif
