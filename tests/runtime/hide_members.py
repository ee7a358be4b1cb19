"""Rewrite a generated meta_slot header so that its struct members have other names.

The accessors inside the header are rewritten with them, so the header still
compiles; code outside it that names a member directly (slot->order,
slots[i].flags, offsetof(struct meta_slot, guard)) no longer does.  The
metadata lint compiles the runtime against the result: a type-aware check of
"metadata only through the generated accessors" that the compiler performs.

usage: hide_members.py LAYOUT_JSON HEADER_IN HEADER_OUT
"""
from __future__ import annotations

import json
import re
import sys

SUFFIX = "_reach_me_through_an_accessor"


def member_names(layout: dict) -> set[str]:
    names: set[str] = set()
    for member in layout["members"]:
        names.update(member["path"].split("."))
    return names


def hide(header: str, names: set[str]) -> str:
    alternatives = "|".join(sorted(map(re.escape, names), key=len, reverse=True))
    # s->name, s.name, a.b.name (accessor bodies, sizeof(((t *)0)->name))
    header = re.sub(rf"(->|\.)({alternatives})\b", rf"\1\2{SUFFIX}", header)
    # declarations inside the struct bodies: "... name;" or "... name[3];"
    header = re.sub(rf"(\s)({alternatives})(\[[^\]\n]*\])?;", rf"\1\2{SUFFIX}\3;", header)
    # the member argument of the layout checks: (struct x, name, ...) or (struct x, a.b, ...)
    header = re.sub(rf"(\(struct \w+, )({alternatives})\b", rf"\1\2{SUFFIX}", header)
    return header


def main(argv: list[str]) -> int:
    layout_path, header_in, header_out = argv
    with open(layout_path, encoding="utf-8") as handle:
        names = member_names(json.load(handle))
    with open(header_in, encoding="utf-8") as handle:
        header = handle.read()
    with open(header_out, "w", encoding="utf-8") as handle:
        handle.write(hide(header, names))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
