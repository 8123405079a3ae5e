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

extern char **environ;

#ifdef __linux__
#include <linux/capability.h>
#endif

#include "config.h"
#include "log.h"

/* The conventional id of "nobody" and "nogroup" when the files lack them. */
#define NOBODY_ID 65534u

/* The number in field (counted from 0) of the line of file whose first
 * field is name. */
static bool lookup_id(const char *file, const char *name, int field,
		      unsigned int *id)
{
	char line[512];
	size_t nlen = strlen(name);
	bool found = false;
	FILE *f;

	f = fopen(file, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		uint64_t v;

		if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
			continue;
		for (int i = 0; i < field && p; i++) {
			p = strchr(p, ':');
			if (p)
				p++;
		}
		if (!p)
			continue;
		end = strchr(p, ':');
		if (!end || !wg_parse_decimal(p, (size_t)(end - p),
					      UINT32_MAX, &v))
			continue;
		*id = (unsigned int)v;
		found = true;
	}
	fclose(f);
	return found;
}

/* The user to become: the dedicated one when the system has it (its
 * own group), else the shared nobody, said with a warning, since every
 * other service running as nobody may then signal or trace this one. */
static void choose_user(unsigned int *uid, unsigned int *gid)
{
	*uid = NOBODY_ID;
	*gid = NOBODY_ID;
	if (lookup_id("/etc/passwd", PRIVS_USER, 2, uid)) {
		if (!lookup_id("/etc/passwd", PRIVS_USER, 3, gid))
			(void)lookup_id("/etc/group", PRIVS_USER, 2, gid);
		return;
	}
	log_warn("no user %s on this system: running as nobody, "
		 "which other services may share", PRIVS_USER);
	(void)lookup_id("/etc/passwd", "nobody", 2, uid);
	if (!lookup_id("/etc/group", "nogroup", 2, gid))
		(void)lookup_id("/etc/group", "nobody", 2, gid);
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
	unsigned int uid, gid;
	gid_t groups[1];

	if (geteuid() != 0)
		return 0;
	choose_user(&uid, &gid);
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

/* The janitor's whole life, in a process of its own (a fresh image,
 * started by privs_spawn_janitor): it holds nothing of the daemon's, no
 * key above all. It leaves the daemon's session, so that a signal to the
 * daemon's process group (Ctrl-C, timeout, a service manager stopping
 * the unit) leaves it alone, waits for its standard input (the daemon's
 * end of a pipe) to close, then removes the socket file if it is still
 * the one the daemon made. */
int privs_janitor_main(int argc, char **argv)
{
	static const int stops[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	unsigned long long dev, ino;
	struct stat now;
	sigset_t none;
	char *end;
	char c;

	if (argc != 4 || geteuid() != 0)
		return 2;
	dev = strtoull(argv[2], &end, 10);
	if (*end)
		return 2;
	ino = strtoull(argv[3], &end, 10);
	if (*end)
		return 2;
	(void)setsid();
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		signal(stops[i], SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
#ifdef PR_SET_NAME
	(void)prctl(PR_SET_NAME, "socket-janitor", 0, 0, 0);
#endif
	while (read(STDIN_FILENO, &c, 1) < 0 && errno == EINTR)
		;
	if (lstat(argv[1], &now) == 0 && (unsigned long long)now.st_dev == dev &&
	    (unsigned long long)now.st_ino == ino)
		unlink(argv[1]);
	return 0;
}

/* In the forked child: the pipe as standard input, /dev/null for the
 * rest, then this program anew. Never returns. */
static void janitor_exec(int wait_fd, const char *path, const struct stat *st)
{
	char dev[24], ino[24];
	char *argv[] = { "uniguard", PRIVS_JANITOR_COMMAND, (char *)path, dev,
			 ino, NULL };
	int null;

	snprintf(dev, sizeof(dev), "%llu", (unsigned long long)st->st_dev);
	snprintf(ino, sizeof(ino), "%llu", (unsigned long long)st->st_ino);
	if (dup2(wait_fd, STDIN_FILENO) < 0)
		_exit(127);
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	execve("/proc/self/exe", argv, environ);
	_exit(127);
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
		janitor_exec(pipefd[0], path, &st);
	/* Our end stays open, unwritten, until we exit. */
	close(pipefd[0]);
	return 0;
}
