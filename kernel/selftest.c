/*
 * Runs the allocator self-tests in a fixed order and prints one
 * "selftest: <name> PASS|FAIL (<reason>)" line each; the cases live in
 * selftest_blocks.c and selftest_frames.c.
 */
#include "selftest.h"

#include "kprintf.h"
#include "selftest_cases.h"

bool selftest_same_state(const struct zone_snapshot *before, char *why, size_t why_bytes)
{
	struct zone_snapshot after;

	snapshot_take(&after);
	if (!snapshot_equal(before, &after))
		FAIL("free lists differ: DMA %lu -> %lu free, Normal %lu -> %lu free",
		     before->nr_free[ZONE_DMA], after.nr_free[ZONE_DMA],
		     before->nr_free[ZONE_NORMAL], after.nr_free[ZONE_NORMAL]);
	return check_zones(why, why_bytes);
}

struct selftest {
	const char *name;
	bool (*run)(char *why, size_t why_bytes);
};

static const struct selftest tests[] = {
    {"alloc-all-free-all", selftest_alloc_all_free_all},
    {"order-alignment-no-overlap", selftest_alignment_no_overlap},
    {"zeroed-after-dirty", selftest_zeroed_after_dirty},
    {"double-free-detected", selftest_double_free},
    {"poison-quarantined", selftest_poison_quarantine},
    {"handle-stale-after-free", selftest_handle_stale},
    {"vtable-once-on-last-ref", selftest_vtable_last_ref},
    {"pcp-cache-conserves-frames", selftest_pcp_conservation},
    {"zone-fallback-normal-to-dma", selftest_zone_fallback},
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
