/*
 * The one runner of the runtime's Check suites.  Check's own environment
 * variables select what runs: CK_RUN_SUITE=stress (the ThreadSanitizer
 * build), CK_RUN_CASE, CK_TIMEOUT_MULTIPLIER, CK_FORK.
 */
#include <stdlib.h>

#include "helpers.h"

int main(void)
{
	SRunner *runner = srunner_create(buddy_suite());

	srunner_add_suite(runner, errors_suite());
	srunner_add_suite(runner, lifecycle_suite());
	srunner_add_suite(runner, observe_suite());
	srunner_add_suite(runner, faults_suite());
	srunner_add_suite(runner, model_suite());
	srunner_add_suite(runner, stress_suite());
	srunner_run_all(runner, CK_NORMAL);
	int nr_failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return nr_failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
