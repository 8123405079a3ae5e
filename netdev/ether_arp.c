/* SPDX-License-Identifier: MIT */
/*
 * ARP (ether_arp.h): RFC 826 for IPv4 over Ethernet, with proxy answers
 * (RFC 1027) and the defence of an address against probes (RFC 5227 2.4).
 */
#include "ether_arp.h"

#include <string.h>

#include "ether_neigh.h"
#include "inet.h"

/* ARP for IPv4 over Ethernet: 28 bytes. */
enum {
	ARP_OFF_HTYPE = 0,
	ARP_OFF_PTYPE = 2,
	ARP_OFF_HLEN = 4,
	ARP_OFF_PLEN = 5,
	ARP_OFF_OP = 6,
	ARP_OFF_SHA = 8,
	ARP_OFF_SPA = 14,
	ARP_OFF_THA = 18,
	ARP_OFF_TPA = 24,
	ARP_LEN = 28,
	ARP_HTYPE_ETHER = 1,
	ARP_REQUEST = 1,
	ARP_REPLY = 2,
};

static const uint8_t broadcast_mac[ETHER_ADDR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const uint8_t zero_mac[ETHER_ADDR_LEN];

static void send_arp(struct ether *e, const uint8_t *eth_dst, uint16_t op,
		     const uint8_t *spa, const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *a = e->tx + ETHER_HDR_LEN;

	inet_put16(a + ARP_OFF_HTYPE, ARP_HTYPE_ETHER);
	inet_put16(a + ARP_OFF_PTYPE, ETHERTYPE_IPV4);
	a[ARP_OFF_HLEN] = ETHER_ADDR_LEN;
	a[ARP_OFF_PLEN] = 4;
	inet_put16(a + ARP_OFF_OP, op);
	memcpy(a + ARP_OFF_SHA, e->mac, ETHER_ADDR_LEN);
	memcpy(a + ARP_OFF_SPA, spa, 4);
	memcpy(a + ARP_OFF_THA, tha, ETHER_ADDR_LEN);
	memcpy(a + ARP_OFF_TPA, tpa, 4);
	ether_emit_frame(e, eth_dst, ETHERTYPE_ARP, ARP_LEN);
}

void ether_arp_request(struct ether *e, const uint8_t *target,
		       const uint8_t *unicast_mac)
{
	send_arp(e, unicast_mac ? unicast_mac : broadcast_mac, ARP_REQUEST,
		 e->v4.addr, zero_mac, target);
}

void ether_arp_announce(struct ether *e)
{
	if (e->v4.has_addr)
		send_arp(e, broadcast_mac, ARP_REQUEST, e->v4.addr, zero_mac,
			 e->v4.addr);
}

enum ether_verdict ether_arp_input(struct ether *e, uint64_t now,
				   const uint8_t *a, size_t n)
{
	const uint8_t *sha = a + ARP_OFF_SHA, *spa = a + ARP_OFF_SPA;
	const uint8_t *tpa = a + ARP_OFF_TPA;
	uint16_t op;
	bool for_us, proxied, spa_zero, learned = false;

	if (n < ARP_LEN || inet_get16(a + ARP_OFF_HTYPE) != ARP_HTYPE_ETHER ||
	    inet_get16(a + ARP_OFF_PTYPE) != ETHERTYPE_IPV4 ||
	    a[ARP_OFF_HLEN] != ETHER_ADDR_LEN || a[ARP_OFF_PLEN] != 4)
		return ETHER_MALFORMED;
	op = inet_get16(a + ARP_OFF_OP);
	if ((op != ARP_REQUEST && op != ARP_REPLY) || mac_is_group(sha) ||
	    is_zero(sha, ETHER_ADDR_LEN))
		return ETHER_MALFORMED;
	if (!e->v4.has_addr || memcmp(sha, e->mac, ETHER_ADDR_LEN) == 0)
		return ETHER_IGNORED;
	spa_zero = is_zero(spa, 4);
	/* Someone else claims our address: that is the operator's to
	 * sort out, not ours to fight over. */
	if (is_own(&e->v4, spa, 4))
		return ETHER_IGNORED;
	for_us = is_own(&e->v4, tpa, 4);
	proxied = !for_us && ether_is_proxied(e, AF_INET, tpa);
	if (!spa_zero && on_link(&e->v4, spa))
		learned = ether_neigh_learn(e, now, AF_INET, spa, sha,
					    op == ARP_REQUEST &&
						    (for_us || proxied));
	/* A host announcing tpa as its own (gratuitous ARP) is not asking;
	 * a probe (sender 0.0.0.0) is, and hears that the address is
	 * taken. */
	if (op == ARP_REQUEST && (for_us || proxied) &&
	    (spa_zero || memcmp(spa, tpa, 4) != 0)) {
		uint8_t tha[ETHER_ADDR_LEN], reply_tpa[4], target[4];

		memcpy(tha, sha, sizeof(tha));
		memcpy(reply_tpa, spa, sizeof(reply_tpa));
		memcpy(target, tpa, sizeof(target));
		send_arp(e, tha, ARP_REPLY, target, tha, reply_tpa);
		return ETHER_ANSWERED;
	}
	return learned ? ETHER_LEARNED : ETHER_IGNORED;
}
