/*
 * Self-tests of the free lists as a whole: allocating all of RAM, block
 * alignment, double free, poison quarantine and the zone fallback.  All of
 * them allocate with MS_ALLOC_NOZERO: zeroing gigabytes under TCG would
 * take longer than the rest of the boot.
 */
#include "selftest_cases.h"

#include "bootmem.h"
#include "multiboot.h"
#include "meta_slot.h"

extern char kernel_image_start[];
extern char kernel_image_end[];

struct placement {
	uint64_t bad_pfn;
	const char *problem;
};

/* True if [start, end) is covered by usable entries of the loader's memory
 * map (adjacent entries may share a block). */
static bool in_usable_map(uint64_t start, uint64_t end)
{
	const struct memmap *map = boot_memmap();

	while (start < end) {
		unsigned i = 0;

		while (i < map->nr_entries &&
		       !(map->entries[i].type == MEMMAP_TYPE_USABLE &&
			 start >= map->entries[i].base &&
			 start - map->entries[i].base < map->entries[i].length_bytes))
			i++;
		if (i == map->nr_entries)
			return false;
		start = map->entries[i].base + map->entries[i].length_bytes;
	}
	return true;
}

/* Checked against the raw memory map, the linker's symbols and the zones'
 * own record of the metadata array, not against bootmem's bookkeeping, so
 * a mistake there cannot hide itself. */
static bool placed_in_free_ram(uint64_t pfn, unsigned order, void *ctx)
{
	struct placement *out = ctx;
	uint64_t start = pfn << FRAME_SHIFT;
	uint64_t end = (pfn + (1ull << order)) << FRAME_SHIFT;
	uint64_t meta_phys, meta_bytes;

	zones_metadata(&meta_phys, &meta_bytes);
	const struct {
		uint64_t start;
		uint64_t end;
		const char *what;
	} taken[] = {
	    {0, LOW_RESERVED_BYTES, "the first MiB"},
	    {(uintptr_t)kernel_image_start, (uintptr_t)kernel_image_end, "the kernel image"},
	    {meta_phys, meta_phys + meta_bytes, "the metadata array"},
	};

	out->bad_pfn = pfn;
	if (!in_usable_map(start, end)) {
		out->problem = "not usable RAM in the memory map";
		return false;
	}
	for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
		if (start < taken[i].end && taken[i].start < end) {
			out->problem = taken[i].what;
			return false;
		}
	}
	return true;
}

bool selftest_alloc_all_free_all(char *why, size_t why_bytes)
{
	struct placement placement = {0, ""};

	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	if (!alloc_everything(&chain, NR_ZONES))
		FAIL("no room for the list of blocks");
	uint64_t expected = before.nr_free[ZONE_DMA] + before.nr_free[ZONE_NORMAL];
	uint64_t left = zones_nr_free();
	kprintf("selftest:   allocated %lu frames in %lu blocks, %lu left free\n", chain.nr_frames,
		chain.nr_blocks, left);
	if (chain.nr_frames != expected || left != 0) {
		chain_free(&chain);
		FAIL("allocated %lu frames of %lu free, %lu left", chain.nr_frames, expected, left);
	}
	if (!chain_visit(&chain, placed_in_free_ram, &placement)) {
		chain_free(&chain);
		FAIL("block at pfn %lu: %s", placement.bad_pfn, placement.problem);
	}
	kprintf("selftest:   no block in a hole, reserved range, first MiB, kernel or metadata\n");
	int err = chain_free(&chain);
	if (err != MS_OK)
		FAIL("free: %s", ms_strerror(err));
	if (!selftest_same_state(&before, why, why_bytes))
		return false;
	kprintf("selftest:   buddyinfo before = after, ms_check OK\n");
	return true;
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

bool selftest_alignment_no_overlap(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;

	snapshot_take(&before);
	if (!chain_init(&chain, MS_NR_ORDERS * BLOCKS_PER_ORDER))
		FAIL("no room for the list of blocks");
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		for (int i = 0; i < BLOCKS_PER_ORDER; i++) {
			struct ms_alloc_opts opts = {.order = order, .flags = MS_ALLOC_NOZERO};
			struct ms_handle h;

			if (zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
				continue; /* small machines lack the large orders */
			if (h.pfn & ((1ull << order) - 1)) {
				zones_free(h.pfn, order);
				chain_free(&chain);
				FAIL("order %u block at pfn %lu is misaligned", order, h.pfn);
			}
			struct overlap_ctx ctx = {h.pfn, order, false};
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
	return selftest_same_state(&before, why, why_bytes);
}

bool selftest_double_free(char *why, size_t why_bytes)
{
	struct zone_snapshot before, mid;
	struct ms_alloc_opts opts = {.order = 1, .flags = MS_ALLOC_NOZERO};
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
	err = zones_free(0, 0); /* pfn 0 is reserved, never handed out */
	if (err != MS_EDOUBLEFREE)
		FAIL("free of reserved pfn 0: %s, expected MS_EDOUBLEFREE", ms_strerror(err));
	kprintf("selftest:   double free of pfn %lu reported as %s\n", h.pfn,
		ms_strerror(MS_EDOUBLEFREE));
	if (!selftest_same_state(&mid, why, why_bytes))
		return false;
	return selftest_same_state(&before, why, why_bytes);
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

bool selftest_poison_quarantine(char *why, size_t why_bytes)
{
	struct zone_snapshot before, after;
	struct ms_alloc_opts opts = {.order = 2, .flags = MS_ALLOC_NOZERO};
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
	uint64_t quarantined =
	    (after.nr_quarantined[ZONE_DMA] + after.nr_quarantined[ZONE_NORMAL]) -
	    (before.nr_quarantined[ZONE_DMA] + before.nr_quarantined[ZONE_NORMAL]);
	if (quarantined == 0)
		FAIL("freeing the poisoned block quarantined nothing");
	if (!alloc_everything(&chain, NR_ZONES))
		FAIL("no room for the list of blocks");
	struct contains_ctx ctx = {bad, false};
	chain_visit(&chain, contains_pfn, &ctx);
	err = chain_free(&chain);
	if (ctx.found)
		FAIL("poisoned pfn %lu was handed out again", bad);
	if (err != MS_OK)
		FAIL("free: %s", ms_strerror(err));
	kprintf("selftest:   pfn %lu poisoned, %lu frames quarantined, never reallocated\n", bad,
		quarantined);
	return selftest_same_state(&after, why, why_bytes);
}

bool selftest_zone_fallback(char *why, size_t why_bytes)
{
	struct zone_snapshot before;
	struct block_chain chain;
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE};
	struct ms_handle h;
	enum zone_id served;

	if (!zone_instance(ZONE_NORMAL) || !zone_instance(ZONE_DMA)) {
		kprintf("selftest:   only one zone (RAM ends below 16 MiB): no fallback to test\n");
		return true;
	}
	snapshot_take(&before);
	/* Every block taken is given back on every path, so that the test can
	 * run again from the shell, also after it failed. */
	int err = zones_alloc(ZONE_DMA, &opts, &h, &served);
	if (err == MS_OK)
		zones_free(h.pfn, 0);
	if (err != MS_OK || served != ZONE_DMA)
		FAIL("DMA request not served by DMA");
	err = zones_alloc(ZONE_NORMAL, &opts, &h, &served);
	if (err == MS_OK)
		zones_free(h.pfn, 0);
	if (err != MS_OK || served != ZONE_NORMAL)
		FAIL("Normal request not served by Normal (%s)",
		     err == MS_OK ? "served by DMA" : "no memory");
	if (!alloc_everything(&chain, ZONE_NORMAL))
		FAIL("no room for the list of blocks");
	uint64_t normal_frames = chain.nr_frames;
	err = zones_alloc(ZONE_NORMAL, &opts, &h, &served);
	bool fell_back = err == MS_OK && served == ZONE_DMA && h.pfn < ZONE_DMA_END_PFN;
	if (err == MS_OK)
		zones_free(h.pfn, 0);
	chain_free(&chain);
	if (!fell_back)
		FAIL("with Normal exhausted: %s, served by %s", ms_strerror(err),
		     err == MS_OK ? zone_name(served) : "nobody");
	kprintf("selftest:   Normal exhausted after %lu frames; fell back to DMA pfn %lu\n",
		normal_frames, h.pfn);
	return selftest_same_state(&before, why, why_bytes);
}
