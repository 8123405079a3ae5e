/* SPDX-License-Identifier: MIT */
/*
 * The key log (keylog.h), in the line format Wireshark's WireGuard dissector
 * documents for its key log file ("<key-type> = <base64-encoded-key>", the
 * four key types of keylog.h), keys in standard base64 as `wg` prints them.
 */
#include "keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "crypto.h"
#include "ownfile.h"


struct keylog {
	FILE *fp;
	int error;
	bool has_private;
	uint8_t private_pub[WG_KEY_LEN];	/* the public half logged */
	uint8_t (*peers)[WG_KEY_LEN];		/* public keys logged */
	size_t n_peers, cap_peers;
	uint8_t (*psks)[WG_KEY_LEN];		/* distinct, non-zero */
	size_t n_psks;
	/* stdio's buffer, ours so that it is wiped at the end. */
	char buf[1024];
};

static void write_key(struct keylog *kl, const char *type,
		      const uint8_t key[WG_KEY_LEN])
{
	char b64[WG_KEY_BASE64_LEN];

	wg_key_to_base64(b64, key);
	if (fprintf(kl->fp, "%s = %s\n", type, b64) < 0)
		kl->error = -EIO;
	wg_wipe(b64, sizeof(b64));
}

static void flush(struct keylog *kl)
{
	/* Line by line, so that Wireshark reading along sees each key
	 * before the packets that need it. */
	if (fflush(kl->fp) != 0)
		kl->error = -EIO;
}

int keylog_open(struct keylog **out, const char *path)
{
	struct keylog *kl;
	int fd, ret;

	*out = NULL;
	kl = calloc(1, sizeof(*kl));
	if (!kl)
		return -ENOMEM;
	fd = ownfile_open(path, OWNFILE_TRUNCATE, 0600);
	if (fd < 0) {
		free(kl);
		return fd;
	}
	if (!(kl->fp = fdopen(fd, "w"))) {
		ret = -errno;
		close(fd);
		free(kl);
		return ret;
	}
	setvbuf(kl->fp, kl->buf, _IOFBF, sizeof(kl->buf));
	*out = kl;
	return 0;
}

void keylog_ephemeral(struct keylog *kl, const char *line)
{
	if (!kl)
		return;
	if (fprintf(kl->fp, "%s\n", line) < 0)
		kl->error = -EIO;
	for (size_t i = 0; i < kl->n_psks; i++) {
		if (i && fprintf(kl->fp, "%s\n", line) < 0)
			kl->error = -EIO;
		write_key(kl, "PRESHARED_KEY", kl->psks[i]);
	}
	flush(kl);
}

static bool seen_peer(const struct keylog *kl, const uint8_t *pub)
{
	for (size_t i = 0; i < kl->n_peers; i++) {
		if (memcmp(kl->peers[i], pub, WG_KEY_LEN) == 0)
			return true;
	}
	return false;
}

static int note_peer(struct keylog *kl, const uint8_t *pub)
{
	if (kl->n_peers == kl->cap_peers) {
		size_t cap = kl->cap_peers ? 2 * kl->cap_peers : 16;
		void *p = realloc(kl->peers, cap * sizeof(*kl->peers));

		if (!p)
			return -ENOMEM;
		kl->peers = p;
		kl->cap_peers = cap;
	}
	memcpy(kl->peers[kl->n_peers++], pub, WG_KEY_LEN);
	return 0;
}

static void clear_psks(struct keylog *kl)
{
	if (kl->psks)
		wg_wipe(kl->psks, kl->n_psks * sizeof(*kl->psks));
	free(kl->psks);
	kl->psks = NULL;
	kl->n_psks = 0;
}

/* The distinct non-zero preshared keys of cfg's peers. */
static int collect_psks(struct keylog *kl, const struct wg_config *cfg)
{
	clear_psks(kl);
	if (!cfg->n_peers)
		return 0;
	kl->psks = calloc(cfg->n_peers, sizeof(*kl->psks));
	if (!kl->psks)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		const uint8_t *psk = cfg->peers[i].preshared_key;
		bool dup = false;

		if (wg_is_zero(psk, WG_KEY_LEN))
			continue;
		for (size_t k = 0; k < kl->n_psks && !dup; k++)
			dup = wg_equal(kl->psks[k], psk, WG_KEY_LEN);
		if (!dup)
			memcpy(kl->psks[kl->n_psks++], psk, WG_KEY_LEN);
	}
	return 0;
}

int keylog_sync(struct keylog *kl, struct wg_device *dev)
{
	struct wg_config cfg;
	int ret;

	if (!kl)
		return 0;
	ret = wg_device_get(dev, &cfg);
	if (ret)
		return ret;
	if (cfg.flags & WG_DEVICE_HAS_PRIVATE_KEY) {
		uint8_t pub[WG_KEY_LEN];

		/* The core holds only keys whose public half exists. */
		if (!wg_x25519_public(pub, cfg.private_key))
			memset(pub, 0, sizeof(pub));
		if (!kl->has_private ||
		    memcmp(pub, kl->private_pub, WG_KEY_LEN) != 0) {
			write_key(kl, "LOCAL_STATIC_PRIVATE_KEY",
				  cfg.private_key);
			memcpy(kl->private_pub, pub, WG_KEY_LEN);
			kl->has_private = true;
		}
	}
	for (size_t i = 0; i < cfg.n_peers && !ret; i++) {
		const uint8_t *pub = cfg.peers[i].public_key;

		if (seen_peer(kl, pub))
			continue;
		ret = note_peer(kl, pub);
		if (!ret)
			write_key(kl, "REMOTE_STATIC_PUBLIC_KEY", pub);
	}
	if (!ret)
		ret = collect_psks(kl, &cfg);
	flush(kl);
	wg_config_clear(&cfg);
	return ret ? ret : kl->error;
}

int keylog_close(struct keylog *kl)
{
	int ret;

	if (!kl)
		return 0;
	ret = kl->error;
	if (fclose(kl->fp) != 0)
		ret = -EIO;
	clear_psks(kl);
	free(kl->peers);
	wg_wipe(kl, sizeof(*kl));
	free(kl);
	return ret;
}
