/* Every member of a slot, decoded through the generated accessors. */
#include "shell_meta.h"

#include "kprintf.h"
#include "meta_slot.h"
#include "zones.h"

struct bit_name {
	uint32_t mask;
	const char *name;
};

static const struct bit_name frame_flag_names[] = {
    {META_SLOT_FRAME_FLAGS_COW, "COW"},
    {META_SLOT_FRAME_FLAGS_DLL, "DLL"},
    {META_SLOT_FRAME_FLAGS_ANONYMOUS, "ANONYMOUS"},
    {META_SLOT_FRAME_FLAGS_ALLOCATED, "ALLOCATED"},
    {META_SLOT_FRAME_FLAGS_FREE, "FREE"},
    {META_SLOT_FRAME_FLAGS_KERNEL, "KERNEL"},
    {META_SLOT_FRAME_FLAGS_USER, "USER"},
    {META_SLOT_FRAME_FLAGS_POISONED, "POISONED"},
    {META_SLOT_FRAME_FLAGS_MOVABLE, "MOVABLE"},
};

static const struct bit_name guard_names[] = {
    {META_SLOT_META_GUARD_KERNEL_ONLY, "KERNEL_ONLY"},
    {META_SLOT_META_GUARD_POISONED, "POISONED"},
};

/* Prints " [A|B|0x..]" naming each set bit; "[NONE]" for zero. */
static void print_bits(uint32_t value, const struct bit_name *names, unsigned nr_names)
{
	const char *sep = "";

	kputs(" [");
	if (value == 0)
		kputs("NONE");
	for (unsigned i = 0; i < nr_names; i++) {
		if (value & names[i].mask) {
			kprintf("%s%s", sep, names[i].name);
			sep = "|";
			value &= ~names[i].mask;
		}
	}
	if (value)
		kprintf("%sunknown 0x%x", sep, value);
	kputs("]\n");
}

static void print_link(const char *member, uint64_t link)
{
	if (link == META_SLOT_LINK_NONE)
		kprintf("  %-15s = none\n", member);
	else
		kprintf("  %-15s = pfn %lu\n", member, link);
}

void shell_print_meta(uint64_t pfn)
{
	struct ms_instance *inst = zone_of_pfn(pfn);
	size_t slot_bytes = 0;
	const struct meta_slot *s = ms_metadata_of(inst, pfn, 1, &slot_bytes);

	if (!s || slot_bytes != sizeof(*s)) {
		kprintf("error: no metadata for pfn %lu\n", pfn);
		return;
	}
	kprintf("meta: pfn %lu phys 0x%lx zone %s slot at 0x%lx\n", pfn, pfn << 12, inst->name,
		(uint64_t)(uintptr_t)s);
	print_link("free_link.next", meta_slot_free_link_next_load(s));
	print_link("free_link.prev", meta_slot_free_link_prev_load(s));
	uint64_t vtable = meta_slot_vtable_load(s);
	kprintf("  %-15s = 0x%lx%s\n", "vtable", vtable, vtable ? "" : " (default)");
	uint32_t flags = meta_slot_flags_load(s);
	kprintf("  %-15s = 0x%08x", "flags", flags);
	print_bits(flags, frame_flag_names, sizeof(frame_flag_names) / sizeof(frame_flag_names[0]));
	kprintf("  %-15s = %u\n", "order", (unsigned)meta_slot_order_load(s));
	uint32_t refcount = meta_slot_refcount_load(s);
	if (refcount == META_SLOT_REFCOUNT_UNUSED)
		kprintf("  %-15s = unused (0x%x)\n", "refcount", refcount);
	else
		kprintf("  %-15s = %u\n", "refcount", refcount);
	kprintf("  %-15s = %u\n", "generation", meta_slot_generation_load(s));
	uint32_t guard = meta_slot_guard_load(s);
	kprintf("  %-15s = 0x%08x", "guard", guard);
	print_bits(guard, guard_names, sizeof(guard_names) / sizeof(guard_names[0]));
	kprintf("  %-15s = 0x%08x owner_cpu=%u numa_node=%u\n", "meta_aux",
		meta_slot_meta_aux_load(s), meta_slot_meta_aux_owner_cpu_get(s),
		meta_slot_meta_aux_numa_node_get(s));
}
