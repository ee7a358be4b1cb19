/*
 * kmain: the boot sequence.  Each step prints over serial; the last line
 * is "selftest: N passed, M failed" and the exit status says M == 0.
 */
#include <stdint.h>

#include "bootmem.h"
#include "kprintf.h"
#include "layout_check.h"
#include "mem_report.h"
#include "meta_slot.h"
#include "multiboot.h"
#include "panic.h"
#include "paging.h"
#include "serial.h"
#include "trap.h"

void kmain(uint32_t magic, uint64_t mbi_phys);

void kmain(uint32_t magic, uint64_t mbi_phys)
{
	char buf[16];

	serial_init();
	gdt_init();
	idt_init();
	kprintf("metaslot: x86_64 kernel booting\n");
	multiboot_parse(magic, mbi_phys);
	kprintf("metaslot: command line \"%s\"\n", boot_cmdline());
	if (boot_cmdline_value("crash", buf, sizeof(buf)))
		trap_provoke(buf);

	unsigned layout_failures = layout_check();
	if (layout_failures) {
		kprintf("layout: the compiled struct meta_slot differs from the schema; "
			"not starting the allocator\n");
		kprintf("selftest: 0 passed, 1 failed\n");
		qemu_exit(QEMU_EXIT_FAILURE);
	}

	mem_report_map();
	bootmem_init(boot_memmap());
	const struct bootmem_stats *st = bootmem_stats();
	uint64_t nr_tables = paging_map_ram(st->max_phys);
	kprintf("paging: RAM mapped up to 0x%lx with 2 MiB pages (%lu new page tables)\n",
		st->max_phys, nr_tables);

	uint64_t meta_bytes = st->max_usable_pfn * sizeof(struct meta_slot);
	uint64_t meta_phys = bootmem_alloc(meta_bytes, FRAME_BYTES, "metadata array");
	(void)meta_phys;
	bootmem_print_reserved();
	mem_report_totals(meta_bytes, 0);
	kprintf("selftest: 1 passed, 0 failed\n");
	qemu_exit(QEMU_EXIT_SUCCESS);
}
