"""One schema on three ABIs: x86_64, i386 (gcc -m32) and aarch64 (clang, freestanding).

Every target's layout in the layout JSON is checked against what the compilers
and DWARF say: the offset probe is run natively and under -m32; for aarch64,
where nothing runs, the compiler writes each number as the size of an array in
an object and the header's static asserts must hold; pahole reads DWARF 4
objects of all three.
fixtures/abi/mixed-abi.yaml is deliberately not portable: a pointer-sized
member and a plain u64 after a u32 move every member on i386 without leaving
a hole on any target.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, SCHEMA, run_slotgen
from oracles import compiler_offsets, disagreements, json_offsets, member_paths, pahole_offsets

MIXED = FIXTURES / "abi" / "mixed-abi.yaml"
PORTABLE_MISMATCH = FIXTURES / "abi" / "portable-mismatch.yaml"
GCC_X86_64 = ["gcc", "-m64"]
GCC_I386 = ["gcc", "-m32"]
CLANG_AARCH64 = ["clang", "--target=aarch64-linux-gnu", "-ffreestanding"]
TARGETS = ("x86_64", "i386", "aarch64")


def _generate(schema: Path, out: Path) -> tuple[Path, Path, str]:
    out.mkdir(parents=True, exist_ok=True)
    result = run_slotgen("generate", schema, "-o", out, "--lang", "c", "-q")
    assert result.returncode == 0, result.stderr
    struct = next(out.glob("*.layout.json")).name.split(".")[0]
    return out / f"{struct}.h", out / f"{struct}.layout.json", struct


@pytest.fixture(scope="module", params=[SCHEMA, MIXED], ids=["slot", "mixed-abi"])
def gen(request, tmp_path_factory):
    return _generate(request.param, tmp_path_factory.mktemp(request.param.stem))


def symbol_size_offsets(header: Path, struct: str, paths: list[str], cc: list[str],
                        workdir: Path) -> dict:
    """The compiler's numbers without running anything: each is the size of a char array
    (offset + 1, size, ...) in a compiled object, read back with nm -S."""
    values = {"<size>": ("0", f"sizeof(struct {struct})"),
              "<align>": ("0", f"_Alignof(struct {struct})")}
    for path in paths:
        values[path] = (f"offsetof(struct {struct}, {path})",
                        f"sizeof(((struct {struct} *)0)->{path})")
    lines = [f'#include "{header.name}"']
    for i, (offset, size) in enumerate(values.values()):
        lines += [f"char probe_off_{i}[{offset} + 1];", f"char probe_size_{i}[{size}];"]
    src, obj = workdir / "size_probe.c", workdir / "size_probe.o"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run([*cc, "-std=c11", "-fno-common", "-c", f"-I{header.parent}", str(src),
                    "-o", str(obj)], check=True, capture_output=True, text=True)
    sizes = {}
    for line in subprocess.run(["nm", "-S", str(obj)], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        words = line.split()
        if len(words) == 4 and words[3].startswith("probe_"):
            sizes[words[3]] = int(words[1], 16)
    return {key: (sizes[f"probe_off_{i}"] - 1, sizes[f"probe_size_{i}"])
            for i, key in enumerate(values)}


def _compiler_layout(target: str, header: Path, struct: str, paths: list[str],
                     workdir: Path) -> dict:
    """What the target's compiler says: a run probe for x86_64 and i386; for aarch64,
    where nothing can run, symbol sizes of a compiled object."""
    workdir.mkdir(parents=True, exist_ok=True)
    if target == "aarch64":
        return symbol_size_offsets(header, struct, paths, CLANG_AARCH64, workdir)
    cc = GCC_I386 if target == "i386" else GCC_X86_64
    return compiler_offsets(header, struct, paths, cc, workdir)


@pytest.mark.parametrize("target", TARGETS)
def test_abi_json_layout_matches_the_targets_compiler(gen, target, tmp_path):
    header, layout_json, struct = gen
    seen = _compiler_layout(target, header, struct, member_paths(layout_json), tmp_path)
    assert disagreements(json_offsets(layout_json, target), seen) == []


def test_abi_header_static_asserts_hold_on_aarch64(gen, tmp_path):
    header, _, struct = gen
    src = tmp_path / "use.c"
    src.write_text(f'#include "{header.name}"\nstruct {struct} instance;\n')
    result = subprocess.run([*CLANG_AARCH64, "-std=c11", "-Wall", "-Wextra", "-Wpedantic",
                             "-Werror", "-fsyntax-only", f"-I{header.parent}", str(src)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_abi_pahole_reads_the_targets_object(gen, target, tmp_path):
    """DWARF 4 objects (gcc -m64, gcc -m32, clang aarch64); pahole ERROR output fails."""
    header, layout_json, struct = gen
    cc = {"x86_64": GCC_X86_64, "i386": GCC_I386, "aarch64": CLANG_AARCH64}[target]
    seen = pahole_offsets(header, struct, cc, tmp_path)
    assert disagreements(json_offsets(layout_json, target), seen) == []


def test_abi_slot_schema_is_identical_on_every_target(tmp_path):
    header, layout_json, struct = _generate(SCHEMA, tmp_path / "gen")
    paths = member_paths(layout_json)
    tables = {t: json_offsets(layout_json, t) for t in TARGETS}
    assert tables["i386"] == tables["x86_64"] == tables["aarch64"]
    for target in TARGETS:
        seen = _compiler_layout(target, header, struct, paths, tmp_path / target)
        assert disagreements(tables["x86_64"], seen) == [], target


def test_abi_mixed_schema_differs_exactly_as_the_compilers_say(tmp_path):
    header, layout_json, struct = _generate(MIXED, tmp_path / "gen")
    paths = member_paths(layout_json)
    seen = {t: _compiler_layout(t, header, struct, paths, tmp_path / t) for t in TARGETS}
    assert seen["x86_64"] == {"<size>": (0, 24), "<align>": (0, 8), "owner": (0, 8),
                              "count": (8, 4), "type": (12, 4), "stamp": (16, 8)}
    assert seen["i386"] == {
        "<size>": (0, 20), "<align>": (0, 4), "owner": (0, 4), "count": (4, 4),
        "type": (8, 4), "stamp": (12, 8)}

    def differing(a: dict, b: dict) -> set[str]:
        return {k for k in set(a) & set(b) if a[k] != b[k]}

    tables = {t: json_offsets(layout_json, t) for t in TARGETS}
    assert differing(tables["x86_64"], tables["i386"]) == \
        differing(seen["x86_64"], seen["i386"]) == \
        {"<size>", "<align>", "owner", "count", "type", "stamp"}
    assert differing(tables["x86_64"], tables["aarch64"]) == set()
    assert differing(seen["x86_64"], seen["aarch64"]) == set()


def test_abi_header_rejects_another_targets_layout(tmp_path):
    """The x86_64 assert block fails on the i386 layout: the asserts are per target."""
    header, _, struct = _generate(MIXED, tmp_path)
    src = tmp_path / "use.c"
    src.write_text(f'#include "{header.name}"\n')
    result = subprocess.run(["clang", "--target=i386-linux-gnu", "-ffreestanding", "-std=c11",
                             "-U__i386__", "-D__x86_64__", "-fsyntax-only",
                             f"-I{header.parent}", str(src)], capture_output=True, text=True)
    assert result.returncode != 0
    for expected in ("struct mixed_abi changed size or alignment",
                     "struct mixed_abi.owner is not at offset 0 with size 8",
                     "struct mixed_abi.count is not at offset 8 with size 4",
                     "struct mixed_abi.stamp is not at offset 16 with size 8"):
        assert expected in result.stderr, result.stderr


def test_abi_header_errors_on_unsupported_target(tmp_path):
    header, _, _ = _generate(SCHEMA, tmp_path)
    src = tmp_path / "use.c"
    src.write_text(f'#include "{header.name}"\n')
    result = subprocess.run(["clang", "--target=riscv64-linux-gnu", "-ffreestanding", "-std=c11",
                             "-fsyntax-only", f"-I{header.parent}", str(src)],
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "meta_slot.h: unsupported target; supported: x86_64, i386, aarch64" in result.stderr


def test_abi_portable_violation_names_member_target_and_offsets():
    result = run_slotgen("check", PORTABLE_MISMATCH)
    assert result.returncode == 1
    name = str(PORTABLE_MISMATCH)
    lines = result.stderr.splitlines()
    for expected in (
            f"{name}:10:5: error: 'portable: true' but 'owner' is at offset 0 (size 8) on x86_64 "
            "and at offset 0 (size 4) on i386",
            f"{name}:14:5: error: 'portable: true' but 'count' is at offset 8 (size 4) on x86_64 "
            "and at offset 4 (size 4) on i386",
            f"{name}:25:5: error: 'portable: true' but 'stamp' is at offset 16 (size 8) on x86_64 "
            "and at offset 12 (size 8) on i386",
            f"{name}:2:1: error: 'portable: true' but the struct size is 24 on x86_64 and 20 "
            "on i386"):
        assert expected in lines, result.stderr
    assert not any("aarch64" in line for line in lines), result.stderr
