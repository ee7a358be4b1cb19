/*
 * Observability: totals (per-CPU counters summed on read), fragmentation and
 * a /proc/buddyinfo-style dump.  Each call is one snapshot with the instance
 * frozen (every cache's lock and the instance lock), so a batch moving
 * between a cache and the lists is never counted twice or missed; a frame
 * between a cache and its caller (popped, not yet claimed, or released, not
 * yet pushed) counts as allocated.
 */
#include "fmt.h"
#include "pcp.h"

void ms_stats(struct ms_instance *inst, struct ms_stats *out)
{
	uint64_t nr_cached = 0, nr_alloc_events = 0, nr_free_events = 0;
	uint64_t nr_cached_blocks[MS_NR_ORDERS] = {0};

	if (!ms_ready(inst) || out == NULL)
		return;
	unsigned long irq_state = ms_freeze(inst);
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		struct ms_pcp *pcp = &inst->pcp[cpu];

		for (unsigned order = 0; order <= MS_PCP_MAX_ORDER; order++) {
			uint32_t nr_blocks = ms_counter_load32(&pcp->stacks[order].nr_blocks);
			nr_cached_blocks[order] += nr_blocks;
			nr_cached += (uint64_t)nr_blocks << order;
		}
		nr_alloc_events += ms_counter_load64(&pcp->nr_alloc_events);
		nr_free_events += ms_counter_load64(&pcp->nr_free_events);
	}
	out->nr_frames = inst->nr_frames;
	out->nr_reserved = inst->nr_frames - inst->nr_usable_frames;
	out->nr_cached = nr_cached;
	out->nr_free = inst->nr_free_frames + nr_cached;
	out->nr_quarantined = inst->nr_quarantined_frames;
	out->nr_quarantined_blocks = inst->nr_quarantined_blocks;
	out->nr_allocated = inst->nr_usable_frames - out->nr_free - out->nr_quarantined;
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		out->nr_free_blocks[order] = inst->nr_free_blocks[order];
		out->nr_cached_blocks[order] = nr_cached_blocks[order];
	}
	out->nr_alloc_events = nr_alloc_events + inst->nr_locked_alloc_events;
	out->nr_free_events = nr_free_events + inst->nr_locked_free_events;
	ms_thaw(inst, irq_state);
}

/*
 * Unusable free index (as Linux's extfrag): for order k, the share of free
 * frames in blocks smaller than 2^k, i.e. free frames that cannot serve an
 * order-k request.  Cached blocks count at their order.  Example: free
 * blocks {order 0: 4, order 2: 1} = 8 frames; for k = 1 the 4 order-0 frames
 * are unusable, 500 permille; for k = 3 all are, 1000 permille.
 */
void ms_fragmentation(struct ms_instance *inst, struct ms_frag *out)
{
	struct ms_stats stats;

	if (!ms_ready(inst) || out == NULL)
		return;
	ms_stats(inst, &stats);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++)
		stats.nr_free_blocks[order] += stats.nr_cached_blocks[order];
	out->largest_free_order = -1;
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		if (stats.nr_free_blocks[order] != 0)
			out->largest_free_order = (int)order;
	}
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		uint64_t usable = 0;

		for (unsigned k = order; k <= MS_MAX_ORDER; k++)
			usable += stats.nr_free_blocks[k] << k;
		out->unusable_free_permille[order] =
			stats.nr_free == 0
				? 0
				: (unsigned)ms_div_u64((stats.nr_free - usable) * 1000, stats.nr_free, NULL);
	}
}

int ms_dump(struct ms_instance *inst, char *buf, size_t buf_bytes)
{
	struct ms_stats stats;
	struct ms_text text;

	if (!ms_ready(inst))
		return MS_EINVAL;
	ms_stats(inst, &stats);
	ms_text_init(&text, buf, buf_bytes);
	ms_text_str(&text, "Node ");
	ms_text_u64(&text, inst->numa_node, 0);
	ms_text_str(&text, ", zone ");
	ms_text_padded(&text, inst->name, 8);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		ms_text_str(&text, " ");
		ms_text_u64(&text, stats.nr_free_blocks[order], 6);
	}
	const struct {
		const char *label;
		uint64_t nr_frames;
	} totals[] = {
		{"\nframes ", stats.nr_frames},       {" free ", stats.nr_free},
		{" cached ", stats.nr_cached},         {" allocated ", stats.nr_allocated},
		{" reserved ", stats.nr_reserved},     {" quarantined ", stats.nr_quarantined},
	};
	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++) {
		ms_text_str(&text, totals[i].label);
		ms_text_u64(&text, totals[i].nr_frames, 0);
	}
	ms_text_str(&text, "\n");
	return text.overflow ? MS_ENOSPC : (int)text.len;
}
