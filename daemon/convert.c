/* SPDX-License-Identifier: MIT */
/*
 * `uniguard convert FILE`: reads a wg-quick file (wg(8) "CONFIGURATION FILE
 * FORMAT") and prints the cross-platform UAPI set transaction
 * (https://www.wireguard.com/xplatform/) that `wg setconf` sends for it,
 * the form a `-c` file may also take. A file already in that form is
 * checked and printed again. The file is read, checked and its Endpoint
 * host names resolved by the daemon's own loader (conffile.h), as `-c`
 * reads it.
 */
#include "convert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conffile.h"
#include "config.h"
#include "uapi.h"

static void print_usage(FILE *out)
{
	fprintf(out,
		"usage: uniguard convert FILE\n"
		"\n"
		"Prints the wg-quick file FILE (\"-\" for standard input)\n"
		"as the UAPI set transaction that `wg setconf` sends for\n"
		"it.\n");
}

static bool write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		data += w;
		len -= (size_t)w;
	}
	return true;
}

int uniguard_convert_main(int argc, char **argv)
{
	enum wg_config_format format;
	struct wg_config cfg;
	struct wg_buf out = { 0 };
	int ret = 1;

	if (argc == 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		print_usage(stdout);
		return 0;
	}
	if (argc != 2 || (argv[1][0] == '-' && argv[1][1] != '\0')) {
		print_usage(stderr);
		return 2;
	}
	if (conffile_load(argv[1], &cfg, &format) < 0)
		goto out;
	wg_uapi_emit_set(&out, &cfg);
	if (out.oom) {
		fprintf(stderr, "%s: out of memory\n", argv[1]);
		goto out;
	}
	if (!write_all(STDOUT_FILENO, out.data, out.len)) {
		fprintf(stderr, "uniguard convert: writing: %s\n",
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	/* Both held the private key. */
	wg_buf_clear(&out);
	wg_config_clear(&cfg);
	return ret;
}
