/* SPDX-License-Identifier: MIT */
/*
 * Dropping root (privs.h), following capabilities(7): PR_SET_KEEPCAPS across
 * setuid, then capset(2) down to the two capabilities a running interface
 * still needs. The user and group are read from /etc/passwd and /etc/group
 * directly, because a static binary cannot rely on the name service.
 */
#include "privs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef __linux__
#include <linux/capability.h>
#endif

#include "config.h"
#include "log.h"

/* The conventional id of "nobody" and "nogroup" when the files lack them. */
#define NOBODY_ID 65534u

/* The id in the third field of the line whose first field is name. */
static bool lookup_id(const char *file, const char *name, unsigned int *id)
{
	char line[512];
	size_t nlen = strlen(name);
	bool found = false;
	FILE *f;

	f = fopen(file, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p, *end;
		uint64_t v;

		if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		p = strchr(line + nlen + 1, ':');
		if (!p)
			continue;
		end = strchr(p + 1, ':');
		if (!end || !wg_parse_decimal(p + 1, (size_t)(end - p - 1),
					      UINT32_MAX, &v))
			continue;
		*id = (unsigned int)v;
		found = true;
	}
	fclose(f);
	return found;
}

#ifdef __linux__
/* The two capabilities a running interface still needs, and no other. */
#define KEPT_CAPS ((1u << CAP_NET_ADMIN) | (1u << CAP_NET_BIND_SERVICE))

/* Sets effective and permitted to exactly KEPT_CAPS, inheritable to none,
 * then reads them back: a capset that failed, or one that left anything
 * else, is an error, never a reason to go on with root's set. */
static int keep_net_caps(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	data[0].effective = KEPT_CAPS;
	data[0].permitted = KEPT_CAPS;
	if (syscall(SYS_capset, &hdr, data) < 0)
		return -errno;
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	if (data[0].permitted != KEPT_CAPS || data[0].effective != KEPT_CAPS ||
	    data[0].inheritable != 0 || data[1].permitted != 0 ||
	    data[1].effective != 0 || data[1].inheritable != 0)
		return -EPERM;
	return 0;
}
#endif

int privs_drop(void)
{
	unsigned int uid = NOBODY_ID, gid = NOBODY_ID;
	gid_t groups[1];

	if (geteuid() != 0)
		return 0;
	(void)lookup_id("/etc/passwd", "nobody", &uid);
	if (!lookup_id("/etc/group", "nogroup", &gid))
		(void)lookup_id("/etc/group", "nobody", &gid);
	groups[0] = gid;

#ifdef __linux__
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return -errno;
#endif
	if (setgroups(1, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return -errno;
	/* Make sure there is no way back. */
	if (setuid(0) == 0)
		return -EPERM;
#ifdef __linux__
	{
		int ret = keep_net_caps();

		(void)prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		/* Fail closed: the caller stops rather than run as an
		 * unprivileged user that still holds root's capabilities. */
		if (ret) {
			log_error("cannot limit the capabilities to "
				  "CAP_NET_ADMIN and CAP_NET_BIND_SERVICE: %s",
				  strerror(-ret));
			return ret;
		}
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
#endif
	log_info("running as uid %u gid %u", uid, gid);
	return 0;
}

/* The janitor's whole life: hold nothing of the daemon's (no tun, no
 * socket, no pipe to whoever started it), wait for the daemon's end of the
 * pipe to close, then remove the socket file if it is still ours. */
static void janitor_run(int wait_fd, const char *path, const struct stat *st)
{
	struct stat now;
	sigset_t none;
	char c;
	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int fd = 0; fd < 1024; fd++) {
		if (fd != wait_fd)
			close(fd);
	}
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
#ifdef PR_SET_NAME
	(void)prctl(PR_SET_NAME, "uniguard-sock", 0, 0, 0);
#endif
	while (read(wait_fd, &c, 1) < 0 && errno == EINTR)
		;
	if (lstat(path, &now) == 0 && now.st_dev == st->st_dev &&
	    now.st_ino == st->st_ino)
		unlink(path);
	_exit(0);
}

int privs_spawn_janitor(const char *path)
{
	struct stat st;
	int pipefd[2];
	pid_t pid;

	if (geteuid() != 0)
		return 0;
	if (lstat(path, &st) < 0)
		return -errno;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(pipefd[0]);
		close(pipefd[1]);
		return err;
	}
	if (pid == 0)
		janitor_run(pipefd[0], path, &st);
	/* Our end stays open, unwritten, until we exit. */
	close(pipefd[0]);
	return 0;
}
