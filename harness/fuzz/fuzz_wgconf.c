/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the wg-quick INI parser (wgconf.h), fed one line at a
 * time. Besides "no crash, no leak, no undefined behaviour", it holds the
 * core to these promises:
 *
 *  - a refused file names a line of the input and quotes no key;
 *  - an accepted file, emitted with wg_uapi_emit_set, parses back as UAPI
 *    to an equal change (what `uniguard convert` relies on);
 *  - the -c format detector calls an accepted file with a section INI.
 */
#include "support_fuzz.h"

#include <errno.h>
#include <string.h>

#include "uapi.h"
#include "wgconf.h"

static int conf_line(void *ctx, const char *line, size_t len)
{
	return wg_conf_line(ctx, line, len);
}

static void check_converts(const struct wg_config *cfg)
{
	struct wg_buf b = { 0 };
	struct wg_config again;
	struct wg_parse_error err;
	int ret;

	wg_uapi_emit_set(&b, cfg);
	fuzz_check_buf(&b);
	wg_config_init(&again);
	ret = wg_uapi_parse_set(b.data, b.len, &again, &err);
	FUZZ_CHECK(ret == 0,
		   "converted text does not parse: line %u %s: %s\n%s",
		   err.line, err.key, err.message, b.data);
	FUZZ_CHECK(wg_config_equal(cfg, &again),
		   "the converted text parses to another change:\n%s", b.data);
	wg_config_clear(&again);
	wg_buf_clear(&b);
}

static bool has_section(const struct wg_conf_parser *p,
			const struct wg_config *cfg)
{
	return p->interface_line != 0 || cfg->n_peers > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wg_config cfg;
	struct wg_conf_parser p;
	enum wg_config_format format;
	unsigned int lines;
	int ret;

	format = wg_config_detect((const char *)data, size);
	wg_config_init(&cfg);
	wg_conf_begin(&p, &cfg);
	ret = fuzz_for_each_line(data, size, conf_line, &p, &lines);
	if (!ret)
		ret = wg_conf_end(&p);
	if (ret) {
		FUZZ_CHECK(ret == -EINVAL, "file refused with %d", ret);
		fuzz_check_parse_error(&p.err, lines);
	} else {
		check_converts(&cfg);
		if (has_section(&p, &cfg))
			FUZZ_CHECK(format == WG_CONFIG_FORMAT_INI,
				   "an INI file detected as format %d",
				   (int)format);
	}
	wg_config_clear(&cfg);
	return 0;
}
