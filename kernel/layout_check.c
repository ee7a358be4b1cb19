/*
 * The member table comes from the generator (meta_slot_members.h, an
 * X-macro list carrying the schema's own offsets and sizes); the other
 * side of each comparison is what this compiler made of meta_slot.h.
 */
#include "layout_check.h"

#include <stddef.h>

#include "kprintf.h"
#include "meta_slot.h"
#include "meta_slot_members.h"

struct member_check {
	const char *name;
	size_t schema_offset;
	size_t schema_size;
	size_t compiled_offset;
	size_t compiled_size;
};

#define KERNEL_MEMBER_CHECK(path, offset, size)                                                    \
	{#path, (offset), (size), offsetof(struct meta_slot, path),                                \
	 sizeof(((struct meta_slot *)0)->path)},

static const struct member_check members[] = {META_SLOT_MEMBERS(KERNEL_MEMBER_CHECK)};

#undef KERNEL_MEMBER_CHECK

#define NR_MEMBERS (sizeof(members) / sizeof(members[0]))

unsigned layout_check(void)
{
	unsigned mismatches = 0;

	kprintf("layout: %-24s %13s %15s  %s\n", "member", "schema off/sz", "compiled off/sz",
		"verdict");
	for (size_t i = 0; i < NR_MEMBERS; i++) {
		const struct member_check *m = &members[i];
		int ok =
		    m->schema_offset == m->compiled_offset && m->schema_size == m->compiled_size;

		mismatches += !ok;
		kprintf("layout: %-24s %8lu/%-4lu %10lu/%-4lu  %s\n", m->name, m->schema_offset,
			m->schema_size, m->compiled_offset, m->compiled_size,
			ok ? "OK" : "MISMATCH");
	}
	int size_ok = sizeof(struct meta_slot) == META_SLOT_SIZE;

	mismatches += !size_ok;
	kprintf("layout: %-24s %8u/%-4u %10lu/%-4lu  %s\n", "struct meta_slot", 0u,
		(unsigned)META_SLOT_SIZE, 0ul, sizeof(struct meta_slot),
		size_ok ? "OK" : "MISMATCH");
	kprintf("layout: %lu members checked, %u mismatched: %s\n", NR_MEMBERS + 1, mismatches,
		mismatches ? "FAIL" : "OK");
	return mismatches;
}
