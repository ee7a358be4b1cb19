"""The view of a layout that the C templates place: every name and number precomputed."""
from __future__ import annotations

import os
from typing import Any

from . import names
from .layout import C_SCALARS, Layout, Member, TargetLayout, array_align, group_targets
from .members import SCALAR_BYTES
from .model import Field, Schema, all_flags

TARGET_MACROS = {"x86_64": "__x86_64__", "i386": "__i386__", "aarch64": "__aarch64__"}


def comment_lines(text: str) -> list[str]:
    """Doc text made safe inside a /* */ comment: no comment delimiters, no trigraphs."""
    lines = []
    for raw in text.strip().splitlines():
        line = raw.replace("*/", "* /").replace("/*", "/ *")
        while "??" in line:  # "???/" must not leave a trigraph behind
            line = line.replace("??", "? ?")
        line = line.replace("\t", " ").rstrip()
        lines.append(line)
    return lines


def banner_label(schema: Schema) -> str:
    """The schema path made safe for a generated file's banner comment: bytes that are
    not UTF-8 and characters that are not printable are written as escapes."""
    raw = os.fsencode(schema_label(schema)).decode("utf-8", "backslashreplace")
    label = "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
                    for c in raw)
    return " ".join(comment_lines(label))


def schema_label(schema: Schema) -> str:
    """The schema path shown in banners: relative as given, else its base name."""
    return schema.path if not os.path.isabs(schema.path) else os.path.basename(schema.path)


def literal(scalar: str, value: int) -> str:
    """A C constant expression of the scalar type with this value.

    A signed type's value above its maximum (a flag on the top bit) is a bit
    pattern: it is written as the negative value with the same bits.
    """
    if scalar == "uptr":
        return f"((uintptr_t)UINT32_C({value:#x}))"
    bits = SCALAR_BYTES[scalar] * 8
    if scalar.startswith("i") and value >= 1 << (bits - 1):
        value -= 1 << bits
    if scalar.startswith("u"):
        return f"UINT{bits}_C({value if value < 0x10000 else hex(value)})"
    if value == -(1 << (bits - 1)):
        return f"INT{bits}_MIN"
    return f"INT{bits}_C({value})"


def unsigned_of(scalar: str) -> str:
    return "uint" + scalar.lstrip("ui") if scalar != "uptr" else "uintptr"


def declaration(schema: Schema, item: Field) -> str:
    tref = item.type
    if tref.is_scalar:
        ctype = C_SCALARS[tref.base]
        ctype = f"_Atomic {ctype}" if tref.atomic else ctype
        if tref.atomic and SCALAR_BYTES.get(tref.base) == 8:
            # gcc -m32 aligns a struct whose only member is an _Atomic 8-byte
            # integer to 4 unless the member says 8 itself (the psABI says 8).
            ctype += " _Alignas(8)"
    else:
        ctype = f"struct {names.aggregate_tag(schema.struct, tref.base)}"
    count = f"[{tref.count}]" if tref.count is not None else ""
    return f"{ctype} {item.name}{count};"


def _fields(schema: Schema, fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    return [{"decl": declaration(schema, f), "doc": comment_lines(f.doc)} for f in fields]


def _aggregates_in_order(schema: Schema) -> list:
    done: list = []

    def visit(name: str) -> None:
        agg = schema.aggregate(name)
        if agg is None or agg in done:
            return
        for f in agg.fields:
            if not f.type.is_scalar:
                visit(f.type.base)
        done.append(agg)

    for agg in schema.types:
        visit(agg.name)
    return done


def _member_macros(schema: Schema, tl: TargetLayout) -> dict[str, Any]:
    p = schema.prefix
    return {
        "size": tl.size, "align": tl.align,
        "members": [{"offset_name": names.member_macro(p, m.path, "OFFSET"), "offset": m.offset,
                     "size_name": names.member_macro(p, m.path, "SIZE"), "size": m.size,
                     "dotted": m.dotted} for m in tl.members],
    }


def _groups(layout: Layout) -> list[dict[str, Any]]:
    """Targets with identical layouts share one block of macros."""
    groups = group_targets(layout, lambda tl: _member_macros(layout.schema, tl))
    return [{"view": view, "targets": targets,
             "cond": " || ".join(f"defined({TARGET_MACROS[t]})" for t in targets)}
            for view, targets in groups]


def _asserts(layout: Layout) -> list[dict[str, Any]]:
    schema = layout.schema
    out = []
    for tl in layout.targets:
        checks = []
        for agg in _aggregates_in_order(schema):
            shape = tl.types[agg.name]
            checks.append({"type": f"struct {names.aggregate_tag(schema.struct, agg.name)}",
                           "size": shape.size, "align": shape.align,
                           "members": [(m.dotted, m.offset, m.size) for m in shape.members]})
        out.append({"target": tl.target, "macro": TARGET_MACROS[tl.target], "aggregates": checks,
                    "size": tl.size, "align": tl.align,
                    "members": [(m.dotted, m.offset, m.size) for m in tl.members]})
    return out


def _accessors(schema: Schema, m: Member) -> list[dict[str, Any]]:
    tref = m.field.type
    ctype = C_SCALARS.get(tref.base, "")
    out = []
    for op in m.field.ops:
        out.append({"op": op.name, "fn": names.accessor(schema.struct, m.path, op.name),
                    "ctype": ctype, "expr": m.dotted, "orders": list(op.orders),
                    "dotted": m.dotted})
    return out


def _bit_views(schema: Schema, m: Member) -> list[dict[str, Any]]:
    f = m.field
    ops = {op.name: op.orders for op in f.ops}
    utype = unsigned_of(f.type.base) + "_t"
    out = []
    for sub in f.bits:
        mask = ((1 << sub.width) - 1) << sub.lsb
        out.append({
            "doc": comment_lines(sub.doc), "dotted": f"{m.dotted}.{sub.name}",
            "shift_name": names.bits_macro(schema.prefix, m.path, sub.name, "SHIFT"),
            "width_name": names.bits_macro(schema.prefix, m.path, sub.name, "WIDTH"),
            "mask_name": names.bits_macro(schema.prefix, m.path, sub.name, "MASK"),
            "shift": sub.lsb, "width": sub.width, "mask": literal("u" + utype[4:-2], mask),
            "getter": names.accessor(schema.struct, m.path + (sub.name,), "get"),
            "setter": names.accessor(schema.struct, m.path + (sub.name,), "set"),
            "utype": utype, "ctype": C_SCALARS[f.type.base], "expr": m.dotted,
            "atomic": f.type.atomic, "load": (ops.get("load") or ("relaxed",))[0],
            "cas": list(ops.get("cas") or ("relaxed", "relaxed")),
        })
    return out


def build(layout: Layout) -> dict[str, Any]:
    schema = layout.schema
    p = schema.prefix
    members = layout.primary.members
    lock_free = {1: "ATOMIC_CHAR_LOCK_FREE", 2: "ATOMIC_SHORT_LOCK_FREE",
                 4: "ATOMIC_INT_LOCK_FREE", 8: "ATOMIC_LLONG_LOCK_FREE"}
    atomics = [{"bytes": size, "macro": lock_free[size]}
               for size in sorted({m.size for t in layout.targets for m in t.members
                                     if m.field.type.atomic})]
    return {
        "schema": banner_label(schema), "sha256": schema.sha256,
        "struct": schema.struct,
        "prefix": p, "doc": comment_lines(schema.doc),
        "guard": names.guard(p, "H"), "members_guard": names.guard(p, "MEMBERS_H"),
        "targets": [{"name": t, "macro": TARGET_MACROS[t]} for t in schema.targets],
        "aggregates": [{"tag": names.aggregate_tag(schema.struct, a.name),
                        "doc": comment_lines(a.doc), "fields": _fields(schema, a.fields)}
                       for a in _aggregates_in_order(schema)],
        "fields": _fields(schema, schema.fields),
        "groups": _groups(layout), "asserts": _asserts(layout),
        "array_align": array_align(layout),
        "constants": [{"name": names.constant_macro(p, c.name), "value": literal(c.type, c.value),
                       "doc": comment_lines(c.doc)} for c in schema.constants],
        "flag_sets": [{"name": fs.name, "doc": comment_lines(fs.doc), "flags": [
            {"name": names.flag_macro(p, fs.name, f.name), "value": literal(fs.type, f.mask),
             "bit": f.bit, "doc": comment_lines(f.doc)} for f in fs.flags],
            "all_name": names.flag_set_all_macro(p, fs.name),
            "all_value": literal(fs.type, all_flags(fs))}
            for fs in schema.flag_sets],
        "lock_free": atomics,
        "accessors": [a for m in members for a in _accessors(schema, m)],
        "bits": [b for m in members for b in _bit_views(schema, m)],
        "check_macro": f"{p}_LAYOUT_CHECK_",
    }
