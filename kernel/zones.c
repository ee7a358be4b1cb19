/* Zone set-up over bootmem and the Normal -> DMA fallback. */
#include "zones.h"

#include "bootmem.h"
#include "kprintf.h"
#include "meta_slot.h"
#include "panic.h"
#include "platform.h"

static struct ms_instance instances[NR_ZONES];
static bool present[NR_ZONES];
static uint64_t max_pfn_all;
static uint64_t frames_managed;
static uint64_t metadata_phys;
static uint64_t metadata_bytes;
static const char *const names[NR_ZONES] = {"DMA", "Normal"};

static void add_free_span(uint64_t start_pfn, uint64_t end_pfn, void *ctx)
{
	(void)ctx;
	for (int z = 0; z < NR_ZONES; z++) {
		struct ms_instance *inst = &instances[z];
		uint64_t lo = start_pfn > inst->base_pfn ? start_pfn : inst->base_pfn;
		uint64_t span_end = inst->base_pfn + inst->nr_frames;
		uint64_t hi = end_pfn < span_end ? end_pfn : span_end;

		if (!present[z] || lo >= hi)
			continue;
		int err = ms_add_range(inst, lo, hi - lo);
		if (err != MS_OK)
			panic("zones: add_range %s [%lu, %lu): %s", names[z], lo, hi,
			      ms_strerror(err));
		frames_managed += hi - lo;
	}
}

static void zone_setup(enum zone_id z, struct meta_slot *slots, uint64_t base_pfn, uint64_t end_pfn)
{
	if (end_pfn <= base_pfn)
		return;
	int err = ms_init(&instances[z], &kernel_platform, slots + base_pfn, base_pfn,
			  end_pfn - base_pfn, names[z], 0);
	if (err != MS_OK)
		panic("zones: ms_init %s: %s", names[z], ms_strerror(err));
	ms_set_cache_enabled(&instances[z], true);
	present[z] = true;
}

uint64_t zones_init(uint64_t max_pfn)
{
	uint64_t dma_end = max_pfn < ZONE_DMA_END_PFN ? max_pfn : ZONE_DMA_END_PFN;
	uint64_t meta_bytes = ms_metadata_bytes(max_pfn);
	uint64_t align = ms_metadata_align();

	/* Slicing one array between the zones needs exactly one slot per frame. */
	KASSERT(meta_bytes == max_pfn * sizeof(struct meta_slot));
	KASSERT(ZONE_DMA_END_PFN * sizeof(struct meta_slot) % align == 0);
	uint64_t frame_align = align > FRAME_BYTES ? align : FRAME_BYTES;
	/* Above the DMA zone when RAM allows, so DMA frames stay for DMA;
	 * otherwise right after the kernel image. */
	uint64_t phys = bootmem_alloc_above(
	    meta_bytes, frame_align, (uint64_t)ZONE_DMA_END_PFN << FRAME_SHIFT, "metadata array");
	if (!phys)
		phys = bootmem_alloc(meta_bytes, frame_align, "metadata array");
	struct meta_slot *slots = (struct meta_slot *)(uintptr_t)phys;

	max_pfn_all = max_pfn;
	metadata_phys = phys;
	metadata_bytes = meta_bytes;
	zone_setup(ZONE_DMA, slots, 0, dma_end);
	zone_setup(ZONE_NORMAL, slots, ZONE_DMA_END_PFN, max_pfn);
	bootmem_for_each_free(add_free_span, NULL);
	return meta_bytes;
}

struct ms_instance *zone_instance(enum zone_id zone)
{
	return present[zone] ? &instances[zone] : NULL;
}

const char *zone_name(enum zone_id zone)
{
	return names[zone];
}

struct ms_instance *zone_of_pfn(uint64_t pfn)
{
	for (int z = 0; z < NR_ZONES; z++) {
		const struct ms_instance *inst = &instances[z];

		if (present[z] && pfn >= inst->base_pfn && pfn - inst->base_pfn < inst->nr_frames)
			return &instances[z];
	}
	return NULL;
}

uint64_t zones_max_pfn(void)
{
	return max_pfn_all;
}

void zones_metadata(uint64_t *phys, uint64_t *nr_bytes)
{
	*phys = metadata_phys;
	*nr_bytes = metadata_bytes;
}

uint64_t zones_frames_managed(void)
{
	return frames_managed;
}

int zones_alloc(enum zone_id preferred, const struct ms_alloc_opts *opts, struct ms_handle *out,
		enum zone_id *served)
{
	struct ms_zonelist list = {0, {NULL}};
	struct ms_instance *from = NULL;

	for (int z = preferred; z >= 0; z--) {
		if (present[z])
			list.instances[list.nr_instances++] = &instances[z];
	}
	if (list.nr_instances == 0)
		return MS_ENOMEM;
	int err = ms_alloc_zones(&list, opts, out, &from);
	if (err == MS_OK && served)
		*served = from == &instances[ZONE_DMA] ? ZONE_DMA : ZONE_NORMAL;
	return err;
}

int zones_free(uint64_t pfn, unsigned order)
{
	struct ms_instance *inst = zone_of_pfn(pfn);

	return inst ? ms_free(inst, pfn, order) : MS_ERANGE;
}

void zones_print_buddyinfo(void)
{
	char buf[512];

	for (int z = 0; z < NR_ZONES; z++) {
		if (!present[z])
			continue;
		int len = ms_dump(&instances[z], buf, sizeof(buf));
		if (len < 0)
			kprintf("buddyinfo: %s: %s\n", names[z], ms_strerror(len));
		else
			kputs(buf);
	}
}

uint64_t zones_nr_free(void)
{
	uint64_t total = 0;

	for (int z = 0; z < NR_ZONES; z++) {
		if (present[z]) {
			struct ms_stats st;

			ms_stats(&instances[z], &st);
			total += st.nr_free;
		}
	}
	return total;
}
