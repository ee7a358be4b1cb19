/* Bounded text output: always NUL-terminated, overflow remembered. */
#include "fmt.h"

void ms_text_init(struct ms_text *text, char *buf, size_t cap_bytes)
{
	text->buf = buf;
	text->cap_bytes = cap_bytes;
	text->len = 0;
	text->overflow = buf == NULL || cap_bytes == 0;
	if (!text->overflow)
		buf[0] = '\0';
}

static void put_char(struct ms_text *text, char c)
{
	if (text->buf == NULL || text->len + 1 >= text->cap_bytes) {
		text->overflow = true;
		return;
	}
	text->buf[text->len++] = c;
	text->buf[text->len] = '\0';
}

void ms_text_str(struct ms_text *text, const char *str)
{
	while (*str != '\0')
		put_char(text, *str++);
}

void ms_text_padded(struct ms_text *text, const char *str, unsigned width)
{
	unsigned str_len = 0;

	while (str[str_len] != '\0')
		str_len++;
	for (; str_len < width; width--)
		put_char(text, ' ');
	ms_text_str(text, str);
}

uint64_t ms_div_u64(uint64_t n, uint64_t d, uint64_t *remainder)
{
	uint64_t quotient = 0, rest = 0;

	for (int bit = 63; bit >= 0; bit--) {
		rest = rest << 1 | (n >> bit & 1);
		if (rest >= d) {
			rest -= d;
			quotient |= UINT64_C(1) << bit;
		}
	}
	if (remainder != NULL)
		*remainder = rest;
	return quotient;
}

void ms_text_u64(struct ms_text *text, uint64_t value, unsigned width)
{
	char digits[24];
	unsigned nr_digits = 0;

	do {
		uint64_t digit;

		value = ms_div_u64(value, 10, &digit);
		digits[sizeof(digits) - 2 - nr_digits++] = (char)('0' + digit);
	} while (value != 0);
	digits[sizeof(digits) - 1] = '\0';
	ms_text_padded(text, &digits[sizeof(digits) - 1 - nr_digits], width);
}

void ms_text_hex(struct ms_text *text, uint64_t value)
{
	static const char hex[] = "0123456789abcdef";
	char digits[20];
	unsigned nr_digits = 0;

	do {
		digits[sizeof(digits) - 2 - nr_digits++] = hex[value & 0xf];
		value >>= 4;
	} while (value != 0);
	digits[sizeof(digits) - 1] = '\0';
	ms_text_str(text, "0x");
	ms_text_str(text, &digits[sizeof(digits) - 1 - nr_digits]);
}
