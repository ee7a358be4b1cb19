"""Check a loaded schema against the schema language and build the frozen model."""
from __future__ import annotations

import hashlib
import re
from typing import Any

from . import members, yamlload
from .errors import Collector, Loc
from .model import SCALARS, TARGETS, Aggregate, Constant, Flag, FlagSet, Schema
from .reader import Reader
from .yamlload import YList, YMap

TOP_KEYS = ("schema", "struct", "prefix", "doc", "size", "align", "array_align", "types",
            "fields", "constants", "flag_sets", "targets", "portable", "abi_version")
TOP_REQUIRED = ("schema", "struct", "size", "fields")
PREFIX_PATTERN = r"[A-Z][A-Z0-9_]*"
SCHEMA_VERSION = 1
_WIDTH = {"u8": 8, "i8": 8, "u16": 16, "i16": 16, "u32": 32, "i32": 32, "u64": 64,
          "i64": 64, "uptr": 32}


def value_range(scalar: str) -> tuple[int, int]:
    """Inclusive range of a scalar type (uptr: the narrowest target, 32 bits)."""
    bits = _WIDTH[scalar]
    if scalar.startswith("i"):
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def load_text(path: str, text: bytes) -> Schema:
    schema, errors, _ = check_text(path, text)
    errors.raise_if_any()
    assert schema is not None
    return schema


def check_text(path: str, text: bytes) -> tuple[Schema | None, Collector, bool]:
    """The model (None if unusable), the problems found, and whether the model is whole.

    A whole model lost no member, type, constant or flag to an error, so its
    layout can still be computed and checked to report every problem in one run.
    """
    raw = yamlload.load(path, text)
    errors = Collector()
    schema = _build(path, hashlib.sha256(text).hexdigest(), raw, Reader(path, errors), errors)
    whole = schema is not None and _count(raw) == _count_model(schema)
    return schema, errors, whole


def _count(raw: Any) -> int:
    """Members and types written in the schema; -1 (never a model's count) when a value
    that should be a list or mapping is not one, whatever else is counted."""
    if not isinstance(raw, YMap):
        return -1
    lists = [raw.get("fields")]
    total = 0
    types = raw.get("types")
    if isinstance(types, YMap):
        for body in types.values():
            total += 1
            lists.append(body.get("fields") if isinstance(body, YMap) else [])
    if any(node is not None and not isinstance(node, list) for node in lists):
        return -1
    return total + sum(len(node) for node in lists if node is not None)


def _count_model(schema: Schema) -> int:
    return len(schema.fields) + sum(len(t.fields) + 1 for t in schema.types)


def _build(path: str, sha: str, raw: Any, rd: Reader, errors: Collector) -> Schema | None:
    top = rd.mapping(raw, Loc(path, 1, 1), "the schema")
    if top is None:
        return None
    rd.keys(top, TOP_KEYS, TOP_REQUIRED, "the schema")
    version = rd.get(top, "schema", int, "the schema", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        errors.error(rd.loc(top, "schema"), f"unsupported schema format {version}",
                     f"this slotgen reads 'schema: {SCHEMA_VERSION}'")
    struct = rd.get(top, "struct", str, "the schema", "")
    if isinstance(top.get("struct"), str) and \
            rd.identifier(struct, rd.loc(top, "struct"), "the struct name"):
        default_prefix = struct.upper()
    else:
        struct, default_prefix = "invalid", "INVALID"
    prefix = rd.get(top, "prefix", str, "the schema", default_prefix)
    if "prefix" in top:
        rd.identifier(prefix, rd.loc(top, "prefix"), "the prefix", PREFIX_PATTERN)
    elif not re.fullmatch(PREFIX_PATTERN, default_prefix):
        errors.error(rd.loc(top, "struct"), f"the default prefix '{default_prefix}' (the struct "
                     f"name upper-cased) does not match {PREFIX_PATTERN}",
                     "give the macros a prefix, e.g. 'prefix: " +
                     (default_prefix.lstrip("_") or "S") + "'")
        prefix = "INVALID"
    targets = _targets(top, rd)
    flag_sets = _flag_sets(top, rd)
    constants = _constants(top, rd)
    ctx = members.Context(rd, {f.name for f in flag_sets})
    types = _types(top, rd, ctx)
    fields_node = rd.sequence(top.get("fields"), rd.loc(top, "fields"), "'fields'") \
        if "fields" in top else None
    fields = members.read_fields(fields_node, ctx, "the struct") if fields_node is not None else ()
    if fields_node is not None and not fields_node:
        errors.error(rd.loc(top, "fields"), "'fields' is empty", "declare at least one member")
    schema = Schema(
        path=path, sha256=sha, version=version, struct=struct, prefix=prefix,
        doc=rd.doc(top, "the schema"), sizes=_sizes(top, rd, targets),
        align=_power_of_two(top, "align", rd), array_align=_power_of_two(top, "array_align", rd),
        portable=rd.get(top, "portable", bool, "the schema", False), targets=targets,
        abi_version=rd.get(top, "abi_version", int, "the schema", None),
        types=types, fields=fields, constants=constants, flag_sets=flag_sets,
        loc=top.loc, size_loc=rd.loc(top, "size"), doc_loc=rd.loc(top, "doc"),
        align_loc=rd.loc(top, "align"), array_align_loc=rd.loc(top, "array_align"),
        struct_loc=rd.loc(top, "struct"), prefix_loc=rd.loc(top, "prefix"),
        targets_loc=rd.loc(top, "targets"))
    members.check_type_uses(schema, rd)
    return schema


def _targets(top: YMap, rd: Reader) -> tuple[str, ...]:
    if "targets" not in top:
        return TARGETS
    node = rd.sequence(top["targets"], rd.loc(top, "targets"), "'targets'")
    if node is None:
        return TARGETS
    seen: list[str] = []
    for item, loc in zip(node, node.item_locs):
        if item not in TARGETS:
            rd.errors.error(loc, f"unknown target {item!r}", "targets: " + ", ".join(TARGETS))
        elif item in seen:
            rd.errors.error(loc, f"target '{item}' is listed twice")
        else:
            seen.append(item)
    if not seen and not node:
        rd.errors.error(node.loc, "'targets' is empty")
    return tuple(seen) or TARGETS


def _sizes(top: YMap, rd: Reader,
           targets: tuple[str, ...]) -> tuple[tuple[str, int | None], ...]:
    """Each target's declared size; None where it is missing or unusable (already
    reported), so that the layout stage does not compare against a made-up size."""
    node = top.get("size")
    if isinstance(node, YMap):
        rd.keys(node, TARGETS, targets, "'size'")
        for extra in (t for t in node if t in TARGETS and t not in targets):
            rd.errors.error(node.key_locs[extra], f"'size' gives a size for target '{extra}', "
                            "which 'targets' does not list",
                            f"remove it, or add '{extra}' to 'targets'")
        sizes = {t: rd.get(node, t, int, "'size'") for t in targets}
    else:
        value = rd.get(top, "size", int, "the schema")
        sizes = {t: value for t in targets}
    for target, value in sizes.items():
        if value is not None and value <= 0:
            rd.errors.error(rd.loc(top, "size"), f"the size must be positive, not {value}")
            sizes[target] = None
    return tuple(sizes.items())


def _power_of_two(top: YMap, key: str, rd: Reader) -> int | None:
    value = rd.get(top, key, int, "the schema", None)
    if value is not None and (value <= 0 or value & (value - 1)):
        rd.errors.error(rd.loc(top, key), f"'{key}' must be a power of two, not {value}")
        return None
    return value


def _types(top: YMap, rd: Reader, ctx: members.Context) -> tuple[Aggregate, ...]:
    if "types" not in top:
        return ()
    node = rd.mapping(top["types"], rd.loc(top, "types"), "'types'")
    if node is None:
        return ()
    ctx.type_names.update(name for name in node if isinstance(name, str))
    out = []
    for name, body in node.items():
        where = node.key_locs[name]
        if not rd.identifier(name, where, "the type name"):
            continue
        if name in SCALARS:
            rd.errors.error(where, f"the type name '{name}' hides the built-in type")
            continue
        spec = rd.mapping(body, where, f"type '{name}'")
        if spec is None:
            continue
        rd.keys(spec, ("doc", "fields"), ("fields",), f"type '{name}'")
        fields_node = spec.get("fields")
        seq = rd.sequence(fields_node, rd.loc(spec, "fields"), f"'fields' of type '{name}'") \
            if fields_node is not None else None
        fields = members.read_fields(seq, ctx, f"type '{name}'") if seq is not None else ()
        if seq is not None and not seq:
            rd.errors.error(rd.loc(spec, "fields"), f"type '{name}' has no fields")
        out.append(Aggregate(name, rd.doc(spec, f"type '{name}'"), fields, where))
    return tuple(out)


def _constants(top: YMap, rd: Reader) -> tuple[Constant, ...]:
    if "constants" not in top:
        return ()
    node = rd.mapping(top["constants"], rd.loc(top, "constants"), "'constants'")
    out = []
    for name, body in (node or {}).items():
        where = node.key_locs[name]
        if not rd.identifier(name, where, "the constant name", r"[A-Z][A-Z0-9_]*"):
            continue
        spec = rd.mapping(body, where, f"constant '{name}'")
        if spec is None:
            continue
        what = f"constant '{name}'"
        rd.keys(spec, ("type", "value", "doc"), ("type", "value"), what)
        scalar = _scalar(spec, rd, what)
        value = rd.get(spec, "value", int, what, None)
        if scalar and value is not None:
            _check_fits(value, scalar, rd.loc(spec, "value"), what, rd)
            out.append(Constant(name, scalar, value, rd.doc(spec, what), where))
    return tuple(out)


def _flag_sets(top: YMap, rd: Reader) -> tuple[FlagSet, ...]:
    if "flag_sets" not in top:
        return ()
    node = rd.mapping(top["flag_sets"], rd.loc(top, "flag_sets"), "'flag_sets'")
    out = []
    for name, body in (node or {}).items():
        where = node.key_locs[name]
        if not rd.identifier(name, where, "the flag set name"):
            continue
        what = f"flag set '{name}'"
        spec = rd.mapping(body, where, what)
        if spec is None:
            continue
        rd.keys(spec, ("type", "values", "doc"), ("type", "values"), what)
        scalar = _scalar(spec, rd, what)
        values = rd.mapping(spec.get("values"), rd.loc(spec, "values"), f"'values' of {what}") \
            if "values" in spec else None
        if scalar and values is not None:
            out.append(FlagSet(name, scalar, rd.doc(spec, what),
                               _flags(values, scalar, rd, what), where))
    return tuple(out)


def _flags(values: YMap, scalar: str, rd: Reader, set_what: str) -> tuple[Flag, ...]:
    out: list[Flag] = []
    width = _WIDTH[scalar]
    for name, body in values.items():
        where = values.key_locs[name]
        if not rd.identifier(name, where, "the flag name", r"[A-Z][A-Z0-9_]*"):
            continue
        what = f"flag '{name}' of {set_what}"
        spec = rd.mapping(body, where, what)
        if spec is None:
            continue
        rd.keys(spec, ("bit", "value", "doc"), (), what)
        bit = rd.get(spec, "bit", int, what, None)
        value = rd.get(spec, "value", int, what, None)
        if (bit is None) == (value is None):
            if "bit" not in spec and "value" not in spec:
                rd.errors.error(where, f"{what} needs 'bit' or 'value'", "e.g. {bit: 3}")
            elif "bit" in spec and "value" in spec:
                rd.errors.error(where, f"{what} gives both 'bit' and 'value'", "keep one")
            continue
        if bit is not None:
            if not 0 <= bit < width:
                rd.errors.error(rd.loc(spec, "bit"), f"bit {bit} of {what} does not fit {scalar}",
                                f"bits of a {scalar} flag set are 0..{width - 1}")
                continue
            mask = 1 << bit
        else:
            if not _check_fits(value, scalar, rd.loc(spec, "value"), what, rd):
                continue
            mask = value & ((1 << width) - 1)  # the bit pattern: -1 of i8 is 0xff
        for other in out:
            if bit is not None and other.bit == bit:
                rd.errors.error(rd.loc(spec, "bit"), f"flags '{other.name}' and '{name}' of "
                                f"{set_what} use the same bit {bit}", "give each flag its own bit")
            elif other.mask == mask:
                rd.errors.error(where, f"flags '{other.name}' and '{name}' of {set_what} have the "
                                f"same value {mask:#x}")
        out.append(Flag(name, mask, bit, rd.doc(spec, what), where))
    return tuple(out)


def _scalar(spec: YMap, rd: Reader, what: str) -> str | None:
    scalar = rd.get(spec, "type", str, what, None)
    if scalar is None:
        return None
    if scalar not in SCALARS:
        from .errors import closest

        near = closest(scalar, list(SCALARS))
        rd.errors.error(rd.loc(spec, "type"), f"unknown type '{scalar}' for {what}",
                        f"did you mean '{near}'?" if near else "use one of " + ", ".join(SCALARS))
        return None
    return scalar


def _check_fits(value: int, scalar: str, where: Loc, what: str, rd: Reader) -> bool:
    low, high = value_range(scalar)
    if low <= value <= high:
        return True
    rd.errors.error(where, f"the value {value:#x} of {what} does not fit {scalar} "
                    f"({low:#x}..{high:#x})" if value >= 0 else
                    f"the value {value} of {what} does not fit {scalar} ({low}..{high})")
    return False
