/* Allocator self-tests over the real RAM of the machine. */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

struct selftest_totals {
	unsigned passed;
	unsigned failed;
};

/* Runs every self-test, printing "selftest: <name> PASS" or
 * "selftest: <name> FAIL (<reason>)" for each; adds to totals.  The zones
 * are back in their initial state afterwards, except for frames a test
 * deliberately quarantined. */
void selftest_run_all(struct selftest_totals *totals);
/* Counts the boot layout check as one self-test. */
void selftest_record(struct selftest_totals *totals, const char *name, int ok, const char *why);
void selftest_print_summary(const struct selftest_totals *totals);

#endif
