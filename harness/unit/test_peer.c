/* SPDX-License-Identifier: MIT */
/*
 * Peers: the receiver-index table, the public-key table as it grows and
 * shrinks, the keypair slots' rotation for both roles, and staging.
 */
#include "device.h"

#include <sodium.h>
#include <string.h>

#include "support.h"

static uint64_t counter;

static void seq_random(void *ctx, void *buf, size_t len)
{
	uint8_t seed[randombytes_SEEDBYTES] = { 0 };

	memcpy(seed, &counter, sizeof(counter));
	counter++;
	randombytes_buf_deterministic(buf, len, seed);
}

static void fixed_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	*sec = 1700000000;
	*nsec = 0;
}

static void no_send(void *ctx, const struct wg_endpoint *to, const uint8_t *d, size_t l)
{
}

static void no_deliver(void *ctx, const uint8_t *p, size_t l)
{
}

static struct wg_device *new_device(void)
{
	struct wg_env env = {
		.random = seq_random,
		.wall_clock = fixed_wall,
		.send = no_send,
		.deliver = no_deliver,
	};
	struct wg_device *dev = wg_device_new(&env, 0);

	ck_assert_ptr_nonnull(dev);
	return dev;
}

static void key_for(uint8_t key[WG_KEY_LEN], uint32_t i)
{
	memset(key, 0, WG_KEY_LEN);
	key[0] = 9;	/* the X25519 base point's u, so keys are valid */
	memcpy(key + 4, &i, sizeof(i));
}

START_TEST(test_index_table)
{
	struct wg_device *dev = new_device();
	struct wg_index_entry e[300];
	uint32_t seen[300];

	memset(e, 0, sizeof(e));
	ck_assert_int_eq(wg_peer_tables_reserve(dev, 100), 0);
	for (int i = 0; i < 300; i++) {
		seen[i] = wg_index_assign(dev, &e[i]);
		ck_assert(e[i].hashed);
		for (int j = 0; j < i; j++)
			ck_assert_uint_ne(seen[i], seen[j]);
	}
	for (int i = 0; i < 300; i++)
		ck_assert_ptr_eq(wg_index_lookup(dev, seen[i]), &e[i]);
	/* Remove every other one; the rest stay findable. */
	for (int i = 0; i < 300; i += 2) {
		wg_index_remove(dev, &e[i]);
		wg_index_remove(dev, &e[i]);	/* twice is harmless */
	}
	for (int i = 0; i < 300; i++)
		ck_assert_ptr_eq(wg_index_lookup(dev, seen[i]), i % 2 ? &e[i] : NULL);
	/* Growing the table rehashes what is in it. */
	ck_assert_int_eq(wg_peer_tables_reserve(dev, 5000), 0);
	for (int i = 1; i < 300; i += 2)
		ck_assert_ptr_eq(wg_index_lookup(dev, seen[i]), &e[i]);
	/* Re-assigning moves an entry to a new index. */
	uint32_t old = seen[1];
	uint32_t fresh = wg_index_assign(dev, &e[1]);
	ck_assert_uint_ne(old, fresh);
	ck_assert_ptr_null(wg_index_lookup(dev, old));
	ck_assert_ptr_eq(wg_index_lookup(dev, fresh), &e[1]);
	for (int i = 1; i < 300; i += 2)
		wg_index_remove(dev, &e[i]);
	wg_device_free(dev);
}
END_TEST

START_TEST(test_peer_table_grows_and_shrinks)
{
	struct wg_device *dev = new_device();
	uint8_t key[WG_KEY_LEN];
	const uint32_t n = 3000;

	for (uint32_t i = 0; i < n; i++) {
		key_for(key, i);
		ck_assert_ptr_nonnull(wg_peer_new(dev, key));
	}
	ck_assert_uint_eq(dev->n_peers, n);
	for (uint32_t i = 0; i < n; i++) {
		key_for(key, i);
		struct wg_peer *p = wg_peer_lookup(dev, key);
		ck_assert_ptr_nonnull(p);
		ck_assert_mem_eq(p->public_key, key, WG_KEY_LEN);
	}
	key_for(key, n + 1);
	ck_assert_ptr_null(wg_peer_lookup(dev, key));
	/* Config order is kept. */
	uint32_t i = 0;
	for (struct wg_peer *p = dev->peers_head; p; p = p->list_next, i++) {
		key_for(key, i);
		ck_assert_mem_eq(p->public_key, key, WG_KEY_LEN);
	}
	/* Free the odd ones from the middle of the list. */
	for (i = 1; i < n; i += 2) {
		key_for(key, i);
		wg_peer_free(wg_peer_lookup(dev, key));
	}
	ck_assert_uint_eq(dev->n_peers, n / 2);
	for (i = 0; i < n; i++) {
		key_for(key, i);
		ck_assert((wg_peer_lookup(dev, key) != NULL) == (i % 2 == 0));
	}
	wg_device_free(dev);	/* frees the rest; ASan checks nothing leaks */
}
END_TEST

/* Puts a completed handshake of the given role into the peer. */
static void fake_session(struct wg_peer *peer, bool initiator, uint64_t now)
{
	struct wg_noise_handshake *hs = &peer->handshake;

	hs->state = initiator ? WG_HANDSHAKE_CONSUMED_RESPONSE :
				WG_HANDSHAKE_CREATED_RESPONSE;
	memset(hs->chaining_key, (int)(now & 0xff) + 1, WG_HASH_LEN);
	hs->remote_index = (uint32_t)now;
	wg_index_assign(peer->dev, &peer->handshake_index);
	hs->local_index = peer->handshake_index.index;
	ck_assert(wg_peer_begin_session(peer, now));
}

START_TEST(test_keypair_rotation)
{
	struct wg_device *dev = new_device();
	uint8_t key[WG_KEY_LEN];
	struct wg_peer *p;
	struct wg_noise_keypair *a, *b;

	key_for(key, 1);
	p = wg_peer_new(dev, key);
	/* Initiator: the new session is current at once. */
	fake_session(p, true, 10);
	a = p->current;
	ck_assert_ptr_nonnull(a);
	ck_assert(a->i_am_initiator);
	ck_assert_ptr_null(p->next);
	ck_assert_ptr_eq(wg_index_lookup(dev, a->local_index)->peer, p);
	ck_assert_ptr_eq(wg_peer_sending_keypair(p, 10), a);
	/* Responder: the new one waits as next, current keeps sending. */
	fake_session(p, false, 20);
	b = p->next;
	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_eq(p->current, a);
	ck_assert_ptr_eq(wg_peer_sending_keypair(p, 20), a);
	ck_assert(!wg_peer_received_with_keypair(p, a));
	/* Its first packet confirms it: next -> current -> previous. */
	ck_assert(wg_peer_received_with_keypair(p, b));
	ck_assert_ptr_eq(p->current, b);
	ck_assert_ptr_eq(p->previous, a);
	ck_assert_ptr_null(p->next);
	/* Another initiator session: the oldest is wiped, its index gone. */
	uint32_t a_index = a->local_index;
	fake_session(p, true, 30);
	ck_assert_ptr_nonnull(p->current);
	ck_assert_ptr_eq(p->previous, b);
	ck_assert_ptr_null(wg_index_lookup(dev, a_index));
	/* An unconfirmed next when we initiate again becomes previous. */
	fake_session(p, false, 40);
	struct wg_noise_keypair *unconfirmed = p->next;
	fake_session(p, true, 50);
	ck_assert_ptr_eq(p->previous, unconfirmed);
	ck_assert_ptr_null(p->next);
	/* Expiry by age and by count. */
	struct wg_noise_keypair *cur = p->current;
	ck_assert_ptr_eq(wg_peer_sending_keypair(p, 50 + WG_REJECT_AFTER_TIME - 1), cur);
	ck_assert_ptr_null(wg_peer_sending_keypair(p, 50 + WG_REJECT_AFTER_TIME));
	cur->send_counter = WG_REJECT_AFTER_MESSAGES;
	ck_assert_ptr_null(wg_peer_sending_keypair(p, 51));
	cur->send_counter = 0;
	wg_peer_expire_keypairs(p);
	ck_assert_ptr_null(wg_peer_sending_keypair(p, 51));
	/* Zeroing wipes all three slots and their indices. */
	wg_peer_zero_keys(p);
	ck_assert_ptr_null(p->current);
	for (int i = 0; i < WG_KEYPAIR_SLOTS; i++) {
		ck_assert(wg_is_zero(&p->keypair_storage[i], sizeof(p->keypair_storage[i])));
		ck_assert(!p->keypair_index[i].hashed);
	}
	wg_device_free(dev);
}
END_TEST

START_TEST(test_staging)
{
	struct wg_device *dev = new_device();
	uint8_t key[WG_KEY_LEN], pkt[100];
	struct wg_peer *p;

	key_for(key, 1);
	p = wg_peer_new(dev, key);
	for (int i = 0; i < WG_MAX_STAGED_PACKETS + 3; i++) {
		memset(pkt, i, sizeof(pkt));
		ck_assert(wg_peer_stage_packet(p, pkt, (size_t)i % sizeof(pkt)));
	}
	ck_assert_uint_eq(p->n_staged, WG_MAX_STAGED_PACKETS);
	ck_assert_uint_eq(dev->stats.staged_dropped, 3);
	ck_assert_uint_eq(p->staged_head->len, 3);
	ck_assert_uint_eq(p->staged_head->data[0], 3);
	wg_peer_purge_staged(p);
	ck_assert_ptr_null(p->staged_head);
	ck_assert_ptr_null(p->staged_tail);
	ck_assert_uint_eq(p->n_staged, 0);
	/* Staged packets of a freed peer are freed with it (ASan). */
	ck_assert(wg_peer_stage_packet(p, pkt, 10));
	wg_device_free(dev);
}
END_TEST

START_TEST(test_labels_name_no_key)
{
	char label[16];
	uint8_t key[WG_KEY_LEN];

	ck_assert(wg_crypto_init());
	ck_assert(wg_key_from_base64(key, "6SCWZuT/kO8Q2C6L3ynL2K583YcVuG7FwoMiH7xrpFs=", 44));
	wg_peer_label(key, label);
	ck_assert_str_eq(label, "peer 6SCWZuT/");
}
END_TEST

static Suite *peer_suite(void)
{
	Suite *suite = suite_create("peer");
	TCase *tc = tcase_create("peer");

	tcase_add_test(tc, test_index_table);
	tcase_add_test(tc, test_peer_table_grows_and_shrinks);
	tcase_add_test(tc, test_keypair_rotation);
	tcase_add_test(tc, test_staging);
	tcase_add_test(tc, test_labels_name_no_key);
	suite_add_tcase(suite, tc);
	return suite;
}

UNIGUARD_TEST_MAIN(peer_suite)
