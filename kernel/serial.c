/* COM1 16550 driver: polled output, polled or interrupt-woken input;
 * "\n" is sent as "\r\n". */
#include "serial.h"

#include <stdbool.h>

#include "io.h"
#include "pic.h"

#define COM1 0x3f8
#define UART_DATA 0 /* THR/RBR; divisor low when DLAB set */
#define UART_IER 1  /* interrupt enable; divisor high when DLAB set */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT2 0x08
#define IER_RX_AVAILABLE 0x01

static bool rx_irq_enabled;

void serial_init(void)
{
	outb(COM1 + UART_IER, 0x00);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	/* FCR is left alone: enabling the FIFOs clears them, which would drop
	 * input that arrived before boot (e.g. a script piped into the shell).
	 * Polled I/O needs no FIFO. */
	outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS);
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

static bool serial_can_read(void)
{
	return (inb(COM1 + UART_LSR) & LSR_DATA_READY) != 0;
}

void serial_enable_rx_irq(void)
{
	outb(COM1 + UART_MCR, MCR_DTR | MCR_RTS | MCR_OUT2); /* OUT2 gates the IRQ */
	outb(COM1 + UART_IER, IER_RX_AVAILABLE);
	pic_unmask(PIC_LINE_COM1);
	rx_irq_enabled = true;
}

char serial_getc(void)
{
	for (;;) {
		__asm__ volatile("cli");
		if (serial_can_read())
			break;
		if (rx_irq_enabled)
			/* sti takes effect after the next instruction, so an
			 * interrupt arriving now still wakes the hlt. */
			__asm__ volatile("sti\n\thlt" : : : "memory");
		else
			cpu_relax();
	}
	return (char)inb(COM1 + UART_DATA);
}
