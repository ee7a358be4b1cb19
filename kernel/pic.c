/* 8259 initialisation: ICW1-ICW4 on both chips, then masks. */
#include "pic.h"

#include <stdint.h>

#include "io.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11 /* edge triggered, cascade, ICW4 follows */
#define ICW4_8086 0x01
#define PIC_CASCADE_LINE 2

static uint16_t mask = 0xffff; /* bit per line; set = masked */

static void write_masks(void)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

void pic_init(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1u << PIC_CASCADE_LINE); /* slave on line 2 */
	outb(PIC2_DATA, PIC_CASCADE_LINE);	 /* slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	mask = 0xffff;
	write_masks();
}

void pic_unmask(unsigned line)
{
	mask &= (uint16_t) ~(1u << line);
	if (line >= 8)
		mask &= (uint16_t) ~(1u << PIC_CASCADE_LINE);
	write_masks();
}
