/*
 * Synchronisation of the runtime's own (non-metadata) state: the instance's
 * ticket lock, the per-CPU cache lock, relaxed per-CPU counters and the one
 * acquire fence of the last put.  This is the only file of runtime/ that names
 * a memory order; metadata is touched only through the generated accessors,
 * whose orders come from the schema.
 */
#ifndef MS_SYNC_H
#define MS_SYNC_H

#include <stdatomic.h>
#include <stdint.h>

#include "metaslot/ms.h"

static inline void ms_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("pause" ::: "memory");
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * Ticket lock: FIFO-fair, one atomic add to take a ticket, a release store to
 * pass the lock on.  Holders run with interrupts saved (see ms_lock_irq()).
 */
/* A spinning waiter pauses; every 64th round it calls the platform's
 * spin_wait hook if any (hosted threads can be preempted while holding or
 * next in line for a lock, so the hosted hook yields the CPU). */
static inline void ms_spin_wait(const struct ms_platform *platform, unsigned *nr_spins)
{
	if (++*nr_spins % 64 == 0 && platform->spin_wait != NULL)
		platform->spin_wait();
	else
		ms_cpu_relax();
}

static inline void ms_lock_init(struct ms_lock *lock)
{
	atomic_init(&lock->next_ticket, 0);
	atomic_init(&lock->now_serving, 0);
}

static inline void ms_lock_acquire(struct ms_lock *lock, const struct ms_platform *platform)
{
	uint32_t ticket = atomic_fetch_add_explicit(&lock->next_ticket, 1, memory_order_relaxed);
	unsigned nr_spins = 0;

	while (atomic_load_explicit(&lock->now_serving, memory_order_acquire) != ticket)
		ms_spin_wait(platform, &nr_spins);
}

static inline void ms_lock_release(struct ms_lock *lock)
{
	uint32_t serving = atomic_load_explicit(&lock->now_serving, memory_order_relaxed);
	atomic_store_explicit(&lock->now_serving, serving + 1, memory_order_release);
}

/*
 * Per-CPU cache lock: test-and-test-and-set.  Only the owning CPU takes it on
 * the hot path, so it is uncontended and costs one exchange; other CPUs take
 * it to drain the cache before out-of-memory (Linux protects its per-CPU
 * lists with a spinlock for the same reason).  The contended case is out of
 * line, so that the hot path keeps one exchange and no spin loop.
 */
__attribute__((noinline, unused)) static void
ms_pcp_lock_contended(struct ms_pcp *pcp, const struct ms_platform *platform)
{
	unsigned nr_spins = 0;

	do {
		while (atomic_load_explicit(&pcp->busy, memory_order_relaxed) != 0)
			ms_spin_wait(platform, &nr_spins);
	} while (atomic_exchange_explicit(&pcp->busy, 1, memory_order_acquire) != 0);
}

static inline void ms_pcp_lock(struct ms_pcp *pcp, const struct ms_platform *platform)
{
	if (atomic_exchange_explicit(&pcp->busy, 1, memory_order_acquire) != 0)
		ms_pcp_lock_contended(pcp, platform);
}

/*
 * The way in of a CPU holding the whole instance still (ms_freeze: before
 * out-of-memory, ms_stats, ms_mark_poisoned, ms_check).  An owner that
 * retakes its cache in a loop finds the line in its own cache each time and
 * wins every test-and-test-and-set race, which starved freezers (one
 * ms_stats snapshot over a whole churn).  A freezer therefore keeps an
 * exchange outstanding: the line moves to it as soon as the owner's release
 * lets it go, before the owner's next exchange.  The owner's fast path is
 * unchanged (a fair lock there cost 10% of a hot pair).
 */
__attribute__((unused)) static void ms_pcp_lock_priority(struct ms_pcp *pcp,
							 const struct ms_platform *platform)
{
	unsigned nr_spins = 0;

	while (atomic_exchange_explicit(&pcp->busy, 1, memory_order_acquire) != 0)
		ms_spin_wait(platform, &nr_spins);
}

static inline void ms_pcp_unlock(struct ms_pcp *pcp)
{
	atomic_store_explicit(&pcp->busy, 0, memory_order_release);
}

/* Counters written by one owner (under its lock) and read by anyone. */
static inline uint32_t ms_counter_load32(_Atomic uint32_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

static inline void ms_counter_store32(_Atomic uint32_t *counter, uint32_t value)
{
	atomic_store_explicit(counter, value, memory_order_relaxed);
}

static inline uint64_t ms_counter_load64(_Atomic uint64_t *counter)
{
	return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Owner-only increment: a load and a store, no locked instruction. */
static inline void ms_counter_bump64(_Atomic uint64_t *counter)
{
	uint64_t value = atomic_load_explicit(counter, memory_order_relaxed);
	atomic_store_explicit(counter, value + 1, memory_order_relaxed);
}

/* Owner-only decrement (under the lock its increments are made under). */
static inline void ms_counter_drop64(_Atomic uint64_t *counter)
{
	uint64_t value = atomic_load_explicit(counter, memory_order_relaxed);
	atomic_store_explicit(counter, value - 1, memory_order_relaxed);
}

/* A shared, rarely written flag (e.g. "some frame was poisoned"): set once,
 * never cleared; readers use ms_counter_load32. */
static inline void ms_flag_set_shared32(_Atomic uint32_t *flag)
{
	atomic_store_explicit(flag, 1, memory_order_seq_cst);
}

/*
 * The acquire fence of the last put: the refcount's decrement (a CAS whose
 * success order, from the schema, includes release) is a release,
 * so every earlier holder's writes to the frame happen before this fence and
 * so before on_last_ref and the free that follow it.
 */
static inline void ms_last_ref_fence(void)
{
	atomic_thread_fence(memory_order_acquire);
}

#endif /* MS_SYNC_H */
