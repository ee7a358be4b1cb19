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
    value: int
    doc: str
    line: int


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

    def member(self, path: str) -> MemberSnap | None:
        return next((m for m in self.members if m.path == path), None)

    def target(self, name: str) -> TargetSnap | None:
        return next((t for t in self.targets if t.target == name), None)


def from_layout(layout: Layout, label: str) -> Snapshot:
    """A snapshot of a computed layout (through its JSON form, so both paths agree)."""
    snap = from_json(render.layout_json(layout), label)
    return replace(snap, struct_line=layout.schema.loc.line,
                   size_line=layout.schema.size_loc.line)


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
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise _bad(label, f"malformed layout JSON: missing or invalid {exc}") from None


def _member(m: dict[str, Any]) -> MemberSnap:
    ops = tuple((str(name), tuple(orders)) for name, orders in m["ops"].items())
    bits = tuple(BitSnap(b["name"], int(b["lsb"]), int(b["width"]), b.get("doc", ""),
                         int(b.get("line", 0))) for b in m["bits"])
    return MemberSnap(m["path"], m["type"], m["base"], bool(m["atomic"]), bool(m["signed"]),
                      bool(m["reserved"]), m.get("flag_set"), m.get("doc", ""),
                      int(m.get("line", 0)), ops, bits)


def _target(name: str, t: dict[str, Any]) -> TargetSnap:
    places = tuple(Place(p["path"], int(p["offset"]), int(p["size"]), int(p["align"]))
                   for p in t["members"])
    return TargetSnap(name, int(t["size"]), int(t["align"]), places)


def _snapshot(data: dict[str, Any], label: str) -> Snapshot:
    flag_sets = tuple(
        FlagSetSnap(fs["name"], fs["type"], fs.get("doc", ""), int(fs.get("line", 0)),
                    tuple(NamedSnap(f["name"], fs["type"], int(f["value"]), f.get("doc", ""),
                                    int(f.get("line", 0))) for f in fs["flags"]))
        for fs in data["flag_sets"])
    constants = tuple(NamedSnap(c["name"], c["type"], int(c["value"]), c.get("doc", ""),
                                int(c.get("line", 0))) for c in data["constants"])
    types = tuple((name, t.get("doc", ""), int(t.get("line", 0)))
                  for name, t in data["types"].items())
    abi = data.get("abi_version")
    return Snapshot(label, data["struct"], data.get("doc", ""),
                    None if abi is None else int(abi), int(data["array_align"]),
                    tuple(_member(m) for m in data["members"]),
                    tuple(_target(name, t) for name, t in data["targets"].items()),
                    types, constants, flag_sets)


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
