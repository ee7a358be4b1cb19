#!/bin/bash
# The runtime reaches metadata only through the generated accessors and
# constants: no memory order outside runtime/sync.h (its own lock, counters
# and the one acquire fence), no offsetof, no hand-written member access of
# struct meta_slot, no hard-coded flag bits.  Prints each offending line.
#
# Member access is checked by the compiler, not by pattern: every runtime
# file is compiled against a copy of the generated header whose struct
# members carry other names (hide_members.py), so any direct access fails to
# compile, whatever the variable or expression is called.
# Environment: PYTHON (default /usr/bin/python3), GEN (default build/gen), CC.
set -u
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
GEN=${GEN:-build/gen}
CC=${CC:-cc}
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
hidden=$(mktemp -d)
trap 'rm -rf "$hidden"' EXIT
"$PYTHON" tests/runtime/hide_members.py "$GEN/meta_slot.layout.json" "$GEN/meta_slot.h" \
	"$hidden/meta_slot.h" || exit 1
printf '#include "meta_slot.h"\nunsigned probe(struct meta_slot *m) { return m->order; }\n' \
	>"$hidden/probe.c"
if "$CC" -std=c11 -fsyntax-only -I"$hidden" "$hidden/probe.c" 2>/dev/null; then
	report "the hidden-member header still lets m->order compile" "$hidden/meta_slot.h"
fi
for file in $(find runtime -name '*.c' | sort); do
	hits=$("$CC" -std=c11 -fsyntax-only -D_POSIX_C_SOURCE=200809L -Iruntime/include -Iruntime \
		-I"$hidden" "$file" 2>&1)
	[ -z "$hits" ] || report "direct member access of struct meta_slot in $file" "$hits"
done
hits=$(grep -HnE '\b(0x[0-9a-fA-F]*[1-9a-fA-F][0-9a-fA-F]*|[0-9]+)[uU]?[lL]*\s*<<\s*(8|9|10|11|12|31)\b|0x80000000|0xffffffff|0xFFFFFFFF' $files)
[ -z "$hits" ] || report "hard-coded flag bit or sentinel" "$hits"
if [ $status -eq 0 ]; then
	echo "metadata lint: OK ($(echo $files | wc -w) files)"
fi
exit $status
