/*
 * Two-thread rows: two threads on one allocator, each with its own CPU
 * cache.  The figure is wall time per pair of the two together (aggregate
 * throughput); speedup compares it with the one-thread row.  Each worker is
 * pinned to a processor of its own when the machine has enough, so that the
 * rows measure the allocator, not where the scheduler happened to put them.
 */
#define _GNU_SOURCE 1 /* pthread_setaffinity_np */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "bench.h"
#include "metaslot/ms_hosted.h"

#define NR_THREADS 2

struct worker {
	pthread_t thread;
	struct ms_instance *inst;
	unsigned cpu;
	long nr_ops;
	pthread_barrier_t *barrier;
};

static void *hot_worker(void *arg)
{
	struct worker *worker = arg;
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO};
	struct ms_handle held, handle;

	ms_hosted_set_cpu(worker->cpu);
	ms_alloc(worker->inst, &opts, &held);
	pthread_barrier_wait(worker->barrier);
	for (long i = 0; i < worker->nr_ops; i++) {
		if (ms_alloc(worker->inst, &opts, &handle) != MS_OK ||
		    ms_free(worker->inst, handle.pfn, 0) != MS_OK)
			abort();
	}
	return NULL;
}

static void wait_barrier(void *barrier)
{
	pthread_barrier_wait(barrier);
}

/* Each worker keeps a quarter of the span: together about 50% occupancy. */
static void *mixed_worker(void *arg)
{
	struct worker *worker = arg;

	ms_hosted_set_cpu(worker->cpu);
	bench_mixed_ops(worker->inst, worker->nr_ops, BENCH_FRAMES_PER_GIB / 4,
			12345 + worker->cpu, worker->cpu, wait_barrier, worker->barrier);
	return NULL;
}

/* Pins thread to the index-th processor this process may run on, if any. */
static void pin_to_processor(pthread_t thread, unsigned index)
{
	cpu_set_t allowed, one;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0 ||
	    (unsigned)CPU_COUNT(&allowed) < NR_THREADS)
		return;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		if (!CPU_ISSET(cpu, &allowed) || index-- != 0)
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_setaffinity_np(thread, sizeof(one), &one);
		return;
	}
}

/* Wall ns per pair, from the barrier every worker passes when ready to the
 * last join, for NR_THREADS workers doing nr_ops_each operations each, on
 * one shared allocator or (apart) one allocator each. */
static double run_threads(void *(*fn)(void *), long nr_ops_each, double ops_per_pair, bool apart)
{
	struct ms_instance *insts[NR_THREADS];
	struct worker workers[NR_THREADS];
	pthread_barrier_t barrier;

	for (unsigned i = 0; i < NR_THREADS; i++)
		insts[i] = i == 0 || apart ? bench_instance(BENCH_FRAMES_PER_GIB) : insts[0];
	pthread_barrier_init(&barrier, NULL, NR_THREADS + 1);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		workers[i] = (struct worker){.inst = insts[i], .cpu = i + 1, .nr_ops = nr_ops_each,
					     .barrier = &barrier};
		pthread_create(&workers[i].thread, NULL, fn, &workers[i]);
		pin_to_processor(workers[i].thread, i);
	}
	pthread_barrier_wait(&barrier);
	double start = bench_now_ns();
	for (unsigned i = 0; i < NR_THREADS; i++)
		pthread_join(workers[i].thread, NULL);
	double elapsed = bench_now_ns() - start;
	pthread_barrier_destroy(&barrier);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		if (i == 0 || apart)
			bench_instance_free(insts[i]);
	}
	return elapsed / ((double)nr_ops_each * NR_THREADS / ops_per_pair);
}

static long hot_pairs_each(void)
{
	long nr_pairs = (long)(20000000 * bench_scale);
	return nr_pairs > 1000 ? nr_pairs : 1000;
}

double bench_hot_order0_cached_2t(void)
{
	return run_threads(hot_worker, hot_pairs_each(), 1, false);
}

/* Not a contract row: the same two workers with an allocator each, sharing
 * nothing.  Its speedup is what the machine itself gives two threads of this
 * loop; the 2t row's speedup can only be compared with it. */
double bench_hot_order0_cached_2i(void)
{
	return run_threads(hot_worker, hot_pairs_each(), 1, true);
}

double bench_mixed_2t(void)
{
	long nr_ops = (long)(5000000 * bench_scale);
	return run_threads(mixed_worker, nr_ops > 1000 ? nr_ops : 1000, 2, false);
}
