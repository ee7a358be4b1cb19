/*
 * Whole-instance checks of the fuzz target: counters against the model,
 * ms_check, the quarantine list, full coalescing after a drain, locks and irq
 * nesting at rest, the observability calls with tight buffers, and the final
 * sweep (free everything, then every free frame must be handed out exactly
 * once: nothing lost, nothing twice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void fz_check_counts(void)
{
	struct ms_stats stats;
	const struct fm_model *model = &fz.model;

	ms_stats(&fz.inst, &stats);
	if (stats.nr_frames != model->nr_frames ||
	    stats.nr_reserved != model->nr_frames - model->nr_usable ||
	    stats.nr_free != model->nr_free || stats.nr_allocated != model->nr_allocated ||
	    stats.nr_quarantined != model->nr_quarantined ||
	    stats.nr_quarantined_blocks != model->nr_quarantined_blocks ||
	    stats.nr_cached > stats.nr_free || stats.nr_alloc_events != fz.nr_alloc_events ||
	    stats.nr_free_events != fz.nr_free_events)
		fz_fail("stats free %llu alloc %llu quar %llu/%llu reserved %llu events %llu/%llu; "
			"model free %llu alloc %llu quar %llu/%llu usable %llu events %llu/%llu",
			(unsigned long long)stats.nr_free, (unsigned long long)stats.nr_allocated,
			(unsigned long long)stats.nr_quarantined,
			(unsigned long long)stats.nr_quarantined_blocks,
			(unsigned long long)stats.nr_reserved,
			(unsigned long long)stats.nr_alloc_events,
			(unsigned long long)stats.nr_free_events,
			(unsigned long long)model->nr_free, (unsigned long long)model->nr_allocated,
			(unsigned long long)model->nr_quarantined,
			(unsigned long long)model->nr_quarantined_blocks,
			(unsigned long long)model->nr_usable,
			(unsigned long long)fz.nr_alloc_events,
			(unsigned long long)fz.nr_free_events);
}

void fz_check_consistent(void)
{
	char msg[256];
	int err = ms_check(&fz.inst, msg, sizeof(msg));

	if (err != MS_OK)
		fz_fail("ms_check: %s", msg);
}

void fz_check_small_buffer(uint8_t msg_bytes)
{
	size_t nr_bytes = msg_bytes % 48u;
	char *msg = nr_bytes != 0 ? malloc(nr_bytes) : NULL;
	int err = ms_check(&fz.inst, msg, nr_bytes);

	if (err != MS_OK)
		fz_fail("ms_check with a %zu-byte message buffer: %d", nr_bytes, err);
	if (msg != NULL && strnlen(msg, nr_bytes) == nr_bytes)
		fz_fail("ms_check left its %zu-byte message unterminated", nr_bytes);
	free(msg);
}

/* Fetches the whole quarantine list (caller frees). */
static struct ms_block *quarantine_blocks(size_t *nr_blocks)
{
	size_t max_blocks = fz.model.nr_frames + 1; /* at most a block per frame */
	struct ms_block *blocks = malloc(max_blocks * sizeof(*blocks));

	if (blocks == NULL)
		abort();
	int err = ms_quarantine_list(&fz.inst, blocks, max_blocks, nr_blocks);
	if (err != MS_OK)
		fz_fail("ms_quarantine_list: %d (%zu blocks, model %llu)", err, *nr_blocks,
			(unsigned long long)fz.model.nr_quarantined_blocks);
	return blocks;
}

void fz_sync_quarantine(uint64_t must_contain_pfn, unsigned nr_new_blocks)
{
	size_t nr_blocks;
	struct ms_block *blocks = quarantine_blocks(&nr_blocks);
	uint64_t nr_known = fz.model.nr_quarantined_blocks;

	bool any = nr_new_blocks == FZ_ANY_NEW_BLOCKS;

	if (any ? nr_blocks < nr_known : nr_blocks != nr_known + nr_new_blocks)
		fz_fail("quarantine holds %zu blocks, expected %llu + %u", nr_blocks,
			(unsigned long long)nr_known, nr_new_blocks);
	for (size_t i = 0; i < nr_blocks; i++) {
		uint64_t pfn = blocks[i].pfn;
		unsigned order = blocks[i].order;

		if (order > MS_MAX_ORDER || !fm_in_span(&fz.model, pfn))
			fz_fail("quarantine block 0x%llx order %u", (unsigned long long)pfn, order);
		struct fm_frame *frame = fm_frame(&fz.model, pfn);
		if (frame->state == FM_QUARANTINED && frame->quarantine_head) {
			if (frame->order != order)
				fz_fail("quarantine block 0x%llx: order %u, model %u",
					(unsigned long long)pfn, order, frame->order);
			continue;
		}
		/* A block the model does not know: the free block that held the
		 * frame just poisoned (or any poisoned frame), taken whole. */
		if (nr_new_blocks == 0 || !fm_block_free(&fz.model, pfn, order) ||
		    (any ? !fm_block_poisoned(&fz.model, pfn, order)
			 : must_contain_pfn - pfn >= ((uint64_t)1 << order)))
			fz_fail("quarantine block 0x%llx order %u: not the free block of 0x%llx",
				(unsigned long long)pfn, order,
				(unsigned long long)must_contain_pfn);
		fm_quarantine_free_block(&fz.model, pfn, order);
		if (!any)
			nr_new_blocks--;
	}
	free(blocks);
}

void fz_check_quarantine_list(uint8_t max_blocks)
{
	size_t max = max_blocks % 8u, nr_blocks = SIZE_MAX;
	struct ms_block *blocks = max != 0 ? malloc(max * sizeof(*blocks)) : NULL;
	int err = ms_quarantine_list(&fz.inst, blocks, max, &nr_blocks);
	uint32_t results = fz.model.nr_quarantined_blocks > max ? FM_BIT(MS_ENOSPC) : FM_BIT(MS_OK);

	fz_expect("ms_quarantine_list", err, results);
	if (nr_blocks != fz.model.nr_quarantined_blocks)
		fz_fail("ms_quarantine_list counted %zu blocks, model %llu", nr_blocks,
			(unsigned long long)fz.model.nr_quarantined_blocks);
	for (size_t i = 0; i < max && i < nr_blocks; i++) {
		if (!fm_in_span(&fz.model, blocks[i].pfn) ||
		    !fm_frame(&fz.model, blocks[i].pfn)->quarantine_head)
			fz_fail("ms_quarantine_list entry 0x%llx not quarantined",
				(unsigned long long)blocks[i].pfn);
	}
	free(blocks);
}

void fz_check_coalesced(void)
{
	struct ms_stats stats;
	uint64_t expected[MS_NR_ORDERS];

	ms_stats(&fz.inst, &stats);
	if (stats.nr_cached != 0)
		return;
	fm_expected_free_blocks(&fz.model, expected);
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		if (stats.nr_free_blocks[order] != expected[order])
			fz_fail("order %u: %llu free blocks, a coalesced buddy system has %llu",
				order, (unsigned long long)stats.nr_free_blocks[order],
				(unsigned long long)expected[order]);
	}
}

void fz_check_idle(void)
{
	if (atomic_load(&fz.inst.lock.next_ticket) != atomic_load(&fz.inst.lock.now_serving))
		fz_fail("instance lock still held after an operation");
	for (unsigned cpu = 0; cpu < MS_MAX_CPUS; cpu++) {
		if (atomic_load(&fz.inst.pcp[cpu].busy) != 0)
			fz_fail("cache lock of cpu %u still held", cpu);
	}
	if (fz.irq_depth != 0)
		fz_fail("irq_save without irq_restore (depth %u)", fz.irq_depth);
}

static void check_dump(uint8_t buf_bytes)
{
	char full[1024];
	int full_len = ms_dump(&fz.inst, full, sizeof(full));

	if (full_len < 0 || (size_t)full_len != strlen(full))
		fz_fail("ms_dump: %d", full_len);
	/* The totals line says what the model says. */
	const char *totals = strstr(full, "\nframes ");
	unsigned long long nr_frames, nr_free, nr_cached, nr_allocated, nr_reserved, nr_quarantined;
	if (totals == NULL ||
	    sscanf(totals,
		   "\nframes %llu free %llu cached %llu allocated %llu reserved %llu "
		   "quarantined %llu",
		   &nr_frames, &nr_free, &nr_cached, &nr_allocated, &nr_reserved,
		   &nr_quarantined) != 6 ||
	    nr_frames != fz.model.nr_frames || nr_free != fz.model.nr_free ||
	    nr_allocated != fz.model.nr_allocated ||
	    nr_reserved != fz.model.nr_frames - fz.model.nr_usable ||
	    nr_quarantined != fz.model.nr_quarantined)
		fz_fail("ms_dump totals disagree with the model: %s", full);
	size_t nr_bytes = buf_bytes;
	char *buf = nr_bytes != 0 ? malloc(nr_bytes) : NULL;
	int len = ms_dump(&fz.inst, buf, nr_bytes);
	if ((size_t)full_len < nr_bytes) {
		if (len != full_len || strcmp(buf, full) != 0)
			fz_fail("ms_dump into %zu bytes: %d, full %d", nr_bytes, len, full_len);
	} else if (len != MS_ENOSPC || (buf != NULL && strnlen(buf, nr_bytes) == nr_bytes)) {
		fz_fail("ms_dump into %zu bytes (needs %d): %d", nr_bytes, full_len + 1, len);
	}
	free(buf);
}

void fz_observe(struct fz_input *in)
{
	struct ms_frag frag;
	struct ms_stats stats;
	uint64_t pfn = fz.model.base_pfn + fz_u16(in) % (fz.model.nr_frames + 2);
	size_t nr_bytes = 0;

	ms_stats(&fz.inst, &stats);
	ms_fragmentation(&fz.inst, &frag);
	int largest = -1;
	uint64_t nr_cached = 0;
	for (unsigned order = 0; order <= MS_MAX_ORDER; order++) {
		nr_cached += stats.nr_cached_blocks[order] << order;
		if (stats.nr_free_blocks[order] + stats.nr_cached_blocks[order] != 0)
			largest = (int)order;
		if (frag.unusable_free_permille[order] > 1000)
			fz_fail("fragmentation order %u: %u permille", order,
				frag.unusable_free_permille[order]);
	}
	if (frag.largest_free_order != largest)
		fz_fail("largest free order %d, lists and caches say %d", frag.largest_free_order,
			largest);
	if (nr_cached != stats.nr_cached)
		fz_fail("cached blocks make %llu frames, nr_cached says %llu",
			(unsigned long long)nr_cached, (unsigned long long)stats.nr_cached);
	check_dump(fz_u8(in));
	const void *meta = ms_metadata_of(&fz.inst, pfn, 1, &nr_bytes);
	bool in_span = fm_in_span(&fz.model, pfn);
	if (in_span != (meta != NULL) || (in_span && meta != &fz.slots[pfn - fz.model.base_pfn]))
		fz_fail("ms_metadata_of(0x%llx) = %p", (unsigned long long)pfn, meta);
}

void fz_final_sweep(void)
{
	while (fz.model.nr_live != 0)
		fz_release_all_refs(fz.model.live_pfns[0]);
	ms_cache_drain_all(&fz.inst);
	fz_check_counts();
	fz_check_coalesced();
	fz_check_consistent();
	if (fz.model.nr_free + fz.model.nr_quarantined != fz.model.nr_usable)
		fz_fail("after freeing everything: %llu free + %llu quarantined of %llu usable",
			(unsigned long long)fz.model.nr_free,
			(unsigned long long)fz.model.nr_quarantined,
			(unsigned long long)fz.model.nr_usable);

	/* Every free frame once, then nothing: largest blocks first, so that
	 * the sweep takes one allocation per free block. */
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE};
	struct ms_handle handle = {0};
	for (unsigned order = MS_MAX_ORDER + 1; order-- > 0;) {
		opts.order = order;
		for (;;) {
			int err = ms_alloc(&fz.inst, &opts, &handle);
			fz_trace("sweep alloc order %u -> %d 0x%llx", order, err,
				 (unsigned long long)handle.pfn);
			fz_expect("ms_alloc (sweep)", err, FM_BIT(MS_OK) | FM_BIT(MS_ENOMEM));
			if (err == MS_ENOMEM)
				break;
			fz_after_alloc(&opts, &handle);
		}
		if (fm_block_available(&fz.model, order))
			fz_fail("sweep: ENOMEM at order %u with a free block in the model", order);
	}
	if (fz.model.nr_free != 0)
		fz_fail("sweep: %llu free frames never handed out",
			(unsigned long long)fz.model.nr_free);
	opts.order = 0;
	opts.flags = MS_ALLOC_NOZERO;
	fz_expect("ms_alloc (swept, cached)", ms_alloc(&fz.inst, &opts, &handle),
		  FM_BIT(MS_ENOMEM));
	fz_check_counts();
	fz_check_consistent();
}
