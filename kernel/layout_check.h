/* Boot-time proof that the compiled struct meta_slot matches the schema. */
#ifndef KERNEL_LAYOUT_CHECK_H
#define KERNEL_LAYOUT_CHECK_H

/* Prints one line per schema member (name, schema offset/size, compiled
 * offset/size, OK or MISMATCH) and a summary.  Returns the number of
 * mismatches (0 when the layout matches). */
unsigned layout_check(void);

#endif
