/* SPDX-License-Identifier: MIT */
/*
 * The packet path (datapath.h): batches of transport data messages
 * (whitepaper 5.4.6) sealed and opened outside the core's lock through its
 * stepwise data path (wg.h), one thread per direction. The only copy of a
 * packet's bytes is the encryption itself: the tun device is read into one
 * arena, sealed messages are written to another and sent from there, and
 * received messages are opened in place and written to the tun device from
 * where they landed.
 */
#include "datapath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "offload.h"

/* The largest packet one read returns: a 64 KiB super-packet. */
#define TUN_READ_MAX 65536
/* What a message adds to its packet: header, padding, tag. */
#define MSG_EXTRA \
	(WG_MESSAGE_HEADER_LEN + WG_MESSAGE_PADDING + WG_MESSAGE_TAG_LEN)
/* Reads from the tun device land here, several per batch. */
#define TX_ARENA (8 * TUN_READ_MAX)
/* Sealed messages wait here for their send. */
#define TX_OUT (384 * 1024)
/* Packets (or segments) prepared per visit to the core. */
#define TX_JOBS 256
#define MAX_BATCH 64
/* Datagrams received per batch, each into a slot of its own (a GRO slot
 * holds up to 64 KiB of datagrams). */
#define RX_SLOT 65536
#define RX_SLOTS NETDEV_UDP_BATCH
/* Messages prepared per visit to the core. */
#define RX_MSGS 256
/* The tun device's queue: the default 500 packets are 7 ms of a 1 Gbit/s
 * stream, less than a busy machine may keep a thread from its CPU. */
#define TUN_QUEUE 2048
/* TCP flows glued at once, segments per super-packet. */
#define GRO_RUNS 8
#define GRO_SEGS 64

struct tx_pkt {
	uint8_t *data;
	size_t len;
	size_t segs;			/* 0: one packet, or segments */
	struct offload_tso tso;
};

struct tx_job {
	struct wg_send_job job;
	struct tx_pkt *pkt;
	size_t seg;
	uint8_t *plain;			/* the packet as it is sealed */
	size_t plen;
	size_t intact;			/* whole after sealing */
	bool ready;
	bool with_src;
};

struct rx_msg {
	uint8_t *data;
	size_t len;
	const struct wg_endpoint *from;
	struct wg_recv_job job;
	bool ready;
	bool opened;
	size_t inner_len;
};

struct gro_run {
	uint8_t *first;
	const uint8_t *last;
	struct offload_gro g;
	struct iovec iov[GRO_SEGS];
};

struct datapath {
	struct datapath_host h;
	struct datapath_options o;

	/* The sending direction. */
	uint8_t *tx_in;
	uint8_t *tx_out;
	size_t tx_out_used;
	struct tx_pkt pkts[MAX_BATCH];
	struct tx_job jobs[TX_JOBS];
	struct netdev_udp_tx sends[TX_JOBS];
	size_t send_job[TX_JOBS];
	size_t n_sends;

	/* The receiving direction. */
	uint8_t *rx_slots;
	struct netdev_udp_rx ents[RX_SLOTS];
	struct rx_msg msgs[RX_MSGS];
	struct gro_run runs[GRO_RUNS];
	size_t n_runs;

	/* Held by whichever thread is sending from the tun device: its own
	 * thread, or the receiving thread collecting the replies its writes
	 * provoked. One at a time keeps the packets in order. */
	pthread_mutex_t tx_lock;
	bool threaded;
	bool stop;
	unsigned int udp_generation;
	pthread_t tx_thread, rx_thread;
	bool tx_started, rx_started;
	int tx_ep, rx_ep, tx_wake, rx_wake;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void count(uint64_t *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static bool stopping(const struct datapath *dp)
{
	return __atomic_load_n(&dp->stop, __ATOMIC_ACQUIRE);
}

static void lock(struct datapath *dp)
{
	pthread_mutex_lock(dp->h.lock);
}

static void unlock(struct datapath *dp)
{
	dp->h.touched(dp->h.ctx);
	pthread_mutex_unlock(dp->h.lock);
}

/* Sending: tun device to UDP socket. */

/* Reads up to a batch of packets; *more when the batch filled up. */
static size_t tx_read(struct datapath *dp, bool *more, bool *gone)
{
	struct netdev *nd = dp->h.nd;
	size_t n_pkts = 0, off = 0;

	*more = false;
	for (unsigned int tries = 0; n_pkts < dp->o.batch &&
	     tries < 2 * dp->o.batch; tries++) {
		struct tx_pkt *p = &dp->pkts[n_pkts];
		struct offload_vnet_hdr vh = { 0 };
		uint8_t *buf = dp->tx_in + off;
		ssize_t n;

		if (TX_ARENA - off < TUN_READ_MAX + MSG_EXTRA)
			break;
		if (nd->offload) {
			uint8_t raw[OFFLOAD_VNET_HDR_LEN];

			n = nd->ops->read_offload(nd, raw, buf, TUN_READ_MAX);
			if (n > 0)
				offload_vnet_hdr_read(&vh, raw);
		} else {
			n = nd->ops->read(nd, buf, TUN_READ_MAX);
		}
		if (n == -EAGAIN)
			return n_pkts;
		if (n == -EINTR || n == 0)
			continue;
		if (n < 0) {
			/* EBADFD, EIO: the interface was deleted. */
			*gone = true;
			dp->h.gone(dp->h.ctx, (int)-n);
			return n_pkts;
		}
		p->data = buf;
		p->len = (size_t)n;
		p->segs = 0;
		if (vh.gso_type != OFFLOAD_GSO_NONE) {
			if (offload_tso_init(&p->tso, buf, p->len, vh.gso_type,
					     vh.gso_size) < 0) {
				count(&dp->h.counters->tun_dropped);
				continue;
			}
			p->segs = p->tso.segs;
		} else if (vh.flags & OFFLOAD_F_NEEDS_CSUM) {
			(void)offload_csum_complete(buf, p->len, vh.csum_start,
						    vh.csum_offset);
		}
		n_pkts++;
		off += (p->len + MSG_EXTRA + 63) & ~(size_t)63;
	}
	*more = true;
	return n_pkts;
}

/* Sends what has been sealed, and answers for what did not fit. */
static void tx_flush(struct datapath *dp)
{
	const struct tx_pkt *answered = NULL;
	bool locked = false;
	uint64_t now = 0;

	if (!dp->n_sends)
		return;
	netdev_udp_send_batch(dp->h.udp, dp->sends, dp->n_sends);
	for (size_t i = 0; i < dp->n_sends; i++) {
		const struct tx_job *j = &dp->jobs[dp->send_job[i]];
		int err = dp->sends[i].err;

		if (!err)
			continue;
		if (err != -EMSGSIZE) {
			count(&dp->h.counters->udp_send_errors);
			continue;
		}
		count(&dp->h.counters->udp_too_big);
		/* One answer per super-packet: its sender learns the size
		 * from the first and sends all of it again smaller. */
		if (j->pkt->segs && j->pkt == answered)
			continue;
		answered = j->pkt;
		if (!locked) {
			lock(dp);
			locked = true;
			now = now_ns();
		}
		/* The plaintext is still there (sealing writes elsewhere),
		 * but a segment's tail may carry the next one's headers. */
		dp->h.too_big(dp->h.ctx, &j->job.to, j->plain, j->plen,
			      j->intact, now);
	}
	if (locked)
		unlock(dp);
	dp->n_sends = 0;
	dp->tx_out_used = 0;
}

/* Seals jobs[0..n) in order (cutting segments as it goes) and queues
 * them for sending; packets without a session take the slow path. */
static void tx_seal(struct datapath *dp, size_t n, uint64_t now)
{
	for (size_t i = 0; i < n; i++) {
		struct tx_job *j = &dp->jobs[i];
		struct tx_pkt *p = j->pkt;
		uint8_t saved[WG_MESSAGE_PADDING];
		size_t pad, need, len;
		bool keep;
		uint8_t *msg;

		if (p->segs) {
			/* Writes over the previous segment's tail, which is
			 * sealed already. */
			j->plen = offload_tso_segment(&p->tso, j->seg,
						      &j->plain);
			j->intact = j->seg + 1 < p->segs &&
				    p->tso.mss < j->plen ? p->tso.mss : j->plen;
		}
		if (!j->ready) {
			lock(dp);
			dp->h.send_slow(dp->h.ctx, j->plain, j->plen, now);
			unlock(dp);
			continue;
		}
		need = WG_MESSAGE_HEADER_LEN + j->job.padded +
		       WG_MESSAGE_TAG_LEN;
		if (dp->tx_out_used + need > TX_OUT)
			tx_flush(dp);
		msg = dp->tx_out + dp->tx_out_used;
		/* A middle segment's padding lands on the next segment's
		 * first payload bytes: keep them. */
		pad = j->job.padded - j->job.len;
		keep = p->segs && j->seg + 1 < p->segs && pad;
		if (keep)
			memcpy(saved, j->plain + j->plen, pad);
		len = wg_send_job_seal(&j->job, j->plain, msg);
		if (keep)
			memcpy(j->plain + j->plen, saved, pad);
		dp->sends[dp->n_sends] = (struct netdev_udp_tx){
			.to = &j->job.to,
			.data = msg,
			.len = len,
			.with_src = j->with_src,
		};
		dp->send_job[dp->n_sends++] = i;
		dp->tx_out_used += (len + 15) & ~(size_t)15;
	}
}

/* Each packet (each segment) through wg_device_send. */
static void tx_slow(struct datapath *dp, size_t n_pkts)
{
	lock(dp);
	for (size_t pi = 0; pi < n_pkts; pi++) {
		struct tx_pkt *p = &dp->pkts[pi];
		uint64_t now = now_ns();

		if (!p->segs) {
			dp->h.send_slow(dp->h.ctx, p->data, p->len, now);
			continue;
		}
		for (size_t s = 0; s < p->segs; s++) {
			uint8_t *seg;
			size_t len = offload_tso_segment(&p->tso, s, &seg);

			dp->h.send_slow(dp->h.ctx, seg, len, now);
		}
	}
	unlock(dp);
}

/* The length of segment i of a super-packet, before it is cut. */
static size_t segment_len(const struct offload_tso *t, size_t i)
{
	size_t off = t->hdr_len + i * t->mss;

	return t->hdr_len + (t->len - off < t->mss ? t->len - off : t->mss);
}

/* One batch from the tun device; true if more may be waiting. */
static bool tx_batch(struct datapath *dp)
{
	bool more, gone = false;
	size_t n_pkts, n_jobs = 0;
	uint64_t now;

	n_pkts = tx_read(dp, &more, &gone);
	if (!n_pkts)
		return more && !gone;
	if (dp->o.slow) {
		tx_slow(dp, n_pkts);
		return more && !gone;
	}
	lock(dp);
	now = now_ns();
	for (size_t pi = 0; pi < n_pkts; pi++) {
		struct tx_pkt *p = &dp->pkts[pi];
		size_t segs = p->segs ? p->segs : 1;

		for (size_t s = 0; s < segs; s++) {
			struct tx_job *j = &dp->jobs[n_jobs];
			enum wg_verdict v;

			if (n_jobs == TX_JOBS) {
				/* The jobs are full: seal and send them,
				 * then go on. */
				unlock(dp);
				tx_seal(dp, n_jobs, now);
				tx_flush(dp);
				n_jobs = 0;
				j = &dp->jobs[0];
				lock(dp);
				now = now_ns();
			}
			j->pkt = p;
			j->seg = s;
			j->plain = p->data;
			j->plen = p->segs ? segment_len(&p->tso, s) : p->len;
			j->intact = j->plen;
			/* Only the IP header is read: the super-packet's
			 * first serves every segment. */
			v = wg_device_send_prepare(dp->h.dev, now, p->data,
						   j->plen, &j->job,
						   &j->ready);
			if (v != WG_OK)
				continue;
			j->with_src = j->ready &&
				      netdev_udp_source_ok(dp->h.udp,
							   &j->job.to);
			n_jobs++;
		}
	}
	unlock(dp);
	tx_seal(dp, n_jobs, now);
	tx_flush(dp);
	return more && !gone;
}

/* Receiving: UDP socket to tun device. */

static void tun_write_one(struct datapath *dp, uint8_t *pkt, size_t len)
{
	struct netdev *nd = dp->h.nd;
	int ret;

	if (nd->offload) {
		/* The tunnel authenticated every byte: nothing to verify. */
		struct offload_vnet_hdr vh = { .flags = OFFLOAD_F_DATA_VALID };
		uint8_t raw[OFFLOAD_VNET_HDR_LEN];
		struct iovec iov = { .iov_base = pkt, .iov_len = len };

		offload_vnet_hdr_write(raw, &vh);
		ret = nd->ops->write_offload(nd, raw, &iov, 1);
	} else {
		ret = nd->ops->write(nd, pkt, len);
	}
	if (ret)
		count(&dp->h.counters->tun_write_errors);
}

static void gro_flush(struct datapath *dp, struct gro_run *r)
{
	struct netdev *nd = dp->h.nd;
	struct offload_vnet_hdr vh;
	uint8_t raw[OFFLOAD_VNET_HDR_LEN];

	if (r->g.count == 1) {
		tun_write_one(dp, r->first, r->iov[0].iov_len);
		return;
	}
	offload_gro_finish(&r->g, r->first, r->last, &vh);
	offload_vnet_hdr_write(raw, &vh);
	if (nd->ops->write_offload(nd, raw, r->iov, (int)r->g.count))
		count(&dp->h.counters->tun_write_errors);
}

static void gro_flush_all(struct datapath *dp)
{
	for (size_t i = 0; i < dp->n_runs; i++)
		gro_flush(dp, &dp->runs[i]);
	dp->n_runs = 0;
}

static void gro_drop_run(struct datapath *dp, size_t i)
{
	gro_flush(dp, &dp->runs[i]);
	dp->runs[i] = dp->runs[--dp->n_runs];
}

/* An inner packet for the tun device, glued to its flow's run when it
 * continues it. Each flow's packets keep their order. */
static void deliver(struct datapath *dp, uint8_t *pkt, size_t len)
{
	struct gro_run *r;

	if (!dp->h.nd->offload || !dp->o.coalesce) {
		tun_write_one(dp, pkt, len);
		return;
	}
	for (size_t i = 0; i < dp->n_runs; i++) {
		r = &dp->runs[i];
		if (!offload_gro_same_flow(&r->g, r->first, pkt, len))
			continue;
		if (offload_gro_fits(&r->g, r->first, pkt, len)) {
			r->iov[r->g.count - 1].iov_base = pkt + r->g.hdr_len;
			r->iov[r->g.count - 1].iov_len = len - r->g.hdr_len;
			r->last = pkt;
			return;
		}
		/* Its flow's earlier packets go first. */
		gro_drop_run(dp, i);
		break;
	}
	if (dp->n_runs == GRO_RUNS)
		gro_drop_run(dp, 0);
	r = &dp->runs[dp->n_runs];
	if (!offload_gro_start(&r->g, pkt, len)) {
		tun_write_one(dp, pkt, len);
		return;
	}
	r->first = pkt;
	r->last = pkt;
	r->iov[0].iov_base = pkt;
	r->iov[0].iov_len = len;
	dp->n_runs++;
}

/* msgs[0..n): prepared, opened and finished, then delivered. */
static void rx_process(struct datapath *dp, size_t n)
{
	bool any = false;
	uint64_t now;

	if (!n)
		return;
	lock(dp);
	now = now_ns();
	if (dp->o.slow) {
		for (size_t i = 0; i < n; i++)
			dp->h.receive_slow(dp->h.ctx, dp->msgs[i].from,
					   dp->msgs[i].data, dp->msgs[i].len,
					   now);
		unlock(dp);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &dp->msgs[i];

		m->inner_len = 0;
		(void)wg_device_receive_prepare(dp->h.dev, now, m->from,
						m->data, m->len, &m->job,
						&m->ready);
		any |= m->ready;
	}
	unlock(dp);
	if (!any)
		return;
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &dp->msgs[i];

		if (m->ready)
			m->opened = wg_recv_job_open(&m->job, m->data, m->len);
	}
	lock(dp);
	now = now_ns();
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &dp->msgs[i];

		if (m->ready)
			(void)wg_device_receive_finish(dp->h.dev, now, m->from,
						       &m->job, m->opened,
						       m->data, m->len,
						       &m->inner_len);
	}
	unlock(dp);
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &dp->msgs[i];

		if (m->inner_len)
			deliver(dp, m->data + WG_MESSAGE_HEADER_LEN,
				m->inner_len);
	}
	gro_flush_all(dp);
}

/* One batch from the UDP socket; true if more may be waiting. */
static bool rx_batch(struct datapath *dp)
{
	unsigned int want = dp->o.batch < RX_SLOTS ? dp->o.batch : RX_SLOTS;
	size_t n_msgs = 0;
	int n;

	n = netdev_udp_recv_batch(dp->h.udp, dp->ents, want);
	if (n < 0) {
		if (n != -EAGAIN)
			count(&dp->h.counters->udp_recv_errors);
		return false;
	}
	for (int e = 0; e < n; e++) {
		const struct netdev_udp_rx *ent = &dp->ents[e];
		size_t seg = ent->segment ? ent->segment : ent->len;

		if (ent->err) {
			/* Truncated, or from nowhere we know: lost alone. */
			count(&dp->h.counters->udp_recv_errors);
			continue;
		}
		/* Each datagram of a GRO batch; an empty one too (the
		 * core's to count). */
		size_t off = 0;

		do {
			struct rx_msg *m;

			if (n_msgs == RX_MSGS) {
				rx_process(dp, n_msgs);
				n_msgs = 0;
			}
			m = &dp->msgs[n_msgs++];
			m->data = ent->buf + off;
			m->len = ent->len - off < seg ? ent->len - off : seg;
			m->from = &ent->from;
			off += seg;
		} while (off < ent->len);
	}
	rx_process(dp, n_msgs);
	return (unsigned int)n == want;
}

/* The threads. */

static void drain(int fd)
{
	uint64_t v;

	(void)!read(fd, &v, sizeof(v));
}

static void *tx_main(void *arg)
{
	struct datapath *dp = arg;
	struct epoll_event ev[2];

	while (!stopping(dp)) {
		bool more;

		pthread_mutex_lock(&dp->tx_lock);
		more = tx_batch(dp);
		pthread_mutex_unlock(&dp->tx_lock);
		if (more)
			continue;
		if (epoll_wait(dp->tx_ep, ev, 2, -1) < 0 && errno != EINTR)
			break;
		drain(dp->tx_wake);
	}
	return NULL;
}

static void *rx_main(void *arg)
{
	struct datapath *dp = arg;
	unsigned int generation = 0;
	struct epoll_event ev[2];

	while (!stopping(dp)) {
		unsigned int g = __atomic_load_n(&dp->udp_generation,
						 __ATOMIC_ACQUIRE);

		if (g != generation) {
			/* A new socket under the same fd number. */
			struct epoll_event in = { .events = EPOLLIN };

			generation = g;
			(void)epoll_ctl(dp->rx_ep, EPOLL_CTL_ADD,
					dp->h.udp->fd, &in);
		}
		if (rx_batch(dp))
			continue;
		/* What was written to the tun device may have been answered
		 * at once (an echo reply, a TCP acknowledgment): sending it
		 * now saves the other thread a wake-up on the answer's
		 * path. Only if that thread is not sending already. */
		if (dp->o.answer && pthread_mutex_trylock(&dp->tx_lock) == 0) {
			(void)tx_batch(dp);
			pthread_mutex_unlock(&dp->tx_lock);
		}
		if (epoll_wait(dp->rx_ep, ev, 2, -1) < 0 && errno != EINTR)
			break;
		drain(dp->rx_wake);
	}
	return NULL;
}

static int thread_epoll(int fd, int wake)
{
	struct epoll_event in = { .events = EPOLLIN };
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &in) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, wake, &in) < 0) {
		int err = -errno;

		close(ep);
		return err;
	}
	return ep;
}

struct datapath *datapath_new(const struct datapath_host *host,
			      const struct datapath_options *opts)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->h = *host;
	dp->o = *opts;
	if (dp->o.batch < 1)
		dp->o.batch = 1;
	if (dp->o.batch > MAX_BATCH)
		dp->o.batch = MAX_BATCH;
	dp->tx_ep = dp->rx_ep = dp->tx_wake = dp->rx_wake = -1;
	pthread_mutex_init(&dp->tx_lock, NULL);
	/* Untouched pages of the arenas cost nothing until traffic comes. */
	dp->tx_in = malloc(TX_ARENA);
	dp->tx_out = malloc(TX_OUT);
	dp->rx_slots = malloc((size_t)RX_SLOTS * RX_SLOT);
	if (!dp->tx_in || !dp->tx_out || !dp->rx_slots) {
		datapath_free(dp);
		return NULL;
	}
	for (size_t i = 0; i < RX_SLOTS; i++) {
		dp->ents[i].buf = dp->rx_slots + i * RX_SLOT;
		dp->ents[i].cap = RX_SLOT;
	}
	return dp;
}

int datapath_start(struct datapath *dp)
{
	int ret;

	if (!dp->o.threads)
		return -ENOTSUP;
	dp->tx_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dp->rx_wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (dp->tx_wake < 0 || dp->rx_wake < 0)
		return -errno;
	dp->tx_ep = thread_epoll(dp->h.nd->ops->pollfd(dp->h.nd), dp->tx_wake);
	if (dp->tx_ep < 0)
		return dp->tx_ep;
	dp->rx_ep = thread_epoll(dp->h.udp->fd, dp->rx_wake);
	if (dp->rx_ep < 0)
		return dp->rx_ep;
	ret = pthread_create(&dp->tx_thread, NULL, tx_main, dp);
	if (ret)
		return -ret;
	dp->tx_started = true;
	ret = pthread_create(&dp->rx_thread, NULL, rx_main, dp);
	if (ret) {
		/* Both directions or neither: the loop takes over. */
		__atomic_store_n(&dp->stop, true, __ATOMIC_RELEASE);
		(void)!write(dp->tx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(dp->tx_thread, NULL);
		dp->tx_started = false;
		__atomic_store_n(&dp->stop, false, __ATOMIC_RELEASE);
		return -ret;
	}
	dp->rx_started = true;
	dp->threaded = true;
	return 0;
}

bool datapath_threaded(const struct datapath *dp)
{
	return dp->threaded;
}

void datapath_tun_ready(struct datapath *dp)
{
	/* Bounded, so that the other sources get their turn. */
	for (int i = 0; i < 4 && tx_batch(dp); i++)
		;
}

void datapath_udp_ready(struct datapath *dp)
{
	for (int i = 0; i < 4 && rx_batch(dp); i++)
		;
}

void datapath_udp_changed(struct datapath *dp)
{
	__atomic_fetch_add(&dp->udp_generation, 1, __ATOMIC_RELEASE);
	if (dp->rx_wake >= 0)
		(void)!write(dp->rx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
}

void datapath_free(struct datapath *dp)
{
	if (!dp)
		return;
	__atomic_store_n(&dp->stop, true, __ATOMIC_RELEASE);
	if (dp->tx_started) {
		(void)!write(dp->tx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(dp->tx_thread, NULL);
	}
	if (dp->rx_started) {
		(void)!write(dp->rx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
		pthread_join(dp->rx_thread, NULL);
	}
	for (int *fd = &dp->tx_ep; fd <= &dp->rx_wake; fd++)
		if (*fd >= 0)
			close(*fd);
	pthread_mutex_destroy(&dp->tx_lock);
	free(dp->tx_in);
	free(dp->tx_out);
	free(dp->rx_slots);
	/* Jobs held copies of session keys (each wiped after use; this is
	 * for the ones a stop cut short). */
	explicit_bzero(dp, sizeof(*dp));
	free(dp);
}

void datapath_options_from_env(struct datapath_options *opts, bool *tso,
			       bool *gso, bool *gro)
{
	const char *env = getenv("UNIGUARD_DATAPATH");
	char buf[128], *tok, *save = NULL;

	opts->threads = true;
	opts->coalesce = true;
	opts->answer = true;
	opts->batch = MAX_BATCH;
	opts->queue = TUN_QUEUE;
	*tso = *gso = *gro = true;
	if (!env)
		return;
	snprintf(buf, sizeof(buf), "%s", env);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (!strcmp(tok, "nothreads"))
			opts->threads = false;
		else if (!strcmp(tok, "nocoalesce"))
			opts->coalesce = false;
		else if (!strcmp(tok, "noanswer"))
			opts->answer = false;
		else if (!strcmp(tok, "notso"))
			*tso = false;
		else if (!strcmp(tok, "nogso"))
			*gso = false;
		else if (!strcmp(tok, "nogro"))
			*gro = false;
		else if (!strncmp(tok, "batch=", 6))
			opts->batch = (unsigned int)strtoul(tok + 6, NULL, 10);
		else if (!strncmp(tok, "queue=", 6))
			opts->queue = (unsigned int)strtoul(tok + 6, NULL, 10);
	}
}
