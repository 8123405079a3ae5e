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

/* Closes first..last (last included). */
static void close_span(unsigned int first, unsigned int last)
{
	struct rlimit rl;
	unsigned int end = FALLBACK_FD_LIMIT;

	if (first > last)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, first, last, 0u) == 0)
		return;
#endif
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)end)
		end = (unsigned int)rl.rlim_cur;
	for (unsigned int fd = first; fd <= last && fd < end; fd++)
		(void)close((int)fd);
}

/* Everything from 3 up, but the descriptors in keep: the spans between
 * them, in increasing order. */
static void close_inherited(const int *keep, size_t n)
{
	unsigned int next = 3;

	for (;;) {
		unsigned int lowest = ~0u;

		for (size_t i = 0; i < n; i++) {
			if (keep[i] >= (int)next && (unsigned int)keep[i] < lowest)
				lowest = (unsigned int)keep[i];
		}
		if (lowest == ~0u)
			break;
		close_span(next, lowest - 1);
		next = lowest + 1;
	}
	close_span(next, ~0u);
}

void startup_harden(const int *keep, size_t n)
{
	const struct rlimit no_core = { 0, 0 };

	close_inherited(keep, n);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
	(void)setrlimit(RLIMIT_CORE, &no_core);
}
