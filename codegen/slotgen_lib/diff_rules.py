"""Classify every difference between two snapshots (see diff_members for members).

Classes, from worst to mildest:
  breaking   - the binary layout changes for code built against OLD;
  compatible - OLD binaries keep working (members carved from reserved bytes,
               new constants, flags or bit sub-fields in unused bits);
  semantic   - same bytes, different contract (memory orders, ops, flag sets);
  cosmetic   - doc text only.
"""
from __future__ import annotations

from . import diff_members
from .diff_model import KINDS, Change, FlagSetSnap, NamedSnap, Snapshot


def changes(old: Snapshot, new: Snapshot) -> tuple[Change, ...]:
    """Every difference, merged across targets, worst class first, then by line."""
    raw = list(diff_members.compare(old, new)) + _struct(old, new)
    raw += [("", c) for c in _named(old.constants, new.constants, "constant")]
    raw += [("", c) for c in _flag_sets(old, new)]
    merged: dict[Change, list[str]] = {}
    for target, change in raw:
        where = merged.setdefault(change, [])
        if target and target not in where:
            where.append(target)
    every = [t.target for t in old.targets if new.target(t.target) is not None]
    out = []
    for change, where in merged.items():
        partial = tuple(where) if where and len(where) < len(every) else ()
        out.append(Change(change.kind, change.what, change.subject, change.old, change.new,
                          change.side, change.line, change.message, partial))
    return tuple(sorted(out, key=lambda c: (KINDS.index(c.kind), c.side != "new", c.line,
                                            c.message)))


def _struct(old: Snapshot, new: Snapshot) -> list[tuple[str, Change]]:
    out: list[tuple[str, Change]] = []
    line = new.size_line
    for a in old.targets:
        b = new.target(a.target)
        if b is None:
            out.append(("", Change("breaking", "target-removed", a.target, a.target, "", "old",
                                   old.targets_line or old.struct_line,
                                   f"target '{a.target}' dropped")))
            continue
        if a.size != b.size:
            out.append((a.target, Change("breaking", "struct-size", new.struct, str(a.size),
                                         str(b.size), "new", line, f"struct {new.struct} size "
                                         f"changed: {a.size} -> {b.size} bytes")))
        if a.align != b.align:
            out.append((a.target, Change("breaking", "struct-align", new.struct, str(a.align),
                                         str(b.align), "new", new.align_line or new.struct_line,
                                         f"struct {new.struct} alignment changed: "
                                         f"{a.align} -> {b.align}")))
    for b in new.targets:
        if old.target(b.target) is None:
            out.append(("", Change("compatible", "target-added", b.target, "", b.target, "new",
                                   new.targets_line or new.struct_line,
                                   f"target '{b.target}' added")))
    if old.array_align != new.array_align:
        out.append(("", Change("breaking", "array-align", new.struct, str(old.array_align),
                               str(new.array_align), "new",
                               new.array_align_line or new.struct_line,
                               f"array alignment changed: {old.array_align} -> "
                               f"{new.array_align}")))
    if old.struct != new.struct:
        out.append(("", Change("breaking", "struct-name", new.struct, old.struct, new.struct,
                               "new", new.struct_line,
                               f"struct renamed: {old.struct} -> {new.struct}")))
    if old.prefix != new.prefix:
        out.append(("", Change("breaking", "prefix", new.struct, old.prefix, new.prefix, "new",
                               new.prefix_line or new.struct_line,
                               f"macro prefix changed: {old.prefix} -> "
                               f"{new.prefix} (every generated macro is renamed)")))
    if old.doc != new.doc:
        out.append(("", Change("cosmetic", "doc", new.struct, old.doc, new.doc, "new",
                               new.doc_line or new.struct_line,
                               f"doc of struct {new.struct} changed")))
    old_types = {name: doc for name, doc, _ in old.types}
    for name, doc, tline in new.types:
        if name in old_types and old_types[name] != doc:
            out.append(("", Change("cosmetic", "doc", name, old_types[name], doc, "new", tline,
                                   f"doc of type '{name}' changed")))
    return out


def _named(old: tuple[NamedSnap, ...], new: tuple[NamedSnap, ...], noun: str,
           owner: str = "", taken: int | None = None) -> list[Change]:
    """Constants (taken=None) or the flags of one flag set (taken = OR of old masks)."""
    out = []
    before = {x.name: x for x in old}
    label = (lambda n: f"{owner}.{n}") if owner else (lambda n: n)
    for y in new:
        x = before.get(y.name)
        sub = label(y.name)
        if x is None:
            if taken is not None and y.value & taken:
                out.append(Change("breaking", f"{noun}-added", sub, "", hex(y.value), "new", y.line,
                                  f"new {noun} '{sub}' = {y.value:#x} reuses bits already in use"))
            else:
                where = " in previously unused bits" if taken is not None else ""
                out.append(Change("compatible", f"{noun}-added", sub, "", hex(y.value), "new",
                                  y.line, f"new {noun} '{sub}' = {y.value:#x}{where}"))
            continue
        if x.value != y.value:
            out.append(Change("breaking", f"{noun}-value", sub, hex(x.value), hex(y.value), "new",
                              y.line, f"{noun} '{sub}' value changed: {x.value:#x} -> "
                              f"{y.value:#x}"))
        if owner and x.bit is not None and y.bit is None:
            out.append(Change("breaking", f"{noun}-bit-removed", sub, str(x.bit), "", "new",
                              y.line, f"{noun} '{sub}' is no longer given as bit {x.bit}: its "
                              "_BIT macro is removed"))
        elif owner and x.bit is None and y.bit is not None:
            out.append(Change("compatible", f"{noun}-bit-added", sub, "", str(y.bit), "new",
                              y.line, f"{noun} '{sub}' is now given as bit {y.bit}: a new _BIT "
                              "macro"))
        if x.type != y.type and not owner:
            out.append(Change("breaking", f"{noun}-type", sub, x.type, y.type, "new", y.line,
                              f"{noun} '{sub}' type changed: {x.type} -> {y.type}"))
        if x.doc != y.doc:
            out.append(Change("cosmetic", "doc", sub, x.doc, y.doc, "new", y.line,
                              f"doc of {noun} '{sub}' changed"))
    names = {y.name for y in new}
    for x in old:
        if x.name not in names:
            sub = label(x.name)
            out.append(Change("breaking", f"{noun}-removed", sub, hex(x.value), "", "old", x.line,
                              f"{noun} '{sub}' removed (was {x.value:#x})"))
    return out


def _flag_sets(old: Snapshot, new: Snapshot) -> list[Change]:
    out = []
    before: dict[str, FlagSetSnap] = {fs.name: fs for fs in old.flag_sets}
    for fs in new.flag_sets:
        was = before.get(fs.name)
        if was is None:
            out.append(Change("compatible", "flag-set-added", fs.name, "", fs.type, "new", fs.line,
                              f"new flag set '{fs.name}' ({fs.type})"))
            continue
        if was.type != fs.type:
            out.append(Change("breaking", "flag-set-type", fs.name, was.type, fs.type, "new",
                              fs.line, f"flag set '{fs.name}' type changed: {was.type} -> "
                              f"{fs.type}"))
        if was.doc != fs.doc:
            out.append(Change("cosmetic", "doc", fs.name, was.doc, fs.doc, "new", fs.line,
                              f"doc of flag set '{fs.name}' changed"))
        taken = 0
        for flag in was.flags:
            taken |= flag.value
        out.extend(_named(was.flags, fs.flags, "flag", fs.name, taken))
    names = {fs.name for fs in new.flag_sets}
    for was in old.flag_sets:
        if was.name not in names:
            out.append(Change("breaking", "flag-set-removed", was.name, was.type, "", "old",
                              was.line, f"flag set '{was.name}' removed"))
    return out
