/* SPDX-License-Identifier: MIT */
/*
 * For tests, fuzzers and benchmarks: puts a device under load the way a
 * flood does, with handshake messages the core counts (core/receive.c,
 * update_load). Each carries a wrong mac1, so nothing else happens to
 * them (WG_DROP_MAC). WG_UNDER_LOAD_PER_SECOND of them within a second put
 * a device with a private key under load until a second after the last.
 */
#ifndef UNIGUARD_HARNESS_UNDER_LOAD_H
#define UNIGUARD_HARNESS_UNDER_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

static inline void harness_handshake_flood(struct wg_device *dev,
					   uint64_t now,
					   const struct wg_endpoint *from,
					   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t msg[WG_INIT_LEN] = { WG_MSG_INITIATION };

		(void)wg_device_receive(dev, now, from, msg, sizeof(msg));
	}
}

#endif
