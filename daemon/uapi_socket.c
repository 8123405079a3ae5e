/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket's file (uapi_socket.h): its directory, a stale socket,
 * a socket born 0600, and a passed socket's name.
 */
#include "uapi_socket.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int make_dirs(void)
{
	/* /var/run may itself be missing on a bare image. */
	static const char *const dirs[] = {
		"/var", "/var/run", UAPI_SOCKET_DIR,
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		mode_t mode = i + 1 == sizeof(dirs) / sizeof(dirs[0]) ?
			0700 : 0755;

		if (mkdir(dirs[i], mode) < 0 && errno != EEXIST)
			return -errno;
	}
	return 0;
}

/* A socket file left by a daemon that died: remove it, unless something
 * still answers on it. */
static int clear_stale(const struct sockaddr_un *addr)
{
	struct stat st;
	int fd, ret = 0;

	if (lstat(addr->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) == 0)
		ret = -EADDRINUSE;
	else if (unlink(addr->sun_path) < 0 && errno != ENOENT)
		ret = -errno;
	close(fd);
	return ret;
}

int uapi_socket_listen(struct uapi_socket_file *f, const char *ifname)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old_mask;
	int ret, fd, n;

	n = snprintf(f->name, sizeof(f->name), "%s.sock", ifname);
	if (n < 0 || (size_t)n >= sizeof(f->name) || strchr(ifname, '/'))
		return -EINVAL;
	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s",
		     UAPI_SOCKET_DIR, f->name);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	memcpy(f->path, addr.sun_path, sizeof(f->path));
	snprintf(f->dir, sizeof(f->dir), "%s", UAPI_SOCKET_DIR);
	ret = make_dirs();
	if (ret)
		return ret;
	ret = clear_stale(&addr);
	if (ret)
		return ret;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* The socket is born 0600: no window in which others may connect. */
	old_mask = umask(0077);
	ret = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_mask);
	if (ret < 0 || listen(fd, 16) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	(void)chmod(f->path, 0600);
	return fd;
}

void uapi_socket_adopt(struct uapi_socket_file *f, int fd)
{
	struct sockaddr_un addr;
	socklen_t len = sizeof(addr);
	const char *slash;
	size_t plen;

	memset(&addr, 0, sizeof(addr));
	if (getsockname(fd, (struct sockaddr *)&addr, &len) < 0 ||
	    len <= offsetof(struct sockaddr_un, sun_path) ||
	    addr.sun_path[0] == '\0')
		return;		/* unnamed or abstract: no file */
	plen = strnlen(addr.sun_path, sizeof(addr.sun_path));
	if (plen >= sizeof(f->path))
		return;
	memcpy(f->path, addr.sun_path, plen);
	slash = strrchr(f->path, '/');
	if (!slash) {
		snprintf(f->dir, sizeof(f->dir), ".");
		snprintf(f->name, sizeof(f->name), "%s", f->path);
	} else {
		snprintf(f->dir, sizeof(f->dir), "%.*s",
			 (int)(slash == f->path ? 1 : slash - f->path),
			 f->path);
		snprintf(f->name, sizeof(f->name), "%s", slash + 1);
	}
}
