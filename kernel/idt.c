/* IDT: the 32 CPU exceptions, each fatal and reported, then the PIC lines. */
#include "trap.h"

#include "io.h"
#include "kprintf.h"
#include "panic.h"
#include "pic.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};

_Static_assert(sizeof(struct idt_entry) == 16, "long-mode gate is 16 bytes");

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define NR_EXCEPTIONS 32
#define NR_VECTORS (PIC_VECTOR_BASE + PIC_NR_LINES)
#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate */

extern const uint64_t isr_stub_table[NR_EXCEPTIONS];
extern const uint64_t irq_stub_table[PIC_NR_LINES];
static struct idt_entry idt[NR_VECTORS];

_Static_assert(PIC_VECTOR_BASE == NR_EXCEPTIONS, "PIC vectors follow the exceptions");

static const char *const exception_names[NR_EXCEPTIONS] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved 15",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD error",
    "#VE virtualization",
    "#CP control protection",
    "reserved 22",
    "reserved 23",
    "reserved 24",
    "reserved 25",
    "reserved 26",
    "reserved 27",
    "reserved 28",
    "reserved 29",
    "#SX security",
    "reserved 31",
};

void idt_init(void)
{
	for (unsigned vec = 0; vec < NR_VECTORS; vec++) {
		uint64_t handler =
		    vec < NR_EXCEPTIONS ? isr_stub_table[vec] : irq_stub_table[vec - NR_EXCEPTIONS];
		struct idt_entry *e = &idt[vec];

		e->offset_low = handler & 0xffff;
		e->selector = GDT_KERNEL_CODE;
		e->ist = vec == 8 ? IST_DOUBLE_FAULT : 0;
		e->type_attr = GATE_INTERRUPT;
		e->offset_mid = (handler >> 16) & 0xffff;
		e->offset_high = (uint32_t)(handler >> 32);
		e->reserved = 0;
	}
	struct idt_ptr ptr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(ptr) : "memory");
}

_Noreturn void trap_dispatch(struct trap_frame *f)
{
	const char *name = f->vector < NR_EXCEPTIONS ? exception_names[f->vector] : "?";

	kprintf("\nEXCEPTION: vector %lu (%s), error code 0x%lx\n", f->vector, name, f->error_code);
	kprintf("  rip=%016lx cs=%04lx rflags=%016lx rsp=%016lx\n", f->rip, f->cs, f->rflags,
		f->rsp);
	if (f->vector == 14)
		kprintf("  cr2=%016lx (%s, %s)\n", read_cr2(),
			(f->error_code & 1) ? "protection" : "not present",
			(f->error_code & 2) ? "write" : "read");
	kprintf("  rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", f->rax, f->rbx, f->rcx, f->rdx);
	kprintf("  rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", f->rsi, f->rdi, f->rbp, f->r8);
	panic("unhandled CPU exception %lu", f->vector);
}
