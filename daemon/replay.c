/* SPDX-License-Identifier: MIT */
/*
 * `uniguard replay` (replay.h): the core (wg.h) in an environment made of a
 * capture, a seed and the capture's clock. Nothing here reads a clock or
 * the system's randomness, so the output depends only on the arguments.
 */
#include "replay.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "conffile.h"
#include "config.h"
#include "crypto.h"
#include "keylog.h"
#include "log.h"
#include "seeded.h"

/* The monotonic clock at the first record: an hour, as if the machine had
 * been up that long, so that nothing starts at a suspicious zero. */
#define REPLAY_CLOCK_BASE (3600ull * 1000000000ull)
#define REPLAY_DEFAULT_SEED "uniguard"
#define REPLAY_DEFAULT_MTU 1420
/* A timer that does not move its deadline is tried again this much later,
 * as the daemon's loop does. */
#define REPLAY_STUCK_NS 1000000u

struct replay {
	struct wg_device *dev;
	struct capture_writer *out;
	struct keylog *kl;
	struct seeded_random rng;
	uint64_t base_ts;	/* the first record's time */
	uint64_t now;		/* the core's monotonic clock */
	uint16_t port;		/* ours, in the outer headers */
	/* Our address per family, for outputs the core sends without a
	 * source (as the kernel would pick one): the first the capture
	 * shows. */
	bool has_local4, has_local6;
	struct in_addr local4;
	struct in6_addr local6;
	uint16_t capture_port;	/* the first local port the capture shows */
	uint64_t end_ts;	/* the last record's time, outputs included */
	unsigned long inputs, outputs, skipped;
	int write_error;
	uint8_t buf[65536];
};

static const char usage_text[] =
"usage: uniguard replay [options] IN.pcap OUT.pcap\n"
"\n"
"Feeds the inputs recorded in IN.pcap (a capture made with --capture) to\n"
"the protocol core, with the capture's timestamps as its clocks and\n"
"randomness from a seed, and writes each input and everything the core\n"
"emits to OUT.pcap. The same arguments always give the same OUT.pcap.\n"
"\n"
"  -c, --config FILE   the interface's configuration (UAPI set text or a\n"
"                      wg-quick file), applied at the first record\n"
"  --seed TEXT         the seed (default \"" REPLAY_DEFAULT_SEED "\"): the\n"
"                      recording daemon's --insecure-seed, so that the\n"
"                      replay makes the same keys\n"
"  --mtu N             the tunnel's MTU, which caps padding (default: the\n"
"                      file's MTU, else 1420)\n"
"  --tail SECONDS      go on running timers this long after the last\n"
"                      record (default 0)\n"
"  --keylog FILE       write the key log of the replayed session\n"
"  -v, --verbosity LEVEL  error (default), warn, info, debug\n"
"                         or trace\n";

static uint64_t wall_of(const struct replay *r, uint64_t now)
{
	return r->base_ts + (now - REPLAY_CLOCK_BASE);
}

static void emit(struct replay *r, struct capture_record *rec)
{
	int ret = capture_write(r->out, rec);

	if (ret && !r->write_error)
		r->write_error = ret;
}

static void env_random(void *ctx, void *buf, size_t len)
{
	struct replay *r = ctx;

	seeded_random_fill(&r->rng, buf, len);
}

static void env_wall_clock(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct replay *r = ctx;
	uint64_t t = wall_of(r, r->now);

	*sec = t / 1000000000u;
	*nsec = (uint32_t)(t % 1000000000u);
}

static void env_send(void *ctx, const struct wg_endpoint *to,
		     const uint8_t *data, size_t len)
{
	struct replay *r = ctx;
	struct capture_record rec = {
		.ts = wall_of(r, r->now),
		.side = CAPTURE_OUTER,
		.dir = CAPTURE_OUT,
		.peer = *to,
		.local_port = r->port,
		.data = data,
		.len = len,
	};

	if (!rec.peer.has_src && to->addr.sa.sa_family == AF_INET &&
	    r->has_local4) {
		rec.peer.src.v4 = r->local4;
		rec.peer.has_src = true;
	} else if (!rec.peer.has_src && to->addr.sa.sa_family == AF_INET6 &&
		   r->has_local6) {
		rec.peer.src.v6 = r->local6;
		rec.peer.has_src = true;
	}
	r->outputs++;
	emit(r, &rec);
}

static void env_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct replay *r = ctx;
	struct capture_record rec = {
		.ts = wall_of(r, r->now),
		.side = CAPTURE_INNER,
		.dir = CAPTURE_OUT,
		.data = packet,
		.len = len,
	};

	r->outputs++;
	emit(r, &rec);
}

static void env_log(void *ctx, enum wg_log_level level, const char *line)
{
	(void)ctx;
	log_line(level, line);
}

static void env_keylog(void *ctx, const char *line)
{
	struct replay *r = ctx;

	keylog_ephemeral(r->kl, line);
}

/* Runs every timer due up to until, each at its own deadline. */
static void run_timers(struct replay *r, uint64_t until)
{
	uint64_t next = wg_device_next_deadline(r->dev);

	while (next <= until) {
		if (next > r->now)
			r->now = next;
		next = wg_device_tick(r->dev, r->now);
		if (next <= r->now)
			next = r->now + REPLAY_STUCK_NS;
	}
}

static int start(struct replay *r, struct wg_config *cfg, const char *cfgpath,
		 unsigned int mtu, uint64_t ts, const struct wg_env *env)
{
	struct wg_parse_error err;
	int ret;

	r->base_ts = ts;
	r->now = REPLAY_CLOCK_BASE;
	/* The port the core sends from, from the start: the file's, or
	 * (the kernel chose it) the capture's. */
	r->port = cfg->listen_port ? cfg->listen_port : r->capture_port;
	r->dev = wg_device_new(env, r->now);
	if (!r->dev) {
		log_error("cannot create the device");
		return -1;
	}
	memset(&err, 0, sizeof(err));
	ret = wg_device_apply(r->dev, cfg, r->now, &err);
	if (ret) {
		log_error("%s:%u: %s: %s", cfgpath ? cfgpath : "config",
			  err.line, err.key[0] ? err.key : "-",
			  err.message[0] ? err.message : strerror(-ret));
		return -1;
	}
	wg_device_set_mtu(r->dev, mtu);
	ret = keylog_sync(r->kl, r->dev);
	if (ret)
		log_error("key log: %s", strerror(-ret));
	return 0;
}

/* One input: into the output capture as it is, then into the core. */
static void feed(struct replay *r, struct capture_record *rec)
{
	r->inputs++;
	emit(r, rec);
	if (rec->side == CAPTURE_OUTER) {
		/* The core decrypts in place. */
		memcpy(r->buf, rec->data, rec->len);
		(void)wg_device_receive(r->dev, r->now, &rec->peer, r->buf,
					rec->len);
	} else {
		(void)wg_device_send(r->dev, r->now, rec->data, rec->len);
	}
}

/* One line on stderr saying what happened, for people and for tests. */
static void summarize(const struct replay *r)
{
	const struct wg_device_stats *st = wg_device_stats(r->dev);
	char line[512];
	int n;

	n = snprintf(line, sizeof(line),
		     "replay: %lu inputs, %lu outputs, %lu skipped; "
		     "handshakes %" PRIu64 "/%" PRIu64,
		     r->inputs, r->outputs, r->skipped,
		     st->handshakes_completed, st->handshakes_initiated);
	for (int i = 0; i < WG_VERDICT_COUNT && n > 0 &&
			(size_t)n < sizeof(line);
	     i++) {
		if (st->verdicts[i])
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      " %s=%" PRIu64, wg_verdict_name(i),
				      st->verdicts[i]);
	}
	fprintf(stderr, "%s\n", line);
}

struct replay_args {
	const char *config, *seed, *keylog, *in, *out;
	unsigned int mtu;
	uint64_t tail_ns;
	enum wg_log_level verbosity;
};

static int parse_args(int argc, char **argv, struct replay_args *a)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "tail", required_argument, NULL, 't' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "verbosity", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	a->seed = REPLAY_DEFAULT_SEED;
	a->verbosity = WG_LOG_ERROR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+c:v:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config = optarg;
			break;
		case 's':
			a->seed = optarg;
			break;
		case 'k':
			a->keylog = optarg;
			break;
		case 'm':
		case 't':
			if (!wg_parse_decimal(optarg, strlen(optarg),
					      UINT64_MAX, &v) ||
			    (c == 'm' && (v < 68 || v > 65535)) ||
			    (c == 't' && v > 86400)) {
				fprintf(stderr, "uniguard replay: bad --%s "
					"'%s'\n", c == 'm' ? "mtu" : "tail",
					optarg);
				return 2;
			}
			if (c == 'm')
				a->mtu = (unsigned int)v;
			else
				a->tail_ns = (uint64_t)v * 1000000000u;
			break;
		case 'v':
			if (!log_parse_level(optarg, &a->verbosity)) {
				fprintf(stderr, "uniguard replay: -v: unknown "
					"level '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind + 2 != argc) {
		fputs(usage_text, stderr);
		return 2;
	}
	a->in = argv[optind];
	a->out = argv[optind + 1];
	return 0;
}

/* A first pass for our own addresses and port, from the outer records
 * that show them (inputs and recorded outputs alike), and for the time the
 * capture ends. */
static void find_local_addresses(struct replay *r, const char *path)
{
	struct capture_reader *rd;
	struct capture_record rec;
	const char *why;
	int ret;

	if (capture_reader_open(&rd, path, NULL, 0))
		return;
	while ((ret = capture_read(rd, &rec, &why)) != 0 && ret != -EIO) {
		if (ret < 0)
			continue;
		if (rec.ts > r->end_ts)
			r->end_ts = rec.ts;
		if (rec.side == CAPTURE_OUTER && !r->capture_port)
			r->capture_port = rec.local_port;
		if (rec.side != CAPTURE_OUTER || !rec.peer.has_src)
			continue;
		if (rec.peer.addr.sa.sa_family == AF_INET && !r->has_local4) {
			r->local4 = rec.peer.src.v4;
			r->has_local4 = true;
		} else if (rec.peer.addr.sa.sa_family == AF_INET6 &&
			   !r->has_local6) {
			r->local6 = rec.peer.src.v6;
			r->has_local6 = true;
		}
	}
	capture_reader_close(rd);
}

static int replay_run(struct replay *r, const struct replay_args *a,
		      struct wg_config *cfg, unsigned int mtu)
{
	const struct wg_env env = {
		.ctx = r,
		.random = env_random,
		.wall_clock = env_wall_clock,
		.send = env_send,
		.deliver = env_deliver,
		.log = env_log,
		.log_level = a->verbosity,
		.keylog = r->kl ? env_keylog : NULL,
	};
	struct capture_reader *rd;
	struct capture_record rec;
	uint64_t last_ts = 0;
	char err[512];
	const char *why;
	int ret;

	ret = capture_reader_open(&rd, a->in, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "uniguard replay: %s: %s\n", a->in,
			ret == -ENOMEM ? strerror(ENOMEM) : err);
		return 1;
	}
	find_local_addresses(r, a->in);
	while ((ret = capture_read(rd, &rec, &why)) != 0) {
		uint64_t t;

		if (ret == -EIO) {
			fprintf(stderr, "uniguard replay: %s: %s\n", a->in,
				why ? why : "read error");
			break;
		}
		if (ret < 0) {
			log_error("%s: record %lu: %s (skipped)", a->in,
				  capture_reader_number(rd), why);
			r->skipped++;
			continue;
		}
		if (rec.dir != CAPTURE_IN)
			continue;	/* what the recorded run emitted */
		if (!r->dev) {
			if (start(r, cfg, a->config, mtu, rec.ts, &env)) {
				ret = -1;
				break;
			}
			last_ts = rec.ts;
		}
		/* A clock stepped back while recording: hold still. */
		if (rec.ts < last_ts)
			rec.ts = last_ts;
		last_ts = rec.ts;
		t = REPLAY_CLOCK_BASE + (rec.ts - r->base_ts);
		run_timers(r, t);
		r->now = t;
		feed(r, &rec);
	}
	capture_reader_close(rd);
	if (ret < 0)
		return 1;
	if (r->dev) {
		/* Timers run on to the end of the capture, where the recorded
		 * run's last output may have come from one. */
		if (r->end_ts > last_ts)
			last_ts = r->end_ts;
		run_timers(r, REPLAY_CLOCK_BASE + (last_ts - r->base_ts) +
				      a->tail_ns);
		summarize(r);
	} else {
		fprintf(stderr, "uniguard replay: %s: no input records\n",
			a->in);
	}
	return 0;
}

int uniguard_replay_main(int argc, char **argv)
{
	enum wg_config_format format = WG_CONFIG_FORMAT_UNKNOWN;
	struct replay_args a = { 0 };
	struct wg_config cfg;
	struct replay *r;
	unsigned int mtu;
	bool opened;
	int status, ret;

	status = parse_args(argc, argv, &a);
	if (status)
		return status;
	log_init(a.verbosity, "replay");
	if (!wg_crypto_init()) {
		fprintf(stderr, "uniguard replay: libsodium cannot start\n");
		return 1;
	}
	if (a.config) {
		if (conffile_load(a.config, &cfg, &format) < 0) {
			wg_config_clear(&cfg);
			return 1;
		}
	} else {
		wg_config_init(&cfg);
	}
	mtu = a.mtu ? a.mtu : cfg.quick.has_mtu ? cfg.quick.mtu :
						  REPLAY_DEFAULT_MTU;
	r = calloc(1, sizeof(*r));
	if (!r) {
		wg_config_clear(&cfg);
		return 1;
	}
	seeded_random_init(&r->rng, a.seed);
	status = 1;
	ret = capture_writer_open(&r->out, a.out, false);
	if (ret) {
		fprintf(stderr, "uniguard replay: %s: %s\n", a.out,
			strerror(-ret));
		goto out;
	}
	if (a.keylog) {
		ret = keylog_open(&r->kl, a.keylog);
		if (ret) {
			fprintf(stderr, "uniguard replay: %s: %s\n", a.keylog,
				strerror(-ret));
			goto out;
		}
	}
	status = replay_run(r, &a, &cfg, mtu);
out:
	wg_config_clear(&cfg);
	if (r->dev)
		wg_device_free(r->dev);
	opened = r->out != NULL;
	ret = capture_writer_close(r->out);
	if (!ret)
		ret = r->write_error;
	if (ret && opened) {
		fprintf(stderr, "uniguard replay: %s: %s\n", a.out,
			strerror(-ret));
		status = 1;
	}
	if (keylog_close(r->kl))
		status = 1;
	seeded_random_clear(&r->rng);
	free(r);
	log_close();
	return status;
}
