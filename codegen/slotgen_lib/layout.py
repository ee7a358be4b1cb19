"""Compute each target's layout the way its C compiler does, and check it.

Members are placed in order at the next offset aligned to their alignment,
as the System V (x86_64, i386) and AAPCS64 (aarch64) ABIs do.  Every byte of
padding the compiler would insert must be declared in the schema as a
reserved member: an implicit hole is an error, as is a pinned offset that
disagrees, a total size other than `size`, and (for `portable: true`) any
member that lands differently on two targets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, TypeVar

from .errors import Collector, Loc
from .members import SCALAR_BYTES
from .model import Aggregate, Field, Schema

C_SCALARS = {"u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
             "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
             "uptr": "uintptr_t"}


@dataclass(frozen=True)
class Member:
    """One member at its place in one target's layout (nested members included)."""

    path: tuple[str, ...]
    field: Field
    offset: int
    size: int
    align: int

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True)
class TypeShape:
    """A named aggregate type on one target (member offsets relative to the type)."""

    size: int
    align: int
    members: tuple[Member, ...]


@dataclass(frozen=True)
class TargetLayout:
    target: str
    size: int
    align: int
    members: tuple[Member, ...]
    types: dict[str, TypeShape] = field(default_factory=dict, compare=False, hash=False)

    def member(self, dotted: str) -> Member | None:
        return next((m for m in self.members if m.dotted == dotted), None)


@dataclass(frozen=True)
class Layout:
    schema: Schema
    targets: tuple[TargetLayout, ...]

    @property
    def primary(self) -> TargetLayout:
        return self.targets[0]

    def same_everywhere(self) -> bool:
        first = _shape(self.targets[0])
        return all(_shape(t) == first for t in self.targets[1:])


View = TypeVar("View")


def group_targets(layout: Layout,
                  view_of: Callable[[TargetLayout], View]) -> list[tuple[View, list[str]]]:
    """One (view, targets) pair per distinct view, in target order: targets whose
    rendered views are equal share one block of generated code."""
    groups: list[tuple[View, list[str]]] = []
    for tl in layout.targets:
        view = view_of(tl)
        for seen, targets in groups:
            if seen == view:
                targets.append(tl.target)
                break
        else:
            groups.append((view, [tl.target]))
    return groups


def _shape(layout: TargetLayout) -> tuple:
    return layout.size, layout.align, tuple((m.path, m.offset, m.size) for m in layout.members)


def scalar_size_align(target: str, base: str, atomic: bool) -> tuple[int, int]:
    """sizeof and alignof of a scalar member on a target."""
    if base == "uptr":
        return (4, 4) if target == "i386" else (8, 8)
    size = SCALAR_BYTES[base]
    if target == "i386" and size == 8 and not atomic:
        return 8, 4
    return size, size


class _Placer:
    """Lays out one target; records problems keyed by target for later merging."""

    def __init__(self, schema: Schema, target: str, problems: dict) -> None:
        self.schema = schema
        self.target = target
        self.problems = problems
        self.aggregates: dict[str, tuple[int, int, tuple[Member, ...]]] = {}

    def problem(self, loc: Loc, message: str, hint: str = "") -> None:
        self.problems.setdefault((loc, message, hint), []).append(self.target)

    def size_align(self, item: Field) -> tuple[int, int, tuple[Member, ...]]:
        tref = item.type
        if tref.is_scalar:
            size, align = scalar_size_align(self.target, tref.base, tref.atomic)
            return size * (tref.count or 1), align, ()
        return self.aggregate(self.schema.aggregate(tref.base))

    def aggregate(self, agg: Aggregate | None) -> tuple[int, int, tuple[Member, ...]]:
        if agg is None:
            return 1, 1, ()
        if agg.name not in self.aggregates:
            self.aggregates[agg.name] = (1, 1, ())  # guards against cycles
            self.aggregates[agg.name] = self.place(agg.fields, None, f"type '{agg.name}'", agg.loc)
        return self.aggregates[agg.name]

    def place(self, fields: tuple[Field, ...], want_size: int | None, owner: str,
              owner_loc: Loc) -> tuple[int, int, tuple[Member, ...]]:
        pos, max_align, out, prev = 0, 1, [], None
        for item in fields:
            size, align, inner = self.size_align(item)
            max_align = max(max_align, align)
            offset = -(-pos // align) * align
            if offset != pos:
                self.hole(item, pos, offset - pos, align, {f.name for f in fields})
            if item.offset is not None and item.offset != offset:
                self.pin(item, offset, prev, pos, align)
            out.append(Member((item.name,), item, offset, size, align))
            out.extend(Member((item.name,) + m.path, m.field, offset + m.offset, m.size, m.align)
                       for m in inner)
            pos, prev = offset + size, item
        total = -(-pos // max_align) * max_align
        if total != pos and prev is not None:
            end_name = free_name("_reserved_end", {f.name for f in fields})
            self.problem(prev.loc, f"implicit hole: the compiler adds {total - pos} bytes of tail "
                         f"padding after '{prev.name}' at offset {pos} of {owner}",
                         f"declare {{name: {end_name}, type: u8[{total - pos}], "
                         "reserved: true} as the last member")
        if want_size is not None and total != want_size:
            self.problem(self.schema.size_loc, f"the computed size of {owner} is {total} bytes, "
                         f"but 'size' says {want_size}",
                         "add or remove reserved bytes, or correct 'size'")
        return total, max_align, tuple(out)

    def hole(self, item: Field, pos: int, pad: int, align: int, taken: set[str]) -> None:
        name = free_name(f"_reserved_{item.name}", taken)
        hint = (f"declare {{name: {name}, type: u8[{pad}], reserved: true}} "
                f"before '{item.name}'")
        if item.type.atomic:
            self.problem(item.loc, f"'{item.name}' ({item.type.spelling()}) at offset {pos} is not "
                         f"{align}-byte aligned", hint)
        else:
            self.problem(item.loc, f"implicit hole: the compiler adds {pad} bytes of padding at "
                         f"offset {pos} before '{item.name}' ({item.type.spelling()}, "
                         f"{align}-byte aligned)", hint)

    def pin(self, item: Field, offset: int, prev: Field | None, pos: int, align: int) -> None:
        where = item.offset_loc or item.loc
        if item.offset % align != 0:
            self.problem(where, f"'{item.name}' is pinned at offset {item.offset}, which is not a "
                         f"multiple of its alignment {align}",
                         f"pin it at a multiple of {align}, "
                         f"e.g. {-(-item.offset // align) * align}")
        elif item.offset < pos and prev is not None:
            self.problem(where, f"'{item.name}' is pinned at offset {item.offset}, which overlaps "
                         f"'{prev.name}' (it ends at offset {pos})",
                         "members cannot overlap; move or shrink the members before it")
        else:
            self.problem(where, f"'{item.name}' is pinned at offset {item.offset}, but its computed "
                         f"offset is {offset}",
                         f"declare {item.offset - offset} reserved bytes before it"
                         if item.offset > offset else "remove bytes before it or fix the pin")


def free_name(wanted: str, taken: set[str]) -> str:
    """`wanted` (cut to the 63-character limit), or with _2, _3 ... when a member has it."""
    name, number = wanted[:63], 1
    while name in taken:
        number += 1
        name = f"{wanted[:63 - len(str(number)) - 1]}_{number}"
    return name


def compute(schema: Schema, errors: Collector) -> Layout:
    """Every target's layout; problems go to `errors` (merged across targets)."""
    problems: dict[tuple[Loc, str, str], list[str]] = {}
    layouts = []
    for target in schema.targets:
        placer = _Placer(schema, target, problems)
        for agg in schema.types:
            placer.aggregate(agg)
        size, align, members = placer.place(schema.fields, schema.size_for(target),
                                            f"struct {schema.struct}", schema.loc)
        shapes = {name: TypeShape(*shape) for name, shape in placer.aggregates.items()}
        layouts.append(TargetLayout(target, size, align, members, shapes))
        if schema.align is not None and align != schema.align:
            placer.problem(schema.align_loc,
                           f"alignof(struct {schema.struct}) is {align}, but 'align' "
                           f"says {schema.align}", "correct 'align' or the member types")
        if schema.array_align is not None and schema.array_align < align:
            placer.problem(schema.array_align_loc,
                           f"'array_align' {schema.array_align} is smaller than "
                           f"alignof(struct {schema.struct}) = {align}")
    for (loc, message, hint), where in problems.items():
        if len(where) != len(schema.targets):
            message += " (on " + ", ".join(where) + ")"
        errors.error(loc, message, hint)
    result = Layout(schema, tuple(layouts))
    if schema.portable:
        _check_portable(result, errors)
    return result


def _check_portable(layout: Layout, errors: Collector) -> None:
    base = layout.primary
    for other in layout.targets[1:]:
        by_path = {m.dotted: m for m in other.members}  # one lookup per member, not a scan
        for mine in base.members:
            theirs = by_path.get(mine.dotted)
            if theirs and (theirs.offset, theirs.size) != (mine.offset, mine.size):
                errors.error(mine.field.loc, f"'portable: true' but '{mine.dotted}' is at offset "
                             f"{mine.offset} (size {mine.size}) on {base.target} and at offset "
                             f"{theirs.offset} (size {theirs.size}) on {other.target}",
                             "use atomic or explicitly padded members so every ABI agrees")
        for what, a, b in (("size", base.size, other.size), ("alignment", base.align, other.align)):
            if a != b:
                errors.error(layout.schema.loc, f"'portable: true' but the struct {what} is {a} on "
                             f"{base.target} and {b} on {other.target}")


def array_align(layout: Layout) -> int:
    """<PREFIX>_ARRAY_ALIGN: the schema's, else the largest alignof of any target, so that
    the one value is valid (never below alignof) on every target."""
    return layout.schema.array_align or max(t.align for t in layout.targets)
