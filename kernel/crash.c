/*
 * Deliberate failures for the test harness, chosen on the kernel command
 * line ("crash=<kind>"): each must end in a report and a failure status
 * (or, for "triple" and "hang", in the host-side crash and timeout paths).
 */
#include "trap.h"

#include "io.h"
#include "klib.h"
#include "kprintf.h"
#include "panic.h"

/* Addresses nothing maps: PML4 slot 128 is never present, and bit 63 set
 * without bits 47-62 is non-canonical. */
#define UNMAPPED_ADDR 0x0000400000000000ull
#define NONCANONICAL_ADDR 0x8000000000000000ull

_Noreturn void trap_provoke(const char *kind)
{
	kprintf("crash: provoking %s\n", kind);
	if (strcmp(kind, "pf") == 0) {
		(void)*(volatile uint64_t *)(uintptr_t)UNMAPPED_ADDR;
	} else if (strcmp(kind, "gp") == 0) {
		(void)*(volatile uint64_t *)(uintptr_t)NONCANONICAL_ADDR;
	} else if (strcmp(kind, "df") == 0) {
		/* A page fault whose frame cannot be pushed becomes a double
		 * fault, which runs on its own IST stack. */
		__asm__ volatile("mov %0, %%rsp\n\tpushq $0" : : "r"(UNMAPPED_ADDR) : "memory");
	} else if (strcmp(kind, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(kind, "triple") == 0) {
		/* With an empty IDT the exception cannot be delivered: the CPU
		 * shuts down, which QEMU under -no-reboot reports as status 0. */
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) empty = {0, 0};
		__asm__ volatile("lidt %0\n\tud2" : : "m"(empty) : "memory");
	} else if (strcmp(kind, "hang") == 0) {
		for (;;)
			cpu_relax();
	} else if (strcmp(kind, "panic") == 0) {
		panic("requested from the command line");
	}
	panic("crash=%s: unknown kind or the fault did not happen", kind);
}
