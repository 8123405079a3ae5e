/* SPDX-License-Identifier: MIT */
/*
 * The tap backend's Ethernet logic (netdev/ether.c) without a device: ARP
 * and neighbour discovery answers checked byte for byte against frames
 * built by a separate implementation, resolution with its queue and its
 * bounds, expiry under a clock moved by hand, forwarding rules both ways,
 * and the incremental TTL checksum against a full recomputation.
 */
#include "ether.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "support.h"

#define S ETHER_SEC

/* Known answers: frames built independently of this code (a short script
 * packing each header by hand), our MAC 02:00:00:00:00:01, the host's
 * 52:54:00:12:34:56, the segment 10.240.0.0/16 and fd00:240::/64. */
static const char arp_request_own[] =
	"ffffffffffff525400123456080600010800060400015254001234560af00002"
	"0000000000000af00005000000000000000000000000000000000000";
static const char arp_reply_own[] =
	"525400123456020000000001080600010800060400020200000000010af00005"
	"5254001234560af00002000000000000000000000000000000000000";
static const char arp_reply_proxy[] =
	"525400123456020000000001080600010800060400020200000000010af06402"
	"5254001234560af00002000000000000000000000000000000000000";
static const char arp_request_ours[] =
	"ffffffffffff020000000001080600010800060400010200000000010af00005"
	"0000000000000af00002000000000000000000000000000000000000";
static const char arp_reply_host[] =
	"020000000001525400123456080600010800060400025254001234560af00002"
	"0200000000010af00005000000000000000000000000000000000000";
static const char ns_own[] =
	"3333ff00000552540012345686dd6000000000203afffd000240000000000000"
	"000000000002ff0200000000000000000001ff0000058700f45400000000fd00"
	"02400000000000000000000000050101525400123456";
static const char na_own[] =
	"52540012345602000000000186dd6000000000203afffd000240000000000000"
	"000000000005fd000240000000000000000000000002880095d3e0000000fd00"
	"02400000000000000000000000050201020000000001";
static const char ns_ours[] =
	"3333ff00000202000000000186dd6000000000203afffd000240000000000000"
	"000000000005ff0200000000000000000001ff0000028700791300000000fd00"
	"02400000000000000000000000020101020000000001";
static const char na_host[] =
	"02000000000152540012345686dd6000000000203afffd000240000000000000"
	"000000000002fd0002400000000000000000000000058800911b60000000fd00"
	"02400000000000000000000000020201525400123456";
/* 10.0.0.2 -> 10.240.0.2, ICMP echo, TTL 64, from the tunnel; and framed
 * for the host with TTL 63. */
static const char tunnel_ping[] =
	"45000024424240004001e3a30a0000020af0000208001f2f12340001756e6967"
	"75617264";
static const char tunnel_ping_framed[] =
	"525400123456020000000001080045000024424240003f01e4a30a0000020af0"
	"000208001f2f12340001756e69677561726400000000000000000000";
static const char echo_to_us[] =
	"02000000000152540012345608004500002400070000400164ec0af000020af0"
	"000508001f2f12340001756e69677561726400000000000000000000";
static const char echo_reply_ours[] =
	"52540012345602000000000108004500002400000000400164f30af000050af0"
	"00020000272f12340001756e69677561726400000000000000000000";
static const char echo6_to_us[] =
	"02000000000152540012345686dd6000000000103a40fd000240000000000000"
	"000000000002fd0002400000000000000000000000058000a85b12340001756e"
	"696775617264";
static const char echo6_reply_ours[] =
	"52540012345602000000000186dd6000000000103a40fd000240000000000000"
	"000000000005fd0002400000000000000000000000028100a75b12340001756e"
	"696775617264";

static const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t host_mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
static const uint8_t own4[4] = { 10, 240, 0, 5 };
static const uint8_t host4[4] = { 10, 240, 0, 2 };
static const uint8_t own6[16] = { 0xfd, 0, 0x02, 0x40, [15] = 5 };
static const uint8_t host6[16] = { 0xfd, 0, 0x02, 0x40, [15] = 2 };

/* The frames emitted, as a fake driver would see them. */
#define MAX_FRAMES 64
static uint8_t frames[MAX_FRAMES][ETHER_FRAME_MAX];
static size_t frame_len[MAX_FRAMES];
static size_t n_frames;

static void record_frame(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	ck_assert_uint_lt(n_frames, MAX_FRAMES);
	ck_assert_uint_le(len, ETHER_FRAME_MAX);
	memcpy(frames[n_frames], frame, len);
	frame_len[n_frames++] = len;
}

static struct ether *make(bool proxy)
{
	struct ether *e = ether_new(our_mac, record_frame, NULL);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ether_set_address(e, AF_INET, own4, 16), 0);
	ck_assert_int_eq(ether_set_address(e, AF_INET6, own6, 64), 0);
	ether_set_proxy(e, proxy);
	n_frames = 0;
	return e;
}

/* Feeds a frame given as hex; returns the verdict. */
static enum ether_verdict feed(struct ether *e, uint64_t now, const char *hex,
			       uint8_t *buf, size_t *off, size_t *len)
{
	size_t n;
	uint8_t *b = hex_decode_alloc(hex, &n);
	enum ether_verdict v;

	memcpy(buf, b, n);
	free(b);
	v = ether_input(e, now, buf, n, off, len);
	return v;
}

static enum ether_verdict feed_hex(struct ether *e, uint64_t now,
				   const char *hex)
{
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	return feed(e, now, hex, buf, &off, &len);
}

static enum ether_verdict send_hex(struct ether *e, uint64_t now,
				   const char *hex)
{
	size_t n;
	uint8_t *b = hex_decode_alloc(hex, &n);
	enum ether_verdict v = ether_output(e, now, b, n);

	free(b);
	return v;
}

/* An ARP request from host (mac, ip) for target, as a frame. */
static size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *mac,
			const uint8_t *spa, const uint8_t *tpa)
{
	static const uint8_t head[8] = { 0, 1, 8, 0, 6, 4, 0, 0 };

	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, mac, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, head, 8);
	f[21] = (uint8_t)op;
	memcpy(f + 22, mac, 6);
	memcpy(f + 28, spa, 4);
	memcpy(f + 38, tpa, 4);
	return 60;
}

/* A minimal IPv4 packet to dst (checksum left to the test's own sum). */
static uint16_t sum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i < n; i += 2)
		s += (uint32_t)(p[i] << 8 | (i + 1 < n ? p[i + 1] : 0));
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t ipv4_packet(uint8_t *p, const uint8_t *src, const uint8_t *dst,
			  uint8_t ttl, size_t len)
{
	uint16_t c;

	memset(p, 0, len);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = ttl;
	p[9] = 17;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	c = sum16(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	return len;
}

START_TEST(test_arp_own_address)
{
	struct ether *e = make(false);
	uint8_t mac[6];

	ck_assert_int_eq(feed_hex(e, S, arp_request_own), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_reply_own);
	/* The asker is known now, without asking it. */
	ck_assert(ether_neigh_lookup(e, S, AF_INET, host4, mac));
	ck_assert_mem_eq(mac, host_mac, 6);
	ck_assert(!ether_neigh_lookup(e, S + ETHER_REACHABLE_NS, AF_INET,
				      host4, mac));
	ether_free(e);
}
END_TEST

START_TEST(test_arp_proxy)
{
	static const uint8_t client[4] = { 10, 240, 100, 2 };
	static const uint8_t outside[4] = { 10, 0, 0, 2 };
	struct ether_prefix client32 = { AF_INET, 32, { 10, 240, 100, 2 } };
	struct ether_prefix all = { AF_INET, 0, { 0 } };
	struct ether_prefix vpn = { AF_INET, 24, { 10, 0, 0, 0 } };
	struct ether *e = make(false);
	uint8_t f[60];

	/* Off: nobody answers for the client. */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &client32, 1), 0);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_IGNORED);
	ck_assert_uint_eq(n_frames, 0);

	/* On: answered with our MAC for the client's address. */
	ether_set_proxy(e, true);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_reply_proxy);

	/* A host announcing the address itself is not asking. */
	n_frames = 0;
	arp_frame(f, 1, host_mac, client, client);
	ck_assert_int_ne(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 0);

	/* A route for everything claims nothing on the segment... */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &all, 1), 0);
	arp_frame(f, 1, host_mac, host4, client);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_LEARNED);
	/* ...and addresses off the segment are routed, not proxied. */
	ck_assert_int_eq(ether_set_tunnel_routes(e, &vpn, 1), 0);
	arp_frame(f, 1, host_mac, host4, outside);
	ck_assert_int_ne(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_arp_probe_defended)
{
	static const uint8_t zero[4];
	struct ether *e = make(false);
	uint8_t f[60];

	/* RFC 5227: a probe for our address hears that it is taken. */
	arp_frame(f, 1, host_mac, zero, own4);
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_mem_eq(frames[0], host_mac, 6);
	ck_assert_mem_eq(frames[0] + 14 + 24, zero, 4);	/* tpa */
	ck_assert_uint_eq(ether_neigh_count(e), 0);	/* nothing learned */
	ether_free(e);
}
END_TEST

START_TEST(test_arp_malformed)
{
	struct ether *e = make(false);
	uint8_t f[60];

	arp_frame(f, 1, host_mac, host4, own4);
	f[18] = 8;	/* hardware address length */
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	arp_frame(f, 3, host_mac, host4, own4);	/* RARP's opcode */
	ck_assert_int_eq(ether_input(e, S, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	arp_frame(f, 1, host_mac, host4, own4);
	ck_assert_int_eq(ether_input(e, S, f, 14 + 27, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	ck_assert_int_eq(ether_input(e, S, f, 13, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_MALFORMED);
	ck_assert_uint_eq(n_frames, 0);
	ck_assert_uint_eq(ether_stats(e)[ETHER_MALFORMED], 4);
	ether_free(e);
}
END_TEST

START_TEST(test_ns_own_address)
{
	struct ether *e = make(false);
	uint8_t mac[6];

	ck_assert_int_eq(feed_hex(e, S, ns_own), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], na_own);
	ck_assert(ether_neigh_lookup(e, S, AF_INET6, host6, mac));
	ck_assert_mem_eq(mac, host_mac, 6);
	ether_free(e);
}
END_TEST

START_TEST(test_ns_validity)
{
	struct ether *e = make(false);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	/* Not from this link: a hop limit below 255. */
	feed(e, S, ns_own, buf, &off, &len);
	n_frames = 0;
	{
		size_t n;
		uint8_t *b = hex_decode_alloc(ns_own, &n);

		b[14 + 7] = 64;
		ck_assert_int_eq(ether_input(e, S, b, n, &off, &len),
				 ETHER_MALFORMED);
		b[14 + 7] = 255;
		b[14 + 40 + 2] ^= 1;	/* checksum */
		ck_assert_int_eq(ether_input(e, S, b, n, &off, &len),
				 ETHER_MALFORMED);
		free(b);
	}
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_ns_proxy_and_dad)
{
	static const uint8_t client6[16] = { 0xfd, 0, 0x02, 0x40, [14] = 1 };
	struct ether_prefix p = { AF_INET6, 128, { 0xfd, 0, 0x02, 0x40,
						   [14] = 1 } };
	struct ether *e = make(true);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t n, off, len;
	uint8_t *b = hex_decode_alloc(ns_own, &n);
	uint8_t *ip = b + 14, *msg = ip + 40;
	uint16_t c;

	ck_assert_int_eq(ether_set_tunnel_routes(e, &p, 1), 0);
	/* The host asks for the client's address fd00:240::100. */
	memcpy(msg + 8, client6, 16);
	ip[24 + 13] = 0;
	ip[24 + 14] = 1;
	ip[24 + 15] = 0;
	b[3] = 0;
	b[4] = 1;
	b[5] = 0;
	msg[2] = msg[3] = 0;
	{
		/* The checksum over the pseudo-header, by the test's sum. */
		uint8_t ph[40 + 32];

		memcpy(ph, ip + 8, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 32;
		ph[39] = 58;
		memcpy(ph + 40, msg, 32);
		c = sum16(ph, sizeof(ph));
		msg[2] = (uint8_t)(c >> 8);
		msg[3] = (uint8_t)c;
	}
	memcpy(buf, b, n);
	ck_assert_int_eq(ether_input(e, S, buf, n, &off, &len),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	/* Solicited, router, and no override: the owner would win. */
	ck_assert_uint_eq(frames[0][14 + 40], 136);
	ck_assert_uint_eq(frames[0][14 + 40 + 4], 0xc0);
	ck_assert_mem_eq(frames[0] + 14 + 40 + 8, client6, 16);
	ck_assert_mem_eq(frames[0] + 14 + 40 + 26, our_mac, 6);
	ck_assert_mem_eq(frames[0], host_mac, 6);

	/* Duplicate address detection for our own address: from ::, no
	 * link-layer option; the answer goes to all nodes, unsolicited. */
	n_frames = 0;
	free(b);
	b = hex_decode_alloc(ns_own, &n);
	ip = b + 14;
	msg = ip + 40;
	memset(ip + 8, 0, 16);
	ip[5] = 24;
	msg[2] = msg[3] = 0;
	{
		uint8_t ph[40 + 24];

		memcpy(ph, ip + 8, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 24;
		ph[39] = 58;
		memcpy(ph + 40, msg, 24);
		c = sum16(ph, sizeof(ph));
		msg[2] = (uint8_t)(c >> 8);
		msg[3] = (uint8_t)c;
	}
	ck_assert_int_eq(ether_input(e, S, b, 14 + 40 + 24, &off, &len),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_uint_eq(frames[0][0], 0x33);
	ck_assert_uint_eq(frames[0][5], 0x01);
	ck_assert_uint_eq(frames[0][14 + 40 + 4], 0xa0);	/* R, O */
	free(b);
	ether_free(e);
}
END_TEST

START_TEST(test_resolve_then_send)
{
	struct ether *e = make(false);
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	ck_assert_int_eq(send_hex(e, S, tunnel_ping), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_request_ours);
	ck_assert_uint_eq(ether_pending_count(e), 1);

	ck_assert_int_eq(feed(e, S + 1000, arp_reply_host, buf, &off, &len),
			 ETHER_LEARNED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_hex_eq(frames[1], frame_len[1], tunnel_ping_framed);
	ck_assert_uint_eq(ether_pending_count(e), 0);

	/* Known now: straight out. */
	ck_assert_int_eq(send_hex(e, S + 2000, tunnel_ping), ETHER_SENT);
	ck_assert_uint_eq(n_frames, 3);
	ck_assert_hex_eq(frames[2], frame_len[2], tunnel_ping_framed);
	ether_free(e);
}
END_TEST

START_TEST(test_resolve_ipv6)
{
	struct ether *e = make(false);
	uint8_t pkt[48], buf[ETHER_FRAME_MAX];
	size_t off, len;

	memset(pkt, 0, sizeof(pkt));
	pkt[0] = 0x60;
	pkt[5] = 8;
	pkt[6] = 17;
	pkt[7] = 64;
	pkt[8] = 0xfd;		/* from fd00::2, a client */
	pkt[23] = 2;
	memcpy(pkt + 24, host6, 16);
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], ns_ours);
	ck_assert_int_eq(feed(e, S + 5, na_host, buf, &off, &len),
			 ETHER_LEARNED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_mem_eq(frames[1], host_mac, 6);
	ck_assert_uint_eq(frames[1][14 + 7], 63);	/* hop limit */
	ck_assert_mem_eq(frames[1] + 14 + 24, host6, 16);
	ether_free(e);
}
END_TEST

START_TEST(test_pending_bounds)
{
	struct ether *e = make(false);
	uint8_t pkt[28];
	uint8_t dst[4] = { 10, 240, 1, 0 };
	size_t queued = 0;

	/* ETHER_PENDING_PER_NEIGH for one next hop, the rest dropped. */
	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, dst, 64,
		    sizeof(pkt));
	for (int i = 0; i < ETHER_PENDING_PER_NEIGH + 2; i++) {
		enum ether_verdict v = ether_output(e, S, pkt, sizeof(pkt));

		ck_assert_int_eq(v, i < ETHER_PENDING_PER_NEIGH ?
					    ETHER_QUEUED :
					    ETHER_UNRESOLVED);
	}
	/* One request, however many packets wait. */
	ck_assert_uint_eq(n_frames, 1);
	/* ETHER_PENDING_MAX over all next hops. */
	for (int h = 1; queued < 2 * ETHER_PENDING_MAX; h++) {
		dst[3] = (uint8_t)h;
		ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, dst, 64,
			    sizeof(pkt));
		for (int i = 0; i < ETHER_PENDING_PER_NEIGH; i++, queued++)
			(void)ether_output(e, S, pkt, sizeof(pkt));
	}
	ck_assert_uint_eq(ether_pending_count(e), ETHER_PENDING_MAX);
	ck_assert_uint_eq(ether_stats(e)[ETHER_QUEUED], ETHER_PENDING_MAX);
	ether_free(e);
}
END_TEST

START_TEST(test_retry_and_give_up)
{
	struct ether *e = make(false);

	ck_assert_int_eq(send_hex(e, S, tunnel_ping), ETHER_QUEUED);
	ck_assert_int_eq(send_hex(e, S + S / 2, tunnel_ping), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);		/* not yet asked again */
	ck_assert_int_eq(send_hex(e, S + ETHER_RETRY_NS, tunnel_ping),
			 ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 2);		/* once a second */
	ck_assert_hex_eq(frames[1], frame_len[1], arp_request_ours);
	ck_assert_uint_eq(ether_pending_count(e), 3);

	/* Unanswered for ETHER_GIVE_UP_NS: the packets go with it. */
	ck_assert_int_eq(feed_hex(e, S + ETHER_GIVE_UP_NS, arp_request_own),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(ether_pending_count(e), 0);
	ck_assert_uint_eq(ether_stats(e)[ETHER_UNRESOLVED], 3);
	/* The request above made the host known afresh, though. */
	ck_assert_uint_eq(ether_neigh_count(e), 1);
	ether_free(e);
}
END_TEST

START_TEST(test_expiry_and_refresh)
{
	struct ether *e = make(false);
	uint64_t t0 = 10 * S;

	ck_assert_int_eq(feed_hex(e, t0, arp_request_own), ETHER_ANSWERED);
	n_frames = 0;
	/* Fresh: no question asked. */
	ck_assert_int_eq(send_hex(e, t0 + 30 * S, tunnel_ping), ETHER_SENT);
	ck_assert_uint_eq(n_frames, 1);
	/* Close to expiry: sent, and the host asked directly. */
	ck_assert_int_eq(send_hex(e, t0 + ETHER_REACHABLE_NS -
					     ETHER_REFRESH_NS,
				  tunnel_ping),
			 ETHER_SENT);
	ck_assert_uint_eq(n_frames, 3);
	ck_assert_hex_eq(frames[1], frame_len[1], tunnel_ping_framed);
	ck_assert_mem_eq(frames[2], host_mac, 6);	/* unicast ARP */
	ck_assert_uint_eq(frames[2][12], 0x08);
	ck_assert_uint_eq(frames[2][13], 0x06);
	/* Exactly at expiry it is gone: asked by broadcast again. */
	n_frames = 0;
	ck_assert_int_eq(send_hex(e, t0 + ETHER_REACHABLE_NS, tunnel_ping),
			 ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], arp_request_ours);
	ether_free(e);
}
END_TEST

START_TEST(test_gateway)
{
	static const uint8_t gw[4] = { 10, 240, 0, 1 };
	static const uint8_t far[4] = { 198, 51, 100, 7 };
	struct ether *e = make(false);
	uint8_t pkt[28];

	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, far, 64,
		    sizeof(pkt));
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)),
			 ETHER_NO_ROUTE);
	ck_assert_uint_eq(n_frames, 0);
	ck_assert_int_eq(ether_set_gateway(e, AF_INET, gw), 0);
	ck_assert_int_eq(ether_output(e, S, pkt, sizeof(pkt)), ETHER_QUEUED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_mem_eq(frames[0] + 14 + 24, gw, 4);	/* who has gw? */
	ether_free(e);
}
END_TEST

START_TEST(test_output_refusals)
{
	struct ether *e = make(false);
	uint8_t pkt[1600];
	static const uint8_t src[4] = { 10, 0, 0, 2 };

	ipv4_packet(pkt, src, own4, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_LOCAL);
	ipv4_packet(pkt, src, (const uint8_t[]){ 224, 0, 0, 1 }, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_NO_ROUTE);
	ipv4_packet(pkt, src, (const uint8_t[]){ 10, 240, 255, 255 }, 64, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_NO_ROUTE);
	ipv4_packet(pkt, src, host4, 1, 28);
	ck_assert_int_eq(ether_output(e, S, pkt, 28), ETHER_TTL_EXPIRED);
	ipv4_packet(pkt, src, host4, 64, 1501);
	ck_assert_int_eq(ether_output(e, S, pkt, 1501), ETHER_TOO_BIG);
	ipv4_packet(pkt, src, host4, 64, 40);
	ck_assert_int_eq(ether_output(e, S, pkt, 39), ETHER_MALFORMED);
	ck_assert_int_eq(ether_output(e, S, pkt, 0), ETHER_MALFORMED);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_input_forwarding)
{
	struct ether *e = make(false);
	uint8_t f[ETHER_FRAME_MAX];
	size_t off, len;
	static const uint8_t client[4] = { 10, 0, 0, 2 };

	/* A 28-byte packet in a padded 60-byte frame, to our MAC. */
	memset(f, 0, sizeof(f));
	memcpy(f, our_mac, 6);
	memcpy(f + 6, host_mac, 6);
	f[12] = 0x08;
	ipv4_packet(f + 14, host4, client, 64, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_TO_TUNNEL);
	ck_assert_uint_eq(off, 14);
	ck_assert_uint_eq(len, 28);
	ck_assert_uint_eq(f[14 + 8], 63);
	ck_assert_uint_eq(sum16(f + 14, 20), 0);	/* still valid */

	/* For another MAC (a bridge flooding): not ours. */
	f[5] = 9;
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len), ETHER_IGNORED);
	f[5] = 1;
	/* The last hop. */
	ipv4_packet(f + 14, host4, client, 1, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_TTL_EXPIRED);
	/* The segment's broadcast. */
	ipv4_packet(f + 14, host4, (const uint8_t[]){ 10, 240, 255, 255 },
		    64, 28);
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len), ETHER_IGNORED);
	/* A broken header checksum. */
	ipv4_packet(f + 14, host4, client, 64, 28);
	f[14 + 10] ^= 0x40;
	ck_assert_int_eq(ether_input(e, S, f, 60, &off, &len),
			 ETHER_MALFORMED);
	/* IPv6 to a link-local address stays on the link. */
	memset(f + 14, 0, 48);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[14 + 5] = 8;
	f[14 + 6] = 17;
	f[14 + 7] = 64;
	memcpy(f + 14 + 8, host6, 16);
	f[14 + 24] = 0xfe;
	f[14 + 25] = 0x80;
	f[14 + 39] = 7;
	ck_assert_int_eq(ether_input(e, S, f, 14 + 48, &off, &len),
			 ETHER_IGNORED);
	f[14 + 24] = 0xfd;
	f[14 + 25] = 0;
	ck_assert_int_eq(ether_input(e, S, f, 14 + 48, &off, &len),
			 ETHER_TO_TUNNEL);
	ck_assert_uint_eq(len, 48);
	ck_assert_uint_eq(f[14 + 7], 63);
	ck_assert_uint_eq(n_frames, 0);
	ether_free(e);
}
END_TEST

START_TEST(test_echo)
{
	struct ether *e = make(false);

	ck_assert_int_eq(feed_hex(e, S, echo_to_us), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 1);
	ck_assert_hex_eq(frames[0], frame_len[0], echo_reply_ours);
	ck_assert_int_eq(feed_hex(e, S, echo6_to_us), ETHER_ANSWERED);
	ck_assert_uint_eq(n_frames, 2);
	ck_assert_hex_eq(frames[1], frame_len[1], echo6_reply_ours);
	ether_free(e);
}
END_TEST

/* Host i of the table test: 52:54:00:00:HH:LL at 10.240.(2 + HH).LL. */
static void table_host(int i, uint8_t mac[6], uint8_t ip[4])
{
	static const uint8_t base_mac[6] = { 0x52, 0x54, 0, 0, 0, 0 };

	memcpy(mac, base_mac, 6);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
	ip[0] = 10;
	ip[1] = 240;
	ip[2] = (uint8_t)(2 + (i >> 8));
	ip[3] = (uint8_t)i;
}

START_TEST(test_table_full_evicts_least_recent)
{
	struct ether *e = make(false);
	uint8_t f[60], pkt[28], mac[6], ip[4], got[6];

	for (int i = 0; i < ETHER_NEIGH_MAX; i++) {
		table_host(i, mac, ip);
		arp_frame(f, 1, mac, ip, own4);
		n_frames = 0;
		ck_assert_int_eq(ether_input(e, S + (uint64_t)i, f, 60,
					     &(size_t){ 0 }, &(size_t){ 0 }),
				 ETHER_ANSWERED);
	}
	ck_assert_uint_eq(ether_neigh_count(e), ETHER_NEIGH_MAX);
	/* Host 0 is the oldest, but traffic to it makes host 1 so. */
	table_host(0, mac, ip);
	ipv4_packet(pkt, (const uint8_t[]){ 10, 0, 0, 2 }, ip, 64,
		    sizeof(pkt));
	ck_assert_int_eq(ether_output(e, S + 300, pkt, sizeof(pkt)),
			 ETHER_SENT);
	table_host(ETHER_NEIGH_MAX, mac, ip);
	arp_frame(f, 1, mac, ip, own4);
	ck_assert_int_eq(ether_input(e, S + 301, f, 60, &(size_t){ 0 },
				     &(size_t){ 0 }),
			 ETHER_ANSWERED);
	ck_assert_uint_eq(ether_neigh_count(e), ETHER_NEIGH_MAX);
	table_host(0, mac, ip);
	ck_assert(ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	table_host(1, mac, ip);
	ck_assert(!ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	table_host(ETHER_NEIGH_MAX, mac, ip);
	ck_assert(ether_neigh_lookup(e, S + 302, AF_INET, ip, got));
	ck_assert_mem_eq(got, mac, 6);
	ether_free(e);
}
END_TEST

START_TEST(test_dec_ttl_matches_full_sum)
{
	uint8_t hdr[20];
	uint32_t x = 12345;

	for (int i = 0; i < 20000; i++) {
		uint16_t c;

		for (size_t k = 0; k < sizeof(hdr); k++) {
			x = x * 1103515245u + 12345u;
			hdr[k] = (uint8_t)(x >> 16);
		}
		hdr[0] = 0x45;
		hdr[8] = (uint8_t)(hdr[8] | 2);	/* TTL of 2 or more */
		if (i < 256) {			/* every TTL and protocol */
			hdr[8] = (uint8_t)(i < 2 ? i + 2 : i);
			hdr[9] = (uint8_t)(255 - i);
		}
		hdr[10] = hdr[11] = 0;
		c = sum16(hdr, 20);
		hdr[10] = (uint8_t)(c >> 8);
		hdr[11] = (uint8_t)c;
		ether_ipv4_dec_ttl(hdr);
		ck_assert_uint_eq(sum16(hdr, 20), 0);
	}
}
END_TEST

START_TEST(test_settings)
{
	static const uint8_t mcast[4] = { 239, 1, 1, 1 };
	struct ether *e = make(false);

	ck_assert_int_eq(ether_set_address(e, AF_INET, own4, 16), 0);
	ck_assert_int_eq(ether_set_address(e, AF_INET, host4, 16), -EEXIST);
	ck_assert_int_eq(ether_set_address(e, AF_INET, mcast, 16), -EINVAL);
	ck_assert_int_eq(ether_set_gateway(e, AF_INET, mcast), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, 67), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, ETHER_MTU_MAX + 1), -EINVAL);
	ck_assert_int_eq(ether_set_mtu(e, 9000), 0);
	ether_announce(e);
	ck_assert_uint_eq(n_frames, 2);
	/* Gratuitous ARP: our address as sender and target. */
	ck_assert_mem_eq(frames[0] + 14 + 14, own4, 4);
	ck_assert_mem_eq(frames[0] + 14 + 24, own4, 4);
	ck_assert_uint_eq(frames[1][14 + 40], 136);
	ether_free(e);
}
END_TEST

static Suite *tap_suite(void)
{
	Suite *s = suite_create("tap");
	TCase *tc = tcase_create("ether");

	tcase_add_test(tc, test_arp_own_address);
	tcase_add_test(tc, test_arp_proxy);
	tcase_add_test(tc, test_arp_probe_defended);
	tcase_add_test(tc, test_arp_malformed);
	tcase_add_test(tc, test_ns_own_address);
	tcase_add_test(tc, test_ns_validity);
	tcase_add_test(tc, test_ns_proxy_and_dad);
	tcase_add_test(tc, test_resolve_then_send);
	tcase_add_test(tc, test_resolve_ipv6);
	tcase_add_test(tc, test_pending_bounds);
	tcase_add_test(tc, test_retry_and_give_up);
	tcase_add_test(tc, test_expiry_and_refresh);
	tcase_add_test(tc, test_gateway);
	tcase_add_test(tc, test_output_refusals);
	tcase_add_test(tc, test_input_forwarding);
	tcase_add_test(tc, test_echo);
	tcase_add_test(tc, test_table_full_evicts_least_recent);
	tcase_add_test(tc, test_dec_ttl_matches_full_sum);
	tcase_add_test(tc, test_settings);
	suite_add_tcase(s, tc);
	return s;
}

UNIGUARD_TEST_MAIN(tap_suite)
