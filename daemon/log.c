/* SPDX-License-Identifier: MIT */
/*
 * The daemon's log (log.h): timestamped lines to stderr, a file or syslog.
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
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
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

static bool in_base64_alphabet(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '+' || ch == '/';
}

/* In place: the text only ever shrinks, so the write position never runs
 * ahead of the read position. */
void log_redact(char *text)
{
	static const char marker[] = "[redacted]";
	size_t i = 0, j = 0;

	while (text[i]) {
		size_t end = i;

		while (in_base64_alphabet(text[end]))
			end++;
		if (end - i >= LOG_REDACT_MIN) {
			/* Padding goes with the key. */
			while (text[end] == '=')
				end++;
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
	case WG_LOG_INFO:
		return LOG_INFO;
	default:
		return LOG_DEBUG;
	}
}

void log_line(enum wg_log_level level, const char *line)
{
	char buf[1024], stamp[32];
	struct timespec ts;
	struct tm tm;
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
	if (!localtime_r(&ts.tv_sec, &tm) ||
	    !strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(stamp, sizeof(stamp), "%lld", (long long)ts.tv_sec);
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

		while (len > 0 && in_base64_alphabet(line[len - 1]))
			len--;
		line[len] = '\0';
	}
	log_redact(line);
	log_line(level, line);
	/* The unredacted text stays on no stack. */
	wg_wipe(line, sizeof(line));
}
