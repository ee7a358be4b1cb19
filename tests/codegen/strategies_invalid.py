"""Hypothesis strategies for schemas with exactly one rule broken.

Each starts from a valid schema drawn by `strategies.valid_schemas`, breaks one
rule and knows the error message (a fragment of it) and the line it must name.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from hypothesis import strategies as st

from strategies import BYTES, FIXED, Drawn, Mark, emit, valid_schemas


@dataclass
class Broken:
    """A schema with one broken rule, the error text expected and its line."""

    text: str
    rule: str
    fragment: str
    line: int


def _scalar_members(model: dict, plain_only: bool = False) -> list[dict]:
    out = []
    for spec in model["fields"]:
        words = spec["type"].split()
        base = words[-1]
        if base in FIXED and not spec.get("reserved"):
            if plain_only and len(words) > 1:
                continue
            out.append(spec)
    return out


def _remark(spec: dict, key: str, tag: str) -> None:
    """Re-insert `key` of a mapping as a Mark, keeping its place in the order."""
    items = list(spec.items())
    spec.clear()
    for k, v in items:
        spec[Mark(k, tag) if k == key else k] = v


def _break(draw, drawn: Drawn) -> Broken:
    model = drawn.model
    fields = model["fields"]
    spec = draw(st.sampled_from(fields))
    name = spec["name"]
    rules = ["unknown-key", "invalid-identifier", "c-keyword", "duplicate-member", "unknown-type",
             "negative-offset", "array-length", "atomic-array", "size-mismatch",
             "size-not-positive", "size-wrong-kind", "reserved-name", "long-name",
             "duplicate-yaml-key", "unknown-flag-set", "atomic-reserved", "missing-type",
             "bad-constant"]
    plain = _scalar_members(model, plain_only=True)
    atomics = [f for f in fields if f["type"].startswith("atomic ") and
               f["type"].split()[-1] in FIXED]
    pinned = [f for f in fields if "offset" in f]
    if plain:
        rules += ["op-on-plain", "bits-too-wide", "bits-overlap"]
    if atomics:
        rules += ["store-acquire", "cas-failure-release"]
    if pinned:
        rules += ["pin-mismatch"]
    rule = draw(st.sampled_from(rules))
    what = f"member '{name}'"
    tag = "target"
    fragment = ""
    if rule == "unknown-key":
        spec[Mark("ofset", tag)] = 3
        fragment = "error: unknown key 'ofset' in a member of the struct"
    elif rule == "invalid-identifier":
        spec["name"] = "9" + name
        _remark(spec, "name", tag)
        fragment = f"error: the member name '9{name}' is not a valid C identifier"
    elif rule == "c-keyword":
        keyword = draw(st.sampled_from(["volatile", "int", "struct", "_Atomic", "while"]))
        spec["name"] = keyword
        _remark(spec, "name", tag)
        fragment = f"error: the member name '{keyword}' is a C keyword"
    elif rule == "duplicate-member":
        first = fields[0]["name"]
        fields.append({Mark("name", tag): first, "type": "u8"})
        fragment = f"error: duplicate member name '{first}' in the struct"
    elif rule == "unknown-type":
        spec["type"] = "u46"
        _remark(spec, "type", tag)
        fragment = f"error: unknown type 'u46' for {what}"
    elif rule == "negative-offset":
        spec["offset"] = -draw(st.integers(1, 1 << 70))
        _remark(spec, "offset", tag)
        fragment = f"error: the offset of {what} is negative ({spec[Mark('offset', tag)]})"
    elif rule == "array-length":
        count = draw(st.sampled_from(["0", "65537", "1" + "0" * 30, "9" * 5000]))
        spec["type"] = f"u8[{count}]"
        _remark(spec, "type", tag)
        fragment = f"error: the array length of {what} must be 1..65536"
    elif rule == "atomic-array":
        spec["type"] = "atomic u32[2]"
        spec.pop("ops", None)
        spec.pop("bits", None)
        _remark(spec, "type", tag)
        fragment = f"error: {what} is an atomic array; arrays cannot be atomic"
    elif rule == "size-mismatch":
        model["size"] = drawn.size + draw(st.integers(1, 64))
        _remark(model, "size", tag)
        fragment = f"error: the computed size of struct {drawn.struct} is {drawn.size} bytes"
    elif rule == "size-not-positive":
        model["size"] = -draw(st.integers(0, 1 << 64))
        _remark(model, "size", tag)
        fragment = "error: the size must be positive, not"
    elif rule == "size-wrong-kind":
        model["size"] = draw(st.sampled_from([str(drawn.size), 1.5, True]))
        _remark(model, "size", tag)
        fragment = "error: 'size' of the schema must be an integer, not"
    elif rule == "reserved-name":
        spec["name"] = "__" + name
        _remark(spec, "name", tag)
        fragment = f"error: the member name '__{name}' is reserved in C"
    elif rule == "long-name":
        spec["name"] = "n" * 64
        _remark(spec, "name", tag)
        fragment = "error: the member name is 64 characters long; the limit is 63"
    elif rule == "duplicate-yaml-key":
        return _duplicate_key(drawn, name)
    elif rule == "unknown-flag-set":
        target = draw(st.sampled_from(_scalar_members(model) or [None]))
        if target is None:
            fields.append({"name": "flagged", "type": "u8", Mark("flag_set", tag): "nosuch"})
            what = "member 'flagged'"
        else:
            target.pop("flag_set", None)
            target[Mark("flag_set", tag)] = "nosuch"
            what = f"member '{target['name']}'"
        fragment = f"error: unknown flag set 'nosuch' for {what}"
    elif rule == "atomic-reserved":
        fields.append({Mark("name", tag): "rsv_atomic", "type": "atomic u32", "reserved": True})
        fragment = "error: reserved member 'rsv_atomic' cannot be atomic"
        return _finish(model, rule, fragment, tag, type_line=True)
    elif rule == "missing-type":
        fields.append({Mark("name", tag): "untyped"})
        fragment = "error: a member of the struct is missing the required key 'type'"
    elif rule == "bad-constant":
        value = draw(st.sampled_from([256, -1, 1 << 64]))
        model.setdefault("constants", {})["LIMIT"] = {"type": "u8", Mark("value", tag): value}
        fragment = "error: the value"
        fragment += f" {value:#x}" if value >= 0 else f" {value}"
        fragment += " of constant 'LIMIT' does not fit u8"
    elif rule == "op-on-plain":
        target = draw(st.sampled_from(plain))
        target[Mark("ops", tag)] = {"load": "acquire"}
        fragment = f"error: member '{target['name']}' is not atomic but has ops"
    elif rule in ("bits-too-wide", "bits-overlap"):
        target = draw(st.sampled_from(plain))
        width = BYTES[target["type"].split()[-1]] * 8
        target.pop("bits", None)
        if rule == "bits-too-wide":
            target["bits"] = [{Mark("name", tag): "wide", "lsb": width - 1, "width": 2}]
            fragment = (f"error: sub-field 'wide' of member '{target['name']}' covers bits "
                        f"[{width - 1}, {width + 1}), outside the {width} bits")
        else:
            target["bits"] = [{"name": "lo", "lsb": 0, "width": width},
                              {Mark("name", tag): "hi", "lsb": width - 1, "width": 1}]
            fragment = (f"error: sub-field 'hi' of member '{target['name']}' "
                        f"[{width - 1}, {width}) overlaps 'lo' [0, {width})")
    elif rule == "store-acquire":
        target = draw(st.sampled_from(atomics))
        target.pop("bits", None)
        target["ops"] = {Mark("store", tag): "acquire"}
        fragment = (f"error: C11 forbids memory order 'acquire' for op 'store' of member "
                    f"'{target['name']}'")
    elif rule == "cas-failure-release":
        target = draw(st.sampled_from(atomics))
        target.pop("bits", None)
        target["ops"] = {Mark("cas", tag): ["acq_rel", "release"]}
        fragment = "error: a cas failure order cannot be 'release'"
    elif rule == "pin-mismatch":
        target = draw(st.sampled_from(pinned))
        target["offset"] += draw(st.integers(1, 8))
        _remark(target, "offset", tag)
        fragment = f"error: '{target['name']}' is pinned at offset {target[Mark('offset', tag)]}"
    return _finish(model, rule, fragment, tag)


def _finish(model: dict, rule: str, fragment: str, tag: str, type_line: bool = False) -> Broken:
    text, marks = emit(model)
    return Broken(text, rule, fragment, marks[tag] + (1 if type_line else 0))


def _duplicate_key(drawn: Drawn, name: str) -> Broken:
    text, _ = emit(drawn.model)
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.strip().lstrip("- ").startswith("name: ") and json.dumps(name) in line:
            indent = line[: len(line) - len(line.lstrip())] + ("  " if "- " in line else "")
            lines.insert(index + 1, f"{indent}name: {json.dumps(name)}")
            return Broken("\n".join(lines) + "\n", "duplicate-yaml-key",
                          "error: duplicate key 'name' (first given at line "
                          f"{index + 1})", index + 2)
    raise AssertionError(f"member {name} not found in the emitted schema")


@st.composite
def invalid_schemas(draw) -> Broken:
    return _break(draw, draw(valid_schemas(max_members=8)))
