/* SPDX-License-Identifier: MIT */
/* The words that are not interface names (cli_words.h), each with what the
 * user probably meant. */
#include "cli_words.h"

#include <stddef.h>
#include <string.h>

struct cli_word {
	const char *word;
	const char *hint;
};

static const struct cli_word cli_words[] = {
	/* uniguard's own subcommands, asked for after options. */
	{ "show", "uniguard show [IFNAME]" },
	{ "stats", "uniguard stats [--json] [IFNAME]" },
	{ "status", "uniguard show [IFNAME]" },
	{ "help", "uniguard --help" },
	{ "version", "uniguard --version" },
	{ "convert", "uniguard convert FILE" },
	{ "replay", "uniguard replay --help" },
	/* What wg-quick, ip and service managers do. */
	{ "up", "WG_QUICK_USERSPACE_IMPLEMENTATION=uniguard wg-quick up "
		"IFNAME, or uniguard -c FILE IFNAME" },
	{ "down", "wg-quick down IFNAME, or ip link del IFNAME" },
	{ "start", "uniguard [options] IFNAME" },
	{ "run", "uniguard [options] IFNAME" },
	{ "stop", "ip link del IFNAME, or SIGTERM to its daemon" },
	{ "restart", "ip link del IFNAME, then uniguard [options] IFNAME" },
	{ "reload", "wg syncconf IFNAME FILE" },
	{ "list", "uniguard show" },
	{ "ls", "uniguard show" },
	{ "info", "uniguard show [IFNAME]" },
	/* wg(8)'s commands. */
	{ "showconf", "wg showconf IFNAME" },
	{ "set", "wg set IFNAME ..." },
	{ "setconf", "wg setconf IFNAME FILE" },
	{ "addconf", "wg addconf IFNAME FILE" },
	{ "syncconf", "wg syncconf IFNAME FILE" },
	{ "genkey", "wg genkey" },
	{ "genpsk", "wg genpsk" },
	{ "pubkey", "wg pubkey" },
	{ "strip", "wg-quick strip IFNAME" },
	{ "save", "wg-quick save IFNAME" },
};

const char *cli_word_hint(const char *name)
{
	for (size_t i = 0; i < sizeof(cli_words) / sizeof(cli_words[0]); i++) {
		if (strcmp(name, cli_words[i].word) == 0)
			return cli_words[i].hint;
	}
	return NULL;
}
