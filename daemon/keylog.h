/* SPDX-License-Identifier: MIT */
/*
 * The key log: the secrets Wireshark's WireGuard dissector needs to decrypt
 * a capture of this interface (its `wg.keylog_file` preference), one
 * "<TYPE> = <base64 key>" line each:
 *   LOCAL_STATIC_PRIVATE_KEY     our private key, whenever it is set
 *   REMOTE_STATIC_PUBLIC_KEY     each peer's public key, once
 *   LOCAL_EPHEMERAL_PRIVATE_KEY  each ephemeral key the core makes
 *   PRESHARED_KEY                after an ephemeral key: the preshared keys
 *                                that handshake may use
 * The dissector ties a PRESHARED_KEY line to the ephemeral key just before
 * it. The core does not say which peer an ephemeral key is for, so each
 * distinct preshared key follows it, the ephemeral line repeated before
 * each (the dissector keeps them all for that key).
 *
 * The file holds secrets: it is created 0600, and whoever reads it can
 * decrypt everything the interface carries while it is written.
 */
#ifndef UNIGUARD_KEYLOG_H
#define UNIGUARD_KEYLOG_H

#include "wg.h"

struct keylog;

/* Creates (or truncates) path, mode 0600: 0 or negative errno. */
int keylog_open(struct keylog **out, const char *path);
/* The core's env.keylog line for a new ephemeral key. */
void keylog_ephemeral(struct keylog *kl, const char *line);
/* After a configuration change: our private key if it is new, the
 * public keys of peers not seen before, and the preshared keys as they now
 * are. 0 or negative errno. */
int keylog_sync(struct keylog *kl, struct wg_device *dev);
/* Wipes what it kept and closes: 0, or negative errno if a line was lost. */
int keylog_close(struct keylog *kl);

#endif
