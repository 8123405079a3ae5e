/* SPDX-License-Identifier: MIT */
/*
 * IP forwarding (ether_forward.h) by the rules of RFC 1812 5.3.1 (TTL, with
 * RFC 1624's incremental checksum update) and RFC 8200 3 (hop limit), link-
 * local addresses kept on their link (RFC 4291 2.5.6), and ICMP and ICMPv6
 * echo (RFC 792, RFC 4443 4).
 */
#include "ether_forward.h"

#include <netinet/in.h>
#include <string.h>

#include "ether_nd.h"
#include "ether_neigh.h"
#include "inet.h"

enum {
	ICMP_ECHO_REPLY = 0,
	ICMP_ECHO_REQUEST = 8,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	DEFAULT_TTL = 64,
};

/* The segment's own broadcast address, which nobody behind the tunnel
 * holds (prefixes of /31 and /32 have none). */
static bool is_subnet_broadcast4(const struct ether_if *i, const uint8_t *a)
{
	uint32_t addr, mask;

	if (!on_link(i, a) || i->prefixlen >= 31)
		return false;
	addr = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	       (uint32_t)a[2] << 8 | a[3];
	mask = i->prefixlen ? 0xffffffffu << (32 - i->prefixlen) : 0;
	return (addr | mask) == 0xffffffffu;
}

void ether_ipv4_dec_ttl(uint8_t *hdr)
{
	/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), with m the 16-bit word
	 * holding TTL and protocol; the sum works in either byte order. */
	uint16_t old_word, new_word, old_csum;

	memcpy(&old_word, hdr + IPV4_OFF_TTL, 2);
	memcpy(&old_csum, hdr + IPV4_OFF_CHECKSUM, 2);
	hdr[IPV4_OFF_TTL]--;
	memcpy(&new_word, hdr + IPV4_OFF_TTL, 2);
	inet_csum_put(hdr + IPV4_OFF_CHECKSUM,
		      inet_csum_fold((uint16_t)~old_csum + (uint16_t)~old_word +
				     (uint64_t)new_word));
}

/* An echo request to our own IPv4 address, answered to the MAC it came
 * from (the sender, or the router that brought it). */
static enum ether_verdict echo4(struct ether *e, const uint8_t *eth_src,
				const uint8_t *ip, size_t len)
{
	size_t ihl = inet_ipv4_hdr_len(ip), icmp_len = len - ihl;
	uint8_t *out = e->tx + ETHER_HDR_LEN, *icmp = out + IPV4_HDR_LEN;

	if (ip[IPV4_OFF_PROTO] != IPPROTO_ICMP || icmp_len < ICMP_HDR_LEN ||
	    (inet_get16(ip + IPV4_OFF_FRAG) &
	     (IPV4_FRAG_MF | IPV4_FRAG_OFFSET)) ||
	    ip[ihl] != ICMP_ECHO_REQUEST ||
	    ip[ihl + 1] != 0 || IPV4_HDR_LEN + icmp_len > e->mtu ||
	    inet_csum_fold(inet_csum_add(0, ip + ihl, icmp_len)) != 0)
		return ETHER_IGNORED;
	inet_ipv4_write_header(out, IPV4_HDR_LEN + icmp_len, IPPROTO_ICMP,
			       DEFAULT_TTL, 0, e->v4.addr, ip + IPV4_OFF_SRC);
	memcpy(icmp, ip + ihl, icmp_len);
	icmp[0] = ICMP_ECHO_REPLY;
	inet_put16(icmp + ICMP_OFF_CHECKSUM, 0);
	inet_csum_put(icmp + ICMP_OFF_CHECKSUM,
		      inet_csum_fold(inet_csum_add(0, icmp, icmp_len)));
	ether_emit_frame(e, eth_src, ETHERTYPE_IPV4, IPV4_HDR_LEN + icmp_len);
	return ETHER_ANSWERED;
}

enum ether_verdict ether_ipv4_input(struct ether *e, const uint8_t *eth_src,
				    uint8_t *ip, size_t n, size_t *pkt_len)
{
	size_t ihl, total;
	const uint8_t *dst;

	if (n < IPV4_HDR_LEN || inet_version(ip) != 4)
		return ETHER_MALFORMED;
	ihl = inet_ipv4_hdr_len(ip);
	total = inet_get16(ip + IPV4_OFF_TOTAL_LEN);
	if (ihl < IPV4_HDR_LEN || total < ihl || total > n ||
	    inet_csum_fold(inet_csum_add(0, ip, ihl)) != 0)
		return ETHER_MALFORMED;
	dst = ip + IPV4_OFF_DST;
	if (is_own(&e->v4, dst, 4))
		return echo4(e, eth_src, ip, total);
	if (dst[0] >= 224 || is_subnet_broadcast4(&e->v4, dst))
		return ETHER_IGNORED;
	if (ip[IPV4_OFF_TTL] <= 1)
		return ETHER_TTL_EXPIRED;
	ether_ipv4_dec_ttl(ip);
	/* Without the padding a short frame carries. */
	*pkt_len = total;
	return ETHER_TO_TUNNEL;
}

static enum ether_verdict echo6(struct ether *e, const uint8_t *eth_src,
				const uint8_t *ip, size_t len)
{
	const uint8_t *msg = ip + IPV6_HDR_LEN;
	size_t mlen = len - IPV6_HDR_LEN;
	uint8_t *out = e->tx + ETHER_HDR_LEN + IPV6_HDR_LEN;
	uint8_t src[16];

	if (ip[IPV6_OFF_NEXT] != IPPROTO_ICMPV6 || mlen < ICMP_HDR_LEN ||
	    msg[0] != ICMP6_ECHO_REQUEST || msg[1] != 0 || len > e->mtu ||
	    ether_icmp6_csum(ip + IPV6_OFF_SRC, ip + IPV6_OFF_DST, msg,
			     mlen) != 0)
		return ETHER_IGNORED;
	memcpy(src, ip + IPV6_OFF_SRC, sizeof(src));
	memmove(out, msg, mlen);
	out[0] = ICMP6_ECHO_REPLY;
	ether_icmp6_send(e, eth_src, e->v6.addr, src, DEFAULT_TTL, mlen);
	return ETHER_ANSWERED;
}

enum ether_verdict ether_ipv6_input(struct ether *e, uint64_t now,
				    const uint8_t *eth_src, bool unicast,
				    uint8_t *ip, size_t n, size_t *pkt_len)
{
	size_t total;
	const uint8_t *src = ip + IPV6_OFF_SRC, *dst = ip + IPV6_OFF_DST;

	if (n < IPV6_HDR_LEN || inet_version(ip) != 6)
		return ETHER_MALFORMED;
	total = IPV6_HDR_LEN + inet_get16(ip + IPV6_OFF_PAYLOAD_LEN);
	if (total > n)
		return ETHER_MALFORMED;
	if (ip[IPV6_OFF_NEXT] == IPPROTO_ICMPV6 && total >= IPV6_HDR_LEN + 4) {
		uint8_t type = ip[IPV6_HDR_LEN];

		if (type == ND_NEIGHBOR_SOLICIT || type == ND_NEIGHBOR_ADVERT)
			return ether_nd_input(e, now, eth_src, ip, total);
		/* Routers' business on this link, not the tunnel's. */
		if (type == ND_ROUTER_SOLICIT || type == ND_ROUTER_ADVERT ||
		    type == ND_REDIRECT)
			return ETHER_IGNORED;
	}
	if (!unicast || dst[0] == 0xff)
		return ETHER_IGNORED;
	if (is_own(&e->v6, dst, 16))
		return echo6(e, eth_src, ip, total);
	/* Link-local addresses never leave their link (RFC 4291 2.5.6). */
	if (is_link_local6(dst) || is_link_local6(src) || is_zero(src, 16))
		return ETHER_IGNORED;
	if (ip[IPV6_OFF_HOP_LIMIT] <= 1)
		return ETHER_TTL_EXPIRED;
	ip[IPV6_OFF_HOP_LIMIT]--;
	*pkt_len = total;
	return ETHER_TO_TUNNEL;
}

/* Where a packet to dst goes first: dst itself when it is on the
 * segment, else the gateway; NULL when there is none. */
static const uint8_t *next_hop(const struct ether_if *i, const uint8_t *dst)
{
	if (on_link(i, dst))
		return dst;
	if (i->has_gateway)
		return i->gateway;
	return NULL;
}

enum ether_verdict ether_ipv4_output(struct ether *e, uint64_t now,
				     const uint8_t *ip, size_t len)
{
	size_t ihl, total;
	const uint8_t *dst = ip + IPV4_OFF_DST, *nexthop;

	if (len < IPV4_HDR_LEN)
		return ETHER_MALFORMED;
	ihl = inet_ipv4_hdr_len(ip);
	total = inet_get16(ip + IPV4_OFF_TOTAL_LEN);
	if (ihl < IPV4_HDR_LEN || total < ihl || total > len)
		return ETHER_MALFORMED;
	if (!e->v4.has_addr)
		return ETHER_NO_ROUTE;
	if (is_own(&e->v4, dst, 4))
		return ETHER_LOCAL;
	if (dst[0] >= 224 || is_zero(dst, 4) ||
	    is_subnet_broadcast4(&e->v4, dst))
		return ETHER_NO_ROUTE;
	nexthop = next_hop(&e->v4, dst);
	if (!nexthop)
		return ETHER_NO_ROUTE;
	if (total > e->mtu)
		return ETHER_TOO_BIG;
	if (ip[IPV4_OFF_TTL] <= 1)
		return ETHER_TTL_EXPIRED;
	memcpy(e->tx + ETHER_HDR_LEN, ip, total);
	ether_ipv4_dec_ttl(e->tx + ETHER_HDR_LEN);
	return ether_neigh_xmit(e, now, AF_INET, nexthop, total);
}

enum ether_verdict ether_ipv6_output(struct ether *e, uint64_t now,
				     const uint8_t *ip, size_t len)
{
	size_t total;
	const uint8_t *dst = ip + IPV6_OFF_DST, *nexthop;

	if (len < IPV6_HDR_LEN)
		return ETHER_MALFORMED;
	total = IPV6_HDR_LEN + inet_get16(ip + IPV6_OFF_PAYLOAD_LEN);
	if (total > len)
		return ETHER_MALFORMED;
	if (!e->v6.has_addr)
		return ETHER_NO_ROUTE;
	if (is_own(&e->v6, dst, 16))
		return ETHER_LOCAL;
	if (dst[0] == 0xff || is_link_local6(dst) || is_zero(dst, 16))
		return ETHER_NO_ROUTE;
	nexthop = next_hop(&e->v6, dst);
	if (!nexthop)
		return ETHER_NO_ROUTE;
	if (total > e->mtu)
		return ETHER_TOO_BIG;
	if (ip[IPV6_OFF_HOP_LIMIT] <= 1)
		return ETHER_TTL_EXPIRED;
	memcpy(e->tx + ETHER_HDR_LEN, ip, total);
	e->tx[ETHER_HDR_LEN + IPV6_OFF_HOP_LIMIT]--;
	return ether_neigh_xmit(e, now, AF_INET6, nexthop, total);
}
