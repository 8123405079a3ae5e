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
#include <poll.h>
#include <sched.h>
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
/* The longest a thread polls after work, in microseconds: a reply's round
 * trip through a peer on the same network, crypto included, fits in it. */
#define SPIN_MAX_US 200

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
	/* Held by whichever thread is receiving: its own, or the sending
	 * thread while it polls for a moment after its work. */
	pthread_mutex_t rx_lock;
	bool threaded;
	bool stop;
	unsigned int udp_generation;
	/* Packets each direction has taken in, to tell work from none. */
	uint64_t tx_seen, rx_seen;
	/* Time spent on handshake messages in the current window (see
	 * handshake_allowed), under the receiving lock. */
	uint64_t hs_window_start, hs_spent;
	/* The receiving thread serves its own direction (else the sending
	 * thread serves both). */
	bool split;
	pthread_t tx_thread, rx_thread;
	bool tx_started, rx_started;
	/* The sending thread's sets (its direction alone, or both), the
	 * receiving thread's (its own, or only its wake-up when parked);
	 * the wake-ups last, as datapath_free closes all in a row. */
	int tx_ep, all_ep, rx_ep, park_ep, tx_wake, rx_wake;
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

/* Reads up to max packets; *more when that many came. */
static size_t tx_read(struct datapath *dp, unsigned int max, bool *more,
		      bool *gone)
{
	struct netdev *nd = dp->h.nd;
	size_t n_pkts = 0, off = 0;

	*more = false;
	for (unsigned int tries = 0; n_pkts < max && tries < 2 * max;
	     tries++) {
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

/* One batch from the tun device, of at most max packets; true if more may
 * be waiting. */
static bool tx_batch(struct datapath *dp, unsigned int max)
{
	bool more, gone = false;
	size_t n_pkts, n_jobs = 0;
	uint64_t now;

	n_pkts = tx_read(dp, max, &more, &gone);
	dp->tx_seen += n_pkts;
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

/* A handshake message costs the receiving thread a cookie reply, or a
 * Diffie-Hellman or four: a flood of them faster than the thread can
 * answer would fill the socket's buffer, and data would be lost with the
 * flood. So handshake messages may take at most half of the thread's time
 * in each window of HS_WINDOW_NS; beyond that they are dropped unseen
 * (and counted), and data keeps the other half whatever the flood's rate.
 * Below that, the core's own defences (cookies under load, a rate per
 * source) are what a flood meets. */
#define HS_WINDOW_NS 10000000u
#define HS_SHARE_NS (HS_WINDOW_NS / 2)

static bool handshake_allowed(struct datapath *dp, uint64_t now)
{
	if (now - dp->hs_window_start >= HS_WINDOW_NS) {
		dp->hs_window_start = now;
		dp->hs_spent = 0;
	}
	if (dp->hs_spent < HS_SHARE_NS || !dp->o.shed)
		return true;
	count(&dp->h.counters->handshakes_shed);
	return false;
}

/* The core takes a handshake message (timed, against the share above). */
static uint64_t handshake_timed(struct datapath *dp, const struct rx_msg *m,
				uint64_t now)
{
	uint64_t after;

	if (dp->o.slow)
		dp->h.receive_slow(dp->h.ctx, m->from, m->data, m->len, now);
	else
		(void)wg_device_receive(dp->h.dev, now, m->from, m->data,
					m->len);
	after = now_ns();
	dp->hs_spent += after - now;
	return after;
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
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &dp->msgs[i];

		m->inner_len = 0;
		m->ready = false;
		if (wg_message_is_handshake(m->data, m->len)) {
			if (handshake_allowed(dp, now))
				now = handshake_timed(dp, m, now);
		} else if (dp->o.slow) {
			dp->h.receive_slow(dp->h.ctx, m->from, m->data, m->len,
					   now);
		} else {
			(void)wg_device_receive_prepare(dp->h.dev, now,
							m->from, m->data,
							m->len, &m->job,
							&m->ready);
			any |= m->ready;
		}
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
	dp->rx_seen += (unsigned int)n;
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

/* A busy thread keeps to a CPU of its own, the sending one to the first
 * the daemon may use, the receiving one to the second. With two CPUs and
 * two busy threads that is the only sensible split, and the scheduler left
 * alone stacks them on one CPU (as it does with a thread and the one it
 * wakes: a tunnel's two ends on one machine, or a thread and the reader of
 * what it writes), which costs a third of the throughput. A thread that
 * waits more than it works goes back to every CPU: pinned, it would wait
 * for its CPU whenever something else runs there, and a lone packet's
 * latency is what matters then. */
struct pinning {
	cpu_set_t allowed;
	int cpu;			/* -1: not to be pinned */
	unsigned int busy;		/* short waits in a row */
	bool pinned;
};

/* Waits shorter than this count as busy: this many in a row pin. Long
 * waits in a row, each counted as one per PIN_BUSY_WAIT_NS (one long wait
 * is a hiccup, but a wait as long as several of them is not), make a
 * thread quiet once they add up to QUIET_AFTER: it lets its CPU go, and
 * the receiving thread hands its direction back. */
#define PIN_BUSY_WAIT_NS 1000000u
#define PIN_AFTER 64
#define QUIET_AFTER 8

/* How many long waits a wait counts as: one per PIN_BUSY_WAIT_NS. */
static unsigned int long_waits(uint64_t waited)
{
	uint64_t n = waited / PIN_BUSY_WAIT_NS;

	return n > 1000 ? 1000 : (unsigned int)n;
}

static void pinning_init(struct pinning *p, const struct datapath *dp,
			 unsigned int which)
{
	unsigned int seen = 0;

	p->cpu = -1;
	p->busy = 0;
	p->pinned = false;
	if (dp->o.pin == DATAPATH_PIN_NEVER ||
	    pthread_getaffinity_np(pthread_self(), sizeof(p->allowed),
				   &p->allowed))
		return;
	if (CPU_COUNT(&p->allowed) < 2 ||
	    (dp->o.pin == DATAPATH_PIN_ON_TWO_CPUS &&
	     CPU_COUNT(&p->allowed) != 2))
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (CPU_ISSET(cpu, &p->allowed) && seen++ == which) {
			p->cpu = cpu;
			break;
		}
	}
	if (dp->o.pin == DATAPATH_PIN_ALWAYS && p->cpu >= 0) {
		/* For good, busy or not. */
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(p->cpu, &one);
		(void)pthread_setaffinity_np(pthread_self(), sizeof(one), &one);
		p->cpu = -1;
	}
}

/* After each wait (idle: long waits in a row, as counted by the waiter):
 * pin when busy, let go when quiet. */
static void pinning_waited(struct pinning *p, uint64_t waited,
			   unsigned int idle)
{
	if (p->cpu < 0)
		return;
	if (waited < PIN_BUSY_WAIT_NS) {
		if (!p->pinned && ++p->busy >= PIN_AFTER) {
			cpu_set_t one;

			CPU_ZERO(&one);
			CPU_SET(p->cpu, &one);
			p->pinned = !pthread_setaffinity_np(pthread_self(),
							    sizeof(one), &one);
		}
		return;
	}
	p->busy = 0;
	if (p->pinned && idle >= QUIET_AFTER) {
		(void)pthread_setaffinity_np(pthread_self(), sizeof(p->allowed),
					     &p->allowed);
		p->pinned = false;
	}
}

/* Waiting. A thread that has just moved packets polls for a moment
 * before it sleeps (yielding the CPU at every turn to whatever else wants
 * it): on a virtual machine a CPU with nothing to run halts, and waking it
 * again costs tens of microseconds, a hundred and more when its host is
 * busy, on every hop of a lone packet's way. While it polls, a thread
 * also takes what arrives for the other direction, when the other thread
 * is not at it already: a reply that arrives in the moment after its
 * request left is handled by the thread already running.
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
 * it has waited long several times in a row, it hands it back. */
struct waiter {
	struct pinning pin;
	uint64_t max;			/* ns of polling at most, 0: never */
	uint64_t window;		/* ns of polling after work */
	uint64_t last_work;
	unsigned int which;		/* 0 sending, 1 receiving */
	unsigned int busy;		/* batches without a long wait */
	unsigned int idle;		/* long waits in a row (long_waits) */
	unsigned int generation;	/* of the UDP socket in its sets */
	unsigned int waited_long;	/* the last wait, in long waits */
	bool failed;			/* epoll_wait failed: stop */
};

/* Polling windows below this are not worth a turn. */
#define SPIN_MIN_NS 5000u
/* Batches in a row without a long wait before the directions split (they
 * are joined again once the receiving thread is quiet, QUIET_AFTER). */
#define SPLIT_AFTER 64

static void waiter_init(struct waiter *w, const struct datapath *dp,
			unsigned int which)
{
	cpu_set_t allowed;

	memset(w, 0, sizeof(*w));
	w->which = which;
	/* The CPUs the daemon may use, before pinning narrows them. */
	if (!pthread_getaffinity_np(pthread_self(), sizeof(allowed),
				    &allowed) && CPU_COUNT(&allowed) >= 2)
		w->max = (uint64_t)dp->o.spin * 1000u;
	w->window = w->max;
	pinning_init(&w->pin, dp, which);
}

static bool joined(const struct datapath *dp)
{
	return !__atomic_load_n(&dp->split, __ATOMIC_ACQUIRE);
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
static bool batch(struct datapath *dp, unsigned int dir, bool wait,
		  unsigned int max, bool *more)
{
	pthread_mutex_t *m = dir ? &dp->rx_lock : &dp->tx_lock;
	uint64_t *seen = dir ? &dp->rx_seen : &dp->tx_seen;
	uint64_t before;
	bool full;

	if (wait)
		pthread_mutex_lock(m);
	else if (pthread_mutex_trylock(m))
		return false;
	before = *seen;
	full = dir ? rx_batch(dp) : tx_batch(dp, max ? max : dp->o.batch);
	before = *seen - before;
	pthread_mutex_unlock(m);
	if (more)
		*more |= full;
	return before != 0;
}

/* What a wait found ready. */
#define READY_TUN 1u
#define READY_UDP 2u
#define READY_WAKE 4u
#define READY_ALL (READY_TUN | READY_UDP | READY_WAKE)

/* Polls for a while after work; says what is ready for the thread (0:
 * nothing, time to sleep). */
static unsigned int spin(struct datapath *dp, struct waiter *w)
{
	struct pollfd pfd[2] = {
		{ .fd = dp->h.nd->ops->pollfd(dp->h.nd), .events = POLLIN },
		{ .fd = dp->h.udp->fd, .events = POLLIN },
	};
	unsigned int own = w->which, other = !own;
	uint64_t now = now_ns();

	while (now - w->last_work < w->window && !stopping(dp)) {
		if (poll(pfd, 2, 0) > 0) {
			unsigned int ready =
				(pfd[0].revents & POLLIN ? READY_TUN : 0) |
				(pfd[1].revents & POLLIN ? READY_UDP : 0);

			if (joined(dp) && ready)
				return ready;
			if (pfd[own].revents & POLLIN)
				return own ? READY_UDP : READY_TUN;
			if ((pfd[other].revents & POLLIN) &&
			    batch(dp, other, false, 0, NULL))
				waiter_note(w, now_ns());
		}
		sched_yield();
		now = now_ns();
	}
	return 0;
}

/* Waits on an epoll set, polling first if there was work a moment ago;
 * says what is ready (READY_ALL when it cannot tell). */
static unsigned int wait_events(struct datapath *dp, struct waiter *w,
				int ep)
{
	struct epoll_event ev[3];
	uint64_t start = now_ns(), waited;
	unsigned int ready = 0;
	int n;

	if (w->window)
		ready = spin(dp, w);
	if (!ready) {
		n = epoll_wait(ep, ev, 3, -1);
		for (int i = 0; i < n; i++)
			ready |= (unsigned int)ev[i].data.u32;
		if (n <= 0)
			ready = READY_ALL;
		w->failed = n < 0 && errno != EINTR;
	}
	if (ready & READY_WAKE)
		drain(w->which ? dp->rx_wake : dp->tx_wake);
	waited = now_ns() - start;
	w->waited_long = long_waits(waited);
	if (!w->waited_long)
		w->idle = 0;
	else if (w->idle < QUIET_AFTER)
		w->idle += w->waited_long;
	pinning_waited(&w->pin, waited, w->idle);
	return ready;
}

/* A new UDP socket under the same fd number: watch it. */
static void watch_udp(struct datapath *dp, struct waiter *w, int ep)
{
	unsigned int g = __atomic_load_n(&dp->udp_generation,
					 __ATOMIC_ACQUIRE);
	struct epoll_event in = { .events = EPOLLIN,
				  .data.u32 = READY_UDP };

	if (g == w->generation)
		return;
	w->generation = g;
	(void)epoll_ctl(ep, EPOLL_CTL_ADD, dp->h.udp->fd, &in);
}

static void wake(int fd)
{
	(void)!write(fd, &(uint64_t){ 1 }, sizeof(uint64_t));
}

/* Each batch is taken only from what the wait found ready, or from what
 * the last batch left behind: a read that would find nothing is a system
 * call on a lone packet's way.
 *
 * For the same reason, while traffic is light the first read after the
 * tun device was found empty takes one packet, which is sealed and sent
 * before the read that finds the device empty again. */
static void *tx_main(void *arg)
{
	struct datapath *dp = arg;
	struct waiter w;
	bool was_alone = true, drained = true;
	unsigned int ready = READY_ALL;

	waiter_init(&w, dp, 0);
	while (!stopping(dp)) {
		bool alone = joined(dp), tun_more = false, udp_more = false;
		bool delivered = false, lone = alone && drained;

		if (alone && !was_alone)
			w.busy = 0;
		was_alone = alone;
		watch_udp(dp, &w, dp->all_ep);
		if ((ready & (READY_TUN | READY_WAKE)) &&
		    batch(dp, 0, true, lone ? 1 : 0, &tun_more))
			waiter_note(&w, now_ns());
		if (ready & (READY_TUN | READY_WAKE))
			drained = !tun_more;
		if (alone && (ready & (READY_UDP | READY_WAKE)) &&
		    batch(dp, 1, true, 0, &udp_more)) {
			waiter_note(&w, now_ns());
			/* What the delivery provoked (an echo reply, a TCP
			 * acknowledgment) may be waiting already. */
			delivered = true;
		}
		ready = (tun_more || delivered ? READY_TUN : 0) |
			(udp_more ? READY_UDP : 0);
		if (ready) {
			/* A lone packet's second read is not more work. */
			if (alone && !(lone && tun_more) &&
			    ++w.busy >= SPLIT_AFTER) {
				__atomic_store_n(&dp->split, true,
						 __ATOMIC_RELEASE);
				wake(dp->rx_wake);
			}
			continue;
		}
		ready = wait_events(dp, &w, alone ? dp->all_ep : dp->tx_ep);
		if (w.failed)
			break;
		if (w.waited_long)
			w.busy = 0;
		else if (alone && ++w.busy >= SPLIT_AFTER) {
			__atomic_store_n(&dp->split, true, __ATOMIC_RELEASE);
			wake(dp->rx_wake);
		}
	}
	return NULL;
}

static void *rx_main(void *arg)
{
	struct datapath *dp = arg;
	struct waiter w;
	unsigned int ready = READY_ALL;

	waiter_init(&w, dp, 1);
	while (!stopping(dp)) {
		bool more = false;

		if (joined(dp)) {
			struct epoll_event ev;

			/* The sending thread serves both directions. */
			if (epoll_wait(dp->park_ep, &ev, 1, -1) < 0 &&
			    errno != EINTR)
				break;
			drain(dp->rx_wake);
			w.idle = 0;
			ready = READY_ALL;
			continue;
		}
		watch_udp(dp, &w, dp->rx_ep);
		if (ready & (READY_UDP | READY_WAKE)) {
			if (!batch(dp, 1, true, 0, &more))
				goto wait;
			waiter_note(&w, now_ns());
			/* What was written to the tun device may have been
			 * answered at once (an echo reply, a TCP
			 * acknowledgment): sending it now saves the other
			 * thread a wake-up on the answer's path. Only if that
			 * thread is not sending already. */
			if (dp->o.answer && batch(dp, 0, false, 0, NULL))
				waiter_note(&w, now_ns());
		}
		if (more) {
			ready = READY_UDP;
			continue;
		}
wait:
		ready = wait_events(dp, &w, dp->rx_ep);
		if (w.failed)
			break;
		if (dp->o.share && w.idle >= QUIET_AFTER) {
			/* Quiet again: the sending thread takes both. */
			__atomic_store_n(&dp->split, false, __ATOMIC_RELEASE);
			wake(dp->tx_wake);
		}
	}
	return NULL;
}

/* An epoll set of the tun device, the UDP socket and the thread's
 * wake-up, each if wanted. */
static int thread_epoll(struct datapath *dp, unsigned int which, int wake)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	int fds[3] = {
		which & READY_TUN ? dp->h.nd->ops->pollfd(dp->h.nd) : -1,
		which & READY_UDP ? dp->h.udp->fd : -1,
		wake,
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
	dp->tx_ep = dp->all_ep = dp->rx_ep = dp->park_ep = -1;
	dp->tx_wake = dp->rx_wake = -1;
	dp->split = !dp->o.share;
	pthread_mutex_init(&dp->tx_lock, NULL);
	pthread_mutex_init(&dp->rx_lock, NULL);
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
	dp->tx_ep = thread_epoll(dp, READY_TUN, dp->tx_wake);
	if (dp->tx_ep < 0)
		return dp->tx_ep;
	dp->all_ep = thread_epoll(dp, READY_TUN | READY_UDP, dp->tx_wake);
	if (dp->all_ep < 0)
		return dp->all_ep;
	dp->rx_ep = thread_epoll(dp, READY_UDP, dp->rx_wake);
	if (dp->rx_ep < 0)
		return dp->rx_ep;
	dp->park_ep = thread_epoll(dp, 0, dp->rx_wake);
	if (dp->park_ep < 0)
		return dp->park_ep;
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
	for (int i = 0; i < 4 && tx_batch(dp, dp->o.batch); i++)
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
	/* Both: either may be the one waiting on the socket. */
	if (dp->rx_wake >= 0)
		(void)!write(dp->rx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
	if (dp->tx_wake >= 0)
		(void)!write(dp->tx_wake, &(uint64_t){ 1 }, sizeof(uint64_t));
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
	pthread_mutex_destroy(&dp->rx_lock);
	free(dp->tx_in);
	free(dp->tx_out);
	free(dp->rx_slots);
	/* Jobs held copies of session keys (each wiped after use; this is
	 * for the ones a stop cut short). */
	explicit_bzero(dp, sizeof(*dp));
	free(dp);
}

void datapath_options_default(struct datapath_options *opts)
{
	*opts = (struct datapath_options){
		.threads = true,
		.coalesce = true,
		.answer = true,
		.shed = true,
		.pin = DATAPATH_PIN_ON_TWO_CPUS,
		.spin = SPIN_MAX_US,
		.share = true,
		.batch = MAX_BATCH,
		.queue = TUN_QUEUE,
	};
}
