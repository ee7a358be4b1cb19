/*
 * libFuzzer target for the runtime allocator.  Each input builds a fresh
 * instance (span, base pfn, usable ranges and platform hooks chosen by the
 * header bytes, see fuzz.h), runs the operations the remaining bytes encode
 * against the allocator and the reference model (model.c), and ends with a
 * sweep that frees everything and allocates every frame back.  Any
 * disagreement, failed ms_check, panic or sanitizer report aborts the run.
 *
 * Replay one input with the operations printed:
 *   FUZZ_TRACE=1 build/fuzz/fuzz_alloc path/to/input
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

struct fz_state fz;

/* Base pfns: zero, odd, aligned, just below alignment, high. */
static const uint64_t base_pfns[8] = {
    0x0, 0x1, 0x400, 0x3ff, 0xffffd, 0xfffffffd, 0xfffffffff000, 0xffffffffff800,
};

uint8_t fz_u8(struct fz_input *in)
{
	return in->pos < in->nr_bytes ? in->bytes[in->pos++] : 0;
}

uint16_t fz_u16(struct fz_input *in)
{
	uint16_t low = fz_u8(in);
	return (uint16_t)(low | (uint16_t)fz_u8(in) << 8);
}

bool fz_more(const struct fz_input *in)
{
	return in->pos < in->nr_bytes;
}

void fz_fail(const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	fprintf(stderr, "fuzz_alloc: disagreement: ");
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
	abort();
}

void fz_trace(const char *fmt, ...)
{
	va_list args;

	if (!fz.trace)
		return;
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	fprintf(stderr, "\n");
	va_end(args);
}

void fz_expect(const char *what, int err, uint32_t results)
{
	if (err > 0 || err < -31 || !(results & FM_BIT(err)))
		fz_fail("%s returned %s (%d); allowed set 0x%x", what, ms_strerror(err), err,
			(unsigned)results);
}

static void fuzz_panic(const char *what, uint64_t pfn, uint64_t value)
{
	fz_fail("runtime panic: %s (pfn 0x%llx, value 0x%llx)", what, (unsigned long long)pfn,
		(unsigned long long)value);
}

/* irq hooks that check save/restore nesting: the state is the depth. */
static unsigned long fuzz_irq_save(void)
{
	return fz.irq_depth++;
}

static void fuzz_irq_restore(unsigned long irq_state)
{
	if (fz.irq_depth == 0 || irq_state != fz.irq_depth - 1)
		fz_fail("irq_restore(%lu) at depth %u", irq_state, fz.irq_depth);
	fz.irq_depth--;
}

static void *storage(size_t nr_bytes)
{
	void *mem = aligned_alloc(META_SLOT_ARRAY_ALIGN, nr_bytes);

	if (mem == NULL)
		abort();
	return mem;
}

static void setup_ranges(struct fz_input *in)
{
	unsigned nr_ranges = fz_u8(in) % 8;
	uint64_t base_pfn = fz.model.base_pfn, nr_frames = fz.model.nr_frames;

	if (nr_ranges == 0) {
		fz_expect("ms_add_range(span)", ms_add_range(&fz.inst, base_pfn, nr_frames),
			  FM_BIT(MS_OK));
		fm_add_range(&fz.model, base_pfn, nr_frames);
		return;
	}
	for (unsigned i = 0; i < nr_ranges; i++) {
		uint64_t start_pfn = base_pfn + fz_u16(in) % (nr_frames + 2) - 1;
		uint64_t nr_range_frames = fz_u16(in) % (nr_frames + 2);
		uint32_t results = fm_add_range_results(&fz.model, start_pfn, nr_range_frames);
		int err = ms_add_range(&fz.inst, start_pfn, nr_range_frames);

		fz_trace("add_range 0x%llx +%llu -> %d", (unsigned long long)start_pfn,
			 (unsigned long long)nr_range_frames, err);
		fz_expect("ms_add_range", err, results);
		if (err == MS_OK)
			fm_add_range(&fz.model, start_pfn, nr_range_frames);
	}
}

static void setup(struct fz_input *in)
{
	static struct meta_slot *slots;
	static unsigned char *backing;
	uint8_t config = fz_u8(in);
	bool backed = config & 0x08;
	uint64_t base_pfn = base_pfns[config & 7];
	uint64_t nr_frames = 1 + fz_u16(in) % (backed ? FZ_MAX_BACKED_FRAMES : FM_MAX_FRAMES);

	if (slots == NULL) {
		slots = storage(ms_metadata_bytes(FM_MAX_FRAMES + 1));
		backing = storage((size_t)FZ_MAX_BACKED_FRAMES * META_SLOT_PAGE_SIZE);
		fz.trace = getenv("FUZZ_TRACE") != NULL;
	}
	fz.slots = slots;
	fz.backing = backed ? backing : NULL;
	fz.cpu = 0;
	fz.irq_depth = 0;
	fz.nr_handles = 0;
	fz.nr_freed = 0;
	fz.nr_last_ref_calls = 0;
	fz.nr_alloc_events = 0;
	fz.nr_free_events = 0;
	ms_hosted_set_cpu(0);
	if (backed) {
		memset(backing, 0x5a, (size_t)nr_frames * META_SLOT_PAGE_SIZE);
		ms_hosted_set_backing(backing, base_pfn, nr_frames);
	} else {
		ms_hosted_set_backing(NULL, 0, 0);
	}
	fz.platform = *ms_hosted_platform();
	fz.platform.panic = fuzz_panic;
	if (config & 0x20)
		fz.platform.cpu_id = NULL;
	if (config & 0x80)
		fz.platform.phys_to_virt = NULL;
	if (config & 0x40) {
		fz.platform.irq_save = fuzz_irq_save;
		fz.platform.irq_restore = fuzz_irq_restore;
	}
	fz_trace("setup base 0x%llx frames %llu config 0x%x", (unsigned long long)base_pfn,
		 (unsigned long long)nr_frames, config);
	fz_expect("ms_init",
		  ms_init(&fz.inst, &fz.platform, slots, base_pfn, nr_frames, "Fuzz", FZ_NUMA_NODE),
		  FM_BIT(MS_OK));
	fm_init(&fz.model, base_pfn, nr_frames);
	fz_expect("ms_init(empty)",
		  ms_init(&fz.empty, &fz.platform, slots + nr_frames, 0, 1, "Empty", 0),
		  FM_BIT(MS_OK));
	setup_ranges(in);
	if (config & 0x10)
		ms_set_cache_enabled(&fz.inst, false);
	fz_check_counts();
	fz_check_consistent();
	fz_check_coalesced();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_input in = {.bytes = data, .nr_bytes = size, .pos = 0};
	unsigned nr_ops = 0;

	setup(&in);
	while (fz_more(&in)) {
		fz_run_op(&in);
		fz_check_counts();
		fz_check_idle();
		if (++nr_ops % FZ_CHECK_PERIOD == 0)
			fz_check_consistent();
	}
	fz_check_consistent();
	fz_final_sweep();
	return 0;
}
