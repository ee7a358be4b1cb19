"""Rules comparing the members of two snapshots: added, removed and renamed
members, their placement on each target, and the reserved bytes new members are
carved from (declarations are compared in diff_decl).

Reserved members are compared as byte ranges, not by name: carving a member
out of `_reserved_tail` moves and shrinks that reserved member, which is fine.
"""
from __future__ import annotations

from . import diff_decl
from .diff_model import Change, Snapshot, TargetSnap

T = str  # a target name; '' for a target-independent change


def _quote(path: str) -> str:
    return f"'{path}'"


def byte_ranges(offsets: set[int]) -> list[tuple[int, int]]:
    """Sorted inclusive ranges covering a set of byte offsets."""
    out: list[tuple[int, int]] = []
    for b in sorted(offsets):
        if out and out[-1][1] == b - 1:
            out[-1] = (out[-1][0], b)
        else:
            out.append((b, b))
    return out


def ranges_text(offsets: set[int]) -> str:
    return ", ".join(f"{a}..{b}" if a != b else str(a) for a, b in byte_ranges(offsets))


def bytes_text(offsets: set[int]) -> str:
    """'byte 15' or 'bytes 20..23' (or 'bytes 1, 4..5')."""
    return ("byte " if len(offsets) == 1 else "bytes ") + ranges_text(offsets)


def _used(snap: Snapshot, target: TargetSnap, reserved: bool) -> dict[int, str]:
    """Byte -> innermost member path, for reserved or for non-reserved members.

    Innermost: a member of a named type is the sum of its own members, so its
    reserved bytes count as reserved, not as used by the whole member."""
    parents = {p.path.rpartition(".")[0] for p in target.places if "." in p.path}
    out: dict[int, str] = {}
    for place in target.places:
        member = snap.member(place.path)
        if place.path in parents or member is None or member.reserved != reserved:
            continue
        out.update((b, place.path) for b in range(place.offset, place.end))
    return out


def _paths(snap: Snapshot) -> list[str]:
    return [m.path for m in snap.members if not m.reserved]


def _under(path: str, parents: set[str]) -> bool:
    return any(path.startswith(p + ".") for p in parents)


def _renames(old: Snapshot, new: Snapshot, removed: list[str], added: list[str]
             ) -> list[tuple[str, str]]:
    """(old, new) pairs of members that differ only by name (same type and places)."""
    pairs = []
    for gone in removed:
        for came in added:
            a, b = old.member(gone), new.member(came)
            if a is None or b is None or a.type != b.type or came in (p[1] for p in pairs):
                continue
            if gone.rpartition(".")[0] != came.rpartition(".")[0]:
                continue
            if all(_spot(t, gone) == _spot(new.target(t.target), came) for t in old.targets
                   if new.target(t.target) is not None):
                pairs.append((gone, came))
                break
    return pairs


def _spot(target: TargetSnap | None, path: str) -> tuple[int, int] | None:
    place = target.place(path) if target else None
    return (place.offset, place.size) if place else None


def compare(old: Snapshot, new: Snapshot) -> list[tuple[T, Change]]:
    out: list[tuple[T, Change]] = []
    old_paths, new_paths = _paths(old), _paths(new)
    removed = [p for p in old_paths if p not in new_paths]
    added = [p for p in new_paths if p not in old_paths]
    renames = _renames(old, new, removed, added)
    for gone, came in renames:
        removed.remove(gone)
        added.remove(came)
        m = new.member(came)
        out.append(("", Change("breaking", "member-renamed", came, gone, came, "new", m.line,
                               f"member '{gone}' renamed to '{came}'")))
    top_removed, top_added = set(removed), set(added)
    for path in removed:
        if not _under(path, top_removed):
            m = old.member(path)
            out.append(("", Change("breaking", "member-removed", path, m.type, "", "old", m.line,
                                   f"member '{path}' ({m.type}) removed")))
    for tgt in old.targets:
        ntgt = new.target(tgt.target)
        if ntgt is None:
            continue
        for path in added:
            if not _under(path, top_added):
                out.append((tgt.target, _added(old, new, tgt, ntgt, path)))
        out.extend((tgt.target, c) for c in _places(old, new, tgt, ntgt, old_paths, new_paths))
        out.extend((tgt.target, c) for c in _reserved(old, new, tgt, ntgt, set(added)))
    for path in old_paths:
        a, b = old.member(path), new.member(path)
        if b is not None and not b.reserved:
            out.extend(("", c) for c in diff_decl.declaration(a, b))
    return out


def _added(old: Snapshot, new: Snapshot, tgt: TargetSnap, ntgt: TargetSnap, path: str) -> Change:
    m = new.member(path)
    place = ntgt.place(path)
    span = set(range(place.offset, place.end))
    reserved = set(_used(old, tgt, True))
    what = f"new member '{path}' ({m.type}) at offset {place.offset}"
    if span <= reserved and place.end <= tgt.size:
        return Change("compatible", "member-added", path, "", m.type, "new", m.line,
                      f"{what} carved out of reserved {bytes_text(span)}")
    victims = _overlapping(old, tgt, place.offset, place.end)
    if victims:
        why = "takes bytes used by " + ", ".join(map(_quote, victims))
    else:
        why = f"lies beyond the old end of the struct ({tgt.size} bytes)"
    return Change("breaking", "member-added", path, "", m.type, "new", m.line, f"{what} {why}")


def _overlapping(snap: Snapshot, target: TargetSnap, start: int, end: int) -> list[str]:
    """The innermost non-reserved members of a snapshot that overlap [start, end)."""
    hits = [p.path for p in target.places if p.offset < end and start < p.end
            and (m := snap.member(p.path)) is not None and not m.reserved]
    return sorted(h for h in hits if not any(o.startswith(h + ".") for o in hits))


def _places(old: Snapshot, new: Snapshot, tgt: TargetSnap, ntgt: TargetSnap,
            old_paths: list[str], new_paths: list[str]) -> list[Change]:
    out = []
    for path in old_paths:
        a, b = tgt.place(path), ntgt.place(path)
        m = new.member(path)
        if a is None or b is None or path not in new_paths or m is None:
            continue
        line = m.line
        if a.offset != b.offset:
            out.append(Change("breaking", "offset", path, str(a.offset), str(b.offset), "new", line,
                              f"'{path}' moved: offset {a.offset} -> {b.offset}"))
        if a.size != b.size:
            out.append(Change("breaking", "size", path, str(a.size), str(b.size), "new", line,
                              f"'{path}' size changed: {a.size} -> {b.size} bytes"))
        if a.align != b.align:
            out.append(Change("breaking", "align", path, str(a.align), str(b.align), "new", line,
                              f"'{path}' alignment changed: {a.align} -> {b.align}"))
    return out


def _reserved(old: Snapshot, new: Snapshot, tgt: TargetSnap, ntgt: TargetSnap,
              added: set[str]) -> list[Change]:
    """Reserved bytes taken (carved, or overrun) and bytes newly reserved."""
    out = []
    old_res, new_res = _used(old, tgt, True), _used(new, ntgt, True)
    new_used = _used(new, ntgt, False)
    lost = set(old_res) - set(new_res)
    for start, stop in byte_ranges(lost):
        span = set(range(start, stop + 1))
        names = sorted({old_res[b] for b in span})
        takers = sorted({new_used[b] for b in span if b in new_used})
        carved = takers and all(t in added or _under(t, added) for t in takers)
        region = ", ".join(map(_quote, names))
        line = next((new.member(t).line for t in takers), new.size_line)
        by = ", ".join(map(_quote, takers)) or "nothing (the struct shrank)"
        kind = "compatible" if carved and span <= set(new_used) else "breaking"
        verb = "carved for" if kind == "compatible" else "now used by"
        out.append(Change(kind, "reserved-shrunk", names[0], ranges_text(span), "", "new", line,
                          f"reserved region {region} shrunk: {bytes_text(span)} {verb} {by}"))
    gained = set(new_res) - set(old_res)
    for start, stop in byte_ranges(gained):
        span = set(range(start, stop + 1))
        names = sorted({new_res[b] for b in span})
        was = _overlapping(old, tgt, start, stop + 1)
        line = new.member(names[0]).line
        before = ("used by " + ", ".join(map(_quote, was))) if was else \
            "beyond the old end of the struct"
        region = ", ".join(map(_quote, names))
        out.append(Change("breaking", "reserved-grown", names[0], "", ranges_text(span), "new",
                          line, f"{bytes_text(span)} reserved now ({region}), "
                          f"{before} in OLD"))
    return out
