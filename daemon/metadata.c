/* SPDX-License-Identifier: MIT */
/*
 * The metadata client (metadata.h). Plain HTTP/1.1 over TCP to
 * 169.254.169.254:80, as Compute Engine documents its metadata server: no
 * name to resolve (Nanos has no resolver to ask), every request with
 * `Metadata-Flavor: Google` (the server answers 403 without it), every
 * answer checked for the same header. A value is awaited with
 * `?wait_for_change=true&last_etag=ETAG&timeout_sec=N`: the server holds
 * the request until the value's ETag differs from ours, or for N seconds.
 *
 * One thread, its socket non-blocking, every wait a poll() with a deadline
 * that also watches the stop descriptor, so that a server that hangs, or
 * drips bytes, costs this thread time and nothing else. The core's lock is
 * taken only to apply a change that is already parsed and checked.
 */
#include "metadata.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "apply.h"
#include "crypto.h"
#include "daemon_state.h"
#include "event_loop.h"
#include "http_response.h"
#include "log.h"
#include "metadata_peers.h"
#include "sysio.h"

#define METADATA_ADDR "169.254.169.254"
#define METADATA_PORT 80
#define CONNECT_TIMEOUT_MS 5000
/* Beyond timeout_sec, for the server's own delay and a slow link: a
 * quarter of it, between 1.5 and 10 s. */
#define ANSWER_SLACK_MIN_MS 1500
#define ANSWER_SLACK_MAX_MS 10000
/* Without an instance attribute the project's is watched for this long,
 * and then the instance asked again; with neither, both are asked again
 * after it. */
#define FALLBACK_SEC 5

enum source { SOURCE_NONE, SOURCE_INSTANCE, SOURCE_PROJECT };

struct metadata {
	struct daemon *d;
	struct metadata_options opts;
	char attr[METADATA_ATTRIBUTE_MAX + 1];
	struct wg_config fixed;		/* the file's peers: keys only */
	/* What the attribute said last, and the peers metadata added (it
	 * owns them: metadata_peers.h). Written by this thread under the
	 * core's lock; read under it by the UAPI's guard. */
	struct wg_config running;
	struct metadata_owned owned;
	/* The value last taken (applied or refused), as source and ETag,
	 * so that a long poll that ends unchanged changes nothing. */
	enum source seen_source;
	char seen_etag[HTTP_ETAG_MAX + 1];
	bool seen_any;
	char etag[2][HTTP_ETAG_MAX + 1];	/* instance, project */
	unsigned int backoff_sec;
	int stop_fd;
	pthread_t thread;
};

/* Waits for events on fd (or, fd -1, for nothing) until deadline_ns.
 * 0 when ready, -ETIMEDOUT, -ECANCELED when asked to stop. */
static int wait_for(struct metadata *m, int fd, short events,
		    uint64_t deadline_ns)
{
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = m->stop_fd, .events = POLLIN },
			{ .fd = fd, .events = events },
		};
		uint64_t now = netdev_now_ns();
		int ms, n;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		ms = (int)((deadline_ns - now + 999999u) / 1000000u);
		n = poll(p, fd >= 0 ? 2 : 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (p[0].revents)
			return -ECANCELED;
		if (n > 0)
			return 0;
	}
}

/* Asked to stop: the stop descriptor is readable (it is never read, so
 * every later wait sees it too). */
static bool stopping(struct metadata *m)
{
	struct pollfd p = { .fd = m->stop_fd, .events = POLLIN };

	return poll(&p, 1, 0) > 0;
}

static int connect_server(struct metadata *m, int *out)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(METADATA_PORT),
	};
	socklen_t len = sizeof(int);
	int fd, ret, soerr = 0;

	inet_pton(AF_INET, METADATA_ADDR, &sin.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		goto out;
	if (errno != EINPROGRESS) {
		ret = -errno;
		goto fail;
	}
	ret = wait_for(m, fd, POLLOUT,
		       netdev_now_ns() + CONNECT_TIMEOUT_MS * 1000000ull);
	if (ret)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr) {
		ret = -soerr;
		goto fail;
	}
out:
	*out = fd;
	return 0;
fail:
	close(fd);
	return ret;
}

static int send_all(struct metadata *m, int fd, const char *buf, size_t len,
		    uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int ret = wait_for(m, fd, POLLOUT, deadline);

			if (ret)
				return ret;
			continue;
		}
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One GET of path: 0 with *r holding a whole response, or -errno with
 * *why saying what went wrong. */
static int http_get(struct metadata *m, const char *path, unsigned int wait,
		    struct http_response *r, const char **why)
{
	uint64_t slack = ANSWER_SLACK_MIN_MS + wait * 250ull;
	uint64_t deadline;
	char req[512];
	uint8_t buf[4096];
	int fd = -1, ret, n;

	if (slack > ANSWER_SLACK_MAX_MS)
		slack = ANSWER_SLACK_MAX_MS;
	deadline = netdev_now_ns() + (wait * 1000ull + slack) * 1000000ull;
	n = snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\n"
		     "Host: metadata.google.internal\r\n"
		     "Metadata-Flavor: Google\r\n"
		     "User-Agent: uniguard/" UNIGUARD_VERSION "\r\n"
		     "Connection: close\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(req)) {
		*why = "the request is too long";
		return -ENAMETOOLONG;
	}
	ret = connect_server(m, &fd);
	if (ret) {
		*why = ret == -ETIMEDOUT ? "no answer to the connection" :
					   "cannot connect";
		return ret;
	}
	ret = send_all(m, fd, req, (size_t)n, deadline);
	if (ret) {
		*why = "cannot send the request";
		goto out;
	}
	for (;;) {
		enum http_result res;
		ssize_t got = recv(fd, buf, sizeof(buf), 0);

		if (got < 0 && (errno == EAGAIN || errno == EINTR)) {
			ret = wait_for(m, fd, POLLIN, deadline);
			if (ret) {
				*why = ret == -ETIMEDOUT ?
				       "no whole answer in time" : "stopped";
				goto out;
			}
			continue;
		}
		if (got < 0) {
			ret = -errno;
			*why = "the connection failed";
			goto out;
		}
		res = got == 0 ? http_response_eof(r) :
				 http_response_feed(r, buf, (size_t)got, NULL);
		if (res == HTTP_DONE)
			break;
		if (res == HTTP_ERROR) {
			ret = -EPROTO;
			*why = r->error;
			goto out;
		}
	}
	ret = 0;
	if (!r->flavor_google) {
		ret = -EPROTO;
		*why = "the answer lacks Metadata-Flavor: Google (not the "
		       "metadata server)";
	}
out:
	wg_wipe(buf, sizeof(buf));
	close(fd);
	return ret;
}

/* An ETag as a query value: the server's are hex; anything else is
 * percent-encoded. */
static void append_etag(char *out, size_t cap, const char *etag)
{
	size_t len = strlen(out);

	for (const char *c = etag; *c && len + 4 < cap; c++) {
		if ((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
		    (*c >= 'A' && *c <= 'Z') || *c == '-' || *c == '_' ||
		    *c == '.')
			out[len++] = *c;
		else
			len += (size_t)snprintf(out + len, cap - len, "%%%02X",
						(unsigned char)*c);
	}
	out[len] = '\0';
}

static void make_path(struct metadata *m, enum source src, unsigned int wait,
		      char *out, size_t cap)
{
	const char *etag = m->etag[src == SOURCE_PROJECT];

	snprintf(out, cap, "/computeMetadata/v1/%s/attributes/%s",
		 src == SOURCE_PROJECT ? "project" : "instance", m->attr);
	if (!wait || !etag[0])
		return;
	snprintf(out + strlen(out), cap - strlen(out),
		 "?wait_for_change=true&timeout_sec=%u&last_etag=", wait);
	append_etag(out, cap, etag);
}

static const char *source_name(enum source src)
{
	return src == SOURCE_INSTANCE ? "instance" :
	       src == SOURCE_PROJECT ? "project" : "no";
}

/* What a change does to one peer, decided under the core's lock. */
enum fate {
	FATE_ADDED,		/* not there: metadata adds it, and owns it */
	FATE_CHANGED,		/* metadata's own, changed */
	FATE_CHANGED_NOT_OWN,	/* there before metadata named it: changed,
				 * but stays its adder's */
	FATE_REMOVED,		/* metadata's own, no longer named */
	FATE_LEFT,		/* no longer named, but not metadata's */
};

/* With the core's lock held: each entry's fate, the change applied, and
 * what metadata owns after it. A peer no longer named that metadata did
 * not add is left in place (its entry made a no-op). All or nothing: room
 * for the new owned keys is made before the change. */
static int apply_locked(struct metadata *m, struct wg_config *delta,
			enum fate *fate, struct wg_parse_error *err)
{
	size_t effective = 0, added = 0;
	int ret;

	for (size_t i = 0; i < delta->n_peers; i++) {
		struct wg_config_peer *p = &delta->peers[i];
		bool own = metadata_owned_has(&m->owned, p->public_key);

		if (p->flags & WG_PEER_REMOVE)
			fate[i] = own ? FATE_REMOVED : FATE_LEFT;
		else if (!wg_device_has_peer(m->d->dev, p->public_key))
			fate[i] = FATE_ADDED;
		else
			fate[i] = own ? FATE_CHANGED : FATE_CHANGED_NOT_OWN;
		if (fate[i] == FATE_LEFT)
			p->flags = WG_PEER_UPDATE_ONLY;	/* no field: nothing */
		effective += fate[i] != FATE_LEFT;
		added += fate[i] == FATE_ADDED;
	}
	if (metadata_owned_reserve(&m->owned, added)) {
		wg_parse_error_set(err, 0, NULL, 0, "out of memory");
		return -ENOMEM;
	}
	if (effective) {
		m->d->now = netdev_now_ns();
		ret = apply_config(m->d, delta, err);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < delta->n_peers; i++) {
		if (fate[i] == FATE_ADDED)
			(void)metadata_owned_add(&m->owned,
						 delta->peers[i].public_key);
		else if (fate[i] == FATE_REMOVED)
			metadata_owned_remove(&m->owned,
					      delta->peers[i].public_key);
	}
	return 0;
}

static void log_fates(struct metadata *m, enum source src,
		      const struct wg_config *delta, const enum fate *fate)
{
	static const char *const why[] = {
		[FATE_ADDED] = "added: the attribute names it (it is "
			       "metadata's: the attribute alone removes it)",
		[FATE_CHANGED] = "changed as the attribute says",
		[FATE_CHANGED_NOT_OWN] = "changed as the attribute says; "
					 "metadata did not add it (it was "
					 "there before), so the attribute "
					 "dropping it leaves it",
		[FATE_REMOVED] = "removed: the attribute no longer names it",
		[FATE_LEFT] = "left in place: the attribute no longer names "
			      "it, but metadata did not add it",
	};

	for (size_t i = 0; i < delta->n_peers; i++) {
		char label[16];

		wg_peer_label(delta->peers[i].public_key, label);
		log_info("metadata %s attribute %s: %s %s", source_name(src),
			 m->attr, label, why[fate[i]]);
	}
}

/* Applies the peers of a new value, or says why not. */
static void take_value(struct metadata *m, enum source src, const char *text,
		       size_t len)
{
	struct wg_config want, delta;
	struct wg_parse_error err;
	size_t changes = 0, removed = 0, left = 0;
	enum fate *fate = NULL;
	int ret;

	memset(&err, 0, sizeof(err));
	wg_config_init(&delta);
	ret = metadata_peers_parse(text, len, &want, &err);
	if (!ret)
		ret = metadata_peers_delta(&m->running, &want, &m->fixed,
					   &delta, &changes, &err);
	if (!ret && changes) {
		fate = calloc(changes, sizeof(*fate));
		if (!fate) {
			wg_parse_error_set(&err, 0, NULL, 0, "out of memory");
			ret = -ENOMEM;
		}
	}
	if (!ret) {
		pthread_mutex_lock(&m->d->lock);
		if (changes)
			ret = apply_locked(m, &delta, fate, &err);
		if (!ret) {
			/* Under the lock: the UAPI's guard reads it. */
			wg_config_clear(&m->running);
			m->running = want;
			wg_config_init(&want);
		}
		pthread_mutex_unlock(&m->d->lock);
		/* New peers may want the core's timers sooner. */
		if (changes)
			event_loop_wake(m->d);
	}
	if (ret) {
		log_redact(err.message);
		log_error("metadata %s attribute %s:%u: %s: %s; refused whole, "
			  "the running peers stay", source_name(src), m->attr,
			  err.line, err.key[0] ? err.key : "-",
			  err.message[0] ? err.message : strerror(-ret));
		goto out;
	}
	log_fates(m, src, &delta, fate);
	for (size_t i = 0; i < delta.n_peers; i++) {
		removed += fate[i] == FATE_REMOVED;
		left += fate[i] == FATE_LEFT;
	}
	log_info("metadata %s attribute %s: %zu peer%s, %zu added or "
		 "changed, %zu removed", source_name(src), m->attr,
		 m->running.n_peers, m->running.n_peers == 1 ? "" : "s",
		 changes - removed - left, removed);
out:
	free(fate);
	wg_config_clear(&want);
	wg_config_clear(&delta);
}

static void log_kept(void *ctx, const uint8_t *key)
{
	struct metadata *m = ctx;
	char label[16];

	wg_peer_label(key, label);
	log_info("metadata attribute %s: %s kept: a change over the UAPI "
		 "socket (a reload's wg syncconf, wg set ... remove, "
		 "wg setconf) would remove it, but it came from the "
		 "attribute, which alone removes it", m->attr, label);
}

int metadata_guard_set(struct metadata *m, struct wg_config *set,
		       struct wg_parse_error *err)
{
	int ret;

	if (!m || !m->owned.n)
		return 0;
	ret = metadata_peers_guard(set, &m->running, &m->owned, log_kept, m);
	if (ret)
		wg_parse_error_set(err, 0, NULL, 0, "out of memory");
	return ret;
}

/* A value seen: taken when it is not the one taken last. */
static void seen(struct metadata *m, enum source src, const char *etag,
		 const char *text, size_t len)
{
	if (m->seen_any && m->seen_source == src &&
	    strcmp(m->seen_etag, etag) == 0)
		return;
	m->seen_any = true;
	m->seen_source = src;
	snprintf(m->seen_etag, sizeof(m->seen_etag), "%s", etag);
	take_value(m, src, text, len);
}

/* One request: 200 or 404 give 0 and *status, anything else -errno after
 * saying why. */
static int ask(struct metadata *m, enum source src, unsigned int wait,
	       unsigned int *status)
{
	struct http_response r;
	char path[METADATA_ATTRIBUTE_MAX + 192];
	const char *why = NULL;
	int ret;

	make_path(m, src, wait, path, sizeof(path));
	http_response_init(&r, METADATA_BODY_MAX);
	ret = http_get(m, path, wait, &r, &why);
	if (!ret && r.status != 200 && r.status != 404) {
		ret = -EPROTO;
		why = r.status == 403 ? "403 Forbidden" :
		      r.status >= 500 ? "a server error (5xx)" :
					"an unexpected status";
	}
	if (ret) {
		if (ret != -ECANCELED)
			log_error("metadata server %s:%d, %s attribute %s: %s; "
				  "again in %u s", METADATA_ADDR,
				  METADATA_PORT, source_name(src), m->attr,
				  why ? why : strerror(-ret), m->backoff_sec);
		goto out;
	}
	*status = r.status;
	if (r.status == 404) {
		m->etag[src == SOURCE_PROJECT][0] = '\0';
		goto out;
	}
	snprintf(m->etag[src == SOURCE_PROJECT], HTTP_ETAG_MAX + 1, "%s",
		 r.etag);
	seen(m, src, r.etag, r.body, r.body_len);
out:
	http_response_clear(&r);
	return ret;
}

/* One round: the instance's attribute, else the project's, else none.
 * Returns the seconds to sleep before the next, or -1 to stop. */
static int round_once(struct metadata *m, enum source *current)
{
	unsigned int status = 0, wait;
	int ret;

	wait = *current == SOURCE_INSTANCE ? m->opts.wait_sec : 0;
	ret = ask(m, SOURCE_INSTANCE, wait, &status);
	if (ret)
		goto failed;
	if (status == 200) {
		*current = SOURCE_INSTANCE;
		goto ok;
	}
	wait = *current == SOURCE_PROJECT ? FALLBACK_SEC : 0;
	ret = ask(m, SOURCE_PROJECT, wait, &status);
	if (ret)
		goto failed;
	if (status == 200) {
		if (*current != SOURCE_PROJECT)
			log_info("metadata: no instance attribute %s; "
				 "watching the project's", m->attr);
		*current = SOURCE_PROJECT;
		goto ok;
	}
	if (*current != SOURCE_NONE || !m->seen_any)
		log_info("metadata: no attribute %s on the instance or the "
			 "project: no peers from metadata", m->attr);
	*current = SOURCE_NONE;
	seen(m, SOURCE_NONE, "", "", 0);
	m->backoff_sec = 1;
	return FALLBACK_SEC;
ok:
	m->backoff_sec = 1;
	return 0;
failed:
	if (ret == -ECANCELED)
		return -1;
	{
		unsigned int sleep_sec = m->backoff_sec;

		m->backoff_sec = m->backoff_sec * 2 > m->opts.backoff_max_sec ?
				 m->opts.backoff_max_sec : m->backoff_sec * 2;
		return (int)sleep_sec;
	}
}

static void *metadata_thread(void *arg)
{
	struct metadata *m = arg;
	enum source current = SOURCE_NONE;

	while (!stopping(m)) {
		int sleep_sec = round_once(m, &current);

		if (sleep_sec < 0)
			break;
		if (sleep_sec > 0 &&
		    wait_for(m, -1, 0, netdev_now_ns() +
			     (uint64_t)sleep_sec * 1000000000ull) ==
			    -ECANCELED)
			break;
	}
	return NULL;
}

int metadata_start(struct daemon *d, const struct metadata_options *opts,
		   const struct wg_config *fixed, struct metadata **out)
{
	struct metadata *m = calloc(1, sizeof(*m));
	int ret;

	*out = NULL;
	if (!m)
		return -ENOMEM;
	m->d = d;
	m->opts = *opts;
	if (!m->opts.wait_sec)
		m->opts.wait_sec = METADATA_WAIT_SEC;
	if (!m->opts.backoff_max_sec)
		m->opts.backoff_max_sec = METADATA_BACKOFF_MAX_SEC;
	m->backoff_sec = 1;
	snprintf(m->attr, sizeof(m->attr), "%s", opts->attribute);
	wg_config_init(&m->fixed);
	wg_config_init(&m->running);
	for (size_t i = 0; fixed && i < fixed->n_peers; i++) {
		struct wg_config_peer *p = wg_config_add_peer(&m->fixed);

		if (!p) {
			ret = -ENOMEM;
			goto fail;
		}
		memcpy(p->public_key, fixed->peers[i].public_key, WG_KEY_LEN);
	}
	m->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->stop_fd < 0) {
		ret = -errno;
		goto fail;
	}
	ret = -pthread_create(&m->thread, NULL, metadata_thread, m);
	if (ret) {
		close(m->stop_fd);
		goto fail;
	}
	log_info("peers from the metadata attribute %s (instance, else "
		 "project) at %s", m->attr, METADATA_ADDR);
	*out = m;
	return 0;
fail:
	wg_config_clear(&m->fixed);
	wg_config_clear(&m->running);
	metadata_owned_clear(&m->owned);
	free(m);
	return ret;
}

void metadata_stop(struct metadata *m)
{
	if (!m)
		return;
	(void)!write(m->stop_fd, &(uint64_t){ 1 }, sizeof(uint64_t));
	pthread_join(m->thread, NULL);
	close(m->stop_fd);
	wg_config_clear(&m->fixed);
	wg_config_clear(&m->running);
	metadata_owned_clear(&m->owned);
	free(m);
}
