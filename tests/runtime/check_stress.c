/*
 * Concurrency stress: MS_STRESS_THREADS (>= 4) threads, each on its own CPU
 * cache, do mixed-order alloc/free and get/put on shared frames.  An owner
 * table claimed with CAS proves no frame is handed out twice; at the end the
 * shared frames' last puts run on_last_ref exactly once each, everything is
 * freed, and the instance must be consistent with every frame free.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "helpers.h"

/* No false sharing between CPUs: the instance lock has a cache line of its
 * own, apart from the read-mostly fields and the state it protects, and each
 * per-CPU cache starts a line. */
_Static_assert(offsetof(struct ms_instance, lock) % 64 == 0, "instance lock starts a cache line");
_Static_assert(offsetof(struct ms_instance, free_head) - offsetof(struct ms_instance, lock) >= 64,
	       "instance lock shares its cache line with protected state");
_Static_assert(offsetof(struct ms_instance, pcp) % 64 == 0 && sizeof(struct ms_pcp) % 64 == 0,
	       "per-CPU caches share cache lines");

#define BASE 0x3
#define FRAMES 0x4000
#define NR_THREADS 4
#define NR_SHARED 32
#define HELD_PER_THREAD 64

static _Atomic unsigned char owner[FRAMES]; /* 0 = free, else thread + 1 */
static _Atomic int nr_last_ref_calls;
static uint64_t shared_pfns[NR_SHARED];
static long ops_per_thread;

static void count_last_ref(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	(void)inst;
	(void)pfn;
	(void)order;
	(void)ctx;
	atomic_fetch_add(&nr_last_ref_calls, 1);
}

static const struct ms_vtable shared_vtable = {.on_last_ref = count_last_ref};

struct held {
	uint64_t pfn;
	unsigned order;
};

struct worker {
	pthread_t thread;
	unsigned id;
	uint64_t seed;
	long nr_failures;
};

static uint64_t next_random(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static bool take_frames(unsigned id, uint64_t pfn, unsigned order)
{
	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		unsigned char expected = 0;
		if (!atomic_compare_exchange_strong(&owner[pfn + i - BASE], &expected,
						    (unsigned char)(id + 1)))
			return false;
	}
	return true;
}

static void drop_frames(uint64_t pfn, unsigned order)
{
	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++)
		atomic_store(&owner[pfn + i - BASE], 0);
}

static void *run_worker(void *arg)
{
	struct worker *worker = arg;
	struct held held[HELD_PER_THREAD];
	unsigned nr_held = 0;
	uint64_t state = worker->seed | 1;

	ms_hosted_set_cpu(worker->id);
	for (long op = 0; op < ops_per_thread; op++) {
		uint64_t bits = next_random(&state);
		unsigned kind = bits % 8;

		if (kind < 2) {
			uint64_t pfn = shared_pfns[(bits >> 8) % NR_SHARED];
			if (ms_get(&fx_inst, pfn) != MS_OK || ms_put(&fx_inst, pfn) != MS_OK)
				worker->nr_failures++;
		} else if (nr_held < HELD_PER_THREAD && (kind < 5 || nr_held == 0)) {
			unsigned order = (bits >> 8) % 4 == 0 ? (unsigned)((bits >> 16) % 4) : 0;
			struct ms_alloc_opts opts = {.order = order, .flags = MS_ALLOC_NOZERO};
			struct ms_handle handle;
			if (ms_alloc(&fx_inst, &opts, &handle) != MS_OK)
				continue;
			if (!take_frames(worker->id, handle.pfn, order))
				worker->nr_failures++;
			held[nr_held++] = (struct held){handle.pfn, order};
		} else if (nr_held > 0) {
			unsigned index = (unsigned)((bits >> 8) % nr_held);
			struct held block = held[index];
			held[index] = held[--nr_held];
			drop_frames(block.pfn, block.order);
			if (ms_free(&fx_inst, block.pfn, block.order) != MS_OK)
				worker->nr_failures++;
		}
	}
	while (nr_held > 0) {
		nr_held--;
		drop_frames(held[nr_held].pfn, held[nr_held].order);
		if (ms_free(&fx_inst, held[nr_held].pfn, held[nr_held].order) != MS_OK)
			worker->nr_failures++;
	}
	for (unsigned i = 0; i < NR_SHARED; i++)
		if (ms_put(&fx_inst, shared_pfns[i]) != MS_OK)
			worker->nr_failures++;
	return NULL;
}

static void setup(void)
{
	fx_setup(BASE, FRAMES);
	ck_assert_int_eq(ms_add_range(&fx_inst, BASE + 2, FRAMES - 9), MS_OK);
	const char *env = getenv("MS_STRESS_OPS");
	ops_per_thread = env != NULL ? atol(env) : 1000000;
}

START_TEST(test_stress_threads_alloc_free_get_put)
{
	struct worker workers[NR_THREADS];
	struct ms_stats stats;

	atomic_store(&nr_last_ref_calls, 0);
	for (unsigned i = 0; i < NR_SHARED; i++) {
		struct ms_handle handle;
		ck_assert_int_eq(fx_alloc(&fx_inst, i % 2, MS_ALLOC_NOZERO, &handle), MS_OK);
		ck_assert_int_eq(ms_set_vtable(&fx_inst, handle.pfn, &shared_vtable), MS_OK);
		shared_pfns[i] = handle.pfn;
		for (unsigned t = 0; t < NR_THREADS; t++) /* each worker puts one at its end */
			ck_assert_int_eq(ms_get(&fx_inst, handle.pfn), MS_OK);
	}
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t seed = (uint64_t)now.tv_sec * 1000000007u ^ (uint64_t)now.tv_nsec;
	printf("stress: threads=%d ops/thread=%ld seed=%llu\n", NR_THREADS, ops_per_thread,
	       (unsigned long long)seed);
	fflush(stdout);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		workers[i] = (struct worker){.id = i, .seed = seed + i * 7919};
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, run_worker, &workers[i]), 0);
	}
	/* The main thread's references go while the workers still run. */
	for (unsigned i = 0; i < NR_SHARED; i++)
		ck_assert_int_eq(ms_put(&fx_inst, shared_pfns[i]), MS_OK);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
		ck_assert_int_eq(workers[i].nr_failures, 0);
	}
	ck_assert_int_eq(atomic_load(&nr_last_ref_calls), NR_SHARED);
	fx_assert_consistent(&fx_inst);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_allocated, 0);
	ck_assert_uint_eq(stats.nr_free, FRAMES - 9);
	ms_cache_drain_all(&fx_inst);
	fx_assert_consistent(&fx_inst);
}
END_TEST

struct exhaust_worker {
	pthread_t thread;
	unsigned cpu;
	uint64_t *pfns;
	uint64_t nr_pfns;
};

/* Allocates order-0 frames until ENOMEM. */
static void *exhaust(void *arg)
{
	struct exhaust_worker *worker = arg;
	struct ms_handle handle;

	ms_hosted_set_cpu(worker->cpu);
	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK)
		worker->pfns[worker->nr_pfns++] = handle.pfn;
	return NULL;
}

/* Threads race to exhaust the instance: frames parked in the others' caches
 * are drained before anyone sees ENOMEM, so together they get every frame. */
START_TEST(test_stress_threads_exhaust_every_frame)
{
	struct exhaust_worker workers[NR_THREADS];
	uint64_t nr_total = 0;

	for (unsigned i = 0; i < NR_THREADS; i++) {
		workers[i] = (struct exhaust_worker){.cpu = i, .pfns = calloc(FRAMES, sizeof(uint64_t))};
		ck_assert_ptr_nonnull(workers[i].pfns);
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, exhaust, &workers[i]), 0);
	}
	for (unsigned i = 0; i < NR_THREADS; i++)
		ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		for (uint64_t j = 0; j < workers[i].nr_pfns; j++) {
			unsigned char expected = 0;
			ck_assert(atomic_compare_exchange_strong(&owner[workers[i].pfns[j] - BASE],
								 &expected, 1));
		}
		nr_total += workers[i].nr_pfns;
	}
	ck_assert_uint_eq(nr_total, FRAMES - 9);
	fx_assert_consistent(&fx_inst);
	for (unsigned i = 0; i < NR_THREADS; i++) {
		for (uint64_t j = 0; j < workers[i].nr_pfns; j++)
			ck_assert_int_eq(ms_free(&fx_inst, workers[i].pfns[j], 0), MS_OK);
		free(workers[i].pfns);
	}
	ms_cache_drain_all(&fx_inst);
	ck_assert_uint_eq(fx_nr_free(&fx_inst), FRAMES - 9);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/*
 * Two threads make a caller's mistake on one frame at the same instant:
 * both put its last reference, one frees it while the other puts, or one
 * gets a reference while the other frees.  Exactly one call wins, the other
 * returns an error, and nothing reaches the panic hook or leaves a count
 * moved off REFCOUNT_UNUSED (the allocation that follows would panic).
 */
enum race { RACE_PUT_PUT, RACE_FREE_PUT, RACE_GET_FREE, NR_RACES };

struct racer {
	pthread_t thread;
	unsigned id;
	pthread_barrier_t *barrier;
	_Atomic uint64_t *pfn; /* MS_NONE ends the run */
	_Atomic int *race;
	int result;
};

static void *run_racer(void *arg)
{
	struct racer *racer = arg;

	ms_hosted_set_cpu(racer->id + 1);
	for (;;) {
		pthread_barrier_wait(racer->barrier);
		uint64_t pfn = atomic_load(racer->pfn);
		if (pfn == META_SLOT_LINK_NONE)
			return NULL;
		switch (atomic_load(racer->race)) {
		case RACE_PUT_PUT:
			racer->result = ms_put(&fx_inst, pfn);
			break;
		case RACE_FREE_PUT:
			racer->result = racer->id == 0 ? ms_free(&fx_inst, pfn, 0) : ms_put(&fx_inst, pfn);
			break;
		default:
			racer->result = racer->id == 0 ? ms_get(&fx_inst, pfn) : ms_free(&fx_inst, pfn, 0);
			break;
		}
		pthread_barrier_wait(racer->barrier);
	}
}

static bool refused(int err)
{
	return err == MS_EDOUBLEFREE || err == MS_EREFZERO || err == MS_EBUSY;
}

START_TEST(test_stress_racing_mistakes_return_errors)
{
	pthread_barrier_t barrier;
	_Atomic uint64_t pfn;
	_Atomic int race;
	struct racer racers[2];
	long nr_rounds = (long)(30000 * fx_scale());
	long nr_won[NR_RACES] = {0};
	struct ms_handle handle;

	ck_assert_int_eq(pthread_barrier_init(&barrier, NULL, 3), 0);
	atomic_init(&pfn, 0);
	atomic_init(&race, 0);
	for (unsigned i = 0; i < 2; i++) {
		racers[i] = (struct racer){.id = i, .barrier = &barrier, .pfn = &pfn, .race = &race};
		ck_assert_int_eq(pthread_create(&racers[i].thread, NULL, run_racer, &racers[i]), 0);
	}
	for (long round = 0; round < nr_rounds; round++) {
		int kind = (int)(round % NR_RACES);

		FX_REQUIRE(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK);
		atomic_store(&pfn, handle.pfn);
		atomic_store(&race, kind);
		pthread_barrier_wait(&barrier);
		pthread_barrier_wait(&barrier);
		int first = racers[0].result, second = racers[1].result;
		FX_REQUIRE((first == MS_OK && refused(second)) || (refused(first) && second == MS_OK));
		if (kind == RACE_GET_FREE && first == MS_OK) { /* the get won: two references */
			FX_REQUIRE(ms_put(&fx_inst, handle.pfn) == MS_OK);
			FX_REQUIRE(ms_put(&fx_inst, handle.pfn) == MS_OK);
		}
		nr_won[kind] += first == MS_OK;
		FX_REQUIRE(meta_slot_refcount_load(fx_slot(&fx_inst, handle.pfn)) ==
			   META_SLOT_REFCOUNT_UNUSED);
	}
	atomic_store(&pfn, META_SLOT_LINK_NONE);
	pthread_barrier_wait(&barrier);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(racers[i].thread, NULL), 0);
	pthread_barrier_destroy(&barrier);
	printf("racing mistakes: %ld rounds; first caller won put/put %ld, free/put %ld, "
	       "get/free %ld\n", nr_rounds, nr_won[RACE_PUT_PUT], nr_won[RACE_FREE_PUT],
	       nr_won[RACE_GET_FREE]);
	ms_cache_drain_all(&fx_inst);
	ck_assert_uint_eq(fx_nr_free(&fx_inst), FRAMES - 9);
	fx_assert_consistent(&fx_inst);
}
END_TEST

Suite *stress_suite(void)
{
	Suite *suite = suite_create("stress");
	TCase *threads = tcase_create("threads");

	tcase_add_checked_fixture(threads, setup, fx_teardown);
	tcase_set_timeout(threads, 120);
	tcase_add_test(threads, test_stress_threads_alloc_free_get_put);
	tcase_add_test(threads, test_stress_threads_exhaust_every_frame);
	tcase_add_test(threads, test_stress_racing_mistakes_return_errors);
	suite_add_tcase(suite, threads);
	return suite;
}
