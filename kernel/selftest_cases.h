/*
 * The individual allocator self-tests (selftest.c runs them in order).
 * Each returns true on success, or false with a one-line reason in why.
 * Tests that change the free lists snapshot them first and check at the
 * end that they are exactly back (selftest_same_state), so every test can
 * run in any order and again from the shell.
 */
#ifndef KERNEL_SELFTEST_CASES_H
#define KERNEL_SELFTEST_CASES_H

#include <stdbool.h>
#include <stddef.h>

#include "kprintf.h"
#include "selftest_lib.h"

/* Writes the reason into why and returns false from the calling test. */
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		ksnprintf(why, why_bytes, __VA_ARGS__);                                            \
		return false;                                                                      \
	} while (0)

/* True if the zones match before (after draining caches) and pass ms_check. */
bool selftest_same_state(const struct zone_snapshot *before, char *why, size_t why_bytes);

/* selftest_blocks.c: whole-RAM and free-list behaviour */
bool selftest_alloc_all_free_all(char *why, size_t why_bytes);
bool selftest_alignment_no_overlap(char *why, size_t why_bytes);
bool selftest_double_free(char *why, size_t why_bytes);
bool selftest_poison_quarantine(char *why, size_t why_bytes);
bool selftest_zone_fallback(char *why, size_t why_bytes);

/* selftest_frames.c: single frames: zeroing, handles, references, caches */
bool selftest_zeroed_after_dirty(char *why, size_t why_bytes);
bool selftest_handle_stale(char *why, size_t why_bytes);
bool selftest_vtable_last_ref(char *why, size_t why_bytes);
bool selftest_pcp_conservation(char *why, size_t why_bytes);

#endif
