"""`slotgen report`: the table, its totals, Markdown, the SVG byte map, `make docs`,
and the report's offsets against pahole's reading of the DWARF of the same schema."""
from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import oracles
import pytest
from conftest import ROOT, SCHEMA, run_slotgen

CORPUS_BASE = Path(__file__).resolve().parent / "diff_corpus" / "base.yaml"
SVG = "{http://www.w3.org/2000/svg}"


def parse_table(text: str) -> dict[str, tuple[int, int]]:
    """{member path: (offset, size)} and '<size>' read back from a text report."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("offset"))
    name_col = lines[head].index("member")
    out: dict[str, tuple[int, int]] = {}
    stack: list[str] = []
    for line in lines[head + 1:]:
        if not line:
            break
        if line.startswith(("---", "hole")) or not line[:name_col].strip():
            continue
        cell = line[name_col:]
        depth = (len(cell) - len(cell.lstrip())) // 2
        stack[depth:] = [cell.split()[0]]
        offset, size = line.split()[:2]
        out[".".join(stack)] = (int(offset), int(size))
    total = next(line for line in lines if line.startswith("size "))
    out["<size>"] = (0, int(total.split()[1].rstrip(",")))
    return out


def test_text_report_of_the_project_schema():
    result = run_slotgen("report", SCHEMA)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == (f"struct meta_slot ({SCHEMA}, target x86_64; same layout on x86_64, "
                        "i386, aarch64)")
    assert "    28     1      1  yes     atomic u8       order           load acquire, " \
        "store release" in lines
    assert "    29     3      1  no      u8[3]           _reserved0      reserved" in lines
    assert " " * 61 + "bits 16..31 numa_node" in lines
    assert "--- cache line 1 boundary (offset 64) ---" in lines
    assert lines[-2:] == [
        "size 64, align 8, array_align 64, cache lines 1, abi_version unset",
        "used 45 bytes (70.3% of the line), reserved 19 bytes (29.7%), holes none"]
    assert "hole:" not in result.stdout


def test_report_rows_cover_every_byte_once():
    table = parse_table(run_slotgen("report", SCHEMA).stdout)
    top = sorted((off, size) for path, (off, size) in table.items()
                 if "." not in path and path != "<size>")
    pos = 0
    for off, size in top:
        assert off == pos
        pos += size
    assert pos == table["<size>"][1] == 64


def test_report_targets_and_errors(tmp_path):
    i386 = run_slotgen("report", "--target", "i386", SCHEMA)
    assert i386.returncode == 0 and "target i386" in i386.stdout
    assert run_slotgen("report", "--target", "mips", SCHEMA).returncode == 2
    missing = run_slotgen("report", tmp_path / "none.yaml")
    assert missing.returncode == 1 and "cannot read the file" in missing.stderr


def test_markdown_report():
    result = run_slotgen("report", "--format", "markdown", SCHEMA)
    assert result.returncode == 0
    assert "| offset | size | align | atomic | type | member | ops and bit sub-fields |" \
        in result.stdout
    assert "| 44 | 4 | 4 | yes | `atomic u32` | `meta_aux` | load relaxed, store relaxed, cas " \
        "relaxed/relaxed; bits 0..15 owner_cpu; bits 16..31 numa_node |" in result.stdout


@pytest.mark.parametrize("schema", [SCHEMA, CORPUS_BASE], ids=["slot", "corpus-base"])
def test_svg_is_well_formed_and_renders(schema, tmp_path):
    svg = tmp_path / "layout.svg"
    result = run_slotgen("report", "--format", "svg", "-o", svg, schema)
    assert result.returncode == 0, result.stderr
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "refcount" in texts or "count" in texts
    assert any("url(#hatch)" == r.get("fill") for r in root.iter(f"{SVG}rect"))
    if shutil.which("rsvg-convert") is None:
        pytest.fail("rsvg-convert is missing: apt-get install librsvg2-bin")
    png = tmp_path / "layout.png"
    subprocess.run(["rsvg-convert", "-o", str(png), str(svg)], check=True, capture_output=True)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("schema", [SCHEMA, CORPUS_BASE], ids=["slot", "corpus-base"])
def test_report_offsets_match_pahole(schema, tmp_path):
    if shutil.which("pahole") is None:
        pytest.fail("pahole is missing: apt-get install dwarves")
    out = tmp_path / "gen"
    out.mkdir()
    assert run_slotgen("generate", schema, "-o", out).returncode == 0
    header = next(out.glob("*_slot.h"))
    struct = header.stem
    report = parse_table(run_slotgen("report", schema).stdout)
    dwarf = oracles.pahole_offsets(header, struct, ["gcc"], tmp_path)
    assert oracles.disagreements(report, dwarf) == []


def test_make_docs(tmp_path):
    build = tmp_path / "build"
    result = subprocess.run(["make", "-s", "docs", f"BUILD={build}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (build / "docs").iterdir()) == \
        ["layout.md", "layout.svg", "layout.txt"]
    ET.parse(build / "docs" / "layout.svg")


def test_report_of_a_struct_over_several_cache_lines_says_so(tmp_path):
    schema = tmp_path / "wide.yaml"
    schema.write_text("schema: 1\nstruct: wide\nsize: 128\nfields:\n"
                      "  - {name: data, type: 'u8[100]'}\n"
                      "  - {name: _rest, type: 'u8[28]', reserved: true}\n")
    result = run_slotgen("report", schema)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == \
        "used 100 bytes (78.1% of its 2 lines), reserved 28 bytes (21.9%), holes none"
