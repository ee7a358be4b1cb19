"""Render a computed layout into file contents (C header, member table, layout JSON)."""
from __future__ import annotations

import json
import os
from typing import Any

import jinja2

from . import cview
from .layout import Layout, Member, TargetLayout, array_align

TEMPLATE_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                            "templates")
JSON_FORMAT = 1


def doc_block(lines: list[str], indent: str = "") -> str:
    """A /** */ comment holding already-escaped doc lines, ending in a newline ('' if none)."""
    if not lines:
        return ""
    if len(lines) == 1:
        return f"{indent}/** {lines[0]} */\n"
    body = "".join(f"{indent} *{' ' + line if line else ''}\n" for line in lines)
    return f"{indent}/**\n{body}{indent} */\n"


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR), undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False)
    env.filters["cdoc"] = doc_block
    return env


def render_c(layout: Layout) -> dict[str, str]:
    """File name -> text of the C outputs."""
    env = environment()
    view = cview.build(layout)
    struct = layout.schema.struct
    return {
        f"{struct}.h": env.get_template("struct.h.j2").render(v=view),
        f"{struct}_members.h": env.get_template("struct_members.h.j2").render(v=view),
    }


def _member_json(m: Member) -> dict[str, Any]:
    f = m.field
    return {
        "path": m.dotted, "name": f.name, "offset": m.offset, "size": m.size, "align": m.align,
        "type": f.type.spelling(), "base": f.type.base, "atomic": f.type.atomic,
        "signed": f.type.signed, "count": f.type.count, "aggregate": not f.type.is_scalar,
        "reserved": f.reserved, "flag_set": f.flag_set, "doc": f.doc, "line": f.loc.line,
        "ops": {op.name: list(op.orders) for op in f.ops},
        "bits": [{"name": b.name, "lsb": b.lsb, "width": b.width, "doc": b.doc, "line": b.loc.line}
                 for b in f.bits],
    }


def _target_json(tl: TargetLayout) -> dict[str, Any]:
    return {"size": tl.size, "align": tl.align,
            "members": [{"path": m.dotted, "offset": m.offset, "size": m.size, "align": m.align}
                        for m in tl.members]}


def layout_json(layout: Layout) -> dict[str, Any]:
    schema = layout.schema
    primary = layout.primary
    return {
        "format": JSON_FORMAT, "schema": cview.schema_label(schema), "sha256": schema.sha256,
        "struct": schema.struct, "prefix": schema.prefix, "doc": schema.doc,
        "abi_version": schema.abi_version, "portable": schema.portable,
        "primary_target": primary.target, "size": primary.size, "align": primary.align,
        "array_align": array_align(layout),
        "members": [_member_json(m) for m in primary.members],
        "targets": {tl.target: _target_json(tl) for tl in layout.targets},
        "types": {a.name: {"doc": a.doc, "line": a.loc.line} for a in schema.types},
        "constants": [{"name": c.name, "type": c.type, "value": c.value, "doc": c.doc,
                       "line": c.loc.line} for c in schema.constants],
        "flag_sets": [{"name": fs.name, "type": fs.type, "doc": fs.doc, "line": fs.loc.line,
                       "flags": [{"name": f.name, "bit": f.bit, "value": f.mask, "doc": f.doc,
                                  "line": f.loc.line} for f in fs.flags]}
                      for fs in schema.flag_sets],
    }


def render_json(layout: Layout) -> str:
    return json.dumps(layout_json(layout), indent=2, sort_keys=False) + "\n"
