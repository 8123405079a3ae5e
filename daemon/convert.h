/* SPDX-License-Identifier: MIT */
/*
 * `uniguard convert FILE`: prints a wg-quick file as the UAPI set
 * transaction that `wg setconf` would send for it.
 */
#ifndef UNIGUARD_CONVERT_H
#define UNIGUARD_CONVERT_H

/* argv[0] is "convert". Returns the exit status: 0, 1 on a bad file, 2 on
 * bad arguments. */
int uniguard_convert_main(int argc, char **argv);

#endif
