/*
 * Boot-time physical memory bookkeeping.  Usable ranges are trimmed to
 * whole frames and kept sorted; reservations (first MiB, kernel image,
 * page tables, metadata array) are kept sorted by start.  The free spans
 * are the usable ranges minus the reservations.  Example at -m 64M: usable
 * [0, 0x9fc00) and [1 MiB, 0x3fe0000); reserved [0, 1 MiB), the kernel
 * [1 MiB, 0x11e000) and the metadata [16 MiB, 17 MiB); free spans are
 * [0x11e000, 16 MiB) and [17 MiB, 0x3fe0000).
 *
 * bootmem_alloc is first fit over candidate start points: the kernel end
 * (or a caller's minimum), then each usable range start, each candidate
 * moved past any reservation it collides with.
 */
#include "bootmem.h"

#include "kprintf.h"
#include "panic.h"

#define MAX_RANGES MEMMAP_MAX_ENTRIES
#define MAX_RESERVED 32
#define FOUR_GIB (1ull << 32)

struct range {
	uint64_t start;
	uint64_t end;
	const char *what;
};

extern char kernel_image_start[];
extern char kernel_image_end[];

static struct range usable[MAX_RANGES];
static unsigned nr_usable;
static struct range reserved[MAX_RESERVED];
static unsigned nr_reserved;
static struct bootmem_stats stats;

static uint64_t align_up(uint64_t v, uint64_t align)
{
	return (v + align - 1) & ~(align - 1);
}

static void add_usable(uint64_t start, uint64_t end)
{
	start = align_up(start, FRAME_BYTES);
	end &= ~(FRAME_BYTES - 1);
	if (start >= end)
		return;
	if (nr_usable == MAX_RANGES)
		panic("bootmem: too many usable ranges");
	/* Insertion sort by start. */
	unsigned i = nr_usable++;
	while (i > 0 && usable[i - 1].start > start) {
		usable[i] = usable[i - 1];
		i--;
	}
	usable[i] = (struct range){start, end, "usable"};
}

/* A reservation that continues one of the same kind (page tables taken one
 * frame after another) extends it, so that the count does not grow with RAM. */
static void reserve(uint64_t start, uint64_t end, const char *what)
{
	for (unsigned i = 0; i < nr_reserved; i++) {
		if (reserved[i].what == what && reserved[i].end == start) {
			reserved[i].end = end;
			return;
		}
		if (reserved[i].what == what && reserved[i].start == end) {
			reserved[i].start = start;
			return;
		}
	}
	if (nr_reserved == MAX_RESERVED)
		panic("bootmem: too many reservations");
	unsigned i = nr_reserved++;
	while (i > 0 && reserved[i - 1].start > start) {
		reserved[i] = reserved[i - 1];
		i--;
	}
	reserved[i] = (struct range){start, end, what};
}

void bootmem_init(const struct memmap *map)
{
	for (unsigned i = 0; i < map->nr_entries; i++) {
		const struct memmap_entry *e = &map->entries[i];

		if (e->type == MEMMAP_TYPE_USABLE)
			add_usable(e->base, e->base + e->length_bytes);
	}
	if (nr_usable == 0 || usable[nr_usable - 1].end <= LOW_RESERVED_BYTES)
		panic("bootmem: no usable RAM above 1 MiB");
	for (unsigned i = 0; i < nr_usable; i++) {
		KASSERT(i == 0 || usable[i].start >= usable[i - 1].end);
		stats.usable_frames += (usable[i].end - usable[i].start) >> FRAME_SHIFT;
	}
	stats.max_phys = usable[nr_usable - 1].end;
	stats.max_usable_pfn = stats.max_phys >> FRAME_SHIFT;
	stats.reserved_frames = stats.max_usable_pfn - stats.usable_frames;

	reserve(0, LOW_RESERVED_BYTES, "first MiB");
	reserve((uintptr_t)kernel_image_start, align_up((uintptr_t)kernel_image_end, FRAME_BYTES),
		"kernel image");
}

const struct bootmem_stats *bootmem_stats(void)
{
	return &stats;
}

/* The reservation overlapping [start, end), or NULL. */
static const struct range *find_reserved(uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < nr_reserved; i++) {
		if (reserved[i].start < end && start < reserved[i].end)
			return &reserved[i];
	}
	return NULL;
}

static bool try_place(uint64_t candidate, uint64_t bytes, uint64_t align, uint64_t *out)
{
	for (unsigned i = 0; i < nr_usable; i++) {
		if (candidate >= usable[i].end)
			continue;
		uint64_t start =
		    align_up(candidate > usable[i].start ? candidate : usable[i].start, align);
		for (;;) {
			uint64_t end = start + bytes;
			if (end > usable[i].end || end > FOUR_GIB)
				break;
			const struct range *hit = find_reserved(start, end);
			if (!hit) {
				*out = start;
				return true;
			}
			start = align_up(hit->end, align);
		}
		return false;
	}
	return false;
}

static uint64_t alloc_from(uint64_t bytes, uint64_t align_bytes, uint64_t min_phys,
			   const char *what)
{
	uint64_t phys;

	KASSERT(align_bytes >= FRAME_BYTES && (align_bytes & (align_bytes - 1)) == 0);
	bytes = align_up(bytes, FRAME_BYTES);
	bool found = try_place(min_phys, bytes, align_bytes, &phys);
	for (unsigned i = 0; !found && i < nr_usable; i++) {
		if (usable[i].end > min_phys)
			found = try_place(usable[i].start > min_phys ? usable[i].start : min_phys,
					  bytes, align_bytes, &phys);
	}
	if (!found)
		return 0;
	reserve(phys, phys + bytes, what);
	return phys;
}

uint64_t bootmem_alloc(uint64_t bytes, uint64_t align_bytes, const char *what)
{
	uint64_t phys = alloc_from(bytes, align_bytes, (uintptr_t)kernel_image_end, what);

	if (!phys)
		phys = alloc_from(bytes, align_bytes, LOW_RESERVED_BYTES, what);
	if (!phys)
		panic("bootmem: no room for %s (%lu bytes)", what, bytes);
	return phys;
}

uint64_t bootmem_alloc_above(uint64_t bytes, uint64_t align_bytes, uint64_t min_phys,
			     const char *what)
{
	return alloc_from(bytes, align_bytes, min_phys, what);
}

void bootmem_for_each_free(void (*fn)(uint64_t start_pfn, uint64_t end_pfn, void *ctx), void *ctx)
{
	for (unsigned i = 0; i < nr_usable; i++) {
		uint64_t start = usable[i].start;
		uint64_t end = usable[i].end;

		/* Reservations are sorted by start: walk them, emitting gaps. */
		for (unsigned r = 0; r < nr_reserved && start < end; r++) {
			uint64_t rs = reserved[r].start & ~(FRAME_BYTES - 1);
			uint64_t re = align_up(reserved[r].end, FRAME_BYTES);

			if (re <= start || rs >= end)
				continue;
			if (rs > start)
				fn(start >> FRAME_SHIFT, rs >> FRAME_SHIFT, ctx);
			start = re;
		}
		if (start < end)
			fn(start >> FRAME_SHIFT, end >> FRAME_SHIFT, ctx);
	}
}

void bootmem_print_reserved(void)
{
	for (unsigned i = 0; i < nr_reserved; i++)
		kprintf("bootmem: reserved [0x%016lx-0x%016lx) %s\n", reserved[i].start,
			reserved[i].end, reserved[i].what);
}
