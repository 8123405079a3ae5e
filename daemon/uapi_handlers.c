/* SPDX-License-Identifier: MIT */
/*
 * The UAPI requests answered (uapi_handlers.h), with the core's lock held
 * (the event loop takes it around every source but the packet path's).
 */
#include "uapi_handlers.h"

#include <errno.h>

#include "apply.h"
#include "daemon_state.h"
#include "log.h"
#include "metadata.h"
#include "sysio.h"
#include "stats.h"
#include "uapi.h"

static void uapi_get(void *ctx, struct wg_buf *out)
{
	struct daemon *d = ctx;
	struct wg_config cfg;
	int ret;

	ret = wg_device_get(d->dev, &cfg);
	if (ret) {
		wg_config_clear(&cfg);
		wg_uapi_emit_errno(out, ret);
		return;
	}
	wg_uapi_emit_get(out, &cfg);
	wg_config_clear(&cfg);
	if (out->oom) {
		wg_buf_clear(out);
		wg_uapi_emit_errno(out, -ENOMEM);
	}
}

static int uapi_set(void *ctx, struct wg_config *delta,
		    struct wg_parse_error *err)
{
	struct daemon *d = ctx;
	int ret;

	/* Peers metadata added stay through a reload and `wg set`. */
	ret = metadata_guard_set(d->metadata, delta, err);
	if (ret)
		return ret;
	d->now = netdev_now_ns();
	ret = apply_config(d, delta, err);
	if (!ret)
		log_debug("configuration changed");
	return ret;
}

static void uapi_stats(void *ctx, struct wg_buf *out)
{
	struct daemon *d = ctx;

	stats_emit(d, out);
	wg_uapi_emit_errno(out, 0);
}

static void uapi_removed(void *ctx)
{
	struct daemon *d = ctx;

	d->stop = true;
}

struct uapi_handler uapi_handlers(struct daemon *d)
{
	return (struct uapi_handler){
		.ctx = d,
		.get = uapi_get,
		.set = uapi_set,
		.stats = uapi_stats,
		.removed = uapi_removed,
	};
}
