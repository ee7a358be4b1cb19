"""`slotgen diff`: the done-when edits of the project's schema, REV:PATH from a real
git history, every output format, the abi_version policy and input/usage errors."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import SCHEMA, run_slotgen

TAIL = "  - name: _reserved_tail\n    type: u8[16]\n"
PIN_COUNT = ('  - name: pin_count\n    type: atomic u32\n    doc: "Pins keeping the frame."\n'
             "  - name: _reserved_tail\n    type: u8[12]\n")


def _edit(tmp_path: Path, name: str, *pairs: tuple[str, str]) -> Path:
    text = SCHEMA.read_text()
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text)
    return path


WIDEN = (("  - name: order\n    type: atomic u8", "  - name: order\n    type: atomic u16"),
         ("    type: u8[3]\n    reserved: true", "    type: u8[6]\n    reserved: true"),
         ("    offset: 32\n", ""), ("type: u8[16]", "type: u8[12]"))


def _line_of(path: Path, name: str) -> int:
    lines = path.read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line == f"  - name: {name}")


def test_widening_order_is_breaking_and_names_moved_members(tmp_path):
    new = _edit(tmp_path, "slot.yaml", *WIDEN)
    result = run_slotgen("diff", SCHEMA, new)
    assert result.returncode == 12 and result.returncode & 8, result.stderr
    for member, before, after in (("refcount", 32, 36), ("generation", 36, 40),
                                  ("guard", 40, 44), ("meta_aux", 44, 48)):
        line = _line_of(new, member)
        assert f"{new}:{line}: breaking: '{member}' moved: offset {before} -> {after}\n" \
            in result.stdout
    assert f"{new}:{_line_of(new, 'order')}: breaking: 'order' size changed: 1 -> 2 bytes\n" \
        in result.stdout
    assert "breaking change without an abi_version bump" in result.stdout


def test_widening_order_alone_is_an_input_error(tmp_path):
    new = _edit(tmp_path, "slot.yaml", WIDEN[0])
    result = run_slotgen("diff", SCHEMA, new)
    assert result.returncode == 1
    assert re.search(rf"^{re.escape(str(new))}:\d+:\d+: error: 'refcount' is pinned at offset "
                     r"32, which overlaps '_reserved0'", result.stderr, re.M), result.stderr
    assert "Traceback" not in result.stderr


def test_carving_pin_count_is_compatible(tmp_path):
    new = _edit(tmp_path, "slot.yaml", (TAIL, PIN_COUNT))
    result = run_slotgen("diff", SCHEMA, new)
    line = _line_of(new, "pin_count")
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{new}:{line}: compatible: new member 'pin_count' (atomic u32) at offset 48 carved out "
        "of reserved bytes 48..51",
        f"{new}:{line}: compatible: reserved region '_reserved_tail' shrunk: bytes 48..51 carved "
        "for 'pin_count'",
        f"slotgen diff: {SCHEMA} -> {new}: 0 breaking, 2 compatible, 0 semantic, 0 cosmetic",
        "slotgen diff: compatible: existing binaries keep working"]


@pytest.fixture
def repo(tmp_path):
    """A git repository with two commits of the schema: as is, then with pin_count."""
    if shutil.which("git") is None:
        pytest.fail("git is missing: apt-get install git")
    work = tmp_path / "repo"
    (work / "layout").mkdir(parents=True)

    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                       cwd=work, check=True, capture_output=True)

    git("init", "-q")
    shutil.copy(SCHEMA, work / "layout" / "slot.yaml")
    git("add", ".")
    git("commit", "-q", "-m", "schema")
    _edit(work / "layout", "slot.yaml", (TAIL, PIN_COUNT))
    git("commit", "-q", "-am", "carve pin_count")
    _edit(work / "layout", "slot.yaml", (TAIL, PIN_COUNT), WIDEN[0])  # uncommitted, invalid
    return work


def test_rev_path_from_git_history(repo):
    result = run_slotgen("diff", "HEAD~1:layout/slot.yaml", "HEAD:layout/slot.yaml", cwd=repo)
    assert result.returncode == 4, result.stderr
    assert result.stdout.startswith("HEAD:layout/slot.yaml:84: compatible: new member "
                                    "'pin_count'")
    same = run_slotgen("diff", "HEAD:layout/slot.yaml", "HEAD:layout/slot.yaml", cwd=repo)
    assert same.returncode == 0 and "no layout change" in same.stdout
    back = run_slotgen("diff", "HEAD:layout/slot.yaml", "HEAD~1:layout/slot.yaml", cwd=repo)
    assert back.returncode == 12
    assert "HEAD:layout/slot.yaml:84: breaking: member 'pin_count' (atomic u32) removed" \
        in back.stdout
    # GitHub annotates files of the checkout: line 84 of OLD at HEAD is not a line of the
    # checked-out layout/slot.yaml, so the removal annotates NEW's file without a line.
    github = run_slotgen("diff", "--format", "github", "HEAD:layout/slot.yaml",
                         "HEAD~1:layout/slot.yaml", cwd=repo)
    assert "::error file=layout/slot.yaml,title=breaking layout change::member 'pin_count' " \
        "(atomic u32) removed\n" in github.stdout, github.stdout


def test_rev_path_errors(repo, tmp_path):
    bad_rev = run_slotgen("diff", "nosuch:layout/slot.yaml", "layout/slot.yaml", cwd=repo)
    assert bad_rev.returncode == 1
    assert bad_rev.stderr.splitlines()[0] == (
        "nosuch:layout/slot.yaml: error: cannot read 'layout/slot.yaml' at revision 'nosuch': "
        "invalid object name 'nosuch'.")
    bad_path = run_slotgen("diff", "HEAD:layout/none.yaml", "HEAD:layout/slot.yaml", cwd=repo)
    assert bad_path.returncode == 1
    assert "HEAD:layout/none.yaml: error: cannot read 'layout/none.yaml' at revision 'HEAD': " \
        "path 'layout/none.yaml' does not exist in 'HEAD'" in bad_path.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    no_repo = run_slotgen("diff", "HEAD:layout/slot.yaml", SCHEMA, cwd=outside)
    assert no_repo.returncode == 1 and "not a git repository" in no_repo.stderr
    invalid = run_slotgen("diff", "HEAD:layout/slot.yaml", "layout/slot.yaml", cwd=repo)
    assert invalid.returncode == 1
    assert re.search(r"^layout/slot\.yaml:\d+:\d+: error: ", invalid.stderr, re.M)
    assert "Traceback" not in bad_rev.stderr + bad_path.stderr + no_repo.stderr + invalid.stderr
    written = tmp_path / "written:x"
    option = run_slotgen("diff", "--", f"--output={written}", "layout/slot.yaml", cwd=repo)
    assert option.returncode == 1 and "is not a revision (it starts with '-')" in option.stderr
    assert not written.exists(), "a REV that looks like an option must never reach git as one"
    subdir = run_slotgen("diff", "HEAD:slot.yaml", "slot.yaml", cwd=repo / "layout")
    assert subdir.returncode == 1
    assert "path 'layout/slot.yaml' exists, but not 'slot.yaml'" in subdir.stderr
    assert "hint: Did you mean 'HEAD:layout/slot.yaml'" in subdir.stderr


def test_layout_json_as_either_side(tmp_path):
    out = tmp_path / "gen"
    out.mkdir()
    assert run_slotgen("generate", SCHEMA, "-o", out, "--lang", "json").returncode == 0
    layout_json = out / "meta_slot.layout.json"
    assert run_slotgen("diff", layout_json, SCHEMA).returncode == 0
    assert run_slotgen("diff", SCHEMA, layout_json).returncode == 0
    new = _edit(tmp_path, "slot.yaml", (TAIL, PIN_COUNT))
    assert run_slotgen("diff", layout_json, new).returncode == 4
    # A layout JSON records its schema's lines, not its own: a change located in the JSON
    # side names the JSON file alone.
    carved = tmp_path / "carved"
    carved.mkdir()
    assert run_slotgen("generate", new, "-o", carved, "--lang", "json").returncode == 0
    removal = run_slotgen("diff", carved / "meta_slot.layout.json", SCHEMA)
    assert removal.returncode == 12
    assert f"{carved / 'meta_slot.layout.json'}: breaking: member 'pin_count' (atomic u32) " \
        "removed\n" in removal.stdout, removal.stdout
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": 1,\n "members": [}\n')
    result = run_slotgen("diff", broken, SCHEMA)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{broken}:2:14: error: invalid layout JSON: ")
    other = tmp_path / "other.json"
    other.write_text('{"format": 99, "members": []}\n')
    result = run_slotgen("diff", other, SCHEMA)
    assert result.returncode == 1
    assert f"{other}: error: not a slotgen layout JSON of format 1 (format: 99)" in result.stderr


@pytest.mark.parametrize("path, value, expected", [
    (["struct"], [], "struct (expected text, found list)"),
    (["constants", 0, "name"], [], "constant name (expected text, found list)"),
    (["flag_sets", 0, "name"], {}, "flag set name (expected text, found dict)"),
    (["members", 0, "path"], [], "member path (expected text, found list)"),
    (["members", 0, "type"], [], "member free_link: type (expected text, found list)"),
    (["members", 1, "ops", "load"], "acquire",
     "member free_link.next.ops.load (expected a list, found str)"),
    (["members", 1, "ops", "load"], ["x"], "member free_link.next.ops.load (expected memory "
     "orders among relaxed, acquire, release, acq_rel, seq_cst)"),
    (["targets", "x86_64", "members", 0, "offset"], "0",
     "target x86_64: offset (expected an integer, found str)"),
    (["abi_version"], True, "abi_version (expected an integer, found bool)"),
    (["types"], [], "types (expected an object, found list)"),
    (["targets"], {}, "targets (expected at least one)"),
    (["members", 1, "path"], "nowhere.next", "member path 'nowhere.next' (its parent is not a "
     "member)"),
    (["members", 10, "bits", 0, "lsb"], -1, "member meta_aux: bit owner_cpu [-1, 15) (expected "
     "bits within 0..63)"),
    (["targets", "x86_64", "members", 0, "size"], -1, "target x86_64: member free_link at "
     "offset 0, size -1 (expected inside the 64-byte struct)"),
    (["targets", "x86_64", "size"], 10 ** 30,
     "target x86_64: size 1000000000000000000000000000000 (expected 1..16777216)"),
    (["targets", "x86_64", "members", 0, "path"], "ghost", "target x86_64: member 'ghost' (not "
     "among the members)"),
    (["array_align"], 3, "array_align 3 (expected a power of two)"),
], ids=["struct", "constant", "flag-set", "path", "type", "ops-kind", "ops-order", "offset",
        "abi-bool", "types", "no-targets", "orphan-path", "negative-lsb", "negative-size",
        "huge-size", "unknown-place", "array-align"])
def test_a_malformed_layout_json_is_a_located_error(path, value, expected, tmp_path):
    out = tmp_path / "gen"
    out.mkdir()
    assert run_slotgen("generate", SCHEMA, "-o", out, "--lang", "json").returncode == 0
    data = json.loads((out / "meta_slot.layout.json").read_text())
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    for args in (["diff", bad, SCHEMA], ["diff", SCHEMA, bad], ["report", bad]):
        result = run_slotgen(*args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr.startswith(f"{bad}: error: malformed layout JSON: {expected}\n"), \
            result.stderr


def test_an_unknown_target_is_refused_by_every_diff_format():
    for fmt in ("text", "json", "svg"):
        result = run_slotgen("diff", "--format", fmt, "--target", "arm", SCHEMA, SCHEMA)
        assert result.returncode == 2
        assert result.stderr == ("slotgen: error: unknown --target 'arm'; choose from x86_64, "
                                 "i386, aarch64\n")
        assert result.stdout == ""


def test_a_struct_doc_change_names_the_doc_line(tmp_path):
    text = SCHEMA.read_text()
    doc_line = text.splitlines().index(next(l for l in text.splitlines()
                                            if l.startswith("doc: "))) + 1
    new = _edit(tmp_path, "doc.yaml", ('doc: "64-byte', 'doc: "A 64-byte'))
    result = run_slotgen("diff", SCHEMA, new)
    assert result.returncode == 0
    assert result.stdout.startswith(f"{new}:{doc_line}: cosmetic: doc of struct meta_slot "
                                    "changed\n")


def test_abi_version_policy(tmp_path):
    old = _edit(tmp_path, "old.yaml", ("portable: true\n", "portable: true\nabi_version: 3\n"))
    same = _edit(tmp_path, "same.yaml", ("portable: true\n", "portable: true\nabi_version: 3\n"),
                 *WIDEN)
    bumped = _edit(tmp_path, "bumped.yaml",
                   ("portable: true\n", "portable: true\nabi_version: 4\n"), *WIDEN)
    rejected = run_slotgen("diff", old, same)
    assert rejected.returncode == 12
    assert "breaking change without an abi_version bump (abi_version 3 -> 3): rejected" \
        in rejected.stdout
    accepted = run_slotgen("diff", old, bumped)
    assert accepted.returncode == 4
    assert "slotgen diff: breaking, accepted (abi_version 3 -> 4)" in accepted.stdout
    allowed = run_slotgen("diff", "--allow-breaking", old, same)
    assert allowed.returncode == 4
    assert "slotgen diff: breaking, accepted (--allow-breaking)" in allowed.stdout


def test_json_format_keys(tmp_path):
    new = _edit(tmp_path, "slot.yaml", *WIDEN)
    result = run_slotgen("diff", "--format", "json", SCHEMA, new)
    document = json.loads(result.stdout)
    assert list(document) == ["format", "old", "new", "struct", "abi_version", "allow_breaking",
                              "counts", "verdict", "exit_status", "changes"]
    assert document["verdict"] == "breaking" and document["exit_status"] == 12
    assert list(document["changes"][0]) == ["class", "what", "subject", "old", "new", "file",
                                            "line", "targets", "message"]
    moved = [c for c in document["changes"] if c["what"] == "offset"]
    assert [(c["subject"], c["old"], c["new"]) for c in moved] == [
        ("refcount", "32", "36"), ("generation", "36", "40"), ("guard", "40", "44"),
        ("meta_aux", "44", "48")]


def test_github_annotations(tmp_path):
    new = _edit(tmp_path, "slot.yaml", *WIDEN,
                ("      fetch_add: relaxed\n", "      fetch_add: seq_cst\n"))
    result = run_slotgen("diff", "--format", "github", SCHEMA, new)
    assert result.returncode == 12
    line = _line_of(new, "refcount")
    assert f"::error file={new},line={line},title=breaking layout change::'refcount' moved: " \
        "offset 32 -> 36\n" in result.stdout
    assert f"::warning file={new},line={line},title=semantic layout change::memory order of " \
        "'refcount' fetch_add changed: relaxed -> seq_cst (stronger)\n" in result.stdout
    accepted = run_slotgen("diff", "--format", "github", "--allow-breaking", SCHEMA, new)
    assert "::error" not in accepted.stdout and accepted.returncode == 4


def test_markdown_and_svg(tmp_path):
    new = _edit(tmp_path, "slot.yaml", *WIDEN)
    markdown = run_slotgen("diff", "--format", "markdown", SCHEMA, new)
    assert markdown.returncode == 12
    assert "| Class | Where | Change |\n|---|---|---|\n" in markdown.stdout
    assert f"| breaking | `{new}:{_line_of(new, 'refcount')}` | 'refcount' moved: offset 32 -> " \
        "36 |" in markdown.stdout
    svg = tmp_path / "diff.svg"
    result = run_slotgen("diff", "--format", "svg", "-o", svg, SCHEMA, new)
    assert result.returncode == 12 and result.stdout == ""
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = svg.read_text()
    assert text.count('stroke="#c1121f" stroke-width="3"') >= 5  # moved members outlined
    assert shutil.which("rsvg-convert"), "rsvg-convert (librsvg2-bin, scripts/bootstrap) renders it"
    subprocess.run(["rsvg-convert", "-o", str(tmp_path / "diff.png"), str(svg)], check=True)


def test_usage_errors():
    assert run_slotgen("diff", SCHEMA).returncode == 2
    assert run_slotgen("diff", "--format", "yaml", SCHEMA, SCHEMA).returncode == 2
    result = run_slotgen("diff", "--format", "svg", "--target", "sparc", SCHEMA, SCHEMA)
    assert result.returncode == 2
    assert "unknown --target 'sparc'; choose from x86_64, i386, aarch64" in result.stderr


def test_missing_file_is_an_input_error(tmp_path):
    result = run_slotgen("diff", tmp_path / "none.yaml", SCHEMA)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == \
        f"{tmp_path / 'none.yaml'}: error: cannot read the file: No such file or directory"


def test_a_closed_output_pipe_keeps_the_verdict(tmp_path):
    """`slotgen diff ... | head` in CI: the reader leaving early must not turn a breaking
    change (12) into success."""
    import os

    changed = _edit(tmp_path, "new.yaml", *WIDEN)
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write fails with EPIPE
    try:
        result = subprocess.run([str(SCHEMA.parents[1] / "codegen" / "slotgen"), "diff",
                                 str(SCHEMA), str(changed)], stdout=write_end,
                                stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.close(write_end)
    assert result.returncode == 12, result.stderr
    assert "Traceback" not in result.stderr


def test_a_signed_top_bit_flag_keeps_its_value_when_written_as_a_number(tmp_path):
    """{bit: 31} and {value: -2147483648} of an i32 set are both INT32_MIN: not a value
    change; only the _BIT macro goes."""
    text = ("schema: 1\nstruct: s\nsize: 4\ntargets: [x86_64]\n"
            "fields:\n  - {name: a, type: atomic i32, flag_set: fl}\n"
            "flag_sets:\n  fl: {type: i32, values: {TOP: %s}}\n")
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(text % "{bit: 31}")
    new.write_text(text % "{value: -2147483648}")
    result = run_slotgen("diff", "--format", "json", old, new)
    assert result.returncode == 12, result.stderr
    assert [c["what"] for c in json.loads(result.stdout)["changes"]] == ["flag-bit-removed"]
