/* SPDX-License-Identifier: MIT */
/*
 * The neighbour cache (ether_neigh.h), as RFC 4861 7.3 describes its
 * states in small: incomplete while asked, reachable for
 * ETHER_REACHABLE_NS after an answer, asked again (unicast) when traffic
 * finds it close to expiry, and given up with its waiting packets after
 * ETHER_GIVE_UP_NS without one. ARP (RFC 826) resolves IPv4 next hops,
 * neighbour solicitation IPv6 ones.
 */
#include "ether_neigh.h"

#include <string.h>

#include "ether_arp.h"
#include "ether_nd.h"

/* How often the table is searched for entries past their time. */
#define ETHER_SWEEP_NS (ETHER_SEC / 10)

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

void ether_neigh_sweep(struct ether *e, uint64_t now)
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
		ether_emit_frame(e, nb->mac, ethertype_of(nb->family),
				 first->len);
	}
}

bool ether_neigh_learn(struct ether *e, uint64_t now, int family,
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

/* Asks for a neighbour's MAC: broadcast (or the solicited-node group), or
 * straight to the MAC we have when refreshing it. */
static void request(struct ether *e, uint64_t now, int idx, bool unicast)
{
	struct neigh *nb = &e->neigh[idx];
	const uint8_t *mac = unicast ? nb->mac : NULL;

	nb->requested = true;
	nb->last_request = now;
	if (nb->family == AF_INET)
		ether_arp_request(e, nb->addr, mac);
	else
		ether_nd_solicit(e, nb->addr, mac);
}

static bool may_request(const struct neigh *nb, uint64_t now)
{
	return !nb->requested || now - nb->last_request >= ETHER_RETRY_NS;
}

enum ether_verdict ether_neigh_xmit(struct ether *e, uint64_t now, int family,
				    const uint8_t *nexthop, size_t len)
{
	int idx = neigh_find(e, family, nexthop);
	struct neigh *nb;
	enum ether_verdict v = ETHER_UNRESOLVED;

	if (idx >= 0 && e->neigh[idx].state == NEIGH_REACHABLE &&
	    now < e->neigh[idx].expires) {
		nb = &e->neigh[idx];
		nb->used = now;
		ether_emit_frame(e, nb->mac, ethertype_of(family), len);
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
