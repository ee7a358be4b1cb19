#!/bin/sh
# Installed as <prefix>/bin/slotgen: runs the generator kept, with its
# templates, under <prefix>/share/metaslot/codegen.  Relocatable: the path is
# found from where this script is, so a DESTDIR staging tree works too.
self=$(readlink -f "$0" 2>/dev/null) || self=$0
exec "$(dirname "$self")/../share/metaslot/codegen/slotgen" "$@"
