/* Snapshots, in-frame block chains and "allocate all of RAM". */
#include "selftest_lib.h"

#include "klib.h"
#include "kprintf.h"
#include "panic.h"

struct chain_link {
	uint64_t next_pfn;
	uint64_t order;
};

static struct chain_link *link_of(uint64_t pfn)
{
	return (struct chain_link *)(uintptr_t)(pfn << 12);
}

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
		if (ms_dump(inst, snap->buddyinfo[z], sizeof(snap->buddyinfo[z])) < 0)
			snap->buddyinfo[z][0] = '\0';
	}
}

bool snapshot_equal(const struct zone_snapshot *a, const struct zone_snapshot *b)
{
	return memcmp(a, b, sizeof(*a)) == 0;
}

void chain_init(struct block_chain *chain)
{
	chain->head_pfn = CHAIN_END;
	chain->nr_blocks = 0;
	chain->nr_frames = 0;
}

void chain_push(struct block_chain *chain, uint64_t pfn, unsigned order)
{
	struct chain_link *link = link_of(pfn);

	link->next_pfn = chain->head_pfn;
	link->order = order;
	chain->head_pfn = pfn;
	chain->nr_blocks++;
	chain->nr_frames += 1ull << order;
}

bool chain_visit(const struct block_chain *chain,
		 bool (*visit)(uint64_t pfn, unsigned order, void *ctx), void *ctx)
{
	for (uint64_t pfn = chain->head_pfn; pfn != CHAIN_END; pfn = link_of(pfn)->next_pfn) {
		if (!visit(pfn, (unsigned)link_of(pfn)->order, ctx))
			return false;
	}
	return true;
}

int chain_free(struct block_chain *chain)
{
	int first_err = MS_OK;

	while (chain->head_pfn != CHAIN_END) {
		uint64_t pfn = chain->head_pfn;
		struct chain_link link = *link_of(pfn);
		int err = zones_free(pfn, (unsigned)link.order);

		if (err != MS_OK && first_err == MS_OK)
			first_err = err;
		chain->head_pfn = link.next_pfn;
		chain->nr_blocks--;
		chain->nr_frames -= 1ull << link.order;
	}
	return first_err;
}

void alloc_everything(struct block_chain *chain, enum zone_id only)
{
	for (int z = 0; z < NR_ZONES; z++) {
		if (zone_instance((enum zone_id)z))
			ms_cache_drain_all(zone_instance((enum zone_id)z));
	}
	for (int order = MS_MAX_ORDER; order >= 0; order--) {
		struct ms_alloc_opts opts = { 0 };
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
