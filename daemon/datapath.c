/* SPDX-License-Identifier: MIT */
/*
 * The packet path's lifecycle (datapath.h): the two pipelines
 * (datapath_send.h, datapath_receive.h) made and freed, the two threads
 * that run them (datapath_wait.h) started and stopped, and the event
 * loop's turn at the same batches when there are no threads.
 */
#include "datapath.h"

#include <errno.h>
#include <stdlib.h>

#include "datapath_receive.h"
#include "datapath_send.h"
#include "datapath_wait.h"

/* The longest a thread polls after work, in microseconds: a reply's round
 * trip through a peer on the same network, crypto included, fits in it. */
#define SPIN_MAX_US 200
/* The tun device's queue: the default 500 packets are 7 ms of a 1 Gbit/s
 * stream, less than a busy machine may keep a thread from its CPU. */
#define TUN_QUEUE 2048

struct datapath {
	struct datapath_host h;
	struct datapath_options o;
	struct datapath_send *tx;
	struct datapath_receive *rx;
	/* Only while the threads run. */
	struct datapath_wait *wait;
	pthread_t tx_thread, rx_thread;
};

void datapath_options_default(struct datapath_options *opts)
{
	*opts = (struct datapath_options){
		.threads = true,
		.coalesce = true,
		.answer = true,
		.shed = true,
		.pin = DATAPATH_PIN_ON_TWO_CPUS,
		.spin = SPIN_MAX_US,
		.share = true,
		.batch = DATAPATH_BATCH_MAX,
		.queue = TUN_QUEUE,
	};
}

struct datapath *datapath_new(const struct datapath_host *host,
			      const struct datapath_options *opts)
{
	struct datapath *dp = calloc(1, sizeof(*dp));

	if (!dp)
		return NULL;
	dp->h = *host;
	dp->o = *opts;
	if (dp->o.batch < 1)
		dp->o.batch = 1;
	if (dp->o.batch > DATAPATH_BATCH_MAX)
		dp->o.batch = DATAPATH_BATCH_MAX;
	dp->tx = datapath_send_new(&dp->h, &dp->o);
	dp->rx = datapath_receive_new(&dp->h, &dp->o);
	if (!dp->tx || !dp->rx) {
		datapath_free(dp);
		return NULL;
	}
	return dp;
}

/* Stops the threads, if they run, and joins them. */
static void stop_threads(struct datapath *dp)
{
	if (!dp->wait)
		return;
	datapath_wait_stop(dp->wait);
	pthread_join(dp->tx_thread, NULL);
	pthread_join(dp->rx_thread, NULL);
	datapath_wait_free(dp->wait);
	dp->wait = NULL;
}

int datapath_start(struct datapath *dp)
{
	struct datapath_wait *wait;
	int ret;

	if (!dp->o.threads)
		return -ENOTSUP;
	ret = datapath_wait_new(&wait, &dp->h, &dp->o, dp->tx, dp->rx);
	if (ret)
		return ret;
	ret = pthread_create(&dp->tx_thread, NULL, datapath_wait_sending,
			     wait);
	if (ret) {
		datapath_wait_free(wait);
		return -ret;
	}
	ret = pthread_create(&dp->rx_thread, NULL, datapath_wait_receiving,
			     wait);
	if (ret) {
		/* Both directions or neither: the loop takes over. */
		datapath_wait_stop(wait);
		pthread_join(dp->tx_thread, NULL);
		datapath_wait_free(wait);
		return -ret;
	}
	dp->wait = wait;
	return 0;
}

bool datapath_threaded(const struct datapath *dp)
{
	return dp->wait != NULL;
}

void datapath_tun_ready(struct datapath *dp)
{
	bool more = true;

	/* Bounded, so that the other sources get their turn. */
	for (int i = 0; i < 4 && more; i++)
		(void)datapath_send_batch(dp->tx, dp->o.batch, &more);
}

void datapath_udp_ready(struct datapath *dp)
{
	bool more = true;

	for (int i = 0; i < 4 && more; i++)
		(void)datapath_receive_batch(dp->rx, &more);
}

void datapath_udp_changed(struct datapath *dp)
{
	if (dp->wait)
		datapath_wait_udp_changed(dp->wait);
}

void datapath_free(struct datapath *dp)
{
	if (!dp)
		return;
	stop_threads(dp);
	datapath_send_free(dp->tx);
	datapath_receive_free(dp->rx);
	free(dp);
}
