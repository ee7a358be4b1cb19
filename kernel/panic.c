/* Panic path and the isa-debug-exit port; see panic.h for the statuses. */
#include "panic.h"

#include <stdarg.h>

#include "io.h"
#include "kprintf.h"

#define DEBUG_EXIT_PORT 0xf4

_Noreturn void qemu_exit(enum qemu_exit_code code)
{
	outl(DEBUG_EXIT_PORT, (uint32_t)code);
	/* Only reached without the exit device: stop here. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

_Noreturn void panic(const char *fmt, ...)
{
	static int nesting;
	va_list ap;

	if (nesting++ == 0) {
		kputs("\nPANIC: ");
		va_start(ap, fmt);
		kvprintf(fmt, ap);
		va_end(ap);
		kputs("\n");
	}
	qemu_exit(QEMU_EXIT_PANIC);
}
