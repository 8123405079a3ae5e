/* SPDX-License-Identifier: MIT */
/*
 * Memory for keys, kept out of core dumps (keymem.h).
 *
 * The core asks for a few sizes only (a device, a peer, a keypair), many
 * times each: one free list per size, carved from chunks mapped with mmap
 * and marked MADV_DONTDUMP as a whole, so that the mark costs one system
 * call a chunk rather than one a peer. Chunks stay mapped (the most the
 * gateway ever held); a request larger than a quarter of a chunk gets a
 * mapping of its own, unmapped when given back. Freed objects go on their
 * list already wiped (wg_secret_free); the list's link overwrites only
 * their first bytes.
 *
 * Under AddressSanitizer, a freed object is poisoned until it is handed
 * out again, so that the sanitized daemon still reports a use after free.
 */
#include "keymem.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, len) ASAN_POISON_MEMORY_REGION(p, len)
#define UNPOISON(p, len) ASAN_UNPOISON_MEMORY_REGION(p, len)
#else
#define POISON(p, len) ((void)(p), (void)(len))
#define UNPOISON(p, len) ((void)(p), (void)(len))
#endif

#define CHUNK_BYTES (256u * 1024u)
#define ALIGN 16u
#define MAX_SIZES 16

struct free_object {
	struct free_object *next;
};

struct size_class {
	size_t size;			/* rounded up to ALIGN */
	struct free_object *free;
	uint8_t *carve;			/* the rest of the newest chunk */
	size_t left;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct size_class classes[MAX_SIZES];
static size_t n_classes;
static bool dump_mark_refused;

static size_t round_up(size_t len, size_t to)
{
	return (len + to - 1) / to * to;
}

static void *map(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_DONTDUMP
	if (madvise(p, len, MADV_DONTDUMP) < 0)
		__atomic_store_n(&dump_mark_refused, true, __ATOMIC_RELAXED);
#else
	__atomic_store_n(&dump_mark_refused, true, __ATOMIC_RELAXED);
#endif
	return p;
}

static size_t own_mapping_bytes(size_t len)
{
	return round_up(len, (size_t)sysconf(_SC_PAGESIZE));
}

/* The class for size, made when absent and there is room; NULL if not. */
static struct size_class *class_of(size_t size, bool make)
{
	for (size_t i = 0; i < n_classes; i++)
		if (classes[i].size == size)
			return &classes[i];
	if (!make || n_classes == MAX_SIZES)
		return NULL;
	classes[n_classes].size = size;
	return &classes[n_classes++];
}

static void *take(struct size_class *c)
{
	void *p;

	if (c->free) {
		p = c->free;
		UNPOISON(p, c->size);
		c->free = c->free->next;
		memset(p, 0, c->size);
		return p;
	}
	if (c->left < c->size) {
		c->carve = map(CHUNK_BYTES);
		if (!c->carve) {
			c->left = 0;
			return NULL;
		}
		c->left = CHUNK_BYTES;
		POISON(c->carve, c->left);
	}
	p = c->carve;
	c->carve += c->size;
	c->left -= c->size;
	UNPOISON(p, c->size);
	return p;		/* fresh from mmap: zero */
}

void *keymem_alloc(size_t len)
{
	size_t size = round_up(len ? len : 1, ALIGN);
	struct size_class *c;
	void *p = NULL;

	if (size <= CHUNK_BYTES / 4) {
		pthread_mutex_lock(&lock);
		c = class_of(size, true);
		if (c)
			p = take(c);
		pthread_mutex_unlock(&lock);
		if (c)
			return p;
	}
	return map(own_mapping_bytes(len));
}

void keymem_free(void *p, size_t len)
{
	size_t size = round_up(len ? len : 1, ALIGN);
	struct size_class *c = NULL;

	if (!p)
		return;
	if (size <= CHUNK_BYTES / 4) {
		pthread_mutex_lock(&lock);
		c = class_of(size, false);
		if (c) {
			struct free_object *o = p;

			o->next = c->free;
			c->free = o;
			POISON(p, c->size);
		}
		pthread_mutex_unlock(&lock);
	}
	if (!c)
		munmap(p, own_mapping_bytes(len));
}

bool keymem_out_of_dumps(void)
{
	return !__atomic_load_n(&dump_mark_refused, __ATOMIC_RELAXED);
}
