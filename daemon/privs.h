/* SPDX-License-Identifier: MIT */
/*
 * Dropping root once the interface and sockets are open.
 */
#ifndef UNIGUARD_PRIVS_H
#define UNIGUARD_PRIVS_H

/* The dedicated system user the daemon becomes when the system has one. */
#define PRIVS_USER "uniguard"

/* Becomes the unprivileged user (PRIVS_USER with its group when the system
 * has it; else "nobody", group "nogroup" or "nobody", with a warning),
 * keeping only CAP_NET_ADMIN (fwmark, for `wg set fwmark` as wg-quick sends
 * it) and CAP_NET_BIND_SERVICE (a listen port below 1024 on a later `wg
 * set`), read back with capget. 0, or negative errno: also when the
 * capabilities cannot be limited to exactly those two, and then the
 * caller must stop rather than run on. Nothing to do when not root. */
int privs_drop(void);

/* Starts a small root process, a fresh image of this program holding
 * none of its memory, that waits for this one to end and then removes
 * path (the UAPI socket, in a directory only root may write), unless
 * something else has taken its name meanwhile. Called just before
 * privs_drop. 0 or negative errno. */
int privs_spawn_janitor(const char *path);

/* The word after which main() hands the command line to
 * privs_janitor_main: the janitor's own entry point. */
#define PRIVS_JANITOR_COMMAND "socket-janitor"

/* The janitor: argv is PRIVS_JANITOR_COMMAND PATH DEV INO, its standard
 * input the pipe whose closing says the daemon has ended. Exit status. */
int privs_janitor_main(int argc, char **argv);

#endif
