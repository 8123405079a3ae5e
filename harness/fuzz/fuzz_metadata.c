/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: what the metadata server's answer goes through
 * (--peers-from): the HTTP response parser (daemon/http_response.c) and
 * then the attribute read as peers (daemon/metadata_peers.c). The first
 * input byte says where to cut the rest into the pieces the socket would
 * hand over, so that every split is tried. Besides "no crash, no leak, no
 * undefined behaviour" (each piece gets a buffer of exactly its size):
 *
 *  - the same bytes give the same answer whole and in pieces;
 *  - a finished response's body is within the limit and NUL-terminated;
 *  - bytes are taken up to the response's end and not one past it;
 *  - a refused attribute names a line of it and quotes no key; an
 *    accepted one changes peers only, and its change from nothing adds
 *    every peer, and from itself changes nothing;
 *  - with every peer metadata's, a change removing each by name is made
 *    to change nothing, and a replace_peers naming none names each again
 *    whole.
 */
#include "support_fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/http_response.c"
#include "../../daemon/metadata_peers.c"

/* Small enough that the fuzzer reaches the limit. */
#define FUZZ_BODY_MAX 2048

static enum http_result run(struct http_response *r, const uint8_t *data,
			    size_t size, size_t step, size_t *taken)
{
	enum http_result res = HTTP_MORE;
	size_t pos = 0;

	http_response_init(r, FUZZ_BODY_MAX);
	while (pos < size && res == HTTP_MORE) {
		size_t n = size - pos < step ? size - pos : step, used;
		uint8_t *piece = malloc(n);

		FUZZ_CHECK(piece, "out of memory");
		memcpy(piece, data + pos, n);
		res = http_response_feed(r, piece, n, &used);
		free(piece);
		FUZZ_CHECK(used <= n, "took %zu of %zu bytes", used, n);
		FUZZ_CHECK(res != HTTP_MORE || used == n,
			   "wants more but left bytes");
		pos += used;
	}
	if (res == HTTP_MORE)
		res = http_response_eof(r);
	*taken = pos;
	return res;
}

static unsigned int count_lines(const char *text, size_t len)
{
	unsigned int n = 1;

	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	return n;
}

static void count_kept(void *ctx, const uint8_t *key)
{
	(void)key;
	(*(size_t *)ctx)++;
}

/* Every peer the attribute gave owned by metadata: a reload that removes
 * each by name keeps them all as they are, and a replace_peers naming
 * none names each again whole. */
static void check_guard(const struct wg_config *peers)
{
	struct metadata_owned owned = { 0 };
	struct wg_config set;
	size_t kept = 0;
	int ret;

	for (size_t i = 0; i < peers->n_peers; i++)
		if (metadata_owned_add(&owned, peers->peers[i].public_key))
			goto out;
	wg_config_init(&set);
	for (size_t i = 0; i < owned.n; i++) {
		struct wg_config_peer *p = wg_config_add_peer(&set);

		if (!p)
			goto clear;
		p->flags = WG_PEER_REMOVE;
		memcpy(p->public_key, owned.keys[i], WG_KEY_LEN);
	}
	ret = metadata_peers_guard(&set, peers, &owned, count_kept, &kept);
	FUZZ_CHECK(ret == 0 && kept == owned.n, "removals: %d, %zu of %zu",
		   ret, kept, owned.n);
	for (size_t i = 0; i < set.n_peers; i++)
		FUZZ_CHECK(set.peers[i].flags == WG_PEER_UPDATE_ONLY,
			   "a removal left as %#x", set.peers[i].flags);
	wg_config_clear(&set);
	wg_config_init(&set);
	set.flags = WG_DEVICE_REPLACE_PEERS;
	kept = 0;
	ret = metadata_peers_guard(&set, peers, &owned, count_kept, &kept);
	FUZZ_CHECK(ret == 0 && kept == owned.n && set.n_peers == owned.n,
		   "replace_peers: %d, %zu kept, %zu named of %zu", ret, kept,
		   set.n_peers, owned.n);
	for (size_t i = 0; i < set.n_peers; i++)
		FUZZ_CHECK(!(set.peers[i].flags & WG_PEER_REMOVE) &&
			   (set.peers[i].flags & WG_PEER_REPLACE_ALLOWEDIPS),
			   "named again as %#x", set.peers[i].flags);
clear:
	wg_config_clear(&set);
out:
	metadata_owned_clear(&owned);
}

static void check_peers(const char *text, size_t len)
{
	struct wg_config peers, none, delta;
	struct wg_parse_error err;
	size_t changes;
	int ret;

	memset(&err, 0, sizeof(err));
	ret = metadata_peers_parse(text, len, &peers, &err);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL, "refused with %d", ret);
		fuzz_check_parse_error(&err, count_lines(text, len));
		wg_config_clear(&peers);
		return;
	}
	FUZZ_CHECK(peers.flags == 0, "device flags %#x", peers.flags);
	wg_config_init(&none);
	ret = metadata_peers_delta(&none, &peers, &none, &delta, &changes,
				   &err);
	FUZZ_CHECK(ret == 0 && changes == peers.n_peers,
		   "from nothing: %d, %zu of %zu", ret, changes,
		   peers.n_peers);
	wg_config_clear(&delta);
	ret = metadata_peers_delta(&peers, &peers, &none, &delta, &changes,
				   &err);
	FUZZ_CHECK(ret == 0 && changes == 0, "from itself: %d, %zu", ret,
		   changes);
	wg_config_clear(&delta);
	check_guard(&peers);
	wg_config_clear(&peers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_response whole, pieces;
	enum http_result a, b;
	size_t taken_a, taken_b, step;

	if (size < 1)
		return 0;
	step = (size_t)data[0] + 1;
	data++;
	size--;
	a = run(&whole, data, size, size ? size : 1, &taken_a);
	b = run(&pieces, data, size, step, &taken_b);
	FUZZ_CHECK(a == b, "whole %d, in pieces of %zu %d", (int)a, step,
		   (int)b);
	FUZZ_CHECK(taken_a == taken_b, "took %zu whole, %zu in pieces",
		   taken_a, taken_b);
	if (a == HTTP_DONE) {
		FUZZ_CHECK(whole.body && whole.body_len <= FUZZ_BODY_MAX &&
			   whole.body[whole.body_len] == '\0',
			   "a body of %zu bytes", whole.body_len);
		FUZZ_CHECK(whole.status == pieces.status &&
			   whole.body_len == pieces.body_len &&
			   memcmp(whole.body, pieces.body,
				  whole.body_len) == 0 &&
			   strcmp(whole.etag, pieces.etag) == 0,
			   "whole and pieces differ");
		check_peers(whole.body, whole.body_len);
	} else {
		FUZZ_CHECK(whole.error && pieces.error &&
			   strcmp(whole.error, pieces.error) == 0,
			   "refused for %s whole, %s in pieces", whole.error,
			   pieces.error);
	}
	http_response_clear(&whole);
	http_response_clear(&pieces);
	return 0;
}
