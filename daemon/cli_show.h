/* SPDX-License-Identifier: MIT */
/*
 * `uniguard show [IFNAME...]`: what `wg show` prints for a running
 * interface (asked with get=1), then uniguard's own non-zero counters
 * (stats=1). Without IFNAME, every interface that has a socket.
 */
#ifndef UNIGUARD_CLI_SHOW_H
#define UNIGUARD_CLI_SHOW_H

/* argv[0] is "show". The exit status: 0, 1 when an interface cannot be
 * asked, 2 on bad arguments. */
int cli_show_main(int argc, char **argv);

#endif
