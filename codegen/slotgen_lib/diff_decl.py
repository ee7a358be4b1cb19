"""Rules comparing one member's declaration on both sides: atomicity, signedness,
type, bit sub-fields, ops and their memory orders, flag set and doc.  These do
not depend on the target; placement is compared per target in diff_members."""
from __future__ import annotations

from . import orders
from .diff_model import Change, MemberSnap


def _quote(path: str) -> str:
    return f"'{path}'"


def declaration(a: MemberSnap, b: MemberSnap) -> list[Change]:
    """Target-independent differences of one member present on both sides."""
    out: list[Change] = []
    p, line = b.path, b.line

    def add(kind: str, what: str, old: str, new: str, message: str, at: int = line) -> None:
        out.append(Change(kind, what, p, old, new, "new", at, message))

    if a.atomic != b.atomic:
        add("breaking", "atomic", _atomic(a), _atomic(b),
            f"'{p}' changed from {_atomic(a)} to {_atomic(b)}")
    if a.signed != b.signed:
        add("breaking", "signedness", a.base, b.base,
            f"'{p}' signedness changed: {a.base} -> {b.base}")
    if _shape(a.type) != _shape(b.type):
        add("breaking", "type", a.type, b.type, f"'{p}' type changed: {a.type} -> {b.type}")
    out.extend(_bits(a, b))
    out.extend(_ops(a, b))
    if a.flag_set != b.flag_set:
        if a.flag_set is None:
            add("semantic", "flag-set", "", b.flag_set, f"flag set '{b.flag_set}' attached to '{p}'")
        elif b.flag_set is None:
            add("semantic", "flag-set", a.flag_set, "", f"flag set '{a.flag_set}' detached from '{p}'")
        else:
            add("semantic", "flag-set", a.flag_set, b.flag_set,
                f"'{p}' flag set changed: {a.flag_set} -> {b.flag_set}")
    if a.doc != b.doc:
        add("cosmetic", "doc", a.doc, b.doc, f"doc of '{p}' changed")
    return out


def _atomic(m: MemberSnap) -> str:
    return "atomic" if m.atomic else "plain"


def _shape(spelling: str) -> str:
    """A type spelling without 'atomic' and signedness, to spot other type changes."""
    text = spelling.replace("atomic ", "")
    return "u" + text[1:] if text[:1] == "i" and text[1:2].isdigit() else text


def _bits(a: MemberSnap, b: MemberSnap) -> list[Change]:
    out = []
    old = {x.name: x for x in a.bits}
    taken = 0
    for x in a.bits:
        taken |= x.mask
    new_names = {y.name for y in b.bits}
    renamed: dict[str, str] = {}  # old name -> new name: same place, only the name differs
    for y in b.bits:
        x = old.get(y.name)
        sub = f"{b.path}.{y.name}"
        was = next((o for o in a.bits if o.name not in new_names and o.name not in renamed and
                    (o.lsb, o.width) == (y.lsb, y.width)), None) if x is None else None
        if was is not None:
            renamed[was.name] = y.name
            out.append(Change("breaking", "bits-renamed", sub, was.name, y.name, "new", y.line,
                              f"bit sub-field '{b.path}.{was.name}' renamed to '{sub}' (its "
                              "accessors and macros are renamed)"))
            continue
        if x is None:
            clash = [o.name for o in a.bits if o.mask & y.mask]
            if clash:
                out.append(Change("breaking", "bits-added", sub, "", f"{y.lsb}+{y.width}", "new",
                                  y.line, f"new bit sub-field '{sub}' (lsb {y.lsb}, width {y.width}) "
                                  f"overlaps {', '.join(map(_quote, clash))}"))
            else:
                out.append(Change("compatible", "bits-added", sub, "", f"{y.lsb}+{y.width}", "new",
                                  y.line, f"new bit sub-field '{sub}' (lsb {y.lsb}, width {y.width}) "
                                  "in previously unused bits"))
            continue
        if x.lsb != y.lsb:
            out.append(Change("breaking", "bits-moved", sub, str(x.lsb), str(y.lsb), "new", y.line,
                              f"bit sub-field '{sub}' moved: lsb {x.lsb} -> {y.lsb}"))
        if x.width != y.width:
            how = "narrowed" if y.width < x.width else "widened"
            out.append(Change("breaking", "bits-width", sub, str(x.width), str(y.width), "new",
                              y.line, f"bit sub-field '{sub}' {how}: width {x.width} -> {y.width}"))
        if x.doc != y.doc:
            out.append(Change("cosmetic", "doc", sub, x.doc, y.doc, "new", y.line,
                              f"doc of '{sub}' changed"))
    for x in a.bits:
        if x.name not in new_names and x.name not in renamed:
            sub = f"{a.path}.{x.name}"
            out.append(Change("breaking", "bits-removed", sub, f"{x.lsb}+{x.width}", "", "old",
                              x.line, f"bit sub-field '{sub}' removed"))
    return out


def _ops(a: MemberSnap, b: MemberSnap) -> list[Change]:
    out = []
    old, new = dict(a.ops), dict(b.ops)
    p = b.path
    for name, orders_new in b.ops:
        was = old.get(name)
        text = "/".join(orders_new)
        if was is None:
            out.append(Change("semantic", "op-added", f"{p}.{name}", "", text, "new", b.line,
                              f"op '{name}' ({text}) added to '{p}'"))
        elif tuple(was) != tuple(orders_new):
            verdicts = {orders.compare(o, n) for o, n in zip(was, orders_new)} - {"same"}
            verdict = verdicts.pop() if len(verdicts) == 1 else "different"
            old_text = "/".join(was)
            how = {"stronger": "stronger", "weaker": "weaker"}.get(verdict, "neither stronger "
                                                                   "nor weaker")
            out.append(Change("semantic", "order", f"{p}.{name}", old_text, text, "new", b.line,
                              f"memory order of '{p}' {name} changed: {old_text} -> {text} "
                              f"({how})"))
    for name, was in a.ops:
        if name not in new:
            out.append(Change("semantic", "op-removed", f"{p}.{name}", "/".join(was), "", "new",
                              b.line, f"op '{name}' removed from '{p}'"))
    return out
