/* 16550 UART on COM1 (0x3f8), polled: 115200 8N1, no interrupts. */
#ifndef KERNEL_SERIAL_H
#define KERNEL_SERIAL_H

#include <stdbool.h>

void serial_init(void);
void serial_putc(char c);
/* Blocks until a byte arrives. */
char serial_getc(void);
bool serial_can_read(void);

#endif
