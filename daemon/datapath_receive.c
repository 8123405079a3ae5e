/* SPDX-License-Identifier: MIT */
/*
 * The receiving pipeline (datapath_receive.h): transport data messages
 * (whitepaper 5.4.6) opened outside the core's lock through its stepwise
 * data path (wg.h). Each datagram is received into a slot of its own,
 * opened in place and written to the tun device from where it landed:
 * the decryption is the only copy of a packet's bytes.
 */
#include "datapath_receive.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "crypto.h"
#include "datapath_shared.h"
#include "datapath_shed.h"
#include "offload.h"

/* Datagrams received per batch, each into a slot of its own (a GRO slot
 * holds up to 64 KiB of datagrams). */
#define RX_SLOT 65536
#define RX_SLOTS NETDEV_UDP_BATCH
/* Messages prepared per visit to the core. */
#define RX_MSGS 256
/* TCP flows glued at once, segments per super-packet. */
#define GRO_RUNS 8
#define GRO_SEGS 64

struct rx_msg {
	uint8_t *data;
	size_t len;
	const struct wg_endpoint *from;
	struct wg_recv_job job;
	bool ready;
	bool opened;
	size_t inner_len;
};

/* The packets of one TCP flow on their way to becoming a super-packet. */
struct gro_run {
	uint8_t *first;
	const uint8_t *last;
	struct offload_gro g;
	struct iovec iov[GRO_SEGS];
};

struct datapath_receive {
	struct datapath_host h;
	bool slow;
	bool coalesce;
	unsigned int batch;
	struct datapath_shed shed;
	uint8_t *slots;
	struct netdev_udp_rx ents[RX_SLOTS];
	struct rx_msg msgs[RX_MSGS];
	struct gro_run runs[GRO_RUNS];
	size_t n_runs;
};

/* Writing to the tun device, coalescing on the way. */

/* ret: the write's -errno. */
static void write_failed(struct datapath_receive *rx, int ret)
{
	datapath_count(&rx->h.counters->tun_write_errors);
	if (rx->h.write_failed)
		rx->h.write_failed(rx->h.ctx, -ret);
}

static void tun_write_one(struct datapath_receive *rx, uint8_t *pkt,
			  size_t len)
{
	struct netdev *nd = rx->h.nd;
	int ret;

	if (netdev_offload(nd)) {
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
		write_failed(rx, ret);
}

static void gro_flush(struct datapath_receive *rx, struct gro_run *r)
{
	struct netdev *nd = rx->h.nd;
	struct offload_vnet_hdr vh;
	uint8_t raw[OFFLOAD_VNET_HDR_LEN];
	int ret;

	if (r->g.count == 1) {
		tun_write_one(rx, r->first, r->iov[0].iov_len);
		return;
	}
	offload_gro_finish(&r->g, r->first, r->last, &vh);
	offload_vnet_hdr_write(raw, &vh);
	ret = nd->ops->write_offload(nd, raw, r->iov, (int)r->g.count);
	if (ret)
		write_failed(rx, ret);
}

static void gro_flush_all(struct datapath_receive *rx)
{
	for (size_t i = 0; i < rx->n_runs; i++)
		gro_flush(rx, &rx->runs[i]);
	rx->n_runs = 0;
}

static void gro_drop_run(struct datapath_receive *rx, size_t i)
{
	gro_flush(rx, &rx->runs[i]);
	rx->runs[i] = rx->runs[--rx->n_runs];
}

/* An inner packet for the tun device, glued to its flow's run when it
 * continues it (TCP segments, and UDP datagrams where the device takes
 * UDP super-packets: one write for a run instead of one per datagram).
 * Each flow's packets keep their order. */
static void deliver(struct datapath_receive *rx, uint8_t *pkt, size_t len)
{
	struct gro_run *r;

	if (!netdev_offload(rx->h.nd) || !rx->coalesce) {
		tun_write_one(rx, pkt, len);
		return;
	}
	for (size_t i = 0; i < rx->n_runs; i++) {
		r = &rx->runs[i];
		if (!offload_gro_same_flow(&r->g, r->first, pkt, len))
			continue;
		if (offload_gro_fits(&r->g, r->first, pkt, len)) {
			r->iov[r->g.count - 1].iov_base = pkt + r->g.hdr_len;
			r->iov[r->g.count - 1].iov_len = len - r->g.hdr_len;
			r->last = pkt;
			return;
		}
		/* Its flow's earlier packets go first. */
		gro_drop_run(rx, i);
		break;
	}
	if (rx->n_runs == GRO_RUNS)
		gro_drop_run(rx, 0);
	r = &rx->runs[rx->n_runs];
	if (!offload_gro_start(&r->g, pkt, len,
			       netdev_offload_udp(rx->h.nd))) {
		tun_write_one(rx, pkt, len);
		return;
	}
	r->first = pkt;
	r->last = pkt;
	r->iov[0].iov_base = pkt;
	r->iov[0].iov_len = len;
	rx->n_runs++;
}

/* Through the core. */

/* The core takes a handshake message whole, timed against its share;
 * returns the time after. */
static uint64_t handshake_timed(struct datapath_receive *rx,
				const struct rx_msg *m, uint64_t now)
{
	uint64_t after;

	if (rx->slow)
		rx->h.receive_slow(rx->h.ctx, m->from, m->data, m->len, now);
	else
		(void)wg_device_receive(rx->h.dev, now, m->from, m->data,
					m->len);
	after = netdev_now_ns();
	datapath_shed_spent(&rx->shed, now, after);
	return after;
}

/* msgs[0..n): prepared, opened and finished, then delivered. */
static void rx_process(struct datapath_receive *rx, size_t n)
{
	bool any = false;
	uint64_t now;

	if (!n)
		return;
	datapath_lock(&rx->h);
	now = netdev_now_ns();
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &rx->msgs[i];

		m->inner_len = 0;
		m->ready = false;
		if (wg_message_is_handshake(m->data, m->len)) {
			if (datapath_shed_allow(&rx->shed, now))
				now = handshake_timed(rx, m, now);
		} else if (rx->slow) {
			rx->h.receive_slow(rx->h.ctx, m->from, m->data, m->len,
					   now);
		} else {
			(void)wg_device_receive_prepare(rx->h.dev, now,
							m->from, m->data,
							m->len, &m->job,
							&m->ready);
			any |= m->ready;
		}
	}
	datapath_unlock(&rx->h);
	if (!any)
		return;
	/* A session's key is set once per batch, not once per message. */
	wg_crypto_batch_begin();
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &rx->msgs[i];

		if (m->ready)
			m->opened = wg_recv_job_open(&m->job, m->data, m->len);
	}
	wg_crypto_batch_end();
	datapath_lock(&rx->h);
	now = netdev_now_ns();
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &rx->msgs[i];

		if (m->ready)
			(void)wg_device_receive_finish(rx->h.dev, now, m->from,
						       &m->job, m->opened,
						       m->data, m->len,
						       &m->inner_len);
	}
	datapath_unlock(&rx->h);
	for (size_t i = 0; i < n; i++) {
		struct rx_msg *m = &rx->msgs[i];

		if (m->inner_len)
			deliver(rx, m->data + WG_MESSAGE_HEADER_LEN,
				m->inner_len);
	}
	gro_flush_all(rx);
}

size_t datapath_receive_batch(struct datapath_receive *rx, bool *more)
{
	unsigned int want = rx->batch < RX_SLOTS ? rx->batch : RX_SLOTS;
	size_t n_msgs = 0;
	int n;

	*more = false;
	n = netdev_udp_recv_batch(rx->h.udp, rx->ents, want);
	if (n < 0) {
		if (n != -EAGAIN)
			datapath_count(&rx->h.counters->udp_recv_errors);
		return 0;
	}
	for (int e = 0; e < n; e++) {
		const struct netdev_udp_rx *ent = &rx->ents[e];
		size_t seg = ent->segment ? ent->segment : ent->len;

		if (ent->err) {
			/* Truncated, or from nowhere we know: lost alone. */
			datapath_count(&rx->h.counters->udp_recv_errors);
			continue;
		}
		/* Each datagram of a GRO batch; an empty one too (the
		 * core's to count). */
		size_t off = 0;

		do {
			struct rx_msg *m;

			if (n_msgs == RX_MSGS) {
				rx_process(rx, n_msgs);
				n_msgs = 0;
			}
			m = &rx->msgs[n_msgs++];
			m->data = ent->buf + off;
			m->len = ent->len - off < seg ? ent->len - off : seg;
			m->from = &ent->from;
			off += seg;
		} while (off < ent->len);
	}
	rx_process(rx, n_msgs);
	*more = (unsigned int)n == want;
	return (size_t)n;
}

struct datapath_receive *datapath_receive_new(
	const struct datapath_host *host, const struct datapath_options *opts)
{
	struct datapath_receive *rx = calloc(1, sizeof(*rx));

	if (!rx)
		return NULL;
	rx->h = *host;
	rx->slow = opts->slow;
	rx->coalesce = opts->coalesce;
	rx->batch = opts->batch;
	datapath_shed_init(&rx->shed, opts->shed,
			   &host->counters->handshakes_shed);
	/* Untouched pages of the slots cost nothing until traffic comes. */
	rx->slots = malloc((size_t)RX_SLOTS * RX_SLOT);
	if (!rx->slots) {
		datapath_receive_free(rx);
		return NULL;
	}
	for (size_t i = 0; i < RX_SLOTS; i++) {
		rx->ents[i].buf = rx->slots + i * RX_SLOT;
		rx->ents[i].cap = RX_SLOT;
	}
	return rx;
}

void datapath_receive_free(struct datapath_receive *rx)
{
	if (!rx)
		return;
	free(rx->slots);
	/* Jobs held copies of session keys (each wiped after use; this is
	 * for the ones a stop cut short). */
	explicit_bzero(rx, sizeof(*rx));
	free(rx);
}
