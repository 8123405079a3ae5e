/* SPDX-License-Identifier: MIT */
#include "sim.h"

#include <arpa/inet.h>
#include <check.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "crypto.h"
#include "uapi.h"

void sim_seeded_random(const uint8_t seed[32], uint64_t *calls, void *buf,
		       size_t len)
{
	uint8_t s[randombytes_SEEDBYTES];

	memcpy(s, seed, sizeof(s));
	for (int i = 0; i < 8; i++)
		s[i] ^= (uint8_t)(*calls >> (8 * i));
	(*calls)++;
	randombytes_buf_deterministic(buf, len, s);
	sodium_memzero(s, sizeof(s));
}

static void sim_random(void *ctx, void *buf, size_t len)
{
	struct sim_node *n = ctx;

	sim_seeded_random(n->seed, &n->random_calls, buf, len);
}

static void sim_wall(void *ctx, uint64_t *sec, uint32_t *nsec)
{
	struct sim_node *n = ctx;

	*sec = n->sim->wall_base + n->sim->now / 1000000000ULL;
	*nsec = (uint32_t)(n->sim->now % 1000000000ULL);
}

static void sim_send_cb(void *ctx, const struct wg_endpoint *to, const uint8_t *data,
			size_t len)
{
	struct sim_node *n = ctx;
	struct sim *s = n->sim;

	ck_assert_uint_le(len, sizeof(s->queue[0].data));
	if (s->n_sent_log < sizeof(s->sent_type)) {
		s->sent_type[s->n_sent_log] = data[0];
		s->sent_from[s->n_sent_log] = n->id;
		s->sent_at[s->n_sent_log] = s->now;
		s->n_sent_log++;
	}
	if (s->link_down[n->id])
		return;
	ck_assert_uint_lt(s->n_queue, SIM_MAX_QUEUE);
	struct sim_datagram *d = &s->queue[s->n_queue++];
	d->from = n->id;
	d->to = *to;
	d->len = len;
	memcpy(d->data, data, len);
}

static void sim_deliver(void *ctx, const uint8_t *packet, size_t len)
{
	struct sim_node *n = ctx;

	ck_assert_uint_lt(n->n_delivered, SIM_MAX_DELIVERED);
	ck_assert_uint_le(len, sizeof(n->delivered[0]));
	memcpy(n->delivered[n->n_delivered], packet, len);
	n->delivered_len[n->n_delivered++] = len;
}

static void sim_log(void *ctx, enum wg_log_level level, const char *line)
{
	struct sim_node *n = ctx;

	if (n->sim->verbose)
		fprintf(stderr, "[%llu.%03llu node%d] %s\n",
			(unsigned long long)(n->sim->now / 1000000000ULL),
			(unsigned long long)(n->sim->now / 1000000ULL % 1000), n->id, line);
}

static void set_addr(struct wg_endpoint *ep, const char *ip, uint16_t port)
{
	memset(ep, 0, sizeof(*ep));
	ep->addr.sin.sin_family = AF_INET;
	ep->addr.sin.sin_port = htons(port);
	ck_assert_int_eq(inet_pton(AF_INET, ip, &ep->addr.sin.sin_addr), 1);
}

int sim_apply_uapi(struct sim *s, int i, const char *text)
{
	struct wg_config cfg;
	struct wg_parse_error err;
	int ret;

	wg_config_init(&cfg);
	ret = wg_uapi_parse_set(text, strlen(text), &cfg, &err);
	if (ret == 0)
		ret = wg_device_apply(s->node[i].dev, &cfg, s->now, &err);
	if (ret != 0 && s->verbose)
		fprintf(stderr, "apply failed: line %u %s: %s\n", err.line, err.key,
			err.message);
	wg_config_clear(&cfg);
	return ret;
}

void *(*sim_secret_alloc)(void *ctx, size_t len);
void (*sim_secret_free)(void *ctx, void *p, size_t len);

void sim_init(struct sim *s, uint64_t seed)
{
	uint8_t priv[2][32];
	char hex[65], conf[1024];

	ck_assert(wg_crypto_init());
	memset(s, 0, sizeof(*s));
	s->wall_base = 1700000000;
	s->now = SEC(1);
	for (int i = 0; i < 2; i++) {
		struct sim_node *n = &s->node[i];
		struct wg_env env = {
			.ctx = n,
			.random = sim_random,
			.wall_clock = sim_wall,
			.send = sim_send_cb,
			.deliver = sim_deliver,
			.log = sim_log,
			.log_level = WG_LOG_TRACE,
			.secret_alloc = sim_secret_alloc,
			.secret_free = sim_secret_free,
		};
		n->sim = s;
		n->id = i;
		memset(n->seed, 0, sizeof(n->seed));
		memcpy(n->seed, &seed, sizeof(seed));
		n->seed[31] = (uint8_t)(i + 1);
		set_addr(&n->addr, i == 0 ? "192.0.2.1" : "192.0.2.2", 51820);
		n->dev = wg_device_new(&env, s->now);
		ck_assert_ptr_nonnull(n->dev);
		sim_random(n, priv[i], 32);
		wg_x25519_clamp(priv[i]);
		ck_assert(wg_x25519_public(n->public_key, priv[i]));
	}
	for (int i = 0; i < 2; i++) {
		char pub_hex[65];
		wg_key_to_hex(hex, priv[i]);
		wg_key_to_hex(pub_hex, s->node[1 - i].public_key);
		if (i == 0)
			snprintf(conf, sizeof(conf),
				 "set=1\nprivate_key=%s\nlisten_port=51820\n"
				 "public_key=%s\nendpoint=192.0.2.2:51820\n"
				 "allowed_ip=10.0.0.2/32\nallowed_ip=10.240.0.0/16\n"
				 "allowed_ip=fd00::2/128\n\n",
				 hex, pub_hex);
		else
			snprintf(conf, sizeof(conf),
				 "set=1\nprivate_key=%s\nlisten_port=51820\n"
				 "public_key=%s\nallowed_ip=10.0.0.1/32\n"
				 "allowed_ip=fd00::1/128\n\n",
				 hex, pub_hex);
		ck_assert_int_eq(sim_apply_uapi(s, i, conf), 0);
		sodium_memzero(hex, sizeof(hex));
		sodium_memzero(conf, sizeof(conf));
	}
	sodium_memzero(priv, sizeof(priv));
}

void sim_free(struct sim *s)
{
	for (int i = 0; i < 2; i++)
		wg_device_free(s->node[i].dev);
}

size_t sim_pump(struct sim *s)
{
	size_t carried = 0;

	for (int round = 0; round < 64 && s->n_queue; round++) {
		/* Take the current batch; what it causes queues behind. */
		size_t n = s->n_queue;
		static struct sim_datagram batch[SIM_MAX_QUEUE];
		memcpy(batch, s->queue, n * sizeof(batch[0]));
		s->n_queue = 0;
		for (size_t i = 0; i < n; i++) {
			struct sim_datagram *d = &batch[i];
			int to = 1 - d->from;
			/* Only datagrams addressed to the other node arrive. */
			if (!wg_endpoint_equal(&d->to, &s->node[to].addr))
				continue;
			wg_device_receive(s->node[to].dev, s->now, &s->node[d->from].addr,
					  d->data, d->len);
			carried++;
		}
	}
	return carried;
}

void sim_advance_to(struct sim *s, uint64_t t)
{
	sim_pump(s);
	for (;;) {
		uint64_t next = UINT64_MAX;
		for (int i = 0; i < 2; i++) {
			uint64_t d = wg_device_next_deadline(s->node[i].dev);
			if (d < next)
				next = d;
		}
		if (next > t)
			break;
		if (next > s->now)
			s->now = next;
		for (int i = 0; i < 2; i++)
			if (wg_device_next_deadline(s->node[i].dev) <= s->now)
				wg_device_tick(s->node[i].dev, s->now);
		sim_pump(s);
	}
	s->now = t;
}

static uint16_t ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t sim_ipv4_packet(uint8_t *out, const char *src, const char *dst,
		       uint8_t pattern, size_t payload)
{
	size_t len = 20 + payload;

	memset(out, 0, 20);
	out[0] = 0x45;
	out[2] = (uint8_t)(len >> 8);
	out[3] = (uint8_t)len;
	out[8] = 64;
	out[9] = 1;	/* ICMP */
	ck_assert_int_eq(inet_pton(AF_INET, src, out + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, out + 16), 1);
	uint16_t c = ip_checksum(out, 20);
	out[10] = (uint8_t)(c >> 8);
	out[11] = (uint8_t)c;
	for (size_t i = 0; i < payload; i++)
		out[20 + i] = (uint8_t)(pattern + i);
	return len;
}

size_t sim_ipv6_packet(uint8_t *out, const char *src, const char *dst,
		       uint8_t pattern, size_t payload)
{
	memset(out, 0, 40);
	out[0] = 0x60;
	out[4] = (uint8_t)(payload >> 8);
	out[5] = (uint8_t)payload;
	out[6] = 58;	/* ICMPv6 */
	out[7] = 64;
	ck_assert_int_eq(inet_pton(AF_INET6, src, out + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, dst, out + 24), 1);
	for (size_t i = 0; i < payload; i++)
		out[40 + i] = (uint8_t)(pattern + i);
	return 40 + payload;
}

enum wg_verdict sim_send(struct sim *s, int i, const uint8_t *pkt, size_t len)
{
	return wg_device_send(s->node[i].dev, s->now, pkt, len);
}

size_t sim_count_sent(const struct sim *s, int i, uint8_t type, uint64_t from,
		      uint64_t to)
{
	size_t n = 0;

	for (size_t k = 0; k < s->n_sent_log; k++)
		if (s->sent_from[k] == i && s->sent_type[k] == type &&
		    s->sent_at[k] >= from && s->sent_at[k] < to)
			n++;
	return n;
}
