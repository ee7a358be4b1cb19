/* Single-thread rows of the benchmark. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "metaslot/ms_hosted.h"

static uint64_t xorshift(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(2685821657736338717);
}

static long scaled(long nr)
{
	long value = (long)(nr * bench_scale);
	return value > 1000 ? value : 1000;
}

/*
 * limit: the floor.  An intrusive LIFO list over a 64-byte-stride array (the
 * same stride as struct meta_slot): pop the head, one CAS on its count, push
 * it back.
 */
struct limit_slot {
	_Alignas(64) uint64_t next;
	_Atomic uint32_t count;
};

double bench_limit(void)
{
	uint64_t nr_slots = BENCH_FRAMES_PER_GIB;
	struct limit_slot *slots = aligned_alloc(64, nr_slots * sizeof(*slots));
	long nr_pairs = scaled(20000000);

	for (uint64_t i = 0; i < nr_slots; i++) {
		slots[i].next = i + 1 < nr_slots ? i + 1 : UINT64_MAX;
		atomic_init(&slots[i].count, 0);
	}
	uint64_t head = 0;
	double start = bench_now_ns();
	for (long i = 0; i < nr_pairs; i++) {
		uint64_t index = head;
		head = slots[index].next;                         /* pop */
		uint32_t seen = atomic_load_explicit(&slots[index].count, memory_order_relaxed);
		atomic_compare_exchange_strong(&slots[index].count, &seen, seen + 1);
		slots[index].next = head;                         /* push */
		head = index;
		__asm__ __volatile__("" ::: "memory");
	}
	double elapsed = bench_now_ns() - start;
	free(slots);
	return elapsed / (double)nr_pairs;
}

/*
 * hot_locked_floor (not a contract row): the synchronisation a cached hot
 * pair cannot drop, with nothing else.  Over the same 64-byte-stride array as
 * limit: take a cache lock (exchange), pop a slot, release the lock, claim it
 * (CAS), release it (CAS), and the same lock around the push back: four
 * locked instructions, where limit has one.
 */
double bench_hot_locked_floor(void)
{
	uint64_t nr_slots = BENCH_FRAMES_PER_GIB;
	struct limit_slot *slots = aligned_alloc(64, nr_slots * sizeof(*slots));
	struct {
		_Alignas(64) _Atomic uint32_t busy;
		uint64_t head;
	} cache;
	long nr_pairs = scaled(20000000);

	for (uint64_t i = 0; i < nr_slots; i++) {
		slots[i].next = i + 1 < nr_slots ? i + 1 : UINT64_MAX;
		atomic_init(&slots[i].count, 0);
	}
	atomic_init(&cache.busy, 0);
	cache.head = 0;
	double start = bench_now_ns();
	for (long i = 0; i < nr_pairs; i++) {
		while (atomic_exchange_explicit(&cache.busy, 1, memory_order_acquire) != 0)
			;
		uint64_t index = cache.head;
		cache.head = slots[index].next;
		atomic_store_explicit(&cache.busy, 0, memory_order_release);
		uint32_t unused = 0;
		atomic_compare_exchange_strong(&slots[index].count, &unused, 1); /* claim */
		uint32_t one = 1;
		atomic_compare_exchange_strong(&slots[index].count, &one, 0); /* release */
		while (atomic_exchange_explicit(&cache.busy, 1, memory_order_acquire) != 0)
			;
		slots[index].next = cache.head;
		cache.head = index;
		atomic_store_explicit(&cache.busy, 0, memory_order_release);
	}
	double elapsed = bench_now_ns() - start;
	free(slots);
	return elapsed / (double)nr_pairs;
}

/*
 * hot_claim_floor (not a contract row): what the issue requires of every
 * pair on the frame's own slot, with nothing else: over a struct meta_slot
 * array, pop a slot off an intrusive list (free_link.next), claim it
 * (CAS REFCOUNT_UNUSED -> 1) and write its epoch (vtable, order, flags,
 * generation), then release it (CAS 1 -> REFCOUNT_UNUSED), reset it and
 * push it back.  No cache, lock, check or hook: two locked instructions.
 */
double bench_hot_claim_floor(void)
{
	uint64_t nr_slots = BENCH_FRAMES_PER_GIB;
	struct meta_slot *slots = bench_slots(nr_slots);
	long nr_pairs = scaled(20000000);

	memset(slots, 0, nr_slots * sizeof(*slots));
	for (uint64_t i = 0; i < nr_slots; i++) {
		meta_slot_free_link_next_store(&slots[i], i + 1 < nr_slots ? i + 1 : META_SLOT_LINK_NONE);
		meta_slot_refcount_store(&slots[i], META_SLOT_REFCOUNT_UNUSED);
	}
	uint64_t head = 0;
	double start = bench_now_ns();
	for (long i = 0; i < nr_pairs; i++) {
		struct meta_slot *slot = &slots[head];
		uint64_t next = meta_slot_free_link_next_load(slot);
		uint32_t expected = META_SLOT_REFCOUNT_UNUSED;

		if (!meta_slot_refcount_cas(slot, &expected, 1))
			abort();
		meta_slot_vtable_store(slot, 0);
		meta_slot_order_store(slot, 0);
		meta_slot_flags_store(slot, META_SLOT_FRAME_FLAGS_ALLOCATED);
		meta_slot_generation_store(slot, meta_slot_generation_load(slot) + 1);
		expected = 1;
		if (!meta_slot_refcount_cas(slot, &expected, META_SLOT_REFCOUNT_UNUSED))
			abort();
		meta_slot_vtable_store(slot, 0);
		meta_slot_flags_store(slot, 0);
		meta_slot_generation_store(slot, meta_slot_generation_load(slot) + 1);
		meta_slot_free_link_next_store(slot, next);
	}
	double elapsed = bench_now_ns() - start;
	free(slots);
	return elapsed / (double)nr_pairs;
}

static double hot_order0(bool cached)
{
	struct ms_instance *inst = bench_instance(BENCH_FRAMES_PER_GIB);
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO};
	struct ms_handle held, handle;
	long nr_pairs = scaled(20000000);

	ms_set_cache_enabled(inst, cached);
	ms_alloc(inst, &opts, &held); /* held: nothing coalesces */
	for (int i = 0; i < 1000; i++) {
		ms_alloc(inst, &opts, &handle);
		ms_free(inst, handle.pfn, 0);
	}
	double start = bench_now_ns();
	for (long i = 0; i < nr_pairs; i++) {
		if (ms_alloc(inst, &opts, &handle) != MS_OK || ms_free(inst, handle.pfn, 0) != MS_OK)
			abort();
	}
	double elapsed = bench_now_ns() - start;
	bench_instance_free(inst);
	return elapsed / (double)nr_pairs;
}

double bench_hot_order0_cached(void)
{
	return hot_order0(true);
}

double bench_hot_order0_nocache(void)
{
	return hot_order0(false);
}

double bench_fill_drain(void)
{
	uint64_t nr_frames = BENCH_FRAMES_PER_GIB;
	struct ms_instance *inst = bench_instance(nr_frames);
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO};
	uint64_t *pfns = malloc(nr_frames * sizeof(*pfns));
	uint64_t state = 0x9e3779b97f4a7c15u;
	struct ms_handle handle;

	double start = bench_now_ns();
	for (uint64_t i = 0; i < nr_frames; i++) {
		if (ms_alloc(inst, &opts, &handle) != MS_OK)
			abort();
		pfns[i] = handle.pfn;
	}
	double fill = bench_now_ns() - start;
	for (uint64_t i = nr_frames - 1; i > 0; i--) { /* shuffle, not timed */
		uint64_t j = xorshift(&state) % (i + 1);
		uint64_t pfn = pfns[i];
		pfns[i] = pfns[j];
		pfns[j] = pfn;
	}
	start = bench_now_ns();
	for (uint64_t i = 0; i < nr_frames; i++) {
		if (ms_free(inst, pfns[i], 0) != MS_OK)
			abort();
	}
	double drain = bench_now_ns() - start;
	free(pfns);
	bench_instance_free(inst);
	return (fill + drain) / (double)nr_frames;
}

/* A live block packed in one word: pfn << 5 | order (orders < 32), so that
 * the live set, read at random, is half the size of a two-word entry. */
typedef uint64_t live_block;
#define LIVE_ORDER_BITS 5
_Static_assert(MS_MAX_ORDER < (1 << LIVE_ORDER_BITS), "order fits in a live entry");

static live_block live_pack(uint64_t pfn, unsigned order)
{
	return pfn << LIVE_ORDER_BITS | order;
}

static uint64_t live_pfn(live_block block)
{
	return block >> LIVE_ORDER_BITS;
}

static unsigned live_order(live_block block)
{
	return (unsigned)(block & ((1u << LIVE_ORDER_BITS) - 1));
}

/* A uniform index below nr from 32 random bits, without a division. */
static size_t pick_below(uint64_t bits, size_t nr)
{
	return (size_t)(((bits >> 32) * (uint64_t)nr) >> 32);
}

double bench_mixed_ops(struct ms_instance *inst, long nr_ops, uint64_t target_frames,
		       uint64_t seed, unsigned cpu, void (*after_warmup)(void *), void *ctx)
{
	size_t capacity = (size_t)target_frames + 1024;
	live_block *live = malloc(capacity * sizeof(*live));
	size_t nr_live = 0;
	uint64_t nr_held = 0, state = seed | 1;
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO | MS_ALLOC_CPU_HINT, .cpu = cpu};
	struct ms_handle handle;
	double start = 0;

	for (long op = -nr_ops / 4; op < nr_ops; op++) { /* first quarter: warm-up */
		if (op == 0) {
			if (after_warmup != NULL)
				after_warmup(ctx);
			start = bench_now_ns();
		}
		uint64_t bits = xorshift(&state);
		if ((nr_held < target_frames && nr_live < capacity) || nr_live == 0) {
			/* P(k) = 2^-(k+1) for k = 0..8, the rest on 9 */
			unsigned order = (unsigned)__builtin_ctzll(bits | (UINT64_C(1) << 9));
			opts.order = order;
			if (inst == NULL) /* the workload alone: a made-up block */
				handle.pfn = (uint64_t)op << 10;
			if (inst == NULL || ms_alloc(inst, &opts, &handle) == MS_OK) {
				live[nr_live++] = live_pack(handle.pfn, order);
				nr_held += UINT64_C(1) << order;
			}
		} else {
			size_t index = pick_below(bits, nr_live);
			live_block block = live[index];
			live[index] = live[--nr_live];
			nr_held -= UINT64_C(1) << live_order(block);
			if (inst == NULL)
				__asm__ __volatile__("" : : "r"(block) : "memory");
			else if (ms_free(inst, live_pfn(block), live_order(block)) != MS_OK)
				abort();
		}
	}
	double elapsed = bench_now_ns() - start;
	while (inst != NULL && nr_live > 0) {
		nr_live--;
		ms_free(inst, live_pfn(live[nr_live]), live_order(live[nr_live]));
	}
	free(live);
	return elapsed;
}

/* The mixed workload over nr_frames frames; without_allocator runs the
 * workload's own bookkeeping only (random choices, the live set). */
static double mixed_over(uint64_t nr_frames, bool without_allocator)
{
	struct ms_instance *inst = without_allocator ? NULL : bench_instance(nr_frames);
	long nr_ops = scaled(10000000);
	double elapsed = bench_mixed_ops(inst, nr_ops, nr_frames / 2, 12345, 0, NULL, NULL);

	if (inst != NULL)
		bench_instance_free(inst);
	return elapsed / ((double)nr_ops / 2); /* two operations make a pair */
}

double bench_mixed(void)
{
	return mixed_over(BENCH_FRAMES_PER_GIB, false);
}

double bench_mixed_16g(void)
{
	return mixed_over(16 * BENCH_FRAMES_PER_GIB, false);
}

/* Not contract rows: the part of mixed and mixed_16g that is the workload's
 * own work (choosing, recording and picking random live blocks, whose array
 * is 2 MiB and 32 MiB), with no allocator call. */
double bench_mixed_workload(void)
{
	return mixed_over(BENCH_FRAMES_PER_GIB, true);
}

double bench_mixed_16g_workload(void)
{
	return mixed_over(16 * BENCH_FRAMES_PER_GIB, true);
}

/* Not a contract row: `mixed`'s live set (half of 1 GiB) over a 16 GiB span,
 * separating the allocator's own cost from the workload's larger live set. */
double bench_mixed_16g_1g_live(void)
{
	uint64_t nr_frames = 16 * BENCH_FRAMES_PER_GIB;
	struct ms_instance *inst = bench_instance(nr_frames);
	long nr_ops = scaled(10000000);
	double elapsed = bench_mixed_ops(inst, nr_ops, BENCH_FRAMES_PER_GIB / 2, 12345, 0, NULL, NULL);

	bench_instance_free(inst);
	return elapsed / ((double)nr_ops / 2);
}

/* ns per GiB for ms_init + ms_add_range of a 4 GiB span. */
double bench_init_per_gib(void)
{
	uint64_t nr_frames = 4 * BENCH_FRAMES_PER_GIB;
	size_t nr_bytes = ms_metadata_bytes(nr_frames);
	struct meta_slot *slots = bench_slots(nr_frames);
	static struct ms_instance inst;

	memset(slots, 0, nr_bytes); /* fault the pages in outside the timing */
	double start = bench_now_ns();
	ms_init(&inst, ms_hosted_platform(), slots, 0, nr_frames, "Normal", 0);
	ms_add_range(&inst, 0, nr_frames);
	double elapsed = bench_now_ns() - start;
	free(slots);
	return elapsed / 4;
}
