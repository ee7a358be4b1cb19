/*
 * Ending the machine.  QEMU runs with -device isa-debug-exit,iobase=0xf4:
 * writing v to port 0xf4 ends QEMU with host status (v << 1) | 1.  A
 * triple fault under -no-reboot ends it with status 0, so status 0 means a
 * crash and never success; QEMU itself exits with 1 when it cannot start
 * (no memory, a bad option, no image), so 1 must not mean success either.
 * The kernel writes only these values:
 *
 *   kernel writes                QEMU exit status   host meaning (kernel/qemu-run)
 *   QEMU_EXIT_SUCCESS  (0x10) -> 33                 0: every self-test passed
 *   QEMU_EXIT_FAILURE  (0x11) -> 35                 1: a self-test or check failed
 *   QEMU_EXIT_PANIC    (0x12) -> 37                 2: panic or CPU exception
 *   (triple fault)            -> 0                  3: crash without a report
 *   (QEMU did not start)      -> 1                  125: QEMU's own failure
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

enum qemu_exit_code {
	QEMU_EXIT_SUCCESS = 0x10,
	QEMU_EXIT_FAILURE = 0x11,
	QEMU_EXIT_PANIC = 0x12,
};

_Noreturn void qemu_exit(enum qemu_exit_code code);
/* Prints "PANIC: <reason>" and exits QEMU with QEMU_EXIT_PANIC. */
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define KASSERT(cond)                                                                              \
	do {                                                                                       \
		if (!(cond))                                                                       \
			panic("assertion failed: %s at %s:%d", #cond, __FILE__, __LINE__);         \
	} while (0)

#endif
