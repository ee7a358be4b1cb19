/*
 * Allocation and free: option checks, the per-CPU or locked path, zeroing,
 * the claim, and the fallback across zones.
 *
 * The hot path is a request up to MS_PCP_MAX_ORDER served by the CPU's
 * cache, and the free of an order-0 frame back into it: the argument checks,
 * one pop or push under the cache's lock, the claim or release CAS and plain
 * stores of the epoch.  Everything else (refill and drain, guard bits to clear, poisoned
 * frames, the locked path, out-of-memory) is out of line, so that the fast
 * path keeps few live registers and no call under the cache lock.
 */
#include "pcp.h"
#include "slot.h"

/* frame_flags a caller may not stamp itself (custom_flags must also be flags
 * the schema names: within META_SLOT_FRAME_FLAGS_ALL). */
#define MS_RESERVED_FLAGS \
	(META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_FREE | META_SLOT_FRAME_FLAGS_POISONED)

/* Checks the options; *stamp_flags gets the frame_flags the block is stamped with. */
static inline int check_opts(const struct ms_alloc_opts *opts, uint32_t *stamp_flags)
{
	static const uint32_t purpose_flags[] = {
		[MS_PURPOSE_KERNEL] = META_SLOT_FRAME_FLAGS_KERNEL,
		[MS_PURPOSE_USER] = META_SLOT_FRAME_FLAGS_USER,
		[MS_PURPOSE_PAGE_TABLE] = META_SLOT_FRAME_FLAGS_KERNEL,
		[MS_PURPOSE_CUSTOM] = 0,
	};

	if (opts->order > MS_MAX_ORDER)
		return MS_EORDER;
	if ((opts->flags & ~(MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE | MS_ALLOC_CPU_HINT)) ||
	    (unsigned)opts->purpose > MS_PURPOSE_CUSTOM || (opts->custom_flags & MS_RESERVED_FLAGS) ||
	    (opts->custom_flags & ~META_SLOT_FRAME_FLAGS_ALL) ||
	    ((opts->flags & MS_ALLOC_CPU_HINT) && opts->cpu >= MS_MAX_CPUS))
		return MS_EINVAL;
	*stamp_flags = purpose_flags[opts->purpose] | opts->custom_flags;
	return MS_OK;
}

static inline bool wants_zero(const struct ms_alloc_opts *opts)
{
	return !(opts->flags & MS_ALLOC_NOZERO) || opts->purpose == MS_PURPOSE_PAGE_TABLE;
}

static void *frame_virt(struct ms_instance *inst, uint64_t pfn)
{
	return inst->platform.phys_to_virt(pfn << META_SLOT_FRAME_SHIFT);
}

/* One memset when the block's first and last frames are mapped where one
 * contiguous mapping puts them (a direct map); else frame by frame, so that
 * a block only partly mapped is zeroed where mapped and never past a mapping. */
__attribute__((noinline)) static void zero_block(struct ms_instance *inst, uint64_t pfn,
						 unsigned order)
{
	size_t frame_bytes = META_SLOT_PAGE_SIZE;
	uint64_t last = pfn + ms_order_frames(order) - 1;

	if (inst->platform.phys_to_virt == NULL)
		return;
	void *first_virt = frame_virt(inst, pfn);
	if (first_virt != NULL && (uintptr_t)frame_virt(inst, last) ==
					  (uintptr_t)first_virt + (last - pfn) * frame_bytes) {
		inst->platform.memset(first_virt, 0, frame_bytes << order);
		return;
	}
	for (uint64_t frame = pfn; frame <= last; frame++) {
		void *virt = frame_virt(inst, frame);
		if (virt != NULL)
			inst->platform.memset(virt, 0, frame_bytes);
	}
}

/* Zeroes (when asked), claims and describes the block for the caller. */
static inline __attribute__((always_inline)) int
hand_out(struct ms_instance *inst, const struct ms_alloc_opts *opts, uint64_t pfn,
	 uint32_t stamp_flags, uint32_t owner_cpu, struct ms_handle *out)
{
	if (wants_zero(opts))
		zero_block(inst, pfn, opts->order);
	out->generation = ms_slot_claim(inst, pfn, opts->order, stamp_flags, owner_cpu);
	out->pfn = pfn;
	return MS_OK;
}

/*
 * A block taken for an allocation but found poisoned at hand-out: it goes to
 * the quarantine, and the allocation event its taking counted is taken back
 * (nr_alloc_events counts hand-outs), under the lock its count was made
 * under: the cache's it was popped from, or the instance lock.
 */
static void quarantine_taken(struct ms_instance *inst, uint64_t pfn, unsigned order,
			     bool from_cache, unsigned cpu)
{
	if (from_cache) {
		struct ms_pcp *pcp = &inst->pcp[cpu];
		unsigned long irq_state = ms_irq_save(inst);

		ms_pcp_lock(pcp, &inst->platform);
		ms_counter_drop64(&pcp->nr_alloc_events);
		ms_pcp_unlock(pcp);
		ms_irq_restore(inst, irq_state);
	}
	unsigned long irq_state = ms_lock_irq(inst);
	if (!from_cache)
		inst->nr_locked_alloc_events--;
	ms_quarantine_locked(inst, pfn, order);
	ms_unlock_irq(inst, irq_state);
}

/* Where take_block looks: this CPU's cache (refilled from the lists), the
 * buddy lists under the instance lock, or, as the last attempt before
 * out-of-memory, the lists after every cache was drained into them with the
 * whole instance frozen, so that MS_NONE means no frame was free anywhere
 * at that instant (a drain followed by a retry could lose the drained frames
 * to another CPU's refill in between). */
enum take_from { TAKE_CACHE, TAKE_LISTS, TAKE_FROZEN };

/* One attempt on one instance; MS_NONE when empty.  A block found poisoned
 * (marked while it was between a list or cache and this hand-out, where
 * ms_mark_poisoned cannot see it) is quarantined and the next one tried. */
static uint64_t take_block(struct ms_instance *inst, unsigned order, enum take_from from,
			   unsigned cpu)
{
	for (;;) {
		uint64_t pfn;

		if (from == TAKE_CACHE) {
			pfn = ms_pcp_pop_refill(inst, cpu, order);
		} else {
			unsigned long irq_state =
				from == TAKE_FROZEN ? ms_freeze(inst) : ms_lock_irq(inst);
			if (from == TAKE_FROZEN)
				ms_pcp_drain_all_frozen(inst);
			pfn = ms_buddy_alloc_locked(inst, order);
			if (pfn != MS_NONE)
				inst->nr_locked_alloc_events++;
			if (from == TAKE_FROZEN)
				ms_thaw(inst, irq_state);
			else
				ms_unlock_irq(inst, irq_state);
		}
		if (pfn == MS_NONE || !ms_block_poisoned(inst, pfn, order))
			return pfn;
		quarantine_taken(inst, pfn, order, from == TAKE_CACHE, cpu);
	}
}

/*
 * Everything but a successful pop from the cache: the locked path, an
 * empty cache, a poisoned cached frame (popped, else MS_NONE), and the drain
 * of every cache before out-of-memory when may_drain.
 */
__attribute__((noinline)) static int alloc_slow(struct ms_instance *inst,
						const struct ms_alloc_opts *opts,
						uint32_t stamp_flags, bool use_cache, unsigned cpu,
						uint64_t popped, bool may_drain, struct ms_handle *out)
{
	unsigned order = opts->order;

	if (popped != MS_NONE)
		quarantine_taken(inst, popped, order, true, cpu);
	uint64_t pfn = take_block(inst, order, use_cache ? TAKE_CACHE : TAKE_LISTS, cpu);
	if (pfn == MS_NONE && may_drain)
		pfn = take_block(inst, order, TAKE_FROZEN, cpu);
	if (pfn == MS_NONE)
		return MS_ENOMEM;
	return hand_out(inst, opts, pfn, stamp_flags, use_cache ? cpu : UINT32_MAX, out);
}

/* always_inline: ms_alloc is the hot path, ms_alloc_zones gets its own copy. */
static inline __attribute__((always_inline)) int
alloc_one(struct ms_instance *inst, const struct ms_alloc_opts *opts, struct ms_handle *out,
	  bool may_drain)
{
	uint32_t stamp_flags;

	if (!ms_ready(inst) || opts == NULL || out == NULL)
		return MS_EINVAL;
	int err = check_opts(opts, &stamp_flags);
	if (err != MS_OK)
		return err;
	if (opts->order > MS_PCP_MAX_ORDER || !inst->cache_enabled ||
	    (opts->flags & MS_ALLOC_NOCACHE))
		return alloc_slow(inst, opts, stamp_flags, false, 0, MS_NONE, may_drain, out);

	unsigned cpu = (opts->flags & MS_ALLOC_CPU_HINT) ? opts->cpu : ms_current_cpu(inst);
	uint64_t pfn = ms_pcp_pop(inst, &inst->pcp[cpu], opts->order);
	if (pfn == MS_NONE || ms_block_poisoned(inst, pfn, opts->order))
		return alloc_slow(inst, opts, stamp_flags, true, cpu, pfn, may_drain, out);
	return hand_out(inst, opts, pfn, stamp_flags, cpu, out);
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

void ms_free_released(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	if (ms_block_poisoned(inst, pfn, order)) {
		unsigned long irq_state = ms_lock_irq(inst);
		ms_quarantine_locked(inst, pfn, order);
		inst->nr_locked_free_events++;
		ms_unlock_irq(inst, irq_state);
		return;
	}
	if (order <= MS_PCP_MAX_ORDER && inst->cache_enabled) {
		ms_pcp_push_drain(inst, ms_current_cpu(inst), pfn, order);
		return;
	}
	/* Shortens the locked section by the misses of the coalescing walk. */
	ms_buddy_prefetch_buddies(inst, pfn, order);
	ms_buddy_prefetch_links(inst, pfn, order);
	unsigned long irq_state = ms_lock_irq(inst);
	/* Checked again under the lock: a mark that found the block nowhere
	 * (it was between its release and this lock) has set the bit by now. */
	if (ms_block_poisoned(inst, pfn, order))
		ms_quarantine_locked(inst, pfn, order);
	else
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

/* Moves the slot from refcount 1 to REFCOUNT_UNUSED, or says why not. */
static inline int release(struct ms_instance *inst, struct meta_slot *slot, unsigned order)
{
	uint32_t generation = meta_slot_generation_load(slot);
	uint32_t refs = meta_slot_refcount_load(slot);

	do { /* the CAS fails when racing another free, get or put */
		int err = free_error(slot, order, refs);
		if (err != MS_OK)
			return err;
		if ((generation & 1) == 0) /* no open epoch (see slot.h) */
			return MS_EDOUBLEFREE;
	} while (!meta_slot_refcount_cas(slot, &refs, MS_UNUSED));
	return ms_slot_release_stale(inst, slot, generation) ? MS_EDOUBLEFREE : MS_OK;
}

/* A free other than an order-0 frame into the cache. */
__attribute__((noinline)) static int free_block(struct ms_instance *inst, uint64_t pfn,
						unsigned order)
{
	if (order > MS_MAX_ORDER)
		return MS_EORDER;
	if (!ms_pfn_in_span(inst, pfn))
		return MS_ERANGE;
	if (pfn & (ms_order_frames(order) - 1))
		return MS_EALIGN;
	/* Bound for the buddy lists: its buddies' misses overlap the miss on
	 * its own slot, which the refcount CAS waits for. */
	if (order > MS_PCP_MAX_ORDER || !inst->cache_enabled)
		ms_buddy_prefetch_buddies(inst, pfn, order);
	struct meta_slot *slot = ms_slot(inst, pfn);
	int err = release(inst, slot, order);
	if (err != MS_OK)
		return err;
	ms_slot_reset_free(slot);
	ms_free_released(inst, pfn, order);
	return MS_OK;
}

/* An order-0 free whose first release attempt failed: says why, or retries
 * after a race with another free, get or put. */
__attribute__((noinline)) static int free_frame_slow(struct ms_instance *inst, uint64_t pfn)
{
	struct meta_slot *slot = ms_slot(inst, pfn);
	int err = release(inst, slot, 0);
	if (err != MS_OK)
		return err;
	ms_slot_reset_free(slot);
	ms_free_released(inst, pfn, 0);
	return MS_OK;
}

int ms_free(struct ms_instance *inst, uint64_t pfn, unsigned order)
{
	if (!ms_ready(inst))
		return MS_EINVAL;
	if (order != 0 || !inst->cache_enabled)
		return free_block(inst, pfn, order);
	if (!ms_pfn_in_span(inst, pfn))
		return MS_ERANGE;

	/* The hot path: a frame with one reference goes to this CPU's cache. */
	struct meta_slot *slot = ms_slot(inst, pfn);
	uint32_t generation = meta_slot_generation_load(slot);
	uint32_t refs = 1;
	if ((generation & 1) == 0 || !(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_ALLOCATED) ||
	    meta_slot_order_load(slot) != 0 || !meta_slot_refcount_cas(slot, &refs, MS_UNUSED))
		return free_frame_slow(inst, pfn);
	if (ms_slot_release_stale(inst, slot, generation))
		return MS_EDOUBLEFREE;
	if (!ms_slot_reset_free_clean(slot)) { /* guard bits cleared, or poisoned */
		ms_free_released(inst, pfn, 0);
		return MS_OK;
	}
	if (ms_pcp_push(inst, &inst->pcp[ms_current_cpu(inst)], pfn, 0) != MS_PUSHED)
		ms_free_released(inst, pfn, 0); /* full: drain a batch; poisoned: quarantine */
	return MS_OK;
}
