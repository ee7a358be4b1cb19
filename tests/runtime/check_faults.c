/*
 * Fault injection: metadata corrupted on purpose through the generated
 * accessors, as a stray write or a bad DIMM would.  Each test shows that the
 * consistency checker (ms_check) reports the damage, or that the allocator
 * stops through the panic hook (the claim CAS or a list assert) before it
 * hands a frame out twice or loses one silently.
 *
 * The panic hook records what it was told and longjmps back into the test;
 * the instance may then hold its lock, so a test that saw a panic only looks
 * at metadata afterwards, never calls the allocator again.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define BASE 0x1000
#define FRAMES 64
/* check_quarantine_link_panics: link the block to itself. */
#define LINK_TO_ITSELF META_SLOT_LINK_NONE

static struct ms_platform fault_platform;
static jmp_buf panic_jump;
static const char *panic_what;
static uint64_t panic_pfn;
static uint64_t panic_value;

static void record_panic(const char *what, uint64_t pfn, uint64_t value)
{
	panic_what = what;
	panic_pfn = pfn;
	panic_value = value;
	longjmp(panic_jump, 1);
}

/* Runs `call`, which must end in a panic whose message contains `text`. */
#define expect_panic(call, text)                                                                   \
	do {                                                                                       \
		panic_what = NULL;                                                                 \
		if (setjmp(panic_jump) == 0) {                                                     \
			call;                                                                      \
			ck_abort_msg("no panic from %s", #call);                                   \
		}                                                                                  \
		ck_assert_ptr_nonnull(panic_what);                                                 \
		ck_assert_msg(strstr(panic_what, (text)) != NULL, "panic '%s'", panic_what);       \
	} while (0)

static void init_instance(bool cache_enabled)
{
	fx_setup(BASE, FRAMES);
	fault_platform = *ms_hosted_platform();
	fault_platform.panic = record_panic;
	ck_assert_int_eq(ms_init(&fx_inst, &fault_platform, fx_slots, BASE, FRAMES, "Faults", 0),
			 MS_OK);
	ck_assert_int_eq(ms_add_range(&fx_inst, BASE, FRAMES), MS_OK);
	ms_set_cache_enabled(&fx_inst, cache_enabled);
}

static uint64_t alloc_pfn(unsigned order, uint32_t flags)
{
	struct ms_handle handle;

	ck_assert_int_eq(fx_alloc(&fx_inst, order, flags | MS_ALLOC_NOZERO, &handle), MS_OK);
	return handle.pfn;
}

/* Fails unless ms_check reports corruption with `text` in its message. */
static void assert_check_fails(const char *text)
{
	char msg[256];

	ck_assert_int_eq(ms_check(&fx_inst, msg, sizeof(msg)), MS_ECORRUPT);
	ck_assert_msg(strstr(msg, text) != NULL, "ms_check said '%s', expected '%s'", msg, text);
}

/*
 * Buddy lists, cache off.  After three order-0 allocations (0x1000, 0x1001,
 * 0x1002) and the free of 0x1000, the free lists are:
 *   order 0: 0x1000 -> 0x1003   order 2: 0x1004   order 3: 0x1008
 *   order 4: 0x1010             order 5: 0x1020
 */
static void setup_lists(void)
{
	init_instance(false);
	ck_assert_uint_eq(alloc_pfn(0, 0), BASE);
	ck_assert_uint_eq(alloc_pfn(0, 0), BASE + 1);
	ck_assert_uint_eq(alloc_pfn(0, 0), BASE + 2);
	ck_assert_int_eq(ms_free(&fx_inst, BASE, 0), MS_OK);
	ck_assert_uint_eq(fx_inst.free_head[0], BASE);
	ck_assert_uint_eq(meta_slot_free_link_next_load(fx_slot(&fx_inst, BASE)), BASE + 3);
	ck_assert_uint_eq(fx_inst.free_head[2], BASE + 4);
	fx_assert_consistent(&fx_inst);
}

START_TEST(test_faults_truncated_list_is_detected)
{
	meta_slot_free_link_next_store(fx_slot(&fx_inst, BASE), META_SLOT_LINK_NONE);
	assert_check_fails("free list length differs from its counter");
}
END_TEST

/* An order no block can have, on a listed head: reported, and the checker
 * never shifts by it (UBSan builds run this). */
START_TEST(test_faults_listed_order_out_of_range_is_detected)
{
	meta_slot_order_store(fx_slot(&fx_inst, BASE + 4), 200);
	assert_check_fails("list: listed head has an order above the maximum");
}
END_TEST

START_TEST(test_faults_link_to_allocated_block_panics)
{
	meta_slot_free_link_next_store(fx_slot(&fx_inst, BASE), BASE + 1);
	assert_check_fails("list: prev link not symmetric");
	ck_assert_uint_eq(alloc_pfn(0, 0), BASE);
	expect_panic(alloc_pfn(0, 0), "head not FREE at order");
	ck_assert_uint_eq(panic_pfn, BASE + 1);
	/* The allocated frame was not handed out a second time. */
	ck_assert_uint_eq(meta_slot_refcount_load(fx_slot(&fx_inst, BASE + 1)), 1);
}
END_TEST

START_TEST(test_faults_list_cycle_is_detected)
{
	meta_slot_free_link_next_store(fx_slot(&fx_inst, BASE + 3), BASE);
	meta_slot_free_link_prev_store(fx_slot(&fx_inst, BASE), BASE + 3);
	assert_check_fails("list:");
}
END_TEST

START_TEST(test_faults_link_outside_span_is_detected)
{
	meta_slot_free_link_next_store(fx_slot(&fx_inst, BASE), BASE + 0x100000);
	assert_check_fails("list: link outside the span");
}
END_TEST

/* Regression: unlinking followed the link and wrote past the metadata array. */
START_TEST(test_faults_link_outside_span_panics)
{
	meta_slot_free_link_next_store(fx_slot(&fx_inst, BASE), BASE + 0x100000);
	expect_panic(alloc_pfn(0, 0), "free list: next link outside the span");
	ck_assert_uint_eq(panic_pfn, BASE);
	ck_assert_uint_eq(panic_value, BASE + 0x100000);
}
END_TEST

START_TEST(test_faults_free_order_changed)
{
	meta_slot_order_store(fx_slot(&fx_inst, BASE + 4), 1);
	assert_check_fails("free head without FREE at the list's order");
	expect_panic(alloc_pfn(2, 0), "head not FREE at order");
	ck_assert_uint_eq(panic_pfn, BASE + 4);
}
END_TEST

START_TEST(test_faults_free_refcount_changed)
{
	meta_slot_refcount_store(fx_slot(&fx_inst, BASE + 4), 1);
	assert_check_fails("list: listed head has a refcount");
	expect_panic(alloc_pfn(2, 0), "claim: frame not free");
	ck_assert_uint_eq(panic_pfn, BASE + 4);
	ck_assert_uint_eq(panic_value, 1);
}
END_TEST

/* The signal __builtin_trap raises hosted. */
#if defined(__aarch64__)
#define TRAP_SIGNAL SIGTRAP
#else
#define TRAP_SIGNAL SIGILL
#endif

/* A hook that breaks the contract: it returns. */
static void returning_panic(const char *what, uint64_t pfn, uint64_t value)
{
	panic_what = what;
	panic_pfn = pfn;
	panic_value = value;
}

/* Regression: a panic hook that returned let the failed claim run on and
 * hand out a frame that was not free.  Now the runtime traps. */
START_TEST(test_faults_panic_hook_that_returns_traps)
{
	struct ms_alloc_opts opts = {.order = 2, .flags = MS_ALLOC_NOZERO};
	struct ms_handle handle;

	fx_inst.platform.panic = returning_panic;
	meta_slot_refcount_store(fx_slot(&fx_inst, BASE + 4), 1);
	int err = ms_alloc(&fx_inst, &opts, &handle);
	ck_abort_msg("ms_alloc ran on after the panic hook returned: %d, pfn 0x%llx, panic '%s'",
		     err, (unsigned long long)handle.pfn, panic_what ? panic_what : "(none)");
}
END_TEST

START_TEST(test_faults_free_flag_cleared)
{
	meta_slot_flags_fetch_and(fx_slot(&fx_inst, BASE + 4), ~META_SLOT_FRAME_FLAGS_FREE);
	assert_check_fails("free head without FREE at the list's order");
	expect_panic(alloc_pfn(2, 0), "head not FREE at order");
	ck_assert_uint_eq(panic_pfn, BASE + 4);
}
END_TEST

START_TEST(test_faults_tail_marked_free_is_detected)
{
	/* Frame 0x1005 inside the free order-2 block at 0x1004 claims to be a
	 * free head of its own: two free blocks would overlap. */
	meta_slot_order_store(fx_slot(&fx_inst, BASE + 5), 0);
	meta_slot_flags_fetch_or(fx_slot(&fx_inst, BASE + 5), META_SLOT_FRAME_FLAGS_FREE);
	assert_check_fails("walk: block overlaps another block");
}
END_TEST

START_TEST(test_faults_allocated_flag_cleared)
{
	struct meta_slot *slot = fx_slot(&fx_inst, BASE + 1);

	meta_slot_flags_fetch_and(slot, ~META_SLOT_FRAME_FLAGS_ALLOCATED);
	assert_check_fails("walk: unallocated frame with a refcount");
	ck_assert_int_eq(ms_free(&fx_inst, BASE + 1, 0), MS_EDOUBLEFREE);
	ck_assert_uint_eq(meta_slot_refcount_load(slot), 1);
}
END_TEST

/* The generation is odd exactly while an epoch is open (slot.h): an allocated
 * head with an even one could never be freed, a free one with an odd one
 * would accept a free.  Neither a refcount of 0 stays on an allocated head. */
static void assert_check_fails_after_epoch_flip(uint64_t pfn, const char *text)
{
	struct meta_slot *slot = fx_slot(&fx_inst, pfn);

	meta_slot_generation_store(slot, meta_slot_generation_load(slot) + 1);
	assert_check_fails(text);
}

START_TEST(test_faults_allocated_head_without_an_open_epoch)
{
	assert_check_fails_after_epoch_flip(BASE + 1, "walk: allocated head without an open epoch "
						      "(even generation)");
}
END_TEST

START_TEST(test_faults_allocated_head_with_refcount_zero)
{
	meta_slot_refcount_store(fx_slot(&fx_inst, BASE + 2), 0);
	assert_check_fails("walk: allocated head with refcount UNUSED or 0");
}
END_TEST

START_TEST(test_faults_free_head_with_an_open_epoch)
{
	assert_check_fails_after_epoch_flip(BASE + 4, "walk: unallocated frame with an open epoch "
						      "(odd generation)");
}
END_TEST

/* Each counter ms_check compares with what it walked: off by one, caught. */
START_TEST(test_faults_counters_off_by_one)
{
	static const char *const expected[] = {
		"count: free frames differ from counter",
		"count: quarantine length differs from its counter",
		"count: quarantined frames differ",
	};
	uint64_t *counters[] = {&fx_inst.nr_free_frames, &fx_inst.nr_quarantined_blocks,
				&fx_inst.nr_quarantined_frames};

	for (unsigned i = 0; i < 3; i++) {
		(*counters[i])++;
		assert_check_fails(expected[i]);
		(*counters[i])--;
		fx_assert_consistent(&fx_inst);
	}
}
END_TEST

START_TEST(test_faults_quarantined_block_marked_free)
{
	/* Poisoning 0x1005 quarantines the free order-2 block at 0x1004; a stray
	 * FREE on its head must not pass for a free block. */
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 5), MS_OK);
	fx_assert_consistent(&fx_inst);
	meta_slot_flags_store(fx_slot(&fx_inst, BASE + 4), META_SLOT_FRAME_FLAGS_FREE);
	assert_check_fails("list: quarantined head in wrong state");
}
END_TEST

START_TEST(test_faults_quarantined_head_without_poison_flag)
{
	/* A quarantined head that lost its frame_flags POISONED mirror. */
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 5), MS_OK);
	meta_slot_flags_store(fx_slot(&fx_inst, BASE + 4), 0);
	assert_check_fails("list: quarantined head in wrong state");
}
END_TEST

START_TEST(test_faults_tail_frame_with_a_refcount)
{
	/* 0x1005 is a tail of the free order-2 block at 0x1004. */
	meta_slot_refcount_store(fx_slot(&fx_inst, BASE + 5), 1);
	assert_check_fails("walk: tail frame with a refcount");
}
END_TEST

/*
 * Per-CPU cache, cache on.  The first order-0 allocation refills CPU 0's
 * order-0 stack with a batch and takes one frame: MS_PCP_BATCH - 1 stay
 * cached, pcp0->pfns[nr_cached - 1] is handed out next.
 */
static struct ms_pcp_stack *pcp0;
static uint32_t nr_cached;

static void setup_cache(void)
{
	init_instance(true);
	alloc_pfn(0, 0);
	pcp0 = &fx_inst.pcp[0].stacks[0];
	nr_cached = atomic_load(&pcp0->nr_blocks);
	ck_assert_uint_eq(nr_cached, MS_PCP_BATCH - 1);
	fx_assert_consistent(&fx_inst);
}

START_TEST(test_faults_cached_refcount_changed)
{
	uint64_t top = pcp0->pfns[nr_cached - 1];

	meta_slot_refcount_store(fx_slot(&fx_inst, top), 7);
	assert_check_fails("walk: unallocated frame with a refcount");
	expect_panic(alloc_pfn(0, 0), "claim: frame not free");
	ck_assert_uint_eq(panic_pfn, top);
	ck_assert_uint_eq(panic_value, 7);
}
END_TEST

START_TEST(test_faults_cached_frame_marked_allocated)
{
	meta_slot_flags_fetch_or(fx_slot(&fx_inst, pcp0->pfns[0]), META_SLOT_FRAME_FLAGS_ALLOCATED);
	assert_check_fails("walk: allocated head with refcount UNUSED");
}
END_TEST

START_TEST(test_faults_cached_twice_claim_panics)
{
	uint64_t top = pcp0->pfns[nr_cached - 1];

	pcp0->pfns[nr_cached - 2] = top; /* the same frame cached twice */
	ck_assert_uint_eq(alloc_pfn(0, 0), top);
	expect_panic(alloc_pfn(0, 0), "claim: frame not free");
	ck_assert_uint_eq(panic_pfn, top);
	ck_assert_uint_eq(panic_value, 1);
}
END_TEST

/* Regression: a frame cached twice hid the frame it overwrote, which was lost
 * without ms_check noticing. */
START_TEST(test_faults_cached_twice_is_detected)
{
	pcp0->pfns[nr_cached - 2] = pcp0->pfns[nr_cached - 1];
	assert_check_fails("cache: frame cached twice");
}
END_TEST

#if MS_PCP_MAX_ORDER >= 2
/* A cached order-2 block over frames cached at order 0 (no PFN equal, the
 * ranges overlap): two hand-outs of the same frames waiting to happen. */
START_TEST(test_faults_cached_block_overlaps_cached_frames)
{
	struct ms_pcp_stack *order2 = &fx_inst.pcp[0].stacks[2];
	uint32_t index = nr_cached - 1 - 7; /* the batch is stacked BASE + 63 .. BASE + 1 */

	ck_assert_uint_eq(pcp0->pfns[index], BASE + 8);
	pcp0->pfns[index] = pcp0->pfns[nr_cached - 1]; /* order 0 keeps 9..11, not 8 */
	atomic_store(&pcp0->nr_blocks, nr_cached - 1);
	order2->pfns[0] = BASE + 8;
	atomic_store(&order2->nr_blocks, 1);
	assert_check_fails("cache: frame cached twice");
}
END_TEST
#endif

START_TEST(test_faults_cached_frame_outside_span_panics)
{
	pcp0->pfns[nr_cached - 1] = BASE + FRAMES; /* one past the span */
	expect_panic(alloc_pfn(0, 0), "cache: frame outside the span");
	ck_assert_uint_eq(panic_pfn, BASE + FRAMES);
}
END_TEST

START_TEST(test_faults_cache_count_above_capacity_is_detected)
{
	atomic_store(&pcp0->nr_blocks, MS_PCP_CAPACITY + 1);
	assert_check_fails("cache: count above capacity");
}
END_TEST

START_TEST(test_faults_cache_count_above_capacity_panics)
{
	atomic_store(&pcp0->nr_blocks, MS_PCP_CAPACITY + 1);
	expect_panic(alloc_pfn(0, 0), "cache: count above capacity");
	ck_assert_uint_eq(panic_value, MS_PCP_CAPACITY + 1);
}
END_TEST

/* A quarantine list whose link leaves the span, or loops, panics instead of
 * being followed outside the metadata array or forever.  (The panic leaves
 * the instance lock held: one broken list per test.) */
static void check_quarantine_link_panics(uint64_t next)
{
	struct ms_block blocks[4];
	size_t nr_blocks;

	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 5), MS_OK);
	ck_assert_int_eq(ms_quarantine_list(&fx_inst, blocks, 4, &nr_blocks), MS_OK);
	ck_assert_uint_eq(nr_blocks, 1);
	meta_slot_free_link_next_store(fx_slot(&fx_inst, blocks[0].pfn),
				       next == LINK_TO_ITSELF ? blocks[0].pfn : next);
	expect_panic(ms_quarantine_list(&fx_inst, blocks, 4, &nr_blocks),
		     "quarantine list: link outside the span or list too long");
}

START_TEST(test_faults_quarantine_link_outside_span_panics)
{
	check_quarantine_link_panics(BASE + FRAMES + 7);
	ck_assert_uint_eq(panic_pfn, BASE + FRAMES + 7);
}
END_TEST

START_TEST(test_faults_quarantine_cycle_panics)
{
	check_quarantine_link_panics(LINK_TO_ITSELF); /* the block links to itself */
	ck_assert_uint_eq(panic_value, 1);
}
END_TEST

/* Every frame that can still be allocated, once; none may be `poisoned`.
 * nr_allocated frames were allocated before. */
static void drain_allocator(uint64_t poisoned, uint64_t nr_allocated)
{
	struct ms_handle handle;
	struct ms_stats stats;
	uint64_t nr_taken = 0;
	bool *seen = calloc(FRAMES, sizeof(*seen));

	ck_assert_ptr_nonnull(seen);
	while (fx_alloc(&fx_inst, 0, MS_ALLOC_NOZERO, &handle) == MS_OK) {
		ck_assert_uint_ne(handle.pfn, poisoned);
		ck_assert(!seen[handle.pfn - BASE]);
		seen[handle.pfn - BASE] = true;
		nr_taken++;
	}
	free(seen);
	ms_stats(&fx_inst, &stats);
	ck_assert_uint_eq(stats.nr_free, 0);
	ck_assert_uint_eq(stats.nr_quarantined, 1);
	/* Nothing lost: earlier allocations, the drained frames, the poisoned one. */
	ck_assert_uint_eq(nr_allocated + nr_taken + stats.nr_quarantined, FRAMES);
	ck_assert_uint_eq(stats.nr_allocated, FRAMES - 1);
	fx_assert_consistent(&fx_inst);
}

static void assert_quarantined(uint64_t pfn)
{
	struct ms_block blocks[2];
	size_t nr_blocks;

	ck_assert_int_eq(ms_quarantine_list(&fx_inst, blocks, 2, &nr_blocks), MS_OK);
	ck_assert_uint_eq(nr_blocks, 1);
	ck_assert_uint_eq(blocks[0].pfn, pfn);
	ck_assert_uint_eq(blocks[0].order, 0);
}

START_TEST(test_faults_cached_frame_poisoned)
{
	uint64_t victim = pcp0->pfns[nr_cached / 2];

	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, victim), MS_OK);
	assert_quarantined(victim);
	fx_assert_consistent(&fx_inst);
	drain_allocator(victim, 1);
}
END_TEST

START_TEST(test_faults_cached_frame_poisoned_behind_the_cache)
{
	/* The guard bit set directly (as a machine-check handler might), not
	 * through ms_mark_poisoned: the allocation that pops it quarantines it. */
	uint64_t victim = pcp0->pfns[nr_cached - 1];

	meta_slot_guard_fetch_or(fx_slot(&fx_inst, victim), META_SLOT_META_GUARD_POISONED);
	ck_assert_uint_ne(alloc_pfn(0, 0), victim);
	assert_quarantined(victim);
	fx_assert_consistent(&fx_inst);
	drain_allocator(victim, 2);
}
END_TEST

/* A span whose range is not added yet (the test adds it). */
static void setup_reserved(void)
{
	fx_setup(BASE, FRAMES);
	fault_platform = *ms_hosted_platform();
	fault_platform.panic = record_panic;
	ck_assert_int_eq(ms_init(&fx_inst, &fault_platform, fx_slots, BASE, FRAMES, "Faults", 0),
			 MS_OK);
}

/* Regression: a frame poisoned while reserved went to the free lists when
 * its range was added, and was handed out. */
START_TEST(test_faults_poisoned_before_add)
{
	ck_assert_int_eq(ms_mark_poisoned(&fx_inst, BASE + 2), MS_OK);
	ck_assert_int_eq(ms_add_range(&fx_inst, BASE, FRAMES), MS_OK);
	assert_quarantined(BASE + 2);
	fx_assert_consistent(&fx_inst);
	drain_allocator(BASE + 2, 0);
}
END_TEST

Suite *faults_suite(void)
{
	Suite *suite = suite_create("faults");
	TCase *lists = tcase_create("lists");
	TCase *cache = tcase_create("cache");
	TCase *reserved = tcase_create("reserved");

	tcase_add_checked_fixture(lists, setup_lists, fx_teardown);
	tcase_add_test(lists, test_faults_truncated_list_is_detected);
	tcase_add_test(lists, test_faults_listed_order_out_of_range_is_detected);
	tcase_add_test(lists, test_faults_link_to_allocated_block_panics);
	tcase_add_test(lists, test_faults_list_cycle_is_detected);
	tcase_add_test(lists, test_faults_link_outside_span_is_detected);
	tcase_add_test(lists, test_faults_link_outside_span_panics);
	tcase_add_test(lists, test_faults_free_order_changed);
	tcase_add_test(lists, test_faults_free_refcount_changed);
	tcase_add_test_raise_signal(lists, test_faults_panic_hook_that_returns_traps, TRAP_SIGNAL);
	tcase_add_test(lists, test_faults_free_flag_cleared);
	tcase_add_test(lists, test_faults_tail_marked_free_is_detected);
	tcase_add_test(lists, test_faults_allocated_flag_cleared);
	tcase_add_test(lists, test_faults_allocated_head_without_an_open_epoch);
	tcase_add_test(lists, test_faults_counters_off_by_one);
	tcase_add_test(lists, test_faults_allocated_head_with_refcount_zero);
	tcase_add_test(lists, test_faults_free_head_with_an_open_epoch);
	tcase_add_test(lists, test_faults_quarantined_block_marked_free);
	tcase_add_test(lists, test_faults_quarantined_head_without_poison_flag);
	tcase_add_test(lists, test_faults_tail_frame_with_a_refcount);
	tcase_add_test(lists, test_faults_quarantine_link_outside_span_panics);
	tcase_add_test(lists, test_faults_quarantine_cycle_panics);
	suite_add_tcase(suite, lists);

	tcase_add_checked_fixture(cache, setup_cache, fx_teardown);
	tcase_add_test(cache, test_faults_cached_refcount_changed);
	tcase_add_test(cache, test_faults_cached_frame_marked_allocated);
	tcase_add_test(cache, test_faults_cached_twice_claim_panics);
	tcase_add_test(cache, test_faults_cached_frame_outside_span_panics);
	tcase_add_test(cache, test_faults_cache_count_above_capacity_panics);
	tcase_add_test(cache, test_faults_cache_count_above_capacity_is_detected);
	tcase_add_test(cache, test_faults_cached_twice_is_detected);
#if MS_PCP_MAX_ORDER >= 2
	tcase_add_test(cache, test_faults_cached_block_overlaps_cached_frames);
#endif
	tcase_add_test(cache, test_faults_cached_frame_poisoned);
	tcase_add_test(cache, test_faults_cached_frame_poisoned_behind_the_cache);
	suite_add_tcase(suite, cache);

	tcase_add_checked_fixture(reserved, setup_reserved, fx_teardown);
	tcase_add_test(reserved, test_faults_poisoned_before_add);
	suite_add_tcase(suite, reserved);
	return suite;
}
