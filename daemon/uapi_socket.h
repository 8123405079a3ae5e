/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket's file, /var/run/wireguard/IFNAME.sock: made so that no
 * one else may connect in between (the directory 0700, the socket born
 * 0600), a stale one of a daemon that died removed, and for a socket a
 * launcher passed, its file found by the socket's own name. uapi_server.c
 * serves the connections and watches the file for its removal.
 */
#ifndef UNIGUARD_UAPI_SOCKET_H
#define UNIGUARD_UAPI_SOCKET_H

#include <sys/un.h>

/* The directory the sockets live in. */
#define UAPI_SOCKET_DIR "/var/run/wireguard"

struct uapi_socket_file {
	/* "" for a passed socket that has no file. */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char name[sizeof(((struct sockaddr_un *)0)->sun_path)];	/* in dir */
};

/* Names f after ifname, creates the directory if needed, removes a stale
 * socket nobody listens on, and returns a listening, non-blocking socket
 * bound to f->path with mode 0600, or negative errno (-EADDRINUSE when a
 * live daemon already owns the name, -EINVAL for a name with '/'). */
int uapi_socket_listen(struct uapi_socket_file *f, const char *ifname);

/* Fills f from a passed listening socket's name; leaves f->path empty
 * when it is unnamed or abstract. */
void uapi_socket_adopt(struct uapi_socket_file *f, int fd);

#endif
