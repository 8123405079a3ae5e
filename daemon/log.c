/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log (log.h): lines stamped in UTC to stderr or a file, or
 * lines to syslog.
 * Each line is written with a single write() so that lines from several
 * processes appending to one file never interleave. The daemon's own lines,
 * which may quote what a user sent, lose any run of characters long enough
 * to be a key before they are written.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "redact.h"
#include "ownfile.h"

enum log_sink {
	LOG_SINK_STDERR,
	LOG_SINK_FILE,
	LOG_SINK_SYSLOG,
};

static struct {
	enum wg_log_level level;
	enum log_sink sink;
	int fd;
	char ifname[32];
	bool silent;
} logger = {
	.level = WG_LOG_INFO,
	.sink = LOG_SINK_STDERR,
	.fd = STDERR_FILENO,
	.ifname = "",
};

static const char *const level_names[] = {
	[WG_LOG_ERROR] = "error",
	[WG_LOG_WARN] = "warn",
	[WG_LOG_INFO] = "info",
	[WG_LOG_DEBUG] = "debug",
	[WG_LOG_TRACE] = "trace",
};

void log_init(enum wg_log_level level, const char *ifname)
{
	logger.level = level;
	log_set_ifname(ifname);
}

void log_set_ifname(const char *ifname)
{
	snprintf(logger.ifname, sizeof(logger.ifname), "%s",
		 ifname ? ifname : "");
}

enum wg_log_level log_level(void)
{
	return logger.level;
}

int log_open_file(const char *path)
{
	int fd;

	fd = ownfile_open(path, OWNFILE_APPEND, 0640);
	if (fd < 0)
		return fd;
	if (logger.sink == LOG_SINK_FILE)
		close(logger.fd);
	logger.fd = fd;
	logger.sink = LOG_SINK_FILE;
	return 0;
}

void log_use_syslog(void)
{
	if (logger.sink == LOG_SINK_FILE)
		close(logger.fd);
	openlog("uniguard", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	logger.fd = -1;
	logger.sink = LOG_SINK_SYSLOG;
}

void log_silence(void)
{
	logger.silent = true;
}

/* What glibc's syslog() writes to: a datagram socket, or failing that a
 * stream one, at _PATH_LOG. Without a listener there, its lines are lost
 * without a word. */
bool log_syslog_available(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	bool ok = false;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", _PATH_LOG);
	for (size_t i = 0; i < 2 && !ok; i++) {
		int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

		if (fd < 0)
			continue;
		ok = connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0;
		close(fd);
	}
	return ok;
}

bool log_uses_stderr(void)
{
	return logger.sink == LOG_SINK_STDERR;
}

void log_close(void)
{
	if (logger.sink == LOG_SINK_FILE)
		close(logger.fd);
	else if (logger.sink == LOG_SINK_SYSLOG)
		closelog();
	logger.fd = STDERR_FILENO;
	logger.sink = LOG_SINK_STDERR;
}

bool log_limit_pass(struct log_limit *limit, uint64_t now, uint64_t *held)
{
	uint64_t next = __atomic_load_n(&limit->next, __ATOMIC_RELAXED);

	/* Of several threads past the deadline, one moves it and logs. */
	if (now < next ||
	    !__atomic_compare_exchange_n(&limit->next, &next,
					 now + LOG_LIMIT_INTERVAL_NS, false,
					 __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
		__atomic_fetch_add(&limit->held, 1, __ATOMIC_RELAXED);
		return false;
	}
	*held = __atomic_exchange_n(&limit->held, 0, __ATOMIC_RELAXED);
	return true;
}

bool log_parse_level(const char *text, enum wg_log_level *level)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]);
	     i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*level = (enum wg_log_level)i;
			return true;
		}
	}
	return false;
}

/* In place: the text only ever shrinks, so the write position never runs
 * ahead of the read position. */
void log_redact(char *text)
{
	static const char marker[] = "[redacted]";
	size_t len = strlen(text), i = 0, j = 0;

	while (i < len) {
		size_t end = i + wg_key_run_len(text + i, len - i);

		if (wg_key_like_run(text + i, end - i)) {
			memcpy(text + j, marker, sizeof(marker) - 1);
			j += sizeof(marker) - 1;
			i = end;
			continue;
		}
		if (end == i)
			end = i + 1;
		while (i < end)
			text[j++] = text[i++];
	}
	text[j] = '\0';
}

static int syslog_priority(enum wg_log_level level)
{
	switch (level) {
	case WG_LOG_ERROR:
		return LOG_ERR;
	case WG_LOG_WARN:
		return LOG_WARNING;
	case WG_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

/* "2026-11-24T21:00:00.123Z": ISO 8601 in UTC, so that lines from hosts
 * in different zones, or from a host that changes its zone, sort and
 * compare as they are. */
static void format_stamp(char *buf, size_t size, long long sec, long nsec)
{
	char date[24];
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, size, "%lld", sec);
		return;
	}
	snprintf(buf, size, "%s.%03dZ", date, (int)(nsec / 1000000) % 1000);
}

void log_line(enum wg_log_level level, const char *line)
{
	char buf[1024], stamp[32];
	struct timespec ts;
	size_t len;
	int n;

	if (logger.silent)
		return;
	if (level > logger.level || (unsigned int)level > WG_LOG_TRACE)
		return;
	if (logger.sink == LOG_SINK_SYSLOG) {
		syslog(syslog_priority(level), "[%s] %s: %s", logger.ifname,
		       level_names[level], line);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	format_stamp(stamp, sizeof(stamp), (long long)ts.tv_sec, ts.tv_nsec);
	n = snprintf(buf, sizeof(buf), "%s uniguard[%s] %s: %s\n", stamp,
		     logger.ifname, level_names[level], line);
	if (n < 0)
		return;
	len = (size_t)n;
	if (len >= sizeof(buf)) {
		/* Cut long lines but keep them lines. */
		len = sizeof(buf) - 1;
		buf[len - 1] = '\n';
	}
	/* A full disk or a closed stderr must not stop the daemon. */
	(void)!write(logger.fd, buf, len);
}

void log_msg(enum wg_log_level level, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n;

	if (level > logger.level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line)) {
		/* Cut before a run the cut may have shortened below what
		 * log_redact recognises. */
		size_t len = sizeof(line) - 1;

		while (len > 0 && wg_key_alphabet(line[len - 1]))
			len--;
		line[len] = '\0';
	}
	log_redact(line);
	log_line(level, line);
	/* The unredacted text stays on no stack. */
	wg_wipe(line, sizeof(line));
}
