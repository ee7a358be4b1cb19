/* Printing the memory map and the frame totals (boot and shell "mem"). */
#ifndef KERNEL_MEM_REPORT_H
#define KERNEL_MEM_REPORT_H

#include <stdint.h>

void mem_report_map(void);
/* Frames total/usable/reserved, the metadata overhead in bytes and as a
 * percentage of usable RAM, and the frames given to the allocator. */
void mem_report_totals(uint64_t meta_bytes, uint64_t frames_managed);

#endif
