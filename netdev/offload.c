/* SPDX-License-Identifier: MIT */
/*
 * Segmentation offloads by hand (offload.h): the virtio-net header of the
 * virtio 1.x specification (section 5.1.6), the Internet checksum of
 * RFC 1071 with the pseudo-headers of RFC 793 and RFC 8200 (section 8.1),
 * TCP segmentation as RFC 9293 segments a stream (each segment's sequence
 * number, IPv4 identification and checksums recomputed; FIN and PSH only on
 * the last segment, CWR only on the first), and its reverse.
 */
#include "offload.h"

#include <errno.h>
#include <string.h>

enum {
	IP4_HDR = 20,
	IP6_HDR = 40,
	TCP_HDR = 20,
	PROTO_TCP = 6,
	TCP_FIN = 0x01,
	TCP_SYN = 0x02,
	TCP_RST = 0x04,
	TCP_PSH = 0x08,
	TCP_ACK = 0x10,
	TCP_URG = 0x20,
	TCP_ECE = 0x40,
	TCP_CWR = 0x80,
	TCP_OFF_SEQ = 4,
	TCP_OFF_ACK = 8,
	TCP_OFF_FLAGS = 13,
	TCP_OFF_WINDOW = 14,
	TCP_OFF_CHECK = 16,
	/* The most segments one run carries: a 64 KiB super-packet of
	 * full-size segments, with room to spare. */
	GRO_MAX_SEGS = 64,
	IP_MAX = 65535,
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void offload_vnet_hdr_read(struct offload_vnet_hdr *h,
			   const uint8_t raw[OFFLOAD_VNET_HDR_LEN])
{
	h->flags = raw[0];
	h->gso_type = raw[1];
	memcpy(&h->hdr_len, raw + 2, 2);
	memcpy(&h->gso_size, raw + 4, 2);
	memcpy(&h->csum_start, raw + 6, 2);
	memcpy(&h->csum_offset, raw + 8, 2);
}

void offload_vnet_hdr_write(uint8_t raw[OFFLOAD_VNET_HDR_LEN],
			    const struct offload_vnet_hdr *h)
{
	raw[0] = h->flags;
	raw[1] = h->gso_type;
	memcpy(raw + 2, &h->hdr_len, 2);
	memcpy(raw + 4, &h->gso_size, 2);
	memcpy(raw + 6, &h->csum_start, 2);
	memcpy(raw + 8, &h->csum_offset, 2);
}

/* RFC 1071 section 2: the sum does not depend on byte order, so words are
 * added as the machine loads them, 32 bits at a time into 64. */
uint64_t offload_csum_add(uint64_t acc, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t w;
	uint16_t h;

	while (len >= 16) {
		uint64_t a, b;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		acc += (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) +
		       (b >> 32);
		p += 16;
		len -= 16;
	}
	while (len >= 4) {
		memcpy(&w, p, 4);
		acc += w;
		p += 4;
		len -= 4;
	}
	if (len >= 2) {
		memcpy(&h, p, 2);
		acc += h;
		p += 2;
		len -= 2;
	}
	if (len) {
		/* The odd byte is the first of a word padded with zero. */
		uint8_t last[2] = { p[0], 0 };

		memcpy(&h, last, 2);
		acc += h;
	}
	return acc;
}

static uint16_t fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

uint16_t offload_csum_fold(uint64_t acc)
{
	return (uint16_t)~fold(acc);
}

int offload_csum_complete(uint8_t *pkt, size_t len, size_t start,
			  size_t offset)
{
	uint16_t sum;

	if (start > len || offset + 2 > len - start)
		return -EINVAL;
	sum = offload_csum_fold(offload_csum_add(0, pkt + start, len - start));
	memcpy(pkt + start + offset, &sum, 2);
	return 0;
}

/* The pseudo-header's sum for a TCP segment of tcp_len bytes. */
static uint64_t pseudo_sum(const uint8_t *ip, bool v6, size_t tcp_len)
{
	uint8_t tail[8] = { 0 };
	uint64_t acc;

	if (v6) {
		acc = offload_csum_add(0, ip + 8, 32);
		put32(tail, (uint32_t)tcp_len);
		tail[7] = PROTO_TCP;
		return offload_csum_add(acc, tail, 8);
	}
	acc = offload_csum_add(0, ip + 12, 8);
	tail[1] = PROTO_TCP;
	put16(tail + 2, (uint16_t)tcp_len);
	return offload_csum_add(acc, tail, 4);
}

static void ip4_fix_checksum(uint8_t *ip, size_t ip_len)
{
	uint16_t sum;

	ip[10] = ip[11] = 0;
	sum = offload_csum_fold(offload_csum_add(0, ip, ip_len));
	memcpy(ip + 10, &sum, 2);
}

int offload_tso_init(struct offload_tso *t, uint8_t *pkt, size_t len,
		     unsigned int gso_type, size_t gso_size)
{
	unsigned int type = gso_type & ~(unsigned int)OFFLOAD_GSO_ECN;
	size_t tcp_len;

	memset(t, 0, sizeof(*t));
	if (!gso_size || len < IP4_HDR)
		return -EINVAL;
	if (type == OFFLOAD_GSO_TCPV4 && pkt[0] >> 4 == 4) {
		t->ip_len = (size_t)(pkt[0] & 0x0f) * 4;
		if (t->ip_len < IP4_HDR || pkt[9] != PROTO_TCP ||
		    (get16(pkt + 6) & 0x3fff))	/* MF or an offset */
			return -EINVAL;
	} else if (type == OFFLOAD_GSO_TCPV6 && pkt[0] >> 4 == 6) {
		t->v6 = true;
		t->ip_len = IP6_HDR;
		if (pkt[6] != PROTO_TCP)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (len < t->ip_len + TCP_HDR)
		return -EINVAL;
	tcp_len = (size_t)(pkt[t->ip_len + 12] >> 4) * 4;
	if (tcp_len < TCP_HDR)
		return -EINVAL;
	t->hdr_len = t->ip_len + tcp_len;
	if (len <= t->hdr_len || t->hdr_len > sizeof(t->hdr))
		return -EINVAL;
	t->pkt = pkt;
	t->len = len;
	t->mss = gso_size;
	t->segs = (len - t->hdr_len + gso_size - 1) / gso_size;
	memcpy(t->hdr, pkt, t->hdr_len);
	return 0;
}

size_t offload_tso_segment(const struct offload_tso *t, size_t i,
			   uint8_t **start)
{
	size_t off = t->hdr_len + i * t->mss;
	size_t plen = t->len - off < t->mss ? t->len - off : t->mss;
	size_t seg_len = t->hdr_len + plen;
	uint8_t *seg = t->pkt + off - t->hdr_len;
	uint8_t *tcp = seg + t->ip_len;
	uint8_t flags = t->hdr[t->ip_len + TCP_OFF_FLAGS];
	uint64_t acc;
	uint16_t sum;

	/* The payload stays where it is; the headers come from the template
	 * (segment 0's are the original's own place). */
	memcpy(seg, t->hdr, t->hdr_len);
	if (t->v6) {
		put16(seg + 4, (uint16_t)(seg_len - IP6_HDR));
	} else {
		put16(seg + 2, (uint16_t)seg_len);
		put16(seg + 4, (uint16_t)(get16(t->hdr + 4) + i));
		ip4_fix_checksum(seg, t->ip_len);
	}
	put32(tcp + TCP_OFF_SEQ,
	      get32(t->hdr + t->ip_len + TCP_OFF_SEQ) + (uint32_t)(i * t->mss));
	if (i + 1 < t->segs)
		flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		flags &= (uint8_t)~TCP_CWR;
	tcp[TCP_OFF_FLAGS] = flags;
	tcp[TCP_OFF_CHECK] = tcp[TCP_OFF_CHECK + 1] = 0;
	acc = pseudo_sum(seg, t->v6, seg_len - t->ip_len);
	acc = offload_csum_add(acc, tcp, seg_len - t->ip_len);
	sum = offload_csum_fold(acc);
	memcpy(tcp + TCP_OFF_CHECK, &sum, 2);
	*start = seg;
	return seg_len;
}

/* Headers of a TCP segment that GRO may take: the length of IP + TCP
 * headers, or 0. */
static size_t gro_headers(const uint8_t *pkt, size_t len, bool *v6)
{
	size_t ip_len, tcp_len;

	if (len < IP4_HDR)
		return 0;
	if (pkt[0] == 0x45) {
		/* No options, no fragment, DF set, the length exact. */
		if (pkt[9] != PROTO_TCP || get16(pkt + 2) != len ||
		    (get16(pkt + 6) & 0x7fff) != 0x4000)
			return 0;
		*v6 = false;
		ip_len = IP4_HDR;
	} else if (pkt[0] >> 4 == 6 && len >= IP6_HDR) {
		if (pkt[6] != PROTO_TCP ||
		    (size_t)get16(pkt + 4) + IP6_HDR != len)
			return 0;
		*v6 = true;
		ip_len = IP6_HDR;
	} else {
		return 0;
	}
	if (len < ip_len + TCP_HDR)
		return 0;
	tcp_len = (size_t)(pkt[ip_len + 12] >> 4) * 4;
	if (tcp_len < TCP_HDR || len <= ip_len + tcp_len)
		return 0;
	/* Data with ACK, and PSH at most. */
	if ((pkt[ip_len + TCP_OFF_FLAGS] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return 0;
	return ip_len + tcp_len;
}

bool offload_gro_start(struct offload_gro *g, const uint8_t *pkt, size_t len)
{
	memset(g, 0, sizeof(*g));
	g->hdr_len = gro_headers(pkt, len, &g->v6);
	if (!g->hdr_len)
		return false;
	g->payload = g->total = len - g->hdr_len;
	g->count = 1;
	g->closed = pkt[(g->v6 ? IP6_HDR : IP4_HDR) + TCP_OFF_FLAGS] & TCP_PSH;
	return true;
}

bool offload_gro_same_flow(const struct offload_gro *g, const uint8_t *first,
			   const uint8_t *pkt, size_t len)
{
	size_t ip_len;

	if (g->v6)
		return len >= IP6_HDR + TCP_HDR && pkt[0] >> 4 == 6 &&
		       pkt[6] == PROTO_TCP && !memcmp(first + 8, pkt + 8, 32) &&
		       !memcmp(first + IP6_HDR, pkt + IP6_HDR, 4);
	if (len < IP4_HDR || pkt[0] >> 4 != 4 || pkt[9] != PROTO_TCP)
		return false;
	ip_len = (size_t)(pkt[0] & 0x0f) * 4;
	return len >= ip_len + TCP_HDR && !memcmp(first + 12, pkt + 12, 8) &&
	       !memcmp(first + IP4_HDR, pkt + ip_len, 4);
}

bool offload_gro_fits(struct offload_gro *g, const uint8_t *first,
		      const uint8_t *pkt, size_t len)
{
	size_t ip_len = g->v6 ? IP6_HDR : IP4_HDR, plen;
	const uint8_t *t1 = first + ip_len, *t2 = pkt + ip_len;
	bool v6;

	if (g->closed || g->count >= GRO_MAX_SEGS)
		return false;
	if (gro_headers(pkt, len, &v6) != g->hdr_len || v6 != g->v6)
		return false;
	plen = len - g->hdr_len;
	if (plen > g->payload || g->hdr_len + g->total + plen > IP_MAX)
		return false;
	if (v6) {
		/* Version, class, flow label; hop limit; the addresses. */
		if (memcmp(first, pkt, 4) != 0 || first[7] != pkt[7] ||
		    memcmp(first + 8, pkt + 8, 32) != 0)
			return false;
	} else {
		/* TOS, TTL, the addresses. */
		if (first[1] != pkt[1] || first[8] != pkt[8] ||
		    memcmp(first + 12, pkt + 12, 8) != 0)
			return false;
	}
	/* Ports; the next sequence number; the same acknowledgment, flags
	 * (PSH aside), window and options. */
	if (memcmp(t1, t2, 4) != 0 ||
	    get32(t2 + TCP_OFF_SEQ) != get32(t1 + TCP_OFF_SEQ) +
					       (uint32_t)g->total ||
	    memcmp(t1 + TCP_OFF_ACK, t2 + TCP_OFF_ACK, 4) != 0 ||
	    ((t1[TCP_OFF_FLAGS] ^ t2[TCP_OFF_FLAGS]) & (uint8_t)~TCP_PSH) ||
	    memcmp(t1 + TCP_OFF_WINDOW, t2 + TCP_OFF_WINDOW, 2) != 0 ||
	    memcmp(t1 + TCP_HDR, t2 + TCP_HDR, g->hdr_len - ip_len - TCP_HDR))
		return false;
	g->total += plen;
	g->count++;
	/* A short segment, or a pushed one, ends the run. */
	if (plen < g->payload || (t2[TCP_OFF_FLAGS] & TCP_PSH))
		g->closed = true;
	return true;
}

void offload_gro_finish(const struct offload_gro *g, uint8_t *first,
			const uint8_t *last, struct offload_vnet_hdr *h)
{
	size_t ip_len = g->v6 ? IP6_HDR : IP4_HDR;
	size_t total = g->hdr_len + g->total;
	uint8_t *tcp = first + ip_len;
	uint16_t sum;

	memset(h, 0, sizeof(*h));
	/* The tunnel's AEAD authenticated every byte: nothing to verify. */
	h->flags = OFFLOAD_F_DATA_VALID;
	if (g->count < 2)
		return;
	if (g->v6) {
		put16(first + 4, (uint16_t)(total - IP6_HDR));
	} else {
		put16(first + 2, (uint16_t)total);
		ip4_fix_checksum(first, ip_len);
	}
	tcp[TCP_OFF_FLAGS] |= last[ip_len + TCP_OFF_FLAGS] & TCP_PSH;
	/* Partial checksum: the pseudo-header's sum, for the kernel (which
	 * then needs nothing more) or for the segmentation of a forward. */
	sum = (uint16_t)~offload_csum_fold(pseudo_sum(first, g->v6,
						       total - ip_len));
	memcpy(tcp + TCP_OFF_CHECK, &sum, 2);
	h->flags = OFFLOAD_F_NEEDS_CSUM;
	h->gso_type = g->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4;
	h->hdr_len = (uint16_t)g->hdr_len;
	h->gso_size = (uint16_t)g->payload;
	h->csum_start = (uint16_t)ip_len;
	h->csum_offset = TCP_OFF_CHECK;
}
