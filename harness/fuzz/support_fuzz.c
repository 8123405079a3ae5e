/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the libFuzzer targets (support_fuzz.h). Randomness is
 * libsodium's deterministic stream keyed by a seed and a call counter, so
 * a target's core sees the same bytes every time it runs one input.
 */
#include "support_fuzz.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s\n  ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void fuzz_rng_init(struct fuzz_rng *r, uint64_t seed)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 8; i++)
		r->seed[i] = (uint8_t)(seed >> (8 * i));
	r->seed[31] = 0x5a;
}

void fuzz_rng_bytes(struct fuzz_rng *r, void *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES];

	/* Each call draws from its own stream: seed xor call number. */
	memcpy(seed, r->seed, sizeof(seed));
	for (int i = 0; i < 8; i++)
		seed[8 + i] ^= (uint8_t)(r->calls >> (8 * i));
	r->calls++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void quiet_random(void *ctx, void *buf, size_t len)
{
	struct fuzz_quiet_env *q = ctx;

	fuzz_rng_bytes(&q->rng, buf, len);
}

static void quiet_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct fuzz_quiet_env *q = ctx;

	*sec = q->wall_sec;
	*nsec = 0;
}

static void quiet_send(void *ctx, const struct wg_endpoint *to,
		       const uint8_t *data, size_t len)
{
	struct fuzz_quiet_env *q = ctx;

	FUZZ_CHECK(len >= 4 && len <= 65535 + 64, "sent %zu bytes", len);
	FUZZ_CHECK(data[0] >= WG_MSG_INITIATION && data[0] <= WG_MSG_DATA,
		   "sent a message of type %u", data[0]);
	FUZZ_CHECK(to->addr.sa.sa_family == AF_INET ||
			   to->addr.sa.sa_family == AF_INET6,
		   "sent to family %d", to->addr.sa.sa_family);
	q->sent++;
}

static void quiet_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct fuzz_quiet_env *q = ctx;

	(void)packet;
	(void)len;
	q->delivered++;
}

void fuzz_log_check(void *ctx, enum wg_log_level level, const char *line)
{
	size_t len = strlen(line);

	(void)ctx;
	FUZZ_CHECK(level >= WG_LOG_ERROR && level <= WG_LOG_TRACE,
		   "log level %d", (int)level);
	FUZZ_CHECK(!fuzz_has_key_text(line, len), "key text in a log line: %s",
		   line);
}

void fuzz_quiet_env(struct wg_env *env, struct fuzz_quiet_env *q,
		    uint64_t seed)
{
	memset(q, 0, sizeof(*q));
	fuzz_rng_init(&q->rng, seed);
	q->wall_sec = 1700000000;
	memset(env, 0, sizeof(*env));
	env->ctx = q;
	env->random = quiet_random;
	env->wall_clock = quiet_wall;
	env->send = quiet_send;
	env->deliver = quiet_deliver;
	env->log = fuzz_log_check;
	env->log_level = WG_LOG_TRACE;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

static bool is_base64(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '+' || c == '/';
}

bool fuzz_has_key_text(const char *text, size_t len)
{
	size_t hex_run = 0, b64_run = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		hex_run = is_hex(c) ? hex_run + 1 : 0;
		b64_run = is_base64(c) ? b64_run + 1 : 0;
		/* A whole key: with or without its base64 padding. */
		if (hex_run >= 64 || b64_run >= 43)
			return true;
	}
	return false;
}

void fuzz_check_parse_error(const struct wg_parse_error *err,
			    unsigned int max_line)
{
	size_t klen = strnlen(err->key, sizeof(err->key));
	size_t mlen = strnlen(err->message, sizeof(err->message));

	FUZZ_CHECK(klen < sizeof(err->key), "error key not terminated");
	FUZZ_CHECK(mlen < sizeof(err->message), "error message not terminated");
	FUZZ_CHECK(mlen > 0, "an error without a message");
	FUZZ_CHECK(err->line >= 1 && err->line <= max_line,
		   "error at line %u of %u: %s", err->line, max_line,
		   err->message);
	FUZZ_CHECK(!fuzz_has_key_text(err->key, klen),
		   "key text in an error's key: %s", err->key);
	FUZZ_CHECK(!fuzz_has_key_text(err->message, mlen),
		   "key text in an error message: %s", err->message);
}

int fuzz_for_each_line(const uint8_t *data, size_t size, fuzz_line_fn fn,
		       void *ctx, unsigned int *lines)
{
	size_t pos = 0;
	int ret = 0;

	*lines = 0;
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t end = nl ? (size_t)(nl - data) : size;
		size_t len = end - pos;
		/* Exactly len bytes (malloc(0) is a valid zero-sized
		 * block): one past the end is a red zone. */
		char *line = malloc(len);

		FUZZ_CHECK(line, "out of memory");
		if (len)
			memcpy(line, data + pos, len);
		(*lines)++;
		ret = fn(ctx, line, len);
		sodium_memzero(line, len);
		free(line);
		if (ret)
			break;
		pos = end + 1;
	}
	return ret;
}

void fuzz_check_buf(const struct wg_buf *b)
{
	FUZZ_CHECK(!b->oom, "an emitter ran out of memory");
	FUZZ_CHECK(b->data, "an emitter wrote nothing");
	FUZZ_CHECK(strlen(b->data) == b->len, "a NUL inside emitted text");
}
