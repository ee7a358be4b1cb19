/*
 * Hosted platform for the metaslot runtime (tests, benchmarks): libc memset,
 * abort() on panic, no interrupts, and a per-thread "CPU" id.
 */
#ifndef METASLOT_MS_HOSTED_H
#define METASLOT_MS_HOSTED_H

#include "metaslot/ms.h"

/* The hosted hooks.  The table is static; never NULL. */
const struct ms_platform *ms_hosted_platform(void);

/* CPU id the calling thread reports (default 0); must be < MS_MAX_CPUS.
 * Two threads may share an id (the per-CPU cache is locked), but scale best
 * with one id each. */
void ms_hosted_set_cpu(unsigned cpu);

/* Memory that backs frames [base_pfn, base_pfn + nr_frames) for zeroing;
 * frames outside it are not addressable (phys_to_virt gives NULL and the
 * runtime skips zeroing).  base NULL removes the backing. */
void ms_hosted_set_backing(void *base, uint64_t base_pfn, uint64_t nr_frames);

#endif /* METASLOT_MS_HOSTED_H */
