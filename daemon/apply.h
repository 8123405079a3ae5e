/* SPDX-License-Identifier: MIT */
/*
 * Configuration changes, from -c at start and from every UAPI set: applied
 * all or nothing, the UDP socket rebound when the listen port (or the
 * first) asks for it, and what the change ended said in the log.
 */
#ifndef UNIGUARD_APPLY_H
#define UNIGUARD_APPLY_H

#include <stdint.h>

#include "config.h"

struct daemon;

/* 0, or -errno with err (may be NULL) saying why; on error nothing of the
 * change applies. The port the kernel chose for 0 is what the core
 * records, so that get=1 reports it. */
int apply_config(struct daemon *d, struct wg_config *delta,
		 struct wg_parse_error *err);

/* Closes the UDP socket. */
void apply_close_socket(struct daemon *d);

/* The port datagrams leave from, for the capture (record.h). */
uint16_t apply_record_port(void *ctx);

#endif
