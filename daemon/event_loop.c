/* SPDX-License-Identifier: MIT */
/*
 * The event loop (event_loop.h), in the manner of libuv: the core's next
 * deadline is read once per turn and the wait ends in time for it.
 */
#include "event_loop.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon_state.h"
#include "log.h"
#include "stats.h"
#include "sysio.h"

static void wake_ready(struct loop_source *src, uint32_t events)
{
	uint64_t v;

	(void)events;
	(void)!read(src->fd, &v, sizeof(v));
}

int event_loop_open(struct daemon *d)
{
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	d->wake_src.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d->wake_src.ready = wake_ready;
	if (d->wake_src.fd < 0)
		return -errno;
	ret = loop_add(d->epfd, &d->wake_src, EPOLLIN);
	return ret;
}

void event_loop_wake(struct daemon *d)
{
	(void)!write(d->wake_src.fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

/* The epoll timeout until deadline: milliseconds rounded up, so that the
 * tick after the wait is never early; -1 for no deadline. */
static int timeout_ms(uint64_t deadline, uint64_t now)
{
	uint64_t ms;

	if (deadline == UINT64_MAX)
		return -1;
	if (deadline <= now)
		return 0;
	ms = (deadline - now + 999999u) / 1000000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The periodic counters line, when due: copied under the lock, logged
 * without it. */
static void log_counters_when_due(struct daemon *d, uint64_t now)
{
	struct stats_snapshot snap;

	if (!d->counters_every || now < d->counters_due)
		return;
	d->counters_due = now + d->counters_every;
	pthread_mutex_lock(&d->lock);
	stats_snapshot_take(d, &snap);
	pthread_mutex_unlock(&d->lock);
	stats_log(&snap, WG_LOG_INFO);
	stats_snapshot_clear(&snap);
}

static int earlier_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static bool stopped(struct daemon *d)
{
	return __atomic_load_n(&d->stop, __ATOMIC_ACQUIRE);
}

void event_loop_run(struct daemon *d)
{
	struct epoll_event events[32];

	while (!stopped(d)) {
		uint64_t deadline;
		int n, timeout;

		/* Its system calls want to be made without the lock. */
		too_big_answer_waiting(d);
		pthread_mutex_lock(&d->lock);
		d->now = netdev_now_ns();
		deadline = wg_device_next_deadline(d->dev);
		if (deadline <= d->now) {
			deadline = wg_device_tick(d->dev, d->now);
			/* A deadline that does not move is the core's to
			 * fix; do not spin on it. */
			if (deadline <= d->now)
				deadline = d->now + 1000000u;
		}
		d->armed = deadline;
		timeout = timeout_ms(deadline, d->now);
		if (d->counters_every)
			timeout = earlier_timeout(timeout, timeout_ms(
					d->counters_due, d->now));
		pthread_mutex_unlock(&d->lock);
		n = epoll_wait(d->epfd, events, 32, timeout);
		log_counters_when_due(d, netdev_now_ns());
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("epoll_wait: %s", strerror(errno));
			d->status = 1;
			break;
		}
		for (int i = 0; i < n && !stopped(d); i++) {
			struct loop_source *src = events[i].data.ptr;

			/* The packet path takes the lock itself. */
			if (src == &d->tun_src || src == &d->udp_src) {
				src->ready(src, events[i].events);
				continue;
			}
			pthread_mutex_lock(&d->lock);
			src->ready(src, events[i].events);
			pthread_mutex_unlock(&d->lock);
		}
	}
}

void event_loop_close(struct daemon *d)
{
	if (d->wake_src.fd >= 0)
		close(d->wake_src.fd);
	d->wake_src.fd = -1;
	if (d->epfd >= 0)
		close(d->epfd);
	d->epfd = -1;
}
