/* SPDX-License-Identifier: MIT */
/*
 * The first thing main() does (startup.h). Descriptors: close_range(2),
 * with a loop for kernels without it. Dumps: PR_SET_DUMPABLE 0, as
 * ssh-agent and gpg-agent do, plus a zero core limit for systems where
 * the flag is unknown.
 */
#include "startup.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

/* How far the fallback loop goes: well past anything a caller opens. */
#define FALLBACK_FD_LIMIT 65536

static void close_inherited(void)
{
	struct rlimit rl;
	long last = FALLBACK_FD_LIMIT;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, 3u, ~0u, 0u) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)last)
		last = (long)rl.rlim_cur;
	for (long fd = 3; fd < last; fd++)
		(void)close((int)fd);
}

void startup_harden(void)
{
	const struct rlimit no_core = { 0, 0 };

	close_inherited();
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	(void)setrlimit(RLIMIT_CORE, &no_core);
}
