/* SPDX-License-Identifier: MIT */
/*
 * The records of a two-sided capture (capture.h), encoded and decoded with
 * no I/O: the LINUX_SLL2 header of the tcpdump.org registry of link-layer
 * header types, and for outer records the headers RFC 791 (IPv4), RFC 8200
 * (IPv6) and RFC 768 (UDP) define, with the checksums of RFC 1071, so that
 * any dissector takes them for ordinary datagrams.
 */
#include "capture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "inet.h"

enum {
	SLL2_OFF_PROTOCOL = 0,
	SLL2_OFF_RESERVED = 2,
	SLL2_OFF_IFINDEX = 4,
	SLL2_OFF_HATYPE = 8,
	SLL2_OFF_PKTTYPE = 10,
	SLL2_OFF_ADDRLEN = 11,
	SLL2_OFF_ADDR = 12,
	/* A tunnel has no link-layer header (Linux's ARPHRD_NONE). */
	SLL2_HATYPE_NONE = 0xfffe,
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	CAPTURE_TTL = 64,
};

static uint16_t inner_protocol(const uint8_t *pkt, size_t len)
{
	if (len && inet_version(pkt) == 4)
		return ETHERTYPE_IPV4;
	if (len && inet_version(pkt) == 6)
		return ETHERTYPE_IPV6;
	return 0;
}

/* The outer record's IP and UDP headers and payload at out; its length or
 * 0. The UDP checksum covers the pseudo-header (RFC 768, RFC 8200 8.1). */
static size_t encode_datagram(const struct capture_record *rec, uint8_t *out,
			      size_t outlen, uint16_t *proto)
{
	int family = rec->peer.addr.sa.sa_family;
	size_t alen = family == AF_INET ? 4 : 16;
	size_t hlen = family == AF_INET ? IPV4_HDR_LEN : IPV6_HDR_LEN;
	size_t ulen = UDP_HDR_LEN + rec->len;
	uint8_t peer[16], local[16], *src, *dst, *udp;
	uint16_t peer_port, sport, dport, c;
	uint64_t acc;

	if (family != AF_INET && family != AF_INET6)
		return 0;
	if (ulen > 0xffff || hlen + ulen > outlen ||
	    (family == AF_INET && hlen + ulen > 0xffff))
		return 0;
	memset(local, 0, sizeof(local));
	if (family == AF_INET) {
		memcpy(peer, &rec->peer.addr.sin.sin_addr, 4);
		peer_port = ntohs(rec->peer.addr.sin.sin_port);
		if (rec->peer.has_src)
			memcpy(local, &rec->peer.src.v4, 4);
	} else {
		memcpy(peer, &rec->peer.addr.sin6.sin6_addr, 16);
		peer_port = ntohs(rec->peer.addr.sin6.sin6_port);
		if (rec->peer.has_src)
			memcpy(local, &rec->peer.src.v6, 16);
	}
	if (rec->dir == CAPTURE_IN) {
		src = peer;
		dst = local;
		sport = peer_port;
		dport = rec->local_port;
	} else {
		src = local;
		dst = peer;
		sport = rec->local_port;
		dport = peer_port;
	}

	memset(out, 0, hlen + UDP_HDR_LEN);
	if (family == AF_INET) {
		inet_ipv4_write_header(out, hlen + ulen, IPPROTO_UDP,
				       CAPTURE_TTL, IPV4_FRAG_DF, src, dst);
		*proto = ETHERTYPE_IPV4;
	} else {
		inet_ipv6_write_header(out, ulen, IPPROTO_UDP, CAPTURE_TTL,
				       src, dst);
		*proto = ETHERTYPE_IPV6;
	}
	udp = out + hlen;
	inet_put16(udp + UDP_OFF_SRC_PORT, sport);
	inet_put16(udp + UDP_OFF_DST_PORT, dport);
	inet_put16(udp + UDP_OFF_LEN, (uint16_t)ulen);
	memcpy(udp + UDP_HDR_LEN, rec->data, rec->len);
	acc = inet_pseudo_sum(src, dst, alen, IPPROTO_UDP, ulen);
	c = inet_csum_fold(inet_csum_add(acc, udp, ulen));
	/* 0 would mean "none". */
	inet_csum_put(udp + UDP_OFF_CHECKSUM, c ? c : 0xffff);
	return hlen + ulen;
}

size_t capture_encode(const struct capture_record *rec, uint8_t *out,
		      size_t outlen)
{
	size_t n;
	uint16_t proto;

	if (outlen < CAPTURE_SLL2_LEN ||
	    (rec->dir != CAPTURE_IN && rec->dir != CAPTURE_OUT))
		return 0;
	if (rec->side == CAPTURE_OUTER) {
		n = encode_datagram(rec, out + CAPTURE_SLL2_LEN,
				    outlen - CAPTURE_SLL2_LEN, &proto);
		if (!n)
			return 0;
	} else if (rec->side == CAPTURE_INNER) {
		n = rec->len;
		if (n > outlen - CAPTURE_SLL2_LEN)
			return 0;
		memcpy(out + CAPTURE_SLL2_LEN, rec->data, n);
		proto = inner_protocol(rec->data, n);
	} else {
		return 0;
	}
	memset(out, 0, CAPTURE_SLL2_LEN);
	inet_put16(out + SLL2_OFF_PROTOCOL, proto);
	inet_put32(out + SLL2_OFF_IFINDEX, rec->side);
	inet_put16(out + SLL2_OFF_HATYPE, SLL2_HATYPE_NONE);
	out[SLL2_OFF_PKTTYPE] = (uint8_t)rec->dir;
	return CAPTURE_SLL2_LEN + n;
}

/* Reads an outer record's headers back into the peer's endpoint, our
 * address and port, and the payload. */
static bool decode_datagram(const uint8_t *ip, size_t n,
			    struct capture_record *rec, const char **why)
{
	const uint8_t *src, *dst, *udp, *peer_addr, *local_addr;
	size_t avail, ulen;
	uint16_t sport, dport, peer_port;
	bool local_known;
	int family;

	if (n >= 1 && inet_version(ip) == 4) {
		size_t ihl = inet_ipv4_hdr_len(ip), total;

		family = AF_INET;
		if (n < IPV4_HDR_LEN || ihl < IPV4_HDR_LEN || ihl > n) {
			*why = "truncated IPv4 header";
			return false;
		}
		total = inet_get16(ip + IPV4_OFF_TOTAL_LEN);
		if (total < ihl || total > n) {
			*why = "IPv4 total length beyond the record";
			return false;
		}
		if (inet_get16(ip + IPV4_OFF_FRAG) &
		    (IPV4_FRAG_MF | IPV4_FRAG_OFFSET)) {
			*why = "a fragment, not a whole datagram";
			return false;
		}
		if (ip[IPV4_OFF_PROTO] != IPPROTO_UDP) {
			*why = "not UDP";
			return false;
		}
		src = ip + IPV4_OFF_SRC;
		dst = ip + IPV4_OFF_DST;
		udp = ip + ihl;
		avail = total - ihl;
	} else if (n >= 1 && inet_version(ip) == 6) {
		family = AF_INET6;
		if (n < IPV6_HDR_LEN) {
			*why = "truncated IPv6 header";
			return false;
		}
		avail = inet_get16(ip + IPV6_OFF_PAYLOAD_LEN);
		if (avail > n - IPV6_HDR_LEN) {
			*why = "IPv6 payload length beyond the record";
			return false;
		}
		if (ip[IPV6_OFF_NEXT] != IPPROTO_UDP) {
			*why = "not UDP (or an extension header)";
			return false;
		}
		src = ip + IPV6_OFF_SRC;
		dst = ip + IPV6_OFF_DST;
		udp = ip + IPV6_HDR_LEN;
	} else {
		*why = "outer record is neither IPv4 nor IPv6";
		return false;
	}
	if (avail < UDP_HDR_LEN) {
		*why = "truncated UDP header";
		return false;
	}
	ulen = inet_get16(udp + UDP_OFF_LEN);
	if (ulen < UDP_HDR_LEN || ulen > avail) {
		*why = "UDP length beyond the record";
		return false;
	}
	sport = inet_get16(udp + UDP_OFF_SRC_PORT);
	dport = inet_get16(udp + UDP_OFF_DST_PORT);
	if (rec->dir == CAPTURE_IN) {
		peer_addr = src;
		peer_port = sport;
		local_addr = dst;
		rec->local_port = dport;
	} else {
		peer_addr = dst;
		peer_port = dport;
		local_addr = src;
		rec->local_port = sport;
	}
	memset(&rec->peer, 0, sizeof(rec->peer));
	local_known = false;
	for (size_t i = 0; i < (family == AF_INET ? 4u : 16u); i++)
		local_known |= local_addr[i] != 0;
	if (family == AF_INET) {
		rec->peer.addr.sin.sin_family = AF_INET;
		rec->peer.addr.sin.sin_port = htons(peer_port);
		memcpy(&rec->peer.addr.sin.sin_addr, peer_addr, 4);
		memcpy(&rec->peer.src.v4, local_addr, 4);
	} else {
		rec->peer.addr.sin6.sin6_family = AF_INET6;
		rec->peer.addr.sin6.sin6_port = htons(peer_port);
		memcpy(&rec->peer.addr.sin6.sin6_addr, peer_addr, 16);
		memcpy(&rec->peer.src.v6, local_addr, 16);
	}
	rec->peer.has_src = local_known;
	rec->data = udp + UDP_HDR_LEN;
	rec->len = ulen - UDP_HDR_LEN;
	return true;
}

bool capture_decode(const uint8_t *frame, size_t caplen, size_t len,
		    struct capture_record *rec, const char **why)
{
	uint32_t ifindex;
	uint8_t pkttype;

	*why = NULL;
	memset(rec, 0, sizeof(*rec));
	if (caplen < len) {
		*why = "cut short by the capture's snapshot length";
		return false;
	}
	if (caplen < CAPTURE_SLL2_LEN) {
		*why = "shorter than a LINUX_SLL2 header";
		return false;
	}
	ifindex = inet_get32(frame + SLL2_OFF_IFINDEX);
	pkttype = frame[SLL2_OFF_PKTTYPE];
	if (ifindex != CAPTURE_OUTER && ifindex != CAPTURE_INNER) {
		*why = "interface index is neither 1 (outer) nor 2 (inner)";
		return false;
	}
	if (pkttype != CAPTURE_IN && pkttype != CAPTURE_OUT) {
		*why = "packet type is neither 0 (in) nor 4 (out)";
		return false;
	}
	rec->side = (enum capture_side)ifindex;
	rec->dir = (enum capture_dir)pkttype;
	if (rec->side == CAPTURE_INNER) {
		rec->data = frame + CAPTURE_SLL2_LEN;
		rec->len = caplen - CAPTURE_SLL2_LEN;
		return true;
	}
	return decode_datagram(frame + CAPTURE_SLL2_LEN,
			       caplen - CAPTURE_SLL2_LEN, rec, why);
}
