/* SPDX-License-Identifier: MIT */
/*
 * The configuration model: a sparse change to a device, with "has" flags
 * saying which fields it sets, as the UAPI set transaction and the netlink
 * interface describe it. Both parsers (uapi.h, wgconf.h) produce it, the
 * device applies it atomically (wg.h), and get=1 answers with a full one.
 *
 * A wg-quick file also carries keys only wg-quick acts on (Address, DNS, MTU,
 * Table, PreUp, PostUp, PreDown, PostDown, SaveConfig); they are kept in
 * `quick` for the daemon and the lab, and the device ignores them.
 */
#ifndef UNIGUARD_CONFIG_H
#define UNIGUARD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"
#include "messages.h"

enum wg_device_flags {
	WG_DEVICE_HAS_PRIVATE_KEY = 1u << 0,
	WG_DEVICE_HAS_LISTEN_PORT = 1u << 1,
	WG_DEVICE_HAS_FWMARK = 1u << 2,
	WG_DEVICE_REPLACE_PEERS = 1u << 3,
};

enum wg_peer_flags {
	WG_PEER_REMOVE = 1u << 0,
	WG_PEER_UPDATE_ONLY = 1u << 1,
	WG_PEER_HAS_PRESHARED_KEY = 1u << 2,
	WG_PEER_HAS_ENDPOINT = 1u << 3,
	WG_PEER_HAS_KEEPALIVE = 1u << 4,
	WG_PEER_REPLACE_ALLOWEDIPS = 1u << 5,
	WG_PEER_HAS_STATS = 1u << 6,	/* get=1 only: the counters below */
	WG_PEER_HAS_ENDPOINT_HOST = 1u << 7, /* endpoint_host needs resolving */
};

struct wg_allowedip {
	uint8_t family;		/* AF_INET or AF_INET6 */
	uint8_t cidr;
	bool remove;		/* UAPI "allowed_ip=-prefix" */
	uint8_t addr[16];	/* network order; host bits zero but in
				 * wg-quick's Address= */
};

struct wg_strlist {
	char **items;
	size_t len;
	size_t cap;		/* private to config.c */
};

struct wg_config_peer {
	uint32_t flags;
	uint8_t public_key[WG_KEY_LEN];
	uint8_t preshared_key[WG_KEY_LEN];
	struct wg_endpoint endpoint;
	/* "name:port" or "[name]:port" from an INI file, as written, when the
	 * host is not a numeric address: resolve it (wg_endpoint_split, then
	 * getaddrinfo) and set endpoint and WG_PEER_HAS_ENDPOINT. */
	char *endpoint_host;
	uint16_t persistent_keepalive;
	struct wg_allowedip *allowedips;
	size_t n_allowedips;
	size_t allowedips_cap;	/* private to config.c */
	/* get=1 only */
	uint64_t last_handshake_sec;
	uint32_t last_handshake_nsec;
	uint64_t rx_bytes;
	uint64_t tx_bytes;
	unsigned int line;	/* where the peer began in its source */
};

struct wg_quick_config {
	struct wg_allowedip *addresses;	/* Address=, with prefix */
	size_t n_addresses;
	size_t addresses_cap;	/* private to config.c */
	struct wg_strlist dns;
	bool has_mtu;
	uint32_t mtu;
	char *table;
	struct wg_strlist pre_up, post_up, pre_down, post_down;
	bool has_save_config;
	bool save_config;
};

/* uniguard's own [Interface] keys: the gateway acts on them, `wg` and the
 * device ignore them. */
struct wg_gateway_config {
	char *http;		/* HTTP = ADDR:PORT: the operations listener */
	bool has_log_counters;
	uint32_t log_counters;	/* LogCounters = SECONDS, 0: never */
	char *peers_from;	/* PeersFrom = gce-metadata[:ATTRIBUTE] */
};

struct wg_config {
	uint32_t flags;
	uint8_t private_key[WG_KEY_LEN];
	uint16_t listen_port;
	uint32_t fwmark;
	/* Where the source set them (0: it did not), for a message about
	 * a port or mark the system refuses after parsing. */
	unsigned int listen_port_line;
	unsigned int fwmark_line;
	struct wg_config_peer *peers;
	size_t n_peers;
	size_t peers_cap;	/* private to config.c */
	struct wg_quick_config quick;
	struct wg_gateway_config gateway;
};

/* Where and why a parse failed: "FILE:LINE: KEY: MESSAGE". The key is
 * empty when the line has none worth showing (no '=', or a name that might
 * be key material); the message never quotes a key. */
struct wg_parse_error {
	unsigned int line;
	char key[32];
	char message[160];
};

/* Plain decimal, as every parser here takes it: digits only (leading zeros
 * harmless, the reference parsers accept them), no sign, no spaces, at
 * most max. False for anything else. */
bool wg_parse_decimal(const char *s, size_t len, uint64_t max,
		      uint64_t *out);

/* Whether the len bytes at s are word, ASCII letters matched without
 * regard to case (as wg matches keys, and HTTP header names). */
bool wg_text_equal_ci(const char *s, size_t len, const char *word);

/* Fills err (if not NULL). The key is kept only if it is a short name
 * (letters, digits, '_', '-', ' ', brackets) that may hold no key
 * (redact.h), so that a key pasted where a name belongs is never echoed. */
void wg_parse_error_set(struct wg_parse_error *err, unsigned int line,
			const char *key, size_t keylen, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* How many bytes of a value a message may quote: all of a short printable
 * value, none of one that is long, holds anything unprintable, or may hold
 * a key by the rule of redact.h. Use as "%.*s". */
#define WG_QUOTE_MAX 40
int wg_quotable(const char *value, size_t len);

/* A value as a message shows it, into buf: "`value'" when wg_quotable
 * takes it whole; else, for one too long, its start and its length
 * ("`ab.example.ab.example.a...' (300 characters)"), and for one that is
 * unprintable or could hold a key, its length alone. Returns buf.
 * WG_QUOTE(value, len) gives it a buffer that lives to the end of the
 * enclosing block, for a message built there. */
#define WG_QUOTE_SIZE 96
#define WG_QUOTE_START 24
const char *wg_quote(char buf[WG_QUOTE_SIZE], const char *value, size_t len);
#define WG_QUOTE(value, len) \
	wg_quote((char[WG_QUOTE_SIZE]){ 0 }, (value), (len))

void wg_config_init(struct wg_config *cfg);
/* Frees everything and wipes every key it held. */
void wg_config_clear(struct wg_config *cfg);
/* The same change to a device: flags, keys, port and mark, and for each
 * peer in turn its flags, keys, endpoint, keepalive and allowed IPs (in
 * order). Not compared: stats, source lines, endpoint_host and the wg-quick
 * keys, which a set text does not carry. Keys compare in constant time. */
bool wg_config_equal(const struct wg_config *a, const struct wg_config *b);
/* The same for one peer's change. */
bool wg_config_peer_equal(const struct wg_config_peer *a,
			  const struct wg_config_peer *b);
/* Appends a zeroed peer; NULL when out of memory. The pointer is valid
 * until the next add. */
struct wg_config_peer *wg_config_add_peer(struct wg_config *cfg);
/* 0 or -ENOMEM. */
int wg_config_peer_add_allowedip(struct wg_config_peer *peer,
				 const struct wg_allowedip *aip);
int wg_config_add_address(struct wg_config *cfg,
			  const struct wg_allowedip *aip);
int wg_strlist_add(struct wg_strlist *list, const char *s, size_t len);
void wg_strlist_clear(struct wg_strlist *list);

/* "10.0.0.0/24", "fd00::/64", or a bare address (full-length prefix).
 * Host bits must be zero unless allow_host_bits (Address= keeps them; the
 * UAPI parser takes them and masks, as devices do). remove is left false. */
bool wg_allowedip_parse(struct wg_allowedip *aip, const char *text, size_t len,
			bool allow_host_bits);
/* Zeroes the host bits; true if any were set. */
bool wg_allowedip_mask(struct wg_allowedip *aip);
#define WG_ALLOWEDIP_TEXT_MAX 64
/* "addr/cidr" without the "-" of a removal ("" for an unknown family). */
void wg_allowedip_format(const struct wg_allowedip *aip, char *buf,
			 size_t buflen);

/* Calls fn on each line of text (without its newline) until fn returns
 * non-zero, which is returned; 0 when every line was taken. */
typedef int (*wg_line_fn)(void *ctx, const char *line, size_t len);
int wg_text_for_each_line(const char *text, size_t len, wg_line_fn fn, void *ctx);

enum wg_config_format {
	WG_CONFIG_FORMAT_UNKNOWN,
	WG_CONFIG_FORMAT_UAPI,		/* "set=1" / key=value lines */
	WG_CONFIG_FORMAT_INI,		/* [Interface] / [Peer] sections */
};
/* Tells the two -c formats apart by content: the first line that is not
 * blank or a '#' comment is a [section] (INI), or "set=1" or a key=value
 * line with a UAPI key (UAPI). */
enum wg_config_format wg_config_detect(const char *text, size_t len);

/* A growable text buffer for the emitters, zero-initialised to start;
 * data stays NUL-terminated. oom is sticky: once an append fails, the
 * buffer keeps what it had and ignores the rest. */
struct wg_buf {
	char *data;
	size_t len;
	size_t cap;
	bool oom;
};
void wg_buf_printf(struct wg_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wg_buf_append(struct wg_buf *b, const char *s, size_t len);
/* Wipes (the buffer may hold keys) and frees. */
void wg_buf_clear(struct wg_buf *b);

#endif
