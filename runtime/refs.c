/*
 * References and vtables: get, put (the last put runs on_last_ref exactly
 * once and frees), set_vtable, and generational handle checks.
 * Only a block's head frame carries a refcount; tail frames refuse get/put.
 */
#include "slot.h"

/* The default vtable: no hooks. */
static const struct ms_vtable default_vtable;

static int ref_check(const struct ms_instance *inst, uint64_t pfn)
{
	if (!ms_ready(inst))
		return MS_EINVAL;
	if (!ms_pfn_in_span(inst, pfn))
		return MS_ERANGE;
	return MS_OK;
}

/* Why a frame whose refcount is `refs` holds no references get/put may use. */
static int refs_error(uint32_t refs)
{
	if (refs == MS_UNUSED)
		return MS_EDOUBLEFREE;
	return refs == 0 ? MS_EREFZERO : MS_OK;
}

/* The slot of a frame that holds references and their count, or why get and
 * put refuse the frame (it is free, cached, reserved or being released). */
static int referenced_slot(struct ms_instance *inst, uint64_t pfn, struct meta_slot **slot,
			   uint32_t *refs)
{
	int err = ref_check(inst, pfn);
	if (err != MS_OK)
		return err;
	*slot = ms_slot(inst, pfn);
	*refs = meta_slot_refcount_load(*slot);
	return refs_error(*refs);
}

/*
 * get and put move the count with a CAS from the value they checked, never
 * a blind add or subtract: a get or put racing a free, or two puts of the
 * last reference, leave one winner and an error for the other (never a count
 * moved off REFCOUNT_UNUSED or below zero).
 */
int ms_get(struct ms_instance *inst, uint64_t pfn)
{
	struct meta_slot *slot;
	uint32_t refs;
	int err = referenced_slot(inst, pfn, &slot, &refs);

	while (err == MS_OK) {
		if (refs == MS_UNUSED - 1)
			return MS_EOVERFLOW;
		if (meta_slot_refcount_cas(slot, &refs, refs + 1))
			return MS_OK;
		err = refs_error(refs);
	}
	return err;
}

/* The vtable a slot's value names; misaligned (or 0) gives the default. */
static const struct ms_vtable *vtable_of(uint64_t value)
{
	if (value == 0 || value % sizeof(struct ms_vtable) != 0)
		return &default_vtable;
	return (const struct ms_vtable *)(uintptr_t)value;
}

int ms_put(struct ms_instance *inst, uint64_t pfn)
{
	struct meta_slot *slot;
	uint32_t refs;
	int err = referenced_slot(inst, pfn, &slot, &refs);
	if (err != MS_OK)
		return err;
	while (!meta_slot_refcount_cas(slot, &refs, refs - 1)) {
		err = refs_error(refs);
		if (err != MS_OK)
			return err;
	}
	if (refs != 1)
		return MS_OK;

	/* Last reference: this thread alone moves the frame from 0 to free. */
#if defined(__SANITIZE_THREAD__)
	/* gcc's ThreadSanitizer has no fences: the same acquire, as a load. */
	(void)meta_slot_refcount_load(slot);
#else
	ms_last_ref_fence();
#endif
	unsigned order = meta_slot_order_load(slot);
	const struct ms_vtable *vtable = vtable_of(meta_slot_vtable_load(slot));
	if (vtable->on_last_ref != NULL)
		vtable->on_last_ref(inst, pfn, order, vtable->ctx);
	meta_slot_refcount_store(slot, MS_UNUSED);
	ms_slot_reset_free(slot);
	ms_free_released(inst, pfn, order);
	return MS_OK;
}

int ms_set_vtable(struct ms_instance *inst, uint64_t pfn, const struct ms_vtable *vtable)
{
	int err = ref_check(inst, pfn);
	if (err != MS_OK)
		return err;
	uint64_t value = (uint64_t)(uintptr_t)vtable;
	if (value % sizeof(struct ms_vtable) != 0)
		return MS_EINVAL;
	struct meta_slot *slot;
	uint32_t refs;
	err = referenced_slot(inst, pfn, &slot, &refs);
	if (err != MS_OK)
		return err;
	meta_slot_vtable_store(slot, value);
	return MS_OK;
}

bool ms_handle_live(const struct ms_instance *inst, struct ms_handle handle)
{
	if (!ms_ready(inst) || !ms_pfn_in_span(inst, handle.pfn))
		return false;
	struct meta_slot *slot = ms_slot(inst, handle.pfn);
	uint32_t refs = meta_slot_refcount_load(slot);
	return refs != MS_UNUSED && refs != 0 &&
	       meta_slot_generation_load(slot) == handle.generation;
}
