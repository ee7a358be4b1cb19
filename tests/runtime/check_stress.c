/*
 * Concurrency stress: MS_STRESS_THREADS (>= 4) threads, each on its own CPU
 * cache, do mixed-order alloc/free and get/put on shared frames.  An owner
 * table claimed with CAS proves no frame is handed out twice; at the end the
 * shared frames' last puts run on_last_ref exactly once each, everything is
 * freed, and the instance must be consistent with every frame free.
 */
#include <pthread.h>
#include <semaphore.h>
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

/*
 * Out-of-memory only when nothing is free: on 128 frames, one thread holds
 * at most 120 and three others at most 2 each, each on its own cache, so at
 * least 2 frames are free at every instant, yet they sit in other threads'
 * caches or move in batches.  No allocation may fail (with one drain and
 * one retry instead of the frozen last attempt, a few dozen fail per 3 s).
 */
#define TIGHT_FRAMES 128
#define NR_HOLDERS 4

static _Atomic bool holders_stop;

/* A thread of the tests below, on one CPU's cache: its instance, how many
 * blocks it may hold, its operations (to do, or done when it runs until
 * told to stop) and the outcomes it saw that the test forbids. */
struct cpu_thread {
	pthread_t thread;
	struct ms_instance *inst;
	unsigned cpu;
	unsigned max_held;
	long nr_ops;
	long nr_bad;
};

static void *hold_and_release(void *arg)
{
	struct cpu_thread *holder = arg;
	uint64_t held[TIGHT_FRAMES];
	unsigned nr_held = 0;
	uint64_t state = holder->cpu * 0x9e3779b97f4a7c15u + 1;
	struct ms_handle handle;

	ms_hosted_set_cpu(holder->cpu);
	while (!atomic_load_explicit(&holders_stop, memory_order_relaxed)) {
		if (nr_held < holder->max_held && (next_random(&state) & 1)) {
			int err = fx_alloc(holder->inst, 0, MS_ALLOC_NOZERO, &handle);
			holder->nr_ops++;
			if (err == MS_OK)
				held[nr_held++] = handle.pfn;
			else
				holder->nr_bad++; /* out of memory */
		} else if (nr_held > 0) {
			FX_REQUIRE(ms_free(holder->inst, held[--nr_held], 0) == MS_OK);
		}
	}
	while (nr_held > 0)
		FX_REQUIRE(ms_free(holder->inst, held[--nr_held], 0) == MS_OK);
	return NULL;
}

START_TEST(test_stress_enomem_only_when_nothing_is_free)
{
	static struct ms_instance tight;
	struct cpu_thread holders[NR_HOLDERS];
	double seconds = 3 * fx_scale();
	struct timespec pause = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
	long nr_allocs = 0, nr_enomem = 0;

	fx_setup_extra(&tight, 0, TIGHT_FRAMES);
	ck_assert_int_eq(ms_add_range(&tight, 0, TIGHT_FRAMES), MS_OK);
	atomic_store(&holders_stop, false);
	for (unsigned i = 0; i < NR_HOLDERS; i++) {
		holders[i] = (struct cpu_thread){.inst = &tight, .cpu = i + 1,
					     .max_held = i == 0 ? TIGHT_FRAMES - 8 : 2};
		ck_assert_int_eq(pthread_create(&holders[i].thread, NULL, hold_and_release, &holders[i]),
				 0);
	}
	nanosleep(&pause, NULL);
	atomic_store(&holders_stop, true);
	for (unsigned i = 0; i < NR_HOLDERS; i++) {
		ck_assert_int_eq(pthread_join(holders[i].thread, NULL), 0);
		nr_allocs += holders[i].nr_ops;
		nr_enomem += holders[i].nr_bad;
	}
	printf("out-of-memory race: %ld allocations on %d frames, %ld out-of-memory\n", nr_allocs,
	       TIGHT_FRAMES, nr_enomem);
	ck_assert_int_eq(nr_enomem, 0);
	ms_cache_drain_all(&tight);
	ck_assert_uint_eq(fx_nr_free(&tight), TIGHT_FRAMES);
	fx_assert_consistent(&tight);
}
END_TEST

/*
 * Statistics while batches move: two threads each hold at most 4 frames and
 * drain their caches now and then; a third reads ms_stats meanwhile.  Every
 * snapshot counts at most the 8 held frames plus one in flight per thread as
 * allocated (a 64-frame batch seen in a cache and on the lists, or in
 * neither, would be off by 64, or wrap below zero).
 */
static _Atomic int nr_churners_done;
static _Atomic bool stats_reader_done;

/* Churns at least nr_ops operations, and on until the reader has its snapshots. */
static void *churn(void *arg)
{
	struct cpu_thread *churner = arg;
	uint64_t held[4];
	unsigned nr_held = 0;
	struct ms_handle handle;

	ms_hosted_set_cpu(churner->cpu);
	for (long op = 0; op < churner->nr_ops || !atomic_load(&stats_reader_done); op++) {
		if (nr_held < 4 && op % 8 < 4) {
			FX_REQUIRE(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK);
			held[nr_held++] = handle.pfn;
		} else if (nr_held > 0) {
			FX_REQUIRE(ms_free(&fx_inst, held[--nr_held], 0) == MS_OK);
		}
		if (op % 64 == 0)
			ms_cache_drain(&fx_inst, churner->cpu);
	}
	while (nr_held > 0)
		FX_REQUIRE(ms_free(&fx_inst, held[--nr_held], 0) == MS_OK);
	atomic_fetch_add(&nr_churners_done, 1);
	return NULL;
}

START_TEST(test_stress_stats_stay_consistent_while_batches_move)
{
	struct cpu_thread churners[2];
	struct ms_stats stats;
	long nr_snapshots = 0;
	uint64_t worst = 0;

	atomic_store(&nr_churners_done, 0);
	atomic_store(&stats_reader_done, false);
	for (unsigned i = 0; i < 2; i++) {
		churners[i] = (struct cpu_thread){.cpu = i + 1, .nr_ops = (long)(400000 * fx_scale())};
		ck_assert_int_eq(pthread_create(&churners[i].thread, NULL, churn, &churners[i]), 0);
	}
	/* Every snapshot is taken while both churners run: they stop only after the
	 * reader is done, and the reader must get MIN_SNAPSHOTS within the time
	 * limit.  (Before, the churners stopped on their own, and a reader that
	 * lost every cache-lock race took one snapshot, after the churn, in about
	 * half the runs.  The freezer's lock path makes such losses rarer; this
	 * test checks the statistics, not a fairness bound.) */
	enum { MIN_SNAPSHOTS = 1000 };
	double deadline = fx_now() + 30;
	while ((nr_snapshots < MIN_SNAPSHOTS || atomic_load(&nr_churners_done) < 2) &&
	       fx_now() < deadline) {
		if (nr_snapshots == MIN_SNAPSHOTS)
			atomic_store(&stats_reader_done, true);
		ms_stats(&fx_inst, &stats);
		nr_snapshots++;
		if (stats.nr_allocated > worst)
			worst = stats.nr_allocated;
		FX_REQUIRE(stats.nr_free <= FRAMES - 9 && stats.nr_allocated <= 2 * 4 + 2);
	}
	atomic_store(&stats_reader_done, true);
	for (unsigned i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(churners[i].thread, NULL), 0);
	printf("stats while batches move: %ld snapshots, at most %llu allocated\n", nr_snapshots,
	       (unsigned long long)worst);
	ck_assert_msg(nr_snapshots >= MIN_SNAPSHOTS, "the stats reader was starved: %ld snapshots "
		      "in 30 s of churn", nr_snapshots);
	ms_cache_drain_all(&fx_inst);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/*
 * Marks racing allocations: three threads allocate and free blocks of
 * orders 0..3 (caches, hints, drains) while a fourth marks random frames
 * poisoned.  No allocation that starts after a mark returned may hand out a
 * block holding that frame; at the end every marked frame is quarantined
 * and the instance is consistent.
 */
#define NR_MARKS 200

static _Atomic uint64_t marks_done;              /* marks returned so far */
static _Atomic uint64_t mark_done_at[FRAMES];    /* 0, or marks_done when its mark returned */
static _Atomic bool markers_stop;

static void *allocate_against_marks(void *arg)
{
	struct cpu_thread *worker = arg; /* nr_bad: blocks holding a frame marked before */
	struct held held[32];
	unsigned nr_held = 0;
	uint64_t state = worker->cpu * 0x2545f4914f6cdd1du + 7;
	struct ms_handle handle;

	ms_hosted_set_cpu(worker->cpu);
	while (!atomic_load(&markers_stop)) {
		uint64_t r = next_random(&state);
		if (nr_held < 32 && (r & 1)) {
			struct ms_alloc_opts opts = {.order = (unsigned)(r >> 8) % 4,
						     .flags = MS_ALLOC_NOZERO};
			if ((r >> 16) % 16 == 0) {
				opts.flags |= MS_ALLOC_CPU_HINT;
				opts.cpu = (unsigned)(r >> 24) % 4;
			}
			uint64_t before = atomic_load(&marks_done);
			if (ms_alloc(&fx_inst, &opts, &handle) != MS_OK)
				continue;
			for (uint64_t f = handle.pfn; f < handle.pfn + (1u << opts.order); f++) {
				uint64_t done = atomic_load(&mark_done_at[f - BASE]);
				worker->nr_bad += done != 0 && done <= before;
			}
			held[nr_held++] = (struct held){handle.pfn, opts.order};
		} else if (nr_held > 0) {
			nr_held--;
			FX_REQUIRE(ms_free(&fx_inst, held[nr_held].pfn, held[nr_held].order) == MS_OK);
		}
		if ((r >> 32) % 512 == 0)
			ms_cache_drain(&fx_inst, (unsigned)(r >> 40) % 4);
	}
	while (nr_held > 0) {
		nr_held--;
		FX_REQUIRE(ms_free(&fx_inst, held[nr_held].pfn, held[nr_held].order) == MS_OK);
	}
	return NULL;
}

START_TEST(test_stress_marks_race_allocations)
{
	struct cpu_thread workers[3];
	uint64_t state = 0x5eed;
	struct timespec pause = {0, 2000000};
	struct ms_handle handle;
	long nr_stale = 0;

	atomic_store(&marks_done, 0);
	atomic_store(&markers_stop, false);
	for (unsigned i = 0; i < FRAMES; i++)
		atomic_store(&mark_done_at[i], 0);
	for (unsigned i = 0; i < 3; i++) {
		workers[i] = (struct cpu_thread){.cpu = i + 1};
		ck_assert_int_eq(pthread_create(&workers[i].thread, NULL, allocate_against_marks,
						&workers[i]), 0);
	}
	for (unsigned i = 0; i < NR_MARKS; i++) {
		uint64_t pfn = BASE + 2 + next_random(&state) % (FRAMES - 9);
		ck_assert_int_eq(ms_mark_poisoned(&fx_inst, pfn), MS_OK);
		uint64_t done = atomic_fetch_add(&marks_done, 1) + 1;
		uint64_t none = 0;
		atomic_compare_exchange_strong(&mark_done_at[pfn - BASE], &none, done);
		nanosleep(&pause, NULL);
	}
	atomic_store(&markers_stop, true);
	for (unsigned i = 0; i < 3; i++) {
		ck_assert_int_eq(pthread_join(workers[i].thread, NULL), 0);
		nr_stale += workers[i].nr_bad;
	}
	ck_assert_msg(nr_stale == 0, "%ld blocks handed out holding a frame marked before", nr_stale);
	fx_assert_consistent(&fx_inst);
	ms_cache_drain_all(&fx_inst);
	fx_assert_consistent(&fx_inst);
	/* Everything still free comes out; no marked frame is among it. */
	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK)
		ck_assert_uint_eq(atomic_load(&mark_done_at[handle.pfn - BASE]), 0);
}
END_TEST

/*
 * A mark landing between a free's release and the push that makes the block
 * findable (a cache push, or with the cache off the buddy free): the free
 * pauses in its platform irq_save hook, the mark runs to its end and finds
 * the frame nowhere, then the free goes on.  The frame must end quarantined,
 * never in a cache or on a list from which a later block could hand it out.
 */
static struct ms_instance paused_inst;
static sem_t pause_reached, pause_release;
static _Atomic bool pause_armed;

static unsigned long pausing_irq_save(void)
{
	bool armed = true;
	if (atomic_compare_exchange_strong(&pause_armed, &armed, false)) {
		sem_post(&pause_reached);
		sem_wait(&pause_release);
	}
	return 0;
}

static void *free_with_pause(void *arg)
{
	uint64_t pfn = *(uint64_t *)arg;

	ms_hosted_set_cpu(0);
	atomic_store(&pause_armed, true);
	FX_REQUIRE(ms_free(&paused_inst, pfn, 0) == MS_OK);
	return NULL;
}

static void mark_between_release_and_push(bool cache_enabled)
{
	struct ms_platform platform = *ms_hosted_platform();
	struct meta_slot *slots = aligned_alloc(META_SLOT_ARRAY_ALIGN, ms_metadata_bytes(1024));
	struct ms_alloc_opts opts = {.order = 3, .flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE};
	struct ms_handle kept, victim, handle;
	struct ms_stats stats;
	pthread_t thread;
	char msg[256];

	platform.irq_save = pausing_irq_save;
	ck_assert_ptr_nonnull(slots);
	ck_assert_int_eq(ms_init(&paused_inst, &platform, slots, 0, 1024, "Normal", 0), MS_OK);
	ck_assert_int_eq(ms_add_range(&paused_inst, 0, 1024), MS_OK);
	ms_set_cache_enabled(&paused_inst, cache_enabled);
	ms_hosted_set_cpu(0);
	ck_assert_int_eq(fx_alloc(&paused_inst, 0, MS_ALLOC_NOZERO, &kept), MS_OK);
	ck_assert_int_eq(fx_alloc(&paused_inst, 0, MS_ALLOC_NOZERO, &victim), MS_OK);
	sem_init(&pause_reached, 0, 0);
	sem_init(&pause_release, 0, 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, free_with_pause, &victim.pfn), 0);
	sem_wait(&pause_reached); /* the free has released the frame */
	ck_assert_uint_eq(meta_slot_refcount_load(&slots[victim.pfn]), META_SLOT_REFCOUNT_UNUSED);
	ck_assert_int_eq(ms_mark_poisoned(&paused_inst, victim.pfn), MS_OK);
	sem_post(&pause_release);
	ck_assert_int_eq(pthread_join(thread, NULL), 0);
	ck_assert_int_eq(ms_free(&paused_inst, kept.pfn, 0), MS_OK);
	ms_cache_drain_all(&paused_inst);
	ck_assert_int_eq(ms_check(&paused_inst, msg, sizeof(msg)), MS_OK);
	ms_stats(&paused_inst, &stats);
	ck_assert_uint_eq(stats.nr_quarantined, 1);
	while (ms_alloc(&paused_inst, &opts, &handle) == MS_OK) {
		for (uint64_t f = handle.pfn; f < handle.pfn + 8; f++)
			ck_assert_uint_ne(f, victim.pfn);
	}
	sem_destroy(&pause_reached);
	sem_destroy(&pause_release);
	free(slots);
}

START_TEST(test_stress_mark_between_release_and_cache_push)
{
	mark_between_release_and_push(true);
}
END_TEST

START_TEST(test_stress_mark_between_release_and_buddy_free)
{
	mark_between_release_and_push(false);
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
	tcase_add_test(threads, test_stress_enomem_only_when_nothing_is_free);
	tcase_add_test(threads, test_stress_stats_stay_consistent_while_batches_move);
	tcase_add_test(threads, test_stress_marks_race_allocations);
	tcase_add_test(threads, test_stress_mark_between_release_and_cache_push);
	tcase_add_test(threads, test_stress_mark_between_release_and_buddy_free);
	suite_add_tcase(suite, threads);
	return suite;
}
