/*
 * Platform hooks for the runtime: interrupts off around locked sections,
 * one CPU (id 0), an identity map for phys -> virt, the kernel panic and
 * the kernel memset.
 */
#include "platform.h"

#include "klib.h"
#include "panic.h"

static unsigned long kernel_irq_save(void)
{
	unsigned long rflags;

	__asm__ volatile("pushfq\n\tpopq %0\n\tcli" : "=r"(rflags) : : "memory");
	return rflags;
}

static void kernel_irq_restore(unsigned long rflags)
{
	if (rflags & (1ul << 9)) /* IF */
		__asm__ volatile("sti" : : : "memory");
}

static unsigned int kernel_cpu_id(void)
{
	return 0;
}

static void *kernel_phys_to_virt(uint64_t phys_addr)
{
	return (void *)(uintptr_t)phys_addr;
}

static void kernel_runtime_panic(const char *what, uint64_t pfn, uint64_t value)
{
	panic("runtime: %s (pfn %lu, value 0x%lx)", what, pfn, value);
}

const struct ms_platform kernel_platform = {
    .irq_save = kernel_irq_save,
    .irq_restore = kernel_irq_restore,
    .cpu_id = kernel_cpu_id,
    .phys_to_virt = kernel_phys_to_virt,
    .panic = kernel_runtime_panic,
    .memset = memset,
};
