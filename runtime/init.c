/*
 * Set-up: the metadata array's size, instance initialisation (every frame of
 * the span starts reserved) and usable ranges (carved into naturally aligned
 * blocks and freed, so adjacent ranges coalesce).
 */
#include "internal.h"

/* Saturates at SIZE_MAX: no allocation of that size can succeed, and ms_init
 * refuses a span whose array the address space cannot hold. */
size_t ms_metadata_bytes(uint64_t nr_frames)
{
	if (nr_frames > SIZE_MAX / sizeof(struct meta_slot))
		return SIZE_MAX;
	return (size_t)nr_frames * sizeof(struct meta_slot);
}

size_t ms_metadata_align(void)
{
	return META_SLOT_ARRAY_ALIGN;
}

const void *ms_metadata_of(const struct ms_instance *inst, uint64_t first_pfn,
			   uint64_t nr_frames, size_t *nr_bytes)
{
	if (!ms_ready(inst) || nr_frames == 0 || !ms_pfn_in_span(inst, first_pfn) ||
	    nr_frames > inst->nr_frames - (first_pfn - inst->base_pfn))
		return NULL;
	if (nr_bytes != NULL)
		*nr_bytes = ms_metadata_bytes(nr_frames);
	return ms_slot(inst, first_pfn);
}

/* Reserved (and tail) state: refcount UNUSED, no flags, no links. */
static void reset_slot(struct meta_slot *slot, uint32_t aux)
{
	meta_slot_free_link_next_store(slot, MS_NONE);
	meta_slot_free_link_prev_store(slot, MS_NONE);
	meta_slot_vtable_store(slot, 0);
	meta_slot_flags_store(slot, 0);
	meta_slot_order_store(slot, 0);
	meta_slot_refcount_store(slot, MS_UNUSED);
	meta_slot_generation_store(slot, 0);
	meta_slot_guard_store(slot, META_SLOT_META_GUARD_NONE);
	meta_slot_meta_aux_store(slot, aux);
}

int ms_init(struct ms_instance *inst, const struct ms_platform *platform,
	    struct meta_slot *slots, uint64_t base_pfn, uint64_t nr_frames,
	    const char *name, uint32_t numa_node)
{
	if (inst == NULL)
		return MS_EINVAL;
	inst->slots = NULL; /* until the checks pass: a failed instance is refused by every call */
	if (platform == NULL || platform->panic == NULL ||
	    platform->memset == NULL || slots == NULL || nr_frames == 0 ||
	    (uintptr_t)slots % META_SLOT_ARRAY_ALIGN != 0)
		return MS_EINVAL;
	/* The span must not wrap, must keep LINK_NONE out, its array must fit in
	 * the address space and every frame's physical address in 64 bits. */
	if (base_pfn + nr_frames < base_pfn || base_pfn + nr_frames >= MS_NONE ||
	    nr_frames > SIZE_MAX / sizeof(struct meta_slot) ||
	    base_pfn + nr_frames - 1 > (UINT64_MAX >> META_SLOT_FRAME_SHIFT))
		return MS_ERANGE;

	/* A copy, taken before the instance is cleared: the table may be this
	 * instance's own copy (re-initialising from inst->platform). */
	struct ms_platform hooks = *platform;
	hooks.memset(inst, 0, sizeof(*inst));
	inst->platform = hooks; /* a copy: one load per hook call */
	inst->slots = slots;
	inst->base_pfn = base_pfn;
	inst->nr_frames = nr_frames;
	inst->name = name != NULL ? name : "Normal";
	inst->numa_node = numa_node;
	inst->cache_enabled = true;
	ms_lock_init(&inst->lock);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++)
		inst->free_head[order] = MS_NONE;
	inst->quarantine_head = MS_NONE;
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		atomic_init(&inst->pcp[cpu].busy, 0);
		for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++)
			atomic_init(&inst->pcp[cpu].stacks[order].nr_blocks, 0);
		atomic_init(&inst->pcp[cpu].nr_alloc_events, 0);
		atomic_init(&inst->pcp[cpu].nr_free_events, 0);
	}
	atomic_init(&inst->nr_poison_marks, 0);

	uint32_t aux = (numa_node << META_SLOT_META_AUX_NUMA_NODE_SHIFT) &
		       META_SLOT_META_AUX_NUMA_NODE_MASK;
	for (uint64_t i = 0; i < nr_frames; i++)
		reset_slot(&slots[i], aux);
	return MS_OK;
}

static bool overlaps(const struct ms_range *range, uint64_t start_pfn, uint64_t nr_frames)
{
	return start_pfn < range->start_pfn + range->nr_frames &&
	       range->start_pfn < start_pfn + nr_frames;
}

/* The largest order whose naturally aligned block starts at pfn and ends by end_pfn. */
static unsigned carve_order(uint64_t pfn, uint64_t end_pfn)
{
	unsigned order = MS_MAX_ORDER;

	while (order > 0 &&
	       ((pfn & (ms_order_frames(order) - 1)) != 0 || end_pfn - pfn < ms_order_frames(order)))
		order--;
	return order;
}

int ms_add_range(struct ms_instance *inst, uint64_t start_pfn, uint64_t nr_frames)
{
	if (!ms_ready(inst) || nr_frames == 0)
		return MS_EINVAL;
	if (!ms_pfn_in_span(inst, start_pfn) || nr_frames > inst->nr_frames ||
	    !ms_pfn_in_span(inst, start_pfn + nr_frames - 1))
		return MS_ERANGE;

	unsigned long irq_state = ms_lock_irq(inst);
	int err = inst->nr_ranges == MS_MAX_RANGES ? MS_EINVAL : MS_OK;
	for (unsigned i = 0; i < inst->nr_ranges && err == MS_OK; i++) {
		if (overlaps(&inst->ranges[i], start_pfn, nr_frames))
			err = MS_EOVERLAP;
	}
	if (err == MS_OK) {
		inst->ranges[inst->nr_ranges].start_pfn = start_pfn;
		inst->ranges[inst->nr_ranges].nr_frames = nr_frames;
		inst->nr_ranges++;
		inst->nr_usable_frames += nr_frames;
		uint64_t end_pfn = start_pfn + nr_frames;
		for (uint64_t pfn = start_pfn; pfn < end_pfn;) {
			unsigned order = carve_order(pfn, end_pfn);

			/* A frame poisoned while reserved never reaches a free
			 * list: the block shrinks around it, it is quarantined alone. */
			while (order > 0 && ms_block_poisoned(inst, pfn, order))
				order--;
			if (ms_block_poisoned(inst, pfn, order))
				ms_quarantine_locked(inst, pfn, order);
			else
				ms_buddy_free_locked(inst, pfn, order);
			pfn += ms_order_frames(order);
		}
	}
	ms_unlock_irq(inst, irq_state);
	return err;
}
