/* SPDX-License-Identifier: MIT */
/*
 * Inner-side path MTU handling (pmtu.h): RFC 792/1191 "fragmentation
 * needed", RFC 4443/8201 "packet too big" and RFC 791 fragmentation, with
 * inet.h's header layout and checksum.
 */
#include "pmtu.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "inet.h"
#include "messages.h"

enum {
	/* RFC 1812 4.3.2.3: an ICMPv4 error quotes no more than fits 576. */
	ICMP4_MAX = 576,
	/* RFC 4443 2.4 (c): an ICMPv6 error fits the minimum MTU. */
	ICMP6_MAX = 1280,
};

unsigned int pmtu_inner_mtu(unsigned int route_mtu, int outer_family)
{
	unsigned int overhead =
		(outer_family == AF_INET6 ? IPV6_HDR_LEN : IPV4_HDR_LEN)
		+ UDP_HDR_LEN + WG_DATA_HEADER_LEN + WG_AEAD_TAG_LEN;

	if (route_mtu <= overhead + WG_DATA_PADDING)
		return 0;
	return (route_mtu - overhead) & ~(unsigned int)(WG_DATA_PADDING - 1);
}

int pmtu_can_fragment4(const uint8_t *pkt, size_t len)
{
	return len >= IPV4_HDR_LEN && pkt[0] == IPV4_VERSION_IHL_PLAIN &&
	       !(inet_get16(pkt + IPV4_OFF_FRAG) & IPV4_FRAG_DF);
}

static size_t too_big4(const uint8_t *pkt, size_t len, unsigned int mtu,
		       uint8_t *out, size_t cap)
{
	size_t ihl = inet_ipv4_hdr_len(pkt), quote, total;

	if (ihl < IPV4_HDR_LEN || len < ihl)
		return 0;
	/* Never about a later fragment, nor about an ICMP error. */
	if (inet_get16(pkt + IPV4_OFF_FRAG) & IPV4_FRAG_OFFSET)
		return 0;
	if (pkt[IPV4_OFF_PROTO] == IPPROTO_ICMP && len >= ihl + 1) {
		uint8_t type = pkt[ihl];

		if (type == 3 || type == 4 || type == 5 || type == 11 ||
		    type == 12)
			return 0;
	}
	quote = len;
	if (quote > ICMP4_MAX - IPV4_HDR_LEN - ICMP_HDR_LEN)
		quote = ICMP4_MAX - IPV4_HDR_LEN - ICMP_HDR_LEN;
	total = IPV4_HDR_LEN + ICMP_HDR_LEN + quote;
	if (cap < total)
		return 0;
	if (mtu < IPV4_MIN_MTU)
		mtu = IPV4_MIN_MTU;

	/* From the address the packet was for, to its sender: the route
	 * back is the tunnel's, so reverse-path filters let it in. */
	inet_ipv4_write_header(out, total, IPPROTO_ICMP, 64, 0,
			       pkt + IPV4_OFF_DST, pkt + IPV4_OFF_SRC);

	memset(out + IPV4_HDR_LEN, 0, ICMP_HDR_LEN);
	out[IPV4_HDR_LEN] = 3;		/* destination unreachable */
	out[IPV4_HDR_LEN + 1] = 4;	/* fragmentation needed, DF set */
	inet_put16(out + IPV4_HDR_LEN + 6, (uint16_t)mtu);
	memcpy(out + IPV4_HDR_LEN + ICMP_HDR_LEN, pkt, quote);
	inet_csum_put(out + IPV4_HDR_LEN + ICMP_OFF_CHECKSUM,
		      inet_csum_fold(inet_csum_add(0, out + IPV4_HDR_LEN,
						   ICMP_HDR_LEN + quote)));
	return total;
}

static size_t too_big6(const uint8_t *pkt, size_t len, unsigned int mtu,
		       uint8_t *out, size_t cap)
{
	size_t quote, total, plen;
	uint64_t acc;

	if (len < IPV6_HDR_LEN)
		return 0;
	/* Not about an ICMPv6 error (types below 128), nor to multicast. */
	if (pkt[IPV6_OFF_NEXT] == IPPROTO_ICMPV6 && len > IPV6_HDR_LEN &&
	    pkt[IPV6_HDR_LEN] < 128)
		return 0;
	if (pkt[IPV6_OFF_SRC] == 0xff)
		return 0;
	quote = len;
	if (quote > ICMP6_MAX - IPV6_HDR_LEN - ICMP_HDR_LEN)
		quote = ICMP6_MAX - IPV6_HDR_LEN - ICMP_HDR_LEN;
	plen = ICMP_HDR_LEN + quote;
	total = IPV6_HDR_LEN + plen;
	if (cap < total)
		return 0;
	if (mtu < IPV6_MIN_MTU)
		mtu = IPV6_MIN_MTU;

	inet_ipv6_write_header(out, plen, IPPROTO_ICMPV6, 64,
			       pkt + IPV6_OFF_DST, pkt + IPV6_OFF_SRC);

	memset(out + IPV6_HDR_LEN, 0, ICMP_HDR_LEN);
	out[IPV6_HDR_LEN] = 2;		/* packet too big */
	inet_put32(out + IPV6_HDR_LEN + 4, mtu);
	memcpy(out + IPV6_HDR_LEN + ICMP_HDR_LEN, pkt, quote);
	/* RFC 8200 8.1: the checksum covers a pseudo-header. */
	acc = inet_pseudo_sum(out + IPV6_OFF_SRC, out + IPV6_OFF_DST, 16,
			      IPPROTO_ICMPV6, plen);
	acc = inet_csum_add(acc, out + IPV6_HDR_LEN, plen);
	inet_csum_put(out + IPV6_HDR_LEN + ICMP_OFF_CHECKSUM,
		      inet_csum_fold(acc));
	return total;
}

size_t pmtu_build_too_big(const uint8_t *pkt, size_t len, unsigned int mtu,
			  uint8_t *out, size_t cap)
{
	if (len < 1)
		return 0;
	if (inet_version(pkt) == 4)
		return too_big4(pkt, len, mtu, out, cap);
	if (inet_version(pkt) == 6)
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
	    inet_get16(pkt + IPV4_OFF_TOTAL_LEN) != len)
		return -EINVAL;
	flags_off = inet_get16(pkt + IPV4_OFF_FRAG);
	base = flags_off & IPV4_FRAG_OFFSET;
	more = flags_off & IPV4_FRAG_MF;
	payload = len - IPV4_HDR_LEN;
	/* Every fragment but the last carries a multiple of 8 bytes. */
	step = (mtu - IPV4_HDR_LEN) & ~(size_t)7;
	while (off < payload) {
		size_t n = payload - off > step ? step : payload - off;
		bool last = off + n == payload;
		uint16_t fo = (uint16_t)(base + off / 8);

		memcpy(frag, pkt, IPV4_HDR_LEN);
		memcpy(frag + IPV4_HDR_LEN, pkt + IPV4_HDR_LEN + off, n);
		inet_put16(frag + IPV4_OFF_TOTAL_LEN,
			   (uint16_t)(IPV4_HDR_LEN + n));
		inet_put16(frag + IPV4_OFF_FRAG,
			   (uint16_t)(fo | (!last || more ? IPV4_FRAG_MF : 0)));
		inet_ipv4_set_checksum(frag, IPV4_HDR_LEN);
		emit(ctx, frag, IPV4_HDR_LEN + n);
		off += n;
	}
	return 0;
}
