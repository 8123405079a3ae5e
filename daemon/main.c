/* SPDX-License-Identifier: MIT */
/*
 * uniguard's entry point: subcommands first ("convert", "replay"), then
 * the daemon's command line, which keeps the options of the gateway it
 * replaces so that existing launch configurations work unchanged:
 *   uniguard [-f] [-v LEVEL] [-c FILE] [--disable-drop-privileges yes]
 *            [-l FILE] [--aead auto|libcrypto|libsodium] IFNAME
 */
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aead_choice.h"
#include "cli_show.h"
#include "cli_stats.h"
#include "cli_words.h"
#include "compat.h"
#include "config.h"
#include "convert.h"
#include "daemon.h"
#include "endpoint.h"
#include "log.h"
#include "metadata_peers.h"
#include "privs.h"
#include "replay.h"
#include "startup.h"

static const char usage[] =
"usage: uniguard [options] IFNAME\n"
"       uniguard show [IFNAME...]\n"
"       uniguard stats [--json] [IFNAME...]\n"
"       uniguard help | version\n"
"       uniguard convert FILE\n"
"       uniguard replay [options] IN.pcap OUT.pcap\n"
"\n"
"Runs a WireGuard interface IFNAME in userspace: a TUN device, a UDP\n"
"socket, and the configuration socket /var/run/wireguard/IFNAME.sock\n"
"that `wg` and `wg-quick` use.\n"
"\n"
"  -f, --foreground        stay in the foreground (default: detach once\n"
"                          the configuration socket listens)\n"
"  -v, --verbosity LEVEL   error, warn, info (default), debug\n"
"                          or trace\n"
"  -c, --config FILE       configure from FILE at start: the UAPI set\n"
"                          lines `wg setconf` sends, or a wg-quick file\n"
"                          (its Address and MTU are applied too)\n"
"  -l, --log FILE          append the log to FILE (default: stderr in\n"
"                          the foreground, syslog once detached)\n"
"  --disable-drop-privileges [yes]\n"
"                          keep running as root (default: become nobody\n"
"                          once the interface is open)\n"
"  --netdev tun|tap[:OPTIONS]\n"
"                          the inner device (default tun); tap speaks\n"
"                          Ethernet, OPTIONS separated by commas:\n"
"                          address=ADDR/LEN gateway=ADDR proxy-arp\n"
"                          mac=MAC (see docs/netdev.md)\n"
"  --http ADDR:PORT        serve GET /healthz and /metrics (Prometheus)\n"
"                          there, e.g. 0.0.0.0:9586 (default: off)\n"
"  --log-counters SECONDS  log a line of counters this often (default\n"
"                          600, 0: never)\n"
"  --capture FILE          write both sides to the pcap FILE\n"
"  --keylog FILE           write the keys Wireshark needs to decrypt\n"
"                          them (secret: whoever reads it can decrypt)\n"
"  --insecure-seed TEXT    randomness from TEXT, so that a recording can\n"
"                          be replayed: every key becomes predictable\n"
"  --aead auto|libcrypto|libsodium\n"
"                          who seals and opens the data packets: OpenSSL's\n"
"                          libcrypto or libsodium (default auto: the\n"
"                          faster here, timed at start)\n"
"  --peers-from gce-metadata[:ATTRIBUTE]\n"
"                          peers also from the Compute Engine metadata\n"
"                          attribute (default uniguard-peers), followed\n"
"                          as it changes (docs/operations.md)\n"
"  -h, --help              this text\n"
"  -V, --version           the version\n"
"\n"
"Taken as boringtun and wireguard-go take them (docs/daemon.md):\n"
"  --tun-fd N              use the TUN device open on descriptor N (its\n"
"                          name replaces IFNAME)\n"
"  --uapi-fd N             use descriptor N for the configuration: a\n"
"                          listening socket, or one connection whose end\n"
"                          stops the daemon\n"
"  -t, --threads N         1: the packet path runs in the event loop;\n"
"                          more: its usual thread per direction\n"
"  --disable-connected-udp, --disable-multi-queue\n"
"                          accepted, no effect (uniguard does neither)\n"
"\n"
"  convert FILE            print a wg-quick file as the UAPI set\n"
"                          transaction that `wg setconf` sends\n"
"  replay ... IN OUT       feed a capture to the protocol core and write\n"
"                          what it does (`uniguard replay --help`)\n"
"  show [IFNAME...]        what `wg show` shows of running interfaces,\n"
"                          and their non-zero counters\n"
"  stats [--json] [IFNAME...]\n"
"                          every counter of running interfaces, with\n"
"                          what it counts (--json: for scripts)\n"
"  help, version           as --help, --version\n"
"\n"
"Command words (show, stats, status, up, down, start, stop, set, ...)\n"
"are never taken as IFNAME: each is refused with what to run instead.\n"
"\n"
"Environment: UNIGUARD_LOG_LEVEL, UNIGUARD_LOG_FILE and UNIGUARD_AEAD give\n"
"-v, -l and --aead their defaults (for when wg-quick starts the daemon,\n"
"or a unikernel's configuration has no arguments); UNIGUARD_DATAPATH\n"
"switches parts of the packet path off (docs/benchmarks.md).\n"
"boringtun's: WG_LOG_LEVEL (-v), WG_LOG_FILE (-l once detached),\n"
"WG_THREADS (-t), WG_SUDO=1 (--disable-drop-privileges), WG_TUN_FD,\n"
"WG_UAPI_FD. wireguard-go's: WG_PROCESS_FOREGROUND=1 (-f), LOG_LEVEL\n"
"(error, verbose or debug, silent), WG_TUN_FD, WG_UAPI_FD,\n"
"WG_TUN_NAME_FILE (no effect: macOS and OpenBSD only).\n"
"SIGINT or SIGTERM stop the interface; SIGUSR1 logs the counters.\n";

static void print_usage(FILE *out)
{
	fputs(usage, out);
}

static void print_version(void)
{
	printf("uniguard %s\n", UNIGUARD_VERSION);
}

enum {
	OPT_VERSION = 256,
	OPT_DISABLE_DROP,
	OPT_NETDEV,
	OPT_CAPTURE,
	OPT_KEYLOG,
	OPT_SEED,
	OPT_AEAD,
	OPT_TUN_FD,
	OPT_UAPI_FD,
	OPT_NO_CONNECTED_UDP,
	OPT_NO_MULTI_QUEUE,
	OPT_HTTP,
	OPT_LOG_COUNTERS,
	OPT_PEERS_FROM,
};

/* "--disable-drop-privileges" may stand alone or take yes/no as the next
 * word, as the launch configurations write it. */
static bool take_bool_word(int argc, char **argv, bool *value)
{
	if (optind >= argc || !compat_parse_yes_no(argv[optind], value))
		return false;
	optind++;
	return true;
}

/* What Linux takes as a network interface name: 1 to 15 bytes, not "." or
 * "..", no '/', ':' or white space (the name also becomes a file name, the
 * socket's). Checked here so that a bad one fails before anything opens. */
static bool valid_ifname(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= 16 || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '/' || ch == ':' || ch <= ' ' || ch == 0x7f)
			return false;
	}
	return true;
}

/* UNIGUARD_DATAPATH, a comma-separated list of switches that turn parts of
 * the packet path off to measure what each is worth ("nothreads,nocoalesce,
 * noanswer,noshed,pin,nopin,pinalways,nospin,spin=N,noshare,batch=N,
 * queue=N"; notso, nogso and nogro for the offloads). Unknown words are
 * ignored: the switches are for measuring, not for normal use. */
/* N of "word=N" into *out when it is a plain decimal up to max. */
static void parse_count(const char *text, uint64_t max, unsigned int *out)
{
	uint64_t v;

	if (wg_parse_decimal(text, strlen(text), max, &v))
		*out = (unsigned int)v;
}

static void parse_datapath_env(struct daemon_options *o)
{
	const char *env = getenv("UNIGUARD_DATAPATH");
	struct datapath_options *dp = &o->datapath;
	char buf[128], *tok, *save = NULL;

	datapath_options_default(dp);
	o->tun_offload = o->udp_gso = o->udp_gro = true;
	if (!env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(tok, "nothreads"))
			dp->threads = false;
		else if (!strcmp(tok, "nocoalesce"))
			dp->coalesce = false;
		else if (!strcmp(tok, "noanswer"))
			dp->answer = false;
		else if (!strcmp(tok, "noshed"))
			dp->shed = false;
		else if (!strcmp(tok, "pin"))
			dp->pin = DATAPATH_PIN_WHEN_BUSY;
		else if (!strcmp(tok, "pinalways"))
			dp->pin = DATAPATH_PIN_ALWAYS;
		else if (!strcmp(tok, "nopin"))
			dp->pin = DATAPATH_PIN_NEVER;
		else if (!strncmp(tok, "spin=", 5))
			parse_count(tok + 5, UINT_MAX, &dp->spin);
		else if (!strcmp(tok, "nospin"))
			dp->spin = 0;
		else if (!strcmp(tok, "noshare"))
			dp->share = false;
		else if (!strcmp(tok, "notso"))
			o->tun_offload = false;
		else if (!strcmp(tok, "nogso"))
			o->udp_gso = false;
		else if (!strcmp(tok, "nogro"))
			o->udp_gro = false;
		else if (!strncmp(tok, "batch=", 6))
			parse_count(tok + 6, UINT_MAX, &dp->batch);
		else if (!strncmp(tok, "queue=", 6))
			parse_count(tok + 6, UINT_MAX, &dp->queue);
	}
}

/* The metadata client's timing, shortened for tests. */
static void parse_metadata_env(struct daemon_options *o)
{
	const char *env = getenv("UNIGUARD_METADATA_WAIT");

	if (env)
		parse_count(env, 3600, &o->metadata_wait_sec);
	env = getenv("UNIGUARD_METADATA_BACKOFF_MAX");
	if (env)
		parse_count(env, 3600, &o->metadata_backoff_max_sec);
}

static int parse_args(int argc, char **argv, struct daemon_options *o)
{
	static const struct option longopts[] = {
		{ "foreground", no_argument, NULL, 'f' },
		{ "verbosity", required_argument, NULL, 'v' },
		{ "config", required_argument, NULL, 'c' },
		{ "log", required_argument, NULL, 'l' },
		{ "disable-drop-privileges", optional_argument, NULL,
		  OPT_DISABLE_DROP },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ "netdev", required_argument, NULL, OPT_NETDEV },
		{ "capture", required_argument, NULL, OPT_CAPTURE },
		{ "keylog", required_argument, NULL, OPT_KEYLOG },
		{ "insecure-seed", required_argument, NULL, OPT_SEED },
		{ "aead", required_argument, NULL, OPT_AEAD },
		/* boringtun's (compat.h). */
		{ "threads", required_argument, NULL, 't' },
		{ "tun-fd", required_argument, NULL, OPT_TUN_FD },
		{ "uapi-fd", required_argument, NULL, OPT_UAPI_FD },
		{ "disable-connected-udp", no_argument, NULL,
		  OPT_NO_CONNECTED_UDP },
		{ "disable-multi-queue", no_argument, NULL,
		  OPT_NO_MULTI_QUEUE },
		{ "http", required_argument, NULL, OPT_HTTP },
		{ "log-counters", required_argument, NULL, OPT_LOG_COUNTERS },
		{ "peers-from", required_argument, NULL, OPT_PEERS_FROM },
		{ NULL, 0, NULL, 0 },
	};
	char attr[METADATA_ATTRIBUTE_MAX + 1];
	struct wg_endpoint ep;
	const char *env;
	bool disable;
	uint64_t n;
	int c;

	o->verbosity = WG_LOG_INFO;
	o->drop_privileges = true;
	o->netdev = "tun";
	parse_datapath_env(o);
	if (compat_read_env(o))
		return 2;
	env = getenv("UNIGUARD_LOG_LEVEL");
	if (env && *env) {
		if (!log_parse_level(env, &o->verbosity)) {
			fprintf(stderr, "uniguard: UNIGUARD_LOG_LEVEL: unknown "
				"level '%s'\n", env);
			return 2;
		}
		o->log_silent = false;
	}
	env = getenv("UNIGUARD_LOG_FILE");
	if (env && *env)
		o->log_path = env;
	env = getenv("UNIGUARD_AEAD");
	if (env && *env) {
		if (!aead_choice_valid(env)) {
			fprintf(stderr, "uniguard: UNIGUARD_AEAD: '%s' is not "
				"auto, libcrypto or libsodium\n", env);
			return 2;
		}
		o->aead = env;
	}
	parse_metadata_env(o);

	/* '+': options stop at the interface name, as POSIX has it. */
	while ((c = getopt_long(argc, argv, "+fv:c:l:ht:V", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'f':
			o->foreground = true;
			break;
		case 'v':
			if (!log_parse_level(optarg, &o->verbosity)) {
				fprintf(stderr, "uniguard: -v: unknown level "
					"'%s' (error, info, debug, trace)\n",
					optarg);
				return 2;
			}
			o->log_silent = false;
			break;
		case 'c':
			o->config_path = optarg;
			break;
		case 'l':
			o->log_path = optarg;
			break;
		case OPT_DISABLE_DROP:
			disable = true;
			if (optarg) {
				if (!compat_parse_yes_no(optarg, &disable)) {
					fprintf(stderr, "uniguard: "
						"--disable-drop-privileges: "
						"'%s' is not yes or no\n",
						optarg);
					return 2;
				}
			} else {
				(void)take_bool_word(argc, argv, &disable);
			}
			o->drop_privileges = !disable;
			break;
		case OPT_NETDEV:
			o->netdev = optarg;
			break;
		case OPT_CAPTURE:
			o->capture_path = optarg;
			break;
		case OPT_KEYLOG:
			o->keylog_path = optarg;
			break;
		case OPT_SEED:
			o->seed = optarg;
			break;
		case OPT_AEAD:
			if (!aead_choice_valid(optarg)) {
				fprintf(stderr, "uniguard: --aead: '%s' is not "
					"auto, libcrypto or libsodium\n",
					optarg);
				return 2;
			}
			o->aead = optarg;
			break;
		case 't':
			if (!compat_parse_threads("-t", optarg, &o->threads))
				return 2;
			break;
		case OPT_TUN_FD:
			if (!compat_parse_fd("--tun-fd", optarg, &o->tun_fd))
				return 2;
			break;
		case OPT_UAPI_FD:
			if (!compat_parse_fd("--uapi-fd", optarg,
					     &o->uapi_fd))
				return 2;
			break;
		case OPT_NO_CONNECTED_UDP:
			o->ignored |= COMPAT_CONNECTED_UDP;
			break;
		case OPT_NO_MULTI_QUEUE:
			o->ignored |= COMPAT_MULTI_QUEUE;
			break;
		case OPT_HTTP:
			if (!wg_endpoint_parse(&ep, optarg, strlen(optarg))) {
				fprintf(stderr, "uniguard: --http: '%s' is not "
					"a numeric ADDR:PORT\n", optarg);
				return 2;
			}
			o->http = optarg;
			break;
		case OPT_LOG_COUNTERS:
			if (!wg_parse_decimal(optarg, strlen(optarg),
					      UINT32_MAX, &n)) {
				fprintf(stderr, "uniguard: --log-counters: '%s' "
					"is not a number of seconds\n", optarg);
				return 2;
			}
			o->has_log_counters = true;
			o->log_counters = (unsigned int)n;
			break;
		case OPT_PEERS_FROM:
			if (!metadata_source_parse(optarg, attr)) {
				fprintf(stderr, "uniguard: --peers-from: '%s' is "
					"not gce-metadata[:ATTRIBUTE]\n",
					optarg);
				return 2;
			}
			o->peers_from = optarg;
			break;
		case 'h':
			print_usage(stdout);
			exit(0);
		case 'V':
		case OPT_VERSION:
			print_version();
			exit(0);
		default:
			print_usage(stderr);
			return 2;
		}
	}
	/* A guessed command ("uniguard up wg0", "uniguard -f show") must
	 * not become an interface. */
	if (optind < argc && cli_word_hint(argv[optind])) {
		fprintf(stderr, "uniguard: '%s' is a command word, not an "
			"interface name; try: %s\n", argv[optind],
			cli_word_hint(argv[optind]));
		return 2;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, optind >= argc ?
			"uniguard: missing the interface name\n" :
			"uniguard: one interface name, after the options\n");
		print_usage(stderr);
		return 2;
	}
	o->ifname = argv[optind];
	if (!valid_ifname(o->ifname)) {
		fprintf(stderr, "uniguard: bad interface name '%s' (1 to 15 "
			"characters, no '/', ':' or spaces)\n", o->ifname);
		return 2;
	}
	compat_finish(o);
	return 0;
}

static int help_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_usage(stdout);
	return 0;
}

static int version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	print_version();
	return 0;
}

/* The first word, when it names one of these, is a subcommand. */
static const struct subcommand {
	const char *name;
	int (*main)(int argc, char **argv);
} subcommands[] = {
	{ PRIVS_JANITOR_COMMAND, privs_janitor_main },
	{ "convert", uniguard_convert_main },
	{ "replay", uniguard_replay_main },
	{ "show", cli_show_main },
	{ "stats", cli_stats_main },
	{ "help", help_main },
	{ "version", version_main },
};

int main(int argc, char **argv)
{
	struct daemon_options opts = { 0 };
	int keep[2], ret;

	for (size_t i = 0; argc >= 2 &&
	     i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[1], subcommands[i].name) == 0) {
			startup_harden(NULL, 0);
			return subcommands[i].main(argc - 1, argv + 1);
		}
	}
	/* The command line before anything else: it reads no file, and it
	 * names the descriptors a launcher passed on purpose (--tun-fd,
	 * WG_UAPI_FD), which must outlive the closing of the others. */
	ret = parse_args(argc, argv, &opts);
	if (ret)
		return ret;
	keep[0] = opts.tun_fd;
	keep[1] = opts.uapi_fd;
	startup_harden(keep, 2);
	return daemon_main(&opts);
}
