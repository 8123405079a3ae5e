/* SPDX-License-Identifier: MIT */
/* The key-redaction rule, redact.h. */
#include "redact.h"

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

bool wg_key_like_run(const char *s, size_t len)
{
	size_t longest;

	if (len < WG_KEY_RUN_MIN)
		return false;
	if (!words_joined_by_slash(s, len, &longest))
		return true;
	if (len < WG_KEY_WORD_MAX)
		return false;
	/* Long words joined by '/' are a path only if absolute: a relative
	 * one would let through the odd key whose every digit comes just
	 * before a '/'. */
	return s[0] != '/' || longest >= WG_KEY_WORD_MAX;
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
