"""Check the member lists of the struct and of named types: names, types, ops, bits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import orders
from .errors import Loc, closest
from .model import OPS, ORDERS, SCALARS, BitField, Field, Op, Schema, TypeRef
from .reader import Reader
from .yamlload import YList, YMap

FIELD_KEYS = ("name", "type", "offset", "doc", "ops", "reserved", "bits", "flag_set")
_TYPE = re.compile(r"\s*(atomic\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[\s*([0-9]+)\s*\])?\s*\Z")
MAX_COUNT = 1 << 16
SCALAR_BYTES = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8}


@dataclass
class Context:
    rd: Reader
    flag_sets: set[str]
    type_names: set[str] = field(default_factory=set)


def read_fields(seq: YList, ctx: Context, owner: str) -> tuple[Field, ...]:
    out: list[Field] = []
    seen: dict[str, Loc] = {}
    for node, where in zip(seq, seq.item_locs):
        item = _field(node, where, ctx, owner)
        if item is None:
            continue
        if item.name in seen:
            ctx.rd.errors.error(item.loc, f"duplicate member name '{item.name}' in {owner} "
                                f"(first declared at line {seen[item.name].line})",
                                "rename one of them")
            continue
        seen[item.name] = item.loc
        out.append(item)
    return tuple(out)


def _field(node: Any, where: Loc, ctx: Context, owner: str) -> Field | None:
    rd = ctx.rd
    spec = rd.mapping(node, where, f"a member of {owner}")
    if spec is None:
        return None
    rd.keys(spec, FIELD_KEYS, ("name", "type"), f"a member of {owner}")
    name = spec.get("name")
    if "name" not in spec or not rd.identifier(name, rd.loc(spec, "name"), "the member name"):
        return None
    what = f"member '{name}'"
    tref = _type(spec, ctx, what)
    if tref is None:
        return None
    reserved = rd.get(spec, "reserved", bool, what, False)
    offset = rd.get(spec, "offset", int, what, None)
    if offset is not None and offset < 0:
        rd.errors.error(rd.loc(spec, "offset"), f"the offset of {what} is negative ({offset})")
        offset = None
    flag_set = rd.get(spec, "flag_set", str, what, None)
    item = Field(
        name=name, type=tref, doc=rd.doc(spec, what), loc=rd.loc(spec, "name"),
        type_loc=rd.loc(spec, "type"), offset=offset,
        offset_loc=rd.loc(spec, "offset") if "offset" in spec else None, reserved=reserved,
        ops=_ops(spec, tref, reserved, ctx, what), bits=_bits(spec, tref, ctx, what),
        flag_set=flag_set)
    _check_roles(item, spec, ctx, what)
    return item


def _type(spec: YMap, ctx: Context, what: str) -> TypeRef | None:
    rd = ctx.rd
    text = rd.get(spec, "type", str, what, None)
    if text is None:
        return None
    where = rd.loc(spec, "type")
    match = _TYPE.match(text)
    if not match:
        rd.errors.error(where, f"cannot read the type '{text}' of {what}",
                        "write e.g. 'u32', 'atomic u64', 'u8[16]' or the name of a type")
        return None
    atomic, base, count = bool(match.group(1)), match.group(2), match.group(3)
    if base not in SCALARS and base not in ctx.type_names:
        near = closest(base, list(SCALARS) + sorted(ctx.type_names))
        rd.errors.error(where, f"unknown type '{base}' for {what}",
                        f"did you mean '{near}'?" if near else
                        "use u8..u64, i8..i64, uptr or a name from 'types'")
        return None
    if count is not None and len(count.lstrip("0")) > len(str(MAX_COUNT)):
        rd.errors.error(where, f"the array length of {what} must be 1..{MAX_COUNT}, not a "
                        f"{len(count.lstrip('0'))}-digit number")
        return None
    tref = TypeRef(base, atomic, int(count) if count is not None else None)
    if tref.count is not None and not 1 <= tref.count <= MAX_COUNT:
        rd.errors.error(where, f"the array length of {what} must be 1..{MAX_COUNT}, "
                        f"not {tref.count}")
        return None
    if atomic and tref.count is not None:
        rd.errors.error(where, f"{what} is an atomic array; arrays cannot be atomic",
                        "declare one atomic member per element")
        return None
    if atomic and not tref.is_scalar:
        rd.errors.error(where, f"{what} is an atomic aggregate; only integers can be atomic",
                        "make the members of the type atomic instead")
        return None
    if tref.count is not None and not tref.is_scalar:
        rd.errors.error(where, f"{what} is an array of the aggregate '{base}', which is "
                        "not supported", "declare the elements as separate members")
        return None
    return tref


def _ops(spec: YMap, tref: TypeRef, reserved: bool, ctx: Context, what: str) -> tuple[Op, ...]:
    rd = ctx.rd
    if "ops" not in spec:
        if tref.atomic and not reserved:
            loc = rd.loc(spec, "type")
            return (Op("load", ("acquire",), loc), Op("store", ("release",), loc))
        return ()
    node = rd.mapping(spec["ops"], rd.loc(spec, "ops"), f"'ops' of {what}")
    if node is None:
        return ()
    if not tref.atomic:
        rd.errors.error(rd.loc(spec, "ops"), f"{what} is not atomic but has ops",
                        f"make it 'atomic {tref.spelling()}' or remove 'ops'")
        return ()
    out = []
    for op, value in node.items():
        where = node.key_locs[op]
        if op not in OPS:
            near = closest(op, list(OPS))
            rd.errors.error(where, f"unknown op '{op}' of {what}",
                            f"did you mean '{near}'?" if near else "ops: " + ", ".join(OPS))
            continue
        found = _orders(op, value, where, rd, what)
        if found:
            out.append(Op(op, found, where))
    return tuple(out)


def _orders(op: str, value: Any, where: Loc, rd: Reader, what: str) -> tuple[str, ...]:
    given = list(value) if isinstance(value, list) else [value]
    limit = 2 if op == "cas" else 1
    if not 1 <= len(given) <= limit or not all(isinstance(v, str) for v in given) or \
            (isinstance(value, list) and op != "cas"):
        form = "an order or [success, failure]" if op == "cas" else "one memory order"
        rd.errors.error(where, f"op '{op}' of {what} takes {form}, not {value!r}")
        return ()
    for order in given:
        if order not in ORDERS:
            near = closest(order, list(ORDERS))
            rd.errors.error(where, f"unknown memory order '{order}' for op '{op}' of {what}",
                            f"did you mean '{near}'?" if near else "orders: " + ", ".join(ORDERS))
            return ()
    if given[0] not in orders.allowed(op):
        rd.errors.error(where, f"C11 forbids memory order '{given[0]}' for op '{op}' of {what}",
                        "allowed: " + ", ".join(orders.allowed(op)))
        return ()
    if op == "cas":
        failure = given[1] if len(given) == 2 else orders.default_cas_failure(given[0])
        problem = orders.cas_failure_problem(given[0], failure)
        if problem:
            rd.errors.error(where, f"{problem} in op 'cas' of {what}",
                            f"use [{given[0]}, {orders.default_cas_failure(given[0])}]")
            return ()
        return given[0], failure
    return (given[0],)


def _bits(spec: YMap, tref: TypeRef, ctx: Context, what: str) -> tuple[BitField, ...]:
    rd = ctx.rd
    if "bits" not in spec:
        return ()
    seq = rd.sequence(spec["bits"], rd.loc(spec, "bits"), f"'bits' of {what}")
    if seq is None:
        return ()
    if tref.base not in SCALAR_BYTES or tref.count is not None:
        rd.errors.error(rd.loc(spec, "bits"), f"{what} of type '{tref.spelling()}' cannot have "
                        "bit sub-fields", "bit sub-fields need a fixed-width integer member")
        return ()
    width = SCALAR_BYTES[tref.base] * 8
    out: list[BitField] = []
    for node, where in zip(seq, seq.item_locs):
        sub = rd.mapping(node, where, f"a bit sub-field of {what}")
        if sub is None:
            continue
        rd.keys(sub, ("name", "lsb", "width", "doc"), ("name", "lsb", "width"),
                f"a bit sub-field of {what}")
        name = sub.get("name")
        if "name" not in sub or not rd.identifier(name, rd.loc(sub, "name"), "the sub-field name"):
            continue
        sub_what = f"sub-field '{name}' of {what}"
        lsb = rd.get(sub, "lsb", int, sub_what, None)
        bits = rd.get(sub, "width", int, sub_what, None)
        if lsb is None or bits is None:
            continue
        if bits < 1:
            rd.errors.error(rd.loc(sub, "width"), f"the width of {sub_what} is {bits}",
                            "a sub-field is at least 1 bit wide")
            continue
        if lsb < 0 or lsb + bits > width:
            rd.errors.error(rd.loc(sub, "name"), f"{sub_what} covers bits [{lsb}, {lsb + bits}), "
                            f"outside the {width} bits of {tref.base}",
                            f"keep lsb >= 0, width >= 1 and lsb + width <= {width}")
            continue
        for other in out:
            if other.name == name:
                rd.errors.error(rd.loc(sub, "name"), f"duplicate sub-field name '{name}' in {what}")
            elif lsb < other.lsb + other.width and other.lsb < lsb + bits:
                rd.errors.error(rd.loc(sub, "name"), f"{sub_what} [{lsb}, {lsb + bits}) overlaps "
                                f"'{other.name}' [{other.lsb}, {other.lsb + other.width})")
        out.append(BitField(name, lsb, bits, rd.doc(sub, sub_what), rd.loc(sub, "name")))
    return tuple(out)


def _check_roles(item: Field, spec: YMap, ctx: Context, what: str) -> None:
    rd = ctx.rd
    if item.reserved:
        for key in ("ops", "bits", "flag_set"):
            if key in spec:
                rd.errors.error(rd.loc(spec, key), f"reserved {what} cannot have '{key}'",
                                "reserved bytes get no accessors; remove the key")
        if item.type.atomic:
            rd.errors.error(item.type_loc, f"reserved {what} cannot be atomic")
    if item.bits and item.type.atomic:
        names = {op.name for op in item.ops}
        for need, role in (("load", "_get"), ("cas", "_set")):
            if need not in names:
                rd.errors.error(rd.loc(spec, "bits"), f"the bit sub-fields of atomic {what} need "
                                f"a '{need}' op for their {role} accessors",
                                f"add '{need}' to the ops of '{item.name}'")
    if item.flag_set is not None:
        where = rd.loc(spec, "flag_set")
        if item.flag_set not in ctx.flag_sets:
            near = closest(item.flag_set, sorted(ctx.flag_sets))
            rd.errors.error(where, f"unknown flag set '{item.flag_set}' for {what}",
                            f"did you mean '{near}'?" if near else "declare it under 'flag_sets'")
        elif item.type.base not in SCALAR_BYTES or item.type.count is not None:
            rd.errors.error(where, f"{what} of type '{item.type.spelling()}' cannot hold a flag set")


def check_type_uses(schema: Schema, rd: Reader) -> None:
    """Cycles between named types, and flag sets wider than the member holding them."""
    graph = {t.name: [f.type.base for f in t.fields if not f.type.is_scalar] for t in schema.types}
    for start in graph:
        stack, seen = [(start, (start,))], set()
        while stack:
            name, trail = stack.pop()
            for nxt in graph.get(name, []):
                if nxt == start:
                    agg = schema.aggregate(start)
                    rd.errors.error(agg.loc if agg else schema.loc, "type '" + start +
                                    "' contains itself: " + " -> ".join(trail + (nxt,)),
                                    "a type cannot include itself, directly or indirectly")
                    stack = []
                    break
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + (nxt,)))
    all_fields = list(schema.fields) + [f for t in schema.types for f in t.fields]
    for item in all_fields:
        fs = schema.flag_set(item.flag_set) if item.flag_set else None
        # A uptr flag set holds 32-bit values (its narrowest target), as a u32 does.
        set_bytes = (4 if fs.type == "uptr" else SCALAR_BYTES[fs.type]) if fs else 0
        if fs and item.type.base in SCALAR_BYTES and set_bytes > SCALAR_BYTES[item.type.base]:
            rd.errors.error(item.loc, f"member '{item.name}' ({item.type.base}) is narrower than "
                            f"its flag set '{fs.name}' ({fs.type})")
