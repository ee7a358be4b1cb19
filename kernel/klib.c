/*
 * memset/memcpy/memmove/memcmp/strlen/strcmp.  gcc emits calls to memset
 * and memcpy even under -ffreestanding, so these must exist.  The bulk
 * copies use "rep movsb/stosb" (fast on modern CPUs and under QEMU TCG) and
 * cannot be turned back into calls to themselves by the optimiser.
 */
#include "klib.h"

#include <stdint.h>

void *memset(void *dst, int c, size_t len_bytes)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(len_bytes) : "a"(c) : "memory");
	return dst;
}

void *memcpy(void *restrict dst, const void *restrict src, size_t len_bytes)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(len_bytes) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t len_bytes)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + len_bytes)
		return memcpy(dst, src, len_bytes);
	/* Overlapping with dst above src: copy backwards. */
	d += len_bytes - 1;
	s += len_bytes - 1;
	__asm__ volatile("std\n\trep movsb\n\tcld"
			 : "+D"(d), "+S"(s), "+c"(len_bytes)
			 :
			 : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t len_bytes)
{
	const unsigned char *x = a;
	const unsigned char *y = b;

	for (size_t i = 0; i < len_bytes; i++) {
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	}
	return 0;
}

size_t strlen(const char *s)
{
	size_t len = 0;

	while (s[len])
		len++;
	return len;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}
