/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the UAPI "set" transaction (uapi.h), fed one line at a
 * time as the socket server feeds it, then applied to a device and read
 * back with get=1 (wireguard.com/xplatform). Besides "no crash, no leak, no
 * undefined behaviour", it holds the core to these promises:
 *
 *  - a refused transaction names a line of the input and quotes no key;
 *  - an accepted one re-emits (wg_uapi_emit_set) as a text that parses to
 *    an equal change, which emits the very same text again (a peer's
 *    removal is emitted, as `wg setconf` sends it, as its key alone: the
 *    device ignores the rest of a removed peer's lines);
 *  - the device takes every accepted change, and taking it twice leaves the
 *    same running config as taking it once (allowed IPs compared as sets:
 *    their order in get=1 follows the order of insertion);
 *  - get=1 is well formed, and the running config, emitted as a set and
 *    applied to a fresh device, reproduces itself there.
 */
#include "support_fuzz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uapi.h"

/* A fixed "now" and seed: the same input always takes the same path. */
#define FUZZ_NOW 1000000000ULL
#define FUZZ_SEED 6

static int set_line(void *ctx, const char *line, size_t len)
{
	return wg_uapi_set_line(ctx, line, len);
}

/* Parses a whole set text as the -c loader does; 0 or negative errno. */
static int parse_text(const char *text, size_t len, struct wg_config *cfg)
{
	struct wg_parse_error err;
	int ret;

	wg_config_init(cfg);
	ret = wg_uapi_parse_set(text, len, cfg, &err);
	FUZZ_CHECK(ret == 0, "emitted text does not parse: line %u %s: %s\n%s",
		   err.line, err.key, err.message, text);
	return ret;
}

static void emit_set(struct wg_buf *b, const struct wg_config *cfg)
{
	memset(b, 0, sizeof(*b));
	wg_uapi_emit_set(b, cfg);
	fuzz_check_buf(b);
}

/* emit_set, parse, compare; then the re-parsed change must emit the same
 * text. */
static void check_round_trip(const struct wg_config *cfg)
{
	struct wg_buf first, second;
	struct wg_config again;

	emit_set(&first, cfg);
	parse_text(first.data, first.len, &again);
	FUZZ_CHECK(wg_config_equal(cfg, &again),
		   "the emitted set parses to another change:\n%s", first.data);
	emit_set(&second, &again);
	FUZZ_CHECK(first.len == second.len &&
			   memcmp(first.data, second.data, first.len) == 0,
		   "emit is not stable:\n%s---\n%s", first.data, second.data);
	wg_buf_clear(&first);
	wg_buf_clear(&second);
	wg_config_clear(&again);
}

/* A removed peer's other lines change nothing: keep its key alone. */
static void normalise_removals(struct wg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct wg_config_peer *p = &cfg->peers[i];

		if (!(p->flags & WG_PEER_REMOVE))
			continue;
		p->flags = WG_PEER_REMOVE;
		p->n_allowedips = 0;
	}
}

static int compare_allowedips(const void *pa, const void *pb)
{
	const struct wg_allowedip *a = pa, *b = pb;
	int d = memcmp(a->addr, b->addr, sizeof(a->addr));

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	if (d)
		return d;
	return (int)a->cidr - (int)b->cidr;
}

/* A running config's allowed IPs in one order, for comparing as sets. */
static void sort_allowedips(struct wg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_peers; i++)
		if (cfg->peers[i].n_allowedips > 1)
			qsort(cfg->peers[i].allowedips,
			      cfg->peers[i].n_allowedips,
			      sizeof(struct wg_allowedip), compare_allowedips);
}

static struct wg_device *new_device(struct wg_env *env,
				    struct fuzz_quiet_env *q)
{
	struct wg_device *dev;

	fuzz_quiet_env(env, q, FUZZ_SEED);
	dev = wg_device_new(env, FUZZ_NOW);
	FUZZ_CHECK(dev, "wg_device_new failed");
	return dev;
}

static void apply(struct wg_device *dev, const struct wg_config *cfg)
{
	struct wg_parse_error err;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = wg_device_apply(dev, cfg, FUZZ_NOW, &err);
	FUZZ_CHECK(ret == 0, "a parsed set does not apply (%d): %s: %s", ret,
		   err.key, err.message);
}

/* get=1's config, allowed IPs sorted. */
static void get(struct wg_device *dev, struct wg_config *out)
{
	FUZZ_CHECK(wg_device_get(dev, out) == 0, "get failed");
	sort_allowedips(out);
}

static void check_get_text(const struct wg_config *running)
{
	struct wg_buf b = { 0 };
	static const char tail[] = "errno=0\n\n";
	const size_t tail_len = sizeof(tail) - 1;

	wg_uapi_emit_get(&b, running);
	fuzz_check_buf(&b);
	FUZZ_CHECK(b.len >= tail_len &&
			   strcmp(b.data + b.len - tail_len, tail) == 0,
		   "get=1 does not end in errno=0 and a blank line:\n%s",
		   b.data);
	/* One blank line, at the very end: a client stops reading there. */
	FUZZ_CHECK(strstr(b.data, "\n\n") == b.data + b.len - 2,
		   "a blank line inside get=1:\n%s", b.data);
	wg_buf_clear(&b);
}

/* The running config as a set, applied to a fresh device, gives the same
 * running config. */
static void check_reproduces(const struct wg_config *running)
{
	struct wg_env env;
	struct fuzz_quiet_env q;
	struct wg_device *dev = new_device(&env, &q);
	struct wg_config as_set, elsewhere;
	struct wg_buf b;

	emit_set(&b, running);
	parse_text(b.data, b.len, &as_set);
	apply(dev, &as_set);
	get(dev, &elsewhere);
	FUZZ_CHECK(wg_config_equal(running, &elsewhere),
		   "the running config does not reproduce from:\n%s", b.data);
	wg_config_clear(&elsewhere);
	wg_config_clear(&as_set);
	wg_buf_clear(&b);
	wg_device_free(dev);
}

static void check_device(const struct wg_config *cfg)
{
	struct wg_env env;
	struct fuzz_quiet_env q;
	struct wg_device *dev = new_device(&env, &q);
	struct wg_config once, twice;

	apply(dev, cfg);
	get(dev, &once);
	check_get_text(&once);
	apply(dev, cfg);
	get(dev, &twice);
	FUZZ_CHECK(wg_config_equal(&once, &twice),
		   "applying a change twice differs from once");
	check_reproduces(&once);
	wg_config_clear(&once);
	wg_config_clear(&twice);
	wg_device_free(dev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_config cfg;
	struct wg_uapi_parser p;
	unsigned int lines;
	int ret;

	/* The format detector sees every -c file first. */
	(void)wg_config_detect((const char *)data, size);

	wg_config_init(&cfg);
	wg_uapi_set_begin(&p, &cfg);
	ret = fuzz_for_each_line(data, size, set_line, &p, &lines);
	if (!ret)
		ret = wg_uapi_set_end(&p);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL || ret == -EPROTO,
			   "set refused with %d", ret);
		fuzz_check_parse_error(&p.err, lines);
	} else {
		check_device(&cfg);
		normalise_removals(&cfg);
		check_round_trip(&cfg);
	}
	wg_config_clear(&cfg);
	return 0;
}
