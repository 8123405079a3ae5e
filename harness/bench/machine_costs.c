/* SPDX-License-Identifier: MIT */
/*
 * What this machine charges for the steps every userspace tunnel takes
 * whatever its code: a system call, and handing work from one process to
 * another (one writes to a pipe, the other was asleep in a read). A ping
 * over a plain link is answered inside its own system call; through a
 * userspace tunnel it is handed from process to process four times (to
 * the client's tunnel end, to the gateway's, back, and to ping), with
 * about twenty system calls between. The benchmark prints these figures
 * beside the tunnels' so that a reader can tell what the machine allows.
 * A virtual machine can charge far more for both than bare metal does.
 *
 * The hand-offs are timed as pipe round trips between two processes,
 * halved: on one CPU (both pinned to the first), on two (one each), and
 * with 10 ms of quiet before each round trip and the scheduler placing
 * the processes as it likes, as pings 10 ms apart find them.
 *
 * Usage: machine_costs   (one JSON line on stdout, figures in µs)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* sched_setaffinity, CPU_SET */
#endif
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* To one CPU, or (cpu < 0) left where it is. */
static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The cheapest real system call, many times over: µs per call. */
static double syscall_us(void)
{
	const int n = 200000;
	double t0 = now_us();

	for (int i = 0; i < n; i++)
		(void)syscall(SYS_getppid);
	return (now_us() - t0) / n;
}

/* Median of n round trips between this process (on cpu_a) and a child
 * (on cpu_b; -1: anywhere), quiet_us of sleep before each; µs per
 * hand-off (half a round trip). The caller puts its own CPUs back. */
static double handoff_us(int cpu_a, int cpu_b, int n, long quiet_us)
{
	int to_child[2], to_parent[2];
	double *rt = calloc((size_t)n, sizeof(*rt)), median;
	char c = 0;
	pid_t child;

	if (!rt || pipe(to_child) || pipe(to_parent))
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		pin(cpu_b);
		while (read(to_child[0], &c, 1) == 1)
			if (write(to_parent[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	pin(cpu_a);
	for (int i = 0; i < n; i++) {
		double t0;

		if (quiet_us) {
			struct timespec q = { 0, quiet_us * 1000 };

			nanosleep(&q, NULL);
		}
		t0 = now_us();
		if (write(to_child[1], &c, 1) != 1 ||
		    read(to_parent[0], &c, 1) != 1)
			die("round trip");
		rt[i] = now_us() - t0;
	}
	close(to_child[1]);
	waitpid(child, NULL, 0);
	close(to_parent[0]);
	qsort(rt, (size_t)n, sizeof(*rt), by_value);
	median = rt[n / 2] / 2;
	free(rt);
	return median;
}

int main(void)
{
	cpu_set_t mine;
	double sys, one, two = -1, idle;

	/* Each pinned measurement leaves the process where it found it. */
	if (sched_getaffinity(0, sizeof(mine), &mine))
		die("sched_getaffinity");
	sys = syscall_us();
	one = handoff_us(0, 0, 20000, 0);
	sched_setaffinity(0, sizeof(mine), &mine);
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2)
		two = handoff_us(0, 1, 20000, 0);
	sched_setaffinity(0, sizeof(mine), &mine);
	idle = handoff_us(-1, -1, 200, 10000);
	printf("{\"syscall_us\": %.3f, \"handoff_one_cpu_us\": %.2f, ",
	       sys, one);
	if (two >= 0)
		printf("\"handoff_two_cpus_us\": %.2f, ", two);
	printf("\"handoff_after_quiet_us\": %.2f}\n", idle);
	return 0;
}
