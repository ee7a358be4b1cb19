/* Decoded printing of one frame's metadata slot (shell "meta"). */
#ifndef KERNEL_SHELL_META_H
#define KERNEL_SHELL_META_H

#include <stdint.h>

/* Prints every member of pfn's slot; the caller has checked the range. */
void shell_print_meta(uint64_t pfn);

#endif
