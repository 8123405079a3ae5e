/* SPDX-License-Identifier: MIT */
/*
 * Words that are never interface names: uniguard's own subcommands and
 * the commands a user guesses (`uniguard up`, `uniguard status`). Without
 * this check `uniguard show` would create a TUN interface named "show" and
 * a daemon for it.
 */
#ifndef UNIGUARD_CLI_WORDS_H
#define UNIGUARD_CLI_WORDS_H

/* What to run instead when name is such a word, or NULL for a name that
 * may be an interface's. */
const char *cli_word_hint(const char *name);

#endif
