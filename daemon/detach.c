/* SPDX-License-Identifier: MIT */
/* Detaching (detach.h): a fork and a pipe that carries one byte. */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

int detach_begin(int *notify_fd)
{
	int pipefd[2];
	pid_t pid;
	char status;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		ssize_t n;

		close(pipefd[1]);
		do
			n = read(pipefd[0], &status, 1);
		while (n < 0 && errno == EINTR);
		/* Nothing read: the child failed and said why on stderr. */
		_exit(n == 1 && status == 0 ? 0 : 1);
	}
	close(pipefd[0]);
	if (setsid() < 0)
		return -errno;
	*notify_fd = pipefd[1];
	return 0;
}

void detach_finish(int notify_fd)
{
	char ok = 0;
	int null;

	/* Hold no terminal and no pipe of whoever started us: a caller
	 * reading our output would otherwise wait for our exit. */
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	(void)chdir("/");
	(void)!write(notify_fd, &ok, 1);
	close(notify_fd);
}
