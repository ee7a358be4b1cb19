/* The serial shell (kernel command line "shell"). */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#include "selftest.h"

/* Reads and runs commands until "halt", which exits QEMU: success only if
 * totals (the boot self-tests, plus any "selftest" runs) has no failure. */
_Noreturn void shell_run(struct selftest_totals *totals);

#endif
