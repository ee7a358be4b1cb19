"""Hypothesis strategies: random valid schemas, and schemas with exactly one rule broken.

A schema is drawn as a plain Python model (dicts and lists in schema order) and
written out as block YAML by `emit`, which also records the line of every key
wrapped in `Mark`, so a broken rule knows the line its error must name.

Valid schemas are valid on every target they list: members are placed with the
psABI rules written out below (independently of the generator), every padding
byte that some target needs is declared as a reserved `u8[n]` member, and
`uptr` is used only when all listed targets have the same pointer width.
Schemas with one rule broken are drawn by strategies_invalid.py.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

ALL_TARGETS = ("x86_64", "i386", "aarch64")
TARGET_CHOICES = (("x86_64",), ALL_TARGETS, ("x86_64", "aarch64"), ("i386",), ("aarch64", "i386"))
FIXED = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64")
BYTES = {"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8}
OPS = ("load", "store", "cas", "fetch_add", "fetch_sub", "fetch_or", "fetch_and", "exchange")
LOAD_ORDERS = ("relaxed", "acquire", "seq_cst")
STORE_ORDERS = ("relaxed", "release", "seq_cst")
RMW_ORDERS = ("relaxed", "acquire", "release", "acq_rel", "seq_cst")
CAS_PAIRS = (("relaxed", "relaxed"), ("acquire", "acquire"), ("acquire", "relaxed"),
             ("release", "relaxed"), ("acq_rel", "acquire"), ("acq_rel", "relaxed"),
             ("seq_cst", "seq_cst"), ("seq_cst", "acquire"), ("seq_cst", "relaxed"))
MAX_SIZE = 4096
# Doc text that must stay inside its comment: delimiters, trigraphs, splices, non-ASCII.
HOSTILE_DOCS = ("ends */ here", "/* nested", "line\n#define EVIL 1", "back\\", "tri ??/",
                "four ???/ ????/",
                "??= ??( ??) ??' ??< ??! ??> ??-", "*/ #define EVIL 2 /*", "\\\n#define EVIL 3",
                "Grüße, 漢字, ∀x", "tab\there", "  leading and trailing  ", "",
                "// line comment")


class Mark(str):
    """A mapping key whose line `emit` records under `Mark.tag`."""

    def __new__(cls, text: str, tag: str) -> "Mark":
        obj = super().__new__(cls, text)
        obj.tag = tag
        return obj


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def emit(model: dict) -> tuple[str, dict[str, int]]:
    """Block-style YAML for a model, and the 1-based line of every Mark key."""
    lines: list[str] = []
    marks: dict[str, int] = {}

    def put(key: Any, value: Any, indent: str, first_prefix: str | None = None) -> None:
        lead = first_prefix if first_prefix is not None else indent
        if isinstance(key, Mark):
            marks[key.tag] = len(lines) + 1
        if isinstance(value, (dict, list)) and not value:
            lines.append(f"{lead}{key}: {'{}' if isinstance(value, dict) else '[]'}")
        elif isinstance(value, dict):
            lines.append(f"{lead}{key}:")
            for k, v in value.items():
                put(k, v, indent + "  ")
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            lines.append(f"{lead}{key}:")
            for item in value:
                for n, (k, v) in enumerate(item.items()):
                    put(k, v, indent + "    ", indent + "  - " if n == 0 else None)
        elif isinstance(value, list):
            lines.append(f"{lead}{key}: [{', '.join(_scalar_text(v) for v in value)}]")
        else:
            lines.append(f"{lead}{key}: {_scalar_text(value)}")

    for key, value in model.items():
        put(key, value, "")
    return "\n".join(lines) + "\n", marks


def scalar_shape(target: str, base: str, atomic: bool) -> tuple[int, int]:
    """sizeof and alignof of a scalar (System V i386 aligns plain 8-byte integers to 4)."""
    if base == "uptr":
        return (4, 4) if target == "i386" else (8, 8)
    size = BYTES[base]
    return (size, 4) if target == "i386" and size == 8 and not atomic else (size, size)


@dataclass
class Drawn:
    """A drawn valid schema: its model plus facts the tests check against."""

    model: dict
    targets: tuple[str, ...]
    size: int
    struct: str
    prefix: str
    member_count: int

    @property
    def text(self) -> str:
        return emit(self.model)[0]


class _Builder:
    def __init__(self, draw, targets: tuple[str, ...]) -> None:
        self.draw = draw
        self.targets = targets
        self.ids = itertools.count()
        self.allow_uptr = len({scalar_shape(t, "uptr", False) for t in targets}) == 1
        self.types: dict[str, tuple[int, dict[str, int]]] = {}  # name -> size, align per target
        self.flag_sets: dict[str, str] = {}  # name -> scalar

    def name(self, lower: bool = True) -> str:
        stem = self.draw(st.text("abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8))
        text = f"{stem}{next(self.ids)}"
        return text if lower else text.upper()

    def doc(self) -> str:
        return self.draw(st.one_of(st.sampled_from(HOSTILE_DOCS),
                                   st.text(st.characters(min_codepoint=32, max_codepoint=126),
                                           max_size=30)))

    def ops(self, bits: bool) -> dict:
        chosen = self.draw(st.lists(st.sampled_from(OPS), unique=True, max_size=5))
        if bits:
            chosen = sorted(set(chosen) | {"load", "cas"}, key=OPS.index)
        out: dict[str, Any] = {}
        for op in chosen:
            if op == "load":
                out[op] = self.draw(st.sampled_from(LOAD_ORDERS))
            elif op == "store":
                out[op] = self.draw(st.sampled_from(STORE_ORDERS))
            elif op == "cas":
                out[op] = list(self.draw(st.sampled_from(CAS_PAIRS)))
            else:
                out[op] = self.draw(st.sampled_from(RMW_ORDERS))
        return out

    def bits(self, base: str) -> list[dict]:
        width = BYTES[base] * 8
        cuts = sorted(self.draw(st.sets(st.integers(0, width), min_size=2, max_size=6)))
        out = []
        for lsb, end in zip(cuts, cuts[1:]):
            if self.draw(st.booleans()):
                sub = {"name": self.name(), "lsb": lsb, "width": end - lsb}
                if self.draw(st.booleans()):
                    sub["doc"] = self.doc()
                out.append(sub)
        return out

    def member(self, room: int) -> dict:
        """One member (not a padding gap); `room` bounds its size."""
        kinds = ["scalar", "scalar", "array", "reserved"] + (["aggregate"] if self.types else [])
        kind = self.draw(st.sampled_from(kinds))
        spec: dict[str, Any] = {"name": self.name()}
        if kind == "aggregate":
            fits = [n for n, (size, _) in self.types.items() if size <= room]
            if fits:
                spec["type"] = self.draw(st.sampled_from(fits))
                return spec
            kind = "scalar"
        bases = FIXED + (("uptr",) if self.allow_uptr else ())
        base = self.draw(st.sampled_from(bases))
        if kind in ("array", "reserved"):
            count = self.draw(st.integers(1, max(1, min(16, room // 8))))
            spec["type"] = f"{base}[{count}]"
            if kind == "reserved":
                spec["reserved"] = True
            return spec
        atomic = self.draw(st.booleans())
        spec["type"] = f"atomic {base}" if atomic else base
        if base == "uptr":
            if atomic and self.draw(st.booleans()):
                spec["ops"] = self.ops(False)
            return spec
        bits = self.bits(base) if self.draw(st.integers(0, 3)) == 0 else []
        if atomic and (bits or self.draw(st.booleans())):
            spec["ops"] = self.ops(bool(bits))
        if bits:
            spec["bits"] = bits
        sets = [n for n, s in self.flag_sets.items() if BYTES[s] <= BYTES[base]]
        if sets and self.draw(st.integers(0, 2)) == 0:
            spec["flag_set"] = self.draw(st.sampled_from(sets))
        return spec

    def shape(self, spec: dict, target: str) -> tuple[int, int]:
        text = spec["type"]
        if text in self.types:
            size, aligns = self.types[text]
            return size, aligns[target]
        atomic = text.startswith("atomic ")
        base = text.split()[-1]
        count = 1
        if "[" in base:
            base, rest = base.split("[")
            count = int(rest.rstrip("]"))
        size, align = scalar_shape(target, base, atomic)
        return size * count, align

    def fields(self, count: int, budget: int) -> tuple[list[dict], int, dict[str, int]]:
        """Members in order with declared gaps; (members, size, align per target)."""
        out: list[dict] = []
        pos = 0
        aligns = {t: 1 for t in self.targets}
        for _ in range(count):
            spec = self.member(budget - pos)
            shapes = {t: self.shape(spec, t) for t in self.targets}
            size = shapes[self.targets[0]][0]
            need = max(a for _, a in shapes.values())
            pad = -pos % need
            if pos + pad + size > budget:
                break
            if pad:
                out.append({"name": f"_gap{next(self.ids)}", "type": f"u8[{pad}]",
                            "reserved": True})
                pos += pad
            if self.draw(st.integers(0, 3)) == 0:
                spec["offset"] = pos
            if self.draw(st.integers(0, 2)) == 0:
                spec["doc"] = self.doc()
            out.append(spec)
            pos += size
            for t, (_, a) in shapes.items():
                aligns[t] = max(aligns[t], a)
        if not out:
            out.append({"name": self.name(), "type": "u8"})
            pos = 1
        tail = -pos % max(aligns.values())
        if tail:
            out.append({"name": f"_tail{next(self.ids)}", "type": f"u8[{tail}]", "reserved": True})
            pos += tail
        return out, pos, aligns


def _flag_set(b: _Builder) -> dict:
    scalar = b.draw(st.sampled_from(FIXED))
    width = BYTES[scalar] * 8
    signed = scalar.startswith("i")
    low, high = (-(1 << (width - 1)), (1 << (width - 1)) - 1) if signed else (0, (1 << width) - 1)
    values: dict[str, dict] = {}
    used_bits: set[int] = set()
    used_masks: set[int] = set()
    for _ in range(b.draw(st.integers(1, 6))):
        if b.draw(st.booleans()):
            bit = b.draw(st.sampled_from([0, width - 1]) | st.integers(0, width - 1))
            if bit in used_bits or (1 << bit) in used_masks:
                continue
            used_bits.add(bit)
            used_masks.add(1 << bit)
            flag: dict[str, Any] = {"bit": bit}
        else:
            value = b.draw(st.integers(low, high))
            mask = value & ((1 << width) - 1)
            if not value or mask in used_masks or value in used_masks:
                continue
            used_masks.update((mask, value))
            flag = {"value": value}
        if b.draw(st.booleans()):
            flag["doc"] = b.doc()
        values[b.name(lower=False)] = flag
    if not values:
        values[b.name(lower=False)] = {"bit": 0}
    return {"type": scalar, "values": values}


@st.composite
def valid_schemas(draw, max_members: int = 40) -> Drawn:
    targets = draw(st.sampled_from(TARGET_CHOICES))
    b = _Builder(draw, targets)
    struct = b.name() + "_s"
    model: dict[str, Any] = {"schema": 1, "struct": struct}
    prefix = struct.upper()
    if draw(st.booleans()):
        prefix = b.name(lower=False) + "_P"
        model["prefix"] = prefix
    if draw(st.booleans()):
        model["doc"] = b.doc()
    model["size"] = None  # keeps the key order readable; filled in below
    model["targets"] = list(targets)
    constants = {}
    for _ in range(draw(st.integers(0, 3))):
        scalar = draw(st.sampled_from(FIXED))
        width = BYTES[scalar] * 8
        low, high = ((-(1 << (width - 1)), (1 << (width - 1)) - 1) if scalar[0] == "i"
                     else (0, (1 << width) - 1))
        value = draw(st.sampled_from([low, high, 0]) | st.integers(low, high))
        constants[b.name(lower=False)] = {"type": scalar, "value": value}
    if constants:
        model["constants"] = constants
    flag_sets = {}
    for _ in range(draw(st.integers(0, 2))):
        name = b.name()
        flag_sets[name] = _flag_set(b)
        b.flag_sets[name] = flag_sets[name]["type"]
    if flag_sets:
        model["flag_sets"] = flag_sets
    types = {}
    for _ in range(draw(st.integers(0, 3))):
        name = b.name()
        members, size, aligns = b.fields(draw(st.integers(1, 6)), 512)
        types[name] = {"doc": b.doc(), "fields": members}
        b.types[name] = (size, aligns)
    if types:
        model["types"] = types
    members, size, aligns = b.fields(draw(st.integers(1, max_members)), MAX_SIZE)
    extra = draw(st.integers(0, 3))
    if extra == 0 and size < MAX_SIZE:
        grow = draw(st.integers(1, MAX_SIZE - size))
        grow -= grow % max(aligns.values())
        if grow:
            members.append({"name": f"_pad{next(b.ids)}", "type": f"u8[{grow}]", "reserved": True})
            size += grow
    model["fields"] = members
    if draw(st.booleans()):
        model["size"] = size
    else:
        model["size"] = {t: size for t in targets}
    if len(set(aligns.values())) == 1:
        align = aligns[targets[0]]
        if draw(st.booleans()):
            model["align"] = align
        if draw(st.booleans()):
            model["array_align"] = align << draw(st.integers(0, 6))
        if len(targets) > 1 and draw(st.booleans()):
            model["portable"] = True
    return Drawn(model, targets, size, struct, prefix, len(members))
