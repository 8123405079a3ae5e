/* SPDX-License-Identifier: MIT */
/*
 * Key-shaped host names (keyshape.h): one scan for the longest run of
 * base64 characters (RFC 4648's alphabet and its padding).
 */
#include "keyshape.h"

static bool is_base64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

bool keyshape_host(const char *host, size_t len)
{
	size_t run = 0;

	for (size_t i = 0; i < len; i++) {
		run = is_base64_char(host[i]) ? run + 1 : 0;
		if (run >= KEYSHAPE_RUN_MIN)
			return true;
	}
	return false;
}
