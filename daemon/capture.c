/* SPDX-License-Identifier: MIT */
/*
 * Two-sided capture files (capture.h), read and written by libpcap in its
 * file format (pcap-savefile(5)), nanosecond timestamps, link type
 * LINUX_SLL2; the records themselves are capture_codec.c's.
 */
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ownfile.h"

/* libpcap's largest snapshot length: nothing is ever cut. */
#define CAPTURE_SNAPLEN 262144

struct capture_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	bool flush_each;
	int error;
	uint8_t frame[CAPTURE_FRAME_MAX];
};

int capture_writer_open(struct capture_writer **out, const char *path,
			bool flush_each)
{
	struct capture_writer *w;
	FILE *fp;
	int fd, ret;

	*out = NULL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->flush_each = flush_each;
	/* Our own open, for the mode: what crossed the tunnel is the
	 * user's business alone. */
	fd = ownfile_open(path, OWNFILE_TRUNCATE, 0600);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	fp = fdopen(fd, "wb");
	if (!fp) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	w->dead = pcap_open_dead_with_tstamp_precision(
		CAPTURE_LINKTYPE, CAPTURE_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!w->dead) {
		fclose(fp);
		ret = -ENOMEM;
		goto fail;
	}
	w->dumper = pcap_dump_fopen(w->dead, fp);
	if (!w->dumper) {
		fclose(fp);
		pcap_close(w->dead);
		ret = -EIO;
		goto fail;
	}
	if (flush_each && pcap_dump_flush(w->dumper) < 0) {
		pcap_dump_close(w->dumper);
		pcap_close(w->dead);
		ret = -EIO;
		goto fail;
	}
	*out = w;
	return 0;
fail:
	free(w);
	return ret;
}

int capture_write(struct capture_writer *w, const struct capture_record *rec)
{
	struct pcap_pkthdr hdr;
	size_t n;

	n = capture_encode(rec, w->frame, sizeof(w->frame));
	if (!n)
		return -EINVAL;
	memset(&hdr, 0, sizeof(hdr));
	hdr.ts.tv_sec = (time_t)(rec->ts / 1000000000u);
	/* Nanoseconds, in a file opened for nanosecond precision. */
	hdr.ts.tv_usec = (suseconds_t)(rec->ts % 1000000000u);
	hdr.caplen = (bpf_u_int32)n;
	hdr.len = (bpf_u_int32)n;
	pcap_dump((u_char *)w->dumper, &hdr, w->frame);
	if (w->flush_each && pcap_dump_flush(w->dumper) < 0) {
		w->error = -EIO;
		return -EIO;
	}
	return 0;
}

int capture_writer_close(struct capture_writer *w)
{
	int ret;

	if (!w)
		return 0;
	ret = w->error;
	if (pcap_dump_flush(w->dumper) < 0 ||
	    ferror(pcap_dump_file(w->dumper)))
		ret = -EIO;
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w);
	return ret;
}

struct capture_reader {
	pcap_t *p;
	unsigned long number;
};

int capture_reader_open(struct capture_reader **out, const char *path,
			char *err, size_t errlen)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	struct capture_reader *r;
	int linktype;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->p = pcap_open_offline_with_tstamp_precision(
		path, PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (!r->p) {
		if (err)
			snprintf(err, errlen, "%s", errbuf);
		free(r);
		return -EINVAL;
	}
	linktype = pcap_datalink(r->p);
	if (linktype != CAPTURE_LINKTYPE) {
		if (err)
			snprintf(err, errlen, "link type %d, not LINUX_SLL2 "
				 "(%d): not a capture of uniguard's", linktype,
				 CAPTURE_LINKTYPE);
		pcap_close(r->p);
		free(r);
		return -EINVAL;
	}
	*out = r;
	return 0;
}

int capture_read(struct capture_reader *r, struct capture_record *rec,
		 const char **why)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;
	int ret;

	*why = NULL;
	ret = pcap_next_ex(r->p, &hdr, &data);
	if (ret == PCAP_ERROR_BREAK)
		return 0;
	if (ret != 1) {
		*why = pcap_geterr(r->p);
		return -EIO;
	}
	r->number++;
	if (hdr->ts.tv_sec < 0 || hdr->ts.tv_usec < 0 ||
	    hdr->ts.tv_usec >= 1000000000) {
		*why = "timestamp out of range";
		return -EINVAL;
	}
	if (!capture_decode(data, hdr->caplen, hdr->len, rec, why))
		return -EINVAL;
	rec->ts = (uint64_t)hdr->ts.tv_sec * 1000000000u +
		  (uint64_t)hdr->ts.tv_usec;
	return 1;
}

unsigned long capture_reader_number(const struct capture_reader *r)
{
	return r->number;
}

void capture_reader_close(struct capture_reader *r)
{
	if (!r)
		return;
	pcap_close(r->p);
	free(r);
}
