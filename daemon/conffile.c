/* SPDX-License-Identifier: MIT */
/*
 * Loading the -c file (conffile.h): the cross-platform UAPI "set" text
 * (https://www.wireguard.com/xplatform/) or a wg-quick(8) INI file, parsed by
 * the core; Endpoint host names, which only the INI form may carry, are
 * resolved here as `wg` would resolve them.
 */
#include "conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "endpoint.h"
#include "log.h"
#include "redact.h"
#include "uapi.h"
#include "wgconf.h"

/* Far beyond any real configuration, small enough to refuse a wrong file. */
#define CONFFILE_MAX (64u << 20)

static void free_wiped(char *buf, size_t cap)
{
	if (buf) {
		wg_wipe(buf, cap);
		free(buf);
	}
}

/* The whole of fd, NUL-terminated, in a buffer of *cap bytes that no copy
 * outlives unwiped; NULL with errno set. */
static char *read_fd(int fd, size_t size_hint, size_t *len, size_t *cap)
{
	size_t n = 0;
	char *buf;

	/* Room for a regular file's whole size and the read that finds
	 * its end. */
	*cap = size_hint + 2 > 4096 ? size_hint + 2 : 4096;
	buf = malloc(*cap);
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t r;

		if (n + 1 == *cap) {
			char *grown;

			if (n >= CONFFILE_MAX) {
				free_wiped(buf, *cap);
				errno = EFBIG;
				return NULL;
			}
			grown = malloc(2 * *cap);
			if (!grown) {
				free_wiped(buf, *cap);
				errno = ENOMEM;
				return NULL;
			}
			memcpy(grown, buf, n);
			free_wiped(buf, *cap);
			buf = grown;
			*cap *= 2;
		}
		do
			r = read(fd, buf + n, *cap - n - 1);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			int saved = errno;

			free_wiped(buf, *cap);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* A regular file, or "-" for standard input. */
static char *read_all(const char *path, size_t *len, size_t *cap,
		      mode_t *mode)
{
	struct stat st;
	char *buf = NULL;
	int fd, err;

	if (strcmp(path, "-") == 0) {
		*mode = 0;
		return read_fd(STDIN_FILENO, 0, len, cap);
	}
	/* Non-blocking so that a FIFO (or a device) named by mistake is
	 * refused below instead of hanging the start; regular files ignore
	 * the flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto out;
	}
	*mode = st.st_mode;
	if ((unsigned long long)st.st_size > CONFFILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	buf = read_fd(fd, (size_t)st.st_size, len, cap);
out:
	err = errno;
	close(fd);
	errno = err;
	return buf;
}

/* The user's text for a diagnostic, in quotes, without anything long
 * enough to be a key (the wrong line of a file may hold one); too long to
 * show whole, its start and its length. */
static const char *quoted(const char *text, char *buf, size_t cap)
{
	size_t len = strlen(text);

	if (len <= WG_QUOTE_MAX)
		snprintf(buf, cap, "'%s'", text);
	else
		snprintf(buf, cap, "'%.*s...' (%zu characters)",
			 WG_QUOTE_START, text, len);
	log_redact(buf);
	return buf;
}

/* A file that holds private keys should be its owner's alone, as wg(8)
 * and wg-quick(8) keep theirs: say so, naming the file and its mode. */
static void warn_if_exposed(const char *path, mode_t mode)
{
	if (!(mode & (S_IRWXG | S_IRWXO)))
		return;
	log_warn("%s is accessible to %s (mode %04o) and may hold "
		 "private keys: chmod 600 it", path,
		 (mode & S_IRWXO) ? "others" : "its group",
		 (unsigned int)(mode & 07777));
}

/* "host:port" or "[host]:port" into the peer's endpoint: the first
 * address getaddrinfo gives for a UDP socket, as wg resolves it. */
static int resolve_endpoint(struct wg_config_peer *peer, const char *path)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res = NULL, *ai;
	char host[256], port[16], shown[128];
	const char *text = peer->endpoint_host, *h, *p;
	size_t hlen, plen;
	int ret;

	if (!wg_endpoint_split(text, strlen(text), &h, &hlen, &p, &plen) ||
	    hlen == 0 || hlen >= sizeof(host) || plen == 0 ||
	    plen >= sizeof(port))
		goto bad;
	if (wg_holds_whole_key(h, hlen)) {
		fprintf(stderr, "%s:%u: Endpoint: a key, not a host name "
			"(not shown, not looked up)\n", path, peer->line);
		return -1;
	}
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, p, plen);
	port[plen] = '\0';

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		fprintf(stderr, "%s:%u: Endpoint: cannot resolve %s: %s\n",
			path, peer->line, quoted(peer->endpoint_host, shown,
						 sizeof(shown)),
			ret == EAI_SYSTEM ? strerror(errno) :
					    gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (wg_endpoint_from_sockaddr(&peer->endpoint, ai->ai_addr,
					      ai->ai_addrlen))
			break;
	}
	freeaddrinfo(res);
	if (!ai)
		goto bad;
	peer->flags &= ~(uint32_t)WG_PEER_HAS_ENDPOINT_HOST;
	peer->flags |= WG_PEER_HAS_ENDPOINT;
	return 0;
bad:
	fprintf(stderr, "%s:%u: Endpoint: %s is not host:port\n", path,
		peer->line, quoted(peer->endpoint_host, shown, sizeof(shown)));
	return -1;
}

int conffile_load(const char *path, struct wg_config *cfg,
		  enum wg_config_format *format)
{
	struct wg_parse_error err;
	mode_t mode = 0;
	char *text;
	size_t len = 0, cap = 0;
	int ret = -1;

	wg_config_init(cfg);
	text = read_all(path, &len, &cap, &mode);
	if (strcmp(path, "-") == 0)
		path = "<stdin>";
	if (!text) {
		if (errno == EFBIG)
			fprintf(stderr, "%s: File too large (the limit is %u "
				"MiB)\n", path, CONFFILE_MAX >> 20);
		else
			fprintf(stderr, "%s: %s\n", path, errno == EINVAL ?
				"not a regular file" : strerror(errno));
		return -1;
	}
	warn_if_exposed(path, mode);
	memset(&err, 0, sizeof(err));
	*format = wg_config_detect(text, len);
	switch (*format) {
	case WG_CONFIG_FORMAT_UAPI:
		ret = wg_uapi_parse_set(text, len, cfg, &err);
		break;
	case WG_CONFIG_FORMAT_INI:
		ret = wg_conf_parse(text, len, cfg, &err);
		break;
	default:
		fprintf(stderr, "%s:1: neither UAPI set lines nor a wg-quick "
			"file with an [Interface] section\n", path);
		goto out;
	}
	if (ret) {
		/* The core quotes short values only, but a key without its
		 * padding is short enough. */
		log_redact(err.message);
		if (err.key[0])
			fprintf(stderr, "%s:%u: %s: %s\n", path, err.line,
				err.key, err.message);
		else
			fprintf(stderr, "%s:%u: %s\n", path, err.line,
				err.message[0] ? err.message : strerror(-ret));
		ret = -1;
		goto out;
	}
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wg_config_peer *peer = &cfg->peers[i];

		if ((peer->flags & WG_PEER_HAS_ENDPOINT_HOST) &&
		    peer->endpoint_host &&
		    resolve_endpoint(peer, path) < 0) {
			ret = -1;
			goto out;
		}
	}
	ret = 0;
out:
	/* The file held the private key. */
	free_wiped(text, cap);
	return ret;
}
