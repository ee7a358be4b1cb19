/* Multiboot 1 information: copy the memory map and command line. */
#include "multiboot.h"

#include "klib.h"
#include "panic.h"

/* Offsets in the Multiboot information structure (Multiboot 1 spec, 3.3). */
#define MBI_FLAGS 0
#define MBI_CMDLINE 16
#define MBI_MMAP_LENGTH 44
#define MBI_MMAP_ADDR 48
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)
#define CMDLINE_MAX 256

static struct memmap memmap;
static char cmdline[CMDLINE_MAX];
static unsigned cmdline_bytes; /* as the loader gave it, before any cut */

static uint32_t read_u32(uint64_t phys)
{
	uint32_t v;

	memcpy(&v, (const void *)(uintptr_t)phys, sizeof(v));
	return v;
}

static uint64_t read_u64(uint64_t phys)
{
	uint64_t v;

	memcpy(&v, (const void *)(uintptr_t)phys, sizeof(v));
	return v;
}

void multiboot_parse(uint32_t magic, uint64_t mbi)
{
	if (magic != MULTIBOOT_BOOTLOADER_MAGIC)
		panic("not booted by a Multiboot loader (magic 0x%x)", magic);
	uint32_t flags = read_u32(mbi + MBI_FLAGS);

	if (flags & MBI_FLAG_CMDLINE) {
		const char *src = (const char *)(uintptr_t)read_u32(mbi + MBI_CMDLINE);
		unsigned i = 0;

		/* QEMU puts the image's path first and the -append options last: a
		 * line too long to keep loses its head (part of the path), never
		 * the options. */
		while (src[cmdline_bytes] && cmdline_bytes < (1u << 20))
			cmdline_bytes++;
		if (cmdline_bytes >= CMDLINE_MAX)
			src += cmdline_bytes - (CMDLINE_MAX - 1);
		while (src[i] && i + 1 < CMDLINE_MAX) {
			cmdline[i] = src[i];
			i++;
		}
		cmdline[i] = '\0';
	}
	if (!(flags & MBI_FLAG_MMAP))
		panic("the boot loader gave no memory map");

	uint64_t addr = read_u32(mbi + MBI_MMAP_ADDR);
	uint64_t end = addr + read_u32(mbi + MBI_MMAP_LENGTH);

	/* Each entry: u32 size (not counting itself), u64 base, u64 length,
	 * u32 type. */
	while (addr < end) {
		uint32_t entry_bytes = read_u32(addr);

		if (memmap.nr_entries == MEMMAP_MAX_ENTRIES)
			panic("memory map has more than %d entries", MEMMAP_MAX_ENTRIES);
		struct memmap_entry *e = &memmap.entries[memmap.nr_entries++];
		e->base = read_u64(addr + 4);
		e->length_bytes = read_u64(addr + 12);
		e->type = read_u32(addr + 20);
		addr += entry_bytes + 4;
	}
}

const struct memmap *boot_memmap(void)
{
	return &memmap;
}

unsigned boot_cmdline_bytes(void)
{
	return cmdline_bytes;
}

const char *boot_cmdline(void)
{
	return cmdline;
}

/* Returns the first word at or after p and stores its length in *len. */
static const char *next_word(const char *p, unsigned *len)
{
	while (*p == ' ')
		p++;
	*len = 0;
	while (p[*len] && p[*len] != ' ')
		(*len)++;
	return p;
}

const char *boot_cmdline_value(const char *key, char *buf, unsigned buf_bytes)
{
	unsigned key_len = (unsigned)strlen(key);
	unsigned len;

	for (const char *w = next_word(cmdline, &len); len; w = next_word(w + len, &len)) {
		if (len > key_len && memcmp(w, key, key_len) == 0 && w[key_len] == '=') {
			unsigned vlen = len - key_len - 1;

			if (vlen + 1 > buf_bytes)
				vlen = buf_bytes - 1;
			memcpy(buf, w + key_len + 1, vlen);
			buf[vlen] = '\0';
			return buf;
		}
	}
	return NULL;
}

bool boot_cmdline_has(const char *word)
{
	unsigned word_len = (unsigned)strlen(word);
	unsigned len;

	for (const char *w = next_word(cmdline, &len); len; w = next_word(w + len, &len)) {
		if (len == word_len && memcmp(w, word, len) == 0)
			return true;
	}
	return false;
}
