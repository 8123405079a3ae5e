/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket, /var/run/wireguard/IFNAME.sock: the stock `wg` and
 * `wg-quick` talk to the daemon through it
 * (https://www.wireguard.com/xplatform/).
 * The server frames requests ("get=1", "set=1" and their key=value lines up
 * to the blank line), feeds set lines to the core's parser and leaves the
 * meaning of a request to the daemon through the callbacks below. Several
 * requests may follow each other on one connection.
 *
 * One extension, which `wg` never sends: "stats=1" answers the daemon's
 * counters (verdicts, handshakes) as key=value lines, then errno=0.
 */
#ifndef UNIGUARD_UAPI_SERVER_H
#define UNIGUARD_UAPI_SERVER_H

#include <stdbool.h>

#include "config.h"
#include "loop.h"
#include "uapi_socket.h"

struct uapi_handler {
	void *ctx;
	/* The whole answer to get=1, "errno=" line included. */
	void (*get)(void *ctx, struct wg_buf *out);
	/* Applies a parsed set transaction all or nothing: 0 or -errno. */
	int (*set)(void *ctx, struct wg_config *delta,
		   struct wg_parse_error *err);
	/* The whole answer to stats=1. */
	void (*stats)(void *ctx, struct wg_buf *out);
	/* The socket file was removed from under us: time to go. */
	void (*removed)(void *ctx);
};

struct uapi_server;

/* Creates the directory (0700) if needed, removes a stale socket nobody
 * listens on, and listens (0600). Connections from any user but root and
 * the caller's effective user at this call are refused (SO_PEERCRED), with
 * a log line naming the uid. A line longer than the server takes (1023
 * bytes) closes its connection, with errno=-EMSGSIZE; at 32 connections,
 * a new one closes the oldest. 0 or negative errno; -EADDRINUSE when a live
 * daemon already owns the name. */
int uapi_server_open(struct uapi_server **out, const char *ifname, int epfd,
		     const struct uapi_handler *handler);
/* Serves a socket a launcher opened and passed (WG_UAPI_FD, --uapi-fd):
 * a listening socket, as wireguard-go takes it (its file, if it has one,
 * is watched and removed at close like an opened one's), or a connected
 * stream, as boringtun takes it: one conversation, and the handler's
 * removed when it ends. 0 or negative errno (-ENOTSOCK: not a stream
 * socket). */
int uapi_server_adopt(struct uapi_server **out, int fd, int epfd,
		      const struct uapi_handler *handler);
/* Closes every connection and removes the socket file (when the process
 * still may). */
void uapi_server_close(struct uapi_server *s);
/* The socket file, or NULL for a passed socket without one. */
const char *uapi_server_path(const struct uapi_server *s);

#endif
