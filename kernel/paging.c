/*
 * Four-level x86_64 page tables, identity-mapped.  A virtual address
 * splits into PML4 index (bits 39-47), PDPT index (30-38), PD index
 * (21-29) and a 2 MiB page offset; e.g. 0x140000000 (5 GiB) is PML4 0,
 * PDPT 5, PD 0.  The default QEMU CPU has no 1 GiB pages, so every
 * mapping is a 2 MiB PD entry.  Page-table frames for RAM above 4 GiB come
 * from bootmem, which only hands out memory below 4 GiB (already mapped).
 */
#include "paging.h"

#include "bootmem.h"
#include "io.h"
#include "klib.h"
#include "panic.h"

#define PTE_PRESENT 0x1ull
#define PTE_WRITE 0x2ull
#define PTE_HUGE 0x80ull
#define PTE_ADDR_MASK 0x000ffffffffff000ull
#define ENTRIES 512
#define PAGE_2M (1ull << 21)
#define BOOT_MAPPED_END (1ull << 32)

extern uint64_t boot_pml4[ENTRIES];

static uint64_t *table_at(uint64_t entry)
{
	return (uint64_t *)(uintptr_t)(entry & PTE_ADDR_MASK);
}

/* The next-level table under entry, allocated on first use. */
static uint64_t *walk(uint64_t *entry, uint64_t *nr_tables)
{
	if (!(*entry & PTE_PRESENT)) {
		uint64_t table = bootmem_alloc(FRAME_BYTES, FRAME_BYTES, "page table");

		memset((void *)(uintptr_t)table, 0, FRAME_BYTES);
		*entry = table | PTE_PRESENT | PTE_WRITE;
		(*nr_tables)++;
	}
	KASSERT(!(*entry & PTE_HUGE));
	return table_at(*entry);
}

uint64_t paging_map_ram(uint64_t end_phys)
{
	uint64_t nr_tables = 0;

	for (uint64_t va = BOOT_MAPPED_END; va < end_phys; va += PAGE_2M) {
		uint64_t *pdpt = walk(&boot_pml4[(va >> 39) & 511], &nr_tables);
		uint64_t *pd = walk(&pdpt[(va >> 30) & 511], &nr_tables);

		pd[(va >> 21) & 511] = va | PTE_PRESENT | PTE_WRITE | PTE_HUGE;
	}
	write_cr3(read_cr3());
	KASSERT(end_phys == 0 || paging_is_mapped(end_phys - 1));
	return nr_tables;
}

bool paging_is_mapped(uint64_t va)
{
	uint64_t e = boot_pml4[(va >> 39) & 511];

	if (!(e & PTE_PRESENT))
		return false;
	e = table_at(e)[(va >> 30) & 511];
	if (!(e & PTE_PRESENT))
		return false;
	e = table_at(e)[(va >> 21) & 511];
	return (e & PTE_PRESENT) != 0;
}
