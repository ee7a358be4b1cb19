/* COM1 16550 driver: polled output and input, "\n" sent as "\r\n". */
#include "serial.h"

#include "io.h"

#define COM1 0x3f8
#define UART_DATA 0		/* THR/RBR; divisor low when DLAB set */
#define UART_IER 1		/* interrupt enable; divisor high when DLAB set */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1);	/* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7);	/* enable and clear FIFOs */
	outb(COM1 + UART_MCR, 0x03);	/* DTR, RTS */
}

static void serial_put_raw(char c)
{
	while (!(inb(COM1 + UART_LSR) & LSR_THR_EMPTY))
		cpu_relax();
	outb(COM1 + UART_DATA, (uint8_t)c);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_put_raw('\r');
	serial_put_raw(c);
}

bool serial_can_read(void)
{
	return (inb(COM1 + UART_LSR) & LSR_DATA_READY) != 0;
}

char serial_getc(void)
{
	while (!serial_can_read())
		cpu_relax();
	return (char)inb(COM1 + UART_DATA);
}
