/* SPDX-License-Identifier: MIT */
/*
 * What the Ethernet router's suites (test_ether*.c) share: known-answer
 * frames, the segment's addresses, a fake driver recording what is
 * emitted, and packet builders (ether_fixtures.h).
 */
#include "ether_fixtures.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Known answers: frames built independently of this code (a short script
 * packing each header by hand), our MAC 02:00:00:00:00:01, the host's
 * 52:54:00:12:34:56, the segment 10.240.0.0/16 and fd00:240::/64. */
const char arp_request_own[] =
	"ffffffffffff525400123456080600010800060400015254001234560af00002"
	"0000000000000af00005000000000000000000000000000000000000";
const char arp_reply_own[] =
	"525400123456020000000001080600010800060400020200000000010af00005"
	"5254001234560af00002000000000000000000000000000000000000";
const char arp_reply_proxy[] =
	"525400123456020000000001080600010800060400020200000000010af06402"
	"5254001234560af00002000000000000000000000000000000000000";
const char arp_request_ours[] =
	"ffffffffffff020000000001080600010800060400010200000000010af00005"
	"0000000000000af00002000000000000000000000000000000000000";
const char arp_reply_host[] =
	"020000000001525400123456080600010800060400025254001234560af00002"
	"0200000000010af00005000000000000000000000000000000000000";
const char ns_own[] =
	"3333ff00000552540012345686dd6000000000203afffd000240000000000000"
	"000000000002ff0200000000000000000001ff0000058700f45400000000fd00"
	"02400000000000000000000000050101525400123456";
const char na_own[] =
	"52540012345602000000000186dd6000000000203afffd000240000000000000"
	"000000000005fd000240000000000000000000000002880095d3e0000000fd00"
	"02400000000000000000000000050201020000000001";
const char ns_ours[] =
	"3333ff00000202000000000186dd6000000000203afffd000240000000000000"
	"000000000005ff0200000000000000000001ff0000028700791300000000fd00"
	"02400000000000000000000000020101020000000001";
const char na_host[] =
	"02000000000152540012345686dd6000000000203afffd000240000000000000"
	"000000000002fd0002400000000000000000000000058800911b60000000fd00"
	"02400000000000000000000000020201525400123456";
/* 10.0.0.2 -> 10.240.0.2, ICMP echo, TTL 64, from the tunnel; and framed
 * for the host with TTL 63. */
const char tunnel_ping[] =
	"45000024424240004001e3a30a0000020af0000208001f2f12340001756e6967"
	"75617264";
const char tunnel_ping_framed[] =
	"525400123456020000000001080045000024424240003f01e4a30a0000020af0"
	"000208001f2f12340001756e69677561726400000000000000000000";
const char echo_to_us[] =
	"02000000000152540012345608004500002400070000400164ec0af000020af0"
	"000508001f2f12340001756e69677561726400000000000000000000";
const char echo_reply_ours[] =
	"52540012345602000000000108004500002400000000400164f30af000050af0"
	"00020000272f12340001756e69677561726400000000000000000000";
const char echo6_to_us[] =
	"02000000000152540012345686dd6000000000103a40fd000240000000000000"
	"000000000002fd0002400000000000000000000000058000a85b12340001756e"
	"696775617264";
const char echo6_reply_ours[] =
	"52540012345602000000000186dd6000000000103a40fd000240000000000000"
	"000000000005fd0002400000000000000000000000028100a75b12340001756e"
	"696775617264";

const uint8_t our_mac[6] = { 0x02, 0, 0, 0, 0, 1 };
const uint8_t host_mac[6] = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 };
const uint8_t own4[4] = { 10, 240, 0, 5 };
const uint8_t host4[4] = { 10, 240, 0, 2 };
const uint8_t own6[16] = { 0xfd, 0, 0x02, 0x40, [15] = 5 };
const uint8_t host6[16] = { 0xfd, 0, 0x02, 0x40, [15] = 2 };

uint8_t frames[ETHER_TEST_MAX_FRAMES][ETHER_FRAME_MAX];
size_t frame_len[ETHER_TEST_MAX_FRAMES];
size_t n_frames;

static void record_frame(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	ck_assert_uint_lt(n_frames, ETHER_TEST_MAX_FRAMES);
	ck_assert_uint_le(len, ETHER_FRAME_MAX);
	memcpy(frames[n_frames], frame, len);
	frame_len[n_frames++] = len;
}

struct ether *make(bool proxy)
{
	struct ether *e = ether_new(our_mac, record_frame, NULL);

	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(ether_set_address(e, AF_INET, own4, 16), 0);
	ck_assert_int_eq(ether_set_address(e, AF_INET6, own6, 64), 0);
	ether_set_proxy(e, proxy);
	n_frames = 0;
	return e;
}

enum ether_verdict feed(struct ether *e, uint64_t now, const char *hex,
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

enum ether_verdict feed_hex(struct ether *e, uint64_t now, const char *hex)
{
	uint8_t buf[ETHER_FRAME_MAX];
	size_t off, len;

	return feed(e, now, hex, buf, &off, &len);
}

enum ether_verdict send_hex(struct ether *e, uint64_t now, const char *hex)
{
	size_t n;
	uint8_t *b = hex_decode_alloc(hex, &n);
	enum ether_verdict v = ether_output(e, now, b, n);

	free(b);
	return v;
}

size_t arp_frame(uint8_t *f, uint16_t op, const uint8_t *mac,
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

uint16_t sum16(const uint8_t *p, size_t n)
{
	return (uint16_t)~ref_ones_sum(p, n, 0);
}

size_t ipv4_packet(uint8_t *p, const uint8_t *src, const uint8_t *dst,
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

