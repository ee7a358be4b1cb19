/*
 * The fuzz target's allocation operations: ms_alloc with any options (valid
 * or not), ms_alloc_zones, calls with NULL arguments, and the checks every
 * handed-out block passes (free in the model, never poisoned, a fresh
 * generation, the slot stamped as ms.h says, zeroed when asked).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

/* Flags a caller may not stamp (ms.h: rejected with MS_EINVAL). */
#define RESERVED_FLAGS                                                                             \
	(META_SLOT_FRAME_FLAGS_ALLOCATED | META_SLOT_FRAME_FLAGS_FREE |                            \
	 META_SLOT_FRAME_FLAGS_POISONED)

static uint32_t alloc_stamp(const struct ms_alloc_opts *opts)
{
	static const uint32_t purpose_flags[] = {
	    META_SLOT_FRAME_FLAGS_KERNEL,
	    META_SLOT_FRAME_FLAGS_USER,
	    META_SLOT_FRAME_FLAGS_KERNEL,
	    0,
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
	    meta_slot_generation_load(slot) != handle->generation ||
	    meta_slot_vtable_load(slot) != 0 ||
	    meta_slot_guard_load(slot) != META_SLOT_META_GUARD_NONE ||
	    meta_slot_meta_aux_numa_node_get(slot) != FZ_NUMA_NODE)
		fz_fail("alloc 0x%llx: slot refcount %u order %u flags 0x%x guard 0x%x aux 0x%x",
			(unsigned long long)pfn, meta_slot_refcount_load(slot),
			meta_slot_order_load(slot), meta_slot_flags_load(slot),
			meta_slot_guard_load(slot), meta_slot_meta_aux_load(slot));
	if (fz.backing != NULL && fz.platform.phys_to_virt != NULL) {
		unsigned char *bytes = fz.backing + (pfn - fz.model.base_pfn) * META_SLOT_PAGE_SIZE;
		size_t nr_bytes = (size_t)META_SLOT_PAGE_SIZE << order;
		bool zeroed =
		    !(opts->flags & MS_ALLOC_NOZERO) || opts->purpose == MS_PURPOSE_PAGE_TABLE;
		if (zeroed && !all_bytes(bytes, nr_bytes, 0))
			fz_fail("alloc 0x%llx order %u: not zeroed", (unsigned long long)pfn,
				order);
		memset(bytes, 0xc3, nr_bytes); /* so that the next hand-out must zero again */
	}
	fm_allocate(&fz.model, pfn, order, handle->generation);
	fz.nr_alloc_events++;
	fz.handles[fz.nr_handles++ % FZ_NR_HANDLES] = *handle;
}

/* Argument errors of an allocation; 0 when the options are valid. */
static uint32_t option_errors(const struct ms_alloc_opts *opts)
{
	uint32_t results = 0;

	if (opts->order > MS_MAX_ORDER)
		results |= FM_BIT(MS_EORDER);
	if ((opts->flags & ~(MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE | MS_ALLOC_CPU_HINT)) ||
	    (unsigned)opts->purpose > MS_PURPOSE_CUSTOM || (opts->custom_flags & RESERVED_FLAGS) ||
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

void fz_op_alloc(struct fz_input *in, bool small)
{
	static const uint32_t custom_bits[] = {
	    META_SLOT_FRAME_FLAGS_COW,
	    META_SLOT_FRAME_FLAGS_DLL,
	    META_SLOT_FRAME_FLAGS_ANONYMOUS,
	    META_SLOT_FRAME_FLAGS_MOVABLE,
	};
	static const uint32_t reserved_bits[] = {
	    META_SLOT_FRAME_FLAGS_ALLOCATED,
	    META_SLOT_FRAME_FLAGS_FREE,
	    META_SLOT_FRAME_FLAGS_POISONED,
	    META_SLOT_FRAME_FLAGS_POISONED,
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
		if ((flags_byte & 0x38) == 0x38) /* now and then a bit no MS_ALLOC_* names */
			opts.flags |= 0x100u << (flags_byte & 7);
		opts.cpu = fz_u8(in) % (MS_MAX_CPUS + 4u);
	}
	do_alloc(&opts);
}

/* ms_alloc_zones over {empty, main}, {main}, {empty} or a bad list. */
void fz_op_alloc_zones(struct fz_input *in)
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

/* NULL instances and arguments: refused with MS_EINVAL, nothing changes. */
void fz_op_misuse(struct fz_input *in)
{
	struct ms_alloc_opts opts = {0};
	struct ms_handle handle = {0};
	size_t nr_blocks;

	switch (fz_u8(in) % 8) {
	case 0:
		fz_expect("ms_alloc(NULL inst)", ms_alloc(NULL, &opts, &handle), FM_BIT(MS_EINVAL));
		break;
	case 1:
		fz_expect("ms_alloc(NULL opts)", ms_alloc(&fz.inst, NULL, &handle),
			  FM_BIT(MS_EINVAL));
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
		fz_trace("add_range (late) full span");
		fz_expect("ms_add_range(late, overlapping)",
			  ms_add_range(&fz.inst, fz.model.base_pfn, fz.model.nr_frames),
			  fz.model.nr_ranges != 0 ? FM_BIT(MS_EOVERLAP) | FM_BIT(MS_EINVAL)
						  : FM_BIT(MS_OK));
		if (fz.model.nr_ranges == 0) {
			fm_add_range(&fz.model, fz.model.base_pfn, fz.model.nr_frames);
			fz_sync_quarantine(FZ_NO_PFN, FZ_ANY_NEW_BLOCKS);
		}
		if (ms_handle_live(NULL, handle) || ms_metadata_of(NULL, 0, 1, NULL) != NULL)
			fz_fail("NULL instance accepted");
		break;
	}
}
