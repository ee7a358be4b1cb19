/*
 * The frame life cycle: claim and epoch, reset on free, generational
 * handles, zeroing, get/put and vtables, poison and quarantine, and the
 * per-CPU caches.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "slot.h" /* the runtime's own release helpers, tested directly below */

#define BASE 0x400
#define FRAMES 0x400

static unsigned char *backing;

static void setup(void)
{
	fx_setup(BASE, FRAMES);
	ck_assert_int_eq(ms_add_range(&fx_inst, BASE, FRAMES), MS_OK);
	backing = malloc((size_t)FRAMES * META_SLOT_PAGE_SIZE);
	ck_assert_ptr_nonnull(backing);
	memset(backing, 0xaa, (size_t)FRAMES * META_SLOT_PAGE_SIZE);
	ms_hosted_set_backing(backing, BASE, FRAMES);
}

static void teardown(void)
{
	fx_teardown();
	free(backing);
}

static unsigned char *frame_bytes(uint64_t pfn)
{
	return backing + (pfn - BASE) * META_SLOT_PAGE_SIZE;
}

static bool all_bytes(const unsigned char *bytes, size_t nr_bytes, unsigned char value)
{
	for (size_t i = 0; i < nr_bytes; i++) {
		if (bytes[i] != value)
			return false;
	}
	return true;
}

START_TEST(test_lifecycle_claim_starts_epoch)
{
	struct ms_handle handle;
	uint64_t pfn = BASE; /* the order-10 block's head, first handed out */
	struct meta_slot *slot = fx_slot(&fx_inst, pfn);

	meta_slot_guard_store(slot, META_SLOT_META_GUARD_KERNEL_ONLY);
	meta_slot_vtable_store(slot, 0x40);
	uint32_t generation = meta_slot_generation_load(slot);
	ck_assert_int_eq(fx_alloc(&fx_inst, 3, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn, pfn);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), 1);
	ck_assert_uint_eq(meta_slot_vtable_load(slot), 0);
	ck_assert_uint_eq(meta_slot_guard_load(slot), META_SLOT_META_GUARD_NONE);
	ck_assert_uint_eq(meta_slot_generation_load(slot), generation + 1);
	ck_assert_uint_eq(handle.generation, generation + 1);
	ck_assert_uint_eq(meta_slot_order_load(slot), 3);
	ck_assert_uint_eq(meta_slot_flags_load(slot),
			  META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_KERNEL);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_free_resets_slot)
{
	struct ms_handle handle;
	static const struct ms_vtable vtable;

	ck_assert_int_eq(fx_alloc(&fx_inst, 1, MS_ALLOC_NOZERO, &handle), MS_OK);
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);
	ck_assert_int_eq(ms_set_vtable(&fx_inst, handle.pfn, &vtable), MS_OK);
	meta_slot_guard_fetch_or(slot, META_SLOT_META_GUARD_KERNEL_ONLY);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 1), MS_OK);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), META_SLOT_REFCOUNT_UNUSED);
	ck_assert_uint_eq(meta_slot_vtable_load(slot), 0);
	ck_assert_uint_eq(meta_slot_guard_load(slot), META_SLOT_META_GUARD_NONE);
	ck_assert_uint_eq(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_ALLOCATED, 0);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_purpose_flags)
{
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO, .purpose = MS_PURPOSE_USER,
				     .custom_flags = META_SLOT_FRAME_FLAGS_COW};
	struct ms_handle handle;

	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_OK);
	uint32_t flags = meta_slot_flags_load(fx_slot(&fx_inst, handle.pfn));
	ck_assert_uint_eq(flags, META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_USER |
					 META_SLOT_FRAME_FLAGS_COW);
	opts.purpose = MS_PURPOSE_CUSTOM;
	opts.custom_flags = META_SLOT_FRAME_FLAGS_DLL;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_OK);
	flags = meta_slot_flags_load(fx_slot(&fx_inst, handle.pfn));
	ck_assert_uint_eq(flags, META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_DLL);
}
END_TEST

START_TEST(test_lifecycle_generation_handles)
{
	struct ms_handle first, second;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &first), MS_OK);
	ck_assert(ms_handle_live(&fx_inst, first));
	ck_assert_int_eq(ms_free(&fx_inst, first.pfn, 0), MS_OK);
	ck_assert(!ms_handle_live(&fx_inst, first));
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &second), MS_OK);
	ck_assert_uint_eq(second.pfn, first.pfn); /* LIFO cache reuses it */
	ck_assert_uint_ne(second.generation, first.generation);
	ck_assert(!ms_handle_live(&fx_inst, first));
	ck_assert(ms_handle_live(&fx_inst, second));
}
END_TEST

/* A re-claim publishes its generation a few stores after its refcount CAS.
 * The release already moved the generation on, so a stale handle is never
 * live in between: the window is recreated here by hand (refcount 1, no
 * claim), as a racing ms_alloc would leave it. */
static void check_stale_while_reclaimed(unsigned order, bool via_put)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, order, MS_ALLOC_NOZERO, &handle), MS_OK);
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);
	if (via_put)
		ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	else
		ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, order), MS_OK);
	ck_assert_uint_eq(meta_slot_generation_load(slot), handle.generation + 1);
	uint32_t refs = META_SLOT_REFCOUNT_UNUSED;
	ck_assert(meta_slot_refcount_cas(slot, &refs, 1)); /* the claim's CAS, nothing after */
	ck_assert(!ms_handle_live(&fx_inst, handle));
	meta_slot_refcount_store(slot, META_SLOT_REFCOUNT_UNUSED);
}

START_TEST(test_lifecycle_handle_stale_during_reclaim)
{
	check_stale_while_reclaimed(0, false);
	check_stale_while_reclaimed(3, false);
	check_stale_while_reclaimed(0, true);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_zeroed_by_default)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, 0, &handle), MS_OK);
	ck_assert(all_bytes(frame_bytes(handle.pfn), 4 * META_SLOT_PAGE_SIZE, 0));
	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert(all_bytes(frame_bytes(handle.pfn), 4 * META_SLOT_PAGE_SIZE, 0xaa));
}
END_TEST

/* Backing memory for only the first half of an order-3 block: that half is
 * zeroed, and nothing is written past the end of the backing. */
/* An order-3 block at BASE with only its four frames from `mapped` backed:
 * those are zeroed, the four from `unmapped` are left alone. */
static void assert_half_mapped_block_zeroed(uint64_t mapped, uint64_t unmapped)
{
	struct ms_handle handle;

	ms_hosted_set_backing(frame_bytes(mapped), mapped, 4);
	ck_assert_int_eq(fx_alloc(&fx_inst, 3, MS_ALLOC_NOCACHE, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn, BASE);
	ck_assert(all_bytes(frame_bytes(mapped), 4 * META_SLOT_PAGE_SIZE, 0));
	ck_assert(all_bytes(frame_bytes(unmapped), 4 * META_SLOT_PAGE_SIZE, 0xaa));
	ms_hosted_set_backing(backing, BASE, FRAMES);
}

START_TEST(test_lifecycle_partly_backed_block_zeroed_where_mapped)
{
	assert_half_mapped_block_zeroed(BASE, BASE + 4);
}
END_TEST

/* The mirror case: the head frame is not mapped, so the block is zeroed frame
 * by frame, and its mapped frames, the last included, must all be zeroed. */
START_TEST(test_lifecycle_block_mapped_from_its_middle_zeroed)
{
	assert_half_mapped_block_zeroed(BASE + 4, BASE);
}
END_TEST

START_TEST(test_lifecycle_page_table_forces_zero)
{
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO,
				     .purpose = MS_PURPOSE_PAGE_TABLE};
	struct ms_handle handle;

	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_OK);
	ck_assert(all_bytes(frame_bytes(handle.pfn), META_SLOT_PAGE_SIZE, 0));
	ck_assert_uint_ne(meta_slot_flags_load(fx_slot(&fx_inst, handle.pfn)) &
				  META_SLOT_FRAME_FLAGS_KERNEL, 0);
}
END_TEST

static int nr_last_ref_calls;
static uint64_t last_ref_pfn;
static unsigned last_ref_order;

static void count_last_ref(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	(void)inst;
	ck_assert_ptr_eq(ctx, &nr_last_ref_calls);
	nr_last_ref_calls++;
	last_ref_pfn = pfn;
	last_ref_order = order;
}

/*
 * The stale-free undo (slot.h): a free whose checks read an earlier epoch and
 * whose release CAS then won on the new owner's count must put the count back
 * and report itself stale; a free of the current epoch must not.  The race
 * has no hook to pause it, so the CAS and the check are driven here directly.
 */
START_TEST(test_lifecycle_stale_release_is_undone)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);
	uint32_t refs = 1;

	ck_assert(meta_slot_refcount_cas(slot, &refs, META_SLOT_REFCOUNT_UNUSED));
	ck_assert(ms_slot_release_stale(&fx_inst, slot, handle.generation - 2)); /* older epoch */
	ck_assert_uint_eq(meta_slot_refcount_load(slot), 1); /* the owner's count, put back */
	ck_assert(ms_handle_live(&fx_inst, handle));

	refs = 1;
	ck_assert(meta_slot_refcount_cas(slot, &refs, META_SLOT_REFCOUNT_UNUSED));
	ck_assert(!ms_slot_release_stale(&fx_inst, slot, handle.generation)); /* this epoch */
	ck_assert_uint_eq(meta_slot_refcount_load(slot), META_SLOT_REFCOUNT_UNUSED);
	refs = META_SLOT_REFCOUNT_UNUSED; /* give the count back to free it the normal way */
	ck_assert(meta_slot_refcount_cas(slot, &refs, 1));
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 0), MS_OK);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* The refcount stops one below REFCOUNT_UNUSED: a get there is refused and
 * changes nothing, so a count can never wrap onto "unused". */
START_TEST(test_lifecycle_refcount_limit)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);

	meta_slot_refcount_store(slot, META_SLOT_REFCOUNT_UNUSED - 2);
	ck_assert_int_eq(ms_get(&fx_inst, handle.pfn), MS_OK);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), META_SLOT_REFCOUNT_UNUSED - 1);
	ck_assert_int_eq(ms_get(&fx_inst, handle.pfn), MS_EOVERFLOW);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), META_SLOT_REFCOUNT_UNUSED - 1);
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), META_SLOT_REFCOUNT_UNUSED - 2);
	meta_slot_refcount_store(slot, 1);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 0), MS_OK);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_last_put_runs_hook_once)
{
	static const struct ms_vtable vtable = {.on_last_ref = count_last_ref,
						.ctx = &nr_last_ref_calls};
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_int_eq(ms_set_vtable(&fx_inst, handle.pfn, &vtable), MS_OK);
	ck_assert_int_eq(ms_get(&fx_inst, handle.pfn), MS_OK);
	ck_assert_int_eq(ms_get(&fx_inst, handle.pfn), MS_OK);
	ck_assert_uint_eq(meta_slot_refcount_load(fx_slot(&fx_inst, handle.pfn)), 3);
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	ck_assert_int_eq(nr_last_ref_calls, 0);
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	ck_assert_int_eq(nr_last_ref_calls, 1);
	ck_assert_uint_eq(last_ref_pfn, handle.pfn);
	ck_assert_uint_eq(last_ref_order, 2);
	ck_assert(!ms_handle_live(&fx_inst, handle));
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_EDOUBLEFREE);
	ck_assert_int_eq(nr_last_ref_calls, 1);
	ck_assert_uint_eq(fx_nr_free(&fx_inst), FRAMES);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* Inside on_last_ref the count is 0: the frame is no longer allocated to
 * anyone, so its handle is not live there either. */
static struct ms_handle hooked_handle;
static int live_in_hook = -1;

static void note_liveness(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	(void)pfn;
	(void)order;
	(void)ctx;
	live_in_hook = ms_handle_live(inst, hooked_handle);
}

START_TEST(test_lifecycle_handle_not_live_in_last_ref_hook)
{
	static const struct ms_vtable vtable = {.on_last_ref = note_liveness};

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &hooked_handle), MS_OK);
	ck_assert_int_eq(ms_set_vtable(&fx_inst, hooked_handle.pfn, &vtable), MS_OK);
	ck_assert(ms_handle_live(&fx_inst, hooked_handle));
	ck_assert_int_eq(ms_put(&fx_inst, hooked_handle.pfn), MS_OK);
	ck_assert_int_eq(live_in_hook, 0);
	ck_assert(!ms_handle_live(&fx_inst, hooked_handle));
}
END_TEST

START_TEST(test_lifecycle_misaligned_vtable_is_default)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	/* A value no caller could set through ms_set_vtable: not 64-byte aligned. */
	meta_slot_vtable_store(fx_slot(&fx_inst, handle.pfn), (uint64_t)(uintptr_t)&handle + 1);
	ck_assert_int_eq(ms_put(&fx_inst, handle.pfn), MS_OK);
	ck_assert_uint_eq(fx_nr_free(&fx_inst), FRAMES);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_vtable_is_64_bytes)
{
	ck_assert_uint_eq(sizeof(struct ms_vtable), 64);
	ck_assert_uint_eq(_Alignof(struct ms_vtable), 64);
}
END_TEST

START_TEST(test_lifecycle_poison_sets_both_bits)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, handle.pfn), MS_OK);
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);
	ck_assert_uint_ne(meta_slot_guard_load(slot) & META_SLOT_META_GUARD_POISONED, 0);
	ck_assert_uint_ne(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_POISONED, 0);
	ck_assert_uint_ne(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_ALLOCATED, 0);
}
END_TEST

/* Allocates every frame; none may lie in [pfn, pfn + nr_frames). */
static void assert_never_handed_out(uint64_t pfn, uint64_t nr_frames)
{
	struct ms_handle handle;

	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK)
		ck_assert(handle.pfn < pfn || handle.pfn >= pfn + nr_frames);
}

START_TEST(test_lifecycle_poisoned_block_quarantined_on_free)
{
	struct ms_handle handle;
	struct ms_block blocks[4];
	size_t nr_blocks;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, handle.pfn + 3), MS_OK);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 2), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_quarantined, 4);
	ck_assert_uint_eq(stats.nr_quarantined_blocks, 1);
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, blocks, 4, &nr_blocks), MS_OK);
	ck_assert_uint_eq(nr_blocks, 1);
	ck_assert_uint_eq(blocks[0].pfn, handle.pfn);
	ck_assert_uint_eq(blocks[0].order, 2);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 2), MS_EDOUBLEFREE);
	fx_assert_consistent(&fx_inst);
	assert_never_handed_out(handle.pfn, 4);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_poisoned_free_frame_quarantined_now)
{
	struct ms_block block;
	size_t nr_blocks;

	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 0x123), MS_OK);
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, &block, 1, &nr_blocks), MS_OK);
	ck_assert_uint_eq(nr_blocks, 1);
	ck_assert_uint_eq(block.pfn, BASE);
	ck_assert_uint_eq(block.order, 10); /* the whole span */
	fx_assert_consistent(&fx_inst);
	assert_never_handed_out(BASE, FRAMES);
}
END_TEST

START_TEST(test_lifecycle_poisoned_cached_frame_quarantined_now)
{
	struct ms_handle handle;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 0), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_gt(stats.nr_cached, 0);
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, handle.pfn), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_quarantined, 1);
	fx_assert_consistent(&fx_inst);
	assert_never_handed_out(handle.pfn, 1);
}
END_TEST

START_TEST(test_lifecycle_cache_stamps_owner_cpu)
{
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO | MS_ALLOC_CPU_HINT, .cpu = 5};
	struct ms_handle handle;

	ms_hosted_set_cpu(3);
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_uint_eq(meta_slot_meta_aux_owner_cpu_get(fx_slot(&fx_inst, handle.pfn)), 3);
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_OK);
	ck_assert_uint_eq(meta_slot_meta_aux_owner_cpu_get(fx_slot(&fx_inst, handle.pfn)), 5);
	ck_assert_uint_eq(meta_slot_meta_aux_numa_node_get(fx_slot(&fx_inst, handle.pfn)), 0);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_lifecycle_cached_frames_count_as_free)
{
	struct ms_handle handle;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_cached, MS_PCP_BATCH - 1);
	ck_assert_uint_eq(stats.nr_free, FRAMES - 1);
	ck_assert_uint_eq(stats.nr_allocated, 1);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 0), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_free, FRAMES);
	ck_assert_uint_eq(stats.nr_allocated, 0);
}
END_TEST

START_TEST(test_lifecycle_caches_drained_before_oom)
{
	struct ms_handle handles[FRAMES];
	uint64_t nr_frames = 0;

	/* Fill CPU 1's cache, then ask CPU 0 for every frame of the instance. */
	ms_hosted_set_cpu(1);
	for (int i = 0; i < MS_PCP_CAPACITY; i++)
		ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handles[i]), MS_OK);
	for (int i = 0; i < MS_PCP_CAPACITY; i++)
		ck_assert_int_eq(ms_free(&fx_inst, handles[i].pfn, 0), MS_OK);
	ms_hosted_set_cpu(0);
	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handles[nr_frames]) == MS_OK)
		nr_frames++;
	ck_assert_uint_eq(nr_frames, FRAMES);
	fx_assert_consistent(&fx_inst);
	for (uint64_t i = 0; i < nr_frames; i++)
		ck_assert_int_eq(ms_free(&fx_inst, handles[i].pfn, 0), MS_OK);
	ms_cache_drain_all(&fx_inst);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	fx_assert_consistent(&fx_inst);
}
END_TEST

#if MS_PCP_MAX_ORDER >= 3 /* the tests below cache orders 1, 2 and 3 */
/* Blocks up to MS_PCP_MAX_ORDER are cached per CPU like frames: the first
 * order-2 request stacks a batch cut from one whole block (lowest first), a
 * free goes back on top, the next request takes it again in a new epoch. */
START_TEST(test_lifecycle_high_order_cached_and_reused)
{
	struct ms_handle first, again;
	struct ms_stats stats;
	uint32_t batch = MS_PCP_BATCH >> 2;

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &first), MS_OK);
	ck_assert_uint_eq(first.pfn, BASE);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_cached_blocks[2], batch - 1);
	ck_assert_uint_eq(stats.nr_cached, (batch - 1) * 4);
	ck_assert_uint_eq(stats.nr_free, FRAMES - 4);
	ck_assert_uint_eq(stats.nr_allocated, 4);
	fx_assert_consistent(&fx_inst);

	ck_assert_int_eq(ms_free(&fx_inst, first.pfn, 2), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_cached_blocks[2], batch);
	ck_assert_uint_eq(stats.nr_free_blocks[2], 0); /* cached, not on a list */
	fx_assert_consistent(&fx_inst);

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &again), MS_OK);
	ck_assert_uint_eq(again.pfn, first.pfn);
	ck_assert_uint_gt(again.generation, first.generation);
	struct meta_slot *slot = fx_slot(&fx_inst, again.pfn);
	ck_assert_uint_eq(meta_slot_order_load(slot), 2);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), 1);
	ck_assert(ms_handle_live(&fx_inst, again));
	ck_assert(!ms_handle_live(&fx_inst, first));
	ck_assert_int_eq(ms_free(&fx_inst, again.pfn, 1), MS_EWRONGORDER);
	ck_assert_int_eq(ms_free(&fx_inst, again.pfn, 2), MS_OK);
	ck_assert_int_eq(ms_free(&fx_inst, again.pfn, 2), MS_EDOUBLEFREE);
	ms_cache_drain_all(&fx_inst);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* Poisoning a tail frame of a cached order-2 block quarantines the block at
 * once; it is never handed out. */
START_TEST(test_lifecycle_poisoned_cached_block_quarantined_now)
{
	struct ms_handle handle;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn, BASE); /* BASE + 4 is cached on top */
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 6), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_quarantined, 4);
	ck_assert_uint_eq(stats.nr_quarantined_blocks, 1);
	ck_assert_uint_eq(stats.nr_cached_blocks[2], (MS_PCP_BATCH >> 2) - 2);
	fx_assert_consistent(&fx_inst);
	struct ms_block block;
	size_t nr_blocks;
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, &block, 1, &nr_blocks), MS_OK);
	ck_assert_uint_eq(block.pfn, BASE + 4);
	ck_assert_uint_eq(block.order, 2);
	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn, BASE + 8);
}
END_TEST

/* A stack over its capacity drains a batch (its oldest blocks) to the lists. */
START_TEST(test_lifecycle_high_order_stack_drains_when_full)
{
	enum { NR_BLOCKS = 200 };
	struct ms_handle handles[NR_BLOCKS];
	struct ms_stats stats;
	uint32_t capacity = MS_PCP_CAPACITY >> 1;

	for (int i = 0; i < NR_BLOCKS; i++)
		ck_assert_int_eq(fx_alloc(&fx_inst, 1, MS_ALLOC_NOZERO, &handles[i]), MS_OK);
	for (int i = 0; i < NR_BLOCKS; i++)
		ck_assert_int_eq(ms_free(&fx_inst, handles[i].pfn, 1), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_le(stats.nr_cached_blocks[1], capacity);
	ck_assert_uint_gt(stats.nr_cached_blocks[1], capacity - (MS_PCP_BATCH >> 1));
	ck_assert_uint_eq(stats.nr_free, FRAMES);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* Blocks parked in another CPU's higher-order stack are drained (and so
 * coalesced) before a large request reports out-of-memory. */
START_TEST(test_lifecycle_high_order_caches_drained_before_oom)
{
	struct ms_handle handles[32];
	int nr_large = 0;

	fx_park_in_cache(&fx_inst, 1, 3, 32);
	while (fx_alloc(&fx_inst, 9, MS_ALLOC_NOZERO, &handles[nr_large]) == MS_OK)
		nr_large++;
	ck_assert_int_eq(nr_large, 2); /* all 1024 frames, none left in a cache */
	fx_assert_consistent(&fx_inst);
	for (int i = 0; i < nr_large; i++)
		ck_assert_int_eq(ms_free(&fx_inst, handles[i].pfn, 9), MS_OK);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	fx_assert_consistent(&fx_inst);
}
END_TEST
#endif

START_TEST(test_lifecycle_corrupt_claim_panics)
{
	/* A frame on a free list whose refcount is not UNUSED: the claim panics. */
	meta_slot_refcount_store(fx_slot(&fx_inst, BASE), 7);
	struct ms_handle handle;
	fx_alloc(&fx_inst, 4, MS_ALLOC_NOZERO, &handle);
}
END_TEST

Suite *lifecycle_suite(void)
{
	Suite *suite = suite_create("lifecycle");
	TCase *epoch = tcase_create("epoch");
	TCase *refs = tcase_create("refs");
	TCase *poison = tcase_create("poison");
	TCase *cache = tcase_create("cache");

	tcase_add_checked_fixture(epoch, setup, teardown);
	tcase_add_checked_fixture(refs, setup, teardown);
	tcase_add_checked_fixture(poison, setup, teardown);
	tcase_add_checked_fixture(cache, setup, teardown);
	tcase_add_test(epoch, test_lifecycle_claim_starts_epoch);
	tcase_add_test(epoch, test_lifecycle_stale_release_is_undone);
	tcase_add_test(epoch, test_lifecycle_refcount_limit);
	tcase_add_test(epoch, test_lifecycle_free_resets_slot);
	tcase_add_test(epoch, test_lifecycle_purpose_flags);
	tcase_add_test(epoch, test_lifecycle_generation_handles);
	tcase_add_test(epoch, test_lifecycle_handle_stale_during_reclaim);
	tcase_add_test(epoch, test_lifecycle_zeroed_by_default);
	tcase_add_test(epoch, test_lifecycle_partly_backed_block_zeroed_where_mapped);
	tcase_add_test(epoch, test_lifecycle_block_mapped_from_its_middle_zeroed);
	tcase_add_test(epoch, test_lifecycle_page_table_forces_zero);
	tcase_add_test_raise_signal(epoch, test_lifecycle_corrupt_claim_panics, SIGABRT);
	tcase_add_test(refs, test_lifecycle_last_put_runs_hook_once);
	tcase_add_test(refs, test_lifecycle_misaligned_vtable_is_default);
	tcase_add_test(refs, test_lifecycle_handle_not_live_in_last_ref_hook);
	tcase_add_test(refs, test_lifecycle_vtable_is_64_bytes);
	tcase_add_test(poison, test_lifecycle_poison_sets_both_bits);
	tcase_add_test(poison, test_lifecycle_poisoned_block_quarantined_on_free);
	tcase_add_test(poison, test_lifecycle_poisoned_free_frame_quarantined_now);
	tcase_add_test(poison, test_lifecycle_poisoned_cached_frame_quarantined_now);
	tcase_add_test(cache, test_lifecycle_cache_stamps_owner_cpu);
	tcase_add_test(cache, test_lifecycle_cached_frames_count_as_free);
	tcase_add_test(cache, test_lifecycle_caches_drained_before_oom);
#if MS_PCP_MAX_ORDER >= 3
	tcase_add_test(cache, test_lifecycle_high_order_cached_and_reused);
	tcase_add_test(cache, test_lifecycle_high_order_stack_drains_when_full);
	tcase_add_test(cache, test_lifecycle_high_order_caches_drained_before_oom);
	tcase_add_test(poison, test_lifecycle_poisoned_cached_block_quarantined_now);
#endif
	suite_add_tcase(suite, epoch);
	suite_add_tcase(suite, refs);
	suite_add_tcase(suite, poison);
	suite_add_tcase(suite, cache);
	return suite;
}
