/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the records of uniguard's two-sided captures
 * (daemon/capture_codec.c), which `uniguard replay` decodes from any file a
 * user gives it. The input is one record as libpcap hands it over. Besides
 * "no crash, no leak, no undefined behaviour" (the record gets a buffer of
 * exactly its size, so a read past it trips AddressSanitizer):
 *
 *  - a record that decodes encodes again, and that decodes to the same
 *    side, direction, endpoints, port and payload;
 *  - decoding refuses with a reason, never silently.
 *
 * libpcap's own file parsing is libpcap's to fuzz.
 */
#include "support_fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "../../daemon/capture_codec.c"

static bool same_endpoint(const struct capture_record *a,
			  const struct capture_record *b)
{
	if (a->peer.addr.sa.sa_family != b->peer.addr.sa.sa_family ||
	    a->peer.has_src != b->peer.has_src ||
	    a->local_port != b->local_port)
		return false;
	if (a->peer.addr.sa.sa_family == AF_INET)
		return memcmp(&a->peer.addr.sin, &b->peer.addr.sin,
			      sizeof(a->peer.addr.sin)) == 0 &&
		       (!a->peer.has_src ||
			memcmp(&a->peer.src.v4, &b->peer.src.v4, 4) == 0);
	return memcmp(&a->peer.addr.sin6.sin6_addr,
		      &b->peer.addr.sin6.sin6_addr, 16) == 0 &&
	       a->peer.addr.sin6.sin6_port == b->peer.addr.sin6.sin6_port &&
	       (!a->peer.has_src ||
		memcmp(&a->peer.src.v6, &b->peer.src.v6, 16) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[CAPTURE_FRAME_MAX];
	struct capture_record rec, back;
	const char *why;
	uint8_t *frame;
	size_t n;

	frame = malloc(size ? size : 1);
	FUZZ_CHECK(frame != NULL, "out of memory");
	memcpy(frame, data, size);
	if (!capture_decode(frame, size, size, &rec, &why)) {
		FUZZ_CHECK(why != NULL, "refused without a reason");
		free(frame);
		return 0;
	}
	FUZZ_CHECK(rec.data >= frame && rec.data + rec.len <= frame + size,
		   "payload outside the record");
	n = capture_encode(&rec, again, sizeof(again));
	FUZZ_CHECK(n > 0, "a decoded record does not encode");
	FUZZ_CHECK(capture_decode(again, n, n, &back, &why),
		   "an encoded record does not decode: %s", why);
	FUZZ_CHECK(back.side == rec.side && back.dir == rec.dir &&
			   back.len == rec.len &&
			   memcmp(back.data, rec.data, rec.len) == 0,
		   "the record changed on its way round");
	if (rec.side == CAPTURE_OUTER)
		FUZZ_CHECK(same_endpoint(&rec, &back),
			   "the endpoints changed on their way round");
	free(frame);
	return 0;
}
