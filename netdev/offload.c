/* SPDX-License-Identifier: MIT */
/*
 * Segmentation offloads by hand (offload.h): the virtio-net header of the
 * virtio 1.x specification (section 5.1.6), checksums completed with
 * inet.h's (RFC 1071, pseudo-headers of RFC 793 and RFC 8200 section 8.1),
 * TCP segmentation as RFC 9293 segments a stream (each segment's sequence
 * number, IPv4 identification and checksums recomputed; FIN and PSH only on
 * the last segment, CWR only on the first), and its reverse; and the
 * reverse of UDP segmentation (Linux's UDP_SEGMENT, udp(7)): datagrams of
 * one flow, all of one size but a shorter last, glued into one.
 */
#include "offload.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "inet.h"

enum {
	TCP_HDR = 20,
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

int offload_csum_complete(uint8_t *pkt, size_t len, size_t start,
			  size_t offset)
{
	uint16_t sum;

	if (start > len || offset + 2 > len - start)
		return -EINVAL;
	sum = inet_csum_fold(inet_csum_add(0, pkt + start, len - start));
	memcpy(pkt + start + offset, &sum, 2);
	return 0;
}

/* The pseudo-header's sum for a transport segment of l4_len bytes. */
static uint64_t pseudo_sum_of(const uint8_t *ip, bool v6, uint8_t proto,
			      size_t l4_len)
{
	if (v6)
		return inet_pseudo_sum(ip + IPV6_OFF_SRC, ip + IPV6_OFF_DST, 16,
				       proto, l4_len);
	return inet_pseudo_sum(ip + IPV4_OFF_SRC, ip + IPV4_OFF_DST, 4,
			       proto, l4_len);
}

static uint64_t pseudo_sum(const uint8_t *ip, bool v6, size_t tcp_len)
{
	return pseudo_sum_of(ip, v6, IPPROTO_TCP, tcp_len);
}

int offload_tso_init(struct offload_tso *t, uint8_t *pkt, size_t len,
		     unsigned int gso_type, size_t gso_size)
{
	unsigned int type = gso_type & ~(unsigned int)OFFLOAD_GSO_ECN;
	size_t tcp_len;

	memset(t, 0, sizeof(*t));
	if (!gso_size || len < IPV4_HDR_LEN)
		return -EINVAL;
	if (type == OFFLOAD_GSO_TCPV4 && inet_version(pkt) == 4) {
		t->ip_len = inet_ipv4_hdr_len(pkt);
		if (t->ip_len < IPV4_HDR_LEN ||
		    pkt[IPV4_OFF_PROTO] != IPPROTO_TCP ||
		    (inet_get16(pkt + IPV4_OFF_FRAG) &
		     (IPV4_FRAG_MF | IPV4_FRAG_OFFSET)))
			return -EINVAL;
	} else if (type == OFFLOAD_GSO_TCPV6 && inet_version(pkt) == 6) {
		t->v6 = true;
		t->ip_len = IPV6_HDR_LEN;
		if (pkt[IPV6_OFF_NEXT] != IPPROTO_TCP)
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
		inet_put16(seg + IPV6_OFF_PAYLOAD_LEN,
			   (uint16_t)(seg_len - IPV6_HDR_LEN));
	} else {
		inet_put16(seg + IPV4_OFF_TOTAL_LEN, (uint16_t)seg_len);
		inet_put16(seg + IPV4_OFF_ID,
			   (uint16_t)(inet_get16(t->hdr + IPV4_OFF_ID) + i));
		inet_ipv4_set_checksum(seg, t->ip_len);
	}
	inet_put32(tcp + TCP_OFF_SEQ,
		   inet_get32(t->hdr + t->ip_len + TCP_OFF_SEQ) +
			   (uint32_t)(i * t->mss));
	if (i + 1 < t->segs)
		flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i > 0)
		flags &= (uint8_t)~TCP_CWR;
	tcp[TCP_OFF_FLAGS] = flags;
	tcp[TCP_OFF_CHECK] = tcp[TCP_OFF_CHECK + 1] = 0;
	acc = pseudo_sum(seg, t->v6, seg_len - t->ip_len);
	acc = inet_csum_add(acc, tcp, seg_len - t->ip_len);
	sum = inet_csum_fold(acc);
	memcpy(tcp + TCP_OFF_CHECK, &sum, 2);
	*start = seg;
	return seg_len;
}

/* Headers of a packet GRO may take: the length of IP + TCP (or, with
 * udp allowed, IP + UDP) headers, or 0. *proto says which. */
static size_t gro_headers(const uint8_t *pkt, size_t len, bool udp, bool *v6,
			  uint8_t *proto)
{
	size_t ip_len, tcp_len;

	if (len < IPV4_HDR_LEN)
		return 0;
	if (pkt[0] == IPV4_VERSION_IHL_PLAIN) {
		/* No options, no fragment, DF set, the length exact. */
		*proto = pkt[IPV4_OFF_PROTO];
		if (inet_get16(pkt + IPV4_OFF_TOTAL_LEN) != len ||
		    (inet_get16(pkt + IPV4_OFF_FRAG) & 0x7fff) !=
			    IPV4_FRAG_DF)
			return 0;
		*v6 = false;
		ip_len = IPV4_HDR_LEN;
	} else if (inet_version(pkt) == 6 && len >= IPV6_HDR_LEN) {
		*proto = pkt[IPV6_OFF_NEXT];
		if ((size_t)inet_get16(pkt + IPV6_OFF_PAYLOAD_LEN) +
			    IPV6_HDR_LEN != len)
			return 0;
		*v6 = true;
		ip_len = IPV6_HDR_LEN;
	} else {
		return 0;
	}
	if (*proto == IPPROTO_UDP && udp) {
		/* A datagram with a payload, its length exact. */
		if (len <= ip_len + UDP_HDR_LEN ||
		    inet_get16(pkt + ip_len + UDP_OFF_LEN) != len - ip_len)
			return 0;
		return ip_len + UDP_HDR_LEN;
	}
	if (*proto != IPPROTO_TCP || len < ip_len + TCP_HDR)
		return 0;
	tcp_len = (size_t)(pkt[ip_len + 12] >> 4) * 4;
	if (tcp_len < TCP_HDR || len <= ip_len + tcp_len)
		return 0;
	/* Data with ACK, and PSH at most. */
	if ((pkt[ip_len + TCP_OFF_FLAGS] & (uint8_t)~TCP_PSH) != TCP_ACK)
		return 0;
	return ip_len + tcp_len;
}

bool offload_gro_start(struct offload_gro *g, const uint8_t *pkt, size_t len,
		       bool udp)
{
	memset(g, 0, sizeof(*g));
	g->hdr_len = gro_headers(pkt, len, udp, &g->v6, &g->proto);
	if (!g->hdr_len)
		return false;
	g->payload = g->total = len - g->hdr_len;
	g->count = 1;
	g->closed = g->proto == IPPROTO_TCP &&
		    (pkt[(g->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN) +
			 TCP_OFF_FLAGS] & TCP_PSH);
	return true;
}

bool offload_gro_same_flow(const struct offload_gro *g, const uint8_t *first,
			   const uint8_t *pkt, size_t len)
{
	size_t ip_len;

	/* TCP's and UDP's ports are both the first 4 bytes. */
	if (g->v6)
		return len >= IPV6_HDR_LEN + UDP_HDR_LEN &&
		       inet_version(pkt) == 6 &&
		       pkt[IPV6_OFF_NEXT] == g->proto &&
		       !memcmp(first + IPV6_OFF_SRC, pkt + IPV6_OFF_SRC, 32) &&
		       !memcmp(first + IPV6_HDR_LEN, pkt + IPV6_HDR_LEN, 4);
	if (len < IPV4_HDR_LEN || inet_version(pkt) != 4 ||
	    pkt[IPV4_OFF_PROTO] != g->proto)
		return false;
	ip_len = inet_ipv4_hdr_len(pkt);
	return len >= ip_len + UDP_HDR_LEN &&
	       !memcmp(first + IPV4_OFF_SRC, pkt + IPV4_OFF_SRC, 8) &&
	       !memcmp(first + IPV4_HDR_LEN, pkt + ip_len, 4);
}

bool offload_gro_fits(struct offload_gro *g, const uint8_t *first,
		      const uint8_t *pkt, size_t len)
{
	size_t ip_len = g->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN, plen;
	const uint8_t *t1 = first + ip_len, *t2 = pkt + ip_len;
	uint8_t proto;
	bool v6;

	if (g->closed || g->count >= GRO_MAX_SEGS)
		return false;
	if (gro_headers(pkt, len, g->proto == IPPROTO_UDP, &v6, &proto) !=
		    g->hdr_len ||
	    v6 != g->v6 || proto != g->proto)
		return false;
	plen = len - g->hdr_len;
	if (plen > g->payload || g->hdr_len + g->total + plen > IP_MAX)
		return false;
	if (v6) {
		/* Version, class, flow label; hop limit; the addresses. */
		if (memcmp(first, pkt, 4) != 0 ||
		    first[IPV6_OFF_HOP_LIMIT] != pkt[IPV6_OFF_HOP_LIMIT] ||
		    memcmp(first + IPV6_OFF_SRC, pkt + IPV6_OFF_SRC, 32) != 0)
			return false;
	} else {
		/* TOS, TTL, the addresses. */
		if (first[IPV4_OFF_TOS] != pkt[IPV4_OFF_TOS] ||
		    first[IPV4_OFF_TTL] != pkt[IPV4_OFF_TTL] ||
		    memcmp(first + IPV4_OFF_SRC, pkt + IPV4_OFF_SRC, 8) != 0)
			return false;
	}
	if (proto == IPPROTO_UDP) {
		/* The ports; a shorter datagram ends the run. */
		if (memcmp(t1, t2, 4) != 0)
			return false;
		g->total += plen;
		g->count++;
		if (plen < g->payload)
			g->closed = true;
		return true;
	}
	/* Ports; the next sequence number; the same acknowledgment, flags
	 * (PSH aside), window and options. */
	if (memcmp(t1, t2, 4) != 0 ||
	    inet_get32(t2 + TCP_OFF_SEQ) != inet_get32(t1 + TCP_OFF_SEQ) +
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
	size_t ip_len = g->v6 ? IPV6_HDR_LEN : IPV4_HDR_LEN;
	size_t total = g->hdr_len + g->total;
	bool udp = g->proto == IPPROTO_UDP;
	size_t check = udp ? UDP_OFF_CHECKSUM : TCP_OFF_CHECK;
	uint8_t *l4 = first + ip_len;
	uint16_t sum;

	memset(h, 0, sizeof(*h));
	/* The tunnel's AEAD authenticated every byte: nothing to verify. */
	h->flags = OFFLOAD_F_DATA_VALID;
	if (g->count < 2)
		return;
	if (g->v6) {
		inet_put16(first + IPV6_OFF_PAYLOAD_LEN,
			   (uint16_t)(total - IPV6_HDR_LEN));
	} else {
		inet_put16(first + IPV4_OFF_TOTAL_LEN, (uint16_t)total);
		inet_ipv4_set_checksum(first, ip_len);
	}
	if (udp)
		inet_put16(l4 + UDP_OFF_LEN, (uint16_t)(total - ip_len));
	else
		l4[TCP_OFF_FLAGS] |= last[ip_len + TCP_OFF_FLAGS] & TCP_PSH;
	/* Partial checksum: the pseudo-header's sum, for the kernel (which
	 * then needs nothing more; a UDP run's kernel cuts it up again and
	 * sums each datagram) or for the segmentation of a forward. */
	sum = (uint16_t)~inet_csum_fold(pseudo_sum_of(first, g->v6, g->proto,
						      total - ip_len));
	memcpy(l4 + check, &sum, 2);
	h->flags = OFFLOAD_F_NEEDS_CSUM;
	if (udp)
		h->gso_type = OFFLOAD_GSO_UDP_L4;
	else
		h->gso_type = g->v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4;
	h->hdr_len = (uint16_t)g->hdr_len;
	h->gso_size = (uint16_t)g->payload;
	h->csum_start = (uint16_t)ip_len;
	h->csum_offset = (uint16_t)check;
}
