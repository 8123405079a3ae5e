/* SPDX-License-Identifier: MIT */
/*
 * Recognising a key pasted where a host name belongs (an Endpoint), so
 * that it is refused before any lookup: a name sent to DNS leaves the
 * machine, and a private key must never do that.
 */
#ifndef UNIGUARD_KEYSHAPE_H
#define UNIGUARD_KEYSHAPE_H

#include <stdbool.h>
#include <stddef.h>

/* The shortest run taken for a key: a 32-byte key without its '=' is 43
 * base64 characters (64 in hex). A host name has no such run: a label
 * is at most 63 characters, and long ones carry '-' or '.'. */
#define KEYSHAPE_RUN_MIN 43

/* Whether host (len bytes, no port) holds a run of KEYSHAPE_RUN_MIN or
 * more characters of the base64 alphabet ('=' included, which takes in
 * hex too). Callers refuse such a host without naming it. */
bool keyshape_host(const char *host, size_t len);

#endif
