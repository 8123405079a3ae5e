/* SPDX-License-Identifier: MIT */
/*
 * The operations listener (ops_http.h): HTTP/1.1 (RFC 9112) over plain TCP
 * sockets and poll(2), which Nanos's lwIP sockets have as Linux does.
 *
 * Why a thread of its own and not the event loop: the loop runs every
 * source but the packet path's with the core's lock held, so a socket read
 * there would hold the lock, and a burst of connections would delay the
 * core's timers. Here the lock is taken only to copy a snapshot (stats.h)
 * or read the health (health.h); parsing, rendering and every system call
 * run without it.
 *
 * Why it stays small under a flood: the connections live in a fixed array,
 * each with one request buffer of HTTP_REQUEST_HEAD_MAX bytes and the
 * answer to one request; a connection beyond the cap evicts the one that
 * has waited longest for its request, so a slowloris client cannot keep a
 * health check out for longer than it takes to send a request. Every
 * connection has a deadline, and each is answered once and closed.
 */
#include "ops_http.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_state.h"
#include "endpoint.h"
#include "health.h"
#include "http_request.h"
#include "log.h"
#include "metrics.h"
#include "stats.h"
#include "sysio.h"

/* Connections the kernel completes for us before we accept them: what a
 * burst may bring while the thread waits for a CPU. */
#define OPS_HTTP_BACKLOG 128
/* Connections taken from the backlog in one turn, so that those already
 * held are served between bursts. */
#define ACCEPTS_PER_TURN 32
/* After the answer: how long unread bytes are drained (closing with them
 * unread would reset the connection, and the client might lose the
 * answer). */
#define DRAIN_TIMEOUT_MS 1000
/* Reads of one connection in one turn: more than a whole head takes. */
#define READS_PER_TURN (HTTP_REQUEST_HEAD_MAX / 512 + 2)

enum conn_state { CONN_FREE, CONN_READING, CONN_WRITING, CONN_DRAINING };

struct conn {
	enum conn_state state;
	int fd;
	uint64_t accepted;	/* monotonic ns, for eviction */
	uint64_t deadline;	/* monotonic ns */
	struct http_request req;
	struct wg_buf out;
	size_t sent;
};

struct ops_http {
	struct daemon *d;
	int listen_fd;
	int wake_fd;		/* eventfd: stop */
	pthread_t thread;
	bool started;
	struct conn conns[OPS_HTTP_CONNS_MAX];
};

static uint64_t ms_ns(unsigned int ms)
{
	return (uint64_t)ms * 1000000u;
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	c->fd = -1;
	wg_buf_clear(&c->out);
	c->state = CONN_FREE;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* The whole answer: head and body. */
static void answer(struct conn *c, int status, const char *type,
		   const char *body, size_t len)
{
	wg_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		      "Content-Length: %zu\r\nConnection: close\r\n"
		      "Cache-Control: no-store\r\n%s\r\n", status,
		      status_text(status), type, len,
		      status == 405 ? "Allow: GET\r\n" : "");
	wg_buf_append(&c->out, body, len);
}

static void answer_text(struct conn *c, int status, const char *text)
{
	char body[128];
	int n = snprintf(body, sizeof(body), "%s\n", text);

	answer(c, status, "text/plain; charset=utf-8", body, (size_t)n);
}

static void answer_metrics(struct ops_http *h, struct conn *c)
{
	struct stats_snapshot snap;
	struct wg_buf page = { 0 };

	pthread_mutex_lock(&h->d->lock);
	stats_snapshot_take(h->d, &snap);
	pthread_mutex_unlock(&h->d->lock);
	metrics_render(&snap, &page);
	stats_snapshot_clear(&snap);
	if (page.oom)
		answer_text(c, 503, "out of memory");
	else
		answer(c, 200, METRICS_CONTENT_TYPE, page.data, page.len);
	wg_buf_clear(&page);
}

/* The request is complete (or refused): its answer, sent from now on. */
static void serve(struct ops_http *h, struct conn *c, uint64_t now)
{
	const struct http_request *r = &c->req;

	if (r->state == HTTP_REQUEST_REFUSED) {
		answer_text(c, r->status, status_text(r->status));
	} else if (strcmp(r->path, "/healthz") == 0) {
		const char *why = health_check(h->d);

		answer_text(c, why ? 503 : 200, why ? why : "ok");
	} else if (strcmp(r->path, "/metrics") == 0) {
		answer_metrics(h, c);
	} else {
		answer_text(c, 404, "not found: try /healthz or /metrics");
	}
	if (c->out.oom) {
		conn_close(c);
		return;
	}
	c->state = CONN_WRITING;
	c->sent = 0;
	c->deadline = now + ms_ns(OPS_HTTP_WRITE_TIMEOUT_MS);
}

/* After a non-blocking recv or send of c returned n: 1 when bytes moved,
 * 0 to try again (a signal), -1 to stop for now (nothing waiting, or the
 * peer gone or in error, and then c is closed). */
static int io_step(struct conn *c, ssize_t n)
{
	if (n > 0)
		return 1;
	if (n < 0 && errno == EINTR)
		return 0;
	if (!(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
		conn_close(c);
	return -1;
}

static void conn_read(struct ops_http *h, struct conn *c, uint64_t now)
{
	char buf[512];
	int step;

	/* A head fills the parser in a few reads; draining stops after as
	 * many, so that a fast sender cannot keep the thread here. */
	for (int reads = 0; reads < READS_PER_TURN; reads++) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);

		step = io_step(c, n);
		/* Nothing more yet; or closed before asking, or an error:
		 * nobody to answer then. */
		if (step < 0)
			return;
		if (step == 0)
			continue;
		if (c->state == CONN_DRAINING)
			continue;
		if (http_request_feed(&c->req, buf, (size_t)n) !=
		    HTTP_REQUEST_MORE) {
			serve(h, c, now);
			return;
		}
	}
}

static void conn_write(struct conn *c, uint64_t now)
{
	int step;

	while (c->sent < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->sent,
				 c->out.len - c->sent,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		step = io_step(c, n);
		if (step < 0)
			return;
		if (step == 0)
			continue;
		c->sent += (size_t)n;
	}
	/* All sent: our side is done; read what the client still sends
	 * until it closes, briefly. */
	wg_buf_clear(&c->out);
	(void)shutdown(c->fd, SHUT_WR);
	c->state = CONN_DRAINING;
	c->deadline = now + ms_ns(DRAIN_TIMEOUT_MS);
}

/* Past its deadline: a request still unfinished is told so, best effort
 * (one send that may not block); the rest are just closed. */
static void conn_expire(struct conn *c)
{
	static const char timeout[] = "HTTP/1.1 408 Request Timeout\r\n"
				      "Content-Length: 0\r\n"
				      "Connection: close\r\n\r\n";

	if (c->state == CONN_READING)
		(void)!send(c->fd, timeout, sizeof(timeout) - 1,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
	conn_close(c);
}

/* A slot for a new connection: a free one, or else the one that has
 * waited longest for its request (or its client's close); NULL when all
 * are being answered. */
static struct conn *take_slot(struct ops_http *h)
{
	struct conn *oldest = NULL;

	for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++) {
		struct conn *c = &h->conns[i];

		if (c->state == CONN_FREE)
			return c;
		if (c->state == CONN_WRITING)
			continue;
		/* Draining ones first: they have had their answer. */
		if (!oldest ||
		    (c->state == CONN_DRAINING) >
			    (oldest->state == CONN_DRAINING) ||
		    ((c->state == CONN_DRAINING) ==
			     (oldest->state == CONN_DRAINING) &&
		     c->accepted < oldest->accepted))
			oldest = c;
	}
	if (oldest)
		conn_expire(oldest);
	return oldest;
}

static void accept_some(struct ops_http *h, uint64_t now)
{
	for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
		struct conn *c;
		int fd = accept4(h->listen_fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			/* EAGAIN, or out of descriptors (EMFILE): the
			 * backlog keeps them until a slot frees. */
			return;
		}
		c = take_slot(h);
		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->state = CONN_READING;
		c->accepted = now;
		c->deadline = now + ms_ns(OPS_HTTP_READ_TIMEOUT_MS);
		http_request_init(&c->req);
		memset(&c->out, 0, sizeof(c->out));
	}
}

/* poll's timeout for the nearest deadline, rounded up; -1 for none. */
static int next_timeout(const struct ops_http *h, uint64_t now)
{
	uint64_t nearest = UINT64_MAX;

	for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++)
		if (h->conns[i].state != CONN_FREE &&
		    h->conns[i].deadline < nearest)
			nearest = h->conns[i].deadline;
	if (nearest == UINT64_MAX)
		return -1;
	if (nearest <= now)
		return 0;
	return (int)((nearest - now + 999999u) / 1000000u);
}

static void *serve_thread(void *arg)
{
	struct ops_http *h = arg;
	/* The wake-up, the listener, then one per connection slot. */
	struct pollfd pfd[2 + OPS_HTTP_CONNS_MAX];
	struct conn *polled[2 + OPS_HTTP_CONNS_MAX];

	for (;;) {
		uint64_t now = netdev_now_ns();
		nfds_t n = 2;
		int ready;

		pfd[0] = (struct pollfd){ .fd = h->wake_fd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = h->listen_fd, .events = POLLIN };
		for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++) {
			struct conn *c = &h->conns[i];

			if (c->state == CONN_FREE)
				continue;
			pfd[n] = (struct pollfd){
				.fd = c->fd,
				.events = c->state == CONN_WRITING ? POLLOUT :
								     POLLIN,
			};
			polled[n++] = c;
		}
		ready = poll(pfd, n, next_timeout(h, now));
		if (ready < 0 && errno != EINTR) {
			log_error("operations listener: poll: %s",
				  strerror(errno));
			break;
		}
		if (ready > 0 && pfd[0].revents)
			break;
		now = netdev_now_ns();
		for (nfds_t i = 2; ready > 0 && i < n; i++) {
			struct conn *c = polled[i];

			if (!pfd[i].revents || c->state == CONN_FREE)
				continue;
			if (c->state == CONN_WRITING)
				conn_write(c, now);
			else
				conn_read(h, c, now);
			/* Answered at once when the socket takes it. */
			if (c->state == CONN_WRITING)
				conn_write(c, now);
		}
		for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++) {
			struct conn *c = &h->conns[i];

			if (c->state != CONN_FREE && c->deadline <= now)
				conn_expire(c);
		}
		if (ready > 0 && pfd[1].revents)
			accept_some(h, now);
	}
	return NULL;
}

int ops_http_open(struct ops_http **out, const char *addr, struct daemon *d)
{
	struct ops_http *h;
	struct wg_endpoint ep;
	socklen_t alen;
	int one = 1, ret;

	*out = NULL;
	if (!wg_endpoint_parse(&ep, addr, strlen(addr)))
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->d = d;
	h->wake_fd = -1;
	for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++)
		h->conns[i].fd = -1;
	alen = ep.addr.sa.sa_family == AF_INET6 ? sizeof(ep.addr.sin6) :
						  sizeof(ep.addr.sin);
	h->listen_fd = socket(ep.addr.sa.sa_family,
			      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->listen_fd < 0)
		goto fail;
	/* A restarted gateway binds again at once. */
	(void)setsockopt(h->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
			 sizeof(one));
	if (bind(h->listen_fd, &ep.addr.sa, alen) < 0 ||
	    listen(h->listen_fd, OPS_HTTP_BACKLOG) < 0)
		goto fail;
	h->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->wake_fd < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	ret = -errno;
	ops_http_close(h);
	return ret;
}

int ops_http_start(struct ops_http *h)
{
	int ret = pthread_create(&h->thread, NULL, serve_thread, h);

	if (ret)
		return -ret;
	h->started = true;
	return 0;
}

void ops_http_close(struct ops_http *h)
{
	if (!h)
		return;
	if (h->started) {
		(void)!write(h->wake_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(h->thread, NULL);
	}
	for (size_t i = 0; i < OPS_HTTP_CONNS_MAX; i++)
		if (h->conns[i].state != CONN_FREE)
			conn_close(&h->conns[i]);
	if (h->listen_fd >= 0)
		close(h->listen_fd);
	if (h->wake_fd >= 0)
		close(h->wake_fd);
	free(h);
}
