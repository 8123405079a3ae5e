/* SPDX-License-Identifier: MIT */
/*
 * Inner-side path MTU handling (pmtu.h): RFC 792/1191 "fragmentation
 * needed", RFC 4443/8201 "packet too big", RFC 791 fragmentation, and the
 * RFC 1071 Internet checksum they need.
 */
#include "pmtu.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "messages.h"

enum {
	IPV4_HDR = 20,
	IPV6_HDR = 40,
	UDP_HDR = 8,
	ICMP_HDR = 8,
	/* RFC 1812 4.3.2.3: an ICMPv4 error quotes no more than fits 576. */
	ICMP4_MAX = 576,
	/* RFC 4443 2.4 (c): an ICMPv6 error fits the minimum MTU. */
	ICMP6_MAX = 1280,
	IPV4_MIN_MTU = 68,
	IPV6_MIN_MTU = 1280,
};

static uint32_t sum16(uint32_t acc, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		acc += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		acc += (uint32_t)(p[0] << 8);
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

unsigned int pmtu_inner_mtu(unsigned int route_mtu, int outer_family)
{
	unsigned int overhead = (outer_family == AF_INET6 ? IPV6_HDR : IPV4_HDR)
		+ UDP_HDR + WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN;

	if (route_mtu <= overhead + WG_DATA_PADDING)
		return 0;
	return (route_mtu - overhead) & ~(unsigned int)(WG_DATA_PADDING - 1);
}

int pmtu_can_fragment4(const uint8_t *pkt, size_t len)
{
	return len >= IPV4_HDR && pkt[0] == 0x45 && !(pkt[6] & 0x40);
}

static size_t too_big4(const uint8_t *pkt, size_t len, unsigned int mtu,
		       uint8_t *out, size_t cap)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4, quote, total;

	if (ihl < IPV4_HDR || len < ihl)
		return 0;
	/* Never about a later fragment, nor about an ICMP error. */
	if (get16(pkt + 6) & 0x1fff)
		return 0;
	if (pkt[9] == IPPROTO_ICMP && len >= ihl + 1) {
		uint8_t type = pkt[ihl];

		if (type == 3 || type == 4 || type == 5 || type == 11 ||
		    type == 12)
			return 0;
	}
	quote = len;
	if (quote > ICMP4_MAX - IPV4_HDR - ICMP_HDR)
		quote = ICMP4_MAX - IPV4_HDR - ICMP_HDR;
	total = IPV4_HDR + ICMP_HDR + quote;
	if (cap < total)
		return 0;
	if (mtu < IPV4_MIN_MTU)
		mtu = IPV4_MIN_MTU;

	memset(out, 0, IPV4_HDR + ICMP_HDR);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)total);
	out[8] = 64;			/* TTL */
	out[9] = IPPROTO_ICMP;
	/* From the address the packet was for, to its sender: the route
	 * back is the tunnel's, so reverse-path filters let it in. */
	memcpy(out + 12, pkt + 16, 4);
	memcpy(out + 16, pkt + 12, 4);
	put16(out + 10, fold(sum16(0, out, IPV4_HDR)));

	out[IPV4_HDR] = 3;		/* destination unreachable */
	out[IPV4_HDR + 1] = 4;		/* fragmentation needed, DF set */
	put16(out + IPV4_HDR + 6, (uint16_t)mtu);
	memcpy(out + IPV4_HDR + ICMP_HDR, pkt, quote);
	put16(out + IPV4_HDR + 2,
	      fold(sum16(0, out + IPV4_HDR, ICMP_HDR + quote)));
	return total;
}

static size_t too_big6(const uint8_t *pkt, size_t len, unsigned int mtu,
		       uint8_t *out, size_t cap)
{
	size_t quote, total, plen;
	uint32_t acc;

	if (len < IPV6_HDR)
		return 0;
	/* Not about an ICMPv6 error (types below 128), nor to multicast. */
	if (pkt[6] == IPPROTO_ICMPV6 && len > IPV6_HDR && pkt[IPV6_HDR] < 128)
		return 0;
	if (pkt[8] == 0xff)
		return 0;
	quote = len;
	if (quote > ICMP6_MAX - IPV6_HDR - ICMP_HDR)
		quote = ICMP6_MAX - IPV6_HDR - ICMP_HDR;
	plen = ICMP_HDR + quote;
	total = IPV6_HDR + plen;
	if (cap < total)
		return 0;
	if (mtu < IPV6_MIN_MTU)
		mtu = IPV6_MIN_MTU;

	memset(out, 0, IPV6_HDR + ICMP_HDR);
	out[0] = 0x60;
	put16(out + 4, (uint16_t)plen);
	out[6] = IPPROTO_ICMPV6;
	out[7] = 64;			/* hop limit */
	memcpy(out + 8, pkt + 24, 16);
	memcpy(out + 24, pkt + 8, 16);

	out[IPV6_HDR] = 2;		/* packet too big */
	out[IPV6_HDR + 4] = (uint8_t)(mtu >> 24);
	out[IPV6_HDR + 5] = (uint8_t)(mtu >> 16);
	out[IPV6_HDR + 6] = (uint8_t)(mtu >> 8);
	out[IPV6_HDR + 7] = (uint8_t)mtu;
	memcpy(out + IPV6_HDR + ICMP_HDR, pkt, quote);
	/* RFC 8200 8.1: the checksum covers a pseudo-header. */
	acc = sum16(0, out + 8, 32);
	acc += (uint32_t)plen + IPPROTO_ICMPV6;
	acc = sum16(acc, out + IPV6_HDR, plen);
	put16(out + IPV6_HDR + 2, fold(acc));
	return total;
}

size_t pmtu_build_too_big(const uint8_t *pkt, size_t len, unsigned int mtu,
			  uint8_t *out, size_t cap)
{
	if (len < 1)
		return 0;
	if (pkt[0] >> 4 == 4)
		return too_big4(pkt, len, mtu, out, cap);
	if (pkt[0] >> 4 == 6)
		return too_big6(pkt, len, mtu, out, cap);
	return 0;
}

int pmtu_fragment4(const uint8_t *pkt, size_t len, unsigned int mtu,
		   void (*emit)(void *ctx, const uint8_t *frag, size_t len),
		   void *ctx)
{
	/* Static: 64 KiB is a lot of stack on some platforms. The daemon
	 * has several threads, but every call comes with the core's lock
	 * held (too_big.c), so one buffer serves them all. */
	static uint8_t frag[65536];
	uint16_t flags_off, base;
	size_t step, off = 0, payload;
	bool more;

	if (!pmtu_can_fragment4(pkt, len) || mtu < IPV4_MIN_MTU ||
	    get16(pkt + 2) != len)
		return -EINVAL;
	flags_off = get16(pkt + 6);
	base = flags_off & 0x1fff;
	more = flags_off & 0x2000;
	payload = len - IPV4_HDR;
	/* Every fragment but the last carries a multiple of 8 bytes. */
	step = (mtu - IPV4_HDR) & ~(size_t)7;
	while (off < payload) {
		size_t n = payload - off > step ? step : payload - off;
		bool last = off + n == payload;
		uint16_t fo = (uint16_t)(base + off / 8);

		memcpy(frag, pkt, IPV4_HDR);
		memcpy(frag + IPV4_HDR, pkt + IPV4_HDR + off, n);
		put16(frag + 2, (uint16_t)(IPV4_HDR + n));
		put16(frag + 6, (uint16_t)(fo | (!last || more ? 0x2000 : 0)));
		frag[10] = 0;
		frag[11] = 0;
		put16(frag + 10, fold(sum16(0, frag, IPV4_HDR)));
		emit(ctx, frag, IPV4_HDR + n);
		off += n;
	}
	return 0;
}
