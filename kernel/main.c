/*
 * kmain: the boot sequence.  Each step prints over serial:
 *   1. layout check (schema table vs. compiled struct meta_slot)
 *   2. memory map, frame totals, metadata overhead
 *   3. allocator self-tests
 *   4. buddyinfo and "selftest: N passed, M failed"
 * then either the serial shell (command line "shell") or an exit whose
 * QEMU status says whether M == 0 (see panic.h).  "crash=KIND" on the
 * command line provokes a failure instead (trap.h), for the tests.
 */
#include <stdint.h>

#include "bootmem.h"
#include "kprintf.h"
#include "layout_check.h"
#include "mem_report.h"
#include "multiboot.h"
#include "panic.h"
#include "paging.h"
#include "selftest.h"
#include "serial.h"
#include "shell.h"
#include "stack.h"
#include "trap.h"
#include "zones.h"

void kmain(uint32_t magic, uint64_t mbi_phys);

static void setup_memory(void)
{
	mem_report_map();
	bootmem_init(boot_memmap());
	const struct bootmem_stats *st = bootmem_stats();
	uint64_t nr_tables = paging_map_ram(st->max_phys);

	kprintf("paging: RAM mapped up to 0x%lx with 2 MiB pages (%lu new page tables)\n",
		st->max_phys, nr_tables);
	uint64_t meta_bytes = zones_init(st->max_usable_pfn);
	bootmem_print_reserved();
	mem_report_totals(meta_bytes, zones_frames_managed());
}

void kmain(uint32_t magic, uint64_t mbi_phys)
{
	struct selftest_totals totals = {0, 0};
	char buf[16];

	serial_init();
	gdt_init();
	idt_init();
	kprintf("metaslot: x86_64 kernel booting\n");
	multiboot_parse(magic, mbi_phys);
	kprintf("metaslot: command line \"%s\"\n", boot_cmdline());
	if (boot_cmdline_bytes() > 255)
		kprintf("metaslot: the command line is %u bytes; only its last 255 were kept\n",
			boot_cmdline_bytes());
	if (boot_cmdline_value("crash", buf, sizeof(buf)))
		trap_provoke(buf);

	unsigned mismatches = layout_check();
	selftest_record(&totals, "layout", mismatches == 0,
			"struct meta_slot differs from the schema");
	if (mismatches) {
		kprintf("layout: not starting the allocator on a wrong metadata layout\n");
		selftest_print_summary(&totals);
		qemu_exit(QEMU_EXIT_FAILURE);
	}

	setup_memory();
	selftest_run_all(&totals);
	kprintf("stack: %lu of %lu bytes used\n", stack_used_bytes(), stack_size_bytes());
	kprintf("buddyinfo:\n");
	zones_print_buddyinfo();
	selftest_print_summary(&totals);

	if (boot_cmdline_has("shell"))
		shell_run(&totals);
	qemu_exit(totals.failed ? QEMU_EXIT_FAILURE : QEMU_EXIT_SUCCESS);
}
