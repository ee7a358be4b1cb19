/* Observability: totals, the buddyinfo dump, fragmentation, the checker. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "helpers.h"

static void setup(void)
{
	fx_setup(0x1000, 0x1000);
	ck_assert_int_eq(ms_add_range(&fx_inst, 0x1400, 0x400), MS_OK);
}

START_TEST(test_observe_totals)
{
	struct ms_handle handle;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 3, MS_ALLOC_NOZERO, &handle), MS_OK);
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, 0x1600), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_frames, 0x1000);
	ck_assert_uint_eq(stats.nr_reserved, 0xc00);
	ck_assert_uint_eq(stats.nr_allocated, 8);
	ck_assert_uint_eq(stats.nr_quarantined, 0x200); /* the order-9 block at 0x1600 */
	ck_assert_uint_eq(stats.nr_free, 0x400 - 8 - 0x200);
	ck_assert_uint_eq(stats.nr_alloc_events, 1);
	ck_assert_int_eq(ms_free(&fx_inst, handle.pfn, 3), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_free_events, 1);
	ck_assert_uint_eq(stats.nr_free, 0x200);
	fx_assert_consistent(&fx_inst);
}
END_TEST

/* nr_alloc_events counts hand-outs: a block found poisoned when it is taken
 * (from a cache or from the lists) is quarantined and the next one handed
 * out, one event in all. */
START_TEST(test_observe_alloc_events_count_hand_outs_only)
{
	struct ms_handle first, next;
	struct ms_stats before, after;

	for (int from_lists = 0; from_lists < 2; from_lists++) {
		uint32_t flags = MS_ALLOC_NOZERO;

		/* Cache off: the free coalesces and the next allocation splits the same
		 * block again, so the poisoned head is taken from the lists. */
		ms_set_cache_enabled(&fx_inst, !from_lists);
		ck_assert_int_eq(fx_alloc(&fx_inst, 0, flags, &first), MS_OK);
		ck_assert_int_eq(ms_free(&fx_inst, first.pfn, 0), MS_OK); /* taken first again */
		meta_slot_guard_fetch_or(fx_slot(&fx_inst, first.pfn), META_SLOT_META_GUARD_POISONED);
		ms_stats(&fx_inst, &before);
		ck_assert_int_eq(fx_alloc(&fx_inst, 0, flags, &next), MS_OK);
		ms_stats(&fx_inst, &after);
		ck_assert_uint_ne(next.pfn, first.pfn);
		ck_assert_uint_eq(after.nr_quarantined, before.nr_quarantined + 1);
		ck_assert_uint_eq(after.nr_alloc_events, before.nr_alloc_events + 1);
		ck_assert_int_eq(ms_free(&fx_inst, next.pfn, 0), MS_OK);
	}
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_observe_buddyinfo_dump)
{
	char text[256];
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, 8, MS_ALLOC_NOZERO, &handle), MS_OK);
	int len = ms_dump(&fx_inst, text, sizeof(text));
	ck_assert_int_gt(len, 0);
	/* orders 0..10; a build with a larger MS_MAX_ORDER adds zero columns */
	const char *orders = "Node 0, zone   Normal      0      0      0      0      0      0"
			     "      0      0      1      1      0";
	ck_assert_int_eq(strncmp(text, orders, strlen(orders)), 0);
	ck_assert_ptr_nonnull(strstr(text, "\nframes 4096 free 768 cached 0 allocated 256 "
					   "reserved 3072 quarantined 0\n"));
	ck_assert_int_eq(len, (int)strlen(text));
	ck_assert_int_eq(ms_dump(&fx_inst, text, 20), MS_ENOSPC);
}
END_TEST

START_TEST(test_observe_fragmentation)
{
	struct ms_frag frag;
	struct ms_handle handle;

	ms_fragmentation(&fx_inst, &frag);
	ck_assert_int_eq(frag.largest_free_order, 10);
	for (unsigned order = 0; order <= 10; order++)
		ck_assert_uint_eq(frag.unusable_free_permille[order], 0);
	/* Leave 0x1400 (order 0) taken: free frames are one of each order 0..9. */
	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE, &handle), MS_OK);
	ms_fragmentation(&fx_inst, &frag);
	ck_assert_int_eq(frag.largest_free_order, 9);
	/* Below order k, the blocks of orders 0..k-1 (2^k - 1 frames) are unusable. */
	for (unsigned order = 0; order <= 10; order++)
		ck_assert_uint_eq(frag.unusable_free_permille[order],
				  ((1u << order) - 1) * 1000 / 1023);
	ck_assert_uint_eq(frag.unusable_free_permille[9], 499); /* 511000 / 1023 */
	ck_assert_uint_eq(frag.unusable_free_permille[10], 1000);
}
END_TEST

/* Cached frames are free frames of order 0: one order-0 allocation refills
 * this CPU's cache with a whole order-6 block (64 frames), keeps 63. */
START_TEST(test_observe_fragmentation_counts_cached_frames)
{
	struct ms_frag frag;
	struct ms_handle handle;
	struct ms_stats stats;

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle), MS_OK);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_free, 1023);
	ck_assert_uint_eq(stats.nr_cached, 63);
	ms_fragmentation(&fx_inst, &frag);
	ck_assert_int_eq(frag.largest_free_order, 9);
	ck_assert_uint_eq(frag.unusable_free_permille[0], 0);
	ck_assert_uint_eq(frag.unusable_free_permille[1], 61); /* 63 * 1000 / 1023 */
}
END_TEST

/* A dump into too small a buffer stops one byte short of its end, with the
 * NUL inside: nothing past buf[buf_bytes - 1] is written. */
START_TEST(test_observe_dump_stays_in_its_buffer)
{
	char buf[64];

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(ms_dump(&fx_inst, buf, 20), MS_ENOSPC);
	ck_assert_uint_eq(strlen(buf), 19);
	for (size_t i = 20; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], '#');
}
END_TEST

/* The dumps' decimal and division helpers (written without a 64-bit
 * division, for i386 kernels) against the C library's. */
START_TEST(test_observe_decimal_text_and_division)
{
	static const uint64_t values[] = {0, 7, 10, 99, 4096, 1234567890123ull,
					  UINT64_C(9999999999999999999), UINT64_MAX};
	static const uint64_t divisors[] = {1, 3, 10, 1000, 1023, UINT64_C(1) << 62};

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		char got[32], want[32];
		struct ms_text text;

		ms_text_init(&text, got, sizeof(got));
		ms_text_u64(&text, values[i], 0);
		snprintf(want, sizeof(want), "%" PRIu64, values[i]);
		ck_assert_str_eq(got, want);
		for (size_t j = 0; j < sizeof(divisors) / sizeof(divisors[0]); j++) {
			uint64_t remainder = 1;

			ck_assert_uint_eq(ms_div_u64(values[i], divisors[j], &remainder),
					  values[i] / divisors[j]);
			ck_assert_uint_eq(remainder, values[i] % divisors[j]);
		}
	}
	char got[32];
	struct ms_text text;
	ms_text_init(&text, got, sizeof(got));
	ms_text_u64(&text, UINT64_MAX, 0);
	ck_assert_str_eq(got, "18446744073709551615");
}
END_TEST

START_TEST(test_observe_check_finds_broken_link)
{
	struct ms_handle handle;
	char msg[160];

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE, &handle), MS_OK);
	uint64_t head = fx_inst.free_head[3];
	meta_slot_free_link_prev_store(fx_slot(&fx_inst, head), 0x1234);
	ck_assert_int_eq(ms_check(&fx_inst, msg, sizeof(msg)), MS_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "prev link not symmetric"));
}
END_TEST

START_TEST(test_observe_check_finds_overlap)
{
	char msg[160];

	/* A FREE flag inside the free order-10 block. */
	meta_slot_flags_store(fx_slot(&fx_inst, 0x1404), META_SLOT_FRAME_FLAGS_FREE);
	ck_assert_int_eq(ms_check(&fx_inst, msg, sizeof(msg)), MS_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "overlaps"));
}
END_TEST

/* The span's frames outside the usable range are reserved: one marked FREE
 * is reported as such (0x1000 is reserved here, the range is 0x1400..). */
START_TEST(test_observe_check_finds_reserved_frame_marked_free)
{
	char msg[160];

	meta_slot_flags_store(fx_slot(&fx_inst, 0x1000), META_SLOT_FRAME_FLAGS_FREE);
	ck_assert_int_eq(ms_check(&fx_inst, msg, sizeof(msg)), MS_ECORRUPT);
	ck_assert_msg(strstr(msg, "walk: reserved frame is FREE or ALLOCATED") != NULL, "%s", msg);
	meta_slot_flags_store(fx_slot(&fx_inst, 0x1000), 0);
	fx_assert_consistent(&fx_inst);
}
END_TEST

START_TEST(test_observe_check_finds_lost_frame)
{
	struct ms_handle handle;
	char msg[160];

	ck_assert_int_eq(fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE, &handle), MS_OK);
	/* Forge a frame that left the allocated state without reaching any list. */
	struct meta_slot *slot = fx_slot(&fx_inst, handle.pfn);
	meta_slot_refcount_store(slot, META_SLOT_REFCOUNT_UNUSED);
	meta_slot_flags_store(slot, 0);
	meta_slot_generation_store(slot, meta_slot_generation_load(slot) + 1); /* epoch closed */
	ck_assert_int_eq(ms_check(&fx_inst, msg, sizeof(msg)), MS_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(msg, "lost"));
}
END_TEST

Suite *observe_suite(void)
{
	Suite *suite = suite_create("observe");
	TCase *stats = tcase_create("stats");
	TCase *invariants = tcase_create("invariants");

	tcase_add_checked_fixture(stats, setup, fx_teardown);
	tcase_add_checked_fixture(invariants, setup, fx_teardown);
	tcase_add_test(stats, test_observe_totals);
	tcase_add_test(stats, test_observe_buddyinfo_dump);
	tcase_add_test(stats, test_observe_fragmentation);
	tcase_add_test(stats, test_observe_decimal_text_and_division);
	tcase_add_test(stats, test_observe_fragmentation_counts_cached_frames);
	tcase_add_test(stats, test_observe_dump_stays_in_its_buffer);
	tcase_add_test(invariants, test_observe_check_finds_broken_link);
	tcase_add_test(invariants, test_observe_check_finds_overlap);
	tcase_add_test(invariants, test_observe_check_finds_lost_frame);
	tcase_add_test(invariants, test_observe_check_finds_reserved_frame_marked_free);
	tcase_add_test(stats, test_observe_alloc_events_count_hand_outs_only);
	suite_add_tcase(suite, stats);
	suite_add_tcase(suite, invariants);
	return suite;
}
