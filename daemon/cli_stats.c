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

static const struct {
	const char *key;
	const char *meaning;
} descriptions[] = {
	{ "ok", "packets that did what they were for" },
	{ "drop_malformed", "dropped: unknown type or wrong length" },
	{ "drop_mac", "dropped: wrong mac1 (or mac2 under load)" },
	{ "drop_cookie_sent", "handshakes answered with a cookie (under "
			      "load)" },
	{ "drop_ratelimit", "handshakes dropped: source over its rate" },
	{ "drop_handshake", "handshakes dropped: bad, unknown or replayed" },
	{ "drop_unknown_index", "dropped: receiver index of no session" },
	{ "drop_key", "dropped: bad tag or expired keys" },
	{ "drop_replay", "dropped: counter seen before or too old" },
	{ "drop_source", "dropped: inner source not in the peer's allowed "
			 "IPs" },
	{ "drop_no_peer", "dropped: no peer for the destination" },
	{ "drop_no_endpoint", "dropped: the peer has no endpoint yet" },
	{ "drop_no_key", "dropped: no private key configured" },
	{ "drop_too_big", "dropped: larger than the core handles" },
	{ "handshakes_initiated", "handshakes started" },
	{ "handshakes_completed", "handshakes completed" },
	{ "cookies_sent", "cookie replies sent" },
	{ "cookies_received", "cookie replies received" },
	{ "keepalives_sent", "keepalives sent" },
	{ "staged_dropped", "packets dropped waiting for a handshake" },
	{ "udp_send_errors", "datagrams the system would not send" },
	{ "udp_recv_errors", "errors receiving datagrams" },
	{ "tun_write_errors", "packets the interface would not take" },
	{ "udp_too_big", "datagrams too big for their route" },
	{ "tun_dropped", "super-packets from the interface not cut up" },
	{ "handshakes_shed", "handshakes shed unseen in a flood" },
};

const char *cli_stats_describe(const char *key)
{
	for (size_t i = 0; i < sizeof(descriptions) / sizeof(descriptions[0]);
	     i++) {
		if (strcmp(key, descriptions[i].key) == 0)
			return descriptions[i].meaning;
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
