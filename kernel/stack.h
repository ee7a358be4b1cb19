/* The boot stack (boot.S) and how much of it has been used. */
#ifndef KERNEL_STACK_H
#define KERNEL_STACK_H

#include <stdint.h>

uint64_t stack_size_bytes(void);
/* High-water mark: bytes below the top that were ever written.  The stack
 * starts zeroed (it lives in .bss), so the deepest non-zero word marks the
 * deepest use; a word that happened to be written as zero can only make
 * the estimate low by a few bytes. */
uint64_t stack_used_bytes(void);

#endif
