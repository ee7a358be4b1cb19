/*
 * The fuzz target's operations: each reads its arguments from the input,
 * asks the model which results are allowed, calls the runtime, checks the
 * result and the metadata it left, and updates the model.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#define ORDER_FRAMES(order) ((uint64_t)1 << (order))

/* Flags a caller may not stamp (ms.h: rejected with MS_EINVAL). */
#define RESERVED_FLAGS \
	(META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_FREE | META_SLOT_FRAME_FLAGS_POISONED)

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

static uint32_t alloc_stamp(const struct ms_alloc_opts *opts)
{
	static const uint32_t purpose_flags[] = {
		META_SLOT_FRAME_FLAGS_KERNEL, META_SLOT_FRAME_FLAGS_USER,
		META_SLOT_FRAME_FLAGS_KERNEL, 0,
	};

	return purpose_flags[opts->purpose] | opts->custom_flags | META_SLOT_FRAME_FLAGS_ALLOCATED;
}

static bool all_bytes(const unsigned char *bytes, size_t nr_bytes, unsigned char value)
{
	for (size_t i = 0; i < nr_bytes; i++) {
		if (bytes[i] != value)
			return false;
	}
	return true;
}

void fz_after_alloc(const struct ms_alloc_opts *opts, const struct ms_handle *handle)
{
	uint64_t pfn = handle->pfn;
	unsigned order = opts->order;

	if (!fm_block_free(&fz.model, pfn, order))
		fz_fail("alloc order %u gave 0x%llx: not a free aligned block of the model", order,
			(unsigned long long)pfn);
	if (fm_block_poisoned(&fz.model, pfn, order))
		fz_fail("alloc order %u gave 0x%llx: the block holds a poisoned frame", order,
			(unsigned long long)pfn);
	struct fm_frame *frame = fm_frame(&fz.model, pfn);
	if (handle->generation <= frame->generation)
		fz_fail("alloc 0x%llx: generation %u not above %u", (unsigned long long)pfn,
			handle->generation, frame->generation);
	struct meta_slot *slot = &fz.slots[pfn - fz.model.base_pfn];
	if (meta_slot_refcount_load(slot) != 1 || meta_slot_order_load(slot) != order ||
	    meta_slot_flags_load(slot) != alloc_stamp(opts) ||
	    meta_slot_generation_load(slot) != handle->generation)
		fz_fail("alloc 0x%llx: slot refcount %u order %u flags 0x%x", (unsigned long long)pfn,
			meta_slot_refcount_load(slot), meta_slot_order_load(slot),
			meta_slot_flags_load(slot));
	if (fz.backing != NULL && fz.platform.phys_to_virt != NULL) {
		unsigned char *bytes = fz.backing + (pfn - fz.model.base_pfn) * META_SLOT_PAGE_SIZE;
		size_t nr_bytes = (size_t)META_SLOT_PAGE_SIZE << order;
		bool zeroed = !(opts->flags & MS_ALLOC_NOZERO) || opts->purpose == MS_PURPOSE_PAGE_TABLE;
		if (zeroed && !all_bytes(bytes, nr_bytes, 0))
			fz_fail("alloc 0x%llx order %u: not zeroed", (unsigned long long)pfn, order);
		memset(bytes, 0xc3, nr_bytes); /* so that the next hand-out must zero again */
	}
	fm_allocate(&fz.model, pfn, order, handle->generation);
	fz.handles[fz.nr_handles++ % FZ_NR_HANDLES] = *handle;
}

/* Argument errors of an allocation; 0 when the options are valid. */
static uint32_t option_errors(const struct ms_alloc_opts *opts)
{
	uint32_t results = 0;

	if (opts->order > MS_MAX_ORDER)
		results |= FM_BIT(MS_EORDER);
	if ((unsigned)opts->purpose > MS_PURPOSE_CUSTOM || (opts->custom_flags & RESERVED_FLAGS) ||
	    ((opts->flags & MS_ALLOC_CPU_HINT) && opts->cpu >= MS_MAX_CPUS))
		results |= FM_BIT(MS_EINVAL);
	return results;
}

static void do_alloc(struct ms_alloc_opts *opts)
{
	uint32_t results = option_errors(opts);
	struct ms_handle handle = {0};

	if (results == 0)
		results = FM_BIT(MS_OK) | FM_BIT(MS_ENOMEM);
	int err = ms_alloc(&fz.inst, opts, &handle);
	fz_trace("alloc order %u flags 0x%x purpose %u custom 0x%x cpu %u -> %d 0x%llx",
		 opts->order, opts->flags, (unsigned)opts->purpose, opts->custom_flags, opts->cpu,
		 err, (unsigned long long)handle.pfn);
	fz_expect("ms_alloc", err, results);
	if (err == MS_ENOMEM && fm_block_available(&fz.model, opts->order))
		fz_fail("alloc order %u: ENOMEM with a free block in the model", opts->order);
	if (err == MS_OK)
		fz_after_alloc(opts, &handle);
}

static void op_alloc(struct fz_input *in, bool small)
{
	static const uint32_t custom_bits[] = {
		META_SLOT_FRAME_FLAGS_COW, META_SLOT_FRAME_FLAGS_DLL,
		META_SLOT_FRAME_FLAGS_ANONYMOUS, META_SLOT_FRAME_FLAGS_MOVABLE,
	};
	static const uint32_t reserved_bits[] = {
		META_SLOT_FRAME_FLAGS_ALLOCATED, META_SLOT_FRAME_FLAGS_FREE,
		META_SLOT_FRAME_FLAGS_POISONED, META_SLOT_FRAME_FLAGS_POISONED,
	};
	uint8_t order_byte = fz_u8(in), flags_byte = fz_u8(in);
	struct ms_alloc_opts opts = {0};

	opts.order = small ? order_byte % 3u : order_byte % 16u;
	opts.flags = flags_byte & (MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE | MS_ALLOC_CPU_HINT);
	if (small) {
		opts.flags &= ~MS_ALLOC_CPU_HINT;
		opts.cpu = 0;
	} else {
		uint8_t purpose_byte = fz_u8(in);
		opts.purpose = (enum ms_purpose)(purpose_byte % 5u);
		for (unsigned bit = 0; bit < 4; bit++) {
			if (purpose_byte & (0x08u << bit))
				opts.custom_flags |= custom_bits[bit];
		}
		if (purpose_byte & 0x80)
			opts.custom_flags |= reserved_bits[flags_byte >> 6];
		opts.cpu = fz_u8(in) % (MS_MAX_CPUS + 4u);
	}
	do_alloc(&opts);
}

/* ms_alloc_zones over {empty, main}, {main}, {empty} or a bad list. */
static void op_alloc_zones(struct fz_input *in)
{
	uint8_t order_byte = fz_u8(in), mode = fz_u8(in);
	struct ms_alloc_opts opts = {.order = order_byte % 12u, .flags = MS_ALLOC_NOZERO};
	struct ms_zonelist zones = {.nr_instances = 2, .instances = {&fz.empty, &fz.inst}};
	struct ms_instance *from = NULL;
	struct ms_handle handle = {0};
	uint32_t results = option_errors(&opts);

	if (mode % 4 == 1)
		zones = (struct ms_zonelist){.nr_instances = 1, .instances = {&fz.inst}};
	if (mode % 4 == 2)
		zones.nr_instances = mode & 0x80 ? 9 : 0;
	if (mode % 4 == 3)
		zones.nr_instances = 1;
	if (mode % 4 == 2)
		results = FM_BIT(MS_EINVAL);
	else if (results == 0)
		results = mode % 4 == 3 ? FM_BIT(MS_ENOMEM) : FM_BIT(MS_OK) | FM_BIT(MS_ENOMEM);
	int err = ms_alloc_zones(&zones, &opts, &handle, (mode & 0x40) ? NULL : &from);
	fz_trace("alloc_zones order %u mode %u -> %d 0x%llx", opts.order, mode % 4, err,
		 (unsigned long long)handle.pfn);
	fz_expect("ms_alloc_zones", err, results);
	if (err == MS_ENOMEM && fm_block_available(&fz.model, opts.order) && mode % 4 != 3)
		fz_fail("alloc_zones order %u: ENOMEM with a free block", opts.order);
	if (err != MS_OK)
		return;
	if (!(mode & 0x40) && from != &fz.inst)
		fz_fail("alloc_zones: served by the wrong instance");
	fz_after_alloc(&opts, &handle);
}

static bool any_poisoned(void)
{
	for (uint64_t i = 0; i < fz.model.nr_frames; i++) {
		if (fz.model.frames[i].poisoned)
			return true;
	}
	return false;
}

/* NULL instances and arguments: refused with MS_EINVAL, nothing changes. */
static void op_misuse(struct fz_input *in)
{
	struct ms_alloc_opts opts = {0};
	struct ms_handle handle = {0};
	size_t nr_blocks;

	switch (fz_u8(in) % 8) {
	case 0:
		fz_expect("ms_alloc(NULL inst)", ms_alloc(NULL, &opts, &handle), FM_BIT(MS_EINVAL));
		break;
	case 1:
		fz_expect("ms_alloc(NULL opts)", ms_alloc(&fz.inst, NULL, &handle), FM_BIT(MS_EINVAL));
		break;
	case 2:
		fz_expect("ms_alloc(NULL out)", ms_alloc(&fz.inst, &opts, NULL), FM_BIT(MS_EINVAL));
		break;
	case 3:
		fz_expect("ms_free(NULL)", ms_free(NULL, 0, 0), FM_BIT(MS_EINVAL));
		break;
	case 4:
		fz_expect("ms_get(NULL)", ms_get(NULL, 0), FM_BIT(MS_EINVAL));
		fz_expect("ms_put(NULL)", ms_put(NULL, 0), FM_BIT(MS_EINVAL));
		fz_expect("ms_set_vtable(NULL)", ms_set_vtable(NULL, 0, NULL), FM_BIT(MS_EINVAL));
		break;
	case 5:
		fz_expect("ms_mark_poisoned(NULL)", ms_mark_poisoned(NULL, 0), FM_BIT(MS_EINVAL));
		fz_expect("ms_check(NULL)", ms_check(NULL, NULL, 0), FM_BIT(MS_EINVAL));
		break;
	case 6:
		fz_expect("ms_quarantine_list(NULL count)",
			  ms_quarantine_list(&fz.inst, NULL, 0, NULL), FM_BIT(MS_EINVAL));
		fz_expect("ms_quarantine_list(NULL out)",
			  ms_quarantine_list(&fz.inst, NULL, 3, &nr_blocks), FM_BIT(MS_EINVAL));
		break;
	default:
		if (!FZ_POISON_BEFORE_ADD && fz.model.nr_ranges == 0 && any_poisoned())
			break;
		fz_trace("add_range (late) full span");
		fz_expect("ms_add_range(late, overlapping)",
			  ms_add_range(&fz.inst, fz.model.base_pfn, fz.model.nr_frames),
			  fz.model.nr_ranges != 0 ? FM_BIT(MS_EOVERLAP) | FM_BIT(MS_EINVAL)
						  : FM_BIT(MS_OK));
		if (fz.model.nr_ranges == 0)
			fm_add_range(&fz.model, fz.model.base_pfn, fz.model.nr_frames);
		if (ms_handle_live(NULL, handle) || ms_metadata_of(NULL, 0, 1, NULL) != NULL)
			fz_fail("NULL instance accepted");
		break;
	}
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
		fz_fail("put 0x%llx: on_last_ref ran %u times, expected %u", (unsigned long long)pfn,
			fz.nr_last_ref_calls - nr_calls, expected_calls - nr_calls);
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
			unsigned nr_kept = fz.nr_freed < FZ_NR_HANDLES ? fz.nr_freed : FZ_NR_HANDLES;
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
		op_alloc(in, op == FZ_OP_ALLOC_SMALL);
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
		op_alloc_zones(in);
		break;
	default:
		op_misuse(in);
		break;
	}
}
