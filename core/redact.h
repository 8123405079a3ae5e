/* SPDX-License-Identifier: MIT */
/*
 * The one rule that decides whether text may hold a key and so is never
 * printed: the core's parse errors (wg_quote, wg_parse_error_set) and the
 * daemon's log lines (log_redact) both ask it. Pure functions: no I/O.
 *
 * A key is 44 base64 characters (43 without its '=') or 64 hex digits, and
 * a user may paste it, or a piece of it, anywhere. Text is looked at in
 * runs of the key alphabet, letters, digits, '+' and '/' (hex digits are
 * in it), each with the '='s that follow it as a key's padding. A run is
 * key-like when
 *   - it is WG_KEY_RUN_MIN (16) or more characters long and is not words
 *     joined by '/': it holds a '+' or an '=', or a digit followed by a
 *     letter (a key, base64 or hex, almost always does within 16
 *     characters); or
 *   - it is WG_KEY_WORD_MAX (24) or more characters long.
 * A word is letters then digits: "PersistentKeepAlive2", "wg0", "51820".
 * A run with a '/' in it is judged part by part, between the '/'s, by
 * the same two tests, and whole only for mixing upper- and lower-case
 * letters over 16 characters or more, as base64 does and a path seldom
 * does: "/tmp/test_draws0/ugt6041bf.conf" names a file, not a key.
 * So names and their typos, numbers and paths still print; a whole key,
 * base64 or hex, with or without its padding, never does, nor a piece of
 * 16 characters that mixes digits into letters as keys do, nor any run of
 * 24 letters and digits.
 */
#ifndef UNIGUARD_REDACT_H
#define UNIGUARD_REDACT_H

#include <stdbool.h>
#include <stddef.h>

#define WG_KEY_RUN_MIN 16
#define WG_KEY_WORD_MAX 24
/* A key without its padding: 43 base64 characters (64 in hex). */
#define WG_KEY_WHOLE_MIN 43

/* Whether c belongs to the key alphabet (letters, digits, '+', '/'). */
bool wg_key_alphabet(char c);

/* The length of the run at s (at most len): characters of the key
 * alphabet, then '='s. 0 if s[0] starts none. */
size_t wg_key_run_len(const char *s, size_t len);

/* Whether the run s[0..len) (as wg_key_run_len finds them) is key-like. */
bool wg_key_like_run(const char *s, size_t len);

/* Whether any run of the key alphabet in s[0..len) is key-like. */
bool wg_may_hold_key(const char *s, size_t len);

/* The narrower question for a host name about to be looked up (an
 * Endpoint): a name sent to DNS leaves the machine, so one that holds a
 * whole key is refused, without naming it. That is a run of
 * WG_KEY_WHOLE_MIN or more characters of the key alphabet or '=' (a key
 * without its padding is 43 base64 characters, 64 in hex). Not the rule
 * above: it also catches pieces and long words, and a host name it
 * caught would be refused, not just left unprinted; a host name has no
 * such run (a label is at most 63 characters, and long ones carry '-' or
 * '.'). */
bool wg_holds_whole_key(const char *host, size_t len);

#endif
