/* SPDX-License-Identifier: MIT */
/*
 * Ethernet for the tap backend (ether.h), sans I/O. It implements Ethernet II
 * framing (IEEE 802.3 with EtherType), ARP (RFC 826) with proxy answers
 * (RFC 1027) and the defence of an address against probes (RFC 5227 2.4),
 * IPv6 neighbour solicitation and advertisement (RFC 4861 4.3, 4.4, 7.1,
 * 7.2; 7.2.8 for proxies), the forwarding rules of RFC 1812 5.3.1 (TTL) and
 * RFC 8200 3 (hop limit), ICMP and ICMPv6 echo (RFC 792, RFC 4443 4), and
 * the Internet checksum (RFC 1071, RFC 1624 for the TTL update).
 */
#include "ether.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "inet.h"

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_ARP = 0x0806,
	ETHERTYPE_IPV6 = 0x86dd,
};

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

enum {
	ICMP_ECHO_REPLY = 0,
	ICMP_ECHO_REQUEST = 8,
	ICMP6_ECHO_REQUEST = 128,
	ICMP6_ECHO_REPLY = 129,
	ND_ROUTER_SOLICIT = 133,
	ND_ROUTER_ADVERT = 134,
	ND_NEIGHBOR_SOLICIT = 135,
	ND_NEIGHBOR_ADVERT = 136,
	ND_REDIRECT = 137,
	/* Type, code, checksum, flags or reserved, target. */
	ND_MSG_LEN = 24,
	ND_OPT_SOURCE_LLADDR = 1,
	ND_OPT_TARGET_LLADDR = 2,
	ND_OPT_LLADDR_LEN = 8,
	NA_FLAG_ROUTER = 0x80,
	NA_FLAG_SOLICITED = 0x40,
	NA_FLAG_OVERRIDE = 0x20,
	ND_HOP_LIMIT = 255,
	DEFAULT_TTL = 64,
};

/* Ethernet's shortest frame without its FCS: shorter ones are padded. */
#define ETHER_MIN_FRAME 60
/* How often the table is searched for entries past their time. */
#define ETHER_SWEEP_NS (ETHER_SEC / 10)

enum neigh_state {
	NEIGH_FREE = 0,
	NEIGH_INCOMPLETE,	/* asked, no answer yet */
	NEIGH_REACHABLE,	/* answered; fresh until expires */
};

struct neigh {
	uint8_t state;
	uint8_t family;
	uint8_t addr[16];
	uint8_t mac[ETHER_ADDR_LEN];
	bool requested;		/* last_request holds a time */
	unsigned int n_pending;
	uint64_t expires;	/* reachable: stale then; incomplete: give up */
	uint64_t last_request;
	uint64_t used;		/* for choosing whom to evict */
};

struct pending {
	int neigh;		/* its next hop, or -1 when the slot is free */
	uint64_t seq;		/* arrival order, kept when flushing */
	size_t len;
	uint8_t data[ETHER_PENDING_LEN];
};

struct ether_if {
	bool has_addr;
	bool has_gateway;
	unsigned int prefixlen;
	uint8_t addr[16];
	uint8_t gateway[16];
};

struct ether {
	uint8_t mac[ETHER_ADDR_LEN];
	ether_emit_fn emit;
	void *ctx;
	struct ether_if v4, v6;
	bool proxy;
	unsigned int mtu;
	struct ether_prefix *routes;
	size_t n_routes;
	struct neigh neigh[ETHER_NEIGH_MAX];
	size_t n_neigh;
	int last_hit;
	struct pending pending[ETHER_PENDING_MAX];
	size_t n_pending;
	uint64_t pending_seq;
	uint64_t last_sweep;
	uint64_t stats[ETHER_VERDICT_COUNT];
	/* Every frame is built here, the packet at tx + ETHER_HDR_LEN. */
	uint8_t tx[ETHER_FRAME_MAX];
};

static const uint8_t broadcast_mac[ETHER_ADDR_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff
};
static const uint8_t all_nodes6[16] = {
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
};

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

static bool mac_is_group(const uint8_t *mac)
{
	return mac[0] & 1;
}

static bool prefix_covers(const uint8_t *prefix, unsigned int len,
			  const uint8_t *addr)
{
	size_t bytes = len / 8;
	unsigned int bits = len % 8;

	if (memcmp(prefix, addr, bytes) != 0)
		return false;
	if (!bits)
		return true;
	return ((prefix[bytes] ^ addr[bytes]) & (0xff00 >> bits)) == 0;
}

static struct ether_if *iface(struct ether *e, int family)
{
	return family == AF_INET ? &e->v4 : &e->v6;
}

static bool is_own(const struct ether_if *i, const uint8_t *addr, size_t n)
{
	return i->has_addr && memcmp(i->addr, addr, n) == 0;
}

static bool on_link(const struct ether_if *i, const uint8_t *addr)
{
	return i->has_addr && prefix_covers(i->addr, i->prefixlen, addr);
}

static bool is_link_local6(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

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

/* An address we answer for on behalf of the tunnel: on the segment, not
 * ours, and covered by a tunnel prefix more specific than the segment's,
 * so that a peer routing everything (0.0.0.0/0) never claims the whole
 * segment. */
static bool is_proxied(const struct ether *e, int family, const uint8_t *addr)
{
	const struct ether_if *i = family == AF_INET ? &e->v4 : &e->v6;

	if (!e->proxy || !on_link(i, addr) ||
	    is_own(i, addr, addr_len(family)))
		return false;
	for (size_t k = 0; k < e->n_routes; k++) {
		const struct ether_prefix *r = &e->routes[k];

		if (r->family == family && r->len > i->prefixlen &&
		    prefix_covers(r->addr, r->len, addr))
			return true;
	}
	return false;
}

/* ICMPv6's checksum covers a pseudo-header (RFC 8200 8.1). */
static uint16_t csum_icmp6(const uint8_t *src, const uint8_t *dst,
			   const uint8_t *msg, size_t len)
{
	uint64_t acc = inet_pseudo_sum(src, dst, 16, IPPROTO_ICMPV6, len);

	return inet_csum_fold(inet_csum_add(acc, msg, len));
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

static enum ether_verdict count(struct ether *e, enum ether_verdict v)
{
	e->stats[v]++;
	return v;
}

/* Frames the packet already at tx + ETHER_HDR_LEN and emits it. */
static void emit_frame(struct ether *e, const uint8_t *dst, uint16_t type,
		       size_t len)
{
	size_t total = ETHER_HDR_LEN + len;

	memcpy(e->tx, dst, ETHER_ADDR_LEN);
	memcpy(e->tx + ETHER_ADDR_LEN, e->mac, ETHER_ADDR_LEN);
	inet_put16(e->tx + 2 * ETHER_ADDR_LEN, type);
	if (total < ETHER_MIN_FRAME) {
		memset(e->tx + total, 0, ETHER_MIN_FRAME - total);
		total = ETHER_MIN_FRAME;
	}
	e->emit(e->ctx, e->tx, total);
}

static uint16_t ethertype_of(int family)
{
	return family == AF_INET ? ETHERTYPE_IPV4 : ETHERTYPE_IPV6;
}

/* Neighbours. */

static int neigh_find(struct ether *e, int family, const uint8_t *addr)
{
	size_t n = addr_len(family);
	struct neigh *hit = &e->neigh[e->last_hit];

	if (hit->state != NEIGH_FREE && hit->family == family &&
	    memcmp(hit->addr, addr, n) == 0)
		return e->last_hit;
	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		struct neigh *nb = &e->neigh[i];

		if (nb->state != NEIGH_FREE && nb->family == family &&
		    memcmp(nb->addr, addr, n) == 0) {
			e->last_hit = i;
			return i;
		}
	}
	return -1;
}

static void pending_drop(struct ether *e, struct pending *p)
{
	e->neigh[p->neigh].n_pending--;
	p->neigh = -1;
	e->n_pending--;
}

static void neigh_free(struct ether *e, int idx)
{
	for (size_t k = 0; k < ETHER_PENDING_MAX; k++) {
		if (e->pending[k].neigh == idx) {
			pending_drop(e, &e->pending[k]);
			e->stats[ETHER_UNRESOLVED]++;
		}
	}
	memset(&e->neigh[idx], 0, sizeof(e->neigh[idx]));
	e->n_neigh--;
}

/* Frees entries past their time; cheap enough to run every so often. */
static void sweep(struct ether *e, uint64_t now)
{
	if (now - e->last_sweep < ETHER_SWEEP_NS && now >= e->last_sweep)
		return;
	e->last_sweep = now;
	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		if (e->neigh[i].state != NEIGH_FREE &&
		    now >= e->neigh[i].expires)
			neigh_free(e, i);
	}
}

/* A free entry, making room if needed: the least recently used resolved
 * neighbour goes first, an unanswered one only when all are. */
static int neigh_alloc(struct ether *e)
{
	int victim = -1;

	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		const struct neigh *nb = &e->neigh[i];

		if (nb->state == NEIGH_FREE)
			return i;
		if (victim < 0 ||
		    (nb->state == NEIGH_REACHABLE &&
		     e->neigh[victim].state != NEIGH_REACHABLE) ||
		    (nb->state == e->neigh[victim].state &&
		     nb->used < e->neigh[victim].used))
			victim = i;
	}
	neigh_free(e, victim);
	return victim;
}

static int neigh_create(struct ether *e, uint64_t now, int family,
			const uint8_t *addr)
{
	int idx = neigh_alloc(e);
	struct neigh *nb = &e->neigh[idx];

	memset(nb, 0, sizeof(*nb));
	nb->state = NEIGH_INCOMPLETE;
	nb->family = (uint8_t)family;
	memcpy(nb->addr, addr, addr_len(family));
	nb->expires = now + ETHER_GIVE_UP_NS;
	nb->used = now;
	e->n_neigh++;
	e->last_hit = idx;
	return idx;
}

/* Sends the packets waiting for a neighbour that just answered, in the
 * order they came. */
static void flush_pending(struct ether *e, int idx)
{
	const struct neigh *nb = &e->neigh[idx];

	while (nb->n_pending) {
		struct pending *first = NULL;

		for (size_t k = 0; k < ETHER_PENDING_MAX; k++) {
			struct pending *p = &e->pending[k];

			if (p->neigh == idx && (!first || p->seq < first->seq))
				first = p;
		}
		if (!first)
			break;
		memcpy(e->tx + ETHER_HDR_LEN, first->data, first->len);
		pending_drop(e, first);
		emit_frame(e, nb->mac, ethertype_of(nb->family), first->len);
	}
}

/* Records a neighbour's MAC: an entry that exists is refreshed, and one is
 * made when create says the neighbour is talking to us. */
static bool learn(struct ether *e, uint64_t now, int family,
		  const uint8_t *addr, const uint8_t *mac, bool create)
{
	int idx = neigh_find(e, family, addr);
	struct neigh *nb;
	bool was_waiting;

	if (idx < 0) {
		if (!create)
			return false;
		idx = neigh_create(e, now, family, addr);
	}
	nb = &e->neigh[idx];
	was_waiting = nb->state == NEIGH_INCOMPLETE;
	memcpy(nb->mac, mac, ETHER_ADDR_LEN);
	nb->state = NEIGH_REACHABLE;
	nb->expires = now + ETHER_REACHABLE_NS;
	nb->requested = false;
	if (was_waiting)
		flush_pending(e, idx);
	return true;
}

/* Requests. */

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
	emit_frame(e, eth_dst, ETHERTYPE_ARP, ARP_LEN);
}

/* An IPv6 header for an ICMPv6 message of len bytes at tx + 14 + 40,
 * then the message's checksum, then the frame. */
static void send_icmp6(struct ether *e, const uint8_t *eth_dst,
		       const uint8_t *src, const uint8_t *dst, uint8_t hops,
		       size_t len)
{
	uint8_t *ip = e->tx + ETHER_HDR_LEN, *msg = ip + IPV6_HDR_LEN;

	inet_ipv6_write_header(ip, len, IPPROTO_ICMPV6, hops, src, dst);
	inet_put16(msg + ICMP_OFF_CHECKSUM, 0);
	inet_csum_put(msg + ICMP_OFF_CHECKSUM, csum_icmp6(src, dst, msg, len));
	emit_frame(e, eth_dst, ETHERTYPE_IPV6, IPV6_HDR_LEN + len);
}

static void send_ns(struct ether *e, const uint8_t *target,
		    const uint8_t *unicast_mac)
{
	uint8_t *msg = e->tx + ETHER_HDR_LEN + IPV6_HDR_LEN;
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
	memset(msg, 0, ND_MSG_LEN);
	msg[0] = ND_NEIGHBOR_SOLICIT;
	memcpy(msg + 8, target, 16);
	msg[ND_MSG_LEN] = ND_OPT_SOURCE_LLADDR;
	msg[ND_MSG_LEN + 1] = 1;
	memcpy(msg + ND_MSG_LEN + 2, e->mac, ETHER_ADDR_LEN);
	send_icmp6(e, eth_dst, e->v6.addr, dst, ND_HOP_LIMIT,
		   ND_MSG_LEN + ND_OPT_LLADDR_LEN);
}

static void send_na(struct ether *e, const uint8_t *eth_dst,
		    const uint8_t *dst, const uint8_t *target, uint8_t flags)
{
	uint8_t *msg = e->tx + ETHER_HDR_LEN + IPV6_HDR_LEN;

	memset(msg, 0, ND_MSG_LEN);
	msg[0] = ND_NEIGHBOR_ADVERT;
	msg[4] = flags;
	memcpy(msg + 8, target, 16);
	msg[ND_MSG_LEN] = ND_OPT_TARGET_LLADDR;
	msg[ND_MSG_LEN + 1] = 1;
	memcpy(msg + ND_MSG_LEN + 2, e->mac, ETHER_ADDR_LEN);
	/* From an address of ours (RFC 4861 7.2.4), for a proxied
	 * target too. */
	send_icmp6(e, eth_dst, e->v6.addr, dst, ND_HOP_LIMIT,
		   ND_MSG_LEN + ND_OPT_LLADDR_LEN);
}

/* Asks for a neighbour's MAC: broadcast (or the solicited-node group), or
 * straight to the MAC we have when refreshing it. */
static void request(struct ether *e, uint64_t now, int idx, bool unicast)
{
	struct neigh *nb = &e->neigh[idx];
	static const uint8_t zero_mac[ETHER_ADDR_LEN];

	nb->requested = true;
	nb->last_request = now;
	if (nb->family == AF_INET)
		send_arp(e, unicast ? nb->mac : broadcast_mac, ARP_REQUEST,
			 e->v4.addr, zero_mac, nb->addr);
	else
		send_ns(e, nb->addr, unicast ? nb->mac : NULL);
}

static bool may_request(const struct neigh *nb, uint64_t now)
{
	return !nb->requested || now - nb->last_request >= ETHER_RETRY_NS;
}

/* Sends the len-byte packet at tx + ETHER_HDR_LEN to nexthop, or keeps it
 * until the next hop answers. */
static enum ether_verdict xmit(struct ether *e, uint64_t now, int family,
			       const uint8_t *nexthop, size_t len)
{
	int idx = neigh_find(e, family, nexthop);
	struct neigh *nb;
	enum ether_verdict v = ETHER_UNRESOLVED;

	if (idx >= 0 && e->neigh[idx].state == NEIGH_REACHABLE &&
	    now < e->neigh[idx].expires) {
		nb = &e->neigh[idx];
		nb->used = now;
		emit_frame(e, nb->mac, ethertype_of(family), len);
		if (nb->expires - now <= ETHER_REFRESH_NS &&
		    may_request(nb, now))
			request(e, now, idx, true);
		return ETHER_SENT;
	}
	if (idx < 0) {
		idx = neigh_create(e, now, family, nexthop);
	} else if (e->neigh[idx].state == NEIGH_REACHABLE) {
		/* Stale: ask afresh, as if never seen. */
		e->neigh[idx].state = NEIGH_INCOMPLETE;
		e->neigh[idx].expires = now + ETHER_GIVE_UP_NS;
		e->neigh[idx].requested = false;
	}
	nb = &e->neigh[idx];
	nb->used = now;
	if (len <= ETHER_PENDING_LEN && e->n_pending < ETHER_PENDING_MAX &&
	    nb->n_pending < ETHER_PENDING_PER_NEIGH) {
		for (size_t k = 0; k < ETHER_PENDING_MAX; k++) {
			struct pending *p = &e->pending[k];

			if (p->neigh >= 0)
				continue;
			p->neigh = idx;
			p->seq = e->pending_seq++;
			p->len = len;
			memcpy(p->data, e->tx + ETHER_HDR_LEN, len);
			nb->n_pending++;
			e->n_pending++;
			v = ETHER_QUEUED;
			break;
		}
	}
	/* The request reuses tx: the packet is kept (or dropped) by now. */
	if (may_request(nb, now))
		request(e, now, idx, false);
	return v;
}

/* Input. */

static enum ether_verdict arp_input(struct ether *e, uint64_t now,
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
	proxied = !for_us && is_proxied(e, AF_INET, tpa);
	if (!spa_zero && on_link(&e->v4, spa))
		learned = learn(e, now, AF_INET, spa, sha,
				op == ARP_REQUEST && (for_us || proxied));
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
	emit_frame(e, eth_src, ETHERTYPE_IPV4, IPV4_HDR_LEN + icmp_len);
	return ETHER_ANSWERED;
}

static enum ether_verdict ipv4_input(struct ether *e, const uint8_t *eth_src,
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
	    csum_icmp6(ip + IPV6_OFF_SRC, ip + IPV6_OFF_DST, msg, mlen) != 0)
		return ETHER_IGNORED;
	memcpy(src, ip + IPV6_OFF_SRC, sizeof(src));
	memmove(out, msg, mlen);
	out[0] = ICMP6_ECHO_REPLY;
	send_icmp6(e, eth_src, e->v6.addr, src, DEFAULT_TTL, mlen);
	return ETHER_ANSWERED;
}

static enum ether_verdict nd_input(struct ether *e, uint64_t now,
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
	    csum_icmp6(src, dst, msg, mlen) != 0 || target[0] == 0xff)
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
		return learn(e, now, AF_INET6, target, lladdr, false) ?
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
	proxied = !for_us && is_proxied(e, AF_INET6, target);
	if (!src_unspecified && lladdr &&
	    (on_link(&e->v6, src) || is_link_local6(src)))
		learned = learn(e, now, AF_INET6, src, lladdr,
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

static enum ether_verdict ipv6_input(struct ether *e, uint64_t now,
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
			return nd_input(e, now, eth_src, ip, total);
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

enum ether_verdict ether_input(struct ether *e, uint64_t now, uint8_t *frame,
			       size_t len, size_t *off, size_t *pkt_len)
{
	const uint8_t *dst = frame, *src = frame + ETHER_ADDR_LEN;
	uint8_t eth_src[ETHER_ADDR_LEN];
	uint8_t *payload = frame + ETHER_HDR_LEN;
	size_t n;
	bool unicast;

	sweep(e, now);
	*off = ETHER_HDR_LEN;
	*pkt_len = 0;
	if (len < ETHER_HDR_LEN)
		return count(e, ETHER_MALFORMED);
	n = len - ETHER_HDR_LEN;
	if (mac_is_group(src) || is_zero(src, ETHER_ADDR_LEN))
		return count(e, ETHER_MALFORMED);
	if (memcmp(src, e->mac, ETHER_ADDR_LEN) == 0)
		return count(e, ETHER_IGNORED);
	unicast = memcmp(dst, e->mac, ETHER_ADDR_LEN) == 0;
	if (!unicast && !mac_is_group(dst))
		return count(e, ETHER_IGNORED);
	/* Answers are built in tx; keep the sender apart from the frame. */
	memcpy(eth_src, src, sizeof(eth_src));
	switch (inet_get16(frame + 2 * ETHER_ADDR_LEN)) {
	case ETHERTYPE_ARP:
		return count(e, arp_input(e, now, payload, n));
	case ETHERTYPE_IPV4:
		if (!unicast)
			return count(e, ETHER_IGNORED);
		return count(e, ipv4_input(e, eth_src, payload, n, pkt_len));
	case ETHERTYPE_IPV6:
		return count(e, ipv6_input(e, now, eth_src, unicast, payload,
					   n, pkt_len));
	default:
		return count(e, ETHER_IGNORED);
	}
}

/* Output. */

static enum ether_verdict output4(struct ether *e, uint64_t now,
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
	if (on_link(&e->v4, dst))
		nexthop = dst;
	else if (e->v4.has_gateway)
		nexthop = e->v4.gateway;
	else
		return ETHER_NO_ROUTE;
	if (total > e->mtu)
		return ETHER_TOO_BIG;
	if (ip[IPV4_OFF_TTL] <= 1)
		return ETHER_TTL_EXPIRED;
	memcpy(e->tx + ETHER_HDR_LEN, ip, total);
	ether_ipv4_dec_ttl(e->tx + ETHER_HDR_LEN);
	return xmit(e, now, AF_INET, nexthop, total);
}

static enum ether_verdict output6(struct ether *e, uint64_t now,
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
	if (on_link(&e->v6, dst))
		nexthop = dst;
	else if (e->v6.has_gateway)
		nexthop = e->v6.gateway;
	else
		return ETHER_NO_ROUTE;
	if (total > e->mtu)
		return ETHER_TOO_BIG;
	if (ip[IPV6_OFF_HOP_LIMIT] <= 1)
		return ETHER_TTL_EXPIRED;
	memcpy(e->tx + ETHER_HDR_LEN, ip, total);
	e->tx[ETHER_HDR_LEN + IPV6_OFF_HOP_LIMIT]--;
	return xmit(e, now, AF_INET6, nexthop, total);
}

enum ether_verdict ether_output(struct ether *e, uint64_t now,
				const uint8_t *pkt, size_t len)
{
	sweep(e, now);
	if (len < 1)
		return count(e, ETHER_MALFORMED);
	switch (inet_version(pkt)) {
	case 4:
		return count(e, output4(e, now, pkt, len));
	case 6:
		return count(e, output6(e, now, pkt, len));
	default:
		return count(e, ETHER_MALFORMED);
	}
}

void ether_announce(struct ether *e)
{
	static const uint8_t zero_mac[ETHER_ADDR_LEN];

	if (e->v4.has_addr)
		send_arp(e, broadcast_mac, ARP_REQUEST, e->v4.addr, zero_mac,
			 e->v4.addr);
	if (e->v6.has_addr) {
		uint8_t target[16];

		memcpy(target, e->v6.addr, sizeof(target));
		send_na(e, (const uint8_t[]){ 0x33, 0x33, 0, 0, 0, 1 },
			all_nodes6, target, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE);
	}
}

/* Set-up. */

struct ether *ether_new(const uint8_t mac[ETHER_ADDR_LEN], ether_emit_fn emit,
			void *ctx)
{
	struct ether *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	memcpy(e->mac, mac, ETHER_ADDR_LEN);
	e->emit = emit;
	e->ctx = ctx;
	e->mtu = ETHER_MTU_DEFAULT;
	for (size_t k = 0; k < ETHER_PENDING_MAX; k++)
		e->pending[k].neigh = -1;
	return e;
}

void ether_free(struct ether *e)
{
	if (!e)
		return;
	free(e->routes);
	free(e);
}

int ether_set_address(struct ether *e, int family, const uint8_t *addr,
		      unsigned int prefixlen)
{
	struct ether_if *i;
	size_t n;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	n = addr_len(family);
	if (prefixlen > n * 8 || is_zero(addr, n) ||
	    (family == AF_INET && addr[0] >= 224) ||
	    (family == AF_INET6 && addr[0] == 0xff))
		return -EINVAL;
	i = iface(e, family);
	if (i->has_addr)
		return memcmp(i->addr, addr, n) == 0 &&
				       i->prefixlen == prefixlen ?
			       0 :
			       -EEXIST;
	memcpy(i->addr, addr, n);
	i->prefixlen = prefixlen;
	i->has_addr = true;
	return 0;
}

int ether_set_gateway(struct ether *e, int family, const uint8_t *addr)
{
	struct ether_if *i;
	size_t n;

	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	n = addr_len(family);
	if (is_zero(addr, n) || (family == AF_INET && addr[0] >= 224) ||
	    (family == AF_INET6 && addr[0] == 0xff))
		return -EINVAL;
	i = iface(e, family);
	memcpy(i->gateway, addr, n);
	i->has_gateway = true;
	return 0;
}

void ether_set_proxy(struct ether *e, bool on)
{
	e->proxy = on;
}

int ether_set_mtu(struct ether *e, unsigned int mtu)
{
	if (mtu < 68 || mtu > ETHER_MTU_MAX)
		return -EINVAL;
	e->mtu = mtu;
	return 0;
}

int ether_set_tunnel_routes(struct ether *e, const struct ether_prefix *routes,
			    size_t n)
{
	struct ether_prefix *copy = NULL;

	if (n) {
		copy = calloc(n, sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, routes, n * sizeof(*copy));
	}
	free(e->routes);
	e->routes = copy;
	e->n_routes = n;
	return 0;
}

void ether_get_mac(const struct ether *e, uint8_t mac[ETHER_ADDR_LEN])
{
	memcpy(mac, e->mac, ETHER_ADDR_LEN);
}

bool ether_neigh_lookup(const struct ether *e, uint64_t now, int family,
			const uint8_t *addr, uint8_t mac[ETHER_ADDR_LEN])
{
	size_t n = addr_len(family);

	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		const struct neigh *nb = &e->neigh[i];

		if (nb->state == NEIGH_REACHABLE && nb->family == family &&
		    memcmp(nb->addr, addr, n) == 0 && now < nb->expires) {
			memcpy(mac, nb->mac, ETHER_ADDR_LEN);
			return true;
		}
	}
	return false;
}

size_t ether_neigh_count(const struct ether *e)
{
	return e->n_neigh;
}

size_t ether_pending_count(const struct ether *e)
{
	return e->n_pending;
}

const uint64_t *ether_stats(const struct ether *e)
{
	return e->stats;
}
