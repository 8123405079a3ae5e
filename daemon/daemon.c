/* SPDX-License-Identifier: MIT */
/*
 * The daemon (daemon.h): start-up and shutdown of one interface. It owns
 * every system call the core does not make: the packet device (iface.c),
 * the outer UDP socket (apply.c), the UAPI socket (uapi_handlers.c),
 * signals (signals.c), the clocks and randomness (env.c), the packet path
 * (dp_host.c) and one epoll loop whose timeout is the core's next deadline
 * (event_loop.c). Start-up follows what wg-quick expects of a userspace
 * implementation (detach.h).
 */
#include "daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "aead_choice.h"
#include "apply.h"
#include "compat.h"
#include "conffile.h"
#include "crypto.h"
#include "daemon_state.h"
#include "detach.h"
#include "dp_host.h"
#include "env.h"
#include "event_loop.h"
#include "iface.h"
#include "keymem.h"
#include "log.h"
#include "metadata.h"
#include "metadata_peers.h"
#include "ops_http.h"
#include "sysio.h"
#include "privs.h"
#include "signals.h"
#include "stats.h"
#include "uapi_handlers.h"

/* What the daemon keeps of root, if anything: see privs.h. */
static int drop_privileges(struct daemon *d)
{
	int ret;

	if (!d->opts->drop_privileges)
		return 0;
	if (d->uapi && uapi_server_path(d->uapi)) {
		ret = privs_spawn_janitor(uapi_server_path(d->uapi));
		if (ret)
			log_warn("nobody will remove %s at exit: %s",
				 uapi_server_path(d->uapi), strerror(-ret));
	}
	ret = privs_drop();
	if (ret) {
		log_error("cannot drop privileges: %s (see "
			  "--disable-drop-privileges)", strerror(-ret));
		return -1;
	}
	return 0;
}

/* The UAPI socket, opened or passed, and then privileges dropped. */
static int open_uapi_and_drop_privileges(struct daemon *d)
{
	const struct uapi_handler handler = uapi_handlers(d);
	int ret;

	if (d->opts->uapi_fd >= 0) {
		ret = uapi_server_adopt(&d->uapi, d->opts->uapi_fd, d->epfd,
					&handler);
		if (ret) {
			log_error("cannot use descriptor %d as the UAPI "
				  "socket: %s", d->opts->uapi_fd,
				  ret == -ENOTSOCK ? "not a stream socket" :
				  strerror(-ret));
			return -1;
		}
		return drop_privileges(d);
	}
	ret = uapi_server_open(&d->uapi, d->nd.ifname, d->epfd, &handler);
	if (ret == -EADDRINUSE) {
		log_error("cannot listen on %s/%s.sock: another daemon is "
			  "using it", UAPI_SOCKET_DIR, d->nd.ifname);
		return -1;
	}
	if (ret) {
		log_error("cannot listen on %s/%s.sock: %s", UAPI_SOCKET_DIR,
			  d->nd.ifname, strerror(-ret));
		/* Configured from a file, the interface works without the
		 * socket (a bare image may have nowhere to put it); without
		 * one it could never be configured at all. */
		if (!d->opts->config_path)
			return -1;
		log_warn("running on without a configuration socket");
	}
	return drop_privileges(d);
}

/* The operations listener (bound while privileges last: the port may be
 * below 1024) and the periodic counters line, the command line's options
 * before the -c file's keys. */
static int open_operations(struct daemon *d, const struct wg_config *cfg)
{
	const char *http = d->opts->http ? d->opts->http : cfg->gateway.http;
	unsigned int every = DAEMON_LOG_COUNTERS_DEFAULT;
	int ret;

	if (d->opts->has_log_counters)
		every = d->opts->log_counters;
	else if (cfg->gateway.has_log_counters)
		every = cfg->gateway.log_counters;
	d->counters_every = (uint64_t)every * 1000000000u;
	d->counters_due = d->now + d->counters_every;
	if (!http)
		return 0;
	ret = ops_http_open(&d->ops, http, d);
	if (ret) {
		log_error("operations listener on %s: %s", http,
			  ret == -EINVAL ? "not a numeric ADDR:PORT" :
					   strerror(-ret));
		return -1;
	}
	log_info("operations listener on %s (/healthz, /metrics)", http);
	return 0;
}

/* A change the system refused after the file parsed (a port in use, a
 * mark without the capability) comes back keyed by its UAPI name and no
 * line: name the file's line and key instead, as a parse error does. */
static void report_config_error(const struct daemon *d,
				const struct wg_config *cfg,
				enum wg_config_format format,
				const struct wg_parse_error *err, int ret)
{
	const char *path = d->opts->config_path ? d->opts->config_path :
						  "config";
	bool ini = format == WG_CONFIG_FORMAT_INI;
	const char *key = err->key[0] ? err->key : "-";
	unsigned int line = err->line;

	if (line == 0 && strcmp(key, "listen_port") == 0 &&
	    cfg->listen_port_line) {
		line = cfg->listen_port_line;
		key = ini ? "ListenPort" : key;
	} else if (line == 0 && strcmp(key, "fwmark") == 0 &&
		   cfg->fwmark_line) {
		line = cfg->fwmark_line;
		key = ini ? "FwMark" : key;
	}
	log_error("%s:%u: %s: %s", path, line, key,
		  err->message[0] ? err->message : strerror(-ret));
}

/* Configured from a file without a private key, the interface comes up
 * and answers nobody: likely a file cut short or the wrong one. */
static void warn_if_keyless(const struct daemon *d,
			    const struct wg_config *cfg)
{
	if (!d->opts->config_path)
		return;
	if ((cfg->flags & WG_DEVICE_HAS_PRIVATE_KEY) &&
	    !wg_is_zero(cfg->private_key, WG_KEY_LEN))
		return;
	log_warn("%s sets no private key: the interface makes and answers "
		 "no handshake until one is set (PrivateKey, or `wg set %s "
		 "private-key FILE`)", d->opts->config_path, d->nd.ifname);
}

/* The option, else the file's PeersFrom (both checked before). */
static const char *peers_source(const struct daemon_options *opts,
				const struct wg_config *cfg)
{
	return opts->peers_from ? opts->peers_from : cfg->gateway.peers_from;
}

static int start_metadata(struct daemon *d, const struct wg_config *cfg)
{
	const char *spec = peers_source(d->opts, cfg);
	char attr[METADATA_ATTRIBUTE_MAX + 1];
	struct metadata_options mo = {
		.attribute = attr,
		.wait_sec = d->opts->metadata_wait_sec,
		.backoff_max_sec = d->opts->metadata_backoff_max_sec,
	};
	int ret;

	if (!spec)
		return 0;
	if (!metadata_source_parse(spec, attr))
		return -1;
	ret = metadata_start(d, &mo, cfg, &d->metadata);
	if (ret)
		log_error("cannot start the metadata client: %s",
			  strerror(-ret));
	return ret ? -1 : 0;
}

static int daemon_start(struct daemon *d, struct wg_config *cfg,
			enum wg_config_format format)
{
	struct wg_parse_error err;
	int ret;

	/* Before the packet path's threads, which read the choice. */
	aead_choose(d->opts->aead);
	ret = event_loop_open(d);
	if (ret) {
		log_error("epoll: %s", strerror(-ret));
		return -1;
	}
	ret = signals_open(d);
	if (ret) {
		log_error("signals: %s", strerror(-ret));
		return -1;
	}
	if (iface_open(d))
		return -1;
	iface_watch_routes(d);

	d->now = netdev_now_ns();
	d->started = d->now;
	d->dev = wg_device_new(&d->env, d->now);
	if (!d->dev) {
		log_error("cannot create the device");
		return -1;
	}
	log_debug(keymem_out_of_dumps() ?
		  "key memory: left out of core dumps" :
		  "key memory: the kernel cannot leave it out of core dumps; "
		  "the daemon writes none (not dumpable)");
	/* The config from -c, or none: either way the socket opens here. */
	memset(&err, 0, sizeof(err));
	warn_if_keyless(d, cfg);
	ret = apply_config(d, cfg, &err);
	if (ret) {
		report_config_error(d, cfg, format, &err, ret);
		return -1;
	}
	if (format == WG_CONFIG_FORMAT_INI && iface_configure(d, cfg))
		return -1;
	iface_update_mtu(d);
	/* Started with a configuration, it is meant to carry traffic now;
	 * without one, wg-quick sets the interface up after us. */
	if (d->opts->config_path)
		iface_say_if_unusable(d);
	if (open_operations(d, cfg))
		return -1;

	if (open_uapi_and_drop_privileges(d))
		return -1;
	/* Last: threads take the privileges they are started with. */
	if (dp_host_start(d))
		return -1;
	if (d->ops && ops_http_start(d->ops)) {
		log_error("cannot start the operations listener");
		return -1;
	}
	if (start_metadata(d, cfg))
		return -1;
	if (d->uapi && !uapi_server_path(d->uapi))
		log_info("interface %s ready, UAPI on descriptor %d",
			 d->nd.ifname, d->opts->uapi_fd);
	else
		log_info("interface %s ready, UAPI socket %s", d->nd.ifname,
			 d->uapi ? uapi_server_path(d->uapi) : "none");
	return 0;
}

/* Each part closes what it opened, in the reverse order of need. */
static void daemon_stop(struct daemon *d)
{
	/* The metadata client applies changes through everything below. */
	metadata_stop(d->metadata);
	d->metadata = NULL;
	/* It reads the device and the counters: before anything goes. */
	ops_http_close(d->ops);
	d->ops = NULL;
	/* The packet path's threads first: they use everything below. */
	dp_host_stop(d);
	/* The socket first, so that no client sees a half-gone interface. */
	uapi_server_close(d->uapi);
	d->uapi = NULL;
	if (d->dev) {
		struct stats_snapshot snap;

		stats_snapshot_take(d, &snap);
		stats_log(&snap, WG_LOG_DEBUG);
		stats_snapshot_clear(&snap);
		wg_device_free(d->dev);
		d->dev = NULL;
	}
	record_close(d->rec);
	d->rec = NULL;
	apply_close_socket(d);
	iface_close(d);
	signals_close(d);
	event_loop_close(d);
}

/* Everything closed and every option in place, before anything opens. */
static struct daemon *daemon_new(const struct daemon_options *opts)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->opts = opts;
	d->epfd = -1;
	d->sig_src.fd = -1;
	d->nd.fd = -1;
	d->udp.fd = -1;
	d->udp_src.fd = -1;
	d->wake_src.fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	d->dp_opts = opts->datapath;
	d->want_gso = opts->udp_gso;
	d->want_gro = opts->udp_gro;
	d->nd.want_offload = opts->tun_offload;
	d->nd.tx_queue_len = d->dp_opts.queue;
	env_init(d);
	return d;
}

static int open_recorder(struct daemon *d)
{
	const struct record_options rec = {
		.capture_path = d->opts->capture_path,
		.keylog_path = d->opts->keylog_path,
		.seed = d->opts->seed,
		.port = apply_record_port,
		.port_ctx = d,
	};
	int ret = record_open(&d->rec, &rec, &d->env);

	/* A recorder watches the core's environment: every packet goes
	 * through it then. */
	if (d->rec)
		d->dp_opts.slow = true;
	return ret;
}

/* Detached without a log file, the lines go to syslog; where nothing
 * listens for them, say so while stderr still reaches whoever started us. */
static void use_syslog_or_say_so(const char *ifname)
{
	if (!log_syslog_available())
		fprintf(stderr, "uniguard: %s: no syslog on this system "
			"(nothing listens on %s): detached, this daemon logs "
			"nowhere; give it a file with -l FILE (or "
			"UNIGUARD_LOG_FILE), or keep it in the foreground "
			"with -f\n", ifname, _PATH_LOG);
	log_use_syslog();
}

int daemon_main(const struct daemon_options *opts)
{
	enum wg_config_format format = WG_CONFIG_FORMAT_UNKNOWN;
	struct wg_config cfg;
	struct daemon *d;
	int notify_fd = -1, ret;

	log_init(opts->verbosity, opts->ifname);
	if (opts->log_silent)
		log_silence();
	if (!wg_crypto_init()) {
		fprintf(stderr, "uniguard: libsodium cannot start\n");
		return 1;
	}
	/* A bad file stops us before anything is opened. */
	if (opts->config_path) {
		if (conffile_load(opts->config_path, &cfg, &format) < 0) {
			wg_config_clear(&cfg);
			return 1;
		}
	} else {
		wg_config_init(&cfg);
	}
	if (!opts->peers_from && cfg.gateway.peers_from) {
		char attr[METADATA_ATTRIBUTE_MAX + 1];

		if (!metadata_source_parse(cfg.gateway.peers_from, attr)) {
			fprintf(stderr, "%s: PeersFrom: not "
				"gce-metadata[:ATTRIBUTE]\n",
				opts->config_path);
			wg_config_clear(&cfg);
			return 1;
		}
	}
	if (opts->log_path) {
		ret = log_open_file(opts->log_path);
		if (ret) {
			fprintf(stderr, "uniguard: %s: %s\n", opts->log_path,
				strerror(-ret));
			wg_config_clear(&cfg);
			return 1;
		}
	}
	compat_log(opts);
	if (!opts->foreground) {
		ret = detach_begin(&notify_fd);
		if (ret) {
			fprintf(stderr, "uniguard: cannot detach: %s\n",
				strerror(-ret));
			wg_config_clear(&cfg);
			return 1;
		}
	}

	d = daemon_new(opts);
	if (!d) {
		fprintf(stderr, "uniguard: out of memory\n");
		wg_config_clear(&cfg);
		return 1;
	}
	ret = open_recorder(d);
	if (!ret)
		ret = daemon_start(d, &cfg, format);
	wg_config_clear(&cfg);
	if (ret) {
		daemon_stop(d);
		free(d);
		return 1;
	}
	if (notify_fd >= 0) {
		if (!opts->log_path)
			use_syslog_or_say_so(opts->ifname);
		detach_finish(notify_fd);
	}

	event_loop_run(d);

	daemon_stop(d);
	ret = d->status;
	log_info("stopped");
	log_close();
	/* The event loop's thread sealed and opened too. */
	wg_crypto_thread_done();
	wg_wipe(d, sizeof(*d));
	free(d);
	return ret;
}
