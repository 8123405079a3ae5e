/* SPDX-License-Identifier: MIT */
/*
 * The receiving pipeline of the packet path (datapath.h): datagrams taken
 * from the UDP socket in batches, prepared with the core under its lock,
 * opened without it, finished under it, and written to the tun device,
 * glued back into TCP super-packets where the device takes them.
 * Handshake messages go to the core whole, within their share of the
 * time (datapath_shed.h). One caller at a time.
 */
#ifndef UNIGUARD_DATAPATH_RECEIVE_H
#define UNIGUARD_DATAPATH_RECEIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "datapath.h"

struct datapath_receive;

/* NULL if out of memory. */
struct datapath_receive *datapath_receive_new(
	const struct datapath_host *host, const struct datapath_options *opts);
/* Wipes the session keys a batch cut short may have left. */
void datapath_receive_free(struct datapath_receive *rx);

/* One batch from the UDP socket: how many datagrams it took (as the
 * socket counts them: a GRO batch is one); *more if more may be
 * waiting. */
size_t datapath_receive_batch(struct datapath_receive *rx, bool *more);

#endif
