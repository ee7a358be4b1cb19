/*
 * Hosted platform: libc memset, abort() on panic, no interrupts, a
 * thread-local CPU id, and optional backing memory for zeroing.
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meta_slot.h"
#include "metaslot/ms_hosted.h"

static _Thread_local unsigned current_cpu;
static unsigned char *backing_base;
static uint64_t backing_base_pfn;
static uint64_t backing_nr_frames;

#define HOSTED_FRAME_SHIFT META_SLOT_FRAME_SHIFT

static unsigned hosted_cpu_id(void)
{
	return current_cpu;
}

static void *hosted_phys_to_virt(uint64_t phys_addr)
{
	uint64_t pfn = phys_addr >> HOSTED_FRAME_SHIFT;

	if (backing_base == NULL || pfn < backing_base_pfn ||
	    pfn - backing_base_pfn >= backing_nr_frames)
		return NULL;
	return backing_base + (phys_addr - (backing_base_pfn << HOSTED_FRAME_SHIFT));
}

static void hosted_panic(const char *what, uint64_t pfn, uint64_t value)
{
	fprintf(stderr, "metaslot panic: %s (pfn 0x%llx, value 0x%llx)\n", what,
		(unsigned long long)pfn, (unsigned long long)value);
	abort();
}

static void hosted_spin_wait(void)
{
	sched_yield();
}

static const struct ms_platform hosted = {
	.irq_save = NULL,
	.irq_restore = NULL,
	.cpu_id = hosted_cpu_id,
	.phys_to_virt = hosted_phys_to_virt,
	.panic = hosted_panic,
	.memset = memset,
	.spin_wait = hosted_spin_wait,
};

const struct ms_platform *ms_hosted_platform(void)
{
	return &hosted;
}

void ms_hosted_set_cpu(unsigned cpu)
{
	current_cpu = cpu;
}

void ms_hosted_set_backing(void *base, uint64_t base_pfn, uint64_t nr_frames)
{
	backing_base = base;
	backing_base_pfn = base_pfn;
	backing_nr_frames = nr_frames;
}
