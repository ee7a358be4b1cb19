/*
 * Runner of the fault-injection suite (tests/runtime/check_faults.c), built
 * with ASan and UBSan by mk/fuzz.mk.  Check's environment variables apply
 * (CK_RUN_CASE, CK_FORK, CK_TIMEOUT_MULTIPLIER); keep the fork mode: a test
 * that saw a panic leaves its instance locked.
 */
#include <stdlib.h>

#include <check.h>

Suite *faults_suite(void);

int main(void)
{
	SRunner *runner = srunner_create(faults_suite());

	srunner_run_all(runner, CK_NORMAL);
	int nr_failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return nr_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
