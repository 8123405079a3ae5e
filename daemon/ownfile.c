/* SPDX-License-Identifier: MIT */
/*
 * Files written as root that nobody else prepared (ownfile.h). The checks
 * run on the open descriptor (fstat), never on the name, so that nothing
 * can be swapped in between the check and the use. O_NONBLOCK keeps a
 * FIFO planted at the name from holding the open; it is refused next.
 */
#include "ownfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int ownfile_open(const char *path, enum ownfile_mode how, mode_t perm)
{
	int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
		    O_NONBLOCK;
	struct stat st;
	int fd, ret;

	if (how == OWNFILE_APPEND)
		flags |= O_APPEND;
	fd = open(path, flags, perm);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		goto fail;
	}
	/* Truncating before these checks would already damage a file that
	 * is not ours: O_TRUNC is left out of the open for that reason. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    st.st_nlink != 1) {
		ret = -EPERM;
		goto fail;
	}
	/* A log keeps the mode its operator gave it; a file started anew
	 * takes perm whatever it had. */
	if ((how == OWNFILE_TRUNCATE &&
	     (fchmod(fd, perm) < 0 || ftruncate(fd, 0) < 0)) ||
	    fcntl(fd, F_SETFL, flags & O_APPEND) < 0) {
		ret = -errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}
