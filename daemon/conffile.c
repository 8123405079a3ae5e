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
#include "log.h"
#include "uapi.h"
#include "wgconf.h"

/* Far beyond any real configuration, small enough to refuse a wrong file. */
#define CONFFILE_MAX (64u << 20)

static char *read_all(const char *path, size_t *len, mode_t *mode)
{
	struct stat st;
	char *buf = NULL;
	size_t cap, got = 0;
	int fd;

	/* Non-blocking so that a FIFO (or a device) named by mistake is
	 * refused below instead of hanging the start; regular files ignore
	 * the flag. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		goto fail;
	}
	*mode = st.st_mode;
	if ((unsigned long long)st.st_size > CONFFILE_MAX) {
		errno = EFBIG;
		goto fail;
	}
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		goto fail;
	while (got < cap - 1) {
		ssize_t n = read(fd, buf + got, cap - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	*len = got;
	return buf;
fail:
	{
		int err = errno;

		if (buf) {
			wg_wipe(buf, got);
			free(buf);
		}
		close(fd);
		errno = err;
	}
	return NULL;
}

/* The user's text for a diagnostic: cut to fit, and without anything long
 * enough to be a key (the wrong line of a file may hold one). */
static const char *quoted(const char *text, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", text);
	log_redact(buf);
	return buf;
}

/* A file that holds private keys should be its owner's alone, as wg(8)
 * and wg-quick(8) keep theirs: say so, naming the file and its mode. */
static void warn_if_exposed(const char *path, mode_t mode)
{
	if (!(mode & (S_IRWXG | S_IRWXO)))
		return;
	log_error("warning: %s is accessible to %s (mode %04o) and may hold "
		  "private keys: chmod 600 it", path,
		  (mode & S_IRWXO) ? "others" : "its group",
		  (unsigned int)(mode & 07777));
}

/* "host:port" or "[host]:port" into the peer's endpoint. */
static int resolve_endpoint(struct wg_config_peer *peer, const char *path)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
	};
	struct addrinfo *res = NULL, *ai;
	char host[256], shown[128];
	const char *text = peer->endpoint_host, *colon, *port;
	size_t hlen;
	int ret;

	colon = strrchr(text, ':');
	if (!colon || !colon[1])
		goto bad;
	port = colon + 1;
	if (text[0] == '[') {
		if (colon == text || colon[-1] != ']')
			goto bad;
		text++;
		hlen = (size_t)(colon - 1 - text);
	} else {
		hlen = (size_t)(colon - text);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, text, hlen);
	host[hlen] = '\0';

	ret = getaddrinfo(host, port, &hints, &res);
	if (ret) {
		fprintf(stderr, "%s:%u: Endpoint: cannot resolve '%s': %s\n",
			path, peer->line, quoted(peer->endpoint_host, shown,
						 sizeof(shown)),
			gai_strerror(ret));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET &&
		    ai->ai_addrlen == sizeof(struct sockaddr_in))
			break;
		if (ai->ai_family == AF_INET6 &&
		    ai->ai_addrlen == sizeof(struct sockaddr_in6))
			break;
	}
	if (!ai) {
		freeaddrinfo(res);
		goto bad;
	}
	memset(&peer->endpoint, 0, sizeof(peer->endpoint));
	memcpy(&peer->endpoint.addr, ai->ai_addr, ai->ai_addrlen);
	freeaddrinfo(res);
	peer->flags &= ~(uint32_t)WG_PEER_HAS_ENDPOINT_HOST;
	peer->flags |= WG_PEER_HAS_ENDPOINT;
	return 0;
bad:
	fprintf(stderr, "%s:%u: Endpoint: '%s' is not host:port\n", path,
		peer->line, quoted(peer->endpoint_host, shown, sizeof(shown)));
	return -1;
}

int conffile_load(const char *path, struct wg_config *cfg,
		  enum wg_config_format *format)
{
	struct wg_parse_error err;
	mode_t mode = 0;
	char *text;
	size_t len = 0;
	int ret = -1;

	wg_config_init(cfg);
	text = read_all(path, &len, &mode);
	if (!text) {
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
	wg_wipe(text, len);
	free(text);
	return ret;
}
