/*
 * Caller mistakes: each returns its named error and changes nothing (the
 * metadata bytes of the span and the statistics are compared before/after).
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define SPAN_BASE 0x100
#define SPAN_FRAMES 0x800

static unsigned char *snapshot;
static struct ms_stats stats_before;
static struct ms_handle order0, order2;

static void setup(void)
{
	fx_setup(SPAN_BASE, SPAN_FRAMES);
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE + 3, SPAN_FRAMES - 0x10), MS_OK);
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &order0), MS_OK);
	ck_assert_int_eq(fx_alloc(&fx_inst, 2, MS_ALLOC_NOZERO, &order2), MS_OK);
	snapshot = malloc(ms_metadata_bytes(SPAN_FRAMES));
	ck_assert_ptr_nonnull(snapshot);
}

static void teardown(void)
{
	free(snapshot);
	fx_teardown();
}

static void take_snapshot(void)
{
	size_t nr_bytes;
	const void *bytes = ms_metadata_of(&fx_inst, SPAN_BASE, SPAN_FRAMES, &nr_bytes);

	memcpy(snapshot, bytes, nr_bytes);
	ms_stats(&fx_inst, &stats_before);
}

static void assert_unchanged(void)
{
	size_t nr_bytes;
	const void *bytes = ms_metadata_of(&fx_inst, SPAN_BASE, SPAN_FRAMES, &nr_bytes);
	struct ms_stats stats_after;

	ck_assert_mem_eq(snapshot, bytes, nr_bytes);
	ms_stats(&fx_inst, &stats_after);
	ck_assert_uint_eq(stats_after.nr_free, stats_before.nr_free);
	ck_assert_uint_eq(stats_after.nr_allocated, stats_before.nr_allocated);
	fx_assert_consistent(&fx_inst);
}

START_TEST(test_errors_invalid_order)
{
	struct ms_handle handle;

	take_snapshot();
	ck_assert_int_eq(fx_alloc(&fx_inst, MS_MAX_ORDER + 1, 0, &handle), MS_EORDER);
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn, MS_MAX_ORDER + 1), MS_EORDER);
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_pfn_out_of_range)
{
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, SPAN_BASE - 1, 0), MS_ERANGE);
	ck_assert_int_eq(ms_free(&fx_inst, SPAN_BASE + SPAN_FRAMES, 0), MS_ERANGE);
	ck_assert_int_eq(ms_get(&fx_inst, SPAN_BASE + SPAN_FRAMES), MS_ERANGE);
	ck_assert_int_eq(ms_put(&fx_inst, 0), MS_ERANGE);
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, UINT64_C(1) << 40), MS_ERANGE);
	ck_assert_int_eq(ms_set_vtable(&fx_inst, 1, NULL), MS_ERANGE);
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_pfn_misaligned)
{
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn + 1, 2), MS_EALIGN);
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn | 1, 1), MS_EALIGN);
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_double_free)
{
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn, 2), MS_OK);
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_OK); /* now cached */
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn, 2), MS_EDOUBLEFREE);
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_EDOUBLEFREE);
	ck_assert_int_eq(ms_put(&fx_inst, order0.pfn), MS_EDOUBLEFREE);
	ck_assert_int_eq(ms_get(&fx_inst, order0.pfn), MS_EDOUBLEFREE);
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_free_reserved_or_tail_frame)
{
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, SPAN_BASE, 0), MS_EDOUBLEFREE);     /* reserved */
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn + 1, 0), MS_EDOUBLEFREE); /* tail */
	ck_assert_int_eq(ms_free(&fx_inst, SPAN_BASE + 0x400, 0), MS_EDOUBLEFREE); /* free */
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_wrong_order)
{
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn, 1), MS_EWRONGORDER);
	ck_assert_int_eq(ms_free(&fx_inst, order2.pfn, 0), MS_EWRONGORDER);
	assert_unchanged();
}
END_TEST

static int put_in_hook = 1, get_in_hook = 1, free_in_hook = 1;

static void refzero_hook(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	(void)ctx;
	put_in_hook = ms_put(inst, pfn);
	get_in_hook = ms_get(inst, pfn);
	free_in_hook = ms_free(inst, pfn, order);
}

START_TEST(test_errors_put_on_refcount_zero)
{
	static const struct ms_vtable vtable = {.on_last_ref = refzero_hook};

	ck_assert_int_eq(ms_set_vtable(&fx_inst, order2.pfn, &vtable), MS_OK);
	ck_assert_int_eq(ms_put(&fx_inst, order2.pfn), MS_OK);
	ck_assert_int_eq(put_in_hook, MS_EREFZERO);
	ck_assert_int_eq(get_in_hook, MS_EREFZERO);
	ck_assert_int_eq(free_in_hook, MS_EREFZERO);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_errors_free_while_referenced)
{
	ck_assert_int_eq(ms_get(&fx_inst, order0.pfn), MS_OK);
	take_snapshot();
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_EBUSY);
	assert_unchanged();
	ck_assert_int_eq(ms_put(&fx_inst, order0.pfn), MS_OK);
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_OK);
}
END_TEST

START_TEST(test_errors_bad_ranges)
{
	take_snapshot();
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE + 5, 2), MS_EOVERLAP);
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE + SPAN_FRAMES - 2, 4), MS_ERANGE);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0, 4), MS_ERANGE);
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE, 0), MS_EINVAL);
	assert_unchanged();
}
END_TEST

START_TEST(test_errors_bad_options)
{
	struct ms_alloc_opts opts = {.custom_flags = META_SLOT_FRAME_FLAGS_ALLOCATED};
	struct ms_handle handle;

	take_snapshot();
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	opts.custom_flags = META_SLOT_FRAME_FLAGS_POISONED;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	opts.custom_flags = 0;
	opts.purpose = (enum ms_purpose)7;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	opts.purpose = MS_PURPOSE_KERNEL;
	opts.flags = MS_ALLOC_CPU_HINT;
	opts.cpu = MS_MAX_CPUS;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	ck_assert_int_eq(ms_alloc(&fx_inst, NULL, &handle), MS_EINVAL);
	opts.flags = 0;
	opts.cpu = 0;
	uint32_t unnamed = ~(uint32_t)META_SLOT_FRAME_FLAGS_ALL;
	ck_assert_uint_ne(unnamed, 0);
	opts.custom_flags = unnamed & (0u - unnamed); /* the lowest bit frame_flags does not name */
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	opts.custom_flags = 0;
	opts.flags = 0x80000000u; /* a bit no MS_ALLOC_* names */
	opts.cpu = 0;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	opts.flags = MS_ALLOC_NOZERO | 0x8u;
	ck_assert_int_eq(ms_alloc(&fx_inst, &opts, &handle), MS_EINVAL);
	ck_assert_int_eq(ms_set_vtable(&fx_inst, order0.pfn, (const struct ms_vtable *)(uintptr_t)8),
			 MS_EINVAL);
	assert_unchanged();
}
END_TEST

/* An instance ms_init never set up (zeroed, as a static one is, or left
 * as it was by a failed ms_init): every call refuses it, none crashes. */
START_TEST(test_errors_uninitialised_instance_is_refused)
{
	static struct ms_instance zeroed;
	struct ms_zonelist zones = {.nr_instances = 1, .instances = {&zeroed}};
	struct ms_alloc_opts opts = {0};
	struct ms_handle handle = {0};
	struct ms_stats stats;
	struct ms_frag frag;
	struct ms_block blocks[4];
	size_t nr_blocks, nr_bytes;
	char text[128];

	ck_assert_int_eq(ms_init(&zeroed, NULL, fx_slots, 0, 16, "x", 0), MS_EINVAL);
	ck_assert_int_eq(ms_add_range(&zeroed, 0, 16), MS_EINVAL);
	ck_assert_int_eq(ms_alloc(&zeroed, &opts, &handle), MS_EINVAL);
	ck_assert_int_eq(ms_alloc_zones(&zones, &opts, &handle, NULL), MS_EINVAL);
	ck_assert_int_eq(ms_free(&zeroed, 0, 0), MS_EINVAL);
	ck_assert_int_eq(ms_get(&zeroed, 0), MS_EINVAL);
	ck_assert_int_eq(ms_put(&zeroed, 0), MS_EINVAL);
	ck_assert_int_eq(ms_set_vtable(&zeroed, 0, NULL), MS_EINVAL);
	ck_assert_int_eq(ms_mark_poisoned(&zeroed, 0), MS_EINVAL);
	ck_assert_int_eq(ms_quarantine_list(&zeroed, blocks, 4, &nr_blocks), MS_EINVAL);
	memset(&stats, 0xa5, sizeof(stats));
	memset(&frag, 0xa5, sizeof(frag));
	ms_stats(&zeroed, &stats);
	ms_fragmentation(&zeroed, &frag);
	ck_assert_uint_eq(stats.nr_frames, 0xa5a5a5a5a5a5a5a5u); /* left as it was */
	ck_assert_int_eq(frag.largest_free_order, (int)0xa5a5a5a5u);
	ck_assert_int_eq(ms_dump(&zeroed, text, sizeof(text)), MS_EINVAL);
	ck_assert_int_eq(ms_check(&zeroed, text, sizeof(text)), MS_EINVAL);
	ck_assert(!ms_handle_live(&zeroed, handle));
	ck_assert_ptr_null(ms_metadata_of(&zeroed, 0, 1, &nr_bytes));
	ms_cache_drain(&zeroed, 0);
	ms_cache_drain_all(&zeroed);
	ms_set_cache_enabled(&zeroed, false);
}
END_TEST

/* An instance whose ms_init failed, whatever it held before, is refused. */
START_TEST(test_errors_failed_init_instance_is_refused)
{
	struct ms_instance garbage;
	struct ms_alloc_opts opts = {0};
	struct ms_handle handle;

	memset(&garbage, 0xa5, sizeof(garbage));
	ck_assert_int_eq(ms_init(&garbage, NULL, fx_slots, 0, 16, "x", 0), MS_EINVAL);
	ck_assert_int_eq(ms_alloc(&garbage, &opts, &handle), MS_EINVAL);
	ck_assert_int_eq(ms_free(&garbage, 0, 0), MS_EINVAL);
	memset(&garbage, 0xa5, sizeof(garbage));
	ck_assert_int_eq(ms_init(&garbage, ms_hosted_platform(), fx_slots, UINT64_MAX - 4, 16, "x", 0),
			 MS_ERANGE);
	ck_assert_int_eq(ms_add_range(&garbage, 0, 1), MS_EINVAL);
}
END_TEST

/* A free that finds the generation even (no open epoch: here, as another
 * caller's claim leaves it between its CAS and its generation store) is a
 * double free and changes nothing, although the count is 1 and the flags
 * say ALLOCATED. */
START_TEST(test_errors_free_during_a_claim_is_refused)
{
	struct meta_slot *slot = fx_slot(&fx_inst, order0.pfn);
	uint32_t generation = meta_slot_generation_load(slot);

	ck_assert_uint_eq(generation & 1, 1);
	take_snapshot();
	meta_slot_generation_store(slot, generation - 1); /* ms_check would call this corrupt */
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_EDOUBLEFREE);
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_EDOUBLEFREE); /* the slow path too */
	ck_assert_uint_eq(meta_slot_generation_load(slot), generation - 1);
	meta_slot_generation_store(slot, generation);
	assert_unchanged();
	ck_assert_int_eq(ms_free(&fx_inst, order0.pfn, 0), MS_OK);
}
END_TEST

/* ms_init copies the hook table before it clears the instance: re-initialising
 * from the instance's own copy keeps the hooks (it used to copy the cleared,
 * all-NULL table and accept it). */
START_TEST(test_errors_reinit_from_own_hooks_keeps_them)
{
	const struct ms_platform *hosted = ms_hosted_platform();

	ck_assert_int_eq(ms_init(&fx_inst, &fx_inst.platform, fx_inst.slots, fx_inst.base_pfn,
				 fx_inst.nr_frames, "again", 0),
			 MS_OK);
	ck_assert(fx_inst.platform.panic == hosted->panic);
	ck_assert(fx_inst.platform.memset == hosted->memset);
	ck_assert(fx_inst.platform.cpu_id == hosted->cpu_id);
}
END_TEST

/* Sizes and spans whose arithmetic would wrap are refused, not wrapped. */
START_TEST(test_errors_wrapping_spans_are_refused)
{
	static struct ms_instance other;
	size_t nr_bytes;

	ck_assert_ptr_null(ms_metadata_of(&fx_inst, SPAN_BASE + 5, UINT64_MAX, &nr_bytes));
	ck_assert_ptr_null(ms_metadata_of(&fx_inst, SPAN_BASE + 5, UINT64_MAX - 1, &nr_bytes));
	ck_assert_ptr_null(ms_metadata_of(&fx_inst, SPAN_BASE + 5, SPAN_FRAMES - 4, &nr_bytes));
	ck_assert_ptr_nonnull(ms_metadata_of(&fx_inst, SPAN_BASE + 5, SPAN_FRAMES - 5, &nr_bytes));
	ck_assert_uint_eq(nr_bytes, (SPAN_FRAMES - 5) * sizeof(struct meta_slot));
	ck_assert_uint_eq(ms_metadata_bytes((uint64_t)1 << 58), SIZE_MAX);
	ck_assert_uint_eq(ms_metadata_bytes(UINT64_MAX), SIZE_MAX);
	ck_assert_uint_eq(ms_metadata_bytes(3), 3 * sizeof(struct meta_slot));
	/* nr_frames whose array does not fit the address space */
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), fx_slots, 0, (uint64_t)1 << 58, "x", 0),
			 MS_ERANGE);
	/* frames whose physical address does not fit in 64 bits */
	uint64_t top_pfn = UINT64_MAX >> META_SLOT_FRAME_SHIFT;
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), fx_slots, top_pfn, 2, "x", 0),
			 MS_ERANGE);
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), fx_slots, top_pfn, 1, "x", 0), MS_OK);
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), fx_slots, (uint64_t)1 << 52, 8, "x", 0),
			 MS_ERANGE);
}
END_TEST

/* Argument checks of ms_init, ms_add_range and ms_quarantine_list at their
 * edges, and what ms_init stamps when they pass. */
START_TEST(test_errors_init_and_range_edges)
{
	static struct ms_instance other;
	size_t nr_blocks = 0;
	char text[512];

	/* Slots 8-byte but not ARRAY_ALIGN-aligned are refused. */
	struct meta_slot *misaligned = (struct meta_slot *)((char *)fx_slots + 8);
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), misaligned, 0x10, 4, "x", 0),
			 MS_EINVAL);
	/* A range whose end wraps past 2^64 back into the span is out of range. */
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE + 8, UINT64_MAX), MS_ERANGE);
	ck_assert_int_eq(ms_add_range(&fx_inst, SPAN_BASE + 8, UINT64_MAX - 7), MS_ERANGE);
	/* A NULL count is a caller's mistake, not a crash. */
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, NULL, 0, NULL), MS_EINVAL);
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, NULL, 0, &nr_blocks), MS_OK);
	/* No name: the zone is "Normal"; the NUMA node goes into every slot's meta_aux. */
	ck_assert_int_eq(ms_init(&other, ms_hosted_platform(), fx_slots, 0x10, 4, NULL, 3), MS_OK);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_uint_eq(meta_slot_meta_aux_numa_node_get(&fx_slots[i]), 3);
	ck_assert_int_eq(ms_dump(&other, text, sizeof(text)), (int)strlen(text));
	ck_assert_ptr_nonnull(strstr(text, "Node 3, zone   Normal"));
}
END_TEST

START_TEST(test_errors_every_code_named)
{
	static const struct {
		int err;
		const char *prefix;
	} names[] = {
		{MS_OK, "MS_OK:"}, {MS_ENOMEM, "MS_ENOMEM:"}, {MS_EORDER, "MS_EORDER:"},
		{MS_ERANGE, "MS_ERANGE:"}, {MS_EALIGN, "MS_EALIGN:"},
		{MS_EDOUBLEFREE, "MS_EDOUBLEFREE:"}, {MS_EWRONGORDER, "MS_EWRONGORDER:"},
		{MS_EREFZERO, "MS_EREFZERO:"}, {MS_EBUSY, "MS_EBUSY:"},
		{MS_EOVERLAP, "MS_EOVERLAP:"}, {MS_EINVAL, "MS_EINVAL:"},
		{MS_ENOSPC, "MS_ENOSPC:"}, {MS_ECORRUPT, "MS_ECORRUPT:"},
		{MS_EOVERFLOW, "MS_EOVERFLOW:"}, {-99, "MS_E?:"},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *text = ms_strerror(names[i].err);
		ck_assert_int_eq(strncmp(text, names[i].prefix, strlen(names[i].prefix)), 0);
	}
}
END_TEST

Suite *errors_suite(void)
{
	Suite *suite = suite_create("errors");
	TCase *limits = tcase_create("limits");

	tcase_add_checked_fixture(limits, setup, teardown);
	tcase_add_test(limits, test_errors_invalid_order);
	tcase_add_test(limits, test_errors_pfn_out_of_range);
	tcase_add_test(limits, test_errors_pfn_misaligned);
	tcase_add_test(limits, test_errors_double_free);
	tcase_add_test(limits, test_errors_free_reserved_or_tail_frame);
	tcase_add_test(limits, test_errors_wrong_order);
	tcase_add_test(limits, test_errors_put_on_refcount_zero);
	tcase_add_test(limits, test_errors_free_while_referenced);
	tcase_add_test(limits, test_errors_bad_ranges);
	tcase_add_test(limits, test_errors_bad_options);
	tcase_add_test(limits, test_errors_uninitialised_instance_is_refused);
	tcase_add_test(limits, test_errors_wrapping_spans_are_refused);
	tcase_add_test(limits, test_errors_init_and_range_edges);
	tcase_add_test(limits, test_errors_failed_init_instance_is_refused);
	tcase_add_test(limits, test_errors_free_during_a_claim_is_refused);
	tcase_add_test(limits, test_errors_every_code_named);
	tcase_add_test(limits, test_errors_reinit_from_own_hooks_keeps_them);
	suite_add_tcase(suite, limits);
	return suite;
}
