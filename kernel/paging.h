/* Identity mapping of physical RAM with 2 MiB pages. */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdbool.h>
#include <stdint.h>

/* boot.S maps [0, 4 GiB).  Extends the identity map to cover [0, end_phys)
 * (rounded up to 2 MiB), taking page-table frames from bootmem.  Returns the
 * number of page-table frames it allocated. */
uint64_t paging_map_ram(uint64_t end_phys);
/* True if virt is mapped by the identity map. */
bool paging_is_mapped(uint64_t virt);

#endif
