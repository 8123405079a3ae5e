/* SPDX-License-Identifier: MIT */
/*
 * `uniguard stats [--json] [IFNAME...]`: a running daemon's counters (its
 * stats=1 answer), one per line with what each counts, or as JSON for
 * scripts. Without IFNAME, every interface that has a socket.
 */
#ifndef UNIGUARD_CLI_STATS_H
#define UNIGUARD_CLI_STATS_H

#include <stdbool.h>
#include <stdio.h>

/* argv[0] is "stats". The exit status: 0, 1 when an interface cannot be
 * asked, 2 on bad arguments. */
int cli_stats_main(int argc, char **argv);

/* What a counter of stats=1 counts, or NULL for a key without a
 * description (a newer daemon's). */
const char *cli_stats_describe(const char *key);

/* Writes ifname's non-zero counters as "  key: value" lines under a
 * "counters:" heading, for `uniguard show`. 0, or -errno (quietly: a
 * daemon that is not uniguard has no counters to show). */
int cli_stats_print_nonzero(FILE *out, const char *ifname);

#endif
