/* SPDX-License-Identifier: MIT */
/*
 * The counters as a table (stats.h): each row names a counter and where
 * it is kept, so that adding one is one line.
 */
#include "stats.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "daemon_state.h"
#include "log.h"

enum stats_source { FROM_CORE, FROM_DATAPATH };

struct stats_row {
	const char *name;
	enum stats_source source;
	size_t offset;		/* of a uint64_t in that source's struct */
};

#define CORE(field) { #field, FROM_CORE, offsetof(struct wg_device_stats, field) }
#define DATAPATH(field) \
	{ #field, FROM_DATAPATH, offsetof(struct datapath_counters, field) }

/* After the verdicts, in the order stats=1 has always listed them. */
static const struct stats_row stats_rows[] = {
	CORE(handshakes_initiated),
	CORE(handshakes_completed),
	CORE(cookies_sent),
	CORE(cookies_received),
	CORE(keepalives_sent),
	CORE(staged_dropped),
	DATAPATH(udp_send_errors),
	DATAPATH(udp_recv_errors),
	DATAPATH(tun_write_errors),
	DATAPATH(udp_too_big),
	DATAPATH(tun_dropped),
	DATAPATH(handshakes_shed),
};

void stats_emit(const struct daemon *d, struct wg_buf *out)
{
	const struct wg_device_stats *st = wg_device_stats(d->dev);

	for (int i = 0; i < WG_VERDICT_COUNT; i++)
		wg_buf_printf(out, "%s=%" PRIu64 "\n", wg_verdict_name(i),
			      st->verdicts[i]);
	for (size_t i = 0; i < sizeof(stats_rows) / sizeof(stats_rows[0]);
	     i++) {
		const struct stats_row *row = &stats_rows[i];
		const char *base = row->source == FROM_CORE ?
				   (const char *)st :
				   (const char *)&d->counters;
		uint64_t value;

		memcpy(&value, base + row->offset, sizeof(value));
		wg_buf_printf(out, "%s=%" PRIu64 "\n", row->name, value);
	}
}

void stats_log(const struct daemon *d, enum wg_log_level level)
{
	struct wg_buf b = { 0 }, line = { 0 };
	char *item, *save = NULL;

	stats_emit(d, &b);
	wg_buf_append(&b, "", 1);
	wg_buf_append(&line, "counters:", 9);
	if (b.oom || line.oom)
		goto out;
	for (item = strtok_r(b.data, "\n", &save); item;
	     item = strtok_r(NULL, "\n", &save)) {
		const char *eq = strchr(item, '=');

		if (eq && strcmp(eq, "=0") != 0)
			wg_buf_printf(&line, " %s", item);
	}
	wg_buf_append(&line, "", 1);
	if (!line.oom)
		log_line(level, line.data);
out:
	wg_buf_clear(&b);
	wg_buf_clear(&line);
}
