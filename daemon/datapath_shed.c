/* SPDX-License-Identifier: MIT */
/*
 * The one handshake-flood policy (datapath_shed.h).
 *
 * A handshake message costs the receiving thread a cookie reply, or a
 * Diffie-Hellman or four: a flood of them faster than the thread can
 * answer would fill the socket's buffer, and data would be lost with the
 * flood. So handshake messages may take at most half of the thread's time
 * in each window of WINDOW_NS; beyond that they are dropped unseen (and
 * counted), and data keeps the other half whatever the flood's rate.
 * Below that, the core's protocol is what a flood meets: cookies once it
 * sees more than a few hundred handshake messages a second, and a rate
 * per source (core/receive.c).
 *
 * Why here and not in the core: what a flood exhausts is the receiving
 * thread's time and the socket's buffer, and only the thread can measure
 * them. The core has no clock of its own and no notion of what a message
 * costs the machine it runs on, and the packet path keeps no queue of
 * handshake messages whose length the core could be told (they are
 * handled in the batch they arrive in). The share follows the thread's
 * own speed: a slower build or machine sheds at a lower rate, a faster
 * one at a higher.
 */
#include "datapath_shed.h"

#include "datapath_shared.h"

#define WINDOW_NS 10000000u
#define SHARE_NS (WINDOW_NS / 2)

void datapath_shed_init(struct datapath_shed *s, bool on, uint64_t *shed)
{
	*s = (struct datapath_shed){ .on = on, .shed = shed };
}

bool datapath_shed_allow(struct datapath_shed *s, uint64_t now)
{
	if (now - s->window_start >= WINDOW_NS) {
		s->window_start = now;
		s->spent = 0;
	}
	if (s->spent < SHARE_NS || !s->on)
		return true;
	datapath_count(s->shed);
	return false;
}

void datapath_shed_spent(struct datapath_shed *s, uint64_t start,
			 uint64_t end)
{
	s->spent += end - start;
}
