/* SPDX-License-Identifier: MIT */
/*
 * The UAPI socket server (uapi_server.h), implementing the framing of the
 * cross-platform userspace API (https://www.wireguard.com/xplatform/): an
 * operation line, key=value lines, a blank line, and an answer ending in
 * "errno=N" and a blank line. Non-blocking throughout: a slow or stuck client
 * never holds up packets. Who may connect is checked here; the socket's
 * file is made and found by uapi_socket.c, and its removal watched here.
 */
#include "uapi_server.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto.h"
#include "log.h"
#include "uapi.h"
#include "uapi_socket.h"

/* The longest line `wg` sends is an endpoint with a scoped IPv6 address,
 * well under this. A longer one is not the protocol. */
#define UAPI_LINE_MAX 1024
/* Connections at once; `wg` opens one per command. */
#define UAPI_MAX_CLIENTS 32

enum uapi_op {
	UAPI_OP_NONE,
	UAPI_OP_GET,
	UAPI_OP_SET,
	UAPI_OP_STATS,
};

struct uapi_client {
	struct loop_source src;
	struct uapi_server *server;
	struct uapi_client *next;
	enum uapi_op op;
	/* set=1 in progress */
	struct wg_config cfg;
	struct wg_uapi_parser parser;
	int set_err;
	/* Unanswered input; wiped as it is consumed, since set lines carry
	 * private and preshared keys. */
	char in[UAPI_LINE_MAX];
	size_t in_len;
	struct wg_buf out;
	size_t out_off;
	bool closing;
	/* The one connection a launcher passed (boringtun's --uapi-fd):
	 * when it closes, the daemon goes. */
	bool lifeline;
};

struct uapi_server {
	struct loop_source listener;
	struct loop_source watch;
	int epfd;
	struct uapi_handler handler;
	struct uapi_client *clients;
	unsigned int n_clients;
	struct uapi_socket_file file;
	bool removed;
	bool closing;		/* uapi_server_close under way */
	/* Who may connect besides root: whoever created the socket, even
	 * after the daemon drops to an unprivileged user, so that other
	 * processes of that user never read the private key. */
	uid_t owner;
};

static void client_free(struct uapi_client *c)
{
	struct uapi_server *s = c->server;

	for (struct uapi_client **p = &s->clients; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	s->n_clients--;
	if (c->lifeline && !s->closing) {
		log_info("the passed UAPI connection closed: stopping");
		s->handler.removed(s->handler.ctx);
	}
	loop_del(s->epfd, &c->src);
	close(c->src.fd);
	if (c->op == UAPI_OP_SET)
		wg_config_clear(&c->cfg);
	wg_buf_clear(&c->out);
	wg_wipe(c, sizeof(*c));
	free(c);
}

/* Writes what it can; true when everything has gone. */
static bool client_flush(struct uapi_client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->src.fd, c->out.data + c->out_off,
				 c->out.len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return false;
			/* The client went away: nothing more to say. */
			c->closing = true;
			c->out_off = c->out.len;
			break;
		}
		c->out_off += (size_t)n;
	}
	/* The answer may have held keys (get=1 answers the private key). */
	wg_buf_clear(&c->out);
	c->out_off = 0;
	return true;
}

static void answer_errno(struct uapi_client *c, int err)
{
	wg_uapi_emit_errno(&c->out, err);
}

static void finish_set(struct uapi_client *c)
{
	struct uapi_server *s = c->server;
	struct wg_parse_error perr;
	int err = c->set_err;

	memset(&perr, 0, sizeof(perr));
	if (!err)
		err = wg_uapi_set_end(&c->parser);
	if (err) {
		perr = c->parser.err;
	} else {
		err = s->handler.set(s->handler.ctx, &c->cfg, &perr);
	}
	if (err) {
		if (perr.message[0])
			log_info("configuration change rejected: "
				 "line %u: %s: %s", perr.line,
				 perr.key[0] ? perr.key : "-", perr.message);
		else
			log_info("configuration change rejected: %s",
				 strerror(-err));
	}
	wg_config_clear(&c->cfg);
	answer_errno(c, err);
}

/* One line without its newline. */
static void handle_line(struct uapi_client *c, const char *line, size_t len)
{
	struct uapi_server *s = c->server;

	switch (c->op) {
	case UAPI_OP_NONE:
		if (len == 0)
			return;
		if (len == 5 && memcmp(line, "get=1", 5) == 0) {
			c->op = UAPI_OP_GET;
		} else if (len == 5 && memcmp(line, "set=1", 5) == 0) {
			c->op = UAPI_OP_SET;
			c->set_err = 0;
			wg_config_init(&c->cfg);
			wg_uapi_set_begin(&c->parser, &c->cfg);
			/* The parser counts this line too, so that errors name
			 * the lines as the client numbers them. */
			c->set_err = wg_uapi_set_line(&c->parser, line, len);
		} else if (len == 7 && memcmp(line, "stats=1", 7) == 0) {
			c->op = UAPI_OP_STATS;
		} else {
			/* Not an operation: no way to find the next request.
			 * The line itself is not quoted: it may be a key. */
			log_info("uapi: a request that is not get=1, set=1 or "
				 "stats=1: closing the connection");
			answer_errno(c, -EINVAL);
			c->closing = true;
		}
		return;
	case UAPI_OP_GET:
	case UAPI_OP_STATS:
		if (len != 0) {
			answer_errno(c, -EINVAL);
			c->closing = true;
		} else if (c->op == UAPI_OP_GET) {
			s->handler.get(s->handler.ctx, &c->out);
		} else {
			s->handler.stats(s->handler.ctx, &c->out);
		}
		c->op = UAPI_OP_NONE;
		return;
	case UAPI_OP_SET:
		if (len == 0) {
			finish_set(c);
			c->op = UAPI_OP_NONE;
			return;
		}
		/* After an error, read on to the blank line and answer once. */
		if (!c->set_err)
			c->set_err = wg_uapi_set_line(&c->parser, line, len);
		return;
	}
}

/* Handles every complete line buffered, stopping while an answer is still
 * being written so that answers keep their order. */
static void client_process(struct uapi_client *c)
{
	size_t start = 0;

	while (!c->closing && c->out.len == 0) {
		char *nl = memchr(c->in + start, '\n', c->in_len - start);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (c->in + start));
		handle_line(c, c->in + start, len);
		start += len + 1;
		if (c->out.len && !client_flush(c))
			break;
	}
	if (start) {
		memmove(c->in, c->in + start, c->in_len - start);
		c->in_len -= start;
		wg_wipe(c->in + c->in_len, sizeof(c->in) - c->in_len);
	}
	if (c->out.len == 0 && c->in_len == sizeof(c->in)) {
		/* No newline in a full buffer: not the protocol. What was
		 * buffered of a set is dropped unapplied (and wiped with the
		 * client). */
		log_info("uapi: a line longer than %d bytes: closing the "
			 "connection", UAPI_LINE_MAX - 1);
		answer_errno(c, -EMSGSIZE);
		(void)client_flush(c);
		c->closing = true;
	}
}

static void client_ready(struct loop_source *src, uint32_t events)
{
	struct uapi_client *c = (struct uapi_client *)src;
	bool eof = false;

	if (events & EPOLLOUT) {
		if (client_flush(c))
			client_process(c);
	}
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		while (!c->closing && c->in_len < sizeof(c->in)) {
			ssize_t n = recv(c->src.fd, c->in + c->in_len,
					 sizeof(c->in) - c->in_len,
					 MSG_DONTWAIT);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				eof = true;
				break;
			}
			c->in_len += (size_t)n;
			client_process(c);
			if (c->out.len)
				break;
		}
	}
	if (c->closing || (eof && c->out.len == 0)) {
		client_free(c);
		return;
	}
	if (eof) {
		/* Answer what was asked, then go. */
		c->closing = true;
	}
	(void)loop_mod(c->server->epfd, &c->src,
		       c->out.len ? EPOLLOUT : EPOLLIN);
}

/* The file's mode and its directory's keep others out already; this is
 * the check that holds when they do not (a descriptor passed on, a socket
 * file moved or its mode changed): get=1 answers the private key, set=1
 * changes who may join the network. Only root and the socket's owner may
 * talk to it. */
static bool client_allowed(const struct uapi_server *s, int fd)
{
	static const char refusal[] = "errno=-1\n\n";	/* EPERM */
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
	    len != sizeof(cred)) {
		/* A platform that cannot tell has no other users to tell
		 * apart (Nanos runs one process); anything else refuses. */
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP)
			return true;
		log_info("uapi: cannot tell who connected (%s): refused",
			 strerror(errno));
		return false;
	}
	if (cred.uid == 0 || cred.uid == s->owner)
		return true;
	if (s->owner == 0)
		log_info("uapi: refused a connection from uid %u (pid %d): "
			 "only root may use %s", (unsigned int)cred.uid,
			 (int)cred.pid, s->file.path);
	else
		log_info("uapi: refused a connection from uid %u (pid %d): "
			 "only root and uid %u may use %s",
			 (unsigned int)cred.uid, (int)cred.pid,
			 (unsigned int)s->owner, s->file.path);
	/* Best effort: wg prints "Operation not permitted" if it reads this;
	 * the connection closes either way. */
	(void)!send(fd, refusal, sizeof(refusal) - 1,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
	return false;
}

/* A connection to serve, fd non-blocking; closed on failure. 0 or
 * -errno. */
static int client_add(struct uapi_server *s, int fd, bool lifeline)
{
	struct uapi_client *c;
	int ret;

	if (s->n_clients >= UAPI_MAX_CLIENTS) {
		/* Clients that connect and never finish must not lock the
		 * interface out of its configuration for good: the oldest
		 * connection (the list's last) goes, never the lifeline. */
		struct uapi_client *oldest = NULL;

		for (c = s->clients; c; c = c->next) {
			if (!c->lifeline)
				oldest = c;
		}
		log_info("uapi: %d connections open: closing the oldest",
			 UAPI_MAX_CLIENTS);
		if (oldest)
			client_free(oldest);
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->src.fd = fd;
	c->src.ready = client_ready;
	c->server = s;
	c->lifeline = lifeline;
	ret = loop_add(s->epfd, &c->src, EPOLLIN);
	if (ret < 0) {
		close(fd);
		free(c);
		return ret;
	}
	c->next = s->clients;
	s->clients = c;
	s->n_clients++;
	return 0;
}

static void listener_ready(struct loop_source *src, uint32_t events)
{
	struct uapi_server *s = (struct uapi_server *)src;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(s->listener.fd, NULL, NULL,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;
		}
		if (!client_allowed(s, fd)) {
			close(fd);
			continue;
		}
		(void)client_add(s, fd, false);
	}
}

/* Tells the daemon when someone (wg-quick down on some platforms) removes
 * the socket file: that is how a userspace interface is asked to go. */
static void watch_ready(struct loop_source *src, uint32_t events)
{
	struct uapi_server *s = (struct uapi_server *)((char *)src -
		offsetof(struct uapi_server, watch));
	union {
		char buf[4096];
		struct inotify_event align;
	} u;
	ssize_t n;

	(void)events;
	while ((n = read(s->watch.fd, u.buf, sizeof(u.buf))) > 0) {
		for (char *p = u.buf; p < u.buf + n;) {
			struct inotify_event ev;

			memcpy(&ev, p, sizeof(ev));
			if (ev.len && strcmp(p + sizeof(ev), s->file.name) == 0 &&
			    !s->removed) {
				s->removed = true;
				log_info("%s was removed", s->file.path);
				s->handler.removed(s->handler.ctx);
			}
			p += sizeof(ev) + ev.len;
		}
	}
}

/* Watches the socket file's directory for its removal. Optional: a
 * platform without inotify just never notices. */
static void watch_file(struct uapi_server *s)
{
	s->watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->watch.fd < 0)
		return;
	if (inotify_add_watch(s->watch.fd, s->file.dir,
			      IN_DELETE | IN_MOVED_FROM) < 0 ||
	    loop_add(s->epfd, &s->watch, EPOLLIN) < 0) {
		close(s->watch.fd);
		s->watch.fd = -1;
	}
}

static struct uapi_server *server_new(int epfd,
				      const struct uapi_handler *handler)
{
	struct uapi_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->epfd = epfd;
	s->handler = *handler;
	s->owner = geteuid();
	s->listener.fd = -1;
	s->listener.ready = listener_ready;
	s->watch.fd = -1;
	s->watch.ready = watch_ready;
	return s;
}

int uapi_server_adopt(struct uapi_server **out, int fd, int epfd,
		      const struct uapi_handler *handler)
{
	struct uapi_server *s;
	int type = 0, listening = 0, flags, ret;
	socklen_t len = sizeof(type);

	*out = NULL;
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	len = sizeof(listening);
	if (type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return -ENOTSOCK;
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return -errno;
	s = server_new(epfd, handler);
	if (!s)
		return -ENOMEM;
	if (!listening) {
		/* boringtun's meaning: one conversation, for as long as the
		 * launcher keeps its end open. */
		ret = client_add(s, fd, true);
		if (ret) {
			free(s);
			return ret;
		}
		*out = s;
		return 0;
	}
	/* wireguard-go's: the listening socket of IFNAME.sock. */
	s->listener.fd = fd;
	ret = loop_add(epfd, &s->listener, EPOLLIN);
	if (ret) {
		free(s);
		return ret;
	}
	uapi_socket_adopt(&s->file, fd);
	if (s->file.path[0])
		watch_file(s);
	*out = s;
	return 0;
}

int uapi_server_open(struct uapi_server **out, const char *ifname, int epfd,
		     const struct uapi_handler *handler)
{
	struct uapi_server *s;
	int ret;

	*out = NULL;
	s = server_new(epfd, handler);
	if (!s)
		return -ENOMEM;
	ret = uapi_socket_listen(&s->file, ifname);
	if (ret < 0) {
		free(s);
		return ret;
	}
	s->listener.fd = ret;
	ret = loop_add(epfd, &s->listener, EPOLLIN);
	if (ret) {
		unlink(s->file.path);
		close(s->listener.fd);
		free(s);
		return ret;
	}
	watch_file(s);
	*out = s;
	return 0;
}

void uapi_server_close(struct uapi_server *s)
{
	if (!s)
		return;
	s->closing = true;
	while (s->clients)
		client_free(s->clients);
	if (s->watch.fd >= 0) {
		loop_del(s->epfd, &s->watch);
		close(s->watch.fd);
	}
	if (s->listener.fd >= 0) {
		loop_del(s->epfd, &s->listener);
		close(s->listener.fd);
	}
	if (s->file.path[0] && !s->removed && unlink(s->file.path) < 0 &&
	    errno != ENOENT) {
		/* Without privileges the directory is not ours to write: the
		 * root helper left behind for this removes it once we are
		 * gone, and failing that the next start or `wg` does. */
		log_debug("%s: %s (removed after exit)", s->file.path,
			  strerror(errno));
	}
	free(s);
}

const char *uapi_server_path(const struct uapi_server *s)
{
	return s->file.path[0] ? s->file.path : NULL;
}
