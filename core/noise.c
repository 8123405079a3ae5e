/* SPDX-License-Identifier: MIT */
/*
 * Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s, the handshake of the WireGuard
 * whitepaper, section 5.4.2 (initiation) and 5.4.3 (response), with the
 * session derivation of 5.4.5. The Noise tokens are marked as the paper
 * writes them: e, es, s, ss, {t} for the initiation; e, ee, se, psk, {} for
 * the response.
 */
#include "noise.h"

#include <string.h>

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

static uint8_t initial_chaining_key[WG_HASH_LEN];
static uint8_t initial_hash[WG_HASH_LEN];
static bool constants_ready;

void wg_noise_init(void)
{
	if (constants_ready)
		return;
	/* C0 = HASH(construction), H0 = HASH(C0 || identifier). */
	wg_hash(initial_chaining_key, construction, strlen(construction), NULL, 0);
	wg_hash(initial_hash, initial_chaining_key, WG_HASH_LEN, identifier,
		strlen(identifier));
	constants_ready = true;
}

const uint8_t *wg_noise_initial_chaining_key(void)
{
	wg_noise_init();
	return initial_chaining_key;
}

const uint8_t *wg_noise_initial_hash(void)
{
	wg_noise_init();
	return initial_hash;
}

/* H = HASH(H || data) */
static void mix_hash(uint8_t hash[WG_HASH_LEN], const uint8_t *data, size_t len)
{
	wg_hash(hash, hash, WG_HASH_LEN, data, len);
}

/* C = KDF1(C, e); H = HASH(H || e): the "e" token's bookkeeping. */
static void mix_ephemeral(uint8_t chaining_key[WG_HASH_LEN],
			  uint8_t hash[WG_HASH_LEN],
			  const uint8_t ephemeral_public[WG_KEY_LEN])
{
	wg_kdf(chaining_key, NULL, NULL, chaining_key, ephemeral_public, WG_KEY_LEN);
	mix_hash(hash, ephemeral_public, WG_KEY_LEN);
}

/* The sender's "e": keep the ephemeral private key, write its public half
 * into the message at out, and mix it in. */
static bool write_ephemeral(struct wg_noise_handshake *hs, uint8_t out[WG_KEY_LEN],
			    const uint8_t ephemeral_private[WG_KEY_LEN])
{
	memcpy(hs->ephemeral_private, ephemeral_private, WG_KEY_LEN);
	if (!wg_x25519_public(out, hs->ephemeral_private))
		return false;
	mix_ephemeral(hs->chaining_key, hs->hash, out);
	return true;
}

/* (C, k) = KDF2(C, DH(priv, pub)); key may be NULL when only C matters. */
static bool mix_dh(uint8_t chaining_key[WG_HASH_LEN], uint8_t key[WG_KEY_LEN],
		   const uint8_t priv[WG_KEY_LEN], const uint8_t pub[WG_KEY_LEN])
{
	uint8_t dh[WG_KEY_LEN];
	bool ok = wg_x25519(dh, priv, pub);

	if (ok)
		wg_kdf(chaining_key, key, NULL, chaining_key, dh, WG_KEY_LEN);
	wg_wipe(dh, sizeof(dh));
	return ok;
}

/* The same with the static-static DH computed at configuration time. */
static bool mix_precomputed_dh(uint8_t chaining_key[WG_HASH_LEN],
			       uint8_t key[WG_KEY_LEN],
			       const uint8_t precomputed[WG_KEY_LEN])
{
	if (wg_is_zero(precomputed, WG_KEY_LEN))
		return false;
	wg_kdf(chaining_key, key, NULL, chaining_key, precomputed, WG_KEY_LEN);
	return true;
}

/* (C, tau, k) = KDF3(C, Q); H = HASH(H || tau). */
static void mix_psk(uint8_t chaining_key[WG_HASH_LEN], uint8_t hash[WG_HASH_LEN],
		    uint8_t key[WG_KEY_LEN], const uint8_t psk[WG_KEY_LEN])
{
	uint8_t tau[WG_HASH_LEN];

	wg_kdf(chaining_key, tau, key, chaining_key, psk, WG_KEY_LEN);
	mix_hash(hash, tau, sizeof(tau));
	wg_wipe(tau, sizeof(tau));
}

/* AEAD(k, 0, plain, H), then H = HASH(H || ciphertext). */
static void encrypt_and_hash(uint8_t *dst, const uint8_t *plain, size_t len,
			     const uint8_t key[WG_KEY_LEN], uint8_t hash[WG_HASH_LEN])
{
	wg_aead_seal(dst, plain, len, hash, WG_HASH_LEN, 0, key);
	mix_hash(hash, dst, len + WG_AEAD_TAG_LEN);
}

static bool decrypt_and_hash(uint8_t *dst, const uint8_t *cipher, size_t len,
			     const uint8_t key[WG_KEY_LEN], uint8_t hash[WG_HASH_LEN])
{
	if (!wg_aead_open(dst, cipher, len, hash, WG_HASH_LEN, 0, key))
		return false;
	mix_hash(hash, cipher, len);
	return true;
}

void wg_noise_handshake_init(struct wg_noise_handshake *hs,
			     const struct wg_noise_local *local,
			     const uint8_t remote_static[WG_KEY_LEN],
			     const uint8_t preshared_key[WG_KEY_LEN])
{
	wg_noise_handshake_init_lazy(hs, remote_static, preshared_key);
	wg_noise_handshake_precompute(hs, local);
}

void wg_noise_handshake_init_lazy(struct wg_noise_handshake *hs,
				  const uint8_t remote_static[WG_KEY_LEN],
				  const uint8_t preshared_key[WG_KEY_LEN])
{
	memset(hs, 0, sizeof(*hs));
	memcpy(hs->remote_static, remote_static, WG_KEY_LEN);
	if (preshared_key)
		memcpy(hs->preshared_key, preshared_key, WG_KEY_LEN);
}

void wg_noise_handshake_forget_local(struct wg_noise_handshake *hs)
{
	wg_noise_handshake_clear(hs);
	wg_wipe(hs->static_static, WG_KEY_LEN);
	hs->has_static_static = false;
}

void wg_noise_handshake_precompute(struct wg_noise_handshake *hs,
				   const struct wg_noise_local *local)
{
	if (hs->has_static_static)
		return;
	/* A failed DH (low-order peer key, or no private key) leaves zeros,
	 * which mix_precomputed_dh refuses: no handshake with that peer. */
	if (!local->has_key ||
	    !wg_x25519(hs->static_static, local->private_key, hs->remote_static))
		wg_wipe(hs->static_static, WG_KEY_LEN);
	hs->has_static_static = true;
}

void wg_noise_handshake_clear(struct wg_noise_handshake *hs)
{
	wg_wipe(hs->hash, sizeof(hs->hash));
	wg_wipe(hs->chaining_key, sizeof(hs->chaining_key));
	wg_wipe(hs->ephemeral_private, sizeof(hs->ephemeral_private));
	wg_wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	hs->local_index = 0;
	hs->remote_index = 0;
	hs->state = WG_HANDSHAKE_ZEROED;
}

void wg_noise_handshake_wipe(struct wg_noise_handshake *hs)
{
	wg_wipe(hs, sizeof(*hs));
}

void wg_noise_tai64n(uint8_t out[WG_TAI64N_LEN], uint64_t unix_sec, uint32_t nsec)
{
	/* TAI64 labels start at 2^62; the +10 is TAI's offset from UTC at
	 * the TAI64 epoch, as every WireGuard implementation writes it. */
	uint64_t label = 0x400000000000000aULL + unix_sec;
	/* 2^24 ns is the largest power of two below 1 s / 50 initiations. */
	uint32_t rounded = nsec & ~((1u << 24) - 1);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(label >> (56 - 8 * i));
	for (int i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(rounded >> (24 - 8 * i));
}

bool wg_noise_create_initiation(struct wg_noise_handshake *hs,
				const struct wg_noise_local *local,
				uint8_t msg[WG_INIT_LEN],
				const uint8_t ephemeral_private[WG_KEY_LEN],
				uint32_t sender_index,
				const uint8_t timestamp[WG_TAI64N_LEN])
{
	uint8_t key[WG_KEY_LEN];
	bool ok = false;

	if (!local->has_key)
		goto out;
	wg_noise_handshake_clear(hs);
	memcpy(hs->chaining_key, wg_noise_initial_chaining_key(), WG_HASH_LEN);
	wg_hash(hs->hash, wg_noise_initial_hash(), WG_HASH_LEN,
		hs->remote_static, WG_KEY_LEN);

	memset(msg, 0, WG_INIT_LEN);
	msg[WG_INIT_OFF_TYPE] = WG_MSG_INITIATION;
	wg_put_le32(msg + WG_INIT_OFF_SENDER, sender_index);

	/* e */
	if (!write_ephemeral(hs, msg + WG_INIT_OFF_EPHEMERAL, ephemeral_private))
		goto out;

	/* es */
	if (!mix_dh(hs->chaining_key, key, hs->ephemeral_private, hs->remote_static))
		goto out;

	/* s */
	encrypt_and_hash(msg + WG_INIT_OFF_STATIC, local->public_key, WG_KEY_LEN,
			 key, hs->hash);

	/* ss */
	if (!mix_precomputed_dh(hs->chaining_key, key, hs->static_static))
		goto out;

	/* {t} */
	encrypt_and_hash(msg + WG_INIT_OFF_TIMESTAMP, timestamp, WG_TAI64N_LEN,
			 key, hs->hash);

	hs->local_index = sender_index;
	hs->state = WG_HANDSHAKE_CREATED_INITIATION;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	if (!ok)
		wg_noise_handshake_clear(hs);
	return ok;
}

bool wg_noise_consume_initiation_begin(const struct wg_noise_local *local,
				       const uint8_t msg[WG_INIT_LEN],
				       struct wg_noise_initiation_scratch *s)
{
	uint8_t key[WG_KEY_LEN];
	bool ok = false;

	memset(s, 0, sizeof(*s));
	if (!local->has_key)
		goto out;
	memcpy(s->chaining_key, wg_noise_initial_chaining_key(), WG_HASH_LEN);
	wg_hash(s->hash, wg_noise_initial_hash(), WG_HASH_LEN, local->public_key,
		WG_KEY_LEN);

	/* e */
	memcpy(s->remote_ephemeral, msg + WG_INIT_OFF_EPHEMERAL, WG_KEY_LEN);
	mix_ephemeral(s->chaining_key, s->hash, s->remote_ephemeral);

	/* es */
	if (!mix_dh(s->chaining_key, key, local->private_key, s->remote_ephemeral))
		goto out;

	/* s */
	if (!decrypt_and_hash(s->remote_static, msg + WG_INIT_OFF_STATIC,
			      WG_KEY_LEN + WG_AEAD_TAG_LEN, key, s->hash))
		goto out;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	if (!ok)
		wg_wipe(s, sizeof(*s));
	return ok;
}

enum wg_noise_initiation_verdict
wg_noise_consume_initiation_finish(struct wg_noise_handshake *hs,
				   const uint8_t msg[WG_INIT_LEN],
				   struct wg_noise_initiation_scratch *s,
				   uint64_t now)
{
	uint8_t key[WG_KEY_LEN];
	uint8_t timestamp[WG_TAI64N_LEN];
	enum wg_noise_initiation_verdict verdict = WG_NOISE_INITIATION_BAD;

	/* ss */
	if (!mix_precomputed_dh(s->chaining_key, key, hs->static_static))
		goto out;

	/* {t} */
	if (!decrypt_and_hash(timestamp, msg + WG_INIT_OFF_TIMESTAMP,
			      WG_TAI64N_LEN + WG_AEAD_TAG_LEN, key, s->hash))
		goto out;

	/* TAI64N is big-endian, so byte order is time order. The timestamp
	 * is no secret: a plain compare is fine. */
	if (memcmp(timestamp, hs->latest_timestamp, WG_TAI64N_LEN) <= 0) {
		verdict = WG_NOISE_INITIATION_REPLAY;
		goto out;
	}
	if (hs->has_consumed_initiation &&
	    now < hs->last_initiation_consumption +
			  WG_NSEC_PER_SEC / WG_INITIATIONS_PER_SECOND) {
		verdict = WG_NOISE_INITIATION_FLOOD;
		goto out;
	}

	wg_noise_handshake_clear(hs);
	memcpy(hs->latest_timestamp, timestamp, WG_TAI64N_LEN);
	memcpy(hs->remote_ephemeral, s->remote_ephemeral, WG_KEY_LEN);
	memcpy(hs->hash, s->hash, WG_HASH_LEN);
	memcpy(hs->chaining_key, s->chaining_key, WG_HASH_LEN);
	hs->remote_index = wg_get_le32(msg + WG_INIT_OFF_SENDER);
	hs->has_consumed_initiation = true;
	hs->last_initiation_consumption = now;
	hs->state = WG_HANDSHAKE_CONSUMED_INITIATION;
	verdict = WG_NOISE_INITIATION_OK;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(s, sizeof(*s));
	return verdict;
}

bool wg_noise_create_response(struct wg_noise_handshake *hs,
			      uint8_t msg[WG_RESP_LEN],
			      const uint8_t ephemeral_private[WG_KEY_LEN],
			      uint32_t sender_index)
{
	uint8_t key[WG_KEY_LEN];
	bool ok = false;

	if (hs->state != WG_HANDSHAKE_CONSUMED_INITIATION)
		goto out;

	memset(msg, 0, WG_RESP_LEN);
	msg[WG_RESP_OFF_TYPE] = WG_MSG_RESPONSE;
	wg_put_le32(msg + WG_RESP_OFF_SENDER, sender_index);
	wg_put_le32(msg + WG_RESP_OFF_RECEIVER, hs->remote_index);

	/* e */
	if (!write_ephemeral(hs, msg + WG_RESP_OFF_EPHEMERAL, ephemeral_private))
		goto out;

	/* ee */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_ephemeral))
		goto out;

	/* se */
	if (!mix_dh(hs->chaining_key, NULL, hs->ephemeral_private, hs->remote_static))
		goto out;

	/* psk */
	mix_psk(hs->chaining_key, hs->hash, key, hs->preshared_key);

	/* {} */
	encrypt_and_hash(msg + WG_RESP_OFF_EMPTY, NULL, 0, key, hs->hash);

	hs->local_index = sender_index;
	hs->state = WG_HANDSHAKE_CREATED_RESPONSE;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	if (!ok)
		wg_noise_handshake_clear(hs);
	return ok;
}

bool wg_noise_consume_response(struct wg_noise_handshake *hs,
			       const struct wg_noise_local *local,
			       const uint8_t msg[WG_RESP_LEN])
{
	uint8_t key[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chaining_key[WG_HASH_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	bool ok = false;

	if (hs->state != WG_HANDSHAKE_CREATED_INITIATION || !local->has_key)
		goto out;
	/* Work on copies: a forged response must not disturb the pending
	 * initiation, which a genuine response may still complete. */
	memcpy(hash, hs->hash, WG_HASH_LEN);
	memcpy(chaining_key, hs->chaining_key, WG_HASH_LEN);

	/* e */
	memcpy(remote_ephemeral, msg + WG_RESP_OFF_EPHEMERAL, WG_KEY_LEN);
	mix_ephemeral(chaining_key, hash, remote_ephemeral);

	/* ee */
	if (!mix_dh(chaining_key, NULL, hs->ephemeral_private, remote_ephemeral))
		goto out;

	/* se */
	if (!mix_dh(chaining_key, NULL, local->private_key, remote_ephemeral))
		goto out;

	/* psk */
	mix_psk(chaining_key, hash, key, hs->preshared_key);

	/* {} */
	if (!decrypt_and_hash(NULL, msg + WG_RESP_OFF_EMPTY, WG_AEAD_TAG_LEN, key, hash))
		goto out;

	memcpy(hs->remote_ephemeral, remote_ephemeral, WG_KEY_LEN);
	memcpy(hs->hash, hash, WG_HASH_LEN);
	memcpy(hs->chaining_key, chaining_key, WG_HASH_LEN);
	hs->remote_index = wg_get_le32(msg + WG_RESP_OFF_SENDER);
	hs->state = WG_HANDSHAKE_CONSUMED_RESPONSE;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(hash, sizeof(hash));
	wg_wipe(chaining_key, sizeof(chaining_key));
	wg_wipe(remote_ephemeral, sizeof(remote_ephemeral));
	return ok;
}

bool wg_noise_begin_session(struct wg_noise_handshake *hs,
			    struct wg_noise_keypair *kp, uint64_t now)
{
	uint8_t first[WG_KEY_LEN], second[WG_KEY_LEN];
	bool initiator;

	if (hs->state == WG_HANDSHAKE_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs->state == WG_HANDSHAKE_CREATED_RESPONSE)
		initiator = false;
	else
		return false;

	/* (T_send_i, T_recv_i) = KDF2(C, empty); the responder's are swapped. */
	wg_kdf(first, second, NULL, hs->chaining_key, NULL, 0);
	wg_noise_keypair_wipe(kp);
	memcpy(kp->send_key, initiator ? first : second, WG_KEY_LEN);
	memcpy(kp->recv_key, initiator ? second : first, WG_KEY_LEN);
	wg_wipe(first, sizeof(first));
	wg_wipe(second, sizeof(second));
	kp->i_am_initiator = initiator;
	kp->birth = now;
	kp->send_counter = 0;
	wg_replay_init(&kp->replay);
	kp->local_index = hs->local_index;
	kp->remote_index = hs->remote_index;
	kp->valid = true;
	kp->can_send = true;
	wg_noise_handshake_clear(hs);
	return true;
}

void wg_noise_keypair_wipe(struct wg_noise_keypair *kp)
{
	wg_wipe(kp->send_key, sizeof(kp->send_key));
	wg_wipe(kp->recv_key, sizeof(kp->recv_key));
	memset(kp, 0, sizeof(*kp));
}
