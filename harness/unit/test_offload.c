/* SPDX-License-Identifier: MIT */
/*
 * The packet path's segmentation offloads (netdev/offload.c), which are
 * sans-I/O like the core (the checksum itself is test_inet.c's): TCP
 * super-packets cut into
 * segments and every segment checked field by field (lengths, IPv4
 * identification, sequence numbers, FIN/PSH/CWR, both checksums recomputed
 * independently, payload bytes), and segments glued back into the
 * super-packet they came from, with the runs GRO must refuse refused;
 * UDP datagrams of one flow glued into a UDP super-packet.
 */
#include "../../netdev/offload.c"

#include <arpa/inet.h>

#include "support.h"

/* A whole packet's IPv4 header and TCP checksums verify (sum to 0xffff). */
static void check_tcp4(const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4;
	uint32_t pseudo = 0;

	ck_assert_uint_eq(ref_ones_sum(pkt, ihl, 0), 0xffff);
	pseudo += (uint32_t)(pkt[12] << 8 | pkt[13]) + (pkt[14] << 8 | pkt[15]);
	pseudo += (uint32_t)(pkt[16] << 8 | pkt[17]) + (pkt[18] << 8 | pkt[19]);
	pseudo += 6 + (uint32_t)(len - ihl);
	ck_assert_uint_eq(ref_ones_sum(pkt + ihl, len - ihl, pseudo), 0xffff);
}

static void check_tcp6(const uint8_t *pkt, size_t len)
{
	uint32_t pseudo = 0;

	for (int i = 8; i < 40; i += 2)
		pseudo += (uint32_t)(pkt[i] << 8 | pkt[i + 1]);
	pseudo += 6 + (uint32_t)(len - 40);
	ck_assert_uint_eq(ref_ones_sum(pkt + 40, len - 40, pseudo), 0xffff);
}

/* A glued run's virtio-net header asks for segmentation as given. */
static void check_gso_hdr(const struct offload_vnet_hdr *h,
			  unsigned int gso_type, size_t gso_size,
			  size_t hdr_len, size_t csum_start, size_t csum_offset)
{
	ck_assert_uint_eq(h->flags, OFFLOAD_F_NEEDS_CSUM);
	ck_assert_uint_eq(h->gso_type, gso_type);
	ck_assert_uint_eq(h->gso_size, gso_size);
	ck_assert_uint_eq(h->hdr_len, hdr_len);
	ck_assert_uint_eq(h->csum_start, csum_start);
	ck_assert_uint_eq(h->csum_offset, csum_offset);
}

/* A run as written to the device: the first of count packets (stride
 * bytes apart), then the others' payloads after hdr_len bytes of
 * headers. Returns its length. */
static size_t join_run(uint8_t *out, const uint8_t *pkts, size_t stride,
		       const size_t *lens, size_t count, size_t hdr_len)
{
	size_t n = lens[0];

	memcpy(out, pkts, lens[0]);
	for (size_t i = 1; i < count; i++) {
		memcpy(out + n, pkts + i * stride + hdr_len,
		       lens[i] - hdr_len);
		n += lens[i] - hdr_len;
	}
	return n;
}

/* A TCP super-packet: IPv4 or IPv6, with 12 bytes of options, payload
 * bytes counting up. Returns its length. */
static size_t super_packet(uint8_t *p, bool v6, size_t payload, uint8_t flags)
{
	size_t ip = v6 ? 40 : 20, tcp = 32, len = ip + tcp + payload;

	memset(p, 0, ip + tcp);
	if (v6) {
		p[0] = 0x60;
		p[1] = 0x01;		/* a traffic class */
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = 6;
		p[7] = 64;
		ck_assert_int_eq(inet_pton(AF_INET6, "fd00::1", p + 8), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, "fd00::2", p + 24), 1);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[4] = 0x12;
		p[5] = 0xfe;		/* id 0x12fe, to go past 0x1300 */
		p[6] = 0x40;		/* DF */
		p[8] = 64;
		p[9] = 6;
		ck_assert_int_eq(inet_pton(AF_INET, "10.0.0.1", p + 12), 1);
		ck_assert_int_eq(inet_pton(AF_INET, "10.0.0.2", p + 16), 1);
	}
	uint8_t *t = p + ip;
	t[0] = 0x9c;
	t[1] = 0x40;		/* port 40000 */
	t[2] = 0x14;
	t[3] = 0x51;		/* port 5201 */
	t[4] = 0xff;
	t[5] = 0xff;
	t[6] = 0xff;
	t[7] = 0x00;		/* seq close to wrapping */
	t[8] = 0x11;
	t[11] = 0x22;		/* ack */
	t[12] = (uint8_t)((tcp / 4) << 4);
	t[13] = flags;
	t[14] = 0x01;
	t[15] = 0xf5;		/* window */
	t[20] = 1;
	t[21] = 1;
	t[22] = 8;
	t[23] = 10;		/* timestamps */
	t[27] = 7;
	t[31] = 9;
	for (size_t i = 0; i < payload; i++)
		p[ip + tcp + i] = (uint8_t)(i * 7 + 3);
	return len;
}

static void cut_and_check(bool v6)
{
	enum { MSS = 100, PAYLOAD = 3 * MSS + 37 };
	uint8_t pkt[1024], orig[1024], segs[4][256];
	size_t seg_len[4], ip = v6 ? 40 : 20, hdr = ip + 32;
	size_t len = super_packet(pkt, v6, PAYLOAD, 0x80 | 0x10 | 0x08 | 0x01);
	struct offload_tso t;

	memcpy(orig, pkt, len);
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, v6 ? OFFLOAD_GSO_TCPV6 :
					  OFFLOAD_GSO_TCPV4 | OFFLOAD_GSO_ECN,
					  MSS), 0);
	ck_assert_uint_eq(t.segs, 4);
	ck_assert_uint_eq(t.hdr_len, hdr);
	for (size_t i = 0; i < 4; i++) {
		uint8_t *seg;

		seg_len[i] = offload_tso_segment(&t, i, &seg);
		ck_assert_ptr_eq(seg, pkt + i * MSS);
		memcpy(segs[i], seg, seg_len[i]);
	}
	for (size_t i = 0; i < 4; i++) {
		const uint8_t *s = segs[i], *tcp = s + ip;
		size_t plen = i < 3 ? MSS : PAYLOAD - 3 * MSS;
		uint32_t seq = 0xffffff00u + (uint32_t)(i * MSS);
		uint8_t flags = 0x10;

		ck_assert_uint_eq(seg_len[i], hdr + plen);
		if (v6) {
			ck_assert_uint_eq((size_t)(s[4] << 8 | s[5]),
					  seg_len[i] - 40);
			check_tcp6(s, seg_len[i]);
		} else {
			ck_assert_uint_eq((size_t)(s[2] << 8 | s[3]),
					  seg_len[i]);
			ck_assert_uint_eq((unsigned)(s[4] << 8 | s[5]),
					  0x12feu + i);
			check_tcp4(s, seg_len[i]);
		}
		ck_assert_uint_eq(inet_get32(tcp + 4), seq);
		if (i == 0)
			flags |= 0x80;
		if (i == 3)
			flags |= 0x08 | 0x01;
		ck_assert_uint_eq(tcp[13], flags);
		/* Everything else of the headers as the original's. */
		ck_assert_mem_eq(tcp + 8, orig + ip + 8, 5);
		ck_assert_mem_eq(tcp + 14, orig + ip + 14, 2);
		ck_assert_mem_eq(tcp + 18, orig + ip + 18, 14);
		ck_assert_mem_eq(s + hdr, orig + hdr + i * MSS, plen);
	}
}

START_TEST(test_tso_ipv4)
{
	cut_and_check(false);
}
END_TEST

START_TEST(test_tso_ipv6)
{
	cut_and_check(true);
}
END_TEST

START_TEST(test_tso_refuses_what_it_cannot_cut)
{
	uint8_t pkt[512];
	struct offload_tso t;
	size_t len = super_packet(pkt, false, 200, 0x10);

	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_UDP, 100),
			 -EINVAL);
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_TCPV6, 100),
			 -EINVAL);
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_TCPV4, 0),
			 -EINVAL);
	ck_assert_int_eq(offload_tso_init(&t, pkt, 40, OFFLOAD_GSO_TCPV4, 100),
			 -EINVAL);
	pkt[6] |= 0x20;		/* a fragment */
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_TCPV4, 100),
			 -EINVAL);
	pkt[6] &= (uint8_t)~0x20;
	pkt[9] = 17;		/* UDP */
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_TCPV4, 100),
			 -EINVAL);
}
END_TEST

/* Segments cut from a super-packet glue back into it: the same bytes but
 * for the IPv4 checksum and identification, and a TCP checksum that is now
 * the pseudo-header's partial sum. */
static void glue_back(bool v6)
{
	enum { MSS = 100, PAYLOAD = 5 * MSS + 11 };
	uint8_t pkt[1024], orig[1024], segs[6][256], out[1024];
	size_t seg_len[6], ip = v6 ? 40 : 20, len, n = 0;
	struct offload_gro g;
	struct offload_tso t;
	struct offload_vnet_hdr h;

	len = super_packet(pkt, v6, PAYLOAD, 0x10 | 0x08);
	memcpy(orig, pkt, len);
	ck_assert_int_eq(offload_tso_init(&t, pkt, len, v6 ? OFFLOAD_GSO_TCPV6 :
					  OFFLOAD_GSO_TCPV4, MSS), 0);
	for (size_t i = 0; i < t.segs; i++) {
		uint8_t *seg;

		seg_len[i] = offload_tso_segment(&t, i, &seg);
		memcpy(segs[i], seg, seg_len[i]);
	}
	ck_assert(offload_gro_start(&g, segs[0], seg_len[0], false));
	for (size_t i = 1; i < t.segs; i++) {
		ck_assert(offload_gro_same_flow(&g, segs[0], segs[i],
						seg_len[i]));
		ck_assert(offload_gro_fits(&g, segs[0], segs[i], seg_len[i]));
	}
	ck_assert_uint_eq(g.count, 6);
	ck_assert(g.closed);
	offload_gro_finish(&g, segs[0], segs[5], &h);
	check_gso_hdr(&h, v6 ? OFFLOAD_GSO_TCPV6 : OFFLOAD_GSO_TCPV4, MSS,
		      ip + 32, ip, 16);
	n = join_run(out, segs[0], sizeof(segs[0]), seg_len, 6, ip + 32);
	ck_assert_uint_eq(n, len);
	if (!v6) {
		ck_assert_uint_eq(ref_ones_sum(out, 20, 0), 0xffff);
		ck_assert_mem_eq(out, orig, 4);
		ck_assert_mem_eq(out + 6, orig + 6, 4);
		ck_assert_mem_eq(out + 12, orig + 12, 8);
	} else {
		ck_assert_mem_eq(out, orig, 40);
	}
	ck_assert_mem_eq(out + ip, orig + ip, 16);
	ck_assert_mem_eq(out + ip + 18, orig + ip + 18, len - ip - 18);
	/* The partial checksum completes to a valid one. */
	ck_assert_int_eq(offload_csum_complete(out, len, h.csum_start,
					       h.csum_offset), 0);
	if (v6)
		check_tcp6(out, len);
	else
		check_tcp4(out, len);
}

START_TEST(test_gro_glues_segments_back)
{
	glue_back(false);
	glue_back(true);
}
END_TEST

START_TEST(test_gro_refuses)
{
	enum { MSS = 100 };
	uint8_t pkt[1024], segs[4][256], other[256];
	size_t seg_len[4];
	struct offload_gro g;
	struct offload_tso t;
	size_t len = super_packet(pkt, false, 4 * MSS, 0x10);

	ck_assert_int_eq(offload_tso_init(&t, pkt, len, OFFLOAD_GSO_TCPV4,
					  MSS), 0);
	for (size_t i = 0; i < 4; i++) {
		uint8_t *seg;

		seg_len[i] = offload_tso_segment(&t, i, &seg);
		memcpy(segs[i], seg, seg_len[i]);
	}
	/* A gap in the sequence. */
	ck_assert(offload_gro_start(&g, segs[0], seg_len[0], false));
	ck_assert(!offload_gro_fits(&g, segs[0], segs[2], seg_len[2]));
	ck_assert(offload_gro_fits(&g, segs[0], segs[1], seg_len[1]));
	/* Another port: another flow. */
	memcpy(other, segs[2], seg_len[2]);
	other[21] ^= 1;
	ck_assert(!offload_gro_same_flow(&g, segs[0], other, seg_len[2]));
	ck_assert(!offload_gro_fits(&g, segs[0], other, seg_len[2]));
	/* Another acknowledgment. */
	memcpy(other, segs[2], seg_len[2]);
	other[20 + 11] ^= 1;
	ck_assert(offload_gro_same_flow(&g, segs[0], other, seg_len[2]));
	ck_assert(!offload_gro_fits(&g, segs[0], other, seg_len[2]));
	/* Other options (a newer timestamp). */
	memcpy(other, segs[2], seg_len[2]);
	other[20 + 27] ^= 1;
	ck_assert(!offload_gro_fits(&g, segs[0], other, seg_len[2]));
	/* A bigger segment than the first. */
	ck_assert(!offload_gro_fits(&g, segs[0], segs[2], seg_len[2] + 1));
	/* A FIN, a SYN, no payload: nothing to start with. */
	memcpy(other, segs[0], seg_len[0]);
	other[20 + 13] |= 0x01;
	ck_assert(!offload_gro_start(&g, other, seg_len[0], false));
	other[20 + 13] = 0x12;
	ck_assert(!offload_gro_start(&g, other, seg_len[0], false));
	ck_assert(!offload_gro_start(&g, segs[0], 52, false));
	/* A pushed segment closes its run. */
	memcpy(other, segs[0], seg_len[0]);
	other[20 + 13] |= 0x08;
	ck_assert(offload_gro_start(&g, other, seg_len[0], false));
	ck_assert(!offload_gro_fits(&g, other, segs[1], seg_len[1]));
	/* One packet alone: written as is, checksums already valid. */
	struct offload_vnet_hdr h;

	ck_assert(offload_gro_start(&g, segs[0], seg_len[0], false));
	offload_gro_finish(&g, segs[0], segs[0], &h);
	ck_assert_uint_eq(h.flags, OFFLOAD_F_DATA_VALID);
	ck_assert_uint_eq(h.gso_type, OFFLOAD_GSO_NONE);
	check_tcp4(segs[0], seg_len[0]);
}
END_TEST

/* A UDP datagram (IPv4 with DF, or IPv6) of payload bytes from port 4000
 * to 5000, its checksum valid. Returns its length. */
static size_t udp_datagram(uint8_t *p, bool v6, size_t payload, uint8_t fill)
{
	size_t ip = v6 ? 40 : 20, len = ip + 8 + payload;
	uint32_t pseudo = 0;
	uint16_t sum;

	memset(p, 0, ip + 8);
	if (v6) {
		p[0] = 0x60;
		p[4] = (uint8_t)((len - 40) >> 8);
		p[5] = (uint8_t)(len - 40);
		p[6] = 17;
		p[7] = 64;
		ck_assert_int_eq(inet_pton(AF_INET6, "fd00::1", p + 8), 1);
		ck_assert_int_eq(inet_pton(AF_INET6, "fd00::2", p + 24), 1);
		for (int i = 8; i < 40; i += 2)
			pseudo += (uint32_t)(p[i] << 8 | p[i + 1]);
	} else {
		p[0] = 0x45;
		p[2] = (uint8_t)(len >> 8);
		p[3] = (uint8_t)len;
		p[6] = 0x40;
		p[8] = 64;
		p[9] = 17;
		ck_assert_int_eq(inet_pton(AF_INET, "10.1.2.3", p + 12), 1);
		ck_assert_int_eq(inet_pton(AF_INET, "10.4.5.6", p + 16), 1);
		inet_ipv4_set_checksum(p, 20);
		for (int i = 12; i < 20; i += 2)
			pseudo += (uint32_t)(p[i] << 8 | p[i + 1]);
	}
	p[ip] = 4000 >> 8;
	p[ip + 1] = 4000 & 255;
	p[ip + 2] = 5000 >> 8;
	p[ip + 3] = 5000 & 255;
	p[ip + 4] = (uint8_t)((len - ip) >> 8);
	p[ip + 5] = (uint8_t)(len - ip);
	for (size_t i = 0; i < payload; i++)
		p[ip + 8 + i] = (uint8_t)(fill + i);
	pseudo += 17 + (uint32_t)(len - ip);
	sum = (uint16_t)~ref_ones_sum(p + ip, len - ip, pseudo);
	p[ip + 6] = (uint8_t)(sum >> 8);
	p[ip + 7] = (uint8_t)sum;
	return len;
}

static void glue_udp(bool v6)
{
	enum { PAYLOAD = 300 };
	uint8_t dgrams[4][512], out[2048];
	size_t dlen[4], ip = v6 ? 40 : 20, n, total;
	struct offload_gro g;
	struct offload_vnet_hdr h;
	uint32_t pseudo = 0;

	for (size_t i = 0; i < 4; i++)
		dlen[i] = udp_datagram(dgrams[i], v6, i < 3 ? PAYLOAD : 120,
				       (uint8_t)(i * 50));
	/* Without the device's UDP offload, UDP is not glued. */
	ck_assert(!offload_gro_start(&g, dgrams[0], dlen[0], false));
	ck_assert(offload_gro_start(&g, dgrams[0], dlen[0], true));
	ck_assert(!g.closed);
	for (size_t i = 1; i < 4; i++) {
		ck_assert(offload_gro_same_flow(&g, dgrams[0], dgrams[i],
						dlen[i]));
		ck_assert(offload_gro_fits(&g, dgrams[0], dgrams[i],
					   dlen[i]));
	}
	/* The shorter last closed the run. */
	ck_assert(g.closed);
	ck_assert_uint_eq(g.count, 4);
	offload_gro_finish(&g, dgrams[0], dgrams[3], &h);
	check_gso_hdr(&h, OFFLOAD_GSO_UDP_L4, PAYLOAD, ip + 8, ip, 6);
	n = join_run(out, dgrams[0], sizeof(dgrams[0]), dlen, 4, ip + 8);
	total = 3 * PAYLOAD + 120 + ip + 8;
	ck_assert_uint_eq(n, total);
	if (v6) {
		ck_assert_uint_eq((size_t)(out[4] << 8 | out[5]), total - 40);
	} else {
		ck_assert_uint_eq((size_t)(out[2] << 8 | out[3]), total);
		ck_assert_uint_eq(ref_ones_sum(out, 20, 0), 0xffff);
	}
	ck_assert_uint_eq((size_t)(out[ip + 4] << 8 | out[ip + 5]), total - ip);
	ck_assert_mem_eq(out + ip, dgrams[0] + ip, 4);
	/* The partial checksum is the pseudo-header's for the whole run:
	 * completed, the super-packet's UDP checksum verifies. */
	ck_assert_int_eq(offload_csum_complete(out, total, h.csum_start,
					       h.csum_offset), 0);
	for (size_t i = v6 ? 8 : 12; i < (v6 ? 40u : 20u); i += 2)
		pseudo += (uint32_t)(out[i] << 8 | out[i + 1]);
	pseudo += 17 + (uint32_t)(total - ip);
	ck_assert_uint_eq(ref_ones_sum(out + ip, total - ip, pseudo), 0xffff);
}

START_TEST(test_gro_glues_udp)
{
	glue_udp(false);
	glue_udp(true);
}
END_TEST

START_TEST(test_gro_udp_refuses)
{
	uint8_t a[512], b[512], tcp[512];
	size_t la = udp_datagram(a, false, 200, 0);
	size_t lb = udp_datagram(b, false, 200, 7);
	struct offload_gro g;

	/* Another port: another flow. */
	ck_assert(offload_gro_start(&g, a, la, true));
	b[21] ^= 1;
	ck_assert(!offload_gro_same_flow(&g, a, b, lb));
	ck_assert(!offload_gro_fits(&g, a, b, lb));
	b[21] ^= 1;
	/* Bigger than the first. */
	lb = udp_datagram(b, false, 201, 7);
	ck_assert(!offload_gro_fits(&g, a, b, lb));
	/* Another TTL. */
	lb = udp_datagram(b, false, 200, 7);
	b[8] = 63;
	inet_ipv4_set_checksum(b, 20);
	ck_assert(!offload_gro_fits(&g, a, b, lb));
	/* No DF, a UDP length that lies, no payload: nothing to start. */
	b[8] = 64;
	b[6] = 0;
	inet_ipv4_set_checksum(b, 20);
	ck_assert(!offload_gro_start(&g, b, lb, true));
	lb = udp_datagram(b, false, 200, 7);
	b[25] ^= 1;
	ck_assert(!offload_gro_start(&g, b, lb, true));
	lb = udp_datagram(b, false, 0, 7);
	ck_assert(!offload_gro_start(&g, b, lb, true));
	/* A TCP segment does not join a UDP run, nor a datagram a TCP one. */
	ck_assert(offload_gro_start(&g, a, la, true));
	memcpy(tcp, a, la);
	tcp[9] = 6;
	ck_assert(!offload_gro_same_flow(&g, a, tcp, la));
	ck_assert(!offload_gro_fits(&g, a, tcp, la));
	/* One datagram alone: written as is. */
	struct offload_vnet_hdr h;

	ck_assert(offload_gro_start(&g, a, la, true));
	offload_gro_finish(&g, a, a, &h);
	ck_assert_uint_eq(h.flags, OFFLOAD_F_DATA_VALID);
	ck_assert_uint_eq(h.gso_type, OFFLOAD_GSO_NONE);
}
END_TEST

START_TEST(test_partial_checksum_completed)
{
	/* A UDP packet as the kernel hands it over with NEEDS_CSUM: the
	 * checksum field holds the pseudo-header's sum. */
	uint8_t p[100] = { 0x45, 0, 0, 100, 0, 0, 0x40, 0, 64, 17 };
	uint32_t pseudo;
	uint16_t partial;

	ck_assert_int_eq(inet_pton(AF_INET, "10.1.2.3", p + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, "10.4.5.6", p + 16), 1);
	p[20] = 0x30;
	p[22] = 0x40;
	p[25] = 80;		/* UDP length */
	for (int i = 28; i < 100; i++)
		p[i] = (uint8_t)(i * 13);
	pseudo = (0x0a01 + 0x0203 + 0x0a04 + 0x0506 + 17 + 80);
	partial = ref_ones_sum((const uint8_t *)"", 0, pseudo);
	p[26] = (uint8_t)(partial >> 8);
	p[27] = (uint8_t)partial;
	ck_assert_int_eq(offload_csum_complete(p, 100, 20, 6), 0);
	ck_assert_uint_eq(ref_ones_sum(p + 20, 80, pseudo - 0), 0xffff);
	ck_assert_int_eq(offload_csum_complete(p, 100, 99, 6), -EINVAL);
}
END_TEST

static Suite *offload_suite(void)
{
	Suite *suite = suite_create("offload");
	TCase *tc = tcase_create("offloads by hand");

	tcase_add_test(tc, test_tso_ipv4);
	tcase_add_test(tc, test_tso_ipv6);
	tcase_add_test(tc, test_tso_refuses_what_it_cannot_cut);
	tcase_add_test(tc, test_gro_glues_segments_back);
	tcase_add_test(tc, test_gro_refuses);
	tcase_add_test(tc, test_gro_glues_udp);
	tcase_add_test(tc, test_gro_udp_refuses);
	tcase_add_test(tc, test_partial_checksum_completed);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIGUARD_TEST_MAIN(offload_suite)
