#!/bin/bash
# Proves that the runtime depends on the schema only through the generated
# header: generates meta_slot.h from tests/runtime/shifted_slot.yaml (every
# member moved, reserved bytes rearranged, flag bits and sub-fields moved,
# every access seq_cst) into a temporary directory, rebuilds the
# runtime and its Check suites against it, and runs them.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=${PYTHON:-/usr/bin/python3}
MAKE=${MAKE:-make}
work=$(mktemp -d "${TMPDIR:-/tmp}/metaslot-shifted.XXXXXX")
trap 'rm -rf "$work"' EXIT

mkdir -p "$work/gen" "$work/base"
"$PYTHON" codegen/slotgen generate tests/runtime/shifted_slot.yaml -o "$work/gen"
offset() { sed -n "s/^#define META_SLOT_$1_OFFSET \([0-9]*\)$/\1/p" "$2/meta_slot.h"; }
base_gen=build/gen
[ -f "$base_gen/meta_slot.h" ] || "$PYTHON" codegen/slotgen generate layout/slot.yaml -o "$work/base"
[ -f "$base_gen/meta_slot.h" ] || base_gen="$work/base"
for member in REFCOUNT FLAGS FREE_LINK_NEXT GENERATION GUARD VTABLE ORDER META_AUX; do
	if [ "$(offset "$member" "$work/gen")" = "$(offset "$member" "$base_gen")" ]; then
		echo "shifted layout: $member did not move; the test would prove nothing" >&2
		exit 1
	fi
done
weaker=$(grep -Eo 'memory_order_(relaxed|consume|acquire|release|acq_rel)' "$work/gen/meta_slot.h" | sort -u || true)
if [ -n "$weaker" ]; then
	echo "shifted layout: accessors still use $(echo $weaker); every order must change" >&2
	exit 1
fi
echo "shifted layout: every member moved, every access is seq_cst; running the runtime suites against it"
MS_STRESS_OPS=${MS_STRESS_OPS:-200000} "$MAKE" --no-print-directory -s \
	RUNTIME_GEN_INC="$work/gen" RUNTIME_OUT="$work/runtime" test-runtime
