/*
 * The long-mode GDT: null, kernel code (0x08), kernel data (0x10) and a
 * 64-bit TSS (0x18).  The TSS only supplies IST1, a separate stack for the
 * double fault, so a fault caused by a broken stack is still reported.
 */
#include "trap.h"

#include "klib.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss) == 104, "64-bit TSS is 104 bytes");

struct gdt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

static struct tss tss;
static uint64_t gdt[5];
static _Alignas(16) uint8_t double_fault_stack[8192];

void gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	memset(&tss, 0, sizeof(tss));
	tss.ist[IST_DOUBLE_FAULT - 1] =
	    (uint64_t)(uintptr_t)(double_fault_stack + sizeof(double_fault_stack));
	tss.iomap_base = sizeof(tss);

	gdt[0] = 0;
	gdt[1] = 0x00209A0000000000ull; /* 64-bit code, present, DPL 0 */
	gdt[2] = 0x0000920000000000ull; /* data, present, writable */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		 (0x89ull << 40) | /* present, available 64-bit TSS */
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	struct gdt_ptr ptr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
	__asm__ volatile("lgdt %0" : : "m"(ptr) : "memory");
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));
}
