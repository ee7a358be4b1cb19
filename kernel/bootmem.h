/*
 * Physical memory at boot: the usable ranges of the memory map, the ranges
 * taken before the buddy allocator exists (first MiB, kernel image, page
 * tables, metadata array), and a bump allocator for those boot structures.
 * All addresses are physical byte addresses; ranges are [start, end).
 */
#ifndef KERNEL_BOOTMEM_H
#define KERNEL_BOOTMEM_H

#include <stdint.h>

#include "multiboot.h"

#define FRAME_BYTES 4096ull
#define FRAME_SHIFT 12
#define LOW_RESERVED_BYTES (1ull << 20) /* the first MiB is never handed out */

struct bootmem_stats {
	uint64_t max_usable_pfn;  /* exclusive: one past the highest usable frame */
	uint64_t usable_frames;	  /* whole frames inside usable ranges */
	uint64_t reserved_frames; /* frames below max_usable_pfn that are not usable */
	uint64_t max_phys;	  /* end of the highest usable range */
};

/* Takes the usable ranges from the map and reserves the first MiB and the
 * kernel image.  Panics if no usable RAM lies above the first MiB. */
void bootmem_init(const struct memmap *map);
const struct bootmem_stats *bootmem_stats(void);

/* Allocates bytes (rounded up to whole frames) aligned to align_bytes (a
 * power of two, at least 4096) from usable RAM below 4 GiB, preferring the
 * space right after the kernel image.  The memory is not zeroed (ms_init
 * writes every metadata slot; page tables are cleared by paging.c) and
 * stays reserved forever.  Panics when nothing fits. */
uint64_t bootmem_alloc(uint64_t bytes, uint64_t align_bytes, const char *what);

/* As bootmem_alloc, but at or above min_phys; returns 0 (and reserves
 * nothing) when nothing fits there. */
uint64_t bootmem_alloc_above(uint64_t bytes, uint64_t align_bytes, uint64_t min_phys,
			     const char *what);

/* Calls fn(start_pfn, end_pfn, ctx) for every usable frame span that no
 * reservation covers, in address order. */
void bootmem_for_each_free(void (*fn)(uint64_t start_pfn, uint64_t end_pfn, void *ctx), void *ctx);

/* Prints the reservations ("bootmem: reserved ...") */
void bootmem_print_reserved(void);

#endif
