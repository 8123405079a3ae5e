/* SPDX-License-Identifier: MIT */
/*
 * The inbound path: outer datagrams dispatched on exact (type, length),
 * handshake messages checked for mac1 (and, under load, for mac2 and the
 * per-source rate) before any expensive work, data messages authenticated
 * before the replay window or any peer state is touched, and inner packets
 * admitted only from their peer's allowed IPs (whitepaper 5.4 and 6).
 */
#include "device.h"

#include <stddef.h>
#include <string.h>

#include "crypto.h"
#include "inet.h"

static void set_endpoint(struct wg_peer *peer, const struct wg_endpoint *from)
{
	/* Roaming: a peer is wherever its latest authenticated packet came
	 * from, and we answer from the address it wrote to. */
	if (!wg_endpoint_equal(&peer->endpoint, from)) {
		char text[WG_ENDPOINT_TEXT_MAX];
		if (wg_endpoint_format(from, text, sizeof(text)))
			wg_log(peer->dev, WG_LOG_DEBUG, "%s: endpoint is now %s",
			       peer->label, text);
	}
	peer->endpoint = *from;
}

/* Whether the device is under load: cookies first, then a rate per source
 * (whitepaper 5.3). The core counts the handshake messages it sees; which
 * ones it gets to see in a flood is the host's one flood policy (the
 * daemon's is daemon/datapath_shed.c): only the host can tell what a
 * message costs the machine, and the core has no clock of its own to
 * measure it with. */
static bool update_load(struct wg_device *dev, uint64_t now)
{
	if (now >= dev->load_window_start + WG_NSEC_PER_SEC) {
		dev->load_window_start = now;
		dev->load_window_count = 0;
	}
	dev->load_window_count++;
	if (dev->load_window_count >= WG_UNDER_LOAD_PER_SECOND) {
		if (!dev->has_been_under_load ||
		    now >= dev->last_under_load + WG_UNDER_LOAD_HYSTERESIS)
			wg_log(dev, WG_LOG_INFO,
			       "under load: handshakes now need a cookie");
		dev->has_been_under_load = true;
		dev->last_under_load = now;
		return true;
	}
	return dev->has_been_under_load &&
	       now < dev->last_under_load + WG_UNDER_LOAD_HYSTERESIS;
}

static const uint8_t *endpoint_address(const struct wg_endpoint *ep, int *family)
{
	*family = ep->addr.sa.sa_family;
	if (*family == AF_INET)
		return (const uint8_t *)&ep->addr.sin.sin_addr;
	return (const uint8_t *)&ep->addr.sin6.sin6_addr;
}

/* A message that passed its authentication: counted, and the timers
 * told (any such message, handshake or data, keepalive included). */
static void authenticated_received(struct wg_peer *peer, uint64_t now,
				   size_t bytes)
{
	peer->rx_bytes += bytes;
	wg_timers_any_authenticated_packet_received(peer, now);
	wg_timers_any_authenticated_packet_traversal(peer, now);
}

static enum wg_verdict consume_initiation(struct wg_device *dev, uint64_t now,
					  const struct wg_endpoint *from,
					  const uint8_t *msg)
{
	struct wg_noise_initiation_scratch scratch;
	struct wg_peer *peer;
	enum wg_noise_initiation_verdict v;

	if (!wg_noise_consume_initiation_begin(&dev->local, msg, &scratch))
		return WG_DROP_HANDSHAKE;
	peer = wg_peer_lookup(dev, scratch.remote_static);
	if (!peer) {
		wg_wipe(&scratch, sizeof(scratch));
		wg_log(dev, WG_LOG_DEBUG, "handshake initiation from an unknown key, dropped");
		return WG_DROP_HANDSHAKE;
	}
	wg_noise_handshake_precompute(&peer->handshake, &dev->local);
	v = wg_noise_consume_initiation_finish(&peer->handshake, msg, &scratch, now);
	if (v != WG_NOISE_INITIATION_OK) {
		wg_log(dev, WG_LOG_DEBUG, "%s: handshake initiation dropped (%s)",
		       peer->label,
		       v == WG_NOISE_INITIATION_REPLAY ? "replayed timestamp" :
		       v == WG_NOISE_INITIATION_FLOOD ? "too many per second" :
							"does not decrypt");
		return WG_DROP_HANDSHAKE;
	}
	set_endpoint(peer, from);
	wg_log(dev, WG_LOG_DEBUG, "%s: received handshake initiation", peer->label);
	wg_send_handshake_response(peer, now);
	authenticated_received(peer, now, WG_INIT_LEN);
	return WG_OK;
}

static enum wg_verdict consume_response(struct wg_device *dev, uint64_t now,
					const struct wg_endpoint *from,
					const uint8_t *msg)
{
	struct wg_index_entry *e = wg_index_lookup(dev, wg_get_le32(msg + WG_RESP_OFF_RECEIVER));
	struct wg_peer *peer;

	if (!e || e->kind != WG_INDEX_HANDSHAKE)
		return WG_DROP_UNKNOWN_INDEX;
	peer = e->peer;
	if (!wg_noise_consume_response(&peer->handshake, &dev->local, msg))
		return WG_DROP_HANDSHAKE;
	set_endpoint(peer, from);
	if (wg_peer_begin_session(peer, now)) {
		wg_timers_session_derived(peer, now);
		wg_timers_handshake_complete(peer, now);
		dev->stats.handshakes_completed++;
		wg_log(dev, WG_LOG_INFO, "%s: handshake completed (we initiated)",
		       peer->label);
		/* Staged packets, or else a keepalive, confirm the session
		 * to the responder at once. */
		wg_send_keepalive(peer, now);
	}
	authenticated_received(peer, now, WG_RESP_LEN);
	return WG_OK;
}

static enum wg_verdict receive_handshake(struct wg_device *dev, uint64_t now,
					 const struct wg_endpoint *from,
					 const uint8_t *msg, size_t len)
{
	bool under_load;
	enum wg_mac_state mac;
	int family;
	const uint8_t *addr;

	if (!dev->local.has_key)
		return WG_DROP_NO_KEY;
	under_load = update_load(dev, now);
	if (under_load && wg_cookie_checker_needs_secret(&dev->cookie_checker, now)) {
		uint8_t secret[WG_HASH_LEN];
		dev->env.random(dev->env.ctx, secret, sizeof(secret));
		wg_cookie_checker_set_secret(&dev->cookie_checker, secret, now);
		wg_wipe(secret, sizeof(secret));
	}
	mac = wg_cookie_validate(&dev->cookie_checker, msg, len, under_load, from);
	if (mac == WG_MAC_INVALID)
		return WG_DROP_MAC;
	if (under_load && mac != WG_MAC_VALID_WITH_COOKIE) {
		uint8_t reply[WG_COOKIE_LEN_MSG];
		uint8_t nonce[WG_XNONCE_LEN];
		dev->env.random(dev->env.ctx, nonce, sizeof(nonce));
		wg_cookie_make_reply(&dev->cookie_checker, reply, msg, len, from, nonce);
		dev->env.send(dev->env.ctx, from, reply, sizeof(reply));
		dev->stats.cookies_sent++;
		return WG_DROP_COOKIE_SENT;
	}
	addr = endpoint_address(from, &family);
	if (under_load && !wg_ratelimit_allow(dev->ratelimit, now, family, addr))
		return WG_DROP_RATELIMIT;

	if (len == WG_INIT_LEN)
		return consume_initiation(dev, now, from, msg);
	return consume_response(dev, now, from, msg);
}

static enum wg_verdict receive_cookie_reply(struct wg_device *dev, uint64_t now,
					    const uint8_t *msg)
{
	struct wg_index_entry *e = wg_index_lookup(dev, wg_get_le32(msg + WG_COOKIE_OFF_RECEIVER));

	if (!e)
		return WG_DROP_UNKNOWN_INDEX;
	if (!wg_cookie_consume_reply(&e->peer->cookie, msg, now))
		return WG_DROP_MAC;
	dev->stats.cookies_received++;
	wg_log(dev, WG_LOG_DEBUG, "%s: received a cookie: the peer is under load",
	       e->peer->label);
	return WG_OK;
}

/* Starts the last-minute rekey an initiator owes before its session dies. */
static void keep_key_fresh(struct wg_peer *peer, uint64_t now)
{
	struct wg_noise_keypair *kp = peer->current;

	if (peer->sent_lastminute_handshake || !kp || !kp->valid || !kp->can_send ||
	    !kp->i_am_initiator)
		return;
	if (now >= kp->birth + WG_REJECT_AFTER_TIME - WG_KEEPALIVE_TIMEOUT -
			   WG_REKEY_TIMEOUT) {
		peer->sent_lastminute_handshake = true;
		wg_send_handshake_initiation(peer, now, false);
	}
}

/* The inner packet's real length (padding stripped) and source, or 0. */
static size_t inner_packet(const uint8_t *p, size_t len, int *family,
			   const uint8_t **src)
{
	size_t total;

	if (len >= IPV4_HDR_LEN && inet_version(p) == 4) {
		total = inet_get16(p + IPV4_OFF_TOTAL_LEN);
		if (total < IPV4_HDR_LEN || inet_ipv4_hdr_len(p) < IPV4_HDR_LEN)
			return 0;
		*family = AF_INET;
		*src = p + IPV4_OFF_SRC;
	} else if (len >= IPV6_HDR_LEN && inet_version(p) == 6) {
		total = IPV6_HDR_LEN +
			(size_t)inet_get16(p + IPV6_OFF_PAYLOAD_LEN);
		*family = AF_INET6;
		*src = p + IPV6_OFF_SRC;
	} else {
		return 0;
	}
	return total <= len ? total : 0;
}

/* The session a data message names, if it may still receive. */
static enum wg_verdict data_session(struct wg_device *dev, uint64_t now,
				    uint32_t index, struct wg_peer **peer,
				    struct wg_noise_keypair **kp)
{
	struct wg_index_entry *e = wg_index_lookup(dev, index);

	if (!e || e->kind != WG_INDEX_KEYPAIR)
		return WG_DROP_UNKNOWN_INDEX;
	*peer = e->peer;
	*kp = e->peer->keypair_storage[e->slot];
	if (!*kp || !(*kp)->valid || (*kp)->local_index != index)
		return WG_DROP_UNKNOWN_INDEX;
	if (now >= (*kp)->birth + WG_REJECT_AFTER_TIME)
		return WG_DROP_KEY;
	return WG_OK;
}

bool wg_recv_job_open(struct wg_recv_job *job, uint8_t *data, size_t len)
{
	bool ok;

	ok = wg_data_open(data + WG_DATA_HEADER_LEN, data + WG_DATA_HEADER_LEN,
			  len - WG_DATA_HEADER_LEN, job->counter, job->key);
	wg_wipe(job->key, sizeof(job->key));
	return ok;
}

/* An authenticated data message: everything after the crypto. */
static enum wg_verdict receive_data(struct wg_device *dev, uint64_t now,
				    const struct wg_endpoint *from,
				    const struct wg_recv_job *job, uint8_t *msg,
				    size_t len, size_t *inner_len)
{
	struct wg_noise_keypair *kp;
	struct wg_peer *peer;
	uint8_t *plain = msg + WG_DATA_HEADER_LEN;
	size_t plain_len = len - WG_DATA_MIN_LEN;
	const uint8_t *src;
	enum wg_verdict v;
	int family;

	/* The session may have ended, or been replaced, while the message
	 * was being opened. */
	v = data_session(dev, now, job->index, &peer, &kp);
	if (v == WG_OK && kp->id != job->keypair)
		v = WG_DROP_UNKNOWN_INDEX;
	if (v != WG_OK)
		return v;
	if (!wg_replay_accept(&kp->replay, job->counter))
		return WG_DROP_REPLAY;

	if (wg_peer_received_with_keypair(peer, kp)) {
		wg_timers_handshake_complete(peer, now);
		dev->stats.handshakes_completed++;
		wg_log(dev, WG_LOG_INFO, "%s: handshake completed (peer initiated)",
		       peer->label);
		wg_send_staged(peer, now);
	}
	set_endpoint(peer, from);
	keep_key_fresh(peer, now);
	authenticated_received(peer, now, len);

	if (plain_len == 0)
		return WG_OK;	/* a keepalive */
	wg_timers_data_received(peer, now);

	*inner_len = inner_packet(plain, plain_len, &family, &src);
	if (!*inner_len)
		return WG_DROP_MALFORMED;
	if (wg_allowedips_lookup(dev->allowedips, family, src) !=
	    &peer->allowedips) {
		*inner_len = 0;
		return WG_DROP_SOURCE;
	}
	return WG_OK;
}

enum wg_verdict wg_device_receive_finish(struct wg_device *dev, uint64_t now,
					 const struct wg_endpoint *from,
					 struct wg_recv_job *job, bool opened,
					 uint8_t *data, size_t len,
					 size_t *inner_len)
{
	enum wg_verdict verdict = WG_DROP_KEY;

	*inner_len = 0;
	wg_wipe(job->key, sizeof(job->key));
	if (opened)
		verdict = receive_data(dev, now, from, job, data, len,
				       inner_len);
	dev->stats.verdicts[verdict]++;
	return verdict;
}

/* Everything but data messages, which need their session. */
static enum wg_verdict receive_control(struct wg_device *dev, uint64_t now,
				       const struct wg_endpoint *from,
				       uint8_t *data, size_t len)
{
	/* The type is a little-endian u32: the reserved bytes must be zero. */
	switch (wg_get_le32(data)) {
	case WG_MSG_INITIATION:
		if (len == WG_INIT_LEN)
			return receive_handshake(dev, now, from, data, len);
		break;
	case WG_MSG_RESPONSE:
		if (len == WG_RESP_LEN)
			return receive_handshake(dev, now, from, data, len);
		break;
	case WG_MSG_COOKIE_REPLY:
		if (len == WG_COOKIE_LEN_MSG)
			return receive_cookie_reply(dev, now, data);
		break;
	}
	return WG_DROP_MALFORMED;
}

bool wg_message_is_handshake(const uint8_t *data, size_t len)
{
	if (len < 4)
		return false;
	switch (wg_get_le32(data)) {
	case WG_MSG_INITIATION:
		return len == WG_INIT_LEN;
	case WG_MSG_RESPONSE:
		return len == WG_RESP_LEN;
	}
	return false;
}

enum wg_verdict wg_device_receive_prepare(struct wg_device *dev, uint64_t now,
					  const struct wg_endpoint *from,
					  uint8_t *data, size_t len,
					  struct wg_recv_job *job, bool *ready)
{
	enum wg_verdict verdict = WG_DROP_MALFORMED;
	struct wg_noise_keypair *kp;
	struct wg_peer *peer;

	*ready = false;
	if (len < 4)
		goto out;
	if (wg_get_le32(data) != WG_MSG_DATA) {
		verdict = receive_control(dev, now, from, data, len);
		goto out;
	}
	if (len < WG_DATA_MIN_LEN)
		goto out;
	job->index = wg_get_le32(data + WG_DATA_OFF_RECEIVER);
	job->counter = wg_get_le64(data + WG_DATA_OFF_COUNTER);
	verdict = data_session(dev, now, job->index, &peer, &kp);
	if (verdict != WG_OK)
		goto out;
	/* Counted by the finish, which knows the outcome. */
	job->keypair = kp->id;
	memcpy(job->key, kp->recv_key, WG_KEY_LEN);
	*ready = true;
	return WG_OK;
out:
	dev->stats.verdicts[verdict]++;
	return verdict;
}

enum wg_verdict wg_device_receive(struct wg_device *dev, uint64_t now,
				  const struct wg_endpoint *from, uint8_t *data,
				  size_t len)
{
	struct wg_recv_job job;
	enum wg_verdict verdict;
	size_t inner_len;
	bool ready, opened;

	verdict = wg_device_receive_prepare(dev, now, from, data, len, &job,
					    &ready);
	if (!ready)
		return verdict;
	opened = wg_recv_job_open(&job, data, len);
	verdict = wg_device_receive_finish(dev, now, from, &job, opened, data,
					   len, &inner_len);
	if (verdict == WG_OK && inner_len)
		dev->env.deliver(dev->env.ctx, data + WG_DATA_HEADER_LEN,
				 inner_len);
	return verdict;
}
