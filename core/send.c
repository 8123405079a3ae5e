/* SPDX-License-Identifier: MIT */
/*
 * The outbound path: inner packets routed to a peer by destination and
 * sealed into transport data messages (whitepaper 5.4.6), handshake
 * messages, keepalives, and the packets staged while a handshake runs.
 * Glue only: the crypto is noise.c's and cookie.c's, the decisions about
 * time are timers.c's.
 */
#include "device.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "inet.h"

static struct wg_peer *peer_of_owner(struct wg_allowedips_owner *owner)
{
	return (struct wg_peer *)((char *)owner - offsetof(struct wg_peer, allowedips));
}

void wg_send_to_peer(struct wg_peer *peer, const uint8_t *data, size_t len)
{
	struct wg_device *dev = peer->dev;

	dev->env.send(dev->env.ctx, &peer->endpoint, data, len);
	peer->tx_bytes += len;
}

/* A fresh ephemeral private key, reported to the key log if one is kept. */
static void make_ephemeral(struct wg_device *dev, uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_BASE64_LEN];
	char line[96];

	dev->env.random(dev->env.ctx, key, WG_KEY_LEN);
	wg_x25519_clamp(key);
	if (!dev->env.keylog)
		return;
	wg_key_to_base64(b64, key);
	snprintf(line, sizeof(line), "LOCAL_EPHEMERAL_PRIVATE_KEY = %s", b64);
	dev->env.keylog(dev->env.ctx, line);
	wg_wipe(b64, sizeof(b64));
	wg_wipe(line, sizeof(line));
}

/* Starts a handshake unless one went out less than REKEY_TIMEOUT ago. */
void wg_send_handshake_initiation(struct wg_peer *peer, uint64_t now, bool is_retry)
{
	struct wg_device *dev = peer->dev;
	uint8_t msg[WG_INIT_LEN];
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t timestamp[WG_TAI64N_LEN];
	uint64_t sec;
	uint32_t nsec, index;

	if (!is_retry)
		peer->timers.handshake_attempts = 0;
	if (peer->has_sent_handshake && now < peer->last_sent_handshake + WG_REKEY_TIMEOUT)
		return;
	if (!dev->local.has_key)
		return;
	if (peer->endpoint.addr.sa.sa_family == AF_UNSPEC) {
		/* Nowhere to send it: the peer must reach us first. */
		wg_peer_purge_staged(peer);
		return;
	}
	peer->has_sent_handshake = true;
	peer->last_sent_handshake = now;

	make_ephemeral(dev, ephemeral);
	index = wg_index_assign(dev, &peer->handshake_index);
	dev->env.wall_clock(dev->env.ctx, &sec, &nsec);
	wg_noise_tai64n(timestamp, sec, nsec);
	wg_noise_handshake_precompute(&peer->handshake, &dev->local);
	if (!wg_noise_create_initiation(&peer->handshake, &dev->local, msg, ephemeral,
					index, timestamp)) {
		wg_index_remove(dev, &peer->handshake_index);
		wg_log(dev, WG_LOG_ERROR,
		       "%s: cannot create a handshake initiation (invalid public key?)",
		       peer->label);
		goto out;
	}
	wg_cookie_add_macs(&peer->cookie, msg, sizeof(msg), now);

	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer, now);
	wg_send_to_peer(peer, msg, sizeof(msg));
	dev->stats.handshakes_initiated++;
	wg_timers_handshake_initiated(peer, now);
	wg_log(dev, WG_LOG_DEBUG, "%s: sending handshake initiation", peer->label);
out:
	wg_wipe(ephemeral, sizeof(ephemeral));
}

void wg_send_handshake_response(struct wg_peer *peer, uint64_t now)
{
	struct wg_device *dev = peer->dev;
	uint8_t msg[WG_RESP_LEN];
	uint8_t ephemeral[WG_KEY_LEN];
	uint32_t index;

	make_ephemeral(dev, ephemeral);
	index = wg_index_assign(dev, &peer->handshake_index);
	if (!wg_noise_create_response(&peer->handshake, msg, ephemeral, index)) {
		wg_index_remove(dev, &peer->handshake_index);
		goto out;
	}
	wg_cookie_add_macs(&peer->cookie, msg, sizeof(msg), now);
	if (!wg_peer_begin_session(peer, now))
		goto out;
	wg_timers_session_derived(peer, now);
	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer, now);
	wg_send_to_peer(peer, msg, sizeof(msg));
	wg_log(dev, WG_LOG_DEBUG, "%s: sending handshake response", peer->label);
out:
	wg_wipe(ephemeral, sizeof(ephemeral));
}

/* Padded length of a plaintext: a multiple of 16, but not past the MTU. */
static size_t padded_length(const struct wg_device *dev, size_t len)
{
	size_t padded = (len + WG_DATA_PADDING - 1) & ~(size_t)(WG_DATA_PADDING - 1);

	if (dev->mtu && padded > dev->mtu)
		padded = len > dev->mtu ? len : dev->mtu;
	return padded;
}

/* Initiates a rekey when the session is old or has sent too much. */
static void keep_key_fresh(struct wg_peer *peer, const struct wg_noise_keypair *kp,
			   uint64_t now)
{
	if (kp->send_counter > WG_REKEY_AFTER_MESSAGES ||
	    (kp->i_am_initiator && now >= kp->birth + WG_REKEY_AFTER_TIME))
		wg_send_handshake_initiation(peer, now, false);
}

/* Everything about a data message but its crypto: its place in the
 * session (the next counter) and a copy of the key, so that it can be
 * sealed later on any thread, even after the session is gone. */
static void reserve(struct wg_peer *peer, struct wg_noise_keypair *kp,
		    size_t len, struct wg_send_job *job)
{
	job->to = peer->endpoint;
	job->len = len;
	job->padded = padded_length(peer->dev, len);
	job->counter = kp->send_counter++;
	job->receiver = kp->remote_index;
	memcpy(job->key, kp->send_key, WG_KEY_LEN);
}

/* The send as the peer's counters and timers see it. */
static void account(struct wg_peer *peer, const struct wg_noise_keypair *kp,
		    const struct wg_send_job *job, uint64_t now)
{
	peer->tx_bytes += WG_DATA_HEADER_LEN + job->padded + WG_AEAD_TAG_LEN;
	wg_timers_any_authenticated_packet_traversal(peer, now);
	wg_timers_any_authenticated_packet_sent(peer, now);
	if (job->len)
		wg_timers_data_sent(peer, now);
	else
		peer->dev->stats.keepalives_sent++;
	keep_key_fresh(peer, kp, now);
}

size_t wg_send_job_seal(struct wg_send_job *job, uint8_t *src, uint8_t *msg)
{
	static_assert(WG_MESSAGE_HEADER_LEN == WG_DATA_HEADER_LEN &&
		      WG_MESSAGE_TAG_LEN == WG_AEAD_TAG_LEN &&
		      WG_MESSAGE_PADDING == WG_DATA_PADDING,
		      "wg.h names the wire's sizes");
	memset(src + job->len, 0, job->padded - job->len);
	wg_data_seal(msg + WG_DATA_HEADER_LEN, src, job->padded, job->counter,
		     job->key);
	wg_wipe(job->key, sizeof(job->key));
	wg_put_le32(msg, WG_MSG_DATA);
	wg_put_le32(msg + WG_DATA_OFF_RECEIVER, job->receiver);
	wg_put_le64(msg + WG_DATA_OFF_COUNTER, job->counter);
	return WG_DATA_HEADER_LEN + job->padded + WG_AEAD_TAG_LEN;
}

/* A data message sealed here, in the device's scratch buffer, and sent at
 * once: staged packets, keepalives, and callers of wg_device_send. */
static void send_data(struct wg_peer *peer, struct wg_noise_keypair *kp,
		      const uint8_t *packet, size_t len, uint64_t now)
{
	struct wg_device *dev = peer->dev;
	struct wg_send_job job;
	uint8_t *payload = dev->scratch + WG_DATA_HEADER_LEN;
	size_t n;

	reserve(peer, kp, len, &job);
	if (len)
		memcpy(payload, packet, len);
	n = wg_send_job_seal(&job, payload, dev->scratch);
	dev->env.send(dev->env.ctx, &job.to, dev->scratch, n);
	account(peer, kp, &job, now);
}

void wg_send_staged(struct wg_peer *peer, uint64_t now)
{
	struct wg_noise_keypair *kp;

	while (peer->staged_head) {
		kp = wg_peer_sending_keypair(peer, now);
		if (!kp) {
			wg_send_handshake_initiation(peer, now, false);
			return;
		}
		struct wg_staged_packet *sp = peer->staged_head;
		peer->staged_head = sp->next;
		if (!peer->staged_head)
			peer->staged_tail = NULL;
		peer->n_staged--;
		send_data(peer, kp, sp->data, sp->len, now);
		wg_wipe(sp->data, sp->len);
		free(sp);
	}
}

void wg_send_keepalive(struct wg_peer *peer, uint64_t now)
{
	/* Anything already waiting confirms the session just as well. */
	if (!peer->staged_head && !wg_peer_stage_packet(peer, NULL, 0))
		return;
	wg_send_staged(peer, now);
}

/* The peer an inner packet goes to, or why it goes nowhere. */
static enum wg_verdict route(struct wg_device *dev, const uint8_t *packet,
			     size_t len, struct wg_peer **peer)
{
	const uint8_t *dst;
	int family;
	struct wg_allowedips_owner *owner;

	if (!dev->local.has_key)
		return WG_DROP_NO_KEY;
	if (len > WG_MAX_PACKET)
		return WG_DROP_TOO_BIG;
	if (len >= IPV4_HDR_LEN && inet_version(packet) == 4) {
		family = AF_INET;
		dst = packet + IPV4_OFF_DST;
	} else if (len >= IPV6_HDR_LEN && inet_version(packet) == 6) {
		family = AF_INET6;
		dst = packet + IPV6_OFF_DST;
	} else {
		return WG_DROP_MALFORMED;
	}
	owner = wg_allowedips_lookup(dev->allowedips, family, dst);
	if (!owner)
		return WG_DROP_NO_PEER;
	*peer = peer_of_owner(owner);
	if ((*peer)->endpoint.addr.sa.sa_family == AF_UNSPEC)
		return WG_DROP_NO_ENDPOINT;
	return WG_OK;
}

enum wg_verdict wg_device_send_prepare(struct wg_device *dev, uint64_t now,
				       const uint8_t *packet, size_t len,
				       struct wg_send_job *job, bool *ready)
{
	enum wg_verdict verdict;
	struct wg_peer *peer = NULL;
	struct wg_noise_keypair *kp;

	*ready = false;
	verdict = route(dev, packet, len, &peer);
	if (verdict != WG_OK)
		goto out;
	kp = wg_peer_sending_keypair(peer, now);
	/* Without a session, or behind packets that wait for one: the
	 * caller hands it to wg_device_send, which counts it. */
	if (!kp || peer->staged_head)
		return WG_OK;
	reserve(peer, kp, len, job);
	account(peer, kp, job, now);
	*ready = true;
out:
	dev->stats.verdicts[verdict]++;
	return verdict;
}

enum wg_verdict wg_device_send(struct wg_device *dev, uint64_t now,
			       const uint8_t *packet, size_t len)
{
	enum wg_verdict verdict;
	struct wg_peer *peer = NULL;
	struct wg_noise_keypair *kp;

	verdict = route(dev, packet, len, &peer);
	if (verdict != WG_OK)
		goto out;
	kp = wg_peer_sending_keypair(peer, now);
	if (kp && !peer->staged_head) {
		send_data(peer, kp, packet, len, now);
		goto out;
	}
	/* No session yet (or older packets still wait): queue behind them
	 * and let the session, or the handshake that makes one, carry them. */
	if (!wg_peer_stage_packet(peer, packet, len))
		verdict = WG_DROP_TOO_BIG;
	else
		wg_send_staged(peer, now);
out:
	dev->stats.verdicts[verdict]++;
	return verdict;
}
