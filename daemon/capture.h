/* SPDX-License-Identifier: MIT */
/*
 * Captures that hold both sides of an interface in one pcap file: what
 * `--capture` records while the daemon runs, what `uniguard replay` reads
 * and writes.
 *
 * The file is a classic pcap (nanosecond timestamps, the Unix epoch) of
 * link type LINUX_SLL2, whose header carries an interface index and a
 * packet type; uniguard uses them to tell the records apart:
 *
 *   interface index 1, "outer": a WireGuard datagram, given an IPv4 or
 *       IPv6 header and a UDP header that hold the peer's address and port
 *       and ours (0.0.0.0 or :: when the local address is not known);
 *   interface index 2, "inner": an IP packet as the tunnel carries it;
 *   packet type 0 ("to us"): an input of uniguard's, received or read;
 *   packet type 4 ("outgoing"): an output, sent or delivered.
 *
 * Wireshark and tshark read these files as they are (with the WireGuard
 * dissector on the outer records), and the replay feeds the inputs to the
 * core in order. Encoding and decoding are pure functions, so the format
 * is fuzzed and tested without files; libpcap reads and writes the files.
 */
#ifndef UNIGUARD_CAPTURE_H
#define UNIGUARD_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "endpoint.h"

/* LINKTYPE_LINUX_SLL2 (tcpdump.org's link-layer header types). */
#define CAPTURE_LINKTYPE 276
#define CAPTURE_SLL2_LEN 20
/* The largest record: an SLL2, IPv6 and UDP header on a full datagram. */
#define CAPTURE_FRAME_MAX (CAPTURE_SLL2_LEN + 40 + 8 + 65535)

enum capture_side {
	CAPTURE_OUTER = 1,	/* WireGuard datagrams, with their endpoints */
	CAPTURE_INNER = 2,	/* tunnel packets */
};

enum capture_dir {
	CAPTURE_IN = 0,		/* into uniguard (SLL2 "to us") */
	CAPTURE_OUT = 4,	/* out of uniguard (SLL2 "outgoing") */
};

struct capture_record {
	uint64_t ts;		/* nanoseconds since the Unix epoch */
	enum capture_side side;
	enum capture_dir dir;
	/* Outer records: the peer, with our address in src (has_src
	 * false when it is unknown), and our port. */
	struct wg_endpoint peer;
	uint16_t local_port;
	const uint8_t *data;	/* the datagram's payload, or the packet */
	size_t len;
};

/* Encodes rec as one SLL2 frame into out: its length, or 0 when it does
 * not fit (or an outer record's endpoint is unset). */
size_t capture_encode(const struct capture_record *rec, uint8_t *out,
		      size_t outlen);
/* Decodes one frame (caplen bytes captured of len); rec->data points
 * into frame. false, with why set, for anything else than a record of
 * this format: why is a short phrase for "record N: why". */
bool capture_decode(const uint8_t *frame, size_t caplen, size_t len,
		    struct capture_record *rec, const char **why);

/* Writing. The file is created (or truncated) with mode 0600. With
 * flush_each every record reaches the file at once, so that a capture is
 * readable while it grows and survives a crash. 0 or negative errno. */
struct capture_writer;
int capture_writer_open(struct capture_writer **out, const char *path,
			bool flush_each);
int capture_write(struct capture_writer *w, const struct capture_record *rec);
/* Flushes and closes: 0, or negative errno if anything was not written. */
int capture_writer_close(struct capture_writer *w);

/* Reading. err (if not NULL) gets libpcap's reason on failure. */
struct capture_reader;
int capture_reader_open(struct capture_reader **out, const char *path,
			char *err, size_t errlen);
/* 1 with rec filled (its data valid until the next call), 0 at the end,
 * -EINVAL for a record of another format (why says what; the next call
 * goes on with the next record), -EIO when the file cannot be read. */
int capture_read(struct capture_reader *r, struct capture_record *rec,
		 const char **why);
/* The number of the record read last, from 1, as Wireshark counts. */
unsigned long capture_reader_number(const struct capture_reader *r);
void capture_reader_close(struct capture_reader *r);

#endif
