/* SPDX-License-Identifier: MIT */
/*
 * The event loop's one abstraction: a descriptor and what to do when epoll
 * says it is ready. Each source (tun, UDP socket, UAPI listener and clients,
 * signals) embeds one, and epoll carries a pointer back to it.
 */
#ifndef UNIGUARD_LOOP_H
#define UNIGUARD_LOOP_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop_source {
	int fd;
	void (*ready)(struct loop_source *src, uint32_t events);
};

/* The structure a loop_source is embedded in. */
#define loop_container(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

static inline int loop_add(int epfd, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

static inline int loop_mod(int epfd, struct loop_source *src, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = src };

	return epoll_ctl(epfd, EPOLL_CTL_MOD, src->fd, &ev) < 0 ? -errno : 0;
}

static inline void loop_del(int epfd, struct loop_source *src)
{
	if (src->fd >= 0)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, NULL);
}

#endif
