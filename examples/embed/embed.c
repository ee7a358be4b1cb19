/*
 * A minimal embedder of the metaslot runtime: its own platform hooks, one
 * instance over 1024 frames, and a few allocations and frees.  The slots are
 * read back through the accessors of the header this project regenerated from
 * its own copy of the schema, which checks that the header and the installed
 * library agree on the layout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <metaslot/ms.h>

#include "meta_slot.h"

#define EMBED_BASE_PFN 0x100u
#define EMBED_NR_FRAMES 1024u

static void embed_panic(const char *what, uint64_t pfn, uint64_t value)
{
	fprintf(stderr, "embed: metaslot panic: %s (pfn %#llx, value %#llx)\n", what,
		(unsigned long long)pfn, (unsigned long long)value);
	abort();
}

/* No interrupts and one CPU; frames are not addressable, so nothing is zeroed. */
static const struct ms_platform embed_platform = {
	.panic = embed_panic,
	.memset = memset,
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "embed: %s: %s\n", what, err < 0 ? ms_strerror(err) : "unexpected value");
	return 1;
}

int main(void)
{
	static struct ms_instance inst;
	struct ms_stats stats;
	struct ms_handle handles[2];
	const unsigned orders[2] = { 0, 3 };
	char msg[128];
	int err;

	if (ms_metadata_bytes(1) != sizeof(struct meta_slot))
		return fail("the library and meta_slot.h disagree on the slot size", 1);
	struct meta_slot *slots = aligned_alloc(ms_metadata_align(),
						 ms_metadata_bytes(EMBED_NR_FRAMES));
	if (slots == NULL)
		return fail("aligned_alloc", 1);
	err = ms_init(&inst, &embed_platform, slots, EMBED_BASE_PFN, EMBED_NR_FRAMES, "Normal", 0);
	if (err == MS_OK)
		err = ms_add_range(&inst, EMBED_BASE_PFN, EMBED_NR_FRAMES);
	if (err != MS_OK)
		return fail("set-up", err);

	for (unsigned i = 0; i < 2; i++) {
		struct ms_alloc_opts opts = { .order = orders[i] };

		err = ms_alloc(&inst, &opts, &handles[i]);
		if (err != MS_OK)
			return fail("ms_alloc", err);
		const struct meta_slot *slot = &slots[handles[i].pfn - EMBED_BASE_PFN];
		if (meta_slot_refcount_load(slot) != 1 || meta_slot_order_load(slot) != orders[i] ||
		    meta_slot_generation_load(slot) != handles[i].generation ||
		    !(meta_slot_flags_load(slot) & META_SLOT_FRAME_FLAGS_ALLOCATED))
			return fail("the slot of an allocated block", 1);
		printf("embed: allocated order %u at pfn %#llx, generation %u\n", orders[i],
		       (unsigned long long)handles[i].pfn, handles[i].generation);
	}
	for (unsigned i = 0; i < 2; i++) {
		err = ms_free(&inst, handles[i].pfn, orders[i]);
		if (err != MS_OK)
			return fail("ms_free", err);
		if (ms_handle_live(&inst, handles[i]))
			return fail("a freed handle is still live", 1);
	}
	ms_stats(&inst, &stats);
	if (stats.nr_free != EMBED_NR_FRAMES || stats.nr_allocated != 0)
		return fail("free frames after freeing everything", 1);
	err = ms_check(&inst, msg, sizeof(msg));
	if (err != MS_OK)
		return fail(msg, err);
	printf("embed: OK: %llu of %u frames free, slot size %zu bytes\n",
	       (unsigned long long)stats.nr_free, EMBED_NR_FRAMES, sizeof(struct meta_slot));
	free(slots);
	return 0;
}
