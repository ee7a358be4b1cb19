/*
 * The fuzz target's reference model (see model.h): frame states and the
 * results the public API allows for each call.  Where ms.h lets more than one
 * error apply (an unaligned free of a free frame), every applicable error is
 * accepted; argument errors (order, span, alignment) come before state errors
 * because the state of a pfn outside the span cannot even be looked at.
 */
#include <string.h>

#include "model.h"

static uint64_t order_frames(unsigned order)
{
	return (uint64_t)1 << order;
}

void fm_init(struct fm_model *model, uint64_t base_pfn, uint64_t nr_frames)
{
	memset(model, 0, sizeof(*model));
	model->base_pfn = base_pfn;
	model->nr_frames = nr_frames;
}

bool fm_in_span(const struct fm_model *model, uint64_t pfn)
{
	return pfn >= model->base_pfn && pfn - model->base_pfn < model->nr_frames;
}

struct fm_frame *fm_frame(struct fm_model *model, uint64_t pfn)
{
	return &model->frames[pfn - model->base_pfn];
}

static const struct fm_frame *frame_of(const struct fm_model *model, uint64_t pfn)
{
	return &model->frames[pfn - model->base_pfn];
}

uint32_t fm_add_range_results(const struct fm_model *model, uint64_t start_pfn, uint64_t nr_frames)
{
	uint32_t results = 0;

	if (nr_frames == 0 || model->nr_ranges == MS_MAX_RANGES)
		results |= FM_BIT(MS_EINVAL);
	if (nr_frames != 0 && (!fm_in_span(model, start_pfn) || nr_frames > model->nr_frames ||
			       !fm_in_span(model, start_pfn + nr_frames - 1)))
		results |= FM_BIT(MS_ERANGE);
	for (unsigned i = 0; i < model->nr_ranges && results == 0; i++) {
		const struct ms_range *range = &model->ranges[i];
		if (start_pfn < range->start_pfn + range->nr_frames &&
		    range->start_pfn < start_pfn + nr_frames)
			results |= FM_BIT(MS_EOVERLAP);
	}
	return results != 0 ? results : FM_BIT(MS_OK);
}

void fm_add_range(struct fm_model *model, uint64_t start_pfn, uint64_t nr_frames)
{
	model->ranges[model->nr_ranges].start_pfn = start_pfn;
	model->ranges[model->nr_ranges].nr_frames = nr_frames;
	model->nr_ranges++;
	for (uint64_t pfn = start_pfn; pfn < start_pfn + nr_frames; pfn++)
		fm_frame(model, pfn)->state = FM_FREE;
	model->nr_usable += nr_frames;
	model->nr_free += nr_frames;
}

bool fm_block_free(const struct fm_model *model, uint64_t pfn, unsigned order)
{
	if (order > MS_MAX_ORDER || (pfn & (order_frames(order) - 1)) != 0 ||
	    !fm_in_span(model, pfn) || !fm_in_span(model, pfn + order_frames(order) - 1))
		return false;
	for (uint64_t i = 0; i < order_frames(order); i++) {
		if (frame_of(model, pfn + i)->state != FM_FREE)
			return false;
	}
	return true;
}

bool fm_block_available(const struct fm_model *model, unsigned order)
{
	uint64_t step = order_frames(order);
	uint64_t first = (model->base_pfn + step - 1) & ~(step - 1);

	for (uint64_t pfn = first; fm_in_span(model, pfn); pfn += step) {
		if (fm_block_free(model, pfn, order))
			return true;
	}
	return false;
}

bool fm_block_poisoned(const struct fm_model *model, uint64_t pfn, unsigned order)
{
	for (uint64_t i = 0; i < order_frames(order); i++) {
		if (frame_of(model, pfn + i)->poisoned)
			return true;
	}
	return false;
}

void fm_allocate(struct fm_model *model, uint64_t pfn, unsigned order, uint32_t generation)
{
	struct fm_frame *head = fm_frame(model, pfn);

	for (uint64_t i = 1; i < order_frames(order); i++)
		fm_frame(model, pfn + i)->state = FM_TAIL;
	head->state = FM_HEAD;
	head->order = (uint8_t)order;
	head->refs = 1;
	head->generation = generation;
	head->counting_vtable = false;
	head->live_index = model->nr_live;
	model->live_pfns[model->nr_live++] = pfn;
	model->nr_free -= order_frames(order);
	model->nr_allocated += order_frames(order);
}

void fm_release(struct fm_model *model, uint64_t pfn)
{
	struct fm_frame *head = fm_frame(model, pfn);
	unsigned order = head->order;
	bool poisoned = fm_block_poisoned(model, pfn, order);
	uint64_t last_pfn = model->live_pfns[--model->nr_live];

	model->live_pfns[head->live_index] = last_pfn;
	fm_frame(model, last_pfn)->live_index = head->live_index;
	for (uint64_t i = 0; i < order_frames(order); i++)
		fm_frame(model, pfn + i)->state = poisoned ? FM_QUARANTINED : FM_FREE;
	head->refs = 0;
	head->quarantine_head = poisoned;
	model->nr_allocated -= order_frames(order);
	if (poisoned) {
		model->nr_quarantined += order_frames(order);
		model->nr_quarantined_blocks++;
	} else {
		model->nr_free += order_frames(order);
	}
}

void fm_quarantine_free_block(struct fm_model *model, uint64_t pfn, unsigned order)
{
	for (uint64_t i = 0; i < order_frames(order); i++)
		fm_frame(model, pfn + i)->state = FM_QUARANTINED;
	fm_frame(model, pfn)->quarantine_head = true;
	fm_frame(model, pfn)->order = (uint8_t)order;
	model->nr_free -= order_frames(order);
	model->nr_quarantined += order_frames(order);
	model->nr_quarantined_blocks++;
}

uint32_t fm_free_results(const struct fm_model *model, uint64_t pfn, unsigned order)
{
	uint32_t results = 0;

	if (order > MS_MAX_ORDER)
		results |= FM_BIT(MS_EORDER);
	if (!fm_in_span(model, pfn))
		results |= FM_BIT(MS_ERANGE);
	if (order <= MS_MAX_ORDER && (pfn & (order_frames(order) - 1)) != 0)
		results |= FM_BIT(MS_EALIGN);
	if (results != 0)
		return results;

	const struct fm_frame *frame = frame_of(model, pfn);
	if (frame->state != FM_HEAD)
		return FM_BIT(MS_EDOUBLEFREE);
	if (frame->order != order)
		results |= FM_BIT(MS_EWRONGORDER);
	if (frame->refs > 1)
		results |= FM_BIT(MS_EBUSY);
	return results != 0 ? results : FM_BIT(MS_OK);
}

uint32_t fm_ref_results(const struct fm_model *model, uint64_t pfn)
{
	if (!fm_in_span(model, pfn))
		return FM_BIT(MS_ERANGE);
	if (frame_of(model, pfn)->state != FM_HEAD)
		return FM_BIT(MS_EDOUBLEFREE);
	return FM_BIT(MS_OK);
}

/* Largest naturally aligned block at pfn that ends by end_pfn. */
static unsigned carve_order(uint64_t pfn, uint64_t end_pfn)
{
	unsigned order = MS_MAX_ORDER;

	while (order > 0 &&
	       ((pfn & (order_frames(order) - 1)) != 0 || end_pfn - pfn < order_frames(order)))
		order--;
	return order;
}

void fm_expected_free_blocks(const struct fm_model *model, uint64_t out[MS_NR_ORDERS])
{
	uint64_t end_of_span = model->base_pfn + model->nr_frames;

	memset(out, 0, sizeof(uint64_t) * MS_NR_ORDERS);
	for (uint64_t pfn = model->base_pfn; pfn < end_of_span;) {
		if (frame_of(model, pfn)->state != FM_FREE) {
			pfn++;
			continue;
		}
		uint64_t run_end = pfn;
		while (run_end < end_of_span && frame_of(model, run_end)->state == FM_FREE)
			run_end++;
		while (pfn < run_end) {
			unsigned order = carve_order(pfn, run_end);
			out[order]++;
			pfn += order_frames(order);
		}
	}
}
