/* SPDX-License-Identifier: MIT */
/*
 * The client side of the UAPI socket, for `uniguard show` and `uniguard
 * stats`: one request to a running daemon's
 * /var/run/wireguard/IFNAME.sock, its answer read to the blank line after
 * "errno=", and the answer's key=value lines.
 */
#ifndef UNIGUARD_CLI_UAPI_H
#define UNIGUARD_CLI_UAPI_H

#include <stddef.h>

#include "config.h"

/* Sends request (e.g. "get=1\n\n") to ifname's socket and leaves the
 * whole answer, errno line included, NUL-terminated in *answer (which
 * the caller clears: wg_buf_clear wipes it, as get=1 answers the
 * private key). 0, or -errno when the socket cannot be reached or the
 * answer is cut short (-EPROTO). *status is the answer's errno value. */
int cli_uapi_ask(const char *ifname, const char *request,
		 struct wg_buf *answer, int *status);

/* Each key=value line of an answer before its errno line, in order; the
 * text is cut into strings in place. fn returns 0 to go on. */
typedef int (*cli_uapi_pair_fn)(void *ctx, const char *key,
				const char *value);
int cli_uapi_each_pair(char *answer, cli_uapi_pair_fn fn, void *ctx);

/* The names of the interfaces that have a socket, sorted, in a NULL-ended
 * array that cli_uapi_names_free frees. NULL when out of memory. */
char **cli_uapi_names(void);
void cli_uapi_names_free(char **names);

/* The message for a socket that cannot be reached, on stderr with the
 * program's name: "uniguard: wg0: no such interface (...)". */
void cli_uapi_report(const char *ifname, int err);

#endif
