/* SPDX-License-Identifier: MIT */
/*
 * IPv6 neighbour discovery (ether_nd.h): neighbour solicitation and
 * advertisement as RFC 4861 4.3, 4.4, 7.1 and 7.2 define them (7.2.8 for
 * proxies), the solicited-node groups of RFC 4291 2.7.1 and their Ethernet
 * groups (RFC 2464 7), and ICMPv6 framing (RFC 4443, RFC 8200 8.1).
 */
#include "ether_nd.h"

#include <netinet/in.h>
#include <string.h>

#include "ether_neigh.h"
#include "inet.h"

enum {
	/* Type, code, checksum, flags or reserved, target. */
	ND_MSG_LEN = 24,
	ND_OPT_SOURCE_LLADDR = 1,
	ND_OPT_TARGET_LLADDR = 2,
	ND_OPT_LLADDR_LEN = 8,
	NA_FLAG_ROUTER = 0x80,
	NA_FLAG_SOLICITED = 0x40,
	NA_FLAG_OVERRIDE = 0x20,
	ND_HOP_LIMIT = 255,
};

static const uint8_t all_nodes6[16] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};

uint16_t ether_icmp6_csum(const uint8_t *src, const uint8_t *dst,
			  const uint8_t *msg, size_t len)
{
	uint64_t acc = inet_pseudo_sum(src, dst, 16, IPPROTO_ICMPV6, len);

	return inet_csum_fold(inet_csum_add(acc, msg, len));
}

void ether_icmp6_send(struct ether *e, const uint8_t *eth_dst,
		      const uint8_t *src, const uint8_t *dst, uint8_t hops,
		      size_t len)
{
	uint8_t *ip = e->tx + ETHER_HDR_LEN, *msg = ip + IPV6_HDR_LEN;

	inet_ipv6_write_header(ip, len, IPPROTO_ICMPV6, hops, src, dst);
	inet_put16(msg + ICMP_OFF_CHECKSUM, 0);
	inet_csum_put(msg + ICMP_OFF_CHECKSUM,
		      ether_icmp6_csum(src, dst, msg, len));
	ether_emit_frame(e, eth_dst, ETHERTYPE_IPV6, IPV6_HDR_LEN + len);
}

/* A solicitation or an advertisement (type, with its flags) about
 * target, our MAC in the link-layer option opt; from an address of ours
 * (RFC 4861 7.2.4), for a proxied target too. */
static void send_nd(struct ether *e, const uint8_t *eth_dst,
		    const uint8_t *dst, uint8_t type, uint8_t flags,
		    uint8_t opt, const uint8_t *target)
{
	uint8_t *msg = e->tx + ETHER_HDR_LEN + IPV6_HDR_LEN;

	memset(msg, 0, ND_MSG_LEN);
	msg[0] = type;
	msg[4] = flags;
	memcpy(msg + 8, target, 16);
	msg[ND_MSG_LEN] = opt;
	msg[ND_MSG_LEN + 1] = 1;
	memcpy(msg + ND_MSG_LEN + 2, e->mac, ETHER_ADDR_LEN);
	ether_icmp6_send(e, eth_dst, e->v6.addr, dst, ND_HOP_LIMIT,
			 ND_MSG_LEN + ND_OPT_LLADDR_LEN);
}

void ether_nd_solicit(struct ether *e, const uint8_t *target,
		      const uint8_t *unicast_mac)
{
	uint8_t dst[16], eth_dst[ETHER_ADDR_LEN];

	if (unicast_mac) {
		memcpy(dst, target, 16);
		memcpy(eth_dst, unicast_mac, ETHER_ADDR_LEN);
	} else {
		/* The solicited-node group (RFC 4291 2.7.1) and its
		 * Ethernet group (RFC 2464 7). */
		static const uint8_t solicited[13] = {
			0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff
		};

		memcpy(dst, solicited, sizeof(solicited));
		memcpy(dst + 13, target + 13, 3);
		eth_dst[0] = 0x33;
		eth_dst[1] = 0x33;
		memcpy(eth_dst + 2, dst + 12, 4);
	}
	send_nd(e, eth_dst, dst, ND_NEIGHBOR_SOLICIT, 0, ND_OPT_SOURCE_LLADDR,
		target);
}

static void send_na(struct ether *e, const uint8_t *eth_dst,
		    const uint8_t *dst, const uint8_t *target, uint8_t flags)
{
	send_nd(e, eth_dst, dst, ND_NEIGHBOR_ADVERT, flags,
		ND_OPT_TARGET_LLADDR, target);
}

void ether_nd_announce(struct ether *e)
{
	uint8_t target[16];

	if (!e->v6.has_addr)
		return;
	memcpy(target, e->v6.addr, sizeof(target));
	send_na(e, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 }, all_nodes6,
		target, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE);
}

enum ether_verdict ether_nd_input(struct ether *e, uint64_t now,
				  const uint8_t *eth_src, const uint8_t *ip,
				  size_t len)
{
	const uint8_t *src = ip + IPV6_OFF_SRC, *dst = ip + IPV6_OFF_DST;
	const uint8_t *msg = ip + IPV6_HDR_LEN;
	const uint8_t *target = msg + 8, *lladdr = NULL;
	size_t mlen = len - IPV6_HDR_LEN, off;
	bool src_unspecified, for_us, proxied, learned = false;
	uint8_t reply_dst[16], reply_mac[ETHER_ADDR_LEN], tgt[16];

	/* RFC 4861 7.1.1 and 7.1.2: what makes an ND message valid. */
	if (ip[IPV6_OFF_HOP_LIMIT] != ND_HOP_LIMIT || mlen < ND_MSG_LEN ||
	    msg[1] != 0 ||
	    ether_icmp6_csum(src, dst, msg, mlen) != 0 || target[0] == 0xff)
		return ETHER_MALFORMED;
	for (off = ND_MSG_LEN; off < mlen;) {
		size_t olen;

		if (mlen - off < 2 || msg[off + 1] == 0)
			return ETHER_MALFORMED;
		olen = (size_t)msg[off + 1] * 8;
		if (olen > mlen - off)
			return ETHER_MALFORMED;
		if (olen == ND_OPT_LLADDR_LEN &&
		    ((msg[0] == ND_NEIGHBOR_SOLICIT &&
		      msg[off] == ND_OPT_SOURCE_LLADDR) ||
		     (msg[0] == ND_NEIGHBOR_ADVERT &&
		      msg[off] == ND_OPT_TARGET_LLADDR)))
			lladdr = msg + off + 2;
		off += olen;
	}
	if (lladdr && (mac_is_group(lladdr) ||
		       is_zero(lladdr, ETHER_ADDR_LEN)))
		return ETHER_MALFORMED;
	if (!e->v6.has_addr)
		return ETHER_IGNORED;
	src_unspecified = is_zero(src, 16);

	if (msg[0] == ND_NEIGHBOR_ADVERT) {
		if (!lladdr || is_own(&e->v6, target, 16))
			return ETHER_IGNORED;
		return ether_neigh_learn(e, now, AF_INET6, target, lladdr,
					 false) ?
			       ETHER_LEARNED : ETHER_IGNORED;
	}

	/* A solicitation. One from the unspecified address is duplicate
	 * address detection: it has no source link-layer address and goes
	 * to the solicited-node group. */
	if (src_unspecified && (lladdr || dst[0] != 0xff))
		return ETHER_MALFORMED;
	if (is_own(&e->v6, src, 16))
		return ETHER_IGNORED;
	for_us = is_own(&e->v6, target, 16);
	proxied = !for_us && ether_is_proxied(e, AF_INET6, target);
	if (!src_unspecified && lladdr &&
	    (on_link(&e->v6, src) || is_link_local6(src)))
		learned = ether_neigh_learn(e, now, AF_INET6, src, lladdr,
					    for_us || proxied);
	if (!for_us && !proxied)
		return learned ? ETHER_LEARNED : ETHER_IGNORED;
	memcpy(tgt, target, sizeof(tgt));
	if (src_unspecified) {
		memcpy(reply_dst, all_nodes6, sizeof(reply_dst));
		memcpy(reply_mac, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 },
		       sizeof(reply_mac));
	} else {
		memcpy(reply_dst, src, sizeof(reply_dst));
		memcpy(reply_mac, lladdr ? lladdr : eth_src, sizeof(reply_mac));
	}
	/* A proxy leaves Override clear, so that the address's owner, if
	 * it shows up on the segment, wins (RFC 4861 7.2.8). */
	send_na(e, reply_mac, reply_dst, tgt,
		(uint8_t)(NA_FLAG_ROUTER |
			  (src_unspecified ? 0 : NA_FLAG_SOLICITED) |
			  (for_us ? NA_FLAG_OVERRIDE : 0)));
	return ETHER_ANSWERED;
}
