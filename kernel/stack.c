/* Stack high-water mark over the zero-initialised boot stack. */
#include "stack.h"

extern const uint64_t boot_stack[];
extern const uint64_t boot_stack_top[];

uint64_t stack_size_bytes(void)
{
	return (uint64_t)((uintptr_t)boot_stack_top - (uintptr_t)boot_stack);
}

uint64_t stack_used_bytes(void)
{
	const volatile uint64_t *word = boot_stack;

	while (word < boot_stack_top && *word == 0)
		word++;
	return (uint64_t)((uintptr_t)boot_stack_top - (uintptr_t)word);
}
