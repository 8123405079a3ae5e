/* SPDX-License-Identifier: MIT */
/*
 * The -c file, and the file `uniguard convert` prints: read whole, told
 * apart by content (UAPI "set" lines or a wg-quick INI file), parsed by
 * the core, and endpoints given as host names resolved. Errors are printed as "FILE:LINE: KEY: message" before the
 * daemon opens anything, never quoting anything long enough to be a key.
 * A file that its group or others may access draws a logged warning that
 * names it and its mode, as it may hold private keys.
 */
#ifndef UNIGUARD_CONFFILE_H
#define UNIGUARD_CONFFILE_H

#include "config.h"

/* Fills cfg (wg_config_init'ed here; the caller clears it) from the file
 * at path, or from standard input for "-" (`uniguard convert -`). 0, or -1
 * after printing why to stderr. */
int conffile_load(const char *path, struct wg_config *cfg,
		  enum wg_config_format *format);

#endif
