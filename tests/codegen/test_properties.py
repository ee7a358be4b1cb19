"""Property tests: random valid schemas agree with every oracle; broken ones name the rule.

The bounded profile runs in `make test-codegen`; `make fuzz-gen` selects the long one
with METASLOT_HYPOTHESIS_PROFILE=long (its example database lives in build/hypothesis).
A failing example found by either is kept as a schema under regressions/.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from conftest import ROOT
from oracles import (compiler_offsets, disagreements, json_offsets, member_paths,
                     pahole_offsets, pycparser_offsets)
from slotgen_lib import cli
from strategies import Drawn, valid_schemas
from strategies_invalid import Broken, invalid_schemas

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
WARN = ["-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
# Every compiler and target the header must compile under, warning-free.
COMPILERS = {
    "x86_64": [["gcc"], ["clang"]],
    "i386": [["gcc", "-m32", "-ffreestanding", "-Wno-psabi"],
             ["clang", "--target=i686-linux-gnu", "-ffreestanding"]],
    "aarch64": [["clang", "--target=aarch64-linux-gnu", "-ffreestanding"]],
}
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
PROFILE = os.environ.get("METASLOT_HYPOTHESIS_PROFILE", "bounded")
# Examples per property test: the bounded profile keeps `make test-codegen` quick.
EXAMPLES = int(os.environ.get("METASLOT_HYPOTHESIS_EXAMPLES",
                              {"bounded": 70}.get(PROFILE, 3000)))
settings.register_profile("bounded", max_examples=EXAMPLES, deadline=None, derandomize=True,
                          database=None, suppress_health_check=_QUIET, print_blob=True)
settings.register_profile("long", max_examples=EXAMPLES, deadline=None,
                          suppress_health_check=_QUIET, print_blob=True,
                          database=DirectoryBasedExampleDatabase(
                              str(ROOT / "build" / "hypothesis")))
VALID = settings(settings.get_profile(PROFILE))
INVALID = settings(settings.get_profile(PROFILE),
                   max_examples=settings.get_profile(PROFILE).max_examples * 3)


def slotgen_main(*argv: str) -> tuple[int, str]:
    """Run slotgen's `main` in this process (fast); return (status, stderr)."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = cli.main([str(a) for a in argv])
    return status, err.getvalue()


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)


def _use_probe(work: Path, struct: str, prefix: str, macros: dict[str, str]) -> Path:
    """A translation unit that uses every object-like macro and the member table."""
    values = sorted(n for n, v in macros.items() if n.startswith(prefix + "_") and v)
    lines = [f'#include "{struct}.h"', f'#include "{struct}_members.h"',
             "const long long probe_macros[] = {"]
    lines += [f"\t(long long)({name})," for name in values]
    lines += ["\t0", "};",
              f"#define PROBE_X(m, off, size) _Static_assert(offsetof(struct {struct}, m) == "
              f"(off) && sizeof(((struct {struct} *)0)->m) == (size), #m);",
              f"{prefix}_MEMBERS(PROBE_X)", ""]
    probe = work / "use_probe.c"
    probe.write_text("\n".join(lines))
    return probe


def _object_macros(cc: list[str], header: Path | None) -> dict[str, str]:
    """Object-like macros defined after including `header`, or only the standard headers."""
    src = f'#include "{header}"\n' if header else \
        "".join(f"#include <{h}>\n" for h in ("stdatomic.h", "stdbool.h", "stddef.h", "stdint.h"))
    out = subprocess.run([*cc, "-std=c11", "-dM", "-E", "-x", "c", "-"], input=src,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    found = {}
    for line in out.stdout.splitlines():
        _, name, *value = line.split(" ", 2)
        if "(" not in name:
            found[name] = value[0] if value else ""
    return found


_STD: dict[tuple[str, ...], set[str]] = {}


def _stray_macros(cc: list[str], header: Path, prefix: str) -> tuple[dict[str, str], list[str]]:
    """The header's macros, and those neither standard nor named <PREFIX>_..."""
    if tuple(cc) not in _STD:
        _STD[tuple(cc)] = set(_object_macros(cc, None))
    macros = _object_macros(cc, header)
    return macros, sorted(m for m in macros if not m.startswith(prefix + "_")
                          and m not in _STD[tuple(cc)])


def check_generated(text: str, work: Path) -> None:
    """Generate `text` and hold the outputs against every oracle and compiler."""
    schema = work / "schema.yaml"
    schema.write_bytes(text.encode("utf-8"))
    out = work / "out"
    out.mkdir()
    status, err = slotgen_main("generate", schema, "-o", out, "-q")
    assert status == 0, err
    data = json.loads(next(out.glob("*.layout.json")).read_text())
    struct, prefix = data["struct"], data["prefix"]
    header = out / f"{struct}.h"
    layout_json = out / f"{struct}.layout.json"
    text_h = header.read_text()
    first = "x86_64" if "x86_64" in data["targets"] else next(iter(data["targets"]))
    macros, stray = _stray_macros(COMPILERS[first][0], header, prefix)
    assert not stray, f"the header defines unexpected macros {stray}"
    probe = _use_probe(out, struct, prefix, macros)
    jobs = []
    for target in data["targets"]:
        for cc in COMPILERS[target]:
            jobs.append([*cc, *WARN, "-c", str(probe), "-o", os.devnull])
    with ThreadPoolExecutor(max_workers=2) as pool:
        compiled = list(pool.map(lambda cmd: _run(cmd, out), jobs))
        problems = {}
        for target in data["targets"]:
            seen = pycparser_offsets(header, struct, target)
            problems[f"pycparser/{target}"] = disagreements(json_offsets(layout_json, target),
                                                            seen)
        if "x86_64" in data["targets"]:
            paths = member_paths(layout_json)
            expected = json_offsets(layout_json, "x86_64")
            problems["gcc"] = disagreements(
                expected, compiler_offsets(header, struct, paths, ["gcc"], out))
            problems["pahole"] = disagreements(expected, pahole_offsets(header, struct, ["gcc"],
                                                                        out))
    for cmd, result in zip(jobs, compiled):
        assert result.returncode == 0 and not result.stderr, \
            f"{' '.join(cmd)}:\n{result.stderr}\n--- header:\n{text_h}"
    assert not any(problems.values()), problems

@VALID
@given(valid_schemas())
def test_valid_schemas_agree_with_every_oracle(drawn: Drawn):
    with tempfile.TemporaryDirectory(prefix="slotgen-prop-") as tmp:
        check_generated(drawn.text, Path(tmp))


@INVALID
@given(invalid_schemas())
def test_a_broken_rule_is_reported_at_its_line(broken: Broken):
    with tempfile.TemporaryDirectory(prefix="slotgen-bad-") as tmp:
        schema = Path(tmp) / "schema.yaml"
        schema.write_bytes(broken.text.encode("utf-8"))
        out = Path(tmp) / "out"
        out.mkdir()
        status, err = slotgen_main("generate", schema, "-o", out, "-q")
        assert status == 1, f"{broken.rule}: accepted:\n{broken.text}"
        wanted = f"{schema}:{broken.line}:"
        found = [line for line in err.splitlines()
                 if line.startswith(wanted) and broken.fragment in line]
        assert found, (f"{broken.rule}: no '{broken.fragment}' at line {broken.line}:\n{err}\n"
                       f"--- schema:\n{broken.text}")
        assert list(out.iterdir()) == [], "a failed generation must write nothing"


@pytest.mark.parametrize("path", sorted(REGRESSIONS.glob("valid-*.yaml")), ids=lambda p: p.stem)
def test_kept_valid_examples(path, tmp_path):
    check_generated(path.read_text(encoding="utf-8"), tmp_path)


def test_gcc_i386_lone_atomic_u64_struct_alignment(tmp_path):
    """gcc -m32 aligns a struct holding only an _Atomic uint64_t to 4 unless told 8."""
    text = ("schema: 1\nstruct: lone\nsize: 8\ntargets: [i386]\n"
            "fields:\n  - {name: value, type: atomic u64}\n")
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "lone.yaml").write_text(text)
    assert slotgen_main("generate", tmp_path / "lone.yaml", "-o", out, "-q")[0] == 0
    (out / "probe.c").write_text('#include "lone.h"\n')
    result = _run(["gcc", "-m32", "-ffreestanding", "-Wno-psabi", *WARN, "-c", "probe.c",
                   "-o", os.devnull], out)
    assert result.returncode == 0, result.stderr
