/*
 * Model-based randomized test: at least 1M random operations of mixed orders
 * (P(k) proportional to 2^-(k+1)), about 50% occupancy, ranges at odd starts
 * with holes, checked against a reference model (one byte per frame:
 * allocated or not).  Invariants are checked after every batch; at the end
 * everything is freed and the free lists must equal the initial ones.  The
 * seed is printed; set MS_SEED=<n> to replay it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define BASE 0x10
#define FRAMES 0x8000
#define BATCH 10000

static const struct ms_range ranges[] = {
	{0x13, 0x2f01}, {0x3001, 0x1ffe}, {0x5555, 0x2aaa},
};

struct live_block {
	uint64_t pfn;
	unsigned order;
	struct ms_handle handle;
};

static unsigned char *model;     /* 1 = allocated */
static unsigned char *usable;    /* 1 = in a range */
static struct live_block *live;
static size_t nr_live;
static uint64_t nr_model_allocated;
static uint64_t rng_state;

static uint64_t next_random(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(2685821657736338717);
}

/* P(k) = 2^-(k+1) for k = 0..8, the rest (2^-9) on order 9. */
static unsigned random_order(void)
{
	uint64_t bits = next_random();
	unsigned order = 0;

	while (order < 9 && (bits & 1)) {
		bits >>= 1;
		order++;
	}
	return order;
}

static void setup(void)
{
	fx_setup(BASE, FRAMES);
	model = calloc(FRAMES, 1);
	usable = calloc(FRAMES, 1);
	live = calloc(FRAMES, sizeof(*live));
	ck_assert(model && usable && live);
	nr_live = 0;
	nr_model_allocated = 0;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		ck_assert_int_eq(ms_add_range(&fx_inst, ranges[i].start_pfn, ranges[i].nr_frames), MS_OK);
		memset(usable + (ranges[i].start_pfn - BASE), 1, ranges[i].nr_frames);
	}
}

static void teardown(void)
{
	free(model);
	free(usable);
	free(live);
	fx_teardown();
}

/* Free heads in PFN order: (pfn << 8 | order) per block; returns the count. */
static size_t free_heads(uint64_t *out)
{
	size_t count = 0;

	for (uint64_t pfn = BASE; pfn < BASE + FRAMES; pfn++) {
		struct meta_slot *slot = fx_slot(&fx_inst, pfn);
		if (meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_FREE)
			out[count++] = pfn << 8 | meta_slot_order_load(slot);
	}
	return count;
}

/* An order-k ENOMEM is right only if no aligned, usable, free run exists. */
static void assert_no_fit(unsigned order)
{
	static unsigned long nr_calls;
	uint64_t size = UINT64_C(1) << order;

	if (nr_calls++ % 64 != 0)
		return; /* an O(span) scan: sample one ENOMEM in 64 */

	for (uint64_t pfn = (BASE + size - 1) & ~(size - 1); pfn + size <= BASE + FRAMES; pfn += size) {
		bool fits = true;
		for (uint64_t i = 0; i < size && fits; i++)
			fits = usable[pfn + i - BASE] && !model[pfn + i - BASE];
		if (fits)
			ck_abort_msg("ENOMEM for order %u but block at 0x%llx is free", order,
				     (unsigned long long)pfn);
	}
}

static void do_alloc(void)
{
	unsigned order = random_order();
	uint64_t choice = next_random();
	struct ms_alloc_opts opts = {.order = order, .flags = MS_ALLOC_NOZERO};
	struct ms_handle handle;

	if (choice & 1)
		opts.flags |= MS_ALLOC_NOCACHE;
	if (choice & 2) {
		opts.flags |= MS_ALLOC_CPU_HINT;
		opts.cpu = (unsigned)(choice >> 8) % 4;
	}
	int err = ms_alloc(&fx_inst, &opts, &handle);
	if (err == MS_ENOMEM) {
		assert_no_fit(order);
		return;
	}
	FX_REQUIRE(err == MS_OK);
	uint64_t size = UINT64_C(1) << order;
	FX_REQUIRE((handle.pfn & (size - 1)) == 0);
	FX_REQUIRE(handle.pfn >= BASE && handle.pfn + size <= BASE + FRAMES);
	for (uint64_t i = 0; i < size; i++) {
		FX_REQUIRE(usable[handle.pfn + i - BASE]); /* no reserved frame */
		FX_REQUIRE(!model[handle.pfn + i - BASE]); /* not handed out twice */
		model[handle.pfn + i - BASE] = 1;
	}
	nr_model_allocated += size;
	live[nr_live++] = (struct live_block){handle.pfn, order, handle};
}

static void do_free(void)
{
	size_t index = next_random() % nr_live;
	struct live_block block = live[index];
	uint64_t size = UINT64_C(1) << block.order;

	live[index] = live[--nr_live];
	FX_REQUIRE(ms_handle_live(&fx_inst, block.handle));
	if (next_random() & 1) {
		ms_hosted_set_cpu((unsigned)(next_random() % 4));
		FX_REQUIRE(ms_free(&fx_inst, block.pfn, block.order) == MS_OK);
	} else {
		FX_REQUIRE(ms_get(&fx_inst, block.pfn) == MS_OK);
		FX_REQUIRE(ms_put(&fx_inst, block.pfn) == MS_OK);
		FX_REQUIRE(ms_put(&fx_inst, block.pfn) == MS_OK);
	}
	FX_REQUIRE(!ms_handle_live(&fx_inst, block.handle));
	for (uint64_t i = 0; i < size; i++)
		model[block.pfn + i - BASE] = 0;
	nr_model_allocated -= size;
}

static void check_batch(void)
{
	struct ms_stats stats;

	fx_assert_consistent(&fx_inst);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_allocated, nr_model_allocated);
}

START_TEST(test_model_random_ops_match_bitmap)
{
	const char *env = getenv("MS_SEED");
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t seed = env != NULL ? strtoull(env, NULL, 0)
				    : ((uint64_t)now.tv_sec * 1000000007u) ^ (uint64_t)now.tv_nsec ^
					      ((uint64_t)getpid() << 40);
	long nr_ops = (long)(1000000 * fx_scale());
	uint64_t *initial = malloc(FRAMES * sizeof(uint64_t));
	uint64_t *final = malloc(FRAMES * sizeof(uint64_t));

	if (nr_ops < 1000000 && getenv("MS_TEST_SCALE") == NULL)
		nr_ops = 1000000;
	printf("model: seed=%llu ops=%ld (replay with MS_SEED=%llu)\n", (unsigned long long)seed,
	       nr_ops, (unsigned long long)seed);
	fflush(stdout);
	rng_state = seed | 1;
	ck_assert(initial && final);
	size_t nr_initial = free_heads(initial);
	uint64_t nr_usable = 0;
	for (size_t i = 0; i < FRAMES; i++)
		nr_usable += usable[i];

	for (long op = 1; op <= nr_ops; op++) {
		bool below_half = nr_model_allocated * 2 < nr_usable;
		bool want_alloc = nr_live == 0 || (next_random() % 4 != 0) == below_half;
		if (want_alloc)
			do_alloc();
		else
			do_free();
		if (op % BATCH == 0)
			check_batch();
	}
	while (nr_live > 0)
		do_free();
	ms_cache_drain_all(&fx_inst);
	check_batch();
	size_t nr_final = free_heads(final);
	ck_assert_uint_eq(nr_final, nr_initial);
	ck_assert_mem_eq(initial, final, nr_initial * sizeof(uint64_t));
	free(initial);
	free(final);
}
END_TEST

Suite *model_suite(void)
{
	Suite *suite = suite_create("model");
	TCase *random = tcase_create("random");

	tcase_add_checked_fixture(random, setup, teardown);
	tcase_set_timeout(random, 120);
	tcase_add_test(random, test_model_random_ops_match_bitmap);
	suite_add_tcase(suite, random);
	return suite;
}
