#!/bin/sh
# SPDX-License-Identifier: MIT
# The core does no I/O and has no clock or randomness of its own: every
# symbol the core library needs from outside must be on this list of pure
# functions (memory, strings, formatting, address text), libsodium's
# primitives, and the few of OpenSSL libcrypto's that make ChaCha20's key
# stream and Poly1305's tag in their contexts (core/crypto_libcrypto.c).
# libsodium's random generator (randombytes_*) is not on it, nor any of
# libcrypto's others (RAND_*, BIO_*, its configuration loaders): randomness
# reaches the core only through its environment. (libcrypto initialises
# itself at its first use; the daemon does that first, without reading a
# configuration file, daemon/aead_choice.c.) _GLOBAL_OFFSET_TABLE_ is no
# function but the linker's table, which the assembler names in any object
# with thread-local variables (the AEAD's per-thread contexts).
# Usage: check_core_symbols.sh libuniguard_core.a
set -eu
lib=$1
allowed='^(calloc|malloc|realloc|free|memchr|memcmp|memcpy|memmove|memset|strlen|strchr|strncmp|strcmp|strncasecmp|strcasecmp|strtoul|strtoull|strtol|snprintf|vsnprintf|inet_pton|inet_ntop|htons|ntohs|htonl|ntohl|__stack_chk_fail|__ctype_b_loc|__ctype_tolower_loc|__isoc99_sscanf|__assert_fail)$|^(sodium_(init|memzero|memcmp|is_zero|bin2hex|hex2bin|bin2base64|base642bin)|crypto_(aead_chacha20poly1305_ietf|aead_xchacha20poly1305_ietf|scalarmult|shorthash_siphash24|generichash|stream_chacha20)[a-z0-9_]*)$|^(EVP_CIPHER_CTX_(new|free|get_iv_length)|EVP_Cipher(Init_ex|Update)|EVP_chacha20|EVP_MAC(_CTX_new|_CTX_free|_fetch|_free|_init|_update|_final))$|^__(asan|ubsan|sanitizer)_|^_GLOBAL_OFFSET_TABLE_$'
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
echo "core/ external symbols: all pure functions, libsodium or libcrypto AEAD primitives"
