/* SPDX-License-Identifier: MIT */
/*
 * What the libFuzzer targets share: a core environment whose randomness is
 * a seeded stream (so one input always takes one path), line splitting that
 * gives each line its own exactly sized buffer (so a parser that reads past
 * a line's end trips AddressSanitizer), and the checks every target makes
 * on text the core hands back (no key ever quoted).
 */
#ifndef UNIGUARD_FUZZ_SUPPORT_H
#define UNIGUARD_FUZZ_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "wg.h"

/* libFuzzer's entry points, declared for -Wmissing-prototypes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken invariant: says which and aborts, so libFuzzer saves the input. */
#define FUZZ_CHECK(cond, ...)                                              \
	do {                                                               \
		if (!(cond))                                               \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt,
	       ...) __attribute__((noreturn, format(printf, 4, 5)));

/* A deterministic random stream: the same seed gives the same bytes. */
struct fuzz_rng {
	uint8_t seed[32];
	uint64_t calls;
};
void fuzz_rng_init(struct fuzz_rng *r, uint64_t seed);
void fuzz_rng_bytes(struct fuzz_rng *r, void *buf, size_t len);

/* An environment that sends and delivers nowhere, with a seeded random
 * stream, a wall clock fixed at *wall_sec, and a log callback that checks
 * every line for key text. */
struct fuzz_quiet_env {
	struct fuzz_rng rng;
	uint64_t wall_sec;
	size_t sent;
	size_t delivered;
};
void fuzz_quiet_env(struct wg_env *env, struct fuzz_quiet_env *q,
		    uint64_t seed);
/* The log callback the quiet environment uses; other targets may share it
 * (ctx is ignored). */
void fuzz_log_check(void *ctx, enum wg_log_level level, const char *line);

/* true if text holds something shaped like a key: a run of 64 hex digits,
 * or of 43 base64 characters (a key without its '='). Messages and logs
 * must hold none. */
bool fuzz_has_key_text(const char *text, size_t len);

/* Checks a parse error the core filled in: NUL-terminated fields, a line
 * within 1..max_line, a message, and no key text in key or message. */
void fuzz_check_parse_error(const struct wg_parse_error *err,
			    unsigned int max_line);

/* Calls fn on each '\n'-terminated line of data (the last one may lack the
 * newline), each in a malloc'd buffer of exactly its length. Stops at the
 * first non-zero return, which it returns; *lines counts the lines fed. */
typedef int (*fuzz_line_fn)(void *ctx, const char *line, size_t len);
int fuzz_for_each_line(const uint8_t *data, size_t size, fuzz_line_fn fn,
		       void *ctx, unsigned int *lines);

/* A whole text emitted into a wg_buf: well formed (no NUL inside, no
 * allocation failure). */
void fuzz_check_buf(const struct wg_buf *b);

#endif
