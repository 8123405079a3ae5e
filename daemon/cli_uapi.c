/* SPDX-License-Identifier: MIT */
/*
 * The UAPI client (cli_uapi.h), speaking the framing of the cross-platform
 * userspace API (https://www.wireguard.com/xplatform/) from the client's
 * side, as wg(8) does against a userspace implementation.
 */
#include "cli_uapi.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "uapi_server.h"

/* Far above any real answer (a get=1 of 100,000 peers is some 30 MB),
 * so that a process that is not the daemon cannot fill memory. */
#define CLI_UAPI_ANSWER_MAX (256u << 20)

static int connect_socket(const char *ifname)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/%s.sock",
		     UAPI_SOCKET_DIR, ifname);
	if (n < 0 || (size_t)n >= sizeof(addr.sun_path) ||
	    strchr(ifname, '/'))
		return -EINVAL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Where the answer's errno line starts, once the answer is complete. */
static const char *answer_end(const struct wg_buf *b)
{
	const char *p;

	if (b->len < 2 || memcmp(b->data + b->len - 2, "\n\n", 2) != 0)
		return NULL;
	p = b->len >= 3 ? b->data + b->len - 3 : b->data;
	while (p > b->data && p[-1] != '\n')
		p--;
	return strncmp(p, "errno=", 6) == 0 ? p : NULL;
}

int cli_uapi_ask(const char *ifname, const char *request,
		 struct wg_buf *answer, int *status)
{
	char chunk[4096];
	const char *end = NULL;
	int fd, ret;

	*status = 0;
	fd = connect_socket(ifname);
	if (fd < 0)
		return fd;
	ret = send_all(fd, request, strlen(request));
	while (!ret && !end) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
		} else if (n == 0 || answer->len + (size_t)n >
			   CLI_UAPI_ANSWER_MAX) {
			ret = -EPROTO;
		} else {
			wg_buf_append(answer, chunk, (size_t)n);
			if (answer->oom)
				ret = -ENOMEM;
			else
				end = answer_end(answer);
		}
	}
	close(fd);
	if (!ret)
		*status = atoi(end + 6);
	return ret;
}

int cli_uapi_each_pair(char *answer, cli_uapi_pair_fn fn, void *ctx)
{
	char *line = answer, *next;
	int ret = 0;

	for (; *line && !ret; line = next) {
		char *eq;

		next = strchr(line, '\n');
		if (!next)
			break;
		*next++ = '\0';
		if (strncmp(line, "errno=", 6) == 0)
			break;
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		ret = fn(ctx, line, eq + 1);
	}
	return ret;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **cli_uapi_names(void)
{
	DIR *dir = opendir(UAPI_SOCKET_DIR);
	struct dirent *ent;
	char **names = calloc(1, sizeof(*names));
	size_t n = 0;

	if (!names || !dir) {
		if (dir)
			closedir(dir);
		return names;
	}
	while ((ent = readdir(dir)) != NULL) {
		size_t len = strlen(ent->d_name);
		char **grown;

		if (len <= 5 || strcmp(ent->d_name + len - 5, ".sock") != 0)
			continue;
		grown = realloc(names, (n + 2) * sizeof(*names));
		if (!grown)
			break;
		names = grown;
		names[n] = strndup(ent->d_name, len - 5);
		if (!names[n])
			break;
		names[++n] = NULL;
	}
	closedir(dir);
	qsort(names, n, sizeof(*names), compare_names);
	return names;
}

void cli_uapi_names_free(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

void cli_uapi_report(const char *ifname, int err)
{
	if (err == -ENOENT || err == -ECONNREFUSED)
		fprintf(stderr, "uniguard: %s: no such interface (nothing "
			"listens on %s/%s.sock)\n", ifname, UAPI_SOCKET_DIR,
			ifname);
	else if (err == -EPROTO)
		fprintf(stderr, "uniguard: %s: the daemon's answer was cut "
			"short\n", ifname);
	else
		fprintf(stderr, "uniguard: %s: %s/%s.sock: %s\n", ifname,
			UAPI_SOCKET_DIR, ifname, strerror(-err));
}
