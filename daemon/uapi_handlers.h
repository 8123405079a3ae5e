/* SPDX-License-Identifier: MIT */
/*
 * What the UAPI requests mean for this daemon (uapi_server.h frames them):
 * get=1 answers the core's view, set=1 applies a change (apply.h),
 * stats=1 answers the counters (stats.h), and a removed socket file stops
 * the daemon.
 */
#ifndef UNIGUARD_UAPI_HANDLERS_H
#define UNIGUARD_UAPI_HANDLERS_H

#include "uapi_server.h"

struct daemon;

struct uapi_handler uapi_handlers(struct daemon *d);

#endif
