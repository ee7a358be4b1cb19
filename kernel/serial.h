/* 16550 UART on COM1 (0x3f8), 115200 8N1: polled output, input polled or
 * woken by the receive interrupt. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

void serial_init(void);
void serial_putc(char c);
/* Blocks until a byte arrives.  After serial_enable_rx_irq the CPU halts
 * while it waits instead of spinning. */
char serial_getc(void);
/* Routes "data received" to the PIC's COM1 line (pic_init must have run). */
void serial_enable_rx_irq(void);

#endif
