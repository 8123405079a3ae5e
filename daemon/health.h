/* SPDX-License-Identifier: MIT */
/*
 * Whether the gateway can carry traffic, as a load balancer or Compute
 * Engine's autohealing asks it (the operations listener's /healthz): the
 * interface is there and up, a private key is configured, and the UDP
 * socket is bound. Safe from any thread: it takes the core's lock only
 * to read, and asks the system about the interface without it.
 */
#ifndef UNIGUARD_HEALTH_H
#define UNIGUARD_HEALTH_H

struct daemon;

/* NULL when healthy, else why not, in a few words. */
const char *health_check(struct daemon *d);

#endif
