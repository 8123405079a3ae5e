/* SPDX-License-Identifier: MIT */
/*
 * Peer lifetime, keypair rotation (whitepaper section 5.4.6: a responder
 * may not send with a new session until the initiator's first data packet
 * confirms it), the public-key table and the receiver-index table.
 */
#include "peer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "device.h"

/* Receiver indices are random, so their low bits spread evenly. */
static size_t index_bucket(const struct wg_device *dev, uint32_t index)
{
	return index & dev->index_mask;
}

static size_t key_bucket(const struct wg_device *dev, const uint8_t key[WG_KEY_LEN])
{
	return (size_t)wg_shorthash(dev->key_hash_secret, key, WG_KEY_LEN) &
	       dev->key_mask;
}

struct wg_index_entry *wg_index_lookup(const struct wg_device *dev, uint32_t index)
{
	struct wg_index_entry *e;

	for (e = dev->index_buckets[index_bucket(dev, index)]; e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

void wg_index_remove(struct wg_device *dev, struct wg_index_entry *entry)
{
	struct wg_index_entry **pp;

	if (!entry->hashed)
		return;
	for (pp = &dev->index_buckets[index_bucket(dev, entry->index)]; *pp;
	     pp = &(*pp)->next) {
		if (*pp == entry) {
			*pp = entry->next;
			break;
		}
	}
	entry->next = NULL;
	entry->hashed = false;
}

uint32_t wg_index_assign(struct wg_device *dev, struct wg_index_entry *entry)
{
	uint32_t index;

	wg_index_remove(dev, entry);
	do {
		dev->env.random(dev->env.ctx, &index, sizeof(index));
	} while (wg_index_lookup(dev, index));
	entry->index = index;
	entry->next = dev->index_buckets[index_bucket(dev, index)];
	dev->index_buckets[index_bucket(dev, index)] = entry;
	entry->hashed = true;
	return index;
}

static size_t pow2_at_least(size_t n)
{
	size_t p = 64;

	while (p < n)
		p <<= 1;
	return p;
}

int wg_peer_tables_reserve(struct wg_device *dev, size_t n_peers)
{
	/* Four indices per peer at most (a handshake and three keypairs); a
	 * load factor of one keeps chains short. */
	size_t want_keys = pow2_at_least(n_peers);
	size_t want_index = pow2_at_least(4 * n_peers);

	if (want_keys > dev->key_mask + 1) {
		struct wg_peer **b = calloc(want_keys, sizeof(*b));
		if (!b)
			return -ENOMEM;
		struct wg_peer **old = dev->key_buckets;
		size_t old_n = dev->key_mask + 1;
		dev->key_buckets = b;
		dev->key_mask = want_keys - 1;
		for (size_t i = 0; old && i < old_n; i++) {
			struct wg_peer *p = old[i];
			while (p) {
				struct wg_peer *next = p->hash_next;
				size_t k = key_bucket(dev, p->public_key);
				p->hash_next = b[k];
				b[k] = p;
				p = next;
			}
		}
		free(old);
	}
	if (n_peers > dev->timer_heap_cap) {
		/* Grown by half again, so that adding peers one by one does
		 * not copy the heap each time. */
		size_t cap = n_peers + n_peers / 2 + 16;
		struct wg_peer **h = realloc(dev->timer_heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		dev->timer_heap = h;
		dev->timer_heap_cap = cap;
	}
	if (want_index > dev->index_mask + 1) {
		struct wg_index_entry **b = calloc(want_index, sizeof(*b));
		if (!b)
			return -ENOMEM;
		struct wg_index_entry **old = dev->index_buckets;
		size_t old_n = dev->index_mask + 1;
		dev->index_buckets = b;
		dev->index_mask = want_index - 1;
		for (size_t i = 0; old && i < old_n; i++) {
			struct wg_index_entry *e = old[i];
			while (e) {
				struct wg_index_entry *next = e->next;
				size_t k = index_bucket(dev, e->index);
				e->next = b[k];
				b[k] = e;
				e = next;
			}
		}
		free(old);
	}
	return 0;
}

struct wg_peer *wg_peer_lookup(const struct wg_device *dev,
			       const uint8_t public_key[WG_KEY_LEN])
{
	struct wg_peer *p;

	if (!dev->key_buckets)
		return NULL;
	for (p = dev->key_buckets[key_bucket(dev, public_key)]; p; p = p->hash_next)
		if (wg_equal(p->public_key, public_key, WG_KEY_LEN))
			return p;
	return NULL;
}

struct wg_peer *wg_peer_new(struct wg_device *dev, const uint8_t public_key[WG_KEY_LEN])
{
	void *mem;

	if (wg_peer_tables_reserve(dev, dev->n_peers + 1) < 0)
		return NULL;
	mem = wg_secret_alloc(&dev->env, sizeof(struct wg_peer));
	if (!mem)
		return NULL;
	return wg_peer_new_in(dev, public_key, mem);
}

struct wg_peer *wg_peer_new_in(struct wg_device *dev,
			       const uint8_t public_key[WG_KEY_LEN], void *mem)
{
	struct wg_peer *peer = memset(mem, 0, sizeof(struct wg_peer));

	peer->dev = dev;
	memcpy(peer->public_key, public_key, WG_KEY_LEN);
	wg_peer_label(public_key, peer->label);
	wg_noise_handshake_init_lazy(&peer->handshake, public_key, NULL);
	wg_cookie_maker_init(&peer->cookie, public_key);
	peer->handshake_index.peer = peer;
	peer->handshake_index.kind = WG_INDEX_HANDSHAKE;
	for (uint8_t i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		peer->keypair_index[i].peer = peer;
		peer->keypair_index[i].kind = WG_INDEX_KEYPAIR;
		peer->keypair_index[i].slot = i;
	}
	wg_timers_init(&peer->timers);

	size_t k = key_bucket(dev, public_key);
	peer->hash_next = dev->key_buckets[k];
	dev->key_buckets[k] = peer;
	peer->list_prev = dev->peers_tail;
	if (dev->peers_tail)
		dev->peers_tail->list_next = peer;
	else
		dev->peers_head = peer;
	dev->peers_tail = peer;
	dev->n_peers++;
	return peer;
}

void wg_peer_free(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	struct wg_peer **pp;

	wg_peer_zero_keys(peer);
	wg_peer_purge_staged(peer);
	wg_allowedips_remove_by_owner(dev->allowedips, &peer->allowedips);
	for (pp = &dev->key_buckets[key_bucket(dev, peer->public_key)]; *pp;
	     pp = &(*pp)->hash_next) {
		if (*pp == peer) {
			*pp = peer->hash_next;
			break;
		}
	}
	if (peer->list_prev)
		peer->list_prev->list_next = peer->list_next;
	else
		dev->peers_head = peer->list_next;
	if (peer->list_next)
		peer->list_next->list_prev = peer->list_prev;
	else
		dev->peers_tail = peer->list_prev;
	dev->n_peers--;
	wg_timers_unfile(peer);
	wg_noise_handshake_wipe(&peer->handshake);
	wg_cookie_maker_wipe(&peer->cookie);
	wg_secret_free(&dev->env, peer, sizeof(*peer));
}

static size_t slot_of(const struct wg_peer *peer, const struct wg_noise_keypair *kp)
{
	size_t i;

	for (i = 0; i < WG_KEYPAIR_SLOTS - 1; i++)
		if (peer->keypair_storage[i] == kp)
			break;
	return i;
}

static void keypair_drop(struct wg_peer *peer, struct wg_noise_keypair *kp)
{
	size_t slot;

	if (!kp)
		return;
	slot = slot_of(peer, kp);
	wg_index_remove(peer->dev, &peer->keypair_index[slot]);
	wg_noise_keypair_wipe(kp);
	wg_secret_free(&peer->dev->env, kp, sizeof(*kp));
	peer->keypair_storage[slot] = NULL;
}

struct wg_noise_keypair *wg_peer_sending_keypair(struct wg_peer *peer, uint64_t now)
{
	struct wg_noise_keypair *kp = peer->current;

	if (!kp || !kp->valid || !kp->can_send || now >= kp->birth + WG_REJECT_AFTER_TIME ||
	    kp->send_counter >= WG_REJECT_AFTER_MESSAGES)
		return NULL;
	return kp;
}

/* A storage slot that none of next, current and previous uses, or -1. */
static int free_slot(const struct wg_peer *peer)
{
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++)
		if (!peer->keypair_storage[i])
			return i;
	return -1;
}

bool wg_peer_begin_session(struct wg_peer *peer, uint64_t now)
{
	struct wg_device *dev = peer->dev;
	struct wg_noise_keypair *kp;
	bool initiator = peer->handshake.state == WG_HANDSHAKE_CONSUMED_RESPONSE;

	/* Make room first: the initiator keeps current as previous, the
	 * responder keeps current as is; either way the old previous (and a
	 * responder's unconfirmed next) go. */
	if (initiator) {
		if (peer->next) {
			/* An unconfirmed next we were responder for: it
			 * becomes previous (it may still receive), current
			 * goes. */
			keypair_drop(peer, peer->previous);
			keypair_drop(peer, peer->current);
			peer->previous = peer->next;
			peer->current = NULL;
			peer->next = NULL;
		} else {
			keypair_drop(peer, peer->previous);
			peer->previous = peer->current;
			peer->current = NULL;
		}
	} else {
		keypair_drop(peer, peer->next);
		keypair_drop(peer, peer->previous);
		peer->next = NULL;
		peer->previous = NULL;
	}
	int slot = free_slot(peer);
	/* The handshake's index becomes the session's receiver index. */
	uint32_t index = peer->handshake.local_index;
	if (slot < 0)
		return false;
	/* The handshake path, never the packet path, allocates. */
	kp = wg_secret_alloc(&dev->env, sizeof(*kp));
	if (!kp)
		return false;
	if (!wg_noise_begin_session(&peer->handshake, kp, now)) {
		wg_secret_free(&dev->env, kp, sizeof(*kp));
		return false;
	}
	kp->id = ++dev->keypair_ids;
	peer->keypair_storage[slot] = kp;
	wg_index_remove(dev, &peer->handshake_index);
	struct wg_index_entry *e = &peer->keypair_index[slot];
	wg_index_remove(dev, e);
	e->index = index;
	size_t b = index & dev->index_mask;
	e->next = dev->index_buckets[b];
	dev->index_buckets[b] = e;
	e->hashed = true;

	if (initiator)
		peer->current = kp;
	else
		peer->next = kp;
	peer->sent_lastminute_handshake = false;
	return true;
}

bool wg_peer_received_with_keypair(struct wg_peer *peer, struct wg_noise_keypair *kp)
{
	if (kp != peer->next)
		return false;
	keypair_drop(peer, peer->previous);
	peer->previous = peer->current;
	peer->current = peer->next;
	peer->next = NULL;
	return true;
}

void wg_peer_zero_keys(struct wg_peer *peer)
{
	keypair_drop(peer, peer->next);
	keypair_drop(peer, peer->current);
	keypair_drop(peer, peer->previous);
	peer->next = peer->current = peer->previous = NULL;
	wg_index_remove(peer->dev, &peer->handshake_index);
	wg_noise_handshake_clear(&peer->handshake);
}

void wg_peer_expire_keypairs(struct wg_peer *peer)
{
	wg_index_remove(peer->dev, &peer->handshake_index);
	wg_noise_handshake_clear(&peer->handshake);
	/* The next packet must start a handshake under the new key at once,
	 * not wait out the 5 s since the last one. */
	peer->has_sent_handshake = false;
	/* They may still decrypt what is in flight; they no longer send. */
	if (peer->current)
		peer->current->can_send = false;
	if (peer->next)
		peer->next->can_send = false;
}

bool wg_peer_stage_packet(struct wg_peer *peer, const uint8_t *packet, size_t len)
{
	struct wg_staged_packet *sp = malloc(sizeof(*sp) + len);

	if (!sp)
		return false;
	sp->next = NULL;
	sp->len = len;
	if (len)
		memcpy(sp->data, packet, len);
	if (peer->staged_tail)
		peer->staged_tail->next = sp;
	else
		peer->staged_head = sp;
	peer->staged_tail = sp;
	peer->n_staged++;
	if (peer->n_staged > WG_MAX_STAGED_PACKETS) {
		struct wg_staged_packet *oldest = peer->staged_head;
		peer->staged_head = oldest->next;
		peer->n_staged--;
		peer->dev->stats.staged_dropped++;
		wg_wipe(oldest->data, oldest->len);
		free(oldest);
	}
	return true;
}

void wg_peer_purge_staged(struct wg_peer *peer)
{
	struct wg_staged_packet *sp = peer->staged_head;

	while (sp) {
		struct wg_staged_packet *next = sp->next;
		wg_wipe(sp->data, sp->len);
		free(sp);
		sp = next;
	}
	peer->staged_head = peer->staged_tail = NULL;
	peer->n_staged = 0;
}
