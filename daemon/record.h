/* SPDX-License-Identifier: MIT */
/*
 * Recording a running interface for debugging and for the replay suite:
 * --capture FILE (both sides, capture.h), --keylog FILE (keylog.h) and
 * --insecure-seed TEXT (seeded.h). record_open wraps the core's environment
 * so that every output is captured on its way out; the daemon reports its
 * inputs with record_outer_in and record_inner_in just before handing them
 * to the core, and configuration changes with record_config_changed.
 *
 * Every function takes NULL (nothing asked for) and then does nothing.
 */
#ifndef UNIGUARD_RECORD_H
#define UNIGUARD_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "wg.h"

struct record_options {
	const char *capture_path;
	const char *keylog_path;
	const char *seed;
	/* Our UDP port, asked at each record of a datagram. */
	uint16_t (*port)(void *ctx);
	void *port_ctx;
};

struct record;

/* With none of the options, *out is NULL and env is untouched. Otherwise
 * env is rewired through the recorder, which keeps a copy of the original
 * to call on. 0, or -1 after logging why. */
int record_open(struct record **out, const struct record_options *o,
		struct wg_env *env);
void record_outer_in(struct record *r, const struct wg_endpoint *from,
		     const uint8_t *data, size_t len);
void record_inner_in(struct record *r, const uint8_t *pkt, size_t len);
/* A datagram the daemon sends for the core itself (the core's own go
 * through the wrapped environment). */
void record_outer_out(struct record *r, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len);
/* Keys for the key log, and routes for backends that want them. */
void record_config_changed(struct record *r, struct wg_device *dev);
void record_close(struct record *r);

#endif
