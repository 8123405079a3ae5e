/* SPDX-License-Identifier: MIT */
/*
 * The daemon's recorder (record.h): an environment in front of the
 * daemon's own (wg.h's struct wg_env), timestamps from the real-time clock.
 */
#include "record.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "keylog.h"
#include "log.h"
#include "seeded.h"

struct record {
	struct wg_env inner;		/* the daemon's environment */
	struct capture_writer *cap;
	const char *capture_path;
	bool capture_failed;
	struct keylog *kl;
	bool seeded;
	struct seeded_random rng;
	uint16_t (*port)(void *ctx);
	void *port_ctx;
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void capture(struct record *r, struct capture_record *rec)
{
	int ret;

	if (!r->cap)
		return;
	rec->ts = wall_ns();
	rec->local_port = r->port ? r->port(r->port_ctx) : 0;
	ret = capture_write(r->cap, rec);
	/* Once is enough to say so: a full disk fails every record. */
	if (ret && !r->capture_failed) {
		r->capture_failed = true;
		log_error("capture %s: %s (records go missing from here)",
			  r->capture_path, strerror(-ret));
	}
}

static void rec_random(void *ctx, void *buf, size_t len)
{
	struct record *r = ctx;

	if (r->seeded)
		seeded_random_fill(&r->rng, buf, len);
	else
		r->inner.random(r->inner.ctx, buf, len);
}

static void rec_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct record *r = ctx;

	r->inner.wall_clock(r->inner.ctx, sec, nsec);
}

/* The address the kernel picks to send to `to` from, when the core has
 * none yet (before the peer's first datagram): a dissector pairs a reply
 * with the message it answers by address, so 0.0.0.0 would not do. From a
 * connected throwaway socket, which sends nothing. */
static void fill_source(struct wg_endpoint *ep)
{
	int fam = ep->addr.sa.sa_family, fd;
	union {
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} local;
	socklen_t len = sizeof(local);

	fd = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (connect(fd, &ep->addr.sa, fam == AF_INET6 ?
		    sizeof(struct sockaddr_in6) :
		    sizeof(struct sockaddr_in)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&local, &len) == 0) {
		if (fam == AF_INET)
			ep->src.v4 = local.sin.sin_addr;
		else
			ep->src.v6 = local.sin6.sin6_addr;
		ep->has_src = true;
	}
	close(fd);
}

/* A datagram either way; one we send names the source it leaves from. */
static void capture_outer(struct record *r, enum capture_dir dir,
			  const struct wg_endpoint *peer, const uint8_t *data,
			  size_t len)
{
	struct capture_record rec = {
		.side = CAPTURE_OUTER,
		.dir = dir,
		.data = data,
		.len = len,
	};

	if (!r || !r->cap)
		return;
	rec.peer = *peer;
	if (dir == CAPTURE_OUT && !rec.peer.has_src)
		fill_source(&rec.peer);
	capture(r, &rec);
}

void record_outer_out(struct record *r, const struct wg_endpoint *to,
		      const uint8_t *data, size_t len)
{
	capture_outer(r, CAPTURE_OUT, to, data, len);
}

static void rec_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	struct record *r = ctx;

	record_outer_out(r, to, data, len);
	r->inner.send(r->inner.ctx, to, data, len);
}

static void rec_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct record *r = ctx;
	struct capture_record rec = {
		.side = CAPTURE_INNER,
		.dir = CAPTURE_OUT,
		.data = packet,
		.len = len,
	};

	capture(r, &rec);
	r->inner.deliver(r->inner.ctx, packet, len);
}

static void rec_log(void *ctx, enum wg_log_level level, const char *line)
{
	struct record *r = ctx;

	if (r->inner.log)
		r->inner.log(r->inner.ctx, level, line);
}

static void rec_keylog(void *ctx, const char *line)
{
	struct record *r = ctx;

	keylog_ephemeral(r->kl, line);
}

int record_open(struct record **out, const struct record_options *o,
		struct wg_env *env)
{
	struct record *r;
	int ret;

	*out = NULL;
	if (!o->capture_path && !o->keylog_path && !o->seed)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r) {
		log_error("out of memory");
		return -1;
	}
	if (o->capture_path) {
		ret = capture_writer_open(&r->cap, o->capture_path, true);
		if (ret) {
			log_error("cannot write the capture %s: %s",
				  o->capture_path, strerror(-ret));
			goto fail;
		}
		r->capture_path = o->capture_path;
		log_info("capturing both sides to %s", o->capture_path);
	}
	if (o->keylog_path) {
		ret = keylog_open(&r->kl, o->keylog_path);
		if (ret) {
			log_error("cannot write the key log %s: %s",
				  o->keylog_path, strerror(-ret));
			goto fail;
		}
		log_warn("key log %s holds this interface's secret keys: "
			 "whoever reads it can decrypt all its traffic",
			 o->keylog_path);
	}
	if (o->seed) {
		seeded_random_init(&r->rng, o->seed);
		r->seeded = true;
		log_warn("randomness from --insecure-seed: every key this "
			 "interface makes can be predicted; for recordings "
			 "only");
	}
	r->port = o->port;
	r->port_ctx = o->port_ctx;
	r->inner = *env;
	env->ctx = r;
	env->random = rec_random;
	env->wall_clock = rec_wall_clock;
	env->send = rec_send;
	env->deliver = rec_deliver;
	env->log = rec_log;
	if (r->kl)
		env->keylog = rec_keylog;
	*out = r;
	return 0;
fail:
	record_close(r);
	return -1;
}

void record_outer_in(struct record *r, const struct wg_endpoint *from,
		     const uint8_t *data, size_t len)
{
	capture_outer(r, CAPTURE_IN, from, data, len);
}

void record_inner_in(struct record *r, const uint8_t *pkt, size_t len)
{
	struct capture_record rec = {
		.side = CAPTURE_INNER,
		.dir = CAPTURE_IN,
		.data = pkt,
		.len = len,
	};

	if (!r || !r->cap)
		return;
	capture(r, &rec);
}

void record_config_changed(struct record *r, struct wg_device *dev)
{
	int ret;

	if (!r)
		return;
	ret = keylog_sync(r->kl, dev);
	if (ret)
		log_error("key log: %s", strerror(-ret));
}

void record_close(struct record *r)
{
	int ret;

	if (!r)
		return;
	ret = capture_writer_close(r->cap);
	if (ret)
		log_error("capture %s: %s", r->capture_path, strerror(-ret));
	ret = keylog_close(r->kl);
	if (ret)
		log_error("key log: %s", strerror(-ret));
	seeded_random_clear(&r->rng);
	free(r);
}
