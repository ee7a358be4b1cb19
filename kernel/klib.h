/* The few C library routines the kernel and the runtime need. */
#ifndef KERNEL_KLIB_H
#define KERNEL_KLIB_H

#include <stddef.h>

void *memset(void *dst, int c, size_t len_bytes);
void *memcpy(void *restrict dst, const void *restrict src, size_t len_bytes);
void *memmove(void *dst, const void *src, size_t len_bytes);
int memcmp(const void *a, const void *b, size_t len_bytes);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);

#endif
