"""The Rust view of a layout: `<struct>.rs`, every name and number precomputed here.

The Rust file mirrors the C header: `#[repr(C)]` structs whose atomic members
are `core::sync::atomic` types, the same constants (C names, `usize` offsets),
compile-time asserts of every offset and size per target, and one method per
schema op carrying exactly the schema's `Ordering`s.  It uses only `core`, so it
builds in `no_std` crates; include it with `#[allow(dead_code)] mod <struct>;`.
Targets with identical layouts share one `#[cfg(target_arch)]` module of
constants and asserts; rustc >= 1.77 is needed for `core::mem::offset_of!`.
"""
from __future__ import annotations

from typing import Any

from . import cview, names
from . import render as rendering
from .layout import Layout, Member, TargetLayout, array_align, group_targets
from .errors import Collector, Loc
from .model import Field, Schema, all_flags

RUST_ARCH = {"x86_64": "x86_64", "i386": "x86", "aarch64": "aarch64"}
RUST_ORDERING = {"relaxed": "Relaxed", "acquire": "Acquire", "release": "Release",
                 "acq_rel": "AcqRel", "seq_cst": "SeqCst"}
PLAIN = {"u8": "u8", "u16": "u16", "u32": "u32", "u64": "u64", "i8": "i8", "i16": "i16",
         "i32": "i32", "i64": "i64", "uptr": "usize"}
ATOMIC = {"u8": "AtomicU8", "u16": "AtomicU16", "u32": "AtomicU32", "u64": "AtomicU64",
          "i8": "AtomicI8", "i16": "AtomicI16", "i32": "AtomicI32", "i64": "AtomicI64",
          "uptr": "AtomicUsize"}
# Strict and reserved keywords of edition 2021 that `r#` makes usable as names.
KEYWORDS = frozenset(
    "as async await break const continue dyn else enum extern false fn for if impl in let loop "
    "match mod move mut pub ref return static struct trait true type unsafe use where while "
    "abstract become box do final gen macro override priv try typeof unsized virtual yield".split())
# Keywords a raw identifier cannot spell: these get a trailing '_'.
NOT_RAW = frozenset(("self", "Self", "super", "crate", "_"))
# Rust method name of each schema op (C11 atomic_exchange is Rust's swap).
METHOD = {"load": "load", "store": "store", "cas": "compare_exchange", "fetch_add": "fetch_add",
          "fetch_sub": "fetch_sub", "fetch_or": "fetch_or", "fetch_and": "fetch_and",
          "exchange": "swap"}


def ident(name: str) -> str:
    """A schema name as a Rust identifier (raw where it is a keyword)."""
    if name in NOT_RAW:
        return name + "_"
    return f"r#{name}" if name in KEYWORDS else name


def camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_") if part)


def type_name(schema: Schema, aggregate: str | None = None) -> str:
    """`meta_slot` -> MetaSlot; its aggregate `free_list_link` -> MetaSlotFreeListLink."""
    if aggregate is None:
        return camel(schema.struct)
    return camel(names.aggregate_tag(schema.struct, aggregate))


def field_type(schema: Schema, item: Field) -> str:
    tref = item.type
    if not tref.is_scalar:
        base = type_name(schema, tref.base)
    else:
        base = ATOMIC[tref.base] if tref.atomic else PLAIN[tref.base]
    return f"[{base}; {tref.count}]" if tref.count is not None else base


def literal(scalar: str, value: int) -> str:
    """A Rust constant of the scalar type, hex with '_' groups for large unsigned values."""
    rtype = PLAIN[scalar]
    signed_top_bit = rtype.startswith("i") and value >= 1 << (int(rtype[1:]) - 1)
    if value < 0:
        bits = int(rtype[1:])
        return f"{rtype}::MIN" if value == -(1 << (bits - 1)) else str(value)
    if value < 0x8000 and not signed_top_bit:
        return str(value)
    digits = f"{value:x}"
    groups = []
    while digits:
        groups.insert(0, digits[-4:])
        digits = digits[:-4]
    text = "0x" + "_".join(groups)
    if signed_top_bit:
        return f"{text}_u{rtype[1:]} as {rtype}"  # a top-bit flag of a signed flag set
    return text


def _check_type_name(rust_name: str, what: str, loc: Loc, taken: set[str],
                     errors: Collector) -> None:
    if not rust_name or rust_name[0].isdigit():
        errors.error(loc, f"{what} has no usable Rust type name ('{rust_name}': the Rust view "
                     "drops '_' and capitalises each word)", "give it a name with a letter")
    elif rust_name in taken:
        errors.error(loc, f"{what} is '{rust_name}' in the Rust view, a name it imports from "
                     "core or that Rust reserves", "rename it")


def check_names(layout: Layout, errors: Collector) -> None:
    """Names distinct in C that the Rust view would spell alike (`self` and `self_` are
    both `self_`; types `a_b` and `aB` are both `SAB`), and type names Rust cannot use."""
    schema = layout.schema
    taken = set(imports(layout)) | {"Self"}
    _check_type_name(type_name(schema), "the struct", schema.struct_loc, taken, errors)
    for agg in schema.types:
        _check_type_name(type_name(schema, agg.name), f"type '{agg.name}'", agg.loc, taken,
                         errors)
    seen_types: dict[str, str] = {type_name(schema): "the struct"}
    for agg in schema.types:
        rust_name = type_name(schema, agg.name)
        if rust_name in seen_types:
            errors.error(agg.loc, f"type '{agg.name}' and {seen_types[rust_name]} are both "
                         f"'{rust_name}' in the Rust view", "rename one of them")
        seen_types.setdefault(rust_name, f"type '{agg.name}'")
    for owner, fields in [("the struct", schema.fields)] + \
            [(f"type '{t.name}'", t.fields) for t in schema.types]:
        seen: dict[str, str] = {}
        for item in fields:
            rust_name = ident(item.name)
            if rust_name in seen:
                errors.error(item.loc, f"members '{seen[rust_name]}' and '{item.name}' of {owner} "
                             f"are both '{rust_name}' in the Rust view", "rename one of them")
            seen.setdefault(rust_name, item.name)


def doc_lines(text: str) -> list[str]:
    return [line.replace("\t", " ").rstrip() for line in text.strip().splitlines()]


def _place(path: tuple[str, ...]) -> str:
    """Field path as a Rust place expression below `self`: `free_link.next`."""
    return ".".join(ident(part) for part in path)


def _offset_expr(schema: Schema, path: tuple[str, ...]) -> str:
    """offset_of! of a nested path as a sum of one-level offset_of!s (rustc >= 1.77)."""
    terms, owner, fields = [], type_name(schema), schema.fields
    for part in path:
        item = next(f for f in fields if f.name == part)
        terms.append(f"core::mem::offset_of!({owner}, {ident(part)})")
        if not item.type.is_scalar:
            owner = type_name(schema, item.type.base)
            fields = schema.aggregate(item.type.base).fields
    return " + ".join(terms)


def _fields(schema: Schema, fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    return [{"name": ident(f.name), "type": field_type(schema, f), "doc": doc_lines(f.doc)}
            for f in fields]


def _target_block(schema: Schema, tl: TargetLayout,
                  aggregates: list) -> dict[str, Any]:
    p = schema.prefix
    checks = []
    for agg in aggregates:
        shape = tl.types[agg.name]
        rtype = type_name(schema, agg.name)
        checks.append({"type": rtype, "size": shape.size, "align": shape.align, "members": [
            {"expr": f"core::mem::offset_of!({rtype}, {ident(m.path[-1])})", "offset": m.offset,
             "dotted": m.dotted}
            for m in shape.members if len(m.path) == 1]})
    return {
        "size": tl.size, "align": tl.align,
        "consts": [{"name": names.member_macro(p, m.path, suffix), "value": value}
                   for m in tl.members
                   for suffix, value in (("OFFSET", m.offset), ("SIZE", m.size))],
        "aggregates": checks,
        "members": [{"expr": _offset_expr(schema, m.path), "offset": m.offset,
                     "size_expr": f"core::mem::size_of::<{field_type(schema, m.field)}>()",
                     "size": m.size, "dotted": m.dotted} for m in tl.members],
    }


def _groups(layout: Layout, aggregates: list) -> list[dict[str, Any]]:
    """Targets whose layouts are identical share one cfg'd module of constants and asserts."""
    groups = []
    for block, targets in group_targets(
            layout, lambda tl: _target_block(layout.schema, tl, aggregates)):
        archs = [f'target_arch = "{RUST_ARCH[t]}"' for t in targets]
        groups.append({"block": block, "targets": targets,
                       "cfg": archs[0] if len(archs) == 1 else f"any({', '.join(archs)})",
                       "module": "layout_" + "_".join(targets)})
    return groups


def _methods(schema: Schema, m: Member) -> list[dict[str, Any]]:
    tref = m.field.type
    out = []
    for op in m.field.ops:
        out.append({"op": op.name, "fn": ident("_".join(m.path) + "_" + op.name),
                    "call": METHOD[op.name], "place": _place(m.path),
                    "vtype": PLAIN[tref.base], "dotted": m.dotted,
                    "orders": [f"Ordering::{RUST_ORDERING[o]}" for o in op.orders],
                    "c_orders": list(op.orders)})
    return out


def _bit_methods(schema: Schema, m: Member) -> list[dict[str, Any]]:
    f = m.field
    ops = {op.name: op.orders for op in f.ops}
    out = []
    utype = "u" + f.type.base[1:]
    for sub in f.bits:
        stem = "_".join(m.path + (sub.name,))
        out.append({
            "dotted": f"{m.dotted}.{sub.name}", "doc": doc_lines(sub.doc),
            "getter": ident(stem + "_get"), "setter": ident(stem + "_set"),
            "shift": names.bits_macro(schema.prefix, m.path, sub.name, "SHIFT"),
            "mask": names.bits_macro(schema.prefix, m.path, sub.name, "MASK"),
            "place": _place(m.path), "atomic": f.type.atomic,
            "vtype": utype, "to_u": f" as {utype}" if f.type.signed else "",
            "open": "(" if f.type.signed else "",
            "close": f") as {PLAIN[f.type.base]}" if f.type.signed else "",
            "load": "Ordering::" + RUST_ORDERING[(ops.get("load") or ("relaxed",))[0]],
            "cas": ["Ordering::" + RUST_ORDERING[o]
                    for o in (ops.get("cas") or ("relaxed", "relaxed"))],
        })
    return out


def _bit_consts(schema: Schema, m: Member) -> list[dict[str, Any]]:
    out = []
    unsigned = "u" + m.field.type.base[1:]
    for sub in m.field.bits:
        mask = ((1 << sub.width) - 1) << sub.lsb
        for suffix, value, vtype in (("SHIFT", sub.lsb, "u32"), ("WIDTH", sub.width, "u32"),
                                     ("MASK", mask, unsigned)):
            out.append({"name": names.bits_macro(schema.prefix, m.path, sub.name, suffix),
                        "type": vtype, "value": literal(unsigned, value)
                        if suffix == "MASK" else str(value)})
    return out


def imports(layout: Layout) -> list[str]:
    """The names the Rust view imports from core::sync::atomic."""
    schema = layout.schema
    declared = list(schema.fields) + [f for agg in schema.types for f in agg.fields]
    atomics = sorted({ATOMIC[f.type.base] for f in declared if f.type.atomic})
    ordering = any(m.field.ops or (m.field.bits and m.field.type.atomic)
                   for m in layout.primary.members)
    return atomics + (["Ordering"] if ordering else [])


def build(layout: Layout) -> dict[str, Any]:
    schema = layout.schema
    p = schema.prefix
    members = layout.primary.members
    aggregates = cview._aggregates_in_order(schema)
    methods = [x for m in members for x in _methods(schema, m)]
    bits = [x for m in members for x in _bit_methods(schema, m)]
    uses = imports(layout)
    archs = [f'target_arch = "{RUST_ARCH[t]}"' for t in schema.targets]
    return {
        "schema": cview.banner_label(schema), "sha256": schema.sha256, "struct": schema.struct,
        "type": type_name(schema), "doc": doc_lines(schema.doc), "prefix": p,
        "uses": uses, "supported": ", ".join(archs),
        "target_names": ", ".join(schema.targets),
        "aggregates": [{"type": type_name(schema, a.name), "doc": doc_lines(a.doc),
                        "fields": _fields(schema, a.fields)} for a in aggregates],
        "fields": _fields(schema, schema.fields),
        "groups": _groups(layout, aggregates),
        "array_align": array_align(layout),
        "constants": [{"name": names.constant_macro(p, c.name), "type": PLAIN[c.type],
                       "value": literal(c.type, c.value), "doc": doc_lines(c.doc)}
                      for c in schema.constants],
        "flag_sets": [{"name": fs.name, "doc": doc_lines(fs.doc), "flags": [
            {"name": names.flag_macro(p, fs.name, f.name), "type": PLAIN[fs.type],
             "value": literal(fs.type, f.mask), "bit": f.bit, "doc": doc_lines(f.doc)}
            for f in fs.flags], "all_name": names.flag_set_all_macro(p, fs.name),
            "type": PLAIN[fs.type], "all_value": literal(fs.type, all_flags(fs))}
            for fs in schema.flag_sets],
        "bit_consts": [x for m in members for x in _bit_consts(schema, m)],
        "methods": methods, "bits": bits,
    }


def render(layout: Layout) -> dict[str, str]:
    """File name -> text of the Rust output."""
    template = rendering.environment().get_template("struct.rs.j2")
    return {f"{layout.schema.struct}.rs": template.render(v=build(layout))}
