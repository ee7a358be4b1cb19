/*
 * Ending the machine.  QEMU runs with -device isa-debug-exit,iobase=0xf4:
 * writing v to port 0xf4 ends QEMU with host status (v << 1) | 1.  A
 * triple fault under -no-reboot ends it with status 0, so status 0 means a
 * crash and never success.  The kernel writes only these values:
 *
 *   kernel writes             QEMU exit status   host meaning (kernel/qemu-run)
 *   QEMU_EXIT_SUCCESS  (0) -> 1                  0: every self-test passed
 *   QEMU_EXIT_FAILURE  (1) -> 3                  1: a self-test or check failed
 *   QEMU_EXIT_PANIC    (2) -> 5                  2: panic or CPU exception
 *   (triple fault)         -> 0                  3: crash without a report
 */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

enum qemu_exit_code {
	QEMU_EXIT_SUCCESS = 0,
	QEMU_EXIT_FAILURE = 1,
	QEMU_EXIT_PANIC = 2,
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
