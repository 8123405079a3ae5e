/* SPDX-License-Identifier: MIT */
/* The key-redaction rule, redact.h. */
#include "redact.h"

#include <string.h>

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool wg_key_alphabet(char c)
{
	return is_letter(c) || is_digit(c) || c == '+' || c == '/';
}

size_t wg_key_run_len(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len && wg_key_alphabet(s[i]))
		i++;
	if (i == 0)
		return 0;
	while (i < len && s[i] == '=')
		i++;
	return i;
}

/* Words joined by '/' (each letters then digits), and the longest word. */
static bool words_joined_by_slash(const char *s, size_t len, size_t *longest)
{
	size_t word = 0;
	bool after_digit = false;

	*longest = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '/') {
			word = 0;
			after_digit = false;
			continue;
		}
		if (c == '+' || c == '=' || (is_letter(c) && after_digit))
			return false;
		after_digit = is_digit(c);
		word++;
		if (word > *longest)
			*longest = word;
	}
	return true;
}

/* The rule for a run that is no absolute path (or for one part of one). */
static bool key_like_text(const char *s, size_t len)
{
	size_t longest;

	if (len < WG_KEY_RUN_MIN)
		return false;
	if (!words_joined_by_slash(s, len, &longest))
		return true;
	return len >= WG_KEY_WORD_MAX;
}

/* Both cases of letters: a key's base64 has them within any 16 of its
 * characters, a path seldom does. */
static bool mixes_case(const char *s, size_t len)
{
	bool upper = false, lower = false;

	for (size_t i = 0; i < len; i++) {
		upper |= s[i] >= 'A' && s[i] <= 'Z';
		lower |= s[i] >= 'a' && s[i] <= 'z';
	}
	return upper && lower;
}

bool wg_key_like_run(const char *s, size_t len)
{
	size_t start = 0;

	if (!memchr(s, '/', len))
		return key_like_text(s, len);
	/* Parts of a path on their own ("draws0/ugt6041bf" holds names, not
	 * a key), and the whole run when it mixes cases as base64 does (a
	 * key with a '/', however its '/'s cut it). */
	if (len >= WG_KEY_RUN_MIN && mixes_case(s, len))
		return true;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		if (key_like_text(s + start, i - start))
			return true;
		start = i + 1;
	}
	return false;
}

bool wg_may_hold_key(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = wg_key_run_len(s + i, len - i);

		if (wg_key_like_run(s + i, run))
			return true;
		i += run ? run : 1;
	}
	return false;
}

bool wg_holds_whole_key(const char *host, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		run = wg_key_alphabet(host[i]) || host[i] == '=' ? run + 1 : 0;
		if (run >= WG_KEY_WHOLE_MIN)
			return true;
	}
	return false;
}
