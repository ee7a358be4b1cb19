/*
 * Formatted output to the serial console.  Conversions: %d %i %u %x %X %p
 * %s %c %%, flags '-' and '0', a field width, and length modifiers
 * hh h l ll z.  No floating point.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

void kputs(const char *s);
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated); returns the length written. */
size_t ksnprintf(char *buf, size_t buf_bytes, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
