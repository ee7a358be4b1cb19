/* A bounded text buffer for dumps and check messages (no libc). */
#ifndef MS_FMT_H
#define MS_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ms_text {
	char *buf;
	size_t cap_bytes; /* including the NUL */
	size_t len;
	bool overflow;
};

void ms_text_init(struct ms_text *text, char *buf, size_t cap_bytes);
void ms_text_str(struct ms_text *text, const char *str);
/* Decimal, right-aligned in width characters (0 = no padding). */
void ms_text_u64(struct ms_text *text, uint64_t value, unsigned width);
void ms_text_hex(struct ms_text *text, uint64_t value);
/* n / d, d nonzero and below 2^63, and the remainder if asked, by shift and
 * subtract: a 64-bit division with a variable divisor (or a constant one,
 * under clang) compiles to a call of libgcc's __udivdi3 on i386, which a
 * kernel need not link.  For text and statistics, not for hot paths. */
uint64_t ms_div_u64(uint64_t n, uint64_t d, uint64_t *remainder);
/* Right-aligns str in width characters. */
void ms_text_padded(struct ms_text *text, const char *str, unsigned width);

#endif /* MS_FMT_H */
