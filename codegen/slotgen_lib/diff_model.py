"""What `slotgen diff` compares: one snapshot of a layout, built from a computed
layout or from the layout JSON that `slotgen generate` writes.

Both sources reduce to the same frozen dataclasses, so the comparison rules
never know where a side came from.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from . import render
from .errors import Diagnostic, Loc, SlotgenError
from .layout import Layout
from .model import OPS, ORDERS, TARGETS


@dataclass(frozen=True)
class BitSnap:
    name: str
    lsb: int
    width: int
    doc: str
    line: int

    @property
    def mask(self) -> int:
        return ((1 << self.width) - 1) << self.lsb


@dataclass(frozen=True)
class MemberSnap:
    """A member's declaration (the same on every target)."""

    path: str
    type: str
    base: str
    atomic: bool
    signed: bool
    reserved: bool
    flag_set: str | None
    doc: str
    line: int
    ops: tuple[tuple[str, tuple[str, ...]], ...]
    bits: tuple[BitSnap, ...]


@dataclass(frozen=True)
class Place:
    """Where a member sits on one target."""

    path: str
    offset: int
    size: int
    align: int

    @property
    def end(self) -> int:
        return self.offset + self.size


@dataclass(frozen=True)
class TargetSnap:
    target: str
    size: int
    align: int
    places: tuple[Place, ...]

    def place(self, path: str) -> Place | None:
        return next((p for p in self.places if p.path == path), None)


@dataclass(frozen=True)
class NamedSnap:
    """A constant or a flag: a named value with its doc and line."""

    name: str
    type: str
    value: int  # a flag's: its bit pattern in the set's type (never negative)
    doc: str
    line: int
    bit: int | None = None  # a flag given as {bit: N}: it also has a _BIT macro


@dataclass(frozen=True)
class FlagSetSnap:
    name: str
    type: str
    doc: str
    line: int
    flags: tuple[NamedSnap, ...]


@dataclass(frozen=True)
class Snapshot:
    label: str
    struct: str
    doc: str
    abi_version: int | None
    array_align: int
    members: tuple[MemberSnap, ...]
    targets: tuple[TargetSnap, ...]
    types: tuple[tuple[str, str, int], ...]
    constants: tuple[NamedSnap, ...]
    flag_sets: tuple[FlagSetSnap, ...]
    struct_line: int = 0
    size_line: int = 0
    doc_line: int = 0
    prefix: str = ""
    # Lines of the schema keys (0: unknown, e.g. a layout JSON; struct_line is used).
    prefix_line: int = 0
    align_line: int = 0
    array_align_line: int = 0
    targets_line: int = 0
    # Whether the lines above and in members, constants and flags are lines of this
    # side's file: a layout JSON records its schema's lines, which are not.
    lines_are_local: bool = False

    def member(self, path: str) -> MemberSnap | None:
        return next((m for m in self.members if m.path == path), None)

    def target(self, name: str) -> TargetSnap | None:
        return next((t for t in self.targets if t.target == name), None)


def from_layout(layout: Layout, label: str) -> Snapshot:
    """A snapshot of a computed layout (through its JSON form, so both paths agree)."""
    snap = from_json(render.layout_json(layout), label)
    schema = layout.schema
    return replace(snap, struct_line=schema.struct_loc.line, size_line=schema.size_loc.line,
                   doc_line=schema.doc_loc.line, prefix_line=schema.prefix_loc.line,
                   align_line=schema.align_loc.line, array_align_line=schema.array_align_loc.line,
                   targets_line=schema.targets_loc.line, lines_are_local=True)


def _bad(label: str, message: str) -> SlotgenError:
    return SlotgenError([Diagnostic(Loc(label), message,
                                    "pass a schema or a layout JSON written by 'slotgen generate'")])


def from_json(data: Any, label: str) -> Snapshot:
    """A snapshot of a layout JSON document; SlotgenError when it is not one."""
    if not isinstance(data, dict) or data.get("format") != render.JSON_FORMAT:
        found = data.get("format") if isinstance(data, dict) else None
        raise _bad(label, f"not a slotgen layout JSON of format {render.JSON_FORMAT} "
                   f"(format: {found!r})")
    try:
        return _snapshot(data, label)
    except _Malformed as exc:
        raise _bad(label, f"malformed layout JSON: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(label, f"malformed layout JSON: missing or invalid {exc}") from None


class _Malformed(ValueError):
    """A value of the layout JSON that is missing or of the wrong kind."""


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise _Malformed(f"{what} (expected text, found {type(value).__name__})")
    return value


def _opt_text(value: Any, what: str) -> str | None:
    return None if value is None else _text(value, what)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Malformed(f"{what} (expected an integer, found {type(value).__name__})")
    return value


def _items(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{what} (expected a list, found {type(value).__name__})")
    return value


def _table(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{what} (expected an object, found {type(value).__name__})")
    return value


def _ops(value: Any, where: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    ops = []
    for name, orders in _table(value, f"{where}.ops").items():
        if name not in OPS:
            raise _Malformed(f"{where}.ops: unknown operation {name!r}")
        what = f"{where}.ops.{name}"
        seen = tuple(_text(order, what) for order in _items(orders, what))
        if not seen or any(order not in ORDERS for order in seen):
            raise _Malformed(f"{what} (expected memory orders among {', '.join(ORDERS)})")
        ops.append((name, seen))
    return tuple(ops)


def _tables(value: Any, what: str) -> list[dict[str, Any]]:
    return [_table(item, what) for item in _items(value, f"{what}s")]


def _bit(b: dict[str, Any], where: str) -> BitSnap:
    return BitSnap(_text(b["name"], f"{where}: bit name"), _int(b["lsb"], f"{where}: lsb"),
                   _int(b["width"], f"{where}: width"), _text(b.get("doc", ""), f"{where}: doc"),
                   _int(b.get("line", 0), f"{where}: line"))


def _member(m: dict[str, Any]) -> MemberSnap:
    path = _text(m["path"], "member path")
    where = f"member {path}"
    return MemberSnap(path, _text(m["type"], f"{where}: type"), _text(m["base"], f"{where}: base"),
                      bool(m["atomic"]), bool(m["signed"]), bool(m["reserved"]),
                      _opt_text(m.get("flag_set"), f"{where}: flag_set"),
                      _text(m.get("doc", ""), f"{where}: doc"),
                      _int(m.get("line", 0), f"{where}: line"), _ops(m["ops"], where),
                      tuple(_bit(b, where) for b in _tables(m["bits"], f"{where}: bit")))


def _place(p: dict[str, Any], where: str) -> Place:
    return Place(_text(p["path"], f"{where}: path"), _int(p["offset"], f"{where}: offset"),
                 _int(p["size"], f"{where}: size"), _int(p["align"], f"{where}: align"))


def _target(name: str, t: dict[str, Any]) -> TargetSnap:
    where = f"target {name}"
    return TargetSnap(name, _int(t["size"], f"{where}: size"), _int(t["align"], f"{where}: align"),
                      tuple(_place(p, where) for p in _tables(t["members"], f"{where}: member")))


def _named(n: dict[str, Any], kind: str, type_name: str | None = None) -> NamedSnap:
    name = _text(n["name"], f"{kind} name")
    where = f"{kind} {name}"
    if type_name is None:
        type_name = _text(n["type"], f"{where}: type")
    return NamedSnap(name, type_name, _int(n["value"], f"{where}: value"),
                     _text(n.get("doc", ""), f"{where}: doc"),
                     _int(n.get("line", 0), f"{where}: line"))


_BITS = {"u8": 8, "i8": 8, "u16": 16, "i16": 16, "u32": 32, "i32": 32, "u64": 64, "i64": 64,
         "uptr": 64}


def _flag(f: dict[str, Any], set_name: str, type_name: str) -> NamedSnap:
    """A flag with its value as the bit pattern C writes: {bit: 31} and {value: -2**31} of
    an i32 set are the same INT32_MIN."""
    flag = _named(f, f"flag of {set_name}", type_name)
    bit = f.get("bit")
    where = f"flag of {set_name} {flag.name}: bit"
    return replace(flag, value=flag.value & ((1 << _BITS.get(type_name, 64)) - 1),
                   bit=None if bit is None else _int(bit, where))


def _flag_set(fs: dict[str, Any]) -> FlagSetSnap:
    name = _text(fs["name"], "flag set name")
    type_name = _text(fs["type"], f"flag set {name}: type")
    return FlagSetSnap(name, type_name, _text(fs.get("doc", ""), f"flag set {name}: doc"),
                       _int(fs.get("line", 0), f"flag set {name}: line"),
                       tuple(_flag(f, name, type_name)
                             for f in _tables(fs["flags"], f"flag of {name}")))


MAX_STRUCT_BYTES = 1 << 24  # far beyond any slot; keeps drawings and byte maps bounded


def _power_of_two(value: int, what: str) -> None:
    if value < 1 or value & (value - 1) or value > MAX_STRUCT_BYTES:
        raise _Malformed(f"{what} {value} (expected a power of two)")


def _check_consistent(snap: Snapshot) -> None:
    """What the typed reading cannot see: numbers in range, paths that exist."""
    if not snap.targets:
        raise _Malformed("targets (expected at least one)")
    _power_of_two(snap.array_align, "array_align")
    paths = {m.path for m in snap.members}
    for member in snap.members:
        parent = member.path.rpartition(".")[0]
        if "" in member.path.split(".") or (parent and parent not in paths):
            raise _Malformed(f"member path {member.path!r} (its parent is not a member)")
        for bit in member.bits:
            if bit.lsb < 0 or bit.width < 1 or bit.lsb + bit.width > 64:
                raise _Malformed(f"member {member.path}: bit {bit.name} [{bit.lsb}, "
                                 f"{bit.lsb + bit.width}) (expected bits within 0..63)")
    for target in snap.targets:
        where = f"target {target.target}"
        if target.target not in TARGETS:
            raise _Malformed(f"{where} (expected one of {', '.join(TARGETS)})")
        if not 1 <= target.size <= MAX_STRUCT_BYTES:
            raise _Malformed(f"{where}: size {target.size} (expected 1..{MAX_STRUCT_BYTES})")
        _power_of_two(target.align, f"{where}: align")
        for place in target.places:
            if place.path not in paths:
                raise _Malformed(f"{where}: member {place.path!r} (not among the members)")
            if place.offset < 0 or place.size < 1 or place.offset + place.size > target.size:
                raise _Malformed(f"{where}: member {place.path} at offset {place.offset}, size "
                                 f"{place.size} (expected inside the {target.size}-byte struct)")
            _power_of_two(place.align, f"{where}: member {place.path}: align")


def _snapshot(data: dict[str, Any], label: str) -> Snapshot:
    snap = replace(_read_snapshot(data, label), prefix=_text(data["prefix"], "prefix"))
    _check_consistent(snap)
    return snap


def _read_snapshot(data: dict[str, Any], label: str) -> Snapshot:
    types = []
    for name, t in _table(data["types"], "types").items():
        t = _table(t, f"type {name}")
        types.append((name, _text(t.get("doc", ""), f"type {name}: doc"),
                      _int(t.get("line", 0), f"type {name}: line")))
    abi = data.get("abi_version")
    return Snapshot(label, _text(data["struct"], "struct"), _text(data.get("doc", ""), "doc"),
                    None if abi is None else _int(abi, "abi_version"),
                    _int(data["array_align"], "array_align"),
                    tuple(_member(m) for m in _tables(data["members"], "member")),
                    tuple(_target(name, _table(t, f"target {name}"))
                          for name, t in _table(data["targets"], "targets").items()),
                    tuple(types),
                    tuple(_named(c, "constant") for c in _tables(data["constants"], "constant")),
                    tuple(_flag_set(fs) for fs in _tables(data["flag_sets"], "flag set")))


KINDS = ("breaking", "compatible", "semantic", "cosmetic")


@dataclass(frozen=True)
class Change:
    """One difference between OLD and NEW, with its class.

    `side` says which file `line` is in: 'new', or 'old' for a removal.
    `targets` lists the targets it applies to ('' entries never; empty = all).
    """

    kind: str
    what: str
    subject: str
    old: str
    new: str
    side: str
    line: int
    message: str
    targets: tuple[str, ...] = ()
