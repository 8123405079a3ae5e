/* SPDX-License-Identifier: MIT */
/*
 * `uniguard stats` (cli_stats.h): asks stats=1 (uapi_server.h) and prints
 * the answer, which the daemon's stats.c makes: the core's verdicts, then
 * handshake and datapath counters.
 */
#include "cli_stats.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_uapi.h"
#include "stats.h"

/* What each drop reason means: the table's help names the family
 * ("dropped, by reason"); the reasons are the core's verdicts (wg.h). */
static const struct {
	const char *key;
	const char *meaning;
} verdicts[] = {
	{ "drop_malformed", "Dropped: unknown type or wrong length." },
	{ "drop_mac", "Dropped: wrong mac1 (or mac2 under load)." },
	{ "drop_cookie_sent", "Handshakes answered with a cookie under "
			      "load." },
	{ "drop_ratelimit", "Handshakes dropped: source over its rate." },
	{ "drop_handshake", "Handshakes dropped: bad, unknown or replayed." },
	{ "drop_unknown_index", "Dropped: receiver index of no session." },
	{ "drop_key", "Dropped: bad tag or expired keys." },
	{ "drop_replay", "Dropped: counter seen before or too old." },
	{ "drop_source", "Dropped: inner source not in the peer's "
			 "allowed IPs." },
	{ "drop_no_peer", "Dropped: no peer for the destination." },
	{ "drop_no_endpoint", "Dropped: the peer has no endpoint yet." },
	{ "drop_no_key", "Dropped: no private key configured." },
	{ "drop_too_big", "Dropped: larger than the core handles." },
};

const char *cli_stats_describe(const char *key)
{
	static const struct stats_snapshot none;

	for (size_t i = 0; i < sizeof(verdicts) / sizeof(verdicts[0]); i++) {
		if (strcmp(key, verdicts[i].key) == 0)
			return verdicts[i].meaning;
	}
	/* The rest as the daemon's own table (stats.h) describes them for
	 * its metrics page: a new counter is described where it is added. */
	for (size_t i = 0; i < stats_counter_count(); i++) {
		struct stats_counter c;

		stats_counter_get(&none, i, &c);
		if (strcmp(key, c.name) == 0)
			return c.help;
	}
	return NULL;
}

enum stats_format { STATS_TEXT, STATS_JSON, STATS_NONZERO };

struct printer {
	FILE *out;
	enum stats_format format;
	unsigned int n;		/* pairs printed so far */
};

/* The daemon's values are decimal counters; anything else is printed
 * as it came, but never into JSON as a number. */
static bool is_counter(const char *value)
{
	if (!*value)
		return false;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}
	return true;
}

static int print_pair(void *ctx, const char *key, const char *value)
{
	struct printer *p = ctx;
	const char *meaning = cli_stats_describe(key);

	switch (p->format) {
	case STATS_JSON:
		/* Keys are the daemon's own names, [a-z0-9_]. */
		if (is_counter(value))
			fprintf(p->out, "%s\"%s\": %s", p->n ? ", " : "",
				key, value);
		else
			fprintf(p->out, "%s\"%s\": null", p->n ? ", " : "",
				key);
		break;
	case STATS_NONZERO:
		if (strcmp(value, "0") == 0)
			return 0;
		if (!p->n)
			fprintf(p->out, "\ncounters:\n");
		fprintf(p->out, "  %s: %s\n", key, value);
		break;
	case STATS_TEXT:
		fprintf(p->out, "  %-21s %12s%s%s\n", key, value,
			meaning ? "  " : "", meaning ? meaning : "");
		break;
	}
	p->n++;
	return 0;
}

/* A JSON string: an interface name may hold any byte but '/'. */
static void print_json_string(FILE *out, const char *text)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* quiet: a daemon that cannot be asked is left out without a word (when
 * listing every socket, some may be stale or not uniguard's). */
static int print_stats(FILE *out, const char *ifname,
		       enum stats_format format, bool first, bool quiet)
{
	struct wg_buf answer = { 0 };
	struct printer p = { .out = out, .format = format };
	int status, ret;

	ret = cli_uapi_ask(ifname, "stats=1\n\n", &answer, &status);
	if (!ret && status)
		ret = status;
	if (ret && !quiet) {
		if (status)
			fprintf(stderr, "uniguard: %s: stats=1 answered "
				"errno=%d (not a uniguard daemon?)\n", ifname,
				status);
		else
			cli_uapi_report(ifname, ret);
	}
	if (ret) {
		wg_buf_clear(&answer);
		return ret;
	}
	if (format == STATS_JSON) {
		fprintf(out, "%s{\"interface\": ", first ? "" : ",\n");
		print_json_string(out, ifname);
		fputs(", \"counters\": {", out);
	}
	else if (format == STATS_TEXT)
		fprintf(out, "%sinterface: %s\n", first ? "" : "\n", ifname);
	(void)cli_uapi_each_pair(answer.data, print_pair, &p);
	if (format == STATS_JSON)
		fprintf(out, "}}");
	wg_buf_clear(&answer);
	return 0;
}

int cli_stats_print_nonzero(FILE *out, const char *ifname)
{
	return print_stats(out, ifname, STATS_NONZERO, true, true);
}

static void print_usage(FILE *out)
{
	fputs("usage: uniguard stats [--json] [IFNAME...]\n"
	      "\n"
	      "Prints the counters of the running interfaces IFNAME (all of\n"
	      "them without one), each with what it counts.\n"
	      "\n"
	      "  --json         a JSON array of {\"interface\": NAME,\n"
	      "                 \"counters\": {KEY: N, ...}}, for scripts\n"
	      "  -h, --help     this text\n", out);
}

int cli_stats_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum stats_format format = STATS_TEXT;
	char **names = NULL;
	int c, status = 0, printed = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			format = STATS_JSON;
			break;
		case 'h':
			print_usage(stdout);
			return 0;
		default:
			print_usage(stderr);
			return 2;
		}
	}
	if (optind == argc) {
		names = cli_uapi_names();
		if (!names) {
			fprintf(stderr, "uniguard: out of memory\n");
			return 1;
		}
	}
	if (format == STATS_JSON)
		fputs("[", stdout);
	for (int i = 0; names ? names[i] != NULL : optind + i < argc; i++) {
		const char *ifname = names ? names[i] : argv[optind + i];

		if (print_stats(stdout, ifname, format, printed == 0,
				names != NULL))
			status = names ? status : 1;
		else
			printed++;
	}
	if (format == STATS_JSON)
		fputs("]\n", stdout);
	cli_uapi_names_free(names);
	return status;
}
