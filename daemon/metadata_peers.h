/* SPDX-License-Identifier: MIT */
/*
 * Peers from a Compute Engine metadata attribute (--peers-from), without
 * any I/O: which attribute the option names, the attribute's text read as
 * wg-quick [Peer] sections, and the change that takes the running peers
 * from what the attribute said last to what it says now.
 *
 * How the sets combine: the peers of the -c file are the image's and
 * metadata never touches them; the peers the attribute names are managed
 * as one set, `wg syncconf` style. A peer named again unchanged is left
 * alone (its session goes on), a changed one is updated in place (its
 * session goes on too), one no longer named is removed (cut off at once),
 * a new one is added. An attribute that names a peer of the file, holds a
 * private key or an [Interface], an Endpoint by host name (the gateway
 * resolves no names for metadata), or is not a valid peers list, is
 * refused whole.
 *
 * Who owns a peer: whoever added it. Metadata owns the peers it added
 * (struct metadata_owned): the attribute alone removes them, and a change
 * from elsewhere (a reload's `wg syncconf`, `wg set ... remove`,
 * `wg setconf`) keeps them (metadata_peers_guard). A peer that was there
 * when the attribute first named it (added by hand over the UAPI socket,
 * or by a reload) is updated as the attribute says but stays its adder's:
 * the attribute leaving it out leaves it in place.
 */
#ifndef UNIGUARD_METADATA_PEERS_H
#define UNIGUARD_METADATA_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define METADATA_DEFAULT_ATTRIBUTE "uniguard-peers"
#define METADATA_ATTRIBUTE_MAX 128
/* The largest attribute body taken. */
#define METADATA_BODY_MAX (256u * 1024u)

/* "gce-metadata" or "gce-metadata:ATTRIBUTE" (letters, digits, '-' and
 * '_', as Compute Engine names keys, up to 128): the attribute's name into
 * attr (METADATA_ATTRIBUTE_MAX + 1 bytes). False for anything else. */
bool metadata_source_parse(const char *spec, char *attr);

/* The attribute's text as peers (wg_config_init'ed here, cleared by the
 * caller also on error). 0, or -EINVAL/-ENOMEM with err saying where. */
int metadata_peers_parse(const char *text, size_t len, struct wg_config *peers,
			 struct wg_parse_error *err);

/* The change from `had` (what the attribute said last, and is running)
 * to `want` (what it says now), leaving out the peers of `fixed` (the
 * file's), into delta (wg_config_init'ed here, cleared by the caller).
 * 0, or -EINVAL when want names a peer of fixed, or -ENOMEM; err says
 * why. *changes counts the peers added, changed and removed. */
int metadata_peers_delta(const struct wg_config *had,
			 const struct wg_config *want,
			 const struct wg_config *fixed, struct wg_config *delta,
			 size_t *changes, struct wg_parse_error *err);

/* The public keys of the peers metadata added, sorted: looked up by
 * binary search. */
struct metadata_owned {
	uint8_t (*keys)[WG_KEY_LEN];
	size_t n;
	size_t cap;
};

bool metadata_owned_has(const struct metadata_owned *owned,
			const uint8_t *key);
/* Adds key unless it is there. 0 or -ENOMEM. */
int metadata_owned_add(struct metadata_owned *owned, const uint8_t *key);
/* Room for extra more keys, so that adding them cannot fail. 0 or
 * -ENOMEM. */
int metadata_owned_reserve(struct metadata_owned *owned, size_t extra);
void metadata_owned_remove(struct metadata_owned *owned, const uint8_t *key);
void metadata_owned_clear(struct metadata_owned *owned);

/* A change from elsewhere (a UAPI set), rewritten in place so that it
 * keeps the peers metadata owns: a removal of one does nothing, and under
 * replace_peers each one it does not name is named again whole, as
 * `running` (what the attribute said last) has it. Peers it names with
 * values are changed as it says. kept(ctx, key) for each peer kept.
 * 0, or -ENOMEM (then set is half rewritten: refuse it). */
int metadata_peers_guard(struct wg_config *set, const struct wg_config *running,
			 const struct metadata_owned *owned,
			 void (*kept)(void *ctx, const uint8_t *key),
			 void *ctx);

#endif
