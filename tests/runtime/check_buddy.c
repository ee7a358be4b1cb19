/*
 * Buddy core: ranges and carving, split/coalesce, determinism, zones.
 * Spans are small: where a test names order 10 it is the span's largest
 * block, whatever MS_MAX_ORDER (>= 10) the build uses.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void setup(void)
{
	fx_setup(0x1000, 0x4000);
}

/* Every FREE head on the lists is aligned to its order and inside a range. */
static uint64_t assert_free_blocks_aligned(struct ms_instance *inst)
{
	uint64_t nr_frames = 0;

	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		for (uint64_t pfn = inst->free_head[order]; pfn != META_SLOT_LINK_NONE;
		     pfn = meta_slot_free_link_next_load(fx_slot(inst, pfn))) {
			ck_assert_uint_eq(pfn & ((UINT64_C(1) << order) - 1), 0);
			ck_assert_uint_eq(meta_slot_order_load(fx_slot(inst, pfn)), order);
			nr_frames += UINT64_C(1) << order;
		}
	}
	return nr_frames;
}

START_TEST(test_buddy_init_all_reserved)
{
	struct ms_stats stats;
	struct ms_handle handle;

	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_reserved, 0x4000);
	ck_assert_uint_eq(stats.nr_free, 0);
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, 0, &handle), MS_ENOMEM);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_odd_range_carved_aligned)
{
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1003, 0x2005), MS_OK);
	ck_assert_uint_eq(assert_free_blocks_aligned(&fx_inst), 0x2005);
	/* 0x1003: order 0; 0x1004: order 2; 0x1008: 3; ... 0x1400: 10. */
	ck_assert_uint_eq(meta_slot_order_load(fx_slot(&fx_inst, 0x1004)), 2);
	ck_assert_uint_eq(meta_slot_order_load(fx_slot(&fx_inst, 0x1400)), 10);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_every_order_aligned_at_odd_start)
{
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1001, 0x3ffd), MS_OK);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		struct ms_handle handle;
		int nr_blocks = 0;

		while (fx_alloc(&fx_inst, order, MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE, &handle) == MS_OK) {
			ck_assert_uint_eq(handle.pfn & ((UINT64_C(1) << order) - 1), 0);
			ck_assert_uint_ge(handle.pfn, 0x1001);
			ck_assert_uint_le(handle.pfn + (UINT64_C(1) << order), 0x1001 + 0x3ffd);
			if (++nr_blocks == 8)
				break;
		}
		fx_assert_consistent(&fx_inst);
	}
}
END_TEST

START_TEST(test_buddy_split_then_coalesce)
{
	struct ms_handle handle;

	ck_assert_int_eq(ms_add_range(&fx_inst, 0x2000, 0x400), MS_OK);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOCACHE, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn, 0x2000);
	for (unsigned order = 0; order < 10; order++)
		ck_assert_uint_eq(fx_inst.nr_free_blocks[order], 1);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 0);
	fx_assert_consistent(&fx_inst);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 0), MS_OK);
	ms_cache_drain_all(&fx_inst);
	for (unsigned order = 0; order < 10; order++)
		ck_assert_uint_eq(fx_inst.nr_free_blocks[order], 0);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_adjacent_ranges_coalesce)
{
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x2000, 0x200), MS_OK);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x2200, 0x200), MS_OK);
	ck_assert_uint_eq(fx_inst.nr_free_blocks[10], 1);
	ck_assert_uint_eq(fx_inst.free_head[10], 0x2000);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_holes_never_handed_out)
{
	struct ms_handle handle;
	uint64_t nr_frames = 0;

	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1005, 0x30), MS_OK);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1100, 0x11), MS_OK);
	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK) {
		bool in_first = handle.pfn >= 0x1005 && handle.pfn < 0x1035;
		bool in_second = handle.pfn >= 0x1100 && handle.pfn < 0x1111;
		ck_assert(in_first || in_second);
		nr_frames++;
	}
	ck_assert_uint_eq(nr_frames, 0x41);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_choice_is_deterministic)
{
	static struct ms_instance other;
	uint64_t first[64];

	fx_setup_extra(&other, 0x1000, 0x4000);
	for (int round = 0; round < 2; round++) {
		struct ms_instance *inst = round == 0 ? &fx_inst : &other;
		struct ms_handle handles[64];

		ck_assert_int_eq(ms_add_range(inst, 0x1003, 0x3000), MS_OK);
		for (int i = 0; i < 64; i++) {
			ck_assert_int_eq(fx_alloc(inst, (unsigned)(i % 4), MS_ALLOC_NOZERO, &handles[i]), MS_OK);
			if (i % 3 == 0)
				ck_assert_int_eq(ms_free(inst, handles[i].pfn, (unsigned)(i % 4)), MS_OK);
			if (round == 0)
				first[i] = handles[i].pfn;
			else
				ck_assert_uint_eq(first[i], handles[i].pfn);
		}
	}
}
END_TEST

START_TEST(test_buddy_max_order_block)
{
	struct ms_handle handle;
	const unsigned top = MS_MAX_ORDER < 12 ? MS_MAX_ORDER : 12; /* span starts at 0x1000 */

	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1000, 0x4000), MS_OK);
	ck_assert_int_eq(fx_alloc(&fx_inst, top, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_uint_eq(handle.pfn % (1u << top), 0);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, top), MS_OK);
	ck_assert_uint_eq(fx_nr_free(&fx_inst), 0x4000);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* Two zones, tried in this order: fx_inst (Normal) with 4 frames at 0x1000,
 * then dma with 0x20 frames at 0x10. */
static struct ms_instance dma;
static struct ms_zonelist zones = {.nr_instances = 2, .instances = {&fx_inst, &dma}};

static void setup_two_zones(void)
{
	fx_setup_extra(&dma, 0x10, 0x20);
	ck_assert_int_eq(ms_add_range(&dma, 0x10, 0x20), MS_OK);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1000, 4), MS_OK);
}

START_TEST(test_buddy_zone_fallback)
{
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO};
	struct ms_instance *from = NULL;
	struct ms_handle handle;

	setup_two_zones();
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(ms_alloc_zones(&zones, &opts, &handle, &from), MS_OK);
		ck_assert_ptr_eq(from, &fx_inst);
	}
	ck_assert_int_eq(ms_alloc_zones(&zones, &opts, &handle, &from), MS_OK);
	ck_assert_ptr_eq(from, &dma);
	ck_assert_uint_lt(handle.pfn, 0x30);
	fx_assert_consistent(&fx_inst);
	fx_assert_consistent(&dma);
}
END_TEST

/* The second pass of ms_alloc_zones, not the first, drains caches: a zone
 * whose frames all sit in another CPU's cache yields to the next zone. */
START_TEST(test_buddy_zone_fallback_before_draining_caches)
{
	struct ms_alloc_opts opts = {.order = 0, .flags = MS_ALLOC_NOZERO};
	struct ms_instance *from = NULL;
	struct ms_handle handle;
	struct ms_stats stats;

	setup_two_zones();
	fx_park_in_cache(&fx_inst, 1, 0, 4);
	ck_assert_int_eq(ms_alloc_zones(&zones, &opts, &handle, &from), MS_OK);
	ck_assert_ptr_eq(from, &dma);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_cached, 4); /* CPU 1's cache untouched */
	fx_assert_consistent(&fx_inst);
	fx_assert_consistent(&dma);
}
END_TEST

/* A range beyond MS_MAX_RANGES is refused and changes nothing. */
START_TEST(test_buddy_range_limit)
{
	struct ms_stats before, after;

	for (uint64_t i = 0; i < MS_MAX_RANGES; i++)
		ck_assert_int_eq(ms_add_range(&fx_inst, 0x1000 + 2 * i, 1), MS_OK);
	ck_assert_uint_eq(fx_inst.nr_ranges, MS_MAX_RANGES);
	ms_stats(&fx_inst, &before);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1000 + 2 * MS_MAX_RANGES, 1), MS_EINVAL);
	ms_stats(&fx_inst, &after);
	ck_assert_uint_eq(fx_inst.nr_ranges, MS_MAX_RANGES);
	ck_assert_uint_eq(after.nr_free, before.nr_free);
	ck_assert_uint_eq(after.nr_free, MS_MAX_RANGES);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_buddy_metadata_helpers)
{
	size_t nr_bytes = 0;

	ck_assert_uint_eq(ms_metadata_bytes(10), 10 * sizeof(struct meta_slot));
	ck_assert_uint_eq(ms_metadata_align(), META_SLOT_ARRAY_ALIGN);
	const void *bytes = ms_metadata_of(&fx_inst, 0x1010, 4, &nr_bytes);
	ck_assert_ptr_eq(bytes, fx_slot(&fx_inst, 0x1010));
	ck_assert_uint_eq(nr_bytes, 4 * sizeof(struct meta_slot));
	ck_assert_ptr_null(ms_metadata_of(&fx_inst, 0x4ffe, 4, &nr_bytes));
	ck_assert_ptr_null(ms_metadata_of(&fx_inst, 0xfff, 1, &nr_bytes));
}
END_TEST

Suite *buddy_suite(void)
{
	Suite *suite = suite_create("buddy");
	TCase *core = tcase_create("core");
	TCase *ranges = tcase_create("ranges");
	TCase *zones = tcase_create("zones");

	tcase_add_checked_fixture(core, setup, fx_teardown);
	tcase_add_checked_fixture(ranges, setup, fx_teardown);
	tcase_add_checked_fixture(zones, setup, fx_teardown);
	tcase_add_test(core, test_buddy_init_all_reserved);
	tcase_add_test(core, test_buddy_split_then_coalesce);
	tcase_add_test(core, test_buddy_choice_is_deterministic);
	tcase_add_test(core, test_buddy_max_order_block);
	tcase_add_test(core, test_buddy_metadata_helpers);
	tcase_add_test(ranges, test_buddy_odd_range_carved_aligned);
	tcase_add_test(ranges, test_buddy_every_order_aligned_at_odd_start);
	tcase_add_test(ranges, test_buddy_adjacent_ranges_coalesce);
	tcase_add_test(ranges, test_buddy_holes_never_handed_out);
	tcase_add_test(ranges, test_buddy_range_limit);
	tcase_add_test(zones, test_buddy_zone_fallback);
	tcase_add_test(zones, test_buddy_zone_fallback_before_draining_caches);
	suite_add_tcase(suite, core);
	suite_add_tcase(suite, ranges);
	suite_add_tcase(suite, zones);
	return suite;
}
