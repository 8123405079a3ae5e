/* SPDX-License-Identifier: MIT */
/*
 * The sending pipeline of the packet path (datapath.h): inner packets read
 * from the tun device in batches, TCP super-packets cut into segments as
 * they are sealed, every packet prepared with the core under its lock,
 * sealed without it, and sent with as few system calls as the socket
 * allows. One caller at a time.
 */
#ifndef UNIGUARD_DATAPATH_SEND_H
#define UNIGUARD_DATAPATH_SEND_H

#include <stdbool.h>
#include <stddef.h>

#include "datapath.h"

struct datapath_send;

/* NULL if out of memory. */
struct datapath_send *datapath_send_new(const struct datapath_host *host,
					const struct datapath_options *opts);
/* Wipes the session keys a batch cut short may have left. */
void datapath_send_free(struct datapath_send *tx);

/* One batch of at most max packets (1..DATAPATH_BATCH_MAX) from the tun
 * device: how many it read; *more if more may be waiting. */
size_t datapath_send_batch(struct datapath_send *tx, unsigned int max,
			   bool *more);

#endif
