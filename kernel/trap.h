/* CPU descriptor tables and exception reporting. */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

/* The stack built by isr.S: registers, then vector and error code, then
 * what the CPU pushed. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Loads the GDT with a TSS whose IST1 stack serves the double fault. */
void gdt_init(void);
/* Installs handlers for vectors 0-31 (any exception prints and exits QEMU
 * with QEMU_EXIT_PANIC) and 32-47 (PIC lines: acknowledged, nothing else). */
void idt_init(void);
_Noreturn void trap_dispatch(struct trap_frame *frame);

/* Deliberate failures for the harness (kernel command line "crash=KIND"):
 * pf, gp, df, ud, triple (empty IDT), hang (spins forever), panic. */
_Noreturn void trap_provoke(const char *kind);

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS 0x18
#define IST_DOUBLE_FAULT 1

#endif
