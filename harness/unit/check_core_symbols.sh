#!/bin/sh
# SPDX-License-Identifier: MIT
# The core does no I/O and has no clock or randomness of its own: every
# symbol the core library needs from outside must be on this list of pure
# functions (memory, strings, formatting, address text) and libsodium's
# primitives. libsodium's random generator (randombytes_*) is not on it:
# randomness reaches the core only through its environment.
# Usage: check_core_symbols.sh libuniguard_core.a
set -eu
lib=$1
allowed='^(calloc|malloc|realloc|free|memchr|memcmp|memcpy|memmove|memset|strlen|strchr|strncmp|strcmp|strncasecmp|strcasecmp|strtoul|strtoull|strtol|snprintf|vsnprintf|inet_pton|inet_ntop|htons|ntohs|htonl|ntohl|__stack_chk_fail|__ctype_b_loc|__ctype_tolower_loc|__isoc99_sscanf|__assert_fail)$|^(sodium_(init|memzero|memcmp|is_zero|bin2hex|hex2bin|bin2base64|base642bin)|crypto_(aead_chacha20poly1305_ietf|aead_xchacha20poly1305_ietf|scalarmult|shorthash_siphash24|generichash|stream_chacha20)[a-z0-9_]*)$|^__(asan|ubsan|sanitizer)_'
defined=$(nm --defined-only --format=just-symbols "$lib" 2>/dev/null | sort -u)
undefined=$(nm -u --format=just-symbols "$lib" 2>/dev/null | sort -u)
bad=""
for sym in $undefined; do
	echo "$defined" | grep -qx -- "$sym" && continue
	echo "$sym" | grep -Eq "$allowed" && continue
	bad="$bad $sym"
done
if [ -n "$bad" ]; then
	echo "core/ uses functions outside its allowed set:$bad" >&2
	exit 1
fi
echo "core/ external symbols: all pure functions or libsodium primitives"
