/* SPDX-License-Identifier: MIT */
/*
 * Inner-packet layout, as messages.h is for the wire format: the IPv4
 * (RFC 791) and IPv6 (RFC 8200) header fields that uniguard reads or
 * writes, named, with the UDP (RFC 768) and ICMP (RFC 792, RFC 4443)
 * header lengths; big-endian (network order) loads and stores; and the one
 * Internet checksum (RFC 1071) with its pseudo-headers.
 *
 * Packets are handled as byte arrays: fields are read and written with the
 * helpers below, never by casting a buffer. Pure functions: no I/O.
 */
#ifndef UNIGUARD_INET_H
#define UNIGUARD_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* IPv4: 20 bytes without options. */
enum {
	IPV4_OFF_VERSION_IHL = 0,	/* version 4 << 4 | header words */
	IPV4_OFF_TOS = 1,
	IPV4_OFF_TOTAL_LEN = 2,		/* u16 */
	IPV4_OFF_ID = 4,		/* u16 */
	IPV4_OFF_FRAG = 6,		/* u16: flags and fragment offset */
	IPV4_OFF_TTL = 8,
	IPV4_OFF_PROTO = 9,
	IPV4_OFF_CHECKSUM = 10,
	IPV4_OFF_SRC = 12,
	IPV4_OFF_DST = 16,
	IPV4_HDR_LEN = 20,
	/* The first byte of a header without options. */
	IPV4_VERSION_IHL_PLAIN = 0x45,
	/* In the u16 at IPV4_OFF_FRAG. */
	IPV4_FRAG_DF = 0x4000,
	IPV4_FRAG_MF = 0x2000,
	IPV4_FRAG_OFFSET = 0x1fff,
	/* RFC 791: the smallest MTU every IPv4 link carries. */
	IPV4_MIN_MTU = 68,
};

/* IPv6: 40 bytes, extension headers after. */
enum {
	IPV6_OFF_VERSION = 0,		/* version 6 << 4 | class, flow */
	IPV6_OFF_PAYLOAD_LEN = 4,	/* u16: what follows the header */
	IPV6_OFF_NEXT = 6,
	IPV6_OFF_HOP_LIMIT = 7,
	IPV6_OFF_SRC = 8,
	IPV6_OFF_DST = 24,
	IPV6_HDR_LEN = 40,
	IPV6_VERSION_PLAIN = 0x60,
	/* RFC 8200 5: the smallest MTU every IPv6 link carries. */
	IPV6_MIN_MTU = 1280,
};

/* Transport headers. */
enum {
	UDP_OFF_SRC_PORT = 0,
	UDP_OFF_DST_PORT = 2,
	UDP_OFF_LEN = 4,
	UDP_OFF_CHECKSUM = 6,
	UDP_HDR_LEN = 8,
	/* Type, code, checksum and four bytes that depend on the type. */
	ICMP_HDR_LEN = 8,
	ICMP_OFF_CHECKSUM = 2,
};

static inline uint16_t inet_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void inet_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint32_t inet_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void inet_put32(uint8_t *p, uint32_t v)
{
	inet_put16(p, (uint16_t)(v >> 16));
	inet_put16(p + 2, (uint16_t)v);
}

/* The IP version in the first byte (4 or 6; anything else is no IP). */
static inline unsigned int inet_version(const uint8_t *pkt)
{
	return pkt[0] >> 4;
}

/* The IPv4 header's length in bytes, options included, as its IHL says
 * (check it against IPV4_HDR_LEN and the packet). */
static inline size_t inet_ipv4_hdr_len(const uint8_t *ip)
{
	return (size_t)(ip[IPV4_OFF_VERSION_IHL] & 0x0f) * 4;
}

/*
 * The Internet checksum (RFC 1071). The ones'-complement sum does not
 * depend on byte order (section 2), so words are added as the machine
 * loads them and the result is stored as it is (inet_csum_put), already in
 * network order: over a region that holds a correct checksum,
 * inet_csum_fold gives 0.
 *
 * inet_csum_add adds p[0..len) to acc (start at 0); chunks after the first
 * must start at even offsets of the summed region. inet_csum_fold gives the
 * complemented 16-bit checksum.
 */
uint64_t inet_csum_add(uint64_t acc, const void *p, size_t len);
uint16_t inet_csum_fold(uint64_t acc);

static inline void inet_csum_put(uint8_t *p, uint16_t csum)
{
	memcpy(p, &csum, sizeof(csum));
}

/* The pseudo-header's sum for a transport checksum (RFC 768 and RFC 793
 * for IPv4, RFC 8200 8.1 for IPv6): the source and destination addresses
 * of alen bytes (4 or 16), the protocol and the transport length. */
uint64_t inet_pseudo_sum(const uint8_t *src, const uint8_t *dst, size_t alen,
			 uint8_t proto, size_t len);

/* Zeroes and recomputes the checksum of an IPv4 header of ihl bytes. */
void inet_ipv4_set_checksum(uint8_t *ip, size_t ihl);

/* Writes a 20-byte IPv4 header (no options, identification 0, frag the
 * u16 of flags, checksum filled) for a packet of total bytes. The
 * addresses must not lie inside the header being written, here or in
 * inet_ipv6_write_header. */
void inet_ipv4_write_header(uint8_t *ip, size_t total, uint8_t proto,
			    uint8_t ttl, uint16_t frag, const uint8_t src[4],
			    const uint8_t dst[4]);
/* Writes a 40-byte IPv6 header (class and flow label 0) in front of
 * payload_len bytes of next. */
void inet_ipv6_write_header(uint8_t *ip, size_t payload_len, uint8_t next,
			    uint8_t hop_limit, const uint8_t src[16],
			    const uint8_t dst[16]);

#endif
