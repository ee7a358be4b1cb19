/*
 * The fuzz target's operations: each reads its arguments from the input,
 * asks the model which results are allowed, calls the runtime, checks the
 * result and the metadata it left, and updates the model.  This file holds
 * the dispatch and the free, reference, poison and cache operations;
 * fuzz_ops_alloc.c the allocations.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

static void on_last_ref(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx);

static const struct ms_vtable counting_vtable = {.on_last_ref = on_last_ref, .ctx = &fz};

/* The last put: called exactly once, for the expected block, with the
 * refcount at 0, so every reference call must refuse the frame meanwhile. */
static void on_last_ref(struct ms_instance *inst, uint64_t pfn, unsigned order, void *ctx)
{
	if (ctx != &fz || inst != &fz.inst || pfn != fz.last_ref_pfn || order != fz.last_ref_order)
		fz_fail("on_last_ref(0x%llx, %u) unexpected", (unsigned long long)pfn, order);
	fz.nr_last_ref_calls++;
	fz_expect("ms_get in on_last_ref", ms_get(inst, pfn), FM_BIT(MS_EREFZERO));
	fz_expect("ms_put in on_last_ref", ms_put(inst, pfn), FM_BIT(MS_EREFZERO));
	fz_expect("ms_free in on_last_ref", ms_free(inst, pfn, order), FM_BIT(MS_EREFZERO));
	struct ms_handle handle = {.pfn = pfn, .generation = fm_frame(&fz.model, pfn)->generation};
	if (ms_handle_live(inst, handle))
		fz_fail("handle live during on_last_ref");
}

static uint64_t pick_pfn(struct fz_input *in)
{
	uint16_t choice = fz_u16(in);

	if ((choice & 0x8000) && fz.model.nr_live != 0) {
		uint64_t head = fz.model.live_pfns[choice % fz.model.nr_live];
		return head + fz_u8(in) % 4;
	}
	return fz.model.base_pfn + choice % (fz.model.nr_frames + 8) - 4;
}

/* A live block's head, or false when none is allocated. */
static bool pick_live(struct fz_input *in, uint64_t *pfn)
{
	uint8_t choice = fz_u8(in);

	if (fz.model.nr_live == 0)
		return false;
	*pfn = fz.model.live_pfns[choice % fz.model.nr_live];
	return true;
}

static void remember_freed(uint64_t pfn, unsigned order)
{
	fz.freed_pfns[fz.nr_freed % FZ_NR_HANDLES] = pfn;
	fz.freed_orders[fz.nr_freed % FZ_NR_HANDLES] = (uint8_t)order;
	fz.nr_freed++;
}

/* The block at pfn was released by the runtime; poisoned ones must show up
 * in the quarantine. */
static void released(uint64_t pfn, unsigned order)
{
	struct meta_slot *slot = &fz.slots[pfn - fz.model.base_pfn];
	bool poisoned = fm_block_poisoned(&fz.model, pfn, order);
	uint32_t flags = meta_slot_flags_load(slot);

	if (meta_slot_refcount_load(slot) != META_SLOT_REFCOUNT_UNUSED ||
	    (flags & META_SLOT_FRAME_FLAGS_ALLOCATED) ||
	    (poisoned && !(flags & META_SLOT_FRAME_FLAGS_POISONED)) ||
	    meta_slot_vtable_load(slot) != 0)
		fz_fail("released 0x%llx: slot refcount 0x%x flags 0x%x", (unsigned long long)pfn,
			meta_slot_refcount_load(slot), flags);
	fz.nr_free_events++;
	fm_release(&fz.model, pfn);
	remember_freed(pfn, order);
	fz_sync_quarantine(FZ_NO_PFN, 0);
}

static void do_free(uint64_t pfn, unsigned order)
{
	uint32_t results = fm_free_results(&fz.model, pfn, order);
	unsigned nr_calls = fz.nr_last_ref_calls;
	int err = ms_free(&fz.inst, pfn, order);

	fz_trace("free 0x%llx order %u -> %d", (unsigned long long)pfn, order, err);
	fz_expect("ms_free", err, results);
	if (fz.nr_last_ref_calls != nr_calls)
		fz_fail("ms_free ran on_last_ref");
	if (err == MS_OK)
		released(pfn, order);
}

static void do_get(uint64_t pfn)
{
	uint32_t results = fm_ref_results(&fz.model, pfn);
	int err = ms_get(&fz.inst, pfn);

	fz_trace("get 0x%llx -> %d", (unsigned long long)pfn, err);
	fz_expect("ms_get", err, results);
	if (err == MS_OK)
		fm_frame(&fz.model, pfn)->refs++;
}

static void do_put(uint64_t pfn)
{
	uint32_t results = fm_ref_results(&fz.model, pfn);
	unsigned nr_calls = fz.nr_last_ref_calls;
	bool last = false;

	if (results == FM_BIT(MS_OK)) {
		struct fm_frame *frame = fm_frame(&fz.model, pfn);
		last = frame->refs == 1;
		fz.last_ref_pfn = pfn;
		fz.last_ref_order = frame->order;
	}
	int err = ms_put(&fz.inst, pfn);
	fz_trace("put 0x%llx -> %d%s", (unsigned long long)pfn, err, last ? " (last)" : "");
	fz_expect("ms_put", err, results);
	if (err != MS_OK)
		return;
	struct fm_frame *frame = fm_frame(&fz.model, pfn);
	unsigned expected_calls = nr_calls + (last && frame->counting_vtable);
	if (fz.nr_last_ref_calls != expected_calls)
		fz_fail("put 0x%llx: on_last_ref ran %u times, expected %u",
			(unsigned long long)pfn, fz.nr_last_ref_calls - nr_calls,
			expected_calls - nr_calls);
	frame->refs--;
	if (last)
		released(pfn, frame->order);
}

static void do_set_vtable(uint64_t pfn, uint8_t kind)
{
	const struct ms_vtable *vtable = NULL;
	uint32_t results = fm_ref_results(&fz.model, pfn);

	if (kind % 3 == 1)
		vtable = &counting_vtable;
	if (kind % 3 == 2) {
		vtable = (const struct ms_vtable *)((uintptr_t)&counting_vtable + 8);
		if (results != FM_BIT(MS_ERANGE))
			results |= FM_BIT(MS_EINVAL);
		results &= ~FM_BIT(MS_OK);
	}
	int err = ms_set_vtable(&fz.inst, pfn, vtable);
	fz_trace("set_vtable 0x%llx kind %u -> %d", (unsigned long long)pfn, kind % 3, err);
	fz_expect("ms_set_vtable", err, results);
	if (err == MS_OK)
		fm_frame(&fz.model, pfn)->counting_vtable = vtable != NULL;
}

static void do_poison(uint64_t pfn)
{
	bool in_span = fm_in_span(&fz.model, pfn);
	int err = ms_mark_poisoned(&fz.inst, pfn);

	fz_trace("poison 0x%llx -> %d", (unsigned long long)pfn, err);
	fz_expect("ms_mark_poisoned", err, in_span ? FM_BIT(MS_OK) : FM_BIT(MS_ERANGE));
	if (err != MS_OK)
		return;
	struct fm_frame *frame = fm_frame(&fz.model, pfn);
	bool was_free = frame->state == FM_FREE;
	frame->poisoned = true;
	fz_sync_quarantine(pfn, was_free ? 1 : 0);
}

static void do_handle_live(struct fz_input *in)
{
	uint8_t choice = fz_u8(in);
	struct ms_handle handle = {.pfn = pick_pfn(in), .generation = fz_u8(in)};

	if (fz.nr_handles != 0 && (choice & 1)) {
		unsigned nr_kept = fz.nr_handles < FZ_NR_HANDLES ? fz.nr_handles : FZ_NR_HANDLES;
		handle = fz.handles[(choice >> 1) % nr_kept];
	}
	bool expected = fm_in_span(&fz.model, handle.pfn) &&
			fm_frame(&fz.model, handle.pfn)->state == FM_HEAD &&
			fm_frame(&fz.model, handle.pfn)->generation == handle.generation;
	bool live = ms_handle_live(&fz.inst, handle);
	fz_trace("handle_live 0x%llx gen %u -> %d", (unsigned long long)handle.pfn,
		 handle.generation, live);
	if (live != expected)
		fz_fail("handle 0x%llx gen %u: live %d, model %d", (unsigned long long)handle.pfn,
			handle.generation, live, expected);
}

void fz_release_all_refs(uint64_t pfn)
{
	struct fm_frame *frame = fm_frame(&fz.model, pfn);

	while (frame->state == FM_HEAD && frame->refs > 1)
		do_put(pfn);
	if (frame->state == FM_HEAD)
		do_free(pfn, frame->order);
}

static void op_free(struct fz_input *in, enum fz_op op)
{
	uint64_t pfn;

	switch (op) {
	case FZ_OP_FREE_LIVE:
		if (pick_live(in, &pfn))
			do_free(pfn, fm_frame(&fz.model, pfn)->order);
		break;
	case FZ_OP_FREE_WRONG_ORDER:
		if (pick_live(in, &pfn))
			do_free(pfn, fz_u8(in) % 16u);
		break;
	case FZ_OP_FREE_ANY:
		pfn = pick_pfn(in);
		do_free(pfn, fz_u8(in) % 16u);
		break;
	default: {
		uint8_t choice = fz_u8(in);
		if (fz.nr_freed != 0) {
			unsigned nr_kept =
			    fz.nr_freed < FZ_NR_HANDLES ? fz.nr_freed : FZ_NR_HANDLES;
			do_free(fz.freed_pfns[choice % nr_kept], fz.freed_orders[choice % nr_kept]);
		}
		break;
	}
	}
}

static void op_ref(struct fz_input *in, enum fz_op op)
{
	uint64_t pfn;

	if (op == FZ_OP_REF_ANY) {
		uint8_t which = fz_u8(in);
		pfn = pick_pfn(in);
		if (which % 3 == 0)
			do_get(pfn);
		else if (which % 3 == 1)
			do_put(pfn);
		else
			do_set_vtable(pfn, fz_u8(in));
		return;
	}
	if (!pick_live(in, &pfn))
		return;
	if (op == FZ_OP_GET)
		do_get(pfn);
	else if (op == FZ_OP_PUT)
		do_put(pfn);
	else
		do_set_vtable(pfn, fz_u8(in));
}

void fz_run_op(struct fz_input *in)
{
	enum fz_op op = (enum fz_op)(fz_u8(in) % FZ_NR_OPS);

	switch (op) {
	case FZ_OP_ALLOC:
	case FZ_OP_ALLOC_SMALL:
		fz_op_alloc(in, op == FZ_OP_ALLOC_SMALL);
		break;
	case FZ_OP_FREE_LIVE:
	case FZ_OP_FREE_WRONG_ORDER:
	case FZ_OP_FREE_ANY:
	case FZ_OP_FREE_AGAIN:
		op_free(in, op);
		break;
	case FZ_OP_GET:
	case FZ_OP_PUT:
	case FZ_OP_REF_ANY:
	case FZ_OP_SET_VTABLE:
		op_ref(in, op);
		break;
	case FZ_OP_POISON:
		do_poison(pick_pfn(in));
		break;
	case FZ_OP_HANDLE_LIVE:
		do_handle_live(in);
		break;
	case FZ_OP_CACHE_TOGGLE: {
		bool enabled = fz_u8(in) & 1;
		fz_trace("cache %d", enabled);
		ms_set_cache_enabled(&fz.inst, enabled);
		break;
	}
	case FZ_OP_DRAIN:
		ms_cache_drain(&fz.inst, fz_u8(in) % (MS_MAX_CPUS + 4u));
		break;
	case FZ_OP_DRAIN_ALL:
		ms_cache_drain_all(&fz.inst);
		fz_check_coalesced();
		break;
	case FZ_OP_SET_CPU:
		fz.cpu = fz_u8(in) % MS_MAX_CPUS;
		ms_hosted_set_cpu(fz.cpu);
		break;
	case FZ_OP_OBSERVE:
		fz_observe(in);
		break;
	case FZ_OP_CHECK:
		fz_check_small_buffer(fz_u8(in));
		break;
	case FZ_OP_QUARANTINE_LIST:
		fz_check_quarantine_list(fz_u8(in));
		break;
	case FZ_OP_ALLOC_ZONES:
		fz_op_alloc_zones(in);
		break;
	default:
		fz_op_misuse(in);
		break;
	}
}
