/* Helpers shared by the self-tests: snapshots and whole-RAM allocation. */
#ifndef KERNEL_SELFTEST_LIB_H
#define KERNEL_SELFTEST_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zones.h"

/* Free-list state of every zone: blocks per order and the buddyinfo text. */
struct zone_snapshot {
	uint64_t nr_free[NR_ZONES];
	uint64_t nr_free_blocks[NR_ZONES][MS_NR_ORDERS];
	uint64_t nr_quarantined[NR_ZONES];
	char buddyinfo[NR_ZONES][160];
};

/* Drains the per-CPU caches first, so cached frames are back on the lists. */
void snapshot_take(struct zone_snapshot *snap);
bool snapshot_equal(const struct zone_snapshot *a, const struct zone_snapshot *b);

/*
 * A chain of allocated blocks kept inside the blocks themselves: the first
 * bytes of each block hold the pfn of the next block and its order, so no
 * memory outside the frames under test is needed, at any RAM size.
 */
struct block_chain {
	uint64_t head_pfn;	/* CHAIN_END when empty */
	uint64_t nr_blocks;
	uint64_t nr_frames;
};

#define CHAIN_END UINT64_MAX

void chain_init(struct block_chain *chain);
void chain_push(struct block_chain *chain, uint64_t pfn, unsigned order);
/* Calls visit(pfn, order, ctx) for each block; stops early on false. */
bool chain_visit(const struct block_chain *chain,
		 bool (*visit)(uint64_t pfn, unsigned order, void *ctx), void *ctx);
/* Frees every block with zones_free; returns the first error or MS_OK. */
int chain_free(struct block_chain *chain);

/* Allocates every free frame of one zone (only == NR_ZONES: of all zones,
 * through the Normal -> DMA fallback), largest orders first, without
 * zeroing.  Afterwards the zone(s) have no free frame. */
void alloc_everything(struct block_chain *chain, enum zone_id only);

/* Runs ms_check on every zone; false with the message in why on error. */
bool check_zones(char *why, size_t why_bytes);

#endif
