/* Memory map and totals, one "mem:" line each, for humans and the tests. */
#include "mem_report.h"

#include "bootmem.h"
#include "kprintf.h"
#include "multiboot.h"

static const char *type_name(uint32_t type)
{
	switch (type) {
	case 1:
		return "usable";
	case 2:
		return "reserved";
	case 3:
		return "ACPI reclaimable";
	case 4:
		return "ACPI NVS";
	case 5:
		return "bad";
	default:
		return "reserved (other)";
	}
}

void mem_report_map(void)
{
	const struct memmap *map = boot_memmap();

	for (unsigned i = 0; i < map->nr_entries; i++) {
		const struct memmap_entry *e = &map->entries[i];

		kprintf("mem: [0x%016lx-0x%016lx] %s\n", e->base, e->base + e->length_bytes - 1,
			type_name(e->type));
	}
}

/* value * 100 / whole as "I.FF" */
static void print_percent(uint64_t value, uint64_t whole)
{
	uint64_t hundredths = whole ? value * 10000 / whole : 0;

	kprintf("%lu.%02lu%%", hundredths / 100, hundredths % 100);
}

void mem_report_totals(uint64_t meta_bytes, uint64_t frames_managed)
{
	const struct bootmem_stats *st = bootmem_stats();

	kprintf("mem: frames total %lu (pfn 0..%lu), usable %lu (%lu MiB), reserved %lu\n",
		st->max_usable_pfn, st->max_usable_pfn - 1, st->usable_frames,
		st->usable_frames >> (20 - FRAME_SHIFT), st->reserved_frames);
	kprintf("mem: metadata %lu bytes (%lu slots of %lu bytes) = ", meta_bytes,
		st->max_usable_pfn, meta_bytes / (st->max_usable_pfn ? st->max_usable_pfn : 1));
	print_percent(meta_bytes, st->usable_frames * FRAME_BYTES);
	kprintf(" of usable RAM\n");
	kprintf("mem: frames managed by the allocator %lu\n", frames_managed);
}
