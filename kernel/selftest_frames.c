/*
 * Self-tests of single frames: zeroing of a dirtied frame, generation
 * handles, the vtable hook on the last reference, and the per-CPU caches.
 */
#include "selftest_cases.h"

#include "klib.h"
#include "meta_slot.h"

#define DIRTY_FRAMES 32

bool selftest_zeroed_after_dirty(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	uint64_t dirty[DIRTY_FRAMES];
	unsigned reused = 0;

	snapshot_take(&before);
	for (int i = 0; i < DIRTY_FRAMES; i++) {
		struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO};
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK) {
			for (int j = 0; j < i; j++) /* run again from the shell: leak nothing */
				zones_free(dirty[j], 0);
			FAIL("cannot allocate frame %d", i);
		}
		dirty[i] = h.pfn;
		memset((void *)(uintptr_t)(h.pfn << 12), 0xa5, 4096);
	}
	for (int i = 0; i < DIRTY_FRAMES; i++)
		zones_free(dirty[i], 0);
	/* The per-CPU cache is LIFO: the same frames come back. */
	for (int i = 0; i < DIRTY_FRAMES; i++) {
		struct ms_alloc_opts opts = {0};
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK) {
			for (int j = 0; j < i; j++) /* dirty[0..i) were reallocated */
				zones_free(dirty[j], 0);
			FAIL("cannot reallocate frame %d", i);
		}
		const uint64_t *words = (const uint64_t *)(uintptr_t)(h.pfn << 12);
		for (int w = 0; w < 512; w++) {
			if (words[w] != 0) {
				zones_free(h.pfn, 0);
				for (int j = 0; j < i; j++)
					zones_free(dirty[j], 0);
				FAIL("pfn %lu word %d is 0x%lx after a zeroed allocation", h.pfn, w,
				     words[w]);
			}
		}
		for (int j = 0; j < DIRTY_FRAMES; j++)
			reused += dirty[j] == h.pfn;
		dirty[i] = h.pfn;
	}
	for (int i = 0; i < DIRTY_FRAMES; i++)
		zones_free(dirty[i], 0);
	kprintf("selftest:   %d frames dirtied, %u of them reallocated zeroed\n", DIRTY_FRAMES,
		reused);
	if (reused == 0)
		FAIL("no dirtied frame came back; nothing was proven");
	return selftest_same_state(&before, why, why_bytes);
}

bool selftest_handle_stale(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO};
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
	return selftest_same_state(&before, why, why_bytes);
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

static const struct ms_vtable counting_vtable = {.on_last_ref = count_last_ref};

bool selftest_vtable_last_ref(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct ms_alloc_opts opts = {.order = 1, .flags = MS_ALLOC_NOZERO};
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
		FAIL("put after the last: %s, hook ran %u times", ms_strerror(err), last_ref_calls);
	kprintf("selftest:   on_last_ref ran once after 3 puts; extra put: %s\n", ms_strerror(err));
	return selftest_same_state(&before, why, why_bytes);
}

#define PCP_FRAMES 200
#define PCP_CPUS 4

bool selftest_pcp_conservation(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	uint64_t free_before = zones_nr_free();
	if (!chain_init(&chain, PCP_FRAMES))
		FAIL("no room for the list of frames");
	for (unsigned i = 0; i < PCP_FRAMES; i++) {
		/* Every cached order on every one of the CPUs. */
		struct ms_alloc_opts opts = {.order = (i / PCP_CPUS) % (MS_PCP_MAX_ORDER + 1),
					     .flags = MS_ALLOC_NOZERO | MS_ALLOC_CPU_HINT,
					     .cpu = i % PCP_CPUS};
		struct ms_handle h;

		if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
			break;
		chain_push(&chain, h.pfn, opts.order);
	}
	uint64_t allocated = chain.nr_frames; /* with the list's own frame */
	uint64_t via_cache = chain.nr_blocks - 1;
	uint64_t free_mid = zones_nr_free();
	chain_free(&chain);
	uint64_t free_after = zones_nr_free(); /* counts cached frames */
	if (free_mid + allocated != free_before || free_after != free_before)
		FAIL("free frames %lu -> %lu (+%lu allocated) -> %lu", free_before, free_mid,
		     allocated, free_after);
	kprintf("selftest:   %lu blocks of orders 0-%d (%lu frames) through %d per-CPU caches, "
		"%lu free before and after\n",
		via_cache, MS_PCP_MAX_ORDER, allocated, PCP_CPUS, free_after);
	return selftest_same_state(&before, why, why_bytes);
}
