/* SPDX-License-Identifier: MIT */
/*
 * The Internet checksum (inet.h): RFC 1071, summed 32 bits at a time into
 * 64 (section 2's "deferred carries"), with the pseudo-headers of RFC 768,
 * RFC 793 and RFC 8200 section 8.1.
 */
#include "inet.h"

uint64_t inet_csum_add(uint64_t acc, const void *data, size_t len)
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

uint16_t inet_csum_fold(uint64_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

uint64_t inet_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t alen,
			 uint8_t proto, size_t len)
{
	uint8_t tail[8] = { 0 };
	uint64_t acc;

	acc = inet_csum_add(0, src, alen);
	acc = inet_csum_add(acc, dst, alen);
	if (alen == 16) {
		/* A 32-bit length, three zero bytes, the next header. */
		inet_put32(tail, (uint32_t)len);
		tail[7] = proto;
		return inet_csum_add(acc, tail, 8);
	}
	/* A zero byte, the protocol, a 16-bit length. */
	tail[1] = proto;
	inet_put16(tail + 2, (uint16_t)len);
	return inet_csum_add(acc, tail, 4);
}

void inet_ipv4_set_checksum(uint8_t *ip, size_t ihl)
{
	ip[IPV4_OFF_CHECKSUM] = 0;
	ip[IPV4_OFF_CHECKSUM + 1] = 0;
	inet_csum_put(ip + IPV4_OFF_CHECKSUM,
		      inet_csum_fold(inet_csum_add(0, ip, ihl)));
}

void inet_ipv4_write_header(uint8_t *ip, size_t total, uint8_t proto,
			    uint8_t ttl, uint16_t frag, const uint8_t src[4],
			    const uint8_t dst[4])
{
	memset(ip, 0, IPV4_HDR_LEN);
	ip[IPV4_OFF_VERSION_IHL] = IPV4_VERSION_IHL_PLAIN;
	inet_put16(ip + IPV4_OFF_TOTAL_LEN, (uint16_t)total);
	inet_put16(ip + IPV4_OFF_FRAG, frag);
	ip[IPV4_OFF_TTL] = ttl;
	ip[IPV4_OFF_PROTO] = proto;
	memcpy(ip + IPV4_OFF_SRC, src, 4);
	memcpy(ip + IPV4_OFF_DST, dst, 4);
	inet_ipv4_set_checksum(ip, IPV4_HDR_LEN);
}

void inet_ipv6_write_header(uint8_t *ip, size_t payload_len, uint8_t next,
			    uint8_t hop_limit, const uint8_t src[16],
			    const uint8_t dst[16])
{
	memset(ip, 0, IPV6_HDR_LEN);
	ip[IPV6_OFF_VERSION] = IPV6_VERSION_PLAIN;
	inet_put16(ip + IPV6_OFF_PAYLOAD_LEN, (uint16_t)payload_len);
	ip[IPV6_OFF_NEXT] = next;
	ip[IPV6_OFF_HOP_LIMIT] = hop_limit;
	memcpy(ip + IPV6_OFF_SRC, src, 16);
	memcpy(ip + IPV6_OFF_DST, dst, 16);
}
