/* SPDX-License-Identifier: MIT */
/*
 * The Prometheus text exposition format 0.0.4 (metrics.h): each family is
 * its HELP and TYPE lines and then its samples, every family once.
 */
#include "metrics.h"

#include <inttypes.h>
#include <string.h>

#include "crypto.h"

static void family(struct wg_buf *out, const char *name, const char *type,
		   const char *help)
{
	wg_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
		      type);
}

/* The counters of the table (stats.c), a family where the metric name
 * changes from the row before. */
static void table_counters(const struct stats_snapshot *s,
			   struct wg_buf *out)
{
	const char *last = NULL;

	for (size_t i = 0; i < stats_counter_count(); i++) {
		struct stats_counter c;

		stats_counter_get(s, i, &c);
		if (!last || strcmp(last, c.metric) != 0)
			family(out, c.metric, "counter", c.help);
		last = c.metric;
		if (c.reason)
			wg_buf_printf(out, "%s{reason=\"%s\"} %" PRIu64 "\n",
				      c.metric, c.reason, c.value);
		else
			wg_buf_printf(out, "%s %" PRIu64 "\n", c.metric,
				      c.value);
	}
}

enum peer_field { RX_BYTES, TX_BYTES, LAST_HANDSHAKE, HANDSHAKES };

static const struct {
	const char *name, *type, *help;
} peer_families[] = {
	[RX_BYTES] = { "uniguard_peer_received_bytes_total", "counter",
		       "Bytes received from the peer (WireGuard messages)." },
	[TX_BYTES] = { "uniguard_peer_sent_bytes_total", "counter",
		       "Bytes sent to the peer (WireGuard messages)." },
	[LAST_HANDSHAKE] = { "uniguard_peer_last_handshake_timestamp_seconds",
			     "gauge",
			     "When the latest handshake completed, in "
			     "seconds since the epoch (0: never)." },
	[HANDSHAKES] = { "uniguard_peer_handshakes_total", "counter",
			 "Handshakes completed with the peer." },
};

static uint64_t peer_value(const struct wg_peer_stats *p, enum peer_field f)
{
	switch (f) {
	case RX_BYTES:
		return p->rx_bytes;
	case TX_BYTES:
		return p->tx_bytes;
	case LAST_HANDSHAKE:
		return p->last_handshake_sec;
	case HANDSHAKES:
		return p->handshakes;
	}
	return 0;
}

static void peers(const struct stats_snapshot *s, struct wg_buf *out)
{
	for (size_t f = 0; f < sizeof(peer_families) / sizeof(peer_families[0]);
	     f++) {
		family(out, peer_families[f].name, peer_families[f].type,
		       peer_families[f].help);
		for (size_t i = 0; i < s->peers_len; i++) {
			char key[WG_KEY_BASE64_LEN];

			/* Base64 needs no escaping in a label value. */
			wg_key_to_base64(key, s->peers[i].public_key);
			wg_buf_printf(out, "%s{public_key=\"%s\"} %" PRIu64
				      "\n", peer_families[f].name, key,
				      peer_value(&s->peers[i],
						 (enum peer_field)f));
		}
	}
}

void metrics_render(const struct stats_snapshot *s, struct wg_buf *out)
{
	uint64_t sessions = 0;

	for (size_t i = 0; i < s->peers_len; i++)
		sessions += s->peers[i].has_session;
	family(out, "uniguard_build_info", "gauge",
	       "Always 1, labelled with the version running.");
	wg_buf_printf(out, "uniguard_build_info{version=\"%s\"} 1\n",
		      UNIGUARD_VERSION);
	family(out, "uniguard_uptime_seconds", "gauge",
	       "Seconds since the interface started.");
	wg_buf_printf(out, "uniguard_uptime_seconds %" PRIu64 "\n",
		      s->uptime_sec);
	family(out, "uniguard_peers", "gauge", "Peers configured.");
	wg_buf_printf(out, "uniguard_peers %zu\n", s->n_peers);
	family(out, "uniguard_sessions", "gauge",
	       "Peers with a live session (a confirmed keypair).");
	wg_buf_printf(out, "uniguard_sessions %" PRIu64 "\n", sessions);
	table_counters(s, out);
	peers(s, out);
}
