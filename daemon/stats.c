/* SPDX-License-Identifier: MIT */
/*
 * The counters as a table (stats.h): each row names a counter, where it is
 * kept, and the Prometheus family it belongs to, so that adding one is one
 * line and every view shows it.
 */
#include "stats.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_state.h"
#include "log.h"
#include "sysio.h"

enum stats_source { FROM_CORE, FROM_DATAPATH };

struct stats_row {
	const char *name;
	enum stats_source source;
	size_t offset;		/* of a uint64_t in that source's struct */
	const char *metric;
	const char *help;
};

#define CORE(field, metric, help) \
	{ #field, FROM_CORE, offsetof(struct wg_device_stats, field), \
	  metric, help }
#define DATAPATH(field, metric, help) \
	{ #field, FROM_DATAPATH, offsetof(struct datapath_counters, field), \
	  metric, help }

/* The verdicts come first (stats_counter_get), then these, in the order
 * stats=1 has always listed them. */
static const struct stats_row stats_rows[] = {
	CORE(handshakes_initiated, "uniguard_handshakes_initiated_total",
	     "Handshake initiations sent."),
	CORE(handshakes_completed, "uniguard_handshakes_completed_total",
	     "Handshakes completed, either side initiating."),
	CORE(cookies_sent, "uniguard_cookie_replies_sent_total",
	     "Cookie replies sent to handshakes under load."),
	CORE(cookies_received, "uniguard_cookie_replies_received_total",
	     "Cookie replies received."),
	CORE(keepalives_sent, "uniguard_keepalives_sent_total",
	     "Keepalive messages sent."),
	CORE(staged_dropped, "uniguard_staged_packets_dropped_total",
	     "Packets waiting for a handshake dropped as the queue was "
	     "full."),
	DATAPATH(udp_send_errors, "uniguard_udp_send_errors_total",
		 "Datagrams the UDP socket failed to send."),
	DATAPATH(udp_recv_errors, "uniguard_udp_receive_errors_total",
		 "Errors reading the UDP socket."),
	DATAPATH(tun_write_errors, "uniguard_tun_write_errors_total",
		 "Packets the tunnel interface failed to take."),
	DATAPATH(udp_too_big, "uniguard_datagrams_too_big_total",
		 "Datagrams too big for their route, answered inward."),
	DATAPATH(tun_dropped, "uniguard_tun_superpackets_dropped_total",
		 "Offloaded super-packets that could not be cut."),
	DATAPATH(handshakes_shed, "uniguard_handshakes_shed_total",
		 "Handshake messages dropped unseen under a flood."),
};

#define N_ROWS (sizeof(stats_rows) / sizeof(stats_rows[0]))

/* "drop_replay" is reason "replay" of the dropped family. */
static const char drop_prefix[] = "drop_";

size_t stats_counter_count(void)
{
	return WG_VERDICT_COUNT + N_ROWS;
}

void stats_counter_get(const struct stats_snapshot *s, size_t i,
		       struct stats_counter *out)
{
	const struct stats_row *row;
	const char *base;

	if (i < WG_VERDICT_COUNT) {
		const char *name = wg_verdict_name((int)i);

		out->name = name;
		out->value = s->core.verdicts[i];
		if (i == WG_OK) {
			out->metric = "uniguard_packets_processed_total";
			out->reason = NULL;
			out->help = "Datagrams and packets the protocol took: "
				    "delivered, sent, answered or queued.";
		} else {
			out->metric = "uniguard_packets_dropped_total";
			out->reason = strncmp(name, drop_prefix,
					      sizeof(drop_prefix) - 1) == 0 ?
					      name + sizeof(drop_prefix) - 1 :
					      name;
			out->help = "Datagrams and packets dropped, by reason.";
		}
		return;
	}
	row = &stats_rows[i - WG_VERDICT_COUNT];
	base = row->source == FROM_CORE ? (const char *)&s->core :
					  (const char *)&s->datapath;
	out->name = row->name;
	out->metric = row->metric;
	out->reason = NULL;
	out->help = row->help;
	memcpy(&out->value, base + row->offset, sizeof(out->value));
}

void stats_snapshot_take(const struct daemon *d, struct stats_snapshot *s)
{
	size_t n;

	memset(s, 0, sizeof(*s));
	s->core = *wg_device_stats(d->dev);
	/* The packet path's threads count without the lock, word by word. */
	static_assert(sizeof(s->datapath) % sizeof(uint64_t) == 0,
		      "the packet path's counters are uint64_t");
	for (size_t i = 0; i < sizeof(s->datapath) / sizeof(uint64_t); i++)
		((uint64_t *)&s->datapath)[i] = __atomic_load_n(
			(const uint64_t *)&d->counters + i, __ATOMIC_RELAXED);
	s->uptime_sec = (netdev_now_ns() - d->started) / 1000000000u;
	n = wg_device_peer_stats(d->dev, NULL, 0);
	s->n_peers = n;
	if (n) {
		s->peers = calloc(n, sizeof(*s->peers));
		if (s->peers)
			s->peers_len = wg_device_peer_stats(d->dev, s->peers, n);
	}
}

void stats_snapshot_clear(struct stats_snapshot *s)
{
	free(s->peers);
	memset(s, 0, sizeof(*s));
}

void stats_emit(const struct daemon *d, struct wg_buf *out)
{
	struct stats_snapshot s;

	stats_snapshot_take(d, &s);
	for (size_t i = 0; i < stats_counter_count(); i++) {
		struct stats_counter c;

		stats_counter_get(&s, i, &c);
		wg_buf_printf(out, "%s=%" PRIu64 "\n", c.name, c.value);
	}
	stats_snapshot_clear(&s);
}

void stats_log(const struct stats_snapshot *s, enum wg_log_level level)
{
	uint64_t sessions = 0, rx = 0, tx = 0;
	struct wg_buf line = { 0 };

	for (size_t i = 0; i < s->peers_len; i++) {
		sessions += s->peers[i].has_session;
		rx += s->peers[i].rx_bytes;
		tx += s->peers[i].tx_bytes;
	}
	wg_buf_printf(&line, "counters: peers=%zu sessions=%" PRIu64
		      " rx_bytes=%" PRIu64 " tx_bytes=%" PRIu64, s->n_peers,
		      sessions, rx, tx);
	for (size_t i = 0; i < stats_counter_count(); i++) {
		struct stats_counter c;

		stats_counter_get(s, i, &c);
		if (c.value)
			wg_buf_printf(&line, " %s=%" PRIu64, c.name, c.value);
	}
	if (!line.oom)
		log_line(level, line.data);
	wg_buf_clear(&line);
}
