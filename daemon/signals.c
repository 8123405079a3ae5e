/* SPDX-License-Identifier: MIT */
/* Signals as events of the loop (signals.h). */
#include "signals.h"

#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "daemon_state.h"
#include "log.h"
#include "stats.h"

static void signal_ready(struct loop_source *src, uint32_t events)
{
	struct daemon *d = loop_container(src, struct daemon, sig_src);
	struct signalfd_siginfo si;

	(void)events;
	while (read(d->sig_src.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGINT:
		case SIGTERM:
			log_info("%s: stopping",
				 si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
			d->stop = true;
			break;
		case SIGUSR1: {
			struct stats_snapshot snap;

			stats_snapshot_take(d, &snap);
			stats_log(&snap, WG_LOG_INFO);
			stats_snapshot_clear(&snap);
			break;
		}
		default:
			break;
		}
	}
}

int signals_open(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	d->sig_src.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_src.fd < 0)
		return -errno;
	d->sig_src.ready = signal_ready;
	return loop_add(d->epfd, &d->sig_src, EPOLLIN);
}

void signals_close(struct daemon *d)
{
	if (d->sig_src.fd >= 0)
		close(d->sig_src.fd);
	d->sig_src.fd = -1;
}
