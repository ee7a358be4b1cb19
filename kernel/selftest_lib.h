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
	char buddyinfo[NR_ZONES][512]; /* ms_dump text */
};

/* Drains the per-CPU caches first, so cached frames are back on the lists. */
void snapshot_take(struct zone_snapshot *snap);
bool snapshot_equal(const struct zone_snapshot *a, const struct zone_snapshot *b);

/*
 * A list of allocated blocks, kept in a block allocated for the purpose
 * (its first entry, freed last).  Writing into the blocks under test would
 * make the host back every touched block with memory: QEMU uses huge pages,
 * so touching one frame per 4 MiB block of a 5 GiB guest costs gigabytes.
 */
struct chain_entry {
	uint64_t pfn;
	uint64_t order;
};

struct block_chain {
	struct chain_entry *entries; /* entries[0] is the storage block */
	uint64_t capacity;
	uint64_t nr_blocks; /* including the storage block */
	uint64_t nr_frames; /* including the storage block */
};

/* Allocates storage for capacity_blocks entries (plus its own); false with
 * nothing allocated when that fails. */
bool chain_init(struct block_chain *chain, uint64_t capacity_blocks);
/* Records an allocated block; panics when the chain is full. */
void chain_push(struct block_chain *chain, uint64_t pfn, unsigned order);
/* Calls visit(pfn, order, ctx) for each block; stops early on false. */
bool chain_visit(const struct block_chain *chain,
		 bool (*visit)(uint64_t pfn, unsigned order, void *ctx), void *ctx);
/* Frees every block, the storage last; returns the first error or MS_OK. */
int chain_free(struct block_chain *chain);

/* Allocates every free frame of one zone (only == NR_ZONES: of all zones,
 * through the Normal -> DMA fallback), largest orders first, without
 * zeroing, recording the blocks in chain (set up here).  Afterwards the
 * zone(s) have no free frame.  False if the chain could not be set up. */
bool alloc_everything(struct block_chain *chain, enum zone_id only);

/* Runs ms_check on every zone; false with the message in why on error. */
bool check_zones(char *why, size_t why_bytes);

#endif
