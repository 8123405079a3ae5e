/* SPDX-License-Identifier: MIT */
/*
 * The environment the protocol core runs in (wg.h's struct wg_env): its
 * randomness, wall clock and log, where its datagrams and decrypted
 * packets go (the UDP socket and the packet device), and where its key
 * memory comes from (keymem.h).
 */
#ifndef UNIGUARD_ENV_H
#define UNIGUARD_ENV_H

#include <stddef.h>
#include <stdint.h>

#include "wg.h"

struct daemon;

/* Fills d->env with the daemon's callbacks. */
void env_init(struct daemon *d);
/* What env->send does, with its result: 0 or -errno (-EMSGSIZE: too big
 * for the route), counted and logged. */
int env_send_datagram(struct daemon *d, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len);

#endif
