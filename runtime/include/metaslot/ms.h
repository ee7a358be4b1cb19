/*
 * metaslot runtime: a buddy allocator of physical frames whose only view of
 * frame metadata is the generated `struct meta_slot` (build/gen/meta_slot.h).
 *
 * This header is the whole public API.  It is freestanding: it includes only
 * <stdint.h>, <stddef.h>, <stdbool.h> and <stdatomic.h>, and does not need the
 * generated header (struct meta_slot is only named).
 *
 * Units: a pfn is a frame number (physical address >> 12); an order k names a
 * block of 2^k frames whose first pfn is a multiple of 2^k; *_bytes are bytes.
 *
 * Life of an instance (one zone or NUMA node):
 *
 *   static struct ms_instance normal;
 *   size_t bytes = ms_metadata_bytes(nr_frames);      // array the embedder owns,
 *   struct meta_slot *slots = ...;                     // ms_metadata_align() aligned
 *   ms_init(&normal, &my_platform, slots, base_pfn, nr_frames, "Normal", 0);
 *   ms_add_range(&normal, start_pfn, nr_frames);       // once per usable range
 *   struct ms_alloc_opts opts = { .order = 0 };        // zeroed, kernel purpose
 *   struct ms_handle h;
 *   if (ms_alloc(&normal, &opts, &h) == MS_OK) { ... ms_free(&normal, h.pfn, 0); }
 *
 * Concurrency: every function may be called from any thread/CPU at any time,
 * except ms_init, ms_add_range, ms_set_cache_enabled (call before sharing the
 * instance) and ms_check (call while no other operation runs on it).  Each
 * instance has a ticket lock; each CPU's cache (blocks of orders 0 to
 * MS_PCP_MAX_ORDER) has its own lock, uncontended except while the whole
 * instance is held still: the last attempt before MS_ENOMEM, ms_stats,
 * ms_mark_poisoned and ms_check take every cache's lock.
 * Interrupt handlers may allocate only if the platform's irq_save masks them.
 *
 * Errors: caller mistakes return a negative enum ms_err value and change
 * nothing; ms_strerror() names it.  Internal corruption (a failed claim CAS,
 * broken lists, refcount underflow) calls platform->panic, which must not
 * return (a hook that returns anyway meets a trap instruction rather than
 * corrupt state: ud2 on x86, SIGILL hosted; brk on arm64, SIGTRAP hosted).
 */
#ifndef METASLOT_MS_H
#define METASLOT_MS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct meta_slot;

/* Largest buddy order (default 10: 4 MiB blocks); build-time, up to 30. */
#ifndef MS_MAX_ORDER
#define MS_MAX_ORDER 10
#endif
#define MS_NR_ORDERS (MS_MAX_ORDER + 1)

/* Number of per-CPU caches per instance; cpu ids are 0..MS_MAX_CPUS-1. */
#ifndef MS_MAX_CPUS
#define MS_MAX_CPUS 16
#endif

/* Largest order the per-CPU caches hold (default 3, Linux's "costly" order:
 * blocks up to 32 KiB skip the instance lock; larger ones always take it). */
#ifndef MS_PCP_MAX_ORDER
#define MS_PCP_MAX_ORDER 3
#endif
#define MS_PCP_NR_ORDERS (MS_PCP_MAX_ORDER + 1)

/* Frames one per-CPU cache holds at most per order, and frames moved per
 * refill/drain: MS_PCP_CAPACITY >> k and MS_PCP_BATCH >> k blocks of order k. */
#ifndef MS_PCP_CAPACITY
#define MS_PCP_CAPACITY 256
#endif
#ifndef MS_PCP_BATCH
#define MS_PCP_BATCH 64
#endif

/* Usable ranges one instance can be given. */
#ifndef MS_MAX_RANGES
#define MS_MAX_RANGES 32
#endif

_Static_assert(MS_MAX_ORDER >= 0 && MS_MAX_ORDER <= 30, "MS_MAX_ORDER out of range");
_Static_assert(MS_PCP_BATCH > 0 && MS_PCP_BATCH <= MS_PCP_CAPACITY, "bad per-CPU batch");
_Static_assert(MS_PCP_MAX_ORDER >= 0 && MS_PCP_MAX_ORDER <= MS_MAX_ORDER &&
		       (MS_PCP_BATCH >> MS_PCP_MAX_ORDER) > 0,
	       "MS_PCP_MAX_ORDER: at most MS_MAX_ORDER, and a batch holds one block of it");

/* Error codes: 0 is success, every error is negative. */
enum ms_err {
	MS_OK = 0,
	MS_ENOMEM = -1,        /* no free block of the order anywhere (caches drained) */
	MS_EORDER = -2,        /* order > MS_MAX_ORDER */
	MS_ERANGE = -3,        /* pfn or range outside the instance's span */
	MS_EALIGN = -4,        /* pfn not aligned to the order */
	MS_EDOUBLEFREE = -5,   /* free/put of a free, cached, quarantined or reserved frame */
	MS_EWRONGORDER = -6,   /* free with an order other than the allocation's */
	MS_EREFZERO = -7,      /* get/put on a frame whose refcount is 0 (being released) */
	MS_EBUSY = -8,         /* free while other references are held (refcount > 1) */
	MS_EOVERLAP = -9,      /* add_range over frames already added */
	MS_EINVAL = -10,       /* bad argument (NULL, bad flags, bad cpu, too many ranges) */
	MS_ENOSPC = -11,       /* caller buffer too small */
	MS_ECORRUPT = -12,     /* ms_check found a broken invariant */
	MS_EOVERFLOW = -13,    /* get would overflow the refcount */
};

/* Name of an error code ("MS_ENOMEM: ..."); never NULL. */
const char *ms_strerror(int err);

/*
 * Platform hooks.  Hooks marked optional may be NULL.
 *  irq_save/irq_restore  (optional) bracket every locked section and every
 *                        per-CPU cache access; kernels disable interrupts.
 *  cpu_id                (optional, NULL = always 0) current CPU, < MS_MAX_CPUS.
 *  phys_to_virt          (optional) address to zero a frame through; NULL hook
 *                        means frames are not addressable and are not zeroed.
 *                        A frame it gives NULL for is not zeroed.  A block whose
 *                        first and last frames map exactly one block's length
 *                        apart is zeroed with one memset; any other block
 *                        frame by frame.
 *  panic                 (required) internal corruption; must not return
 *                        (if it does, the runtime traps).
 *  memset                (required) used for zeroing.
 *  spin_wait             (optional) called now and then while spinning on a
 *                        lock; hosted builds yield, kernels leave it NULL.
 */
struct ms_platform {
	unsigned long (*irq_save)(void);
	void (*irq_restore)(unsigned long irq_state);
	unsigned int (*cpu_id)(void);
	void *(*phys_to_virt)(uint64_t phys_addr);
	void (*panic)(const char *what, uint64_t pfn, uint64_t value);
	void *(*memset)(void *dst, int byte, size_t nr_bytes);
	void (*spin_wait)(void);
};

/*
 * A frame's vtable: the slot's `vtable` member holds its address (0 = the
 * default vtable, which has no hooks).  An address that is not 64-byte aligned
 * is treated as the default vtable.  on_last_ref runs exactly once, when the
 * last reference is put, before the block is freed; on_unmap is for embedders.
 */
struct ms_instance;
struct ms_vtable {
	_Alignas(64) void (*on_last_ref)(struct ms_instance *inst, uint64_t pfn, unsigned order,
					  void *ctx);
	void (*on_unmap)(struct ms_instance *inst, uint64_t pfn, void *ctx);
	void *ctx;
	unsigned char reserved[64 - 3 * sizeof(void *)];
};
_Static_assert(sizeof(struct ms_vtable) == 64, "struct ms_vtable is 64 bytes");

/* Allocation purpose: stamps frame_flags; PAGE_TABLE forces zeroing. */
enum ms_purpose {
	MS_PURPOSE_KERNEL = 0,
	MS_PURPOSE_USER = 1,
	MS_PURPOSE_PAGE_TABLE = 2,
	MS_PURPOSE_CUSTOM = 3, /* stamp only opts.custom_flags */
};

/* ms_alloc_opts.flags */
#define MS_ALLOC_NOZERO 0x1u   /* do not zero (ignored for MS_PURPOSE_PAGE_TABLE) */
#define MS_ALLOC_NOCACHE 0x2u  /* bypass the per-CPU cache (orders 0..MS_PCP_MAX_ORDER) */
#define MS_ALLOC_CPU_HINT 0x4u /* use opts.cpu's cache instead of platform cpu_id */

/* Zero-initialised options mean: order 0, zeroed, kernel purpose, current CPU. */
struct ms_alloc_opts {
	unsigned order;
	uint32_t flags;        /* MS_ALLOC_* */
	enum ms_purpose purpose;
	uint32_t custom_flags; /* extra frame_flags (COW, DLL, ANONYMOUS, MOVABLE, ...);
				  ALLOCATED, FREE, POISONED and bits the schema does
				  not name are rejected (MS_EINVAL) */
	unsigned cpu;          /* with MS_ALLOC_CPU_HINT */
};

/* A generational handle: still live iff the frame was not freed since. */
struct ms_handle {
	uint64_t pfn;
	uint32_t generation;
};

/* One block (quarantine listing). */
struct ms_block {
	uint64_t pfn;
	unsigned order;
};

/* ---- internal state, public only so that embedders can allocate it ---- */
struct ms_lock {
	_Atomic uint32_t next_ticket;
	_Atomic uint32_t now_serving;
};

/* One order's cached blocks (head PFNs), the most recent on top. */
struct ms_pcp_stack {
	_Atomic uint32_t nr_blocks;
	uint64_t pfns[MS_PCP_CAPACITY];
};

struct ms_pcp {
	_Alignas(64) _Atomic uint32_t busy; /* per-cache spinlock, see sync.h */
	_Atomic uint64_t nr_alloc_events; /* owner-written counters, summed on read */
	_Atomic uint64_t nr_free_events;
	struct ms_pcp_stack stacks[MS_PCP_NR_ORDERS]; /* stacks[k]: blocks of order k */
};

struct ms_range {
	uint64_t start_pfn;
	uint64_t nr_frames;
};

struct ms_instance {
	struct ms_platform platform;  /* ms_init's copy of the hooks */
	struct meta_slot *slots;      /* slots[pfn - base_pfn] */
	uint64_t base_pfn;
	uint64_t nr_frames;           /* span */
	const char *name;
	uint32_t numa_node;
	bool cache_enabled;
	_Atomic uint32_t nr_poison_marks; /* 1 once ms_mark_poisoned ran: frees scan blocks */
	/* The fields above are read on every call and written only by ms_init,
	 * ms_set_cache_enabled and (once) ms_mark_poisoned.  The lock has a
	 * cache line of its own, and the state it protects starts another:
	 * waiters spinning on the lock never steal the read-mostly line or the
	 * lines the holder is writing. */
	_Alignas(64) struct ms_lock lock; /* protects everything below up to pcp */
	_Alignas(64) uint64_t free_head[MS_NR_ORDERS];
	uint64_t nr_free_blocks[MS_NR_ORDERS];
	uint64_t nr_free_frames;      /* on buddy lists */
	uint64_t quarantine_head;
	uint64_t nr_quarantined_blocks;
	uint64_t nr_quarantined_frames;
	uint64_t nr_usable_frames;
	uint64_t nr_locked_alloc_events;
	uint64_t nr_locked_free_events;
	unsigned nr_ranges;
	struct ms_range ranges[MS_MAX_RANGES];
	struct ms_pcp pcp[MS_MAX_CPUS];
};

/* Totals; cached frames count as free.  One consistent snapshot (the whole
 * instance held still); a block between a cache and its caller counts as
 * allocated. */
struct ms_stats {
	uint64_t nr_frames;        /* span */
	uint64_t nr_reserved;      /* span frames never added */
	uint64_t nr_free;          /* buddy lists + per-CPU caches */
	uint64_t nr_cached;        /* of which in per-CPU caches */
	uint64_t nr_allocated;
	uint64_t nr_quarantined;
	uint64_t nr_quarantined_blocks;
	uint64_t nr_free_blocks[MS_NR_ORDERS]; /* buddy lists only */
	uint64_t nr_cached_blocks[MS_NR_ORDERS]; /* per-CPU caches only */
	uint64_t nr_alloc_events;  /* successful allocations, all CPUs */
	uint64_t nr_free_events;   /* frees (direct and last put) */
};

/* Fragmentation: unusable_free_permille[k] is the share of free frames that
 * cannot serve an order-k request (Linux's unusable free index), in 1/1000. */
struct ms_frag {
	int largest_free_order;    /* -1 when nothing is free on the lists */
	unsigned unusable_free_permille[MS_NR_ORDERS];
};

/* Instances tried in order by ms_alloc_zones (e.g. {normal, dma}). */
struct ms_zonelist {
	unsigned nr_instances;
	struct ms_instance *instances[8];
};

/* ---- metadata array ---- */
size_t ms_metadata_bytes(uint64_t nr_frames);      /* bytes for a span of nr_frames */
size_t ms_metadata_align(void);                    /* required array alignment */
/* Bytes of the slots of [first_pfn, first_pfn + nr_frames); NULL if outside span. */
const void *ms_metadata_of(const struct ms_instance *inst, uint64_t first_pfn,
			   uint64_t nr_frames, size_t *nr_bytes);

/* ---- set-up ---- */
/* All span frames start reserved; the hook table is copied.  MS_EINVAL on
 * NULL arguments, a missing panic or memset hook, or misaligned slots;
 * MS_ERANGE on a span that wraps, reaches LINK_NONE, or whose array or
 * physical addresses cannot exist.  After a failure every call refuses the
 * instance with MS_EINVAL (as one never initialised and zeroed). */
int ms_init(struct ms_instance *inst, const struct ms_platform *platform,
	    struct meta_slot *slots, uint64_t base_pfn, uint64_t nr_frames,
	    const char *name, uint32_t numa_node);
/* Makes [start_pfn, start_pfn + nr_frames) usable, carved into naturally
 * aligned blocks.  MS_ERANGE outside span, MS_EOVERLAP, MS_EINVAL (too many). */
int ms_add_range(struct ms_instance *inst, uint64_t start_pfn, uint64_t nr_frames);
void ms_set_cache_enabled(struct ms_instance *inst, bool enabled);

/* ---- allocation ---- */
int ms_alloc(struct ms_instance *inst, const struct ms_alloc_opts *opts,
	     struct ms_handle *out);
/* Tries each instance in order; *from (optional) gets the one that served. */
int ms_alloc_zones(const struct ms_zonelist *zones, const struct ms_alloc_opts *opts,
		   struct ms_handle *out, struct ms_instance **from);
/* Frees an allocation whose refcount is 1 (MS_EBUSY if more refs are held). */
int ms_free(struct ms_instance *inst, uint64_t pfn, unsigned order);
int ms_get(struct ms_instance *inst, uint64_t pfn);
/* Drops a reference; the last one calls vtable on_last_ref and frees. */
int ms_put(struct ms_instance *inst, uint64_t pfn);
/* Sets the frame's vtable (NULL = default).  MS_EINVAL if not 64-byte aligned. */
int ms_set_vtable(struct ms_instance *inst, uint64_t pfn, const struct ms_vtable *vtable);
/* Whether the frame is allocated and still in the handle's epoch.  The
 * generation moves on when the frame is released and again when it is next
 * claimed, so a handle is stale from its free on, also during a racing
 * reallocation. */
bool ms_handle_live(const struct ms_instance *inst, struct ms_handle handle);

/* ---- poison and quarantine ---- */
/* Marks a frame poisoned; a free or cached block containing it is quarantined
 * at once, an allocated one when it is freed.  (A guard bit set by other
 * means is honoured only when the frame is next handed out as a block head.) */
int ms_mark_poisoned(struct ms_instance *inst, uint64_t pfn);
/* Copies up to max_blocks quarantined blocks; *nr_blocks gets the total. */
int ms_quarantine_list(struct ms_instance *inst, struct ms_block *out, size_t max_blocks,
		       size_t *nr_blocks);

/* ---- per-CPU caches ---- */
void ms_cache_drain(struct ms_instance *inst, unsigned cpu);
void ms_cache_drain_all(struct ms_instance *inst);

/* ---- observability ---- */
void ms_stats(struct ms_instance *inst, struct ms_stats *out);
void ms_fragmentation(struct ms_instance *inst, struct ms_frag *out);
/* "Node 0, zone   Normal   3   1 ...\n" (free blocks per order, like
 * /proc/buddyinfo).  Returns bytes written (without NUL) or MS_ENOSPC. */
int ms_dump(struct ms_instance *inst, char *buf, size_t buf_bytes);
/* Walks every list and slot; MS_OK or MS_ECORRUPT with a message in msg. */
int ms_check(struct ms_instance *inst, char *msg, size_t msg_bytes);

#endif /* METASLOT_MS_H */
