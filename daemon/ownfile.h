/* SPDX-License-Identifier: MIT */
/*
 * Opening the files the daemon writes as root (the log, the key log, the
 * capture) so that nobody else can have prepared them: no symlink is
 * followed, and a file that exists must be a regular file of ours with
 * one link. Otherwise another user could make root write into a file of
 * their choosing, or read secrets from a file they own.
 */
#ifndef UNIGUARD_OWNFILE_H
#define UNIGUARD_OWNFILE_H

#include <sys/types.h>

enum ownfile_mode {
	OWNFILE_TRUNCATE, /* start empty (key log, capture) */
	OWNFILE_APPEND,   /* add to what is there (the log) */
};

/* Opens path for writing, created with perm if missing; an existing file
 * is refused unless it is regular, owned by our effective user and has
 * exactly one link (-EPERM; -ELOOP for a symlink, as open says). On
 * success the descriptor is close-on-exec; for OWNFILE_TRUNCATE the file
 * is emptied and set to perm (a log keeps the mode it has). Descriptor, or negative errno. */
int ownfile_open(const char *path, enum ownfile_mode how, mode_t perm);

#endif
