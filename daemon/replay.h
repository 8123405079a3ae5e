/* SPDX-License-Identifier: MIT */
/*
 * `uniguard replay`: drives the protocol core from a two-sided capture
 * (capture.h) instead of a network, and writes what it does to another.
 *
 * The inputs of the capture (packet type "to us") are fed to the core in
 * order, the capture's timestamps as its clocks: the wall clock is the
 * record's time, the monotonic clock the time since the first record
 * (plus a fixed offset). Timers run at their exact deadlines between
 * records. Randomness comes from a seed. The configuration file is
 * applied once, at the first record's time. The output capture holds each
 * input as it was fed, followed by everything the core emitted for it,
 * stamped with the time it was emitted at.
 *
 * The same capture, configuration, seed and MTU give the same output
 * file, byte for byte, on every run and every machine.
 */
#ifndef UNIGUARD_REPLAY_CMD_H
#define UNIGUARD_REPLAY_CMD_H

/* argv[0] is "replay". Returns the exit status: 0, 1 on a failure, 2 on
 * bad arguments. */
int uniguard_replay_main(int argc, char **argv);

#endif
