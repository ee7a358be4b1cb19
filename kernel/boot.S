/*
 * Multiboot 1 entry.  QEMU's loader enters here in 32-bit protected mode
 * with paging off, EAX = Multiboot magic and EBX = physical address of the
 * Multiboot information.  We zero .bss, identity-map the first 4 GiB with
 * 2 MiB pages (RAM above 4 GiB is mapped later by paging.c), enable SSE,
 * PAE and long mode, and call kmain(magic, mbi) in 64-bit mode.
 */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, (1 << 0) | (1 << 1)	/* page-align modules, want memory map */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .bss.boot, "aw", @nobits
	.balign 4096
	.global boot_pml4
boot_pml4:	.skip 4096
	.global boot_pdpt
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096 * 4
	.balign 16
	.global boot_stack
boot_stack:	.skip 65536		/* zeroed with .bss: stack_report measures use */
	.global boot_stack_top
boot_stack_top:

	.section .rodata.boot, "a"
	.balign 8
boot_gdt:
	.quad 0				/* null */
	.quad 0x00209A0000000000	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x0000920000000000	/* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .text.boot, "ax"
	.code32
	.global _start
_start:
	cli
	cld
	mov	%eax, %esi			/* keep magic and mbi out of rep's way */
	mov	%ebx, %ebp
	mov	$kernel_bss_start, %edi
	mov	$kernel_bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl
	mov	$boot_stack_top, %esp
	mov	%esi, %edi			/* edi = magic, esi = mbi */
	mov	%ebp, %esi

	/* PML4[0] -> PDPT; PDPT[0..3] -> four PDs; each PD entry a 2 MiB page. */
	mov	$boot_pdpt, %eax
	or	$3, %eax
	mov	%eax, boot_pml4
	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$12, %eax
	add	$boot_pd, %eax
	or	$3, %eax
	mov	%eax, boot_pdpt(, %ecx, 8)
	inc	%ecx
	cmp	$4, %ecx
	jne	1b
	xor	%ecx, %ecx
2:	mov	%ecx, %eax
	shl	$21, %eax
	or	$0x83, %eax			/* present, writable, 2 MiB */
	mov	%eax, boot_pd(, %ecx, 8)
	inc	%ecx
	cmp	$2048, %ecx
	jne	2b

	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$((1 << 5) | (1 << 9) | (1 << 10)), %eax	/* PAE, OSFXSR, OSXMMEXCPT */
	mov	%eax, %cr4
	mov	$0xC0000080, %ecx		/* EFER */
	rdmsr
	or	$(1 << 8), %eax			/* LME */
	wrmsr
	mov	%cr0, %eax
	and	$~(1 << 2), %eax		/* no x87 emulation */
	or	$((1 << 31) | (1 << 1) | 1), %eax	/* PG, MP, PE */
	mov	%eax, %cr0
	lgdt	boot_gdt_ptr
	ljmp	$0x08, $long_entry

	.code64
long_entry:
	mov	$0x10, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$boot_stack_top, %rsp
	mov	%edi, %edi			/* zero-extend magic and mbi */
	mov	%esi, %esi
	call	kmain
3:	cli
	hlt
	jmp	3b

	.section .note.GNU-stack, "", @progbits
