/* SPDX-License-Identifier: MIT */
/*
 * Shared by the suites of the tap backend's Ethernet router
 * (test_ether*.c, one per file of netdev/ether*.c).
 */
#ifndef UNIGUARD_ETHER_FIXTURES_H
#define UNIGUARD_ETHER_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ether.h"
#include "support.h"

#define S ETHER_SEC

/* Known answers: frames built independently of this code (a short script
 * packing each header by hand), our MAC 02:00:00:00:00:01, the host's
 * 52:54:00:12:34:56, the segment 10.240.0.0/16 and fd00:240::/64. */
extern const char arp_request_own[], arp_reply_own[], arp_reply_proxy[];
extern const char arp_request_ours[], arp_reply_host[];
extern const char ns_own[], na_own[], ns_ours[], na_host[];
/* 10.0.0.2 -> 10.240.0.2, ICMP echo, TTL 64, from the tunnel; and framed
 * for the host with TTL 63. */
extern const char tunnel_ping[], tunnel_ping_framed[];
extern const char echo_to_us[], echo_reply_ours[];
extern const char echo6_to_us[], echo6_reply_ours[];

extern const uint8_t our_mac[6], host_mac[6];
extern const uint8_t own4[4], host4[4], own6[16], host6[16];

/* The frames emitted, as a fake driver would see them. */
#define ETHER_TEST_MAX_FRAMES 64
extern uint8_t frames[ETHER_TEST_MAX_FRAMES][ETHER_FRAME_MAX];
extern size_t frame_len[ETHER_TEST_MAX_FRAMES];
extern size_t n_frames;

/* A router with our addresses, recording into frames (emptied). */
struct ether *make(bool proxy);
/* Feeds a frame given as hex; returns the verdict. */
enum ether_verdict feed(struct ether *e, uint64_t now, const char *hex,
			uint8_t *buf, size_t *off, size_t *len);
enum ether_verdict feed_hex(struct ether *e, uint64_t now, const char *hex);
/* An IP packet given as hex, from the tunnel. */
enum ether_verdict send_hex(struct ether *e, uint64_t now, const char *hex);
/* An ARP request or reply (op) from host (mac, spa) for tpa, as a frame
 * of 60 bytes. */
size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *mac,
		 const uint8_t *spa, const uint8_t *tpa);
/* The complemented Internet checksum of p[0..n), as a number. */
uint16_t sum16(const uint8_t *p, size_t n);
/* A minimal IPv4 packet to dst, its header checksum filled. */
size_t ipv4_packet(uint8_t *p, const uint8_t *src, const uint8_t *dst,
		   uint8_t ttl, size_t len);

#endif
