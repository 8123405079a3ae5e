/* SPDX-License-Identifier: MIT */
/*
 * Waiting (datapath_wait.h). A thread that has just moved packets polls
 * for a moment before it sleeps (yielding the CPU at every turn to
 * whatever else wants it): on a virtual machine a CPU with nothing to run
 * halts, and waking it again costs tens of microseconds, a hundred and
 * more when its host is busy, on every hop of a lone packet's way. While
 * it polls, a thread also takes what arrives for the other direction,
 * when the other thread is not at it already: a reply that arrives in the
 * moment after its request left is handled by the thread already running.
 *
 * How long it polls adapts, as a halting CPU's own polling does: a gap
 * between batches that polling would have bridged lengthens the window
 * (to twice that gap, up to the limit), a longer gap shortens it by an
 * eighth, and below a few microseconds it is off until a short gap comes
 * again. A gateway that only answers pings thus stops polling after a few
 * of them, and a client waiting for its replies polls just long enough to
 * catch them. An idle daemon never polls. Polling is off where the daemon
 * may use only one CPU (or cannot tell): there it would only delay the
 * very work it waits for.
 *
 * While traffic is light, one thread serves both directions: the sending
 * thread waits on the tun device and the UDP socket together, and the
 * receiving thread sleeps until it is needed. A lone packet then wakes
 * one thread instead of one per direction, and the reply it provokes
 * finds that thread still there. Once the sending thread has gone a while
 * without a long wait, the receiving thread takes over its direction; when
 * it has waited long several times in a row, it hands it back.
 */
#include "datapath_wait.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "crypto.h"
#include "datapath_pin.h"
#include "datapath_shared.h"

/* A wait this long or longer is a long wait; shorter ones mean the thread
 * is busy. Long waits in a row, each counted as one per LONG_WAIT_NS (one
 * long wait is a hiccup, but a wait as long as several of them is not),
 * make a thread quiet once they add up to QUIET_AFTER: it lets its CPU go,
 * and the receiving thread hands its direction back. */
#define LONG_WAIT_NS 1000000u
#define QUIET_AFTER 8
/* Polling windows below this are not worth a turn. */
#define SPIN_MIN_NS 5000u
/* Batches in a row without a long wait before the directions split (they
 * are joined again once the receiving thread is quiet, QUIET_AFTER). */
#define SPLIT_AFTER 64

/* What a wait found ready. */
#define READY_TUN 1u
#define READY_UDP 2u
#define READY_WAKE 4u
#define READY_ALL (READY_TUN | READY_UDP | READY_WAKE)

/* The directions. */
#define SENDING 0u
#define RECEIVING 1u

struct datapath_wait {
	struct datapath_host h;
	struct datapath_send *tx;
	struct datapath_receive *rx;
	enum datapath_pinning pin;
	unsigned int spin;		/* µs of polling at most */
	bool share;
	bool answer;
	unsigned int batch;
	/* Held by whichever thread is sending from the tun device: its own
	 * thread, or the receiving thread collecting the replies its writes
	 * provoked. One at a time keeps the packets in order. */
	pthread_mutex_t tx_lock;
	/* Held by whichever thread is receiving: its own, or the sending
	 * thread while it polls for a moment after its work. */
	pthread_mutex_t rx_lock;
	bool stop;
	unsigned int udp_generation;
	/* The receiving thread serves its own direction (else the sending
	 * thread serves both). */
	bool split;
	/* The sending thread's sets (its direction alone, or both), the
	 * receiving thread's (its own, or only its wake-up when parked), the
	 * wake-ups. */
	int tx_ep, all_ep, rx_ep, park_ep, tx_wake, rx_wake;
};

/* One thread's own. */
struct waiter {
	struct datapath_pin pin;
	uint64_t max;			/* ns of polling at most, 0: never */
	uint64_t window;		/* ns of polling after work */
	uint64_t last_work;
	unsigned int which;		/* SENDING or RECEIVING */
	unsigned int busy;		/* batches without a long wait */
	unsigned int idle;		/* long waits in a row (long_waits) */
	unsigned int generation;	/* of the UDP socket in its sets */
	unsigned int waited_long;	/* the last wait, in long waits */
	bool failed;			/* epoll_wait failed: stop */
};

static bool stopping(const struct datapath_wait *dw)
{
	return __atomic_load_n(&dw->stop, __ATOMIC_ACQUIRE);
}

static bool joined(const struct datapath_wait *dw)
{
	return !__atomic_load_n(&dw->split, __ATOMIC_ACQUIRE);
}

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static void wake(int fd)
{
	(void)!write(fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

/* How many long waits a wait counts as: one per LONG_WAIT_NS. */
static unsigned int long_waits(uint64_t waited)
{
	uint64_t n = waited / LONG_WAIT_NS;

	return n > 1000 ? 1000 : (unsigned int)n;
}

static void waiter_init(struct waiter *w, const struct datapath_wait *dw,
			unsigned int which)
{
	cpu_set_t allowed;

	memset(w, 0, sizeof(*w));
	w->which = which;
	/* The CPUs the daemon may use, before pinning narrows them. */
	if (!pthread_getaffinity_np(pthread_self(), sizeof(allowed),
				    &allowed) && CPU_COUNT(&allowed) >= 2)
		w->max = (uint64_t)dw->spin * 1000u;
	w->window = w->max;
	datapath_pin_init(&w->pin, dw->pin, which);
}

/* The thread moved packets just now: the gap since the last time says
 * whether polling would have bridged it. */
static void waiter_note(struct waiter *w, uint64_t now)
{
	uint64_t gap = now - w->last_work;

	w->last_work = now;
	if (!w->max)
		return;
	if (gap <= w->max) {
		if (w->window < 2 * gap)
			w->window = 2 * gap < w->max ? 2 * gap : w->max;
		if (w->window < SPIN_MIN_NS)
			w->window = SPIN_MIN_NS;
	} else {
		w->window -= w->window / 8;
		if (w->window < SPIN_MIN_NS)
			w->window = 0;
	}
}

/* One batch of a direction under its lock (only if free, unless wait),
 * of at most max packets from the tun device (0: a whole batch); true if
 * it moved packets, *more if more may be waiting. */
static bool batch(struct datapath_wait *dw, unsigned int dir, bool wait,
		  unsigned int max, bool *more)
{
	pthread_mutex_t *m = dir == RECEIVING ? &dw->rx_lock : &dw->tx_lock;
	bool full;
	size_t moved;

	if (wait)
		pthread_mutex_lock(m);
	else if (pthread_mutex_trylock(m))
		return false;
	if (dir == RECEIVING)
		moved = datapath_receive_batch(dw->rx, &full);
	else
		moved = datapath_send_batch(dw->tx, max ? max : dw->batch,
					    &full);
	pthread_mutex_unlock(m);
	if (more)
		*more |= full;
	return moved != 0;
}

/* Polls for a while after work; says what is ready for the thread (0:
 * nothing, time to sleep). */
static unsigned int spin(struct datapath_wait *dw, struct waiter *w)
{
	struct pollfd pfd[2] = {
		[SENDING] = { .fd = dw->h.nd->ops->pollfd(dw->h.nd),
			      .events = POLLIN },
		[RECEIVING] = { .fd = dw->h.udp->fd, .events = POLLIN },
	};
	unsigned int own = w->which, other = !own;
	uint64_t now = netdev_now_ns();

	while (now - w->last_work < w->window && !stopping(dw)) {
		if (poll(pfd, 2, 0) > 0) {
			unsigned int ready =
				(pfd[0].revents & POLLIN ? READY_TUN : 0) |
				(pfd[1].revents & POLLIN ? READY_UDP : 0);

			if (joined(dw) && ready)
				return ready;
			if (pfd[own].revents & POLLIN)
				return own ? READY_UDP : READY_TUN;
			if ((pfd[other].revents & POLLIN) &&
			    batch(dw, other, false, 0, NULL))
				waiter_note(w, netdev_now_ns());
		}
		sched_yield();
		now = netdev_now_ns();
	}
	return 0;
}

/* Waits on an epoll set, polling first if there was work a moment ago;
 * says what is ready (READY_ALL when it cannot tell). */
static unsigned int wait_events(struct datapath_wait *dw, struct waiter *w,
				int ep)
{
	struct epoll_event ev[3];
	uint64_t start = netdev_now_ns();
	unsigned int ready = 0;
	int n;

	if (w->window)
		ready = spin(dw, w);
	if (!ready) {
		n = epoll_wait(ep, ev, 3, -1);
		for (int i = 0; i < n; i++)
			ready |= (unsigned int)ev[i].data.u32;
		if (n <= 0)
			ready = READY_ALL;
		w->failed = n < 0 && errno != EINTR;
	}
	if (ready & READY_WAKE)
		drain(w->which == RECEIVING ? dw->rx_wake : dw->tx_wake);
	w->waited_long = long_waits(netdev_now_ns() - start);
	if (!w->waited_long)
		w->idle = 0;
	else if (w->idle < QUIET_AFTER)
		w->idle += w->waited_long;
	datapath_pin_waited(&w->pin, !w->waited_long,
			    w->idle >= QUIET_AFTER);
	return ready;
}

/* A new UDP socket under the same fd number: watch it. */
static void watch_udp(struct datapath_wait *dw, struct waiter *w, int ep)
{
	unsigned int g = __atomic_load_n(&dw->udp_generation,
					 __ATOMIC_ACQUIRE);
	struct epoll_event in = { .events = EPOLLIN,
				  .data.u32 = READY_UDP };

	if (g == w->generation)
		return;
	w->generation = g;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, dw->h.udp->fd, &in);
}

/* The receiving thread takes its own direction. */
static void split(struct datapath_wait *dw)
{
	__atomic_store_n(&dw->split, true, __ATOMIC_RELEASE);
	wake(dw->rx_wake);
}

/* Each batch is taken only from what the wait found ready, or from what
 * the last batch left behind: a read that would find nothing is a system
 * call on a lone packet's way.
 *
 * For the same reason, while traffic is light the first read after the
 * tun device was found empty takes one packet, which is sealed and sent
 * before the read that finds the device empty again. */
void *datapath_wait_sending(void *arg)
{
	struct datapath_wait *dw = arg;
	struct waiter w;
	bool was_alone = true, drained = true;
	unsigned int ready = READY_ALL;

	waiter_init(&w, dw, SENDING);
	while (!stopping(dw)) {
		bool alone = joined(dw), tun_more = false, udp_more = false;
		bool delivered = false, lone = alone && drained;

		if (alone && !was_alone)
			w.busy = 0;
		was_alone = alone;
		watch_udp(dw, &w, dw->all_ep);
		if ((ready & (READY_TUN | READY_WAKE)) &&
		    batch(dw, SENDING, true, lone ? 1 : 0, &tun_more))
			waiter_note(&w, netdev_now_ns());
		if (ready & (READY_TUN | READY_WAKE))
			drained = !tun_more;
		if (alone && (ready & (READY_UDP | READY_WAKE)) &&
		    batch(dw, RECEIVING, true, 0, &udp_more)) {
			waiter_note(&w, netdev_now_ns());
			/* What the delivery provoked (an echo reply, a TCP
			 * acknowledgment) may be waiting already. */
			delivered = true;
		}
		ready = (tun_more || delivered ? READY_TUN : 0) |
			(udp_more ? READY_UDP : 0);
		if (ready) {
			/* A lone packet's second read is not more work. */
			if (alone && !(lone && tun_more) &&
			    ++w.busy >= SPLIT_AFTER)
				split(dw);
			continue;
		}
		ready = wait_events(dw, &w, alone ? dw->all_ep : dw->tx_ep);
		if (w.failed)
			break;
		if (w.waited_long)
			w.busy = 0;
		else if (alone && ++w.busy >= SPLIT_AFTER)
			split(dw);
	}
	/* The AEAD's per-thread state (crypto.h). */
	wg_crypto_thread_done();
	return NULL;
}

void *datapath_wait_receiving(void *arg)
{
	struct datapath_wait *dw = arg;
	struct waiter w;
	unsigned int ready = READY_ALL;

	waiter_init(&w, dw, RECEIVING);
	while (!stopping(dw)) {
		bool more = false;

		if (joined(dw)) {
			struct epoll_event ev;

			/* The sending thread serves both directions. */
			if (epoll_wait(dw->park_ep, &ev, 1, -1) < 0 &&
			    errno != EINTR)
				break;
			drain(dw->rx_wake);
			w.idle = 0;
			ready = READY_ALL;
			continue;
		}
		watch_udp(dw, &w, dw->rx_ep);
		if (ready & (READY_UDP | READY_WAKE)) {
			if (!batch(dw, RECEIVING, true, 0, &more))
				goto wait;
			waiter_note(&w, netdev_now_ns());
			/* What was written to the tun device may have been
			 * answered at once (an echo reply, a TCP
			 * acknowledgment): sending it now saves the other
			 * thread a wake-up on the answer's path. Only if that
			 * thread is not sending already. */
			if (dw->answer && batch(dw, SENDING, false, 0, NULL))
				waiter_note(&w, netdev_now_ns());
		}
		if (more) {
			ready = READY_UDP;
			continue;
		}
wait:
		ready = wait_events(dw, &w, dw->rx_ep);
		if (w.failed)
			break;
		if (dw->share && w.idle >= QUIET_AFTER) {
			/* Quiet again: the sending thread takes both. */
			__atomic_store_n(&dw->split, false, __ATOMIC_RELEASE);
			wake(dw->tx_wake);
		}
	}
	wg_crypto_thread_done();
	return NULL;
}

/* An epoll set of the tun device, the UDP socket and the thread's
 * wake-up, each if wanted. */
static int thread_epoll(struct datapath_wait *dw, unsigned int which,
			int wake_fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int fds[3] = {
		which & READY_TUN ? dw->h.nd->ops->pollfd(dw->h.nd) : -1,
		which & READY_UDP ? dw->h.udp->fd : -1,
		wake_fd,
	};

	if (ep < 0)
		return -errno;
	for (unsigned int i = 0; i < 3; i++) {
		struct epoll_event in = { .events = EPOLLIN,
					  .data.u32 = 1u << i };

		if (fds[i] >= 0 &&
		    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &in) < 0) {
			int err = -errno;

			close(ep);
			return err;
		}
	}
	return ep;
}

int datapath_wait_new(struct datapath_wait **out,
		      const struct datapath_host *host,
		      const struct datapath_options *opts,
		      struct datapath_send *tx, struct datapath_receive *rx)
{
	struct datapath_wait *dw = calloc(1, sizeof(*dw));
	int ret = -ENOMEM;

	*out = NULL;
	if (!dw)
		return ret;
	*dw = (struct datapath_wait){
		.h = *host,
		.tx = tx,
		.rx = rx,
		.pin = opts->pin,
		.spin = opts->spin,
		.share = opts->share,
		.answer = opts->answer,
		.batch = opts->batch,
		.split = !opts->share,
		.tx_ep = -1, .all_ep = -1, .rx_ep = -1, .park_ep = -1,
	};
	pthread_mutex_init(&dw->tx_lock, NULL);
	pthread_mutex_init(&dw->rx_lock, NULL);
	dw->tx_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dw->rx_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dw->tx_wake < 0 || dw->rx_wake < 0) {
		ret = -errno;
		goto out;
	}
	ret = dw->tx_ep = thread_epoll(dw, READY_TUN, dw->tx_wake);
	if (ret < 0)
		goto out;
	ret = dw->all_ep = thread_epoll(dw, READY_TUN | READY_UDP,
					dw->tx_wake);
	if (ret < 0)
		goto out;
	ret = dw->rx_ep = thread_epoll(dw, READY_UDP, dw->rx_wake);
	if (ret < 0)
		goto out;
	ret = dw->park_ep = thread_epoll(dw, 0, dw->rx_wake);
	if (ret < 0)
		goto out;
	ret = 0;
	*out = dw;
out:
	if (ret)
		datapath_wait_free(dw);
	return ret;
}

void datapath_wait_stop(struct datapath_wait *dw)
{
	__atomic_store_n(&dw->stop, true, __ATOMIC_RELEASE);
	wake(dw->tx_wake);
	wake(dw->rx_wake);
}

void datapath_wait_udp_changed(struct datapath_wait *dw)
{
	__atomic_fetch_add(&dw->udp_generation, 1, __ATOMIC_RELEASE);
	/* Both: either may be the one waiting on the socket. */
	wake(dw->rx_wake);
	wake(dw->tx_wake);
}

void datapath_wait_free(struct datapath_wait *dw)
{
	const int fds[] = { dw->tx_ep, dw->all_ep, dw->rx_ep, dw->park_ep,
			    dw->tx_wake, dw->rx_wake };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pthread_mutex_destroy(&dw->tx_lock);
	pthread_mutex_destroy(&dw->rx_lock);
	free(dw);
}
