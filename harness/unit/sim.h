/* SPDX-License-Identifier: MIT */
/*
 * A two-device network in memory for the device suites: a clock the test
 * moves by hand, seeded randomness, and a wire that carries each device's
 * datagrams to the other (or loses them, or rewrites their source, as the
 * test says). No sockets, no sleeping.
 */
#ifndef UNIGUARD_TEST_SIM_H
#define UNIGUARD_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg.h"

#define SIM_MAX_QUEUE 512
#define SIM_MAX_DELIVERED 512

struct sim_datagram {
	int from;			/* sending device */
	struct wg_endpoint to;
	size_t len;
	uint8_t data[1600];
};

struct sim_node {
	struct sim *sim;
	int id;
	struct wg_device *dev;
	struct wg_endpoint addr;	/* where it listens / writes from */
	uint8_t seed[32];
	uint64_t random_calls;
	uint8_t public_key[32];
	/* Inner packets the device delivered. */
	size_t n_delivered;
	size_t delivered_len[SIM_MAX_DELIVERED];
	uint8_t delivered[SIM_MAX_DELIVERED][256];
};

struct sim {
	uint64_t now;			/* monotonic ns */
	uint64_t wall_base;		/* Unix seconds at now == 0 */
	struct sim_node node[2];
	/* Datagrams sent and not yet carried; sent[] keeps a log of all. */
	size_t n_queue;
	struct sim_datagram queue[SIM_MAX_QUEUE];
	size_t n_sent_log;
	uint8_t sent_type[4096];
	int sent_from[4096];
	uint64_t sent_at[4096];
	bool link_down[2];		/* drop what node i sends */
	int verbose;
};

/* Deterministic randomness for a simulated device: the stream of seed
 * with the call number mixed into its first bytes, one call after another
 * (*calls counts them). Keep what tells two devices apart out of those
 * bytes. */
void sim_seeded_random(const uint8_t seed[32], uint64_t *calls, void *buf,
		       size_t len);

/* Two devices with fresh keys; node 0 knows node 1's endpoint, node 1
 * learns node 0's from its first packet. Node 0 owns 10.0.0.1/32 and
 * fd00::1/128, node 1 10.0.0.2/32, 10.240.0.0/16 and fd00::2/128. */
void sim_init(struct sim *s, uint64_t seed);
/* When set before sim_init, the devices' key memory comes from these
 * (wg_env's secret_alloc and secret_free); NULL: the core's default. */
extern void *(*sim_secret_alloc)(void *ctx, size_t len);
extern void (*sim_secret_free)(void *ctx, void *p, size_t len);
void sim_free(struct sim *s);
/* Carries queued datagrams (and what they cause) until the wire is quiet
 * or max rounds pass; returns the number carried. */
size_t sim_pump(struct sim *s);
/* Moves the clock to t, running each device's timers at every deadline
 * on the way (in order), pumping the wire after each. */
void sim_advance_to(struct sim *s, uint64_t t);
/* An IPv4 ICMP-like packet src -> dst with a payload byte pattern. */
size_t sim_ipv4_packet(uint8_t *out, const char *src, const char *dst,
		       uint8_t pattern, size_t payload);
size_t sim_ipv6_packet(uint8_t *out, const char *src, const char *dst,
		       uint8_t pattern, size_t payload);
/* Sends a packet into node i's tun side. */
enum wg_verdict sim_send(struct sim *s, int i, const uint8_t *pkt, size_t len);
/* How many datagrams of a message type node i sent in [from, to). */
size_t sim_count_sent(const struct sim *s, int i, uint8_t type, uint64_t from,
		      uint64_t to);
/* Applies a UAPI set text to node i: 0 or negative errno. */
int sim_apply_uapi(struct sim *s, int i, const char *text);

#define SEC(x) ((uint64_t)(x) * 1000000000ULL)
#define MSEC(x) ((uint64_t)(x) * 1000000ULL)

#endif
