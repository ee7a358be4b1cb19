/*
 * Per-CPU cache refill and drain (the slow half of pcp.h), and the public
 * drain calls.  Lock order: a cache's lock, then the instance lock.
 */
#include "pcp.h"

/* log2(MS_PCP_BATCH) when the batch is one whole buddy block, else -1. */
static int batch_order(void)
{
	for (int order = 0; order <= MS_MAX_ORDER; order++) {
		if (ms_order_frames((unsigned)order) == MS_PCP_BATCH)
			return order;
	}
	return -1;
}

/* Whether no free block is smaller than `order`, so that refilling block by
 * block would only split a block of that order anyway. */
static bool only_large_blocks_locked(const struct ms_instance *inst, int order)
{
	for (int k = 0; k < order; k++) {
		if (inst->free_head[k] != MS_NONE)
			return false;
	}
	return true;
}

/*
 * Refills an empty or short stack of `order` with up to a batch of blocks.
 * When only blocks of the batch's size or larger are free, one whole block
 * of MS_PCP_BATCH frames is taken (all its frames are in the cached state
 * already: no flags, refcount UNUSED) and stacked so that the lowest PFN is
 * handed out first; otherwise blocks come one by one, smallest first.
 */
uint32_t ms_pcp_refill_locked(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);
	uint32_t batch = ms_pcp_batch(order);
	unsigned long irq_state = ms_lock_irq(inst);
	int whole_order = batch_order();

	if (nr_blocks == 0 && whole_order > (int)order &&
	    only_large_blocks_locked(inst, whole_order)) {
		uint64_t pfn = ms_buddy_alloc_locked(inst, (unsigned)whole_order);

		for (uint32_t i = 0; pfn != MS_NONE && i < batch; i++) {
			uint64_t head = pfn + ((uint64_t)(batch - 1 - i) << order);
			meta_slot_order_store(ms_slot(inst, head), order);
			stack->pfns[i] = head;
		}
		if (pfn != MS_NONE)
			nr_blocks = batch;
	}
	while (nr_blocks < batch) {
		uint64_t pfn = ms_buddy_alloc_locked(inst, order);

		if (pfn == MS_NONE)
			break;
		meta_slot_order_store(ms_slot(inst, pfn), order);
		stack->pfns[nr_blocks++] = pfn;
	}
	ms_unlock_irq(inst, irq_state);
	ms_counter_store32(&stack->nr_blocks, nr_blocks);
	return nr_blocks;
}

/*
 * Frees of cached blocks touch each block's buddies and, when a buddy is
 * free, its list neighbours: cold, scattered slots.  Prefetching them all
 * before taking the instance lock overlaps those misses instead of paying
 * them one by one inside the locked section (see ms_buddy_prefetch_buddies).
 */
static void prefetch_buddies(const struct ms_instance *inst, const uint64_t *pfns,
			     uint32_t nr_pfns, unsigned order)
{
	for (uint32_t i = 0; i < nr_pfns; i++)
		ms_buddy_prefetch_buddies(inst, pfns[i], order);
	for (uint32_t i = 0; i < nr_pfns; i++)
		ms_buddy_prefetch_links(inst, pfns[i], order);
}

/* Moves the nr_drain oldest (bottom) blocks of a stack to the buddy lists,
 * both locks held; returns the blocks left. */
static uint32_t drain_both_locked(struct ms_instance *inst, struct ms_pcp_stack *stack,
				  unsigned order, uint32_t nr_drain)
{
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);

	for (uint32_t i = 0; i < nr_drain; i++)
		ms_buddy_free_locked(inst, stack->pfns[i], order);
	for (uint32_t i = nr_drain; i < nr_blocks; i++)
		stack->pfns[i - nr_drain] = stack->pfns[i];
	nr_blocks -= nr_drain;
	ms_counter_store32(&stack->nr_blocks, nr_blocks);
	return nr_blocks;
}

/* Moves the nr_drain oldest (bottom) blocks of `order` to the buddy lists. */
uint32_t ms_pcp_drain_locked(struct ms_instance *inst, struct ms_pcp *pcp, unsigned order,
			     uint32_t nr_drain)
{
	struct ms_pcp_stack *stack = &pcp->stacks[order];
	uint32_t nr_blocks = ms_counter_load32(&stack->nr_blocks);

	if (nr_drain > nr_blocks)
		nr_drain = nr_blocks;
	if (nr_drain == 0)
		return nr_blocks;
	prefetch_buddies(inst, stack->pfns, nr_drain, order);
	unsigned long irq_state = ms_lock_irq(inst);
	nr_blocks = drain_both_locked(inst, stack, order, nr_drain);
	ms_unlock_irq(inst, irq_state);
	return nr_blocks;
}

unsigned long ms_freeze(struct ms_instance *inst)
{
	unsigned long irq_state = ms_irq_save(inst);

	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++)
		ms_pcp_lock_priority(&inst->pcp[cpu], &inst->platform);
	ms_lock_acquire(&inst->lock, &inst->platform);
	return irq_state;
}

void ms_thaw(struct ms_instance *inst, unsigned long irq_state)
{
	ms_lock_release(&inst->lock);
	for (unsigned cpu = MS_MAX_CPUS; cpu-- > 0;)
		ms_pcp_unlock(&inst->pcp[cpu]);
	ms_irq_restore(inst, irq_state);
}

void ms_pcp_drain_all_frozen(struct ms_instance *inst)
{
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++) {
			struct ms_pcp_stack *stack = &inst->pcp[cpu].stacks[order];
			drain_both_locked(inst, stack, order, ms_counter_load32(&stack->nr_blocks));
		}
	}
}

/* Refills the stack of `order` of cpu's cache when empty, or drains a batch
 * when full; under the cache's lock. */
static void rebalance(struct ms_instance *inst, unsigned cpu, unsigned order)
{
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	uint32_t nr_blocks = ms_counter_load32(&pcp->stacks[order].nr_blocks);
	if (nr_blocks == 0)
		ms_pcp_refill_locked(inst, pcp, order);
	else if (nr_blocks >= ms_pcp_capacity(order))
		ms_pcp_drain_locked(inst, pcp, order, ms_pcp_batch(order));
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

uint64_t ms_pcp_pop_refill(struct ms_instance *inst, unsigned cpu, unsigned order)
{
	uint64_t pfn = ms_pcp_pop(inst, &inst->pcp[cpu], order);

	if (pfn == MS_NONE) {
		rebalance(inst, cpu, order);
		pfn = ms_pcp_pop(inst, &inst->pcp[cpu], order);
	}
	return pfn;
}

void ms_pcp_push_drain(struct ms_instance *inst, unsigned cpu, uint64_t pfn, unsigned order)
{
	enum ms_push_result result;

	while ((result = ms_pcp_push(inst, &inst->pcp[cpu], pfn, order)) == MS_PUSH_FULL)
		rebalance(inst, cpu, order);
	if (result == MS_PUSH_POISONED) {
		unsigned long irq_state = ms_lock_irq(inst);
		ms_quarantine_locked(inst, pfn, order);
		inst->nr_locked_free_events++;
		ms_unlock_irq(inst, irq_state);
	}
}

void ms_cache_drain(struct ms_instance *inst, unsigned cpu)
{
	if (!ms_ready(inst) || cpu >= MS_MAX_CPUS)
		return;
	struct ms_pcp *pcp = &inst->pcp[cpu];
	unsigned long irq_state = ms_irq_save(inst);

	ms_pcp_lock(pcp, &inst->platform);
	for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++)
		ms_pcp_drain_locked(inst, pcp, order, MS_PCP_CAPACITY);
	ms_pcp_unlock(pcp);
	ms_irq_restore(inst, irq_state);
}

void ms_cache_drain_all(struct ms_instance *inst)
{
	if (!ms_ready(inst))
		return;
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++)
		ms_cache_drain(inst, cpu);
}

void ms_set_cache_enabled(struct ms_instance *inst, bool enabled)
{
	if (!ms_ready(inst))
		return;
	inst->cache_enabled = enabled;
	if (!enabled)
		ms_cache_drain_all(inst);
}
