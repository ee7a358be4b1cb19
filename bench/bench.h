/* The allocator benchmark: shared definitions of its rows and timing. */
#ifndef MS_BENCH_H
#define MS_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "meta_slot.h"
#include "metaslot/ms.h"

#define BENCH_FRAMES_PER_GIB (UINT64_C(1) << (30 - META_SLOT_FRAME_SHIFT))

/* One run of a row: nanoseconds per alloc+free pair. */
typedef double (*bench_run_fn)(void);

struct bench_row {
	const char *name;
	bench_run_fn run;
	bool has_ratio;         /* false: init_per_gib */
	const char *speedup_of; /* one-thread row this row's speedup compares with */
};

/* Monotonic clock in nanoseconds. */
double bench_now_ns(void);

/* Metadata array for nr_frames frames (free with free()). */
struct meta_slot *bench_slots(uint64_t nr_frames);
/* Instance over nr_frames frames starting at pfn 0, one range, cache on. */
struct ms_instance *bench_instance(uint64_t nr_frames);
void bench_instance_free(struct ms_instance *inst);

/* The rows (workloads.c, threads.c). */
double bench_limit(void);
double bench_hot_order0_cached(void);
double bench_hot_locked_floor(void);
double bench_hot_claim_floor(void);
double bench_hot_order0_nocache(void);
double bench_fill_drain(void);
double bench_mixed(void);
double bench_mixed_16g(void);
double bench_mixed_16g_1g_live(void);
double bench_mixed_workload(void);
double bench_mixed_16g_workload(void);
double bench_hot_order0_cached_2t(void);
double bench_hot_order0_cached_2i(void);
double bench_mixed_2t(void);
double bench_init_per_gib(void);

/* The mixed workload on inst with its own live set: a warm-up of nr_ops / 4
 * operations, then after_warmup(ctx) if not NULL, then nr_ops timed
 * operations at about target_frames occupancy; returns their elapsed ns.
 * inst NULL runs the workload's own work only (made-up blocks, no calls). */
double bench_mixed_ops(struct ms_instance *inst, long nr_ops, uint64_t target_frames,
		       uint64_t seed, unsigned cpu, void (*after_warmup)(void *), void *ctx);

/* Scale of iteration counts (--quick sets 0.1). */
extern double bench_scale;

#endif /* MS_BENCH_H */
