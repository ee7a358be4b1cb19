/*
 * What the kernel keeps from the Multiboot 1 information: the memory map
 * and the command line, copied into kernel memory so that nothing the
 * loader left behind needs to stay reserved.
 */
#ifndef KERNEL_MULTIBOOT_H
#define KERNEL_MULTIBOOT_H

#include <stdbool.h>
#include <stdint.h>

#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002u
#define MEMMAP_MAX_ENTRIES 64
#define MEMMAP_TYPE_USABLE 1

struct memmap_entry {
	uint64_t base;
	uint64_t length_bytes;
	uint32_t type; /* 1 usable, 3 ACPI, 4 NVS, 5 bad, else reserved */
};

struct memmap {
	struct memmap_entry entries[MEMMAP_MAX_ENTRIES];
	unsigned nr_entries;
};

/* Panics if magic is wrong or the loader gave no memory map. */
void multiboot_parse(uint32_t magic, uint64_t mbi_phys);
const struct memmap *boot_memmap(void);
/* The kernel command line ("" if none), e.g. "shell" or "crash=pf". */
const char *boot_cmdline(void);
/* Length of the command line the loader gave; boot_cmdline() keeps its last
 * 255 bytes when it is longer. */
unsigned boot_cmdline_bytes(void);
/* Value of "key=value" on the command line, or NULL. */
const char *boot_cmdline_value(const char *key, char *buf, unsigned buf_bytes);
/* True if the bare word appears on the command line. */
bool boot_cmdline_has(const char *word);

#endif
