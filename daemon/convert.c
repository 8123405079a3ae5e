/* SPDX-License-Identifier: MIT */
/*
 * `uniguard convert FILE`: reads a wg-quick file (wg(8) "CONFIGURATION FILE
 * FORMAT") and prints the cross-platform UAPI set transaction
 * (https://www.wireguard.com/xplatform/) that `wg setconf` sends for it,
 * the form a `-c` file may also take. A file already in that form is
 * checked and printed again. Host names in Endpoint are resolved here, as
 * wg resolves them before it sends.
 *
 * The file holds a private key: it is read with read(2) rather than stdio,
 * so that no library buffer keeps a copy, and every buffer is wiped.
 */
#include "convert.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "endpoint.h"
#include "uapi.h"
#include "wgconf.h"

/* No configuration file is anywhere near this. */
#define CONVERT_MAX_INPUT (16u << 20)

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: uniguard convert FILE\n"
		"\n"
		"Prints the wg-quick file FILE (\"-\" for standard input)\n"
		"as the UAPI set transaction that `wg setconf` sends for\n"
		"it.\n");
}

static void free_wiped(char *buf, size_t cap)
{
	if (buf) {
		wg_wipe(buf, cap);
		free(buf);
	}
}

/* The whole of fd in a NUL-terminated buffer; NULL with errno set. */
static char *read_all(int fd, size_t *len, size_t *cap_out)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 1 == cap) {
			char *grown;

			if (cap >= CONVERT_MAX_INPUT) {
				free_wiped(buf, cap);
				errno = EFBIG;
				return NULL;
			}
			grown = malloc(2 * cap);
			if (!grown) {
				free_wiped(buf, cap);
				errno = ENOMEM;
				return NULL;
			}
			memcpy(grown, buf, n);
			free_wiped(buf, cap);
			buf = grown;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;

			free_wiped(buf, cap);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	*cap_out = cap;
	return buf;
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		data += w;
		len -= (size_t)w;
	}
	return true;
}

static void report(const char *name, const struct wg_parse_error *err)
{
	if (err->line && err->key[0])
		fprintf(stderr, "%s:%u: %s: %s\n", name, err->line, err->key,
			err->message);
	else if (err->line)
		fprintf(stderr, "%s:%u: %s\n", name, err->line, err->message);
	else
		fprintf(stderr, "%s: %s\n", name, err->message);
}

/* Resolves one peer's Endpoint name as wg does: the first address
 * getaddrinfo gives for a UDP socket. */
static bool resolve_peer(const char *name, struct wg_config_peer *peer)
{
	const char *text = peer->endpoint_host, *host, *port;
	size_t host_len, port_len;
	char *h = NULL, *s = NULL;
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res = NULL, *ai;
	bool ok = false;
	int ret;

	if (!wg_endpoint_split(text, strlen(text), &host, &host_len, &port,
			       &port_len))
		goto out;
	h = strndup(host, host_len);
	s = strndup(port, port_len);
	if (!h || !s) {
		fprintf(stderr, "%s: out of memory\n", name);
		goto out;
	}
	ret = getaddrinfo(h, s, &hints, &res);
	if (ret) {
		fprintf(stderr, "%s:%u: Endpoint: cannot resolve `%s': %s\n",
			name, peer->line, text,
			ret == EAI_SYSTEM ? strerror(errno) :
					    gai_strerror(ret));
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (wg_endpoint_from_sockaddr(&peer->endpoint, ai->ai_addr,
					      ai->ai_addrlen)) {
			peer->flags |= WG_PEER_HAS_ENDPOINT;
			ok = true;
			break;
		}
	}
	if (!ok)
		fprintf(stderr, "%s:%u: Endpoint: `%s' has no IPv4 or IPv6 "
			"address\n", name, peer->line, text);
out:
	if (res)
		freeaddrinfo(res);
	free(h);
	free(s);
	return ok;
}

int uniguard_convert_main(int argc, char **argv)
{
	const char *path, *name;
	struct wg_parse_error err = { 0 };
	struct wg_config cfg;
	struct wg_buf out = { 0 };
	char *text = NULL;
	size_t len = 0, cap = 0;
	int fd, ret = 1, parsed;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		print_usage(stdout);
		return 0;
	}
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		print_usage(stderr);
		return 2;
	}
	path = argv[1];
	name = strcmp(path, "-") == 0 ? "<stdin>" : path;

	wg_config_init(&cfg);
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "%s: %s\n", name, strerror(errno));
			goto out;
		}
	}
	text = read_all(fd, &len, &cap);
	if (!text)
		fprintf(stderr, "%s: %s\n", name, strerror(errno));
	if (fd != STDIN_FILENO)
		close(fd);
	if (!text)
		goto out;

	if (wg_config_detect(text, len) == WG_CONFIG_FORMAT_UAPI)
		parsed = wg_uapi_parse_set(text, len, &cfg, &err);
	else
		parsed = wg_conf_parse(text, len, &cfg, &err);
	if (parsed) {
		report(name, &err);
		goto out;
	}
	for (size_t i = 0; i < cfg.n_peers; i++) {
		struct wg_config_peer *peer = &cfg.peers[i];

		if ((peer->flags & WG_PEER_HAS_ENDPOINT_HOST) &&
		    !(peer->flags & WG_PEER_HAS_ENDPOINT) &&
		    !resolve_peer(name, peer))
			goto out;
	}

	wg_uapi_emit_set(&out, &cfg);
	if (out.oom) {
		fprintf(stderr, "%s: out of memory\n", name);
		goto out;
	}
	if (!write_all(STDOUT_FILENO, out.data, out.len)) {
		fprintf(stderr, "uniguard convert: writing: %s\n",
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free_wiped(text, cap);
	wg_buf_clear(&out);
	wg_config_clear(&cfg);
	return ret;
}
