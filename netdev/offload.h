/* SPDX-License-Identifier: MIT */
/*
 * Segmentation offloads done by hand, for a TUN device that hands over TCP
 * super-packets and takes them back (Linux IFF_VNET_HDR): the virtio-net
 * header in front of every packet, completing partial checksums, cutting a
 * TCP super-packet into segments (as a NIC's TSO would), and gluing
 * consecutive segments of one TCP flow back into a super-packet (as GRO
 * would). Pure functions on buffers: no system calls.
 */
#ifndef UNIGUARD_OFFLOAD_H
#define UNIGUARD_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The virtio-net header (virtio 1.x, section 5.1.6), host byte order as a
 * legacy TUN device uses it. */
#define OFFLOAD_VNET_HDR_LEN 10
enum {
	OFFLOAD_F_NEEDS_CSUM = 1,	/* checksum from csum_start to the end,
					 * stored at csum_start + csum_offset */
	OFFLOAD_F_DATA_VALID = 2,	/* checksums already verified */
};
enum {
	OFFLOAD_GSO_NONE = 0,
	OFFLOAD_GSO_TCPV4 = 1,
	OFFLOAD_GSO_UDP = 3,
	OFFLOAD_GSO_TCPV6 = 4,
	OFFLOAD_GSO_UDP_L4 = 5,		/* Linux's UDP segmentation (USO) */
	OFFLOAD_GSO_ECN = 0x80,		/* flag: segments carry CWR */
};

struct offload_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

void offload_vnet_hdr_read(struct offload_vnet_hdr *h,
			   const uint8_t raw[OFFLOAD_VNET_HDR_LEN]);
void offload_vnet_hdr_write(uint8_t raw[OFFLOAD_VNET_HDR_LEN],
			    const struct offload_vnet_hdr *h);

/* Completes a NEEDS_CSUM packet: the checksum over pkt[start..len), whose
 * field at start + offset holds the pseudo-header's sum. 0 or -EINVAL. */
int offload_csum_complete(uint8_t *pkt, size_t len, size_t start,
			  size_t offset);

/* A TCP super-packet (IPv4, or IPv6 without extension headers), cut into
 * segments in place: segment i's headers are written just in front of its
 * payload, over the end of segment i - 1's payload. So call
 * offload_tso_segment for i = 0, 1, ... in order, each once the previous
 * segment has been consumed. */
struct offload_tso {
	uint8_t *pkt;
	size_t len;
	size_t ip_len;			/* IPv4's with options, or 40 */
	size_t hdr_len;			/* ip_len + TCP's with options */
	size_t mss;
	size_t segs;
	bool v6;
	uint8_t hdr[128];		/* the headers, as a template */
};

/* 0, or -EINVAL for what is not such a packet. */
int offload_tso_init(struct offload_tso *t, uint8_t *pkt, size_t len,
		     unsigned int gso_type, size_t gso_size);
/* Segment i's length; *start where it begins. Checksums are filled. */
size_t offload_tso_segment(const struct offload_tso *t, size_t i,
			   uint8_t **start);

/* Gluing received TCP segments back together (and, where the device
 * takes UDP super-packets, datagrams of one UDP flow). A run is the first
 * packet of a flow and the later ones that continue it; offload_gro_fits says
 * whether pkt continues the run whose first packet is first (with
 * run_len bytes of payload so far, in count packets, all of its first's
 * payload size but a possibly smaller last). The run is then written as
 * the first packet's headers, patched by offload_gro_finish, followed by
 * the later packets' payloads. */
struct offload_gro {
	size_t hdr_len;			/* the first's IP and TCP (or UDP) */
	size_t payload;			/* payload bytes of the first */
	size_t total;			/* payload bytes so far */
	size_t count;
	uint8_t proto;			/* IPPROTO_TCP or IPPROTO_UDP */
	bool v6;
	bool closed;			/* the last packet was shorter */
};

/* Whether pkt is a TCP segment that could start a run (no fragments,
 * no IP options, no SYN, FIN, RST or URG), or with udp a UDP datagram
 * with a payload (no fragments, no IP options); fills g for it. */
bool offload_gro_start(struct offload_gro *g, const uint8_t *pkt, size_t len,
		       bool udp);
/* Whether pkt belongs to the flow of the run of first (the same
 * protocol, addresses and ports), whether or not it continues the run. */
bool offload_gro_same_flow(const struct offload_gro *g, const uint8_t *first,
			   const uint8_t *pkt, size_t len);
/* Whether pkt continues the run of first; if so, counts it in g. The
 * payload of pkt begins at pkt + g->hdr_len. */
bool offload_gro_fits(struct offload_gro *g, const uint8_t *first,
		      const uint8_t *pkt, size_t len);
/* Patches the first packet's headers for the whole run (lengths, TCP's
 * PSH of the last, the pseudo-header checksum for NEEDS_CSUM) and fills the
 * virtio-net header that goes with it. */
void offload_gro_finish(const struct offload_gro *g, uint8_t *first,
			const uint8_t *last, struct offload_vnet_hdr *h);

#endif
