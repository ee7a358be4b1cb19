/*
 * The two physical memory zones, each its own runtime instance over one
 * shared metadata array (one struct meta_slot per frame, pfn 0 up to the
 * highest usable frame):
 *   DMA     pfn [0, 4096)            below 16 MiB
 *   Normal  pfn [4096, max_pfn)      the rest, including RAM above 4 GiB
 * An allocation names a preferred zone; a Normal request falls back to DMA
 * only when Normal has nothing of that order.
 */
#ifndef KERNEL_ZONES_H
#define KERNEL_ZONES_H

#include <stdint.h>

#include "metaslot/ms.h"

#define ZONE_DMA_END_PFN 4096u /* 16 MiB */

enum zone_id {
	ZONE_DMA = 0,
	ZONE_NORMAL = 1,
	NR_ZONES = 2,
};

/* Places the metadata array with bootmem (size and alignment from the
 * runtime; above 16 MiB when RAM allows, so DMA frames stay for DMA, else
 * right after the kernel image), initialises both zones over it, then
 * hands every frame that bootmem leaves free to its zone.  Returns the
 * metadata array bytes. */
uint64_t zones_init(uint64_t max_pfn);

/* NULL when the zone is empty (e.g. no RAM above 16 MiB). */
struct ms_instance *zone_instance(enum zone_id zone);
const char *zone_name(enum zone_id zone);
/* The zone whose span holds pfn, or NULL. */
struct ms_instance *zone_of_pfn(uint64_t pfn);
uint64_t zones_max_pfn(void);
/* Where the metadata array lives (physical address and bytes). */
void zones_metadata(uint64_t *phys, uint64_t *nr_bytes);
/* Frames handed to the zones at boot. */
uint64_t zones_frames_managed(void);

/* Allocates from the preferred zone, falling back from Normal to DMA.
 * Returns MS_OK or the runtime's error; *served (optional) names the zone. */
int zones_alloc(enum zone_id preferred, const struct ms_alloc_opts *opts, struct ms_handle *out,
		enum zone_id *served);
/* Frees pfn in whichever zone holds it; MS_ERANGE if none does. */
int zones_free(uint64_t pfn, unsigned order);

/* Prints every zone's buddyinfo line (Linux /proc/buddyinfo format). */
void zones_print_buddyinfo(void);
/* Sum of free frames (lists + caches) over all zones. */
uint64_t zones_nr_free(void);

#endif
