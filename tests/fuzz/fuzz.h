/*
 * State shared by the parts of the allocator fuzz target: the input reader,
 * the instance under test with its platform hooks, and the reference model.
 *
 * Input format (bytes; a missing byte reads as 0):
 *   header  config byte: bits 0-2 base pfn choice, bit 3 backing memory
 *           (frames get zeroed and checked), bit 4 cache off, bit 5 no
 *           cpu_id hook, bit 6 irq hooks, bit 7 no phys_to_virt hook; u16 span size; range count
 * byte (0: one range over the span; else up to 7 ranges of u16 start offset and u16 length,
 * possibly invalid) ops     an opcode byte (enum fz_op, modulo FZ_NR_OPS) and its arguments.
 */
#ifndef FUZZ_FUZZ_H
#define FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "meta_slot.h"
#include "metaslot/ms.h"
#include "metaslot/ms_hosted.h"
#include "model.h"

/* Largest span when frames have backing memory (zeroing costs time). */
#define FZ_MAX_BACKED_FRAMES 256
/* Handles remembered for liveness checks. */
#define FZ_NR_HANDLES 32
/* Operations between two full ms_check runs. */
#define FZ_CHECK_PERIOD 16
/* NUMA node of the instance under test (kept in every slot's meta_aux). */
#define FZ_NUMA_NODE 1
/* "No pfn" argument (the generated LINK_NONE). */
#define FZ_NO_PFN META_SLOT_LINK_NONE

enum fz_op {
	FZ_OP_ALLOC,
	FZ_OP_ALLOC_SMALL,
	FZ_OP_FREE_LIVE,
	FZ_OP_FREE_WRONG_ORDER,
	FZ_OP_FREE_ANY,
	FZ_OP_FREE_AGAIN,
	FZ_OP_GET,
	FZ_OP_PUT,
	FZ_OP_REF_ANY,
	FZ_OP_SET_VTABLE,
	FZ_OP_POISON,
	FZ_OP_HANDLE_LIVE,
	FZ_OP_CACHE_TOGGLE,
	FZ_OP_DRAIN,
	FZ_OP_DRAIN_ALL,
	FZ_OP_SET_CPU,
	FZ_OP_OBSERVE,
	FZ_OP_CHECK,
	FZ_OP_QUARANTINE_LIST,
	FZ_OP_ALLOC_ZONES,
	FZ_OP_MISUSE,
	FZ_NR_OPS
};

struct fz_input {
	const uint8_t *bytes;
	size_t nr_bytes;
	size_t pos;
};

struct fz_state {
	struct ms_instance inst;
	struct ms_instance empty; /* a zone with no usable frames */
	struct ms_platform platform;
	struct meta_slot *slots;
	unsigned char *backing; /* NULL: frames not addressable */
	unsigned cpu;
	unsigned irq_depth;
	bool trace;
	/* Handles handed out (ring), and pfns freed (ring) for double frees. */
	struct ms_handle handles[FZ_NR_HANDLES];
	unsigned nr_handles;
	uint64_t freed_pfns[FZ_NR_HANDLES];
	uint8_t freed_orders[FZ_NR_HANDLES];
	unsigned nr_freed;
	/* The last put expected to run on_last_ref, and how often it ran. */
	uint64_t last_ref_pfn;
	unsigned last_ref_order;
	unsigned nr_last_ref_calls;
	/* Successful allocations and frees (direct or last put) so far. */
	uint64_t nr_alloc_events;
	uint64_t nr_free_events;
	struct fm_model model;
};

extern struct fz_state fz;

uint8_t fz_u8(struct fz_input *in);
uint16_t fz_u16(struct fz_input *in);
bool fz_more(const struct fz_input *in);

/* Stops the run (abort) with a message; libFuzzer keeps the input. */
_Noreturn void fz_fail(const char *fmt, ...);
void fz_trace(const char *fmt, ...);
/* Fails unless err is one of the results in the set. */
void fz_expect(const char *what, int err, uint32_t results);

/* fuzz_ops.c: one operation read from the input. */
void fz_run_op(struct fz_input *in);
/* fuzz_ops_alloc.c: the allocation operations. */
void fz_op_alloc(struct fz_input *in, bool small);
void fz_op_alloc_zones(struct fz_input *in);
void fz_op_misuse(struct fz_input *in);
/* Allocated block's result checks and model update; shared with the sweep. */
void fz_after_alloc(const struct ms_alloc_opts *opts, const struct ms_handle *handle);
/* Frees (puts every reference of) the allocated block at pfn, checking. */
void fz_release_all_refs(uint64_t pfn);

/* fuzz_checks.c: agreement of the runtime with the model. */
void fz_check_counts(void);
void fz_check_consistent(void);
/* Compares ms_quarantine_list with the model; nr_new_blocks blocks the model
 * does not know yet must appear, containing must_contain_pfn, all free
 * (FZ_ANY_NEW_BLOCKS: any number, each holding a poisoned frame). */
#define FZ_ANY_NEW_BLOCKS UINT32_MAX
void fz_sync_quarantine(uint64_t must_contain_pfn, unsigned nr_new_blocks);
void fz_check_quarantine_list(uint8_t max_blocks);
void fz_check_small_buffer(uint8_t msg_bytes);
void fz_observe(struct fz_input *in);
void fz_check_coalesced(void);
void fz_check_idle(void);
void fz_final_sweep(void);

#endif /* FUZZ_FUZZ_H */
