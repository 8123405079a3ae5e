/* SPDX-License-Identifier: MIT */
/*
 * IP forwarding for the tap backend's router (ether_priv.h): unicast
 * packets from the segment to the tunnel with the TTL or hop limit lowered,
 * packets from the tunnel framed for their next hop (the destination on the
 * segment, else the gateway), and echo requests to our own address
 * answered.
 */
#ifndef UNIGUARD_ETHER_FORWARD_H
#define UNIGUARD_ETHER_FORWARD_H

#include "ether_priv.h"

/* An IPv4 packet of up to n bytes from the segment (ip is changed in
 * place): with ETHER_TO_TUNNEL, *pkt_len is its length. */
enum ether_verdict ether_ipv4_input(struct ether *e, const uint8_t *eth_src,
				    uint8_t *ip, size_t n, size_t *pkt_len);
/* The same for IPv6; unicast says the frame was sent to our MAC.
 * Neighbour discovery goes to ether_nd.c. */
enum ether_verdict ether_ipv6_input(struct ether *e, uint64_t now,
				    const uint8_t *eth_src, bool unicast,
				    uint8_t *ip, size_t n, size_t *pkt_len);
/* A packet from the tunnel, for its next hop. */
enum ether_verdict ether_ipv4_output(struct ether *e, uint64_t now,
				     const uint8_t *ip, size_t len);
enum ether_verdict ether_ipv6_output(struct ether *e, uint64_t now,
				     const uint8_t *ip, size_t len);

#endif
