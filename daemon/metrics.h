/* SPDX-License-Identifier: MIT */
/*
 * The metrics page: a counters snapshot (stats.h) in the Prometheus text
 * exposition format, version 0.0.4, named as Prometheus's conventions ask
 * (uniguard_ prefix, units in the name, _total for counters). Peers are
 * labelled by public key only: nothing says where a client is or what it
 * may reach. docs/operations.md lists every family.
 */
#ifndef UNIGUARD_METRICS_H
#define UNIGUARD_METRICS_H

#include "config.h"
#include "stats.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

void metrics_render(const struct stats_snapshot *s, struct wg_buf *out);

#endif
