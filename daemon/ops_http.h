/* SPDX-License-Identifier: MIT */
/*
 * The operations listener (--http ADDR:PORT): a small HTTP/1.x server for
 * those who watch a gateway they cannot log in to.
 *   GET /healthz   200 "ok", or 503 and the reason (health.h)
 *   GET /metrics   the Prometheus page (metrics.h)
 * One request per connection, answered and closed. It serves from a thread
 * of its own, takes the core's lock only to copy what it shows, and holds
 * a fixed number of connections, each with a deadline: a slow or hostile
 * client costs it a slot for a few seconds and never delays a packet.
 */
#ifndef UNIGUARD_OPS_HTTP_H
#define UNIGUARD_OPS_HTTP_H

struct daemon;
struct ops_http;

/* Connections held at once; more evict the oldest still being read. */
#define OPS_HTTP_CONNS_MAX 16
/* From accepting a connection to its whole request head, and from there
 * to its whole answer sent, in milliseconds. */
#define OPS_HTTP_READ_TIMEOUT_MS 5000
#define OPS_HTTP_WRITE_TIMEOUT_MS 10000

/* Binds and listens on addr ("192.0.2.1:9586", "[::]:9586") before
 * privileges are dropped; the thread starts with ops_http_start. 0 or
 * -errno (-EINVAL: addr is not a numeric ADDR:PORT). */
int ops_http_open(struct ops_http **out, const char *addr, struct daemon *d);
int ops_http_start(struct ops_http *h);
/* Stops the thread and closes every connection; NULL is fine. */
void ops_http_close(struct ops_http *h);

#endif
