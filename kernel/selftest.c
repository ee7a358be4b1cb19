/*
 * The allocator self-tests.  Each returns true on success or writes a
 * one-line reason into why.  Tests that change the free lists take their
 * own snapshot first and compare at the end, so they can run in any order
 * and again from the shell.
 */
#include "selftest.h"

#include "klib.h"
#include "kprintf.h"
#include "meta_slot.h"
#include "selftest_lib.h"

#define FAIL(...)                                          \
	do {                                               \
		ksnprintf(why, why_bytes, __VA_ARGS__);    \
		return false;                              \
	} while (0)

static bool same_state_after(const struct zone_snapshot *before, char *why, size_t why_bytes)
{
	struct zone_snapshot after;

	snapshot_take(&after);
	if (!snapshot_equal(before, &after))
		FAIL("free lists differ: DMA %lu -> %lu free, Normal %lu -> %lu free",
		     before->nr_free[ZONE_DMA], after.nr_free[ZONE_DMA],
		     before->nr_free[ZONE_NORMAL], after.nr_free[ZONE_NORMAL]);
	return check_zones(why, why_bytes);
}

static bool test_alloc_all_free_all(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	chain_init(&chain);
	alloc_everything(&chain, NR_ZONES);
	uint64_t expected = before.nr_free[ZONE_DMA] + before.nr_free[ZONE_NORMAL];
	uint64_t left = zones_nr_free();
	kprintf("selftest:   allocated %lu frames in %lu blocks, %lu left free\n",
		chain.nr_frames, chain.nr_blocks, left);
	if (chain.nr_frames != expected || left != 0) {
		chain_free(&chain);
		FAIL("allocated %lu frames of %lu free, %lu left", chain.nr_frames, expected, left);
	}
	int err = chain_free(&chain);
	if (err != MS_OK)
		FAIL("free: %s", ms_strerror(err));
	return same_state_after(&before, why, why_bytes);
}

#define BLOCKS_PER_ORDER 3

struct overlap_ctx {
	uint64_t pfn;
	unsigned order;
	bool overlap;
};

static bool find_overlap(uint64_t pfn, unsigned order, void *ctx_)
{
	struct overlap_ctx *ctx = ctx_;
	uint64_t end = pfn + (1ull << order);
	uint64_t other_end = ctx->pfn + (1ull << ctx->order);

	if (pfn < other_end && ctx->pfn < end)
		ctx->overlap = true;
	return !ctx->overlap;
}

static bool test_alignment_no_overlap(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	chain_init(&chain);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		for (int i = 0; i < BLOCKS_PER_ORDER; i++) {
			struct ms_alloc_opts opts = { .order = order, .flags = MS_ALLOC_NOZERO };
			struct ms_handle h;

			if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
				continue;	/* small machines lack the large orders */
			if (h.pfn & ((1ull << order) - 1)) {
				zones_free(h.pfn, order);
				chain_free(&chain);
				FAIL("order %u block at pfn %lu is misaligned", order, h.pfn);
			}
			struct overlap_ctx ctx = { h.pfn, order, false };
			chain_visit(&chain, find_overlap, &ctx);
			chain_push(&chain, h.pfn, order);
			if (ctx.overlap) {
				chain_free(&chain);
				FAIL("order %u block at pfn %lu overlaps another", order, h.pfn);
			}
		}
	}
	kprintf("selftest:   %lu blocks (%lu frames), orders 0..%d, aligned and disjoint\n",
		chain.nr_blocks, chain.nr_frames, MS_MAX_ORDER);
	int err = chain_free(&chain);
	if (err != MS_OK)
		FAIL("free: %s", ms_strerror(err));
	return same_state_after(&before, why, why_bytes);
}

#define DIRTY_FRAMES 32

static bool test_zeroed_after_dirty(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	uint64_t dirty[DIRTY_FRAMES];
	unsigned reused = 0;

	snapshot_take(&before);
	for (int i = 0; i < DIRTY_FRAMES; i++) {
		struct ms_alloc_opts opts = { .flags = MS_ALLOC_NOZERO };
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
			FAIL("cannot allocate frame %d", i);
		dirty[i] = h.pfn;
		memset((void *)(uintptr_t)(h.pfn << 12), 0xa5, 4096);
	}
	for (int i = 0; i < DIRTY_FRAMES; i++)
		zones_free(dirty[i], 0);
	/* The per-CPU cache is LIFO: the same frames come back. */
	for (int i = 0; i < DIRTY_FRAMES; i++) {
		struct ms_alloc_opts opts = { 0 };
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
			FAIL("cannot reallocate frame %d", i);
		const uint64_t *words = (const uint64_t *)(uintptr_t)(h.pfn << 12);
		for (int w = 0; w < 512; w++) {
			if (words[w] != 0) {
				zones_free(h.pfn, 0);
				FAIL("pfn %lu word %d is 0x%lx after a zeroed allocation", h.pfn,
				     w, words[w]);
			}
		}
		for (int j = 0; j < DIRTY_FRAMES; j++)
			reused += dirty[j] == h.pfn;
		dirty[i] = h.pfn;
	}
	for (int i = 0; i < DIRTY_FRAMES; i++)
		zones_free(dirty[i], 0);
	kprintf("selftest:   %d frames dirtied, %u of them reallocated zeroed\n",
		DIRTY_FRAMES, reused);
	if (reused == 0)
		FAIL("no dirtied frame came back; nothing was proven");
	return same_state_after(&before, why, why_bytes);
}

static bool test_double_free(char *why, size_t why_bytes)
{
	struct zone_snapshot before, mid;
	struct ms_alloc_opts opts = { .order = 1, .flags = MS_ALLOC_NOZERO };
	struct ms_handle h;

	snapshot_take(&before);
	if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
		FAIL("cannot allocate");
	int err = zones_free(h.pfn, 0);
	if (err != MS_EWRONGORDER)
		FAIL("free with the wrong order: %s, expected MS_EWRONGORDER", ms_strerror(err));
	if (zones_free(h.pfn, 1) != MS_OK)
		FAIL("first free failed");
	snapshot_take(&mid);
	err = zones_free(h.pfn, 1);
	if (err != MS_EDOUBLEFREE)
		FAIL("second free: %s, expected MS_EDOUBLEFREE", ms_strerror(err));
	err = zones_free(0, 0);	/* pfn 0 is reserved, never handed out */
	if (err != MS_EDOUBLEFREE)
		FAIL("free of reserved pfn 0: %s, expected MS_EDOUBLEFREE", ms_strerror(err));
	kprintf("selftest:   double free of pfn %lu reported as %s\n", h.pfn,
		ms_strerror(MS_EDOUBLEFREE));
	if (!same_state_after(&mid, why, why_bytes))
		return false;
	return same_state_after(&before, why, why_bytes);
}

struct contains_ctx {
	uint64_t pfn;
	bool found;
};

static bool contains_pfn(uint64_t pfn, unsigned order, void *ctx_)
{
	struct contains_ctx *ctx = ctx_;

	if (ctx->pfn >= pfn && ctx->pfn < pfn + (1ull << order))
		ctx->found = true;
	return !ctx->found;
}

static bool test_poison_quarantine(char *why, size_t why_bytes)
{
	struct zone_snapshot before, after;
	struct ms_alloc_opts opts = { .order = 2, .flags = MS_ALLOC_NOZERO };
	struct ms_handle h;
	struct block_chain chain;

	snapshot_take(&before);
	if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
		FAIL("cannot allocate");
	struct ms_instance *inst = zone_of_pfn(h.pfn);
	uint64_t bad = h.pfn + 1;
	int err = ms_mark_poisoned(inst, bad);
	if (err != MS_OK)
		FAIL("ms_mark_poisoned: %s", ms_strerror(err));
	err = ms_free(inst, h.pfn, 2);
	if (err != MS_OK)
		FAIL("free of the poisoned block: %s", ms_strerror(err));
	snapshot_take(&after);
	uint64_t quarantined = (after.nr_quarantined[ZONE_DMA] + after.nr_quarantined[ZONE_NORMAL]) -
			       (before.nr_quarantined[ZONE_DMA] + before.nr_quarantined[ZONE_NORMAL]);
	if (quarantined == 0)
		FAIL("freeing the poisoned block quarantined nothing");
	chain_init(&chain);
	alloc_everything(&chain, NR_ZONES);
	struct contains_ctx ctx = { bad, false };
	chain_visit(&chain, contains_pfn, &ctx);
	err = chain_free(&chain);
	if (ctx.found)
		FAIL("poisoned pfn %lu was handed out again", bad);
	if (err != MS_OK)
		FAIL("free: %s", ms_strerror(err));
	kprintf("selftest:   pfn %lu poisoned, %lu frames quarantined, never reallocated\n",
		bad, quarantined);
	return same_state_after(&after, why, why_bytes);
}

static bool test_handle_stale(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct ms_alloc_opts opts = { .flags = MS_ALLOC_NOZERO };
	struct ms_handle first, second;

	snapshot_take(&before);
	if (zones_alloc(ZONE_NORMAL, &opts, &first, NULL) != MS_OK)
		FAIL("cannot allocate");
	struct ms_instance *inst = zone_of_pfn(first.pfn);
	if (!ms_handle_live(inst, first))
		FAIL("fresh handle is not live");
	zones_free(first.pfn, 0);
	if (ms_handle_live(inst, first))
		FAIL("handle still live after free");
	if (zones_alloc(ZONE_NORMAL, &opts, &second, NULL) != MS_OK)
		FAIL("cannot reallocate");
	bool same = second.pfn == first.pfn;
	bool ok = !ms_handle_live(zone_of_pfn(first.pfn), first) &&
		  ms_handle_live(zone_of_pfn(second.pfn), second) &&
		  (!same || second.generation != first.generation);
	zones_free(second.pfn, 0);
	if (!same)
		FAIL("pfn %lu was not reallocated (got %lu)", first.pfn, second.pfn);
	if (!ok)
		FAIL("pfn %lu generation %u -> %u: old handle not stale", first.pfn,
		     first.generation, second.generation);
	kprintf("selftest:   pfn %lu generation %u -> %u, old handle stale\n", first.pfn,
		first.generation, second.generation);
	return same_state_after(&before, why, why_bytes);
}

static unsigned last_ref_calls;

static void count_last_ref(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	(void)inst;
	(void)pfn;
	(void)order;
	(void)ctx;
	last_ref_calls++;
}

static const struct ms_vtable counting_vtable = { .on_last_ref = count_last_ref };

static bool test_vtable_last_ref(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct ms_alloc_opts opts = { .order = 1, .flags = MS_ALLOC_NOZERO };
	struct ms_handle h;

	snapshot_take(&before);
	if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
		FAIL("cannot allocate");
	struct ms_instance *inst = zone_of_pfn(h.pfn);
	last_ref_calls = 0;
	if (ms_set_vtable(inst, h.pfn, &counting_vtable) != MS_OK)
		FAIL("ms_set_vtable failed");
	if (ms_get(inst, h.pfn) != MS_OK || ms_get(inst, h.pfn) != MS_OK)
		FAIL("ms_get failed");
	int err = ms_free(inst, h.pfn, 1);
	if (err != MS_EBUSY)
		FAIL("free with 3 references: %s, expected MS_EBUSY", ms_strerror(err));
	for (int i = 0; i < 2; i++) {
		if (ms_put(inst, h.pfn) != MS_OK || last_ref_calls != 0)
			FAIL("put %d: hook ran %u times before the last reference", i + 1,
			     last_ref_calls);
	}
	if (ms_put(inst, h.pfn) != MS_OK || last_ref_calls != 1)
		FAIL("last put: hook ran %u times, expected 1", last_ref_calls);
	err = ms_put(inst, h.pfn);
	if (err == MS_OK || last_ref_calls != 1)
		FAIL("put after the last: %s, hook ran %u times", ms_strerror(err),
		     last_ref_calls);
	kprintf("selftest:   on_last_ref ran once after 3 puts; extra put: %s\n",
		ms_strerror(err));
	return same_state_after(&before, why, why_bytes);
}

#define PCP_FRAMES 200
#define PCP_CPUS 4

static bool test_pcp_conservation(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	uint64_t free_before = zones_nr_free();
	chain_init(&chain);
	for (unsigned i = 0; i < PCP_FRAMES; i++) {
		struct ms_alloc_opts opts = { .flags = MS_ALLOC_NOZERO | MS_ALLOC_CPU_HINT,
					      .cpu = i % PCP_CPUS };
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
			break;
		chain_push(&chain, h.pfn, 0);
	}
	uint64_t allocated = chain.nr_frames;
	uint64_t free_mid = zones_nr_free();
	chain_free(&chain);
	uint64_t free_after = zones_nr_free();	/* counts cached frames */
	if (free_mid + allocated != free_before || free_after != free_before)
		FAIL("free frames %lu -> %lu (+%lu allocated) -> %lu", free_before, free_mid,
		     allocated, free_after);
	kprintf("selftest:   %lu frames through %d per-CPU caches, %lu free before and after\n",
		allocated, PCP_CPUS, free_after);
	return same_state_after(&before, why, why_bytes);
}

static bool test_zone_fallback(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;
	struct ms_alloc_opts opts = { .flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE };
	struct ms_handle h;
	enum zone_id served;

	if (!zone_instance(ZONE_NORMAL) || !zone_instance(ZONE_DMA))
		FAIL("needs both zones");
	snapshot_take(&before);
	if (zones_alloc(ZONE_DMA, &opts, &h, &served) != MS_OK || served != ZONE_DMA)
		FAIL("DMA request not served by DMA");
	zones_free(h.pfn, 0);
	if (zones_alloc(ZONE_NORMAL, &opts, &h, &served) != MS_OK || served != ZONE_NORMAL)
		FAIL("Normal request not served by Normal while it has memory");
	zones_free(h.pfn, 0);
	chain_init(&chain);
	alloc_everything(&chain, ZONE_NORMAL);
	int err = zones_alloc(ZONE_NORMAL, &opts, &h, &served);
	bool fell_back = err == MS_OK && served == ZONE_DMA && h.pfn < ZONE_DMA_END_PFN;
	if (err == MS_OK)
		zones_free(h.pfn, 0);
	chain_free(&chain);
	if (!fell_back)
		FAIL("with Normal exhausted: %s, served by %s", ms_strerror(err),
		     err == MS_OK ? zone_name(served) : "nobody");
	kprintf("selftest:   Normal exhausted after %lu frames; fell back to DMA pfn %lu\n",
		chain.nr_frames, h.pfn);
	return same_state_after(&before, why, why_bytes);
}

struct selftest {
	const char *name;
	bool (*run)(char *why, size_t why_bytes);
};

static const struct selftest tests[] = {
	{ "alloc-all-free-all", test_alloc_all_free_all },
	{ "order-alignment-no-overlap", test_alignment_no_overlap },
	{ "zeroed-after-dirty", test_zeroed_after_dirty },
	{ "double-free-detected", test_double_free },
	{ "poison-quarantined", test_poison_quarantine },
	{ "handle-stale-after-free", test_handle_stale },
	{ "vtable-once-on-last-ref", test_vtable_last_ref },
	{ "pcp-cache-conserves-frames", test_pcp_conservation },
	{ "zone-fallback-normal-to-dma", test_zone_fallback },
};

void selftest_record(struct selftest_totals *totals, const char *name, int ok, const char *why)
{
	if (ok) {
		totals->passed++;
		kprintf("selftest: %-28s PASS\n", name);
	} else {
		totals->failed++;
		kprintf("selftest: %-28s FAIL (%s)\n", name, why);
	}
}

void selftest_run_all(struct selftest_totals *totals)
{
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		char why[160] = "";

		kprintf("selftest: running %s\n", tests[i].name);
		selftest_record(totals, tests[i].name, tests[i].run(why, sizeof(why)), why);
	}
}

void selftest_print_summary(const struct selftest_totals *totals)
{
	kprintf("selftest: %u passed, %u failed\n", totals->passed, totals->failed);
}
