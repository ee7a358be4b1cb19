/* 16550 UART on COM1 (0x3f8), polled: 115200 8N1, no interrupts. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);
/* Blocks until a byte arrives.  After serial_enable_rx_irq the CPU halts
 * while it waits instead of spinning. */
char serial_getc(void);
/* Routes "data received" to the PIC's COM1 line (pic_init must have run). */
void serial_enable_rx_irq(void);
bool serial_can_read(void);

#endif
