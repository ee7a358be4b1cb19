/*
 * The legacy 8259 PIC pair, remapped to vectors 32-47 so that its lines do
 * not collide with CPU exceptions.  Interrupts stay disabled except while
 * the CPU halts waiting for input (see serial_getc).
 */
#ifndef KERNEL_PIC_H
#define KERNEL_PIC_H

#define PIC_VECTOR_BASE 32
#define PIC_NR_LINES 16
#define PIC_LINE_COM1 4

/* Remaps both PICs and masks every line. */
void pic_init(void);
/* Lets one line (0-15) interrupt the CPU. */
void pic_unmask(unsigned line);

#endif
