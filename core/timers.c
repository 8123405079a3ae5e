/* SPDX-License-Identifier: MIT */
/*
 * Per-peer timers of the WireGuard whitepaper, section 6 ("Timers and
 * stateless UX"); the event-to-timer map is in timers.h.
 */
#include "timers.h"

#include "device.h"

/* The heap: dev->timer_heap[0] is the peer filed earliest. */

static bool filed_before(const struct wg_peer *a, const struct wg_peer *b)
{
	return a->timer_key < b->timer_key;
}

static void heap_place(struct wg_device *dev, size_t i, struct wg_peer *p)
{
	dev->timer_heap[i] = p;
	p->timer_slot = i + 1;
}

static void sift_up(struct wg_device *dev, size_t i)
{
	struct wg_peer *p = dev->timer_heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!filed_before(p, dev->timer_heap[parent]))
			break;
		heap_place(dev, i, dev->timer_heap[parent]);
		i = parent;
	}
	heap_place(dev, i, p);
}

static void sift_down(struct wg_device *dev, size_t i)
{
	struct wg_peer *p = dev->timer_heap[i];
	size_t n = dev->timer_heap_len;

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n &&
		    filed_before(dev->timer_heap[child + 1],
				 dev->timer_heap[child]))
			child++;
		if (!filed_before(dev->timer_heap[child], p))
			break;
		heap_place(dev, i, dev->timer_heap[child]);
		i = child;
	}
	heap_place(dev, i, p);
}

/* Files the peer under deadline unless it is filed earlier already. */
static void file(struct wg_peer *peer, uint64_t deadline)
{
	struct wg_device *dev = peer->dev;

	if (deadline == WG_TIMER_OFF)
		return;
	if (peer->timer_slot) {
		if (deadline >= peer->timer_key)
			return;
		peer->timer_key = deadline;
		sift_up(dev, peer->timer_slot - 1);
		return;
	}
	/* Room was reserved with the peer (wg_peer_tables_reserve). */
	if (dev->timer_heap_len >= dev->timer_heap_cap)
		return;
	peer->timer_key = deadline;
	dev->timer_heap[dev->timer_heap_len++] = peer;
	sift_up(dev, dev->timer_heap_len - 1);
}

void wg_timers_unfile(struct wg_peer *peer)
{
	struct wg_device *dev = peer->dev;
	size_t i = peer->timer_slot;
	struct wg_peer *last;

	if (!i)
		return;
	peer->timer_slot = 0;
	last = dev->timer_heap[--dev->timer_heap_len];
	if (last == peer)
		return;
	heap_place(dev, i - 1, last);
	sift_up(dev, i - 1);
	sift_down(dev, last->timer_slot - 1);
}

uint64_t wg_timers_earliest(const struct wg_device *dev)
{
	return dev->timer_heap_len ? dev->timer_heap[0]->timer_key : UINT64_MAX;
}

uint64_t wg_timers_tick(struct wg_device *dev, uint64_t now)
{
	while (dev->timer_heap_len && dev->timer_heap[0]->timer_key <= now) {
		struct wg_peer *p = dev->timer_heap[0];

		wg_timers_unfile(p);
		/* What it arms while running files it again; its real next
		 * deadline may be earlier than that. */
		file(p, wg_timers_run(p, now));
	}
	return wg_timers_earliest(dev);
}

static void arm(struct wg_peer *peer, uint64_t *timer, uint64_t deadline)
{
	*timer = deadline;
	file(peer, deadline);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Disarms everything. */
static void stop(struct wg_timers *t)
{
	t->retransmit_handshake = WG_TIMER_OFF;
	t->send_keepalive = WG_TIMER_OFF;
	t->new_handshake = WG_TIMER_OFF;
	t->zero_key_material = WG_TIMER_OFF;
	t->persistent_keepalive = WG_TIMER_OFF;
	t->need_another_keepalive = false;
}

void wg_timers_init(struct wg_timers *t)
{
	stop(t);
	t->handshake_attempts = 0;
}

uint64_t wg_timers_next(const struct wg_timers *t)
{
	uint64_t next = t->retransmit_handshake;

	next = min_u64(next, t->send_keepalive);
	next = min_u64(next, t->new_handshake);
	next = min_u64(next, t->zero_key_material);
	return min_u64(next, t->persistent_keepalive);
}

void wg_timers_handshake_initiated(struct wg_peer *peer, uint64_t now)
{
	peer->timers.handshake_attempts++;
	arm(peer, &peer->timers.retransmit_handshake,
	    now + WG_REKEY_TIMEOUT +
		    wg_device_jitter(peer->dev, WG_REKEY_TIMEOUT_JITTER_MAX));
}

void wg_timers_handshake_complete(struct wg_peer *peer, uint64_t now)
{
	uint64_t sec;
	uint32_t nsec;

	peer->timers.retransmit_handshake = WG_TIMER_OFF;
	peer->timers.handshake_attempts = 0;
	peer->dev->env.wall_clock(peer->dev->env.ctx, &sec, &nsec);
	peer->last_handshake_sec = sec;
	peer->last_handshake_nsec = nsec;
	peer->handshakes++;
}

void wg_timers_session_derived(struct wg_peer *peer, uint64_t now)
{
	arm(peer, &peer->timers.zero_key_material, now + WG_ZERO_KEYS_AFTER);
}

void wg_timers_data_sent(struct wg_peer *peer, uint64_t now)
{
	if (peer->timers.new_handshake == WG_TIMER_OFF)
		arm(peer, &peer->timers.new_handshake,
		    now + WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT +
			    wg_device_jitter(peer->dev, WG_REKEY_TIMEOUT_JITTER_MAX));
}

void wg_timers_data_received(struct wg_peer *peer, uint64_t now)
{
	if (peer->timers.send_keepalive == WG_TIMER_OFF)
		arm(peer, &peer->timers.send_keepalive, now + WG_KEEPALIVE_TIMEOUT);
	else
		peer->timers.need_another_keepalive = true;
}

void wg_timers_any_authenticated_packet_sent(struct wg_peer *peer, uint64_t now)
{
	peer->timers.send_keepalive = WG_TIMER_OFF;
}

void wg_timers_any_authenticated_packet_received(struct wg_peer *peer, uint64_t now)
{
	peer->timers.new_handshake = WG_TIMER_OFF;
}

void wg_timers_any_authenticated_packet_traversal(struct wg_peer *peer, uint64_t now)
{
	if (peer->persistent_keepalive)
		arm(peer, &peer->timers.persistent_keepalive,
		    now + (uint64_t)peer->persistent_keepalive * WG_NSEC_PER_SEC);
}

static void expired_retransmit_handshake(struct wg_peer *peer, uint64_t now)
{
	if (peer->timers.handshake_attempts >= WG_MAX_TIMER_HANDSHAKES) {
		/* REKEY_ATTEMPT_TIME has passed since the first initiation:
		 * give up, drop what waited for the session, and make sure
		 * whatever is left of it is wiped in time. */
		wg_log(peer->dev, WG_LOG_INFO,
		       "%s: handshake did not complete after %u attempts, giving up",
		       peer->label, peer->timers.handshake_attempts);
		peer->timers.send_keepalive = WG_TIMER_OFF;
		wg_peer_purge_staged(peer);
		if (peer->timers.zero_key_material == WG_TIMER_OFF)
			arm(peer, &peer->timers.zero_key_material,
			    now + WG_ZERO_KEYS_AFTER);
		return;
	}
	wg_log(peer->dev, WG_LOG_DEBUG,
	       "%s: handshake did not complete after %llu seconds, retrying (attempt %u)",
	       peer->label, (unsigned long long)(WG_REKEY_TIMEOUT / WG_NSEC_PER_SEC),
	       peer->timers.handshake_attempts + 1);
	/* The cached source address may be what fails: let the caller pick
	 * a route afresh. */
	peer->endpoint.has_src = false;
	wg_send_handshake_initiation(peer, now, true);
}

static void expired_send_keepalive(struct wg_peer *peer, uint64_t now)
{
	wg_send_keepalive(peer, now);
	if (peer->timers.need_another_keepalive) {
		peer->timers.need_another_keepalive = false;
		arm(peer, &peer->timers.send_keepalive, now + WG_KEEPALIVE_TIMEOUT);
	}
}

static void expired_new_handshake(struct wg_peer *peer, uint64_t now)
{
	wg_log(peer->dev, WG_LOG_DEBUG,
	       "%s: no reply for %llu seconds after sending, starting a handshake",
	       peer->label,
	       (unsigned long long)((WG_KEEPALIVE_TIMEOUT + WG_REKEY_TIMEOUT) /
				    WG_NSEC_PER_SEC));
	peer->endpoint.has_src = false;
	wg_send_handshake_initiation(peer, now, false);
}

static void expired_zero_key_material(struct wg_peer *peer, uint64_t now)
{
	wg_log(peer->dev, WG_LOG_DEBUG, "%s: wiping session keys after %llu seconds",
	       peer->label, (unsigned long long)(WG_ZERO_KEYS_AFTER / WG_NSEC_PER_SEC));
	wg_peer_zero_keys(peer);
}

static void expired_persistent_keepalive(struct wg_peer *peer, uint64_t now)
{
	if (peer->persistent_keepalive)
		wg_send_keepalive(peer, now);
}

uint64_t wg_timers_run(struct wg_peer *peer, uint64_t now)
{
	struct wg_timers *t = &peer->timers;

	/* Each expiry disarms its timer before acting, since the action may
	 * arm it (or another) again. */
	if (t->retransmit_handshake <= now) {
		t->retransmit_handshake = WG_TIMER_OFF;
		expired_retransmit_handshake(peer, now);
	}
	if (t->send_keepalive <= now) {
		t->send_keepalive = WG_TIMER_OFF;
		expired_send_keepalive(peer, now);
	}
	if (t->new_handshake <= now) {
		t->new_handshake = WG_TIMER_OFF;
		expired_new_handshake(peer, now);
	}
	if (t->zero_key_material <= now) {
		t->zero_key_material = WG_TIMER_OFF;
		expired_zero_key_material(peer, now);
	}
	if (t->persistent_keepalive <= now) {
		t->persistent_keepalive = WG_TIMER_OFF;
		expired_persistent_keepalive(peer, now);
	}
	return wg_timers_next(t);
}
