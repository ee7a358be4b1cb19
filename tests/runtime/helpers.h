/* Shared fixtures of the runtime's Check suites. */
#ifndef MS_TEST_HELPERS_H
#define MS_TEST_HELPERS_H

#include <check.h>
#include <stdint.h>

#include "meta_slot.h"
#include "metaslot/ms.h"
#include "metaslot/ms_hosted.h"

/* A check for hot loops: ck_assert_* report a location on every call (a
 * write to the runner), far too slow for millions of operations. */
#define FX_REQUIRE(cond)                                                            \
	do {                                                                        \
		if (!(cond))                                                        \
			ck_abort_msg("%s:%d: requirement failed: %s", __FILE__, __LINE__, #cond); \
	} while (0)

/* The instance every test works on, and its metadata array. */
extern struct ms_instance fx_inst;
extern struct meta_slot *fx_slots;

/* Initialises fx_inst over [base_pfn, base_pfn + nr_frames), no ranges. */
struct ms_instance *fx_setup(uint64_t base_pfn, uint64_t nr_frames);
/* Second instance with its own array (zones); freed by fx_teardown. */
struct ms_instance *fx_setup_extra(struct ms_instance *inst, uint64_t base_pfn,
				   uint64_t nr_frames);
void fx_teardown(void);

/* Fails the test with ms_check's message unless the instance is consistent. */
void fx_assert_consistent(struct ms_instance *inst);
/* Slot of a pfn in inst. */
struct meta_slot *fx_slot(struct ms_instance *inst, uint64_t pfn);
/* Allocation with the given order and flags (cpu hint when cpu >= 0). */
int fx_alloc(struct ms_instance *inst, unsigned order, uint32_t flags, struct ms_handle *out);
/* Allocates nr_blocks (at most 64) blocks of order on CPU cpu, then frees them
 * there, so that they end up in that CPU's cache; the calling thread is CPU 0
 * again afterwards. */
void fx_park_in_cache(struct ms_instance *inst, unsigned cpu, unsigned order, int nr_blocks);
/* Number of frames in the instance's free lists plus caches. */
uint64_t fx_nr_free(struct ms_instance *inst);
/* Scale factor for op counts (env MS_TEST_SCALE, default 1.0). */
double fx_scale(void);
/* Monotonic seconds, for time limits of stress tests. */
double fx_now(void);

Suite *buddy_suite(void);
Suite *errors_suite(void);
Suite *lifecycle_suite(void);
Suite *observe_suite(void);
Suite *model_suite(void);
Suite *stress_suite(void);
Suite *faults_suite(void);

#endif /* MS_TEST_HELPERS_H */
