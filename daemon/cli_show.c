/* SPDX-License-Identifier: MIT */
/*
 * `uniguard show` (cli_show.h), in wg(8)'s `show` format: the interface's
 * public key (derived from the private key get=1 answers, which is wiped
 * at once and shown as "(hidden)"), port and fwmark, then each peer,
 * the most recent handshake first, with its times and byte counts in
 * wg's units. No colours.
 */
#include "cli_show.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_stats.h"
#include "cli_uapi.h"
#include "config.h"
#include "crypto.h"

struct show_peer {
	size_t order;			/* as the daemon listed it */
	char public_key[WG_KEY_BASE64_LEN];
	bool has_psk;
	char endpoint[64];
	struct wg_buf allowed_ips;	/* "a, b, ..." */
	uint64_t handshake_sec, handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	uint64_t keepalive;
};

struct show_iface {
	char public_key[WG_KEY_BASE64_LEN];
	bool has_private_key;
	uint64_t listen_port, fwmark;
	struct show_peer *peers;
	size_t n_peers;
	bool oom;
};

static uint64_t number(const char *value)
{
	return strtoull(value, NULL, 10);
}

/* A hex key of the answer as base64 (public keys only reach here). */
static void key_to_base64(char out[WG_KEY_BASE64_LEN], const char *hex)
{
	uint8_t key[WG_KEY_LEN];

	if (wg_key_from_hex(key, hex, strlen(hex)))
		wg_key_to_base64(out, key);
	else
		snprintf(out, WG_KEY_BASE64_LEN, "(bad key)");
	wg_wipe(key, sizeof(key));
}

static int interface_pair(struct show_iface *s, const char *key,
			  const char *value)
{
	if (strcmp(key, "private_key") == 0) {
		uint8_t priv[WG_KEY_LEN], pub[WG_KEY_LEN];

		s->has_private_key = true;
		if (wg_key_from_hex(priv, value, strlen(value)) &&
		    wg_x25519_public(pub, priv))
			wg_key_to_base64(s->public_key, pub);
		wg_wipe(priv, sizeof(priv));
	} else if (strcmp(key, "listen_port") == 0) {
		s->listen_port = number(value);
	} else if (strcmp(key, "fwmark") == 0) {
		s->fwmark = number(value);
	}
	return 0;
}

static void peer_pair(struct show_peer *p, const char *key,
		      const char *value)
{
	if (strcmp(key, "preshared_key") == 0) {
		p->has_psk = strspn(value, "0") != strlen(value);
	} else if (strcmp(key, "endpoint") == 0) {
		snprintf(p->endpoint, sizeof(p->endpoint), "%s", value);
	} else if (strcmp(key, "allowed_ip") == 0) {
		wg_buf_printf(&p->allowed_ips, "%s%s",
			      p->allowed_ips.len ? ", " : "", value);
	} else if (strcmp(key, "last_handshake_time_sec") == 0) {
		p->handshake_sec = number(value);
	} else if (strcmp(key, "last_handshake_time_nsec") == 0) {
		p->handshake_nsec = number(value);
	} else if (strcmp(key, "rx_bytes") == 0) {
		p->rx_bytes = number(value);
	} else if (strcmp(key, "tx_bytes") == 0) {
		p->tx_bytes = number(value);
	} else if (strcmp(key, "persistent_keepalive_interval") == 0) {
		p->keepalive = number(value);
	}
}

static int show_pair(void *ctx, const char *key, const char *value)
{
	struct show_iface *s = ctx;
	struct show_peer *p;

	if (strcmp(key, "public_key") == 0) {
		p = realloc(s->peers, (s->n_peers + 1) * sizeof(*p));
		if (!p) {
			s->oom = true;
			return -ENOMEM;
		}
		s->peers = p;
		p = &s->peers[s->n_peers];
		memset(p, 0, sizeof(*p));
		p->order = s->n_peers++;
		key_to_base64(p->public_key, value);
		return 0;
	}
	if (!s->n_peers)
		return interface_pair(s, key, value);
	p = &s->peers[s->n_peers - 1];
	peer_pair(p, key, value);
	if (p->allowed_ips.oom) {
		s->oom = true;
		return -ENOMEM;
	}
	return 0;
}

/* wg's order: the most recent handshake first, peers without one last;
 * ties as the daemon listed them. */
static int peer_cmp(const void *a, const void *b)
{
	const struct show_peer *x = a, *y = b;

	if (x->handshake_sec != y->handshake_sec)
		return x->handshake_sec > y->handshake_sec ? -1 : 1;
	if (x->handshake_nsec != y->handshake_nsec)
		return x->handshake_nsec > y->handshake_nsec ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* wg's "1 hour, 2 minutes, 3 seconds". */
static void print_duration(FILE *out, uint64_t left)
{
	static const struct {
		const char *unit;
		uint64_t seconds;
	} units[] = {
		{ "year", 365 * 24 * 60 * 60 },
		{ "day", 24 * 60 * 60 },
		{ "hour", 60 * 60 },
		{ "minute", 60 },
		{ "second", 1 },
	};
	bool first = true;

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = left / units[i].seconds;

		left %= units[i].seconds;
		if (!n)
			continue;
		fprintf(out, "%s%" PRIu64 " %s%s", first ? "" : ", ", n,
			units[i].unit, n == 1 ? "" : "s");
		first = false;
	}
}

static void print_ago(FILE *out, uint64_t then)
{
	uint64_t now = (uint64_t)time(NULL);

	if (now == then) {
		fputs("Now", out);
	} else if (now < then) {
		fputs("(System clock wound backward; connection problems may "
		      "ensue.)", out);
	} else {
		print_duration(out, now - then);
		fputs(" ago", out);
	}
}

/* wg's units: B, then KiB to TiB with two decimals. */
static void print_bytes(FILE *out, uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	size_t i = 0;

	if (b < 1024) {
		fprintf(out, "%" PRIu64 " B", b);
		return;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		i++;
	}
	fprintf(out, "%.2f %s", v, units[i]);
}

static void print_peer(FILE *out, const struct show_peer *p)
{
	fprintf(out, "\npeer: %s\n", p->public_key);
	if (p->has_psk)
		fprintf(out, "  preshared key: (hidden)\n");
	if (p->endpoint[0])
		fprintf(out, "  endpoint: %s\n", p->endpoint);
	fprintf(out, "  allowed ips: %s\n",
		p->allowed_ips.len ? p->allowed_ips.data : "(none)");
	if (p->handshake_sec || p->handshake_nsec) {
		fputs("  latest handshake: ", out);
		print_ago(out, p->handshake_sec);
		fputc('\n', out);
	}
	if (p->rx_bytes || p->tx_bytes) {
		fputs("  transfer: ", out);
		print_bytes(out, p->rx_bytes);
		fputs(" received, ", out);
		print_bytes(out, p->tx_bytes);
		fputs(" sent\n", out);
	}
	if (p->keepalive) {
		fputs("  persistent keepalive: every ", out);
		print_duration(out, p->keepalive);
		fputc('\n', out);
	}
}

static void show_iface_clear(struct show_iface *s)
{
	for (size_t i = 0; i < s->n_peers; i++)
		wg_buf_clear(&s->peers[i].allowed_ips);
	free(s->peers);
	memset(s, 0, sizeof(*s));
}

/* quiet: an interface that cannot be asked is left out without a word
 * (a stale socket, when listing them all, as wg does). */
static int show_one(FILE *out, const char *ifname, bool first, bool quiet)
{
	struct wg_buf answer = { 0 };
	struct show_iface s = { 0 };
	int status, ret;

	ret = cli_uapi_ask(ifname, "get=1\n\n", &answer, &status);
	if ((ret || status) && !quiet) {
		if (ret)
			cli_uapi_report(ifname, ret);
		else
			fprintf(stderr, "uniguard: %s: get=1 answered "
				"errno=%d\n", ifname, status);
	}
	if (ret || status) {
		wg_buf_clear(&answer);
		return -1;
	}
	ret = cli_uapi_each_pair(answer.data, show_pair, &s);
	/* The answer held the private key. */
	wg_buf_clear(&answer);
	if (ret || s.oom) {
		fprintf(stderr, "uniguard: out of memory\n");
		show_iface_clear(&s);
		return -1;
	}
	qsort(s.peers, s.n_peers, sizeof(*s.peers), peer_cmp);
	fprintf(out, "%sinterface: %s\n", first ? "" : "\n", ifname);
	if (s.public_key[0])
		fprintf(out, "  public key: %s\n", s.public_key);
	if (s.has_private_key)
		fprintf(out, "  private key: (hidden)\n");
	if (s.listen_port)
		fprintf(out, "  listening port: %" PRIu64 "\n", s.listen_port);
	if (s.fwmark)
		fprintf(out, "  fwmark: 0x%" PRIx64 "\n", s.fwmark);
	for (size_t i = 0; i < s.n_peers; i++)
		print_peer(out, &s.peers[i]);
	show_iface_clear(&s);
	/* uniguard's own, after what wg shows; a daemon that does not
	 * answer stats=1 (not uniguard) just has none. */
	fflush(out);
	(void)cli_stats_print_nonzero(out, ifname);
	return 0;
}

int cli_show_main(int argc, char **argv)
{
	char **names = NULL;
	int status = 0, printed = 0;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 ||
			  strcmp(argv[1], "--help") == 0)) {
		fputs("usage: uniguard show [IFNAME...]\n"
		      "\n"
		      "Prints what `wg show` prints for the running interfaces\n"
		      "IFNAME (all of them without one), then uniguard's\n"
		      "non-zero counters (see `uniguard stats`).\n"
		      "\n"
		      "  -h, --help     this text\n", stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			fprintf(stderr, "uniguard: show: unknown option "
				"'%s'\n", argv[i]);
			return 2;
		}
	}
	if (!wg_crypto_init()) {
		fprintf(stderr, "uniguard: libsodium cannot start\n");
		return 1;
	}
	if (argc == 1) {
		names = cli_uapi_names();
		if (!names) {
			fprintf(stderr, "uniguard: out of memory\n");
			return 1;
		}
	}
	for (int i = 0; names ? names[i] != NULL : i + 1 < argc; i++) {
		const char *ifname = names ? names[i] : argv[i + 1];

		if (show_one(stdout, ifname, printed == 0, names != NULL))
			status = names ? status : 1;
		else
			printed++;
	}
	cli_uapi_names_free(names);
	return status;
}
