/*
 * Entry stubs for the legacy PIC's 16 interrupt lines (vectors 32-47).
 * The kernel takes interrupts only to wake from "hlt" while the shell
 * waits for serial input, so a stub does nothing but acknowledge the PIC
 * (the slave too for lines 8-15) and return; the interrupted code then
 * polls the device itself.
 */
	.macro IRQ_STUB line
	.global irq_stub_\line
irq_stub_\line:
	pushq	%rax
	movb	$0x20, %al			/* end of interrupt */
	.if \line >= 8
	outb	%al, $0xa0
	.endif
	outb	%al, $0x20
	popq	%rax
	iretq
	.endm

	.text
	.irp line, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	IRQ_STUB \line
	.endr

	.section .rodata
	.balign 8
	.global irq_stub_table
irq_stub_table:
	.irp line, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	.quad irq_stub_\line
	.endr

	.section .note.GNU-stack, "", @progbits
