#!/bin/bash
# The runtime reaches metadata only through the generated accessors and
# constants: no memory order outside runtime/sync.h (its own lock, counters
# and the one acquire fence), no offsetof, no hand-written member access of
# struct meta_slot, no hard-coded flag bits.  Prints each offending line.
set -u
cd "$(dirname "$0")/../.."
status=0
report() {
	echo "metadata lint: $1" >&2
	echo "$2" >&2
	status=1
}
files=$(find runtime -name '*.[ch]' ! -path runtime/sync.h | sort)
hits=$(grep -Hn 'memory_order_\|atomic_thread_fence\|__atomic_' $files)
[ -z "$hits" ] || report "memory order outside runtime/sync.h" "$hits"
hits=$(grep -Hn 'offsetof\|__builtin_offsetof' $files)
[ -z "$hits" ] || report "offsetof in the runtime" "$hits"
members='free_link|vtable|flags|order|refcount|generation|guard|meta_aux|_reserved0|_reserved_tail|next|prev'
hits=$(grep -HnE "(->|\.)($members)\b" $files | grep -v 'meta_slot_' | grep -E 'slot(s)?(\[[^]]*\])?(->|\.)')
[ -z "$hits" ] || report "direct member access of struct meta_slot" "$hits"
hits=$(grep -HnE '\b(0x[0-9a-fA-F]*[1-9a-fA-F][0-9a-fA-F]*|[0-9]+)[uU]?[lL]*\s*<<\s*(8|9|10|11|12|31)\b|0x80000000|0xffffffff|0xFFFFFFFF' $files)
[ -z "$hits" ] || report "hard-coded flag bit or sentinel" "$hits"
if [ $status -eq 0 ]; then
	echo "metadata lint: OK ($(echo $files | wc -w) files)"
fi
exit $status
