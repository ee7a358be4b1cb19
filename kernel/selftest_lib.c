/* Snapshots, in-frame block chains and "allocate all of RAM". */
#include "selftest_lib.h"

#include "bootmem.h"
#include "klib.h"
#include "kprintf.h"
#include "panic.h"

void snapshot_take(struct zone_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	for (int z = 0; z < NR_ZONES; z++) {
		struct ms_instance *inst = zone_instance((enum zone_id)z);
		struct ms_stats st;

		if (!inst)
			continue;
		ms_cache_drain_all(inst);
		ms_stats(inst, &st);
		snap->nr_free[z] = st.nr_free;
		snap->nr_quarantined[z] = st.nr_quarantined;
		memcpy(snap->nr_free_blocks[z], st.nr_free_blocks, sizeof(st.nr_free_blocks));
		int len = ms_dump(inst, snap->buddyinfo[z], sizeof(snap->buddyinfo[z]));
		KASSERT(len >= 0);
	}
}

bool snapshot_equal(const struct zone_snapshot *a, const struct zone_snapshot *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

bool chain_init(struct block_chain *chain, uint64_t capacity_blocks)
{
	uint64_t bytes = (capacity_blocks + 1) * sizeof(struct chain_entry);
	struct ms_alloc_opts opts = {.flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE};
	struct ms_handle h;

	while (((uint64_t)FRAME_BYTES << opts.order) < bytes)
		opts.order++;
	chain->entries = NULL;
	chain->capacity = 0;
	chain->nr_blocks = 0;
	chain->nr_frames = 0;
	if (opts.order > MS_MAX_ORDER || zones_alloc(ZONE_NORMAL, &opts, &h, NULL) != MS_OK)
		return false;
	chain->entries = (struct chain_entry *)(uintptr_t)(h.pfn << FRAME_SHIFT);
	chain->capacity = capacity_blocks + 1;
	chain_push(chain, h.pfn, opts.order);
	return true;
}

void chain_push(struct block_chain *chain, uint64_t pfn, unsigned order)
{
	KASSERT(chain->nr_blocks < chain->capacity);
	chain->entries[chain->nr_blocks].pfn = pfn;
	chain->entries[chain->nr_blocks].order = order;
	chain->nr_blocks++;
	chain->nr_frames += 1ull << order;
}

bool chain_visit(const struct block_chain *chain,
		 bool (*visit)(uint64_t pfn, unsigned order, void *ctx), void *ctx)
{
	for (uint64_t i = 0; i < chain->nr_blocks; i++) {
		if (!visit(chain->entries[i].pfn, (unsigned)chain->entries[i].order, ctx))
			return false;
	}
	return true;
}

int chain_free(struct block_chain *chain)
{
	int first_err = MS_OK;

	/* Backwards, so entries[0] (the storage itself) goes last. */
	while (chain->nr_blocks > 0) {
		struct chain_entry e = chain->entries[chain->nr_blocks - 1];
		int err = zones_free(e.pfn, (unsigned)e.order);

		if (err != MS_OK && first_err == MS_OK)
			first_err = err;
		chain->nr_blocks--;
		chain->nr_frames -= 1ull << e.order;
	}
	chain->entries = NULL;
	return first_err;
}

bool alloc_everything(struct block_chain *chain, enum zone_id only)
{
	/* Largest orders first take the free blocks exactly as they are, so
	 * the chain needs one entry per free block, plus the blocks that
	 * allocating the storage itself splits off. */
	uint64_t nr_blocks = MS_NR_ORDERS;

	for (int z = 0; z < NR_ZONES; z++) {
		struct ms_instance *inst = zone_instance((enum zone_id)z);
		struct ms_stats st;

		if (!inst || (only != NR_ZONES && only != (enum zone_id)z))
			continue;
		ms_cache_drain_all(inst);
		ms_stats(inst, &st);
		for (int order = 0; order <= MS_MAX_ORDER; order++)
			nr_blocks += st.nr_free_blocks[order];
	}
	if (!chain_init(chain, nr_blocks))
		return false;
	for (int order = MS_MAX_ORDER; order >= 0; order--) {
		struct ms_alloc_opts opts = {0};
		struct ms_handle h;

		opts.order = (unsigned)order;
		opts.flags = MS_ALLOC_NOZERO | MS_ALLOC_NOCACHE;
		for (;;) {
			int err;

			if (only == NR_ZONES) {
				err = zones_alloc(ZONE_NORMAL, &opts, &h, NULL);
			} else {
				struct ms_instance *inst = zone_instance(only);
				err = inst ? ms_alloc(inst, &opts, &h) : MS_ENOMEM;
			}
			if (err == MS_ENOMEM)
				break;
			if (err != MS_OK)
				panic("selftest: allocation of order %d failed: %s", order,
				      ms_strerror(err));
			chain_push(chain, h.pfn, (unsigned)order);
		}
	}
	return true;
}

bool check_zones(char *why, size_t why_bytes)
{
	for (int z = 0; z < NR_ZONES; z++) {
		struct ms_instance *inst = zone_instance((enum zone_id)z);
		char msg[120];

		if (inst && ms_check(inst, msg, sizeof(msg)) != MS_OK) {
			ksnprintf(why, why_bytes, "ms_check %s: %s", zone_name((enum zone_id)z),
				  msg);
			return false;
		}
	}
	return true;
}
