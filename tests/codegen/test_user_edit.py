"""A user's edit of the schema flows through the header, JSON and oracles untouched by hand."""
from __future__ import annotations

import re

import subprocess

import oracles
from conftest import SCHEMA, run_slotgen

PIN_COUNT = """  - name: pin_count
    type: atomic u32
    doc: "Pins that keep the frame from migrating."
    ops: {load: acquire, store: release, fetch_add: acq_rel, fetch_sub: acq_rel}
  - name: _reserved_tail
    type: u8[12]
"""


def carve_pin_count(tmp_path):
    text = SCHEMA.read_text()
    old = "  - name: _reserved_tail\n    type: u8[16]\n"
    assert old in text
    schema = tmp_path / "slot.yaml"
    schema.write_text(text.replace(old, PIN_COUNT))
    return schema


def test_carving_pin_count_from_the_reserved_tail(tmp_path):
    schema = carve_pin_count(tmp_path)
    out = tmp_path / "gen"
    out.mkdir()
    result = run_slotgen("generate", schema, "-o", out)
    assert result.returncode == 0, result.stderr
    claimed = oracles.json_offsets(out / "meta_slot.layout.json")
    assert claimed["pin_count"] == (48, 4) and claimed["_reserved_tail"] == (52, 12)
    assert claimed["refcount"] == (32, 4) and claimed["<size>"] == (0, 64)
    header = out / "meta_slot.h"
    paths = [p for p in claimed if not p.startswith("<")]
    for seen in (oracles.compiler_offsets(header, "meta_slot", paths, ["gcc"], tmp_path),
                 oracles.pycparser_offsets(header, "meta_slot"),
                 oracles.pahole_offsets(header, "meta_slot", ["gcc"], tmp_path)):
        assert oracles.disagreements(claimed, seen) == []
    text = header.read_text()
    assert "#define META_SLOT_PIN_COUNT_OFFSET 48" in text
    for op, order in (("load", "acquire"), ("store", "release"), ("fetch_add", "acq_rel"),
                      ("fetch_sub", "acq_rel")):
        body = re.search(rf"meta_slot_pin_count_{op}\([^)]*\)\s*\{{(.*?)\n\}}", text, re.S)
        assert body, op
        assert re.findall(r"memory_order_\w+", body.group(1)) == [f"memory_order_{order}"], \
            (op, body.group(1))
    src = tmp_path / "use.c"
    src.write_text('#include "meta_slot.h"\n'
                   "unsigned pin(struct meta_slot *s);\n"
                   "unsigned pin(struct meta_slot *s) { return meta_slot_pin_count_fetch_add(s, 1); }\n")
    subprocess.run(["gcc", "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-c",
                    f"-I{out}", str(src), "-o", str(tmp_path / "use.o")], check=True)
