"""The layout of layout/slot.yaml, proven by three oracles that do not read the generator.

The expected table is the project's specified layout (x86_64); each
oracle (the C compiler, pycparser, DWARF via pahole) must agree with it and
with the layout JSON, and each must catch a deliberately wrong header.
"""
from __future__ import annotations

import json
import re
import pytest

import oracles

# member -> (offset, size): the specification of struct meta_slot
SPEC = {
    "free_link": (0, 16), "free_link.next": (0, 8), "free_link.prev": (8, 8),
    "vtable": (16, 8), "flags": (24, 4), "order": (28, 1), "_reserved0": (29, 3),
    "refcount": (32, 4), "generation": (36, 4), "guard": (40, 4), "meta_aux": (44, 4),
    "_reserved_tail": (48, 16), "<size>": (0, 64), "<align>": (0, 8),
}


def test_layout_json_matches_the_specification(generated):
    assert oracles.json_offsets(generated / "meta_slot.layout.json") == SPEC
    data = json.loads((generated / "meta_slot.layout.json").read_text())
    assert data["array_align"] == 64
    assert {t: (v["size"], v["align"]) for t, v in data["targets"].items()} == {
        "x86_64": (64, 8), "i386": (64, 8), "aarch64": (64, 8)}
    assert all(m["doc"] for m in data["members"]), "every member carries a doc line"
    assert len(data["sha256"]) == 64


@pytest.mark.parametrize("cc", [["gcc"], ["clang"], ["gcc", "-m32"]])
def test_compiler_oracle_agrees(generated, cc, tmp_path):
    seen = oracles.compiler_offsets(generated / "meta_slot.h", "meta_slot", list(SPEC)[:-2],
                                    cc, tmp_path)
    assert oracles.disagreements(SPEC, seen) == []


@pytest.mark.parametrize("target", ["x86_64", "i386", "aarch64"])
def test_pycparser_oracle_agrees(generated, target):
    seen = oracles.pycparser_offsets(generated / "meta_slot.h", "meta_slot", target)
    assert oracles.disagreements(SPEC, seen) == []


@pytest.mark.parametrize("cc", [["gcc"], ["clang"], ["gcc", "-m32"]])
def test_dwarf_oracle_agrees(generated, cc, tmp_path):
    seen = oracles.pahole_offsets(generated / "meta_slot.h", "meta_slot", cc, tmp_path)
    assert oracles.disagreements(SPEC, seen) == []


def _wrong_header(generated, tmp_path):
    """A hand-edited header: guard and generation swapped, its static asserts removed."""
    text = (generated / "meta_slot.h").read_text()
    gen, guard = "_Atomic uint32_t generation;", "_Atomic uint32_t guard;"
    assert gen in text and guard in text
    text = text.replace(gen, "@@").replace(guard, gen).replace("@@", guard)
    text = re.sub(r"^(_Static_assert|META_SLOT_LAYOUT_CHECK_)\(.*\n", "", text, flags=re.M)
    header = tmp_path / "meta_slot.h"
    header.write_text(text)
    return header


def test_static_asserts_reject_a_wrong_struct(generated, tmp_path):
    text = (generated / "meta_slot.h").read_text()
    text = text.replace("uint8_t _reserved0[3];", "uint8_t _reserved0[7];")
    (tmp_path / "meta_slot.h").write_text(text)
    (tmp_path / "use.c").write_text('#include "meta_slot.h"\n')
    import subprocess

    result = subprocess.run(["gcc", "-std=c11", "-c", "-I", str(tmp_path), str(tmp_path / "use.c"),
                             "-o", str(tmp_path / "use.o")], capture_output=True, text=True)
    assert result.returncode != 0
    assert "struct meta_slot.refcount is not at offset 32 with size 4" in result.stderr


def test_compiler_oracle_catches_a_wrong_header(generated, tmp_path):
    header = _wrong_header(generated, tmp_path)
    seen = oracles.compiler_offsets(header, "meta_slot", list(SPEC)[:-2], ["gcc"], tmp_path)
    assert oracles.disagreements(SPEC, seen) == [
        "generation: layout says (36, 4), oracle says (40, 4)",
        "guard: layout says (40, 4), oracle says (36, 4)"]


def test_pycparser_oracle_catches_a_wrong_header(generated, tmp_path):
    seen = oracles.pycparser_offsets(_wrong_header(generated, tmp_path), "meta_slot")
    assert len(oracles.disagreements(SPEC, seen)) == 2


def test_dwarf_oracle_catches_a_wrong_header(generated, tmp_path):
    header = _wrong_header(generated, tmp_path)
    seen = oracles.pahole_offsets(header, "meta_slot", ["gcc"], tmp_path)
    assert len(oracles.disagreements(SPEC, seen)) == 2


def test_oracles_catch_a_wrong_layout_json(generated, tmp_path):
    data = json.loads((generated / "meta_slot.layout.json").read_text())
    for member in data["members"]:
        if member["path"] == "order":
            member["offset"] = 29
    wrong = tmp_path / "wrong.layout.json"
    wrong.write_text(json.dumps(data))
    claimed = oracles.json_offsets(wrong)
    seen = oracles.pycparser_offsets(generated / "meta_slot.h", "meta_slot")
    assert oracles.disagreements(claimed, seen) == [
        "order: layout says (29, 1), oracle says (28, 1)"]
