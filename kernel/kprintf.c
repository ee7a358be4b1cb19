/* A small printf over a character sink: serial console or a buffer. */
#include "kprintf.h"

#include <stdbool.h>
#include <stdint.h>

#include "serial.h"

struct sink {
	char *buf; /* NULL: write to the serial port */
	size_t buf_bytes;
	size_t len;
};

static void sink_put(struct sink *out, char c)
{
	if (!out->buf)
		serial_putc(c);
	else if (out->len + 1 < out->buf_bytes)
		out->buf[out->len] = c;
	out->len++;
}

static void sink_pad(struct sink *out, char c, int count)
{
	while (count-- > 0)
		sink_put(out, c);
}

struct spec {
	bool left;
	bool zero;
	int width;
};

static void put_string(struct sink *out, const struct spec *sp, const char *s)
{
	int len = 0;

	while (s[len])
		len++;
	if (!sp->left)
		sink_pad(out, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		sink_put(out, s[i]);
	if (sp->left)
		sink_pad(out, ' ', sp->width - len);
}

static void put_number(struct sink *out, const struct spec *sp, uint64_t value, unsigned base,
		       bool negative, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int len = 0;

	do {
		tmp[len++] = digits[value % base];
		value /= base;
	} while (value);
	int total = len + (negative ? 1 : 0);
	if (!sp->left && !sp->zero)
		sink_pad(out, ' ', sp->width - total);
	if (negative)
		sink_put(out, '-');
	if (!sp->left && sp->zero)
		sink_pad(out, '0', sp->width - total);
	while (len)
		sink_put(out, tmp[--len]);
	if (sp->left)
		sink_pad(out, ' ', sp->width - total);
}

/* Length modifier: number of 'l' (0..2), 'z' counts as long. -1 for hh/h. */
static int parse_length(const char **fmtp)
{
	const char *fmt = *fmtp;
	int longs = 0;

	if (*fmt == 'z') {
		longs = 1;
		fmt++;
	}
	while (*fmt == 'l') {
		longs++;
		fmt++;
	}
	while (*fmt == 'h')
		fmt++;
	*fmtp = fmt;
	return longs;
}

static void format(struct sink *out, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			sink_put(out, *fmt);
			continue;
		}
		struct spec sp = {false, false, 0};
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (*fmt++ - '0');
		int longs = parse_length(&fmt);
		switch (*fmt) {
		case 'd':
		case 'i': {
			int64_t v = longs ? va_arg(ap, long) : va_arg(ap, int);
			uint64_t mag = v < 0 ? -(uint64_t)v : (uint64_t)v;
			put_number(out, &sp, mag, 10, v < 0, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			uint64_t v = longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			put_number(out, &sp, v, *fmt == 'u' ? 10 : 16, false, *fmt == 'X');
			break;
		}
		case 'p':
			sink_put(out, '0');
			sink_put(out, 'x');
			put_number(out, &sp, (uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			put_string(out, &sp, s ? s : "(null)");
			break;
		}
		case 'c':
			sink_put(out, (char)va_arg(ap, int));
			break;
		case '%':
			sink_put(out, '%');
			break;
		case '\0':
			return;
		default:
			sink_put(out, '%');
			sink_put(out, *fmt);
			break;
		}
	}
}

void kvprintf(const char *fmt, va_list ap)
{
	struct sink out = {NULL, 0, 0};

	format(&out, fmt, ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}

void kputs(const char *s)
{
	while (*s)
		serial_putc(*s++);
}

size_t ksnprintf(char *buf, size_t buf_bytes, const char *fmt, ...)
{
	struct sink out = {buf, buf_bytes, 0};
	va_list ap;

	va_start(ap, fmt);
	format(&out, fmt, ap);
	va_end(ap);
	if (buf_bytes)
		buf[out.len < buf_bytes ? out.len : buf_bytes - 1] = '\0';
	return out.len;
}
