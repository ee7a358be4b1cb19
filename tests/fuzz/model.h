/*
 * Reference model of one allocator instance for the fuzz target: one record
 * per frame of the span saying what the runtime must believe about it.  The
 * model knows nothing of free lists, caches or block choice; it answers only
 * "is this frame free / allocated (head or tail) / quarantined / reserved",
 * which is all the public API promises.
 */
#ifndef FUZZ_MODEL_H
#define FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "metaslot/ms.h"

/* Largest span the fuzz target uses (two order-10 blocks). */
#define FM_MAX_FRAMES 2048

enum fm_state {
	FM_RESERVED = 0, /* in the span, never added */
	FM_FREE,	 /* on a free list or in a per-CPU cache */
	FM_HEAD,	 /* first frame of an allocated block */
	FM_TAIL,	 /* other frame of an allocated block */
	FM_QUARANTINED,	 /* in a quarantined block (any frame of it) */
};

struct fm_frame {
	uint8_t state;	      /* enum fm_state */
	uint8_t order;	      /* FM_HEAD: the allocation's order */
	bool poisoned;	      /* ms_mark_poisoned was called on this frame */
	bool counting_vtable; /* FM_HEAD: the on_last_ref hook is installed */
	bool quarantine_head; /* FM_QUARANTINED: first frame of its block (order) */
	uint32_t refs;	      /* FM_HEAD: references held */
	uint32_t generation;  /* last generation handed out at this pfn */
	uint32_t live_index;  /* FM_HEAD: index in fm_model.live_pfns */
};

struct fm_model {
	uint64_t base_pfn;
	uint64_t nr_frames;
	uint64_t nr_usable;
	uint64_t nr_free;
	uint64_t nr_allocated;
	uint64_t nr_quarantined;
	uint64_t nr_quarantined_blocks;
	uint32_t nr_live; /* allocated blocks */
	unsigned nr_ranges;
	struct ms_range ranges[MS_MAX_RANGES];
	uint64_t live_pfns[FM_MAX_FRAMES];
	struct fm_frame frames[FM_MAX_FRAMES];
};

/* Bit set of acceptable results: FM_BIT(MS_OK) | FM_BIT(MS_EBUSY) ... */
#define FM_BIT(err) (UINT32_C(1) << (unsigned)-(err))

void fm_init(struct fm_model *model, uint64_t base_pfn, uint64_t nr_frames);
bool fm_in_span(const struct fm_model *model, uint64_t pfn);
struct fm_frame *fm_frame(struct fm_model *model, uint64_t pfn);

/* Errors ms_add_range may return for this range (set), MS_OK included when none. */
uint32_t fm_add_range_results(const struct fm_model *model, uint64_t start_pfn, uint64_t nr_frames);
void fm_add_range(struct fm_model *model, uint64_t start_pfn, uint64_t nr_frames);

/* Whether a naturally aligned block of 2^order frames, all free, exists. */
bool fm_block_available(const struct fm_model *model, unsigned order);
/* Whether [pfn, pfn + 2^order) is aligned, in the span and all free. */
bool fm_block_free(const struct fm_model *model, uint64_t pfn, unsigned order);
bool fm_block_poisoned(const struct fm_model *model, uint64_t pfn, unsigned order);

void fm_allocate(struct fm_model *model, uint64_t pfn, unsigned order, uint32_t generation);
/* The allocated block at head pfn goes away: free (not poisoned) or quarantined. */
void fm_release(struct fm_model *model, uint64_t pfn);
void fm_quarantine_free_block(struct fm_model *model, uint64_t pfn, unsigned order);

/* Acceptable results of ms_free / ms_get / ms_put / ms_set_vtable(aligned). */
uint32_t fm_free_results(const struct fm_model *model, uint64_t pfn, unsigned order);
uint32_t fm_ref_results(const struct fm_model *model, uint64_t pfn);

/* Free blocks per order that a fully coalesced buddy system holds for the
 * model's free frames (every maximal run carved into maximal aligned blocks). */
void fm_expected_free_blocks(const struct fm_model *model, uint64_t out[MS_NR_ORDERS]);

#endif /* FUZZ_MODEL_H */
