/* SPDX-License-Identifier: MIT */
/*
 * The sending pipeline (datapath_send.h): transport data messages
 * (whitepaper 5.4.6) sealed outside the core's lock through its stepwise
 * data path (wg.h). The tun device is read into one arena and sealed
 * messages are written to another and sent from there: the encryption is
 * the only copy of a packet's bytes.
 */
#include "datapath_send.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "datapath_shared.h"
#include "offload.h"

/* The largest packet one read returns: a 64 KiB super-packet. */
#define TUN_READ_MAX 65536
/* Reads from the tun device land here, several per batch. */
#define TX_ARENA (8 * TUN_READ_MAX)
/* Sealed messages wait here for their send. */
#define TX_OUT (384 * 1024)
/* Packets (or segments) prepared per visit to the core. */
#define TX_JOBS 256

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

struct datapath_send {
	struct datapath_host h;
	bool slow;
	uint8_t *in;
	uint8_t *out;
	size_t out_used;
	struct tx_pkt pkts[DATAPATH_BATCH_MAX];
	struct tx_job jobs[TX_JOBS];
	struct netdev_udp_tx sends[TX_JOBS];
	size_t send_job[TX_JOBS];
	size_t n_sends;
};

/* Reads up to max packets; *more when that many came. */
static size_t tx_read(struct datapath_send *tx, unsigned int max, bool *more,
		      bool *gone)
{
	struct netdev *nd = tx->h.nd;
	size_t n_pkts = 0, off = 0;

	*more = false;
	for (unsigned int tries = 0; n_pkts < max && tries < 2 * max;
	     tries++) {
		struct tx_pkt *p = &tx->pkts[n_pkts];
		struct offload_vnet_hdr vh = { 0 };
		uint8_t *buf = tx->in + off;
		ssize_t n;

		if (TX_ARENA - off < TUN_READ_MAX + DATAPATH_MSG_EXTRA)
			break;
		if (netdev_offload(nd)) {
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
			tx->h.gone(tx->h.ctx, (int)-n);
			return n_pkts;
		}
		p->data = buf;
		p->len = (size_t)n;
		p->segs = 0;
		if (vh.gso_type != OFFLOAD_GSO_NONE) {
			if (offload_tso_init(&p->tso, buf, p->len, vh.gso_type,
					     vh.gso_size) < 0) {
				datapath_count(&tx->h.counters->tun_dropped);
				continue;
			}
			p->segs = p->tso.segs;
		} else if (vh.flags & OFFLOAD_F_NEEDS_CSUM) {
			(void)offload_csum_complete(buf, p->len, vh.csum_start,
						    vh.csum_offset);
		}
		n_pkts++;
		off += (p->len + DATAPATH_MSG_EXTRA + 63) & ~(size_t)63;
	}
	*more = true;
	return n_pkts;
}

/* Sends what has been sealed, and answers for what did not fit. */
static void tx_flush(struct datapath_send *tx)
{
	const struct tx_pkt *answered = NULL;
	bool locked = false;
	uint64_t now = 0;

	if (!tx->n_sends)
		return;
	netdev_udp_send_batch(tx->h.udp, tx->sends, tx->n_sends);
	for (size_t i = 0; i < tx->n_sends; i++) {
		const struct tx_job *j = &tx->jobs[tx->send_job[i]];
		int err = tx->sends[i].err;

		if (!err)
			continue;
		if (err != -EMSGSIZE) {
			datapath_count(&tx->h.counters->udp_send_errors);
			continue;
		}
		datapath_count(&tx->h.counters->udp_too_big);
		/* One answer per super-packet: its sender learns the size
		 * from the first and sends all of it again smaller. */
		if (j->pkt->segs && j->pkt == answered)
			continue;
		answered = j->pkt;
		if (!locked) {
			datapath_lock(&tx->h);
			locked = true;
			now = netdev_now_ns();
		}
		/* The plaintext is still there (sealing writes elsewhere),
		 * but a segment's tail may carry the next one's headers. */
		tx->h.too_big(tx->h.ctx, &j->job.to, j->plain, j->plen,
			      j->intact, now);
	}
	if (locked)
		datapath_unlock(&tx->h);
	tx->n_sends = 0;
	tx->out_used = 0;
}

/* Seals jobs[0..n) in order (cutting segments as it goes) and queues
 * them for sending; packets without a session take the slow path. */
static void tx_seal(struct datapath_send *tx, size_t n, uint64_t now)
{
	/* A session's key is set once per batch, not once per message. */
	wg_crypto_batch_begin();
	for (size_t i = 0; i < n; i++) {
		struct tx_job *j = &tx->jobs[i];
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
			datapath_lock(&tx->h);
			tx->h.send_slow(tx->h.ctx, j->plain, j->plen, now);
			datapath_unlock(&tx->h);
			continue;
		}
		need = WG_MESSAGE_HEADER_LEN + j->job.padded +
		       WG_MESSAGE_TAG_LEN;
		if (tx->out_used + need > TX_OUT)
			tx_flush(tx);
		msg = tx->out + tx->out_used;
		/* A middle segment's padding lands on the next segment's
		 * first payload bytes: keep them. */
		pad = j->job.padded - j->job.len;
		keep = p->segs && j->seg + 1 < p->segs && pad;
		if (keep)
			memcpy(saved, j->plain + j->plen, pad);
		len = wg_send_job_seal(&j->job, j->plain, msg);
		if (keep)
			memcpy(j->plain + j->plen, saved, pad);
		tx->sends[tx->n_sends] = (struct netdev_udp_tx){
			.to = &j->job.to,
			.data = msg,
			.len = len,
			.with_src = j->with_src,
		};
		tx->send_job[tx->n_sends++] = i;
		tx->out_used += (len + 15) & ~(size_t)15;
	}
	wg_crypto_batch_end();
}

/* Each packet (each segment) through wg_device_send. */
static void tx_slow(struct datapath_send *tx, size_t n_pkts)
{
	datapath_lock(&tx->h);
	for (size_t pi = 0; pi < n_pkts; pi++) {
		struct tx_pkt *p = &tx->pkts[pi];
		uint64_t now = netdev_now_ns();

		if (!p->segs) {
			tx->h.send_slow(tx->h.ctx, p->data, p->len, now);
			continue;
		}
		for (size_t s = 0; s < p->segs; s++) {
			uint8_t *seg;
			size_t len = offload_tso_segment(&p->tso, s, &seg);

			tx->h.send_slow(tx->h.ctx, seg, len, now);
		}
	}
	datapath_unlock(&tx->h);
}

/* The length of segment i of a super-packet, before it is cut. */
static size_t segment_len(const struct offload_tso *t, size_t i)
{
	size_t off = t->hdr_len + i * t->mss;

	return t->hdr_len + (t->len - off < t->mss ? t->len - off : t->mss);
}

size_t datapath_send_batch(struct datapath_send *tx, unsigned int max,
			   bool *more)
{
	bool full, gone = false;
	size_t n_pkts, n_jobs = 0;
	uint64_t now;

	n_pkts = tx_read(tx, max, &full, &gone);
	*more = full && !gone;
	if (!n_pkts)
		return 0;
	if (tx->slow) {
		tx_slow(tx, n_pkts);
		return n_pkts;
	}
	datapath_lock(&tx->h);
	now = netdev_now_ns();
	for (size_t pi = 0; pi < n_pkts; pi++) {
		struct tx_pkt *p = &tx->pkts[pi];
		size_t segs = p->segs ? p->segs : 1;

		for (size_t s = 0; s < segs; s++) {
			struct tx_job *j = &tx->jobs[n_jobs];
			enum wg_verdict v;

			if (n_jobs == TX_JOBS) {
				/* The jobs are full: seal and send them,
				 * then go on. */
				datapath_unlock(&tx->h);
				tx_seal(tx, n_jobs, now);
				tx_flush(tx);
				n_jobs = 0;
				j = &tx->jobs[0];
				datapath_lock(&tx->h);
				now = netdev_now_ns();
			}
			j->pkt = p;
			j->seg = s;
			j->plain = p->data;
			j->plen = p->segs ? segment_len(&p->tso, s) : p->len;
			j->intact = j->plen;
			/* Only the IP header is read: the super-packet's
			 * first serves every segment. */
			v = wg_device_send_prepare(tx->h.dev, now, p->data,
						   j->plen, &j->job,
						   &j->ready);
			if (v != WG_OK)
				continue;
			j->with_src = j->ready &&
				      netdev_udp_source_ok(tx->h.udp,
							   &j->job.to);
			n_jobs++;
		}
	}
	datapath_unlock(&tx->h);
	tx_seal(tx, n_jobs, now);
	tx_flush(tx);
	return n_pkts;
}

struct datapath_send *datapath_send_new(const struct datapath_host *host,
					const struct datapath_options *opts)
{
	struct datapath_send *tx = calloc(1, sizeof(*tx));

	if (!tx)
		return NULL;
	tx->h = *host;
	tx->slow = opts->slow;
	/* Untouched pages of the arenas cost nothing until traffic comes. */
	tx->in = malloc(TX_ARENA);
	tx->out = malloc(TX_OUT);
	if (!tx->in || !tx->out) {
		datapath_send_free(tx);
		return NULL;
	}
	return tx;
}

void datapath_send_free(struct datapath_send *tx)
{
	if (!tx)
		return;
	free(tx->in);
	free(tx->out);
	/* Jobs held copies of session keys (each wiped after use; this is
	 * for the ones a stop cut short). */
	explicit_bzero(tx, sizeof(*tx));
	free(tx);
}
