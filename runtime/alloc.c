/*
 * Allocation and free: option checks, the per-CPU or locked path, zeroing,
 * the claim, and the fallback across zones.
 */
#include "pcp.h"
#include "slot.h"

/* frame_flags a caller may stamp itself (MS_PURPOSE_CUSTOM or extra bits). */
#define MS_RESERVED_FLAGS \
	(META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_FREE | META_SLOT_FRAME_FLAGS_POISONED)

static int stamp_of(const struct ms_alloc_opts *opts, uint32_t *stamp_flags)
{
	static const uint32_t purpose_flags[] = {
		[MS_PURPOSE_KERNEL] = META_SLOT_FRAME_FLAGS_KERNEL,
		[MS_PURPOSE_USER] = META_SLOT_FRAME_FLAGS_USER,
		[MS_PURPOSE_PAGE_TABLE] = META_SLOT_FRAME_FLAGS_KERNEL,
		[MS_PURPOSE_CUSTOM] = 0,
	};

	if ((unsigned)opts->purpose > MS_PURPOSE_CUSTOM || (opts->custom_flags & MS_RESERVED_FLAGS))
		return MS_EINVAL;
	*stamp_flags = purpose_flags[opts->purpose] | opts->custom_flags;
	return MS_OK;
}

static void zero_block(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	if (inst->platform.phys_to_virt == NULL)
		return;
	void *virt = inst->platform.phys_to_virt(pfn << META_SLOT_FRAME_SHIFT);
	if (virt != NULL)
		inst->platform.memset(virt, 0, (size_t)META_SLOT_PAGE_SIZE << order);
}

static bool frame_poisoned(struct ms_instance *inst, uint64_t pfn)
{
	return (meta_slot_guard_load(ms_slot(inst, pfn)) & META_SLOT_META_GUARD_POISONED) != 0;
}

/* One attempt on one instance; MS_NONE when empty (caches not drained). */
static uint64_t take_block(struct ms_instance *inst, unsigned order, bool use_cache, unsigned cpu)
{
	for (;;) {
		uint64_t pfn;

		if (use_cache) {
			pfn = ms_pcp_pop(inst, cpu);
		} else {
			unsigned long irq_state = ms_lock_irq(inst);
			pfn = ms_buddy_alloc_locked(inst, order);
			if (pfn != MS_NONE)
				inst->nr_locked_alloc_events++;
			ms_unlock_irq(inst, irq_state);
		}
		if (pfn == MS_NONE)
			return MS_NONE;
		/* A cached frame poisoned after ms_mark_poisoned scanned the caches. */
		if (!frame_poisoned(inst, pfn))
			return pfn;
		unsigned long irq_state = ms_lock_irq(inst);
		ms_quarantine_locked(inst, pfn, order);
		ms_unlock_irq(inst, irq_state);
	}
}

/* Frames in all per-CPU caches (a snapshot). */
static uint64_t ms_nr_cached(struct ms_instance *inst)
{
	uint64_t nr_cached = 0;

	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++)
		nr_cached += ms_counter_load32(&inst->pcp[cpu].nr_cached);
	return nr_cached;
}

/*
 * Everything but a successful pop from the cache, kept out of line so that
 * the hot path stays short.  popped is what the cache's pop returned (a
 * poisoned cached frame, or MS_NONE) or MS_NONE without the cache.  Returns
 * a block as take_block does, after draining every cache when may_drain and
 * nothing else is left.
 */
__attribute__((noinline)) static uint64_t take_block_slow(struct ms_instance *inst,
							   unsigned order, bool use_cache,
							   unsigned cpu, bool may_drain,
							   uint64_t popped)
{
	uint64_t pfn = MS_NONE;

	if (popped != MS_NONE) {
		/* A cached frame poisoned after ms_mark_poisoned scanned the caches. */
		unsigned long irq_state = ms_lock_irq(inst);
		ms_quarantine_locked(inst, popped, order);
		ms_unlock_irq(inst, irq_state);
		pfn = take_block(inst, order, use_cache, cpu);
	} else if (!use_cache) {
		pfn = take_block(inst, order, use_cache, cpu);
	}
	if (pfn == MS_NONE && may_drain && ms_nr_cached(inst) != 0) {
		ms_cache_drain_all(inst);
		pfn = take_block(inst, order, use_cache, cpu);
	}
	return pfn;
}

static inline int alloc_one(struct ms_instance *inst, const struct ms_alloc_opts *opts,
		     struct ms_handle *out, bool may_drain)
{
	uint32_t stamp_flags;

	if (inst == NULL || opts == NULL || out == NULL)
		return MS_EINVAL;
	if (opts->order > MS_MAX_ORDER)
		return MS_EORDER;
	if (stamp_of(opts, &stamp_flags) != MS_OK)
		return MS_EINVAL;
	if ((opts->flags & MS_ALLOC_CPU_HINT) && opts->cpu >= MS_MAX_CPUS)
		return MS_EINVAL;

	unsigned order = opts->order;
	bool use_cache = order == 0 && inst->cache_enabled && !(opts->flags & MS_ALLOC_NOCACHE);
	uint32_t owner_cpu = UINT32_MAX;
	unsigned cpu = 0;
	if (use_cache) {
		cpu = (opts->flags & MS_ALLOC_CPU_HINT) ? opts->cpu : ms_current_cpu(inst);
		owner_cpu = cpu;
	}

	uint64_t pfn = use_cache ? ms_pcp_pop(inst, cpu) : MS_NONE;
	if (pfn == MS_NONE || frame_poisoned(inst, pfn))
		pfn = take_block_slow(inst, order, use_cache, cpu, may_drain, pfn);
	if (pfn == MS_NONE)
		return MS_ENOMEM;

	bool zero = !(opts->flags & MS_ALLOC_NOZERO) || opts->purpose == MS_PURPOSE_PAGE_TABLE;
	if (zero)
		zero_block(inst, pfn, order);
	out->generation = ms_slot_claim(inst, pfn, order, stamp_flags, owner_cpu);
	out->pfn = pfn;
	return MS_OK;
}

int ms_alloc(struct ms_instance *inst, const struct ms_alloc_opts *opts, struct ms_handle *out)
{
	return alloc_one(inst, opts, out, true);
}

/* First pass takes what each zone has on hand; the second drains caches. */
int ms_alloc_zones(const struct ms_zonelist *zones, const struct ms_alloc_opts *opts,
		   struct ms_handle *out, struct ms_instance **from)
{
	if (zones == NULL || zones->nr_instances == 0 || zones->nr_instances > 8)
		return MS_EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < zones->nr_instances; i++) {
			int err = alloc_one(zones->instances[i], opts, out, pass == 1);

			if (err == MS_OK && from != NULL)
				*from = zones->instances[i];
			if (err != MS_ENOMEM)
				return err;
		}
	}
	return MS_ENOMEM;
}

void ms_free_released(struct ms_instance *inst, uint64_t pfn, unsigned order, bool use_cache)
{
	if (ms_block_poisoned(inst, pfn, order)) {
		unsigned long irq_state = ms_lock_irq(inst);
		ms_quarantine_locked(inst, pfn, order);
		inst->nr_locked_free_events++;
		ms_unlock_irq(inst, irq_state);
		return;
	}
	if (use_cache && order == 0 && inst->cache_enabled) {
		ms_pcp_push(inst, ms_current_cpu(inst), pfn);
		return;
	}
	/* Shortens the locked section by the misses of the coalescing walk. */
	ms_buddy_prefetch_buddies(inst, pfn, order);
	ms_buddy_prefetch_links(inst, pfn, order);
	unsigned long irq_state = ms_lock_irq(inst);
	ms_buddy_free_locked(inst, pfn, order);
	inst->nr_locked_free_events++;
	ms_unlock_irq(inst, irq_state);
}

/* Why a free of (pfn, order) with refcount `refs` is refused. */
static int free_error(struct meta_slot *slot, unsigned order, uint32_t refs)
{
	if (refs == MS_UNUSED || !(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_ALLOCATED))
		return MS_EDOUBLEFREE;
	if (meta_slot_order_load(slot) != order)
		return MS_EWRONGORDER;
	if (refs == 0)
		return MS_EREFZERO;
	return refs == 1 ? MS_OK : MS_EBUSY;
}

int ms_free(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	if (inst == NULL)
		return MS_EINVAL;
	if (order > MS_MAX_ORDER)
		return MS_EORDER;
	if (!ms_pfn_in_span(inst, pfn))
		return MS_ERANGE;
	if (pfn & (ms_order_frames(order) - 1))
		return MS_EALIGN;

	/* A block bound for the buddy lists: its buddies' misses overlap the
	 * miss on its own slot, which the refcount CAS below waits for. */
	if (order != 0 || !inst->cache_enabled)
		ms_buddy_prefetch_buddies(inst, pfn, order);
	struct meta_slot *slot = ms_slot(inst, pfn);
	uint32_t refs = meta_slot_refcount_load(slot);
	do { /* the CAS fails when racing another free, get or put */
		int err = free_error(slot, order, refs);
		if (err != MS_OK)
			return err;
	} while (!meta_slot_refcount_cas(slot, &refs, MS_UNUSED));
	ms_slot_reset_free(slot);
	if (order == 0 && inst->cache_enabled && !ms_block_poisoned(inst, pfn, 0))
		ms_pcp_push(inst, ms_current_cpu(inst), pfn); /* the hot path, inlined */
	else
		ms_free_released(inst, pfn, order, true);
	return MS_OK;
}
