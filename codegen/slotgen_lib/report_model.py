"""What `slotgen report` shows: one target's layout as rows, holes, cache-line
boundaries and totals, computed once for the text, Markdown and SVG forms."""
from __future__ import annotations

from dataclasses import dataclass

from .diff_model import MemberSnap, Snapshot, TargetSnap

CACHE_LINE = 64


@dataclass(frozen=True)
class Row:
    """A line of the table: a member, a hole, or a cache-line boundary."""

    kind: str  # 'member', 'reserved', 'hole' or 'cacheline'
    offset: int
    size: int = 0
    align: int = 0
    type: str = ""
    atomic: bool = False
    name: str = ""
    depth: int = 0
    ops: str = ""
    bits: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Report:
    label: str
    struct: str
    doc: str
    target: str
    same_targets: tuple[str, ...]
    other_targets: tuple[str, ...]
    size: int
    align: int
    array_align: int
    abi_version: int | None
    rows: tuple[Row, ...]
    used: int
    reserved: int
    holes: int

    @property
    def cache_lines(self) -> int:
        return -(-self.size // CACHE_LINE)

    def percent(self, amount: int) -> str:
        """amount as a percentage of the cache lines the struct spans."""
        return f"{100.0 * amount / (self.cache_lines * CACHE_LINE):.1f}%"


def ops_text(member: MemberSnap) -> str:
    return ", ".join(f"{name} {'/'.join(orders)}" for name, orders in member.ops)


def bits_text(member: MemberSnap) -> tuple[str, ...]:
    return tuple(f"bits {b.lsb}..{b.lsb + b.width - 1} {b.name}" for b in member.bits)


def _shape(t: TargetSnap) -> tuple:
    return t.size, t.align, tuple((p.path, p.offset, p.size) for p in t.places)


def build(snap: Snapshot, target: str | None = None) -> Report:
    """The report of one target (default: the snapshot's first target)."""
    tgt = snap.target(target) if target else snap.targets[0]
    if tgt is None:
        raise ValueError(target)
    same = tuple(t.target for t in snap.targets if _shape(t) == _shape(tgt))
    other = tuple(t.target for t in snap.targets if t.target not in same)
    rows: list[Row] = []
    used = reserved = holes = pos = mark = 0
    for place in tgt.places:
        member = snap.member(place.path)
        if member is None:
            continue
        depth = place.path.count(".")
        if depth == 0:
            if place.offset > pos:
                rows.append(Row("hole", pos, place.offset - pos))
                holes += place.offset - pos
            rows.extend(_boundaries(mark, place.offset))
            mark = max(mark, place.offset)
            pos = max(pos, place.end)
            if member.reserved:
                reserved += place.size
            else:
                used += place.size
        kind = "reserved" if member.reserved else "member"
        rows.append(Row(kind, place.offset, place.size, place.align, member.type, member.atomic,
                        place.path.rpartition(".")[2], depth, ops_text(member),
                        bits_text(member), member.line))
    if tgt.size > pos:
        rows.append(Row("hole", pos, tgt.size - pos))
        holes += tgt.size - pos
    rows.extend(_boundaries(mark, tgt.size))
    return Report(snap.label, snap.struct, snap.doc, tgt.target, same, other, tgt.size,
                  tgt.align, snap.array_align, snap.abi_version, tuple(rows), used, reserved,
                  holes)


def _boundaries(start: int, stop: int) -> list[Row]:
    """Cache-line boundaries at offsets in (start, stop]: a member starting on a
    boundary is preceded by its marker; one spanning a boundary is followed by it."""
    first = (start // CACHE_LINE + 1) * CACHE_LINE
    return [Row("cacheline", b) for b in range(first, stop + 1, CACHE_LINE)]
