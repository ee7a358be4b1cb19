/*
 * The consistency checker.  Walks every free list, the quarantine list, the
 * per-CPU caches and every slot of the span, and verifies:
 *  - list links are symmetric, in the span, acyclic, and every listed head
 *    has the list's state (FREE + order k + aligned + refcount UNUSED, or
 *    quarantine: POISONED, neither FREE nor ALLOCATED);
 *  - each usable range is tiled exactly by blocks (free, allocated,
 *    quarantined, or cached frames), each aligned to its order,
 *    whose tail frames carry neither FREE nor ALLOCATED and refcount UNUSED:
 *    so no free block overlaps another block or an allocated frame;
 *  - an allocated head has a refcount (not UNUSED, not 0) and an open epoch
 *    (odd generation); every other head has neither (see slot.h);
 *  - reserved frames are never FREE/ALLOCATED;
 *  - counts from the walk equal the list lengths and the instance counters,
 *    and cached frames found equal the caches' counts; cached blocks are
 *    aligned, in usable ranges, and none overlaps another.
 * Precondition: no other operation runs on the instance meanwhile.
 */
#include "fmt.h"
#include "pcp.h"

#define STATE_FLAGS (META_SLOT_FRAME_FLAGS_FREE | META_SLOT_FRAME_FLAGS_ALLOCATED)

struct tally {
	uint64_t free_blocks[MS_NR_ORDERS];
	uint64_t free_frames;
	uint64_t cached_frames;
	uint64_t quarantined_blocks;
	uint64_t quarantined_frames;
};

static int fail(struct ms_text *text, const char *what, uint64_t pfn, uint64_t value)
{
	ms_text_str(text, what);
	ms_text_str(text, " (pfn ");
	ms_text_hex(text, pfn);
	ms_text_str(text, ", value ");
	ms_text_hex(text, value);
	ms_text_str(text, ")");
	return MS_ECORRUPT;
}

/* order < 0: the quarantine list. */
static int check_list(struct ms_instance *inst, uint64_t head, int order, uint64_t *count,
		      struct ms_text *text)
{
	uint64_t prev = MS_NONE;

	*count = 0;
	for (uint64_t pfn = head; pfn != MS_NONE;) {
		if (!ms_pfn_in_span(inst, pfn))
			return fail(text, "list: link outside the span", prev, pfn);
		if (++*count > inst->nr_frames)
			return fail(text, "list: cycle", pfn, (uint64_t)order);
		struct meta_slot *slot = ms_slot(inst, pfn);
		if (meta_slot_free_link_prev_load(slot) != prev)
			return fail(text, "list: prev link not symmetric", pfn,
				    meta_slot_free_link_prev_load(slot));
		uint32_t flags = meta_slot_flags_load(slot);
		unsigned slot_order = meta_slot_order_load(slot);
		if (meta_slot_refcount_load(slot) != MS_UNUSED)
			return fail(text, "list: listed head has a refcount", pfn,
				    meta_slot_refcount_load(slot));
		if (slot_order > MS_MAX_ORDER)
			return fail(text, "list: listed head has an order above the maximum", pfn,
				    slot_order);
		if (pfn & (ms_order_frames(slot_order) - 1))
			return fail(text, "list: head not aligned to its order", pfn, slot_order);
		if (order >= 0 && ((flags & STATE_FLAGS) != META_SLOT_FRAME_FLAGS_FREE ||
				   slot_order != (unsigned)order))
			return fail(text, "list: free head without FREE at the list's order", pfn,
				    flags);
		if (order < 0 && ((flags & STATE_FLAGS) || !(flags & META_SLOT_FRAME_FLAGS_POISONED)))
			return fail(text, "list: quarantined head in wrong state", pfn, flags);
		prev = pfn;
		pfn = meta_slot_free_link_next_load(slot);
	}
	return MS_OK;
}

/* One usable range, tiled by blocks. */
static int walk_range(struct ms_instance *inst, const struct ms_range *range,
		      struct tally *tally, struct ms_text *text)
{
	uint64_t end_pfn = range->start_pfn + range->nr_frames;

	for (uint64_t pfn = range->start_pfn; pfn < end_pfn;) {
		struct meta_slot *slot = ms_slot(inst, pfn);
		uint32_t flags = meta_slot_flags_load(slot);
		uint32_t refs = meta_slot_refcount_load(slot);
		unsigned order = 0;

		if (flags & STATE_FLAGS || flags & META_SLOT_FRAME_FLAGS_POISONED) {
			order = meta_slot_order_load(slot);
			if (order > MS_MAX_ORDER || (pfn & (ms_order_frames(order) - 1)) ||
			    end_pfn - pfn < ms_order_frames(order))
				return fail(text, "walk: block misaligned or beyond its range", pfn,
					    order);
		}
		if ((flags & STATE_FLAGS) == STATE_FLAGS)
			return fail(text, "walk: frame both FREE and ALLOCATED", pfn, flags);
		uint32_t generation = meta_slot_generation_load(slot);
		if (flags & META_SLOT_FRAME_FLAGS_ALLOCATED) {
			if (refs == MS_UNUSED || refs == 0)
				return fail(text, "walk: allocated head with refcount UNUSED or 0", pfn,
					    refs);
			if ((generation & 1) == 0)
				return fail(text, "walk: allocated head without an open epoch (even "
						  "generation)", pfn, generation);
		} else if (refs != MS_UNUSED) {
			return fail(text, "walk: unallocated frame with a refcount", pfn, refs);
		} else if (generation & 1) {
			return fail(text, "walk: unallocated frame with an open epoch (odd generation)",
				    pfn, generation);
		} else if (flags & META_SLOT_FRAME_FLAGS_FREE) {
			tally->free_blocks[order]++;
			tally->free_frames += ms_order_frames(order);
		} else if (flags & META_SLOT_FRAME_FLAGS_POISONED) {
			tally->quarantined_blocks++;
			tally->quarantined_frames += ms_order_frames(order);
		} else {
			tally->cached_frames++;
		}
		for (uint64_t tail = pfn + 1; tail < pfn + ms_order_frames(order); tail++) {
			struct meta_slot *tail_slot = ms_slot(inst, tail);
			if (meta_slot_flags_load(tail_slot) & STATE_FLAGS)
				return fail(text, "walk: block overlaps another block", tail, pfn);
			if (meta_slot_refcount_load(tail_slot) != MS_UNUSED)
				return fail(text, "walk: tail frame with a refcount", tail, pfn);
		}
		pfn += ms_order_frames(order);
	}
	return MS_OK;
}

/* Index of the range starting (or ending) at pfn; nr_ranges if none. */
static unsigned range_at(const struct ms_instance *inst, uint64_t pfn, bool ending)
{
	for (unsigned i = 0; i < inst->nr_ranges; i++) {
		const struct ms_range *range = &inst->ranges[i];
		if ((ending ? range->start_pfn + range->nr_frames : range->start_pfn) == pfn)
			return i;
	}
	return inst->nr_ranges;
}

static bool in_a_range(const struct ms_instance *inst, uint64_t pfn)
{
	for (unsigned i = 0; i < inst->nr_ranges; i++) {
		if (pfn - inst->ranges[i].start_pfn < inst->ranges[i].nr_frames)
			return true;
	}
	return false;
}

/* Whether a block cached before (cpu, order, index) overlaps the block of
 * `order` at head (a block cached twice hides another that is lost). */
static bool cached_earlier(struct ms_instance *inst, unsigned cpu, unsigned order,
			   uint32_t index, uint64_t head)
{
	for (unsigned other = 0; other <= cpu; other++) {
		for (unsigned k = 0; k <= MS_PCP_MAX_ORDER; k++) {
			struct ms_pcp_stack *stack = &inst->pcp[other].stacks[k];
			uint32_t end = ms_counter_load32(&stack->nr_blocks);

			if (other == cpu && k == order)
				end = index;
			else if (other == cpu && k > order)
				break;
			for (uint32_t i = 0; i < end; i++) {
				uint64_t pfn = stack->pfns[i];
				if (pfn < head + ms_order_frames(order) && head < pfn + ms_order_frames(k))
					return true;
			}
		}
	}
	return false;
}

/* Each cached block: in a usable range, aligned, head in the cached state. */
static int check_caches(struct ms_instance *inst, uint64_t *nr_cached, struct ms_text *text)
{
	*nr_cached = 0;
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++) {
			struct ms_pcp_stack *stack = &inst->pcp[cpu].stacks[order];
			uint32_t count = ms_counter_load32(&stack->nr_blocks);

			if (count > ms_pcp_capacity(order))
				return fail(text, "cache: count above capacity", cpu, count);
			for (uint32_t i = 0; i < count; i++) {
				uint64_t pfn = stack->pfns[i];
				uint64_t last = pfn + ms_order_frames(order) - 1;
				if (!ms_pfn_in_span(inst, pfn) || !ms_pfn_in_span(inst, last) ||
				    !in_a_range(inst, pfn) || !in_a_range(inst, last))
					return fail(text, "cache: frame outside usable ranges", pfn, cpu);
				if (pfn & (ms_order_frames(order) - 1))
					return fail(text, "cache: block not aligned to its order", pfn,
						    order);
				struct meta_slot *slot = ms_slot(inst, pfn);
				if (meta_slot_flags_load(slot) &
					    (STATE_FLAGS | META_SLOT_FRAME_FLAGS_POISONED) ||
				    meta_slot_refcount_load(slot) != MS_UNUSED)
					return fail(text, "cache: cached frame not in cached state", pfn,
						    meta_slot_flags_load(slot));
				if (cached_earlier(inst, cpu, order, i, pfn))
					return fail(text, "cache: frame cached twice", pfn, cpu);
			}
			*nr_cached += (uint64_t)count << order;
		}
	}
	return MS_OK;
}

static int check_locked(struct ms_instance *inst, struct ms_text *text)
{
	struct tally tally = {0};
	uint64_t count, nr_cached;
	int err;

	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		err = check_list(inst, inst->free_head[order], (int)order, &count, text);
		if (err != MS_OK)
			return err;
		if (count != inst->nr_free_blocks[order])
			return fail(text, "count: free list length differs from its counter", order,
				    count);
	}
	err = check_list(inst, inst->quarantine_head, -1, &count, text);
	if (err != MS_OK)
		return err;
	if (count != inst->nr_quarantined_blocks)
		return fail(text, "count: quarantine length differs from its counter", 0, count);
	/* Adjacent ranges may share blocks: walk each maximal run of them. */
	for (unsigned i = 0; i < inst->nr_ranges; i++) {
		struct ms_range run = inst->ranges[i];
		bool extended = true;

		if (range_at(inst, run.start_pfn, true) < inst->nr_ranges)
			continue; /* not the first range of its run */
		while (extended) {
			unsigned next = range_at(inst, run.start_pfn + run.nr_frames, false);
			extended = next < inst->nr_ranges;
			if (extended)
				run.nr_frames += inst->ranges[next].nr_frames;
		}
		err = walk_range(inst, &run, &tally, text);
		if (err != MS_OK)
			return err;
	}
	for (uint64_t pfn = inst->base_pfn; pfn < inst->base_pfn + inst->nr_frames; pfn++) {
		if ((meta_slot_flags_load(ms_slot(inst, pfn)) & STATE_FLAGS) && !in_a_range(inst, pfn))
			return fail(text, "walk: reserved frame is FREE or ALLOCATED", pfn, 0);
	}
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		if (tally.free_blocks[order] != inst->nr_free_blocks[order])
			return fail(text, "count: FREE heads differ from list length", order,
				    tally.free_blocks[order]);
	}
	if (tally.free_frames != inst->nr_free_frames)
		return fail(text, "count: free frames differ from counter", 0, tally.free_frames);
	if (tally.quarantined_frames != inst->nr_quarantined_frames)
		return fail(text, "count: quarantined frames differ", 0, tally.quarantined_frames);
	err = check_caches(inst, &nr_cached, text);
	if (err != MS_OK)
		return err;
	if (tally.cached_frames != nr_cached)
		return fail(text, "count: unlisted free frames (lost or cached twice)",
			    tally.cached_frames, nr_cached);
	return MS_OK;
}

int ms_check(struct ms_instance *inst, char *msg, size_t msg_bytes)
{
	struct ms_text text;

	if (!ms_ready(inst))
		return MS_EINVAL;
	ms_text_init(&text, msg, msg_bytes);
	unsigned long irq_state = ms_freeze(inst);
	int err = check_locked(inst, &text);
	ms_thaw(inst, irq_state);
	if (err == MS_OK)
		ms_text_str(&text, "ok");
	return err;
}
