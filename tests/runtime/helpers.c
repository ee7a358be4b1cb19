/* Fixtures shared by the runtime suites. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "helpers.h"

struct ms_instance fx_inst;
struct meta_slot *fx_slots;
static struct meta_slot *extra_slots[4];
static unsigned nr_extra;

static struct meta_slot *alloc_slots(uint64_t nr_frames)
{
	size_t bytes = ms_metadata_bytes(nr_frames);
	size_t align = ms_metadata_align();
	struct meta_slot *slots = aligned_alloc(align, (bytes + align - 1) / align * align);

	ck_assert_ptr_nonnull(slots);
	return slots;
}

struct ms_instance *fx_setup(uint64_t base_pfn, uint64_t nr_frames)
{
	ms_hosted_set_cpu(0);
	fx_slots = alloc_slots(nr_frames);
	ck_assert_int_eq(ms_init(&fx_inst, ms_hosted_platform(), fx_slots, base_pfn, nr_frames,
				 "Normal", 0),
			 MS_OK);
	return &fx_inst;
}

struct ms_instance *fx_setup_extra(struct ms_instance *inst, uint64_t base_pfn,
				   uint64_t nr_frames)
{
	ck_assert_uint_lt(nr_extra, 4);
	struct meta_slot *slots = alloc_slots(nr_frames);
	extra_slots[nr_extra++] = slots;
	ck_assert_int_eq(ms_init(inst, ms_hosted_platform(), slots, base_pfn, nr_frames, "DMA", 0),
			 MS_OK);
	return inst;
}

void fx_teardown(void)
{
	free(fx_slots);
	fx_slots = NULL;
	while (nr_extra > 0)
		free(extra_slots[--nr_extra]);
	ms_hosted_set_backing(NULL, 0, 0);
}

void fx_assert_consistent(struct ms_instance *inst)
{
	char msg[256];
	int err = ms_check(inst, msg, sizeof(msg));

	ck_assert_msg(err == MS_OK, "ms_check: %s", msg);
}

struct meta_slot *fx_slot(struct ms_instance *inst, uint64_t pfn)
{
	return &inst->slots[pfn - inst->base_pfn];
}

int fx_alloc(struct ms_instance *inst, unsigned order, uint32_t flags, struct ms_handle *out)
{
	struct ms_alloc_opts opts = {.order = order, .flags = flags};

	return ms_alloc(inst, &opts, out);
}

void fx_park_in_cache(struct ms_instance *inst, unsigned cpu, unsigned order, int nr_blocks)
{
	struct ms_handle handles[64];

	ck_assert_int_le(nr_blocks, 64);
	ms_hosted_set_cpu(cpu);
	for (int i = 0; i < nr_blocks; i++)
		ck_assert_int_eq(fx_alloc(inst, order, MS_ALLOC_NOZERO, &handles[i]), MS_OK);
	for (int i = 0; i < nr_blocks; i++)
		ck_assert_int_eq(ms_free(inst, handles[i].pfn, order), MS_OK);
	ms_hosted_set_cpu(0);
}

uint64_t fx_nr_free(struct ms_instance *inst)
{
	struct ms_stats stats;

	ms_stats(inst, &stats);
	return stats.nr_free;
}

double fx_scale(void)
{
	const char *env = getenv("MS_TEST_SCALE");
	double scale = env != NULL ? atof(env) : 1.0;

	return scale > 0 ? scale : 1.0;
}

double fx_now(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}
