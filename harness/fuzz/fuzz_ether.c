/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the tap backend's Ethernet logic (netdev/ether*.c), which
 * reads every frame a segment sends. The input is a script of steps: a
 * frame from the segment, a packet from the tunnel, the clock moving on, or
 * the tunnel's routes changing. Besides "no crash, no leak, no undefined
 * behaviour" it holds ether.c to its bounds:
 *
 *  - every frame it emits is whole Ethernet, from our MAC, no longer than
 *    ETHER_FRAME_MAX;
 *  - a packet it hands the tunnel lies inside the frame it came in;
 *  - the neighbour table and the waiting packets stay within their limits.
 *
 * netdev/ether*.c are linked in: they are sans-I/O, like the core.
 */
#include "support_fuzz.h"

#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "ether.h"

static const uint8_t fuzz_mac[ETHER_ADDR_LEN] = { 0x02, 0, 0, 0, 0, 1 };

static void check_frame(void *ctx, const uint8_t *frame, size_t len)
{
	(void)ctx;
	FUZZ_CHECK(len >= ETHER_HDR_LEN && len <= ETHER_FRAME_MAX,
		   "emitted a frame of %zu bytes", len);
	FUZZ_CHECK(memcmp(frame + ETHER_ADDR_LEN, fuzz_mac,
			  ETHER_ADDR_LEN) == 0,
		   "emitted a frame from another MAC");
}

/* Takes n bytes from the script, or fewer at its end. */
static size_t take(const uint8_t **data, size_t *size, size_t n)
{
	if (n > *size)
		n = *size;
	*data += n;
	*size -= n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t own4[4] = { 10, 240, 0, 5 };
	static const uint8_t gw4[4] = { 10, 240, 0, 1 };
	static const uint8_t own6[16] = { 0xfd, 0, 0x02, 0x40, [15] = 5 };
	static uint8_t frame[ETHER_FRAME_MAX];
	struct ether *e = ether_new(fuzz_mac, check_frame, NULL);
	uint64_t now = ETHER_SEC;

	FUZZ_CHECK(e != NULL, "out of memory");
	(void)ether_set_address(e, AF_INET, own4, 16);
	(void)ether_set_address(e, AF_INET6, own6, 64);
	(void)ether_set_gateway(e, AF_INET, gw4);
	while (size >= 3) {
		uint8_t op = data[0];
		size_t len = (size_t)(data[1] << 8 | data[2]) % 2048;
		const uint8_t *body;
		size_t off, pkt_len;

		take(&data, &size, 3);
		body = data;
		len = take(&data, &size, len);
		switch (op % 4) {
		case 0:
			memcpy(frame, body, len);
			if (ether_input(e, now, frame, len, &off, &pkt_len) ==
			    ETHER_TO_TUNNEL)
				FUZZ_CHECK(off + pkt_len <= len &&
						   pkt_len >= 20,
					   "packet %zu+%zu of a %zu-byte frame",
					   off, pkt_len, len);
			break;
		case 1:
			(void)ether_output(e, now, body, len);
			break;
		case 2:
			/* Up to a little over a minute: every expiry. */
			now += (uint64_t)(op >> 2) * (ETHER_SEC / 4) +
			       (uint64_t)len * 1000;
			break;
		case 3: {
			struct ether_prefix p[4];
			size_t n = len / sizeof(p[0]) < 4 ?
					   len / sizeof(p[0]) :
					   4;

			memcpy(p, body, n * sizeof(p[0]));
			for (size_t i = 0; i < n; i++) {
				p[i].family = p[i].family & 1 ? AF_INET6 :
								AF_INET;
				p[i].len %= p[i].family == AF_INET ? 33 : 129;
			}
			(void)ether_set_tunnel_routes(e, p, n);
			ether_set_proxy(e, op & 4);
			break;
		}
		}
		FUZZ_CHECK(ether_neigh_count(e) <= ETHER_NEIGH_MAX,
			   "%zu neighbours", ether_neigh_count(e));
		FUZZ_CHECK(ether_pending_count(e) <= ETHER_PENDING_MAX,
			   "%zu packets waiting", ether_pending_count(e));
	}
	ether_free(e);
	return 0;
}
