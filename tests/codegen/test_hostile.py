"""Hostile schema text: slotgen refuses it clearly, in bounded time and memory, writing nothing.

Three parts: mutational fuzzing of real schemas (in process, many examples), crafted
attacks run as a user would under resource limits (alias bombs, a 100 MB file, deep
nesting, YAML tags, huge numbers), and comment injection and output-directory safety.
"""
from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import FIXTURES, SCHEMA, SLOTGEN
from test_properties import PROFILE, slotgen_main

MEMORY_LIMIT = 1 << 30  # address space for one slotgen run
SECONDS = 20  # wall clock for one slotgen run
ERROR_LINE = re.compile(r"^\S.*?(:\d+:\d+)?: error: \S", re.M)
SMALL = b"schema: 1\nstruct: s\nsize: 8\ntargets: [x86_64]\nfields:\n  - {name: a, type: u64}\n"
SEEDS = [SCHEMA.read_bytes(), SMALL] + [p.read_bytes() for p in sorted((FIXTURES / "bad").glob(
    "*.yaml"))]
HOSTILE_TOKENS = [b"-1", b"99999999999999999999999999999999", b"0x" + b"f" * 300, b"1.5",
                  b".inf", b".nan", b"-.inf", b"1e400", b"!!python/object:os.system", b"&a",
                  b"*a", b"<<: *a", b"{", b"[", b"]", b"}", b"'", b'"', b"\t", b"\n  - ",
                  b"\xff\xfe", b"\xc3", "é漢".encode(), b"~", b"null", b"true", b"? ", b": ",
                  b"!!binary aGk=", b"!custom x", b"%YAML 1.1\n---\n", b"\n---\n", b"u8[0]",
                  b"atomic ", b"x" * 200, b"\\", b"*/", b"#", b"\r\n", b"\x00", b"\x85"]


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (SECONDS, SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 << 20, 64 << 20))


def run_limited(*args, cwd: Path | None = None) -> tuple[subprocess.CompletedProcess, float]:
    """Run codegen/slotgen under memory, CPU and file-size limits; return it and its seconds."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    started = time.monotonic()
    result = subprocess.run([str(SLOTGEN), *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=SECONDS,
                            preexec_fn=_limits, errors="replace")
    return result, time.monotonic() - started


def assert_clear_refusal(result: subprocess.CompletedProcess, out: Path | None = None) -> None:
    """Exit 1, compiler-style errors and a count, no traceback, nothing written."""
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    assert ERROR_LINE.search(result.stderr), result.stderr
    assert re.search(r"^slotgen: \d+ errors?$", result.stderr, re.M), result.stderr
    if out is not None:
        assert list(out.iterdir()) == [], "a refused schema must write nothing"


# ---------------------------------------------------------------------------
# Mutational fuzzing, in process: any outcome but a crash or a partial output.

@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "replace-number"]))
        at = draw(st.integers(0, len(data)))
        if kind == "truncate":
            del data[at:]
        elif kind == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(HOSTILE_TOKENS))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif kind == "replace-number":
            text = bytes(data)
            numbers = [m.span() for m in re.finditer(rb"\b\d+\b", text)]
            if numbers:
                start, end = draw(st.sampled_from(numbers))
                data[start:end] = draw(st.sampled_from(HOSTILE_TOKENS[:8]))
    return bytes(data)


@settings(settings.get_profile(PROFILE),
          max_examples=settings.get_profile(PROFILE).max_examples * 3)
@given(mutated())
def test_mutated_schema_is_generated_or_refused_cleanly(text: bytes):
    with tempfile.TemporaryDirectory(prefix="slotgen-mut-") as tmp:
        schema = Path(tmp) / "schema.yaml"
        schema.write_bytes(text)
        out = Path(tmp) / "out"
        out.mkdir()
        status, err = slotgen_main("generate", schema, "-o", out, "-q")
        if status == 0:
            assert sorted(p.suffix for p in out.iterdir()) == [".h", ".h", ".json"]
        else:
            assert status == 1, err
            assert ERROR_LINE.search(err) and err.rstrip().splitlines()[-1].startswith(
                "slotgen: "), err
            assert list(out.iterdir()) == [], "a refused schema must write nothing"


# ---------------------------------------------------------------------------
# Crafted attacks, run as a separate process under resource limits.

def _alias_bomb(levels: int = 12) -> bytes:
    lines = ["schema: 1", "struct: s", "size: 8", 'l0: &l0 ["lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, levels)]
    lines += [f"fields: *l{levels - 1}"]
    return ("\n".join(lines) + "\n").encode()


ATTACKS = {
    "alias-bomb": (_alias_bomb(), "the schema expands to more than"),
    "alias-bomb-in-keys": (b"a: &a {x: 1, y: 2}\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
                           b"c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\n"
                           b"d: &d [*c, *c, *c, *c, *c, *c]\n"
                           b"e: &e [*d, *d, *d, *d, *d, *d, *d, *d]\n"
                           b"f: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
                           b"g: [*f, *f, *f, *f, *f, *f, *f, *f]\n", "YAML nodes"),
    "deep-flow-nesting": (b"fields: " + b"[" * 50000 + b"]" * 50000 + b"\n",
                          "1:73: error: YAML nested too deeply"),
    "deep-block-nesting": ("".join(" " * i + f"k{i}:\n" for i in range(200)).encode(),
                           "nested deeper than 64 levels"),
    "deep-sequences": (b"fields:\n" + b"- " * 5000 + b"x\n", "error"),
    "python-object-tag": (b"schema: 1\nstruct: !!python/object/apply:os.system ['touch pwned']\n",
                          "2:9: error: YAML tag '!!python/object/apply:os.system' is not "
                          "allowed in a schema"),
    "python-name-tag": (b"schema: !!python/name:os.system\n", "is not allowed in a schema"),
    "custom-tag": (b"schema: 1\nstruct: !evil s\n", "YAML tag '!evil' is not allowed"),
    "binary-tag": (b"schema: 1\nstruct: !!binary aGk=\n", "is not allowed in a schema"),
    # Standard tags too: a tag is never needed, and a tagged value is not what it looks like.
    "int-tag": (SMALL.replace(b"size: 8", b"size: !!int 8"),
                "3:7: error: YAML tag '!!int' is not allowed in a schema"),
    "str-tag": (SMALL.replace(b"struct: s", b"struct: !!str s"), "YAML tag '!!str' is not allowed"),
    "seq-tag": (SMALL.replace(b"fields:", b"fields: !!seq"), "YAML tag '!!seq' is not allowed"),
    "non-specific-tag": (SMALL.replace(b"size: 8", b"size: ! 8"), "YAML tag '!' is not allowed"),
    "date-value": (SMALL.replace(b"struct: s", b"struct: s\ndoc: 2024-01-01"),
                   "error: the value '2024-01-01' reads as a YAML timestamp, which a schema "
                   "cannot hold"),
    "merge-key": (b"base: &b {name: a, type: u8}\nfields:\n  - <<: *b\n",
                  "YAML merge keys ('<<') are not supported"),
    "duplicate-key": (b"schema: 1\nschema: 1\n", "2:1: error: duplicate key 'schema'"),
    "huge-decimal": (SMALL.replace(b"size: 8", b"size: " + b"9" * 5000),
                     "has more than 256 bits"),
    "huge-hex": (SMALL.replace(b"size: 8", b"size: 0x" + b"f" * 100000),
                 "3:7: error: the number 0xffffffffffffffffffffffffffffffffffffff... has more "
                 "than 256 bits"),
    "huge-offset": (SMALL.replace(b"type: u64}", b"type: u64, offset: " + b"1" * 4000 + b"}"),
                    "has more than 256 bits"),
    "huge-array": (SMALL.replace(b"u64", b"'u8[" + b"9" * 5000 + b"]'"),
                   "the array length of member 'a' must be 1..65536, not a 5000-digit number"),
    "negative-size": (SMALL.replace(b"size: 8", b"size: -8"), "the size must be positive"),
    "float-size": (SMALL.replace(b"size: 8", b"size: 8.0"),
                   "'size' of the schema must be an integer, not a number with a fraction"),
    "inf-offset": (SMALL.replace(b"type: u64}", b"type: u64, offset: .inf}"),
                   "'offset' of member 'a' must be an integer"),
    "negative-offset": (SMALL.replace(b"type: u64}", b"type: u64, offset: -1}"),
                        "the offset of member 'a' is negative (-1)"),
    "long-name": (SMALL.replace(b"name: a", b"name: " + b"a" * 100000),
                  "the member name is 100000 characters long"),
    "non-ascii-name": (SMALL.replace(b"name: a", "name: größe".encode()),
                       "the member name 'größe' is not a valid C identifier"),
    "comment-in-name": (SMALL.replace(b"name: a", b"name: 'a*/b'"),
                        "the member name 'a*/b' is not a valid C identifier"),
    "newline-define-in-name": (SMALL.replace(b"name: a", b'name: "a\\n#define EVIL 1"'),
                               "is not a valid C identifier"),
    "nul-escape-in-doc": (SMALL.replace(b"type: u64}", b'type: u64, doc: "a\\0b"}'),
                          "contains the character U+0000 (control character)"),
    "nul-byte": (SMALL + b"\x00", "the schema contains a NUL byte"),
    "invalid-utf8": (SMALL.replace(b"struct: s", b"struct: s\xff"), "not valid UTF-8"),
    "truncated": (SMALL[:40], "error"),
    "empty": (b"", "the schema is empty"),
    "scalar-document": (b"42\n", "the schema must be a mapping, not an integer"),
    "fields-not-a-list": (SMALL.split(b"fields:")[0] + b"fields: 5\n",
                          "5:1: error: 'fields' must be a list, not an integer"),
    "raw-control-byte": (SMALL.replace(b"type: u64}", b"type: u64, doc: x\x01y}"),
                         "6:32: error: the schema contains the character U+0001 (control "
                         "character), which YAML does not allow"),
    "raw-control-byte-cr-lines": (SMALL.replace(b"type: u64}", b"type: u64, doc: x\x01y}")
                                  .replace(b"\n", b"\r"),
                                  "6:32: error: the schema contains the character U+0001"),
    "raw-next-line": (SMALL.replace(b"type: u64}", "type: u64, doc: x\x85y}".encode()),
                      "6:32: error: the schema contains the character U+0085"),
    "raw-line-separator": (SMALL.replace(b"struct: s", "struct: s\u2028".encode()),
                           "2:10: error: the schema contains the character U+2028 (LINE "
                           "SEPARATOR)"),
    "base-60-number": (SMALL.replace(b"size: 8", b"size: 1:00"),
                       "3:7: error: the value '1:00' reads as a YAML 1.1 base-60 number"),
    "list-for-one-order": (SMALL.replace(b"type: u64}", b"type: atomic u64, ops: {load: "
                                         b"[acquire]}}"),
                           "op 'load' of member 'a' takes one memory order, not ['acquire']"),
    "misaligned-pin": (SMALL.replace(b"type: u64}", b"type: u64, offset: 4}"),
                       "'a' is pinned at offset 4, which is not a multiple of its alignment 8"),
    "member-named-like-own-macro": (SMALL.replace(b"name: a", b"name: S_SIZE"),
                                    "the name 'S_SIZE' of member 'S_SIZE' is also a macro the "
                                    "generated header defines (for the struct)"),
    "struct-named-like-own-macro": (SMALL.replace(b"struct: s",
                                                  b"struct: P_A_OFFSET\nprefix: P"),
                                    "the name 'P_A_OFFSET' of the struct is also a macro the "
                                    "generated header defines (for member 'a')"),
    "struct-memory-order": (SMALL.replace(b"struct: s", b"struct: memory_order\nprefix: M"),
                            "2:1: error: the tag 'struct memory_order' of the struct is "
                            "declared by <stdatomic.h>"),
    "struct-atomic-flag": (SMALL.replace(b"struct: s", b"struct: atomic_flag\nprefix: M"),
                           "the tag 'struct atomic_flag' of the struct is declared by"),
    "underscore-struct": (SMALL.replace(b"struct: s", b"struct: _s"),
                          "2:1: error: the default prefix '_S' (the struct name upper-cased) "
                          "does not match [A-Z][A-Z0-9_]*"),
    "two-flags-of-value-zero": (SMALL + b"flag_sets:\n  st: {type: u8, values: {Z1: {value: 0}, "
                                b"Z2: {value: 0}}}\n",
                                "flags 'Z1' and 'Z2' of flag set 'st' have the same value 0x0"),
    "same-rust-member-name": (SMALL.replace(b"size: 8", b"size: 16").replace(
                                  b"type: u64}", b"type: u64}\n  - {name: self_, type: u64}")
                              .replace(b"name: a", b"name: self"),
                              "members 'self' and 'self_' of the struct are both 'self_' in the "
                              "Rust view"),
    "same-rust-type-name": (SMALL.replace(b"fields:", b"types:\n  a_b: {fields: [{name: x, type: "
                                          b"u8}]}\n  aB: {fields: [{name: x, type: u8}]}\n"
                                          b"fields:"),
                            "type 'aB' and type 'a_b' are both 'SAB' in the Rust view"),
    "type-not-a-mapping": (SMALL.replace(b"fields:", b"types: {t: 5}\nfields:").replace(
                               b"type: u64}", b"type: u64}\n  - {name: b, type: t}"),
                           "type 't' must be a mapping, not an integer"),
    "gnu-keyword-member": (SMALL.replace(b"name: a", b"name: typeof"),
                           "the member name 'typeof' is a C keyword"),
    "c23-keyword-member": (SMALL.replace(b"name: a", b"name: constexpr"),
                           "the member name 'constexpr' is a C keyword"),
    "zero-width-bits": (SMALL.replace(b"type: u64}", b"type: u64, bits: [{name: z, lsb: 0, "
                                      b"width: 0}]}"),
                        "the width of sub-field 'z' of member 'a' is 0"),
    "size-for-unlisted-target": (SMALL.replace(b"size: 8", b"size: {x86_64: 8, aarch64: 8}"),
                                 "3:19: error: 'size' gives a size for target 'aarch64', which "
                                 "'targets' does not list"),
    "hole-hint-name-taken": (SMALL.replace(b"size: 8", b"size: 16").replace(
                                 b"  - {name: a, type: u64}",
                                 b"  - {name: _reserved_a, type: u8}\n  - {name: a, type: u64}"),
                             "hint: declare {name: _reserved_a_2, type: u8[7], reserved: true} "
                             "before 'a'"),
    "std-macro-member": (SMALL.replace(b"name: a", b"name: bool"),
                         "the name 'bool' of member 'bool' is a macro of the standard C headers"),
    "gnu-predefined-member": (SMALL.replace(b"name: a", b"name: linux"),
                              "the name 'linux' of member 'linux' is a macro of the standard C "
                              "headers the generated header includes, or one the compiler "
                              "predefines in GNU C"),
    "c23-width-member": (SMALL.replace(b"name: a", b"name: UINT32_WIDTH"),
                         "the name 'UINT32_WIDTH' of member 'UINT32_WIDTH' is a macro"),
    "rust-imported-struct-name": (SMALL.replace(b"struct: s", b"struct: ordering\nprefix: S")
                                  .replace(b"type: u64}", b"type: atomic u64}"),
                                  "2:1: error: the struct is 'Ordering' in the Rust view, a name "
                                  "it imports from core or that Rust reserves"),
    "rust-nameless-struct": (SMALL.replace(b"struct: s", b"struct: _1\nprefix: S"),
                             "the struct has no usable Rust type name ('1'"),
    "flags-with-one-bit-pattern": (SMALL.replace(b"type: u64}", b"type: i32, flag_set: fl}")
                                   .replace(b"size: 8", b"size: 4") +
                                   b"flag_sets:\n  fl: {type: i32, values: {TOP: {bit: 31}, "
                                   b"MIN: {value: -2147483648}}}\n",
                                   "flags 'TOP' and 'MIN' of flag set 'fl' have the same value "
                                   "0x80000000"),
    "std-macro-generated": (SMALL.replace(b"struct: s", b"struct: s\nprefix: ATOMIC\nflag_sets:\n"
                                          b"  flag: {type: u8, values: {INIT: {bit: 1}}}"),
                            "the name 'ATOMIC_FLAG_INIT' of flag 'flag.INIT' is a macro"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_attack_is_refused_in_bounded_time_and_memory(attack, tmp_path):
    text, expected = ATTACKS[attack]
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(text)
    out = tmp_path / "out"
    out.mkdir()
    result, seconds = run_limited("generate", schema, "-o", out, cwd=tmp_path)
    assert_clear_refusal(result, out)
    assert expected in result.stderr, result.stderr
    assert seconds < 10, f"{attack} took {seconds:.1f} s"
    assert not (tmp_path / "pwned").exists()


def test_a_100_mb_schema_is_refused_without_reading_it_all(tmp_path):
    schema = tmp_path / "huge.yaml"
    with open(schema, "wb") as handle:
        handle.write(SMALL + b"# padding\n" * 1024)
        handle.truncate(100 << 20)
    out = tmp_path / "out"
    out.mkdir()
    result, seconds = run_limited("generate", schema, "-o", out)
    assert_clear_refusal(result, out)
    assert (f"{schema}: error: the schema is larger than the limit of 1048576 bytes"
            in result.stderr)
    assert seconds < 10


@pytest.mark.parametrize("kind", ["portable", "one-error-each"])
def test_a_large_schema_is_checked_in_linear_time(kind, tmp_path):
    """12000 members: a quadratic check (per-member scans, duplicate search) took minutes."""
    count = 12000
    head = f"schema: 1\nstruct: s\nsize: {count}\ntargets: [x86_64, i386]\n"
    head += "portable: true\nfields:\n" if kind == "portable" else "fields:\n"
    extra = ", ops: {}" if kind == "one-error-each" else ""
    schema = tmp_path / "large.yaml"
    schema.write_text(head + "".join(f"  - {{name: m{i}, type: u8{extra}}}\n"
                                     for i in range(count)))
    result, seconds = run_limited("check", schema)
    if kind == "portable":
        assert result.returncode == 0, result.stderr
        assert f"ok: struct s, {count} members" in result.stdout
    else:
        assert_clear_refusal(result)
        assert result.stderr.rstrip().endswith(f"slotgen: {count} errors")
    assert seconds < SECONDS


@pytest.mark.parametrize("path", ["/dev/zero", "/proc/self/mem", "."])
def test_unreadable_or_endless_schema_paths_are_refused(path, tmp_path):
    result, seconds = run_limited("check", path, cwd=tmp_path)
    assert_clear_refusal(result)
    assert seconds < 10


# ---------------------------------------------------------------------------
# Comment injection: doc text never changes the meaning of the generated C.

INJECTIONS = ["*/ #define EVIL 1 /*", "/* unclosed", "ends with */", "line one\n#define EVIL 2",
              "\\\n#define EVIL 3", "back\\slash\\", "trigraph ??/\n#define EVIL 4",
              "more ???/ ????/", "??= ??( ??) ??' ??< ??! ??> ??-", "// line\n#define EVIL 5",
              "#define EVIL 8",
              "\"quoted\" 'single' `tick`", "Grüße 漢字 \U0001f600", "*\n/ split"]
DOC_SLOTS = """schema: 1
struct: inj
doc: {doc}
size: 16
targets: [x86_64, i386, aarch64]
constants:
  LIMIT: {{type: u32, value: 7, doc: {doc}}}
flag_sets:
  state:
    type: u32
    doc: {doc}
    values:
      READY: {{bit: 0, doc: {doc}}}
types:
  pair:
    doc: {doc}
    fields:
      - {{name: lo, type: u32, doc: {doc}}}
      - {{name: hi, type: u32, doc: {doc}}}
fields:
  - name: word
    type: atomic u32
    flag_set: state
    doc: {doc}
    ops: {{load: acquire, cas: [acq_rel, acquire]}}
    bits:
      - {{name: low, lsb: 0, width: 4, doc: {doc}}}
  - {{name: _pad, type: "u8[4]", reserved: true, doc: {doc}}}
  - {{name: both, type: pair, doc: {doc}}}
"""


def _yaml_string(text: str) -> str:
    out = '"'
    for ch in text:
        if ch in '"\\':
            out += "\\" + ch
        elif ch == "\n":
            out += "\\n"
        elif not ch.isprintable():
            out += f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
        else:
            out += ch
    return out + '"'


def _generate(tmp: Path, name: str, doc: str) -> Path:
    schema = tmp / f"{name}.yaml"
    schema.write_text(DOC_SLOTS.format(doc=_yaml_string(doc)), encoding="utf-8")
    out = tmp / name
    out.mkdir()
    status, err = slotgen_main("generate", schema, "-o", out, "-q")
    assert status == 0, err
    return out


def _preprocessed(header: Path, *flags: str) -> str:
    """Tokens after preprocessing (comments gone), and the macros left defined."""
    return subprocess.run(["gcc", "-std=c11", "-E", "-P", "-dD", *flags, str(header)],
                          check=True, capture_output=True, text=True).stdout


@pytest.mark.parametrize("doc", INJECTIONS, ids=range(len(INJECTIONS)))
def test_doc_text_cannot_change_the_generated_c(doc, tmp_path):
    plain = _generate(tmp_path, "plain", "plain text")
    hostile = _generate(tmp_path, "hostile", doc)
    for header in ("inj.h", "inj_members.h"):
        for flags in ((), ("-m32",), ("-trigraphs",)):
            assert _preprocessed(hostile / header, *flags) == \
                _preprocessed(plain / header, *flags), f"{header} {flags}: {doc!r}"
    probe = tmp_path / "probe.c"
    probe.write_text('#include "inj.h"\n#include "inj_members.h"\n'
                     "#ifdef EVIL\n#error EVIL got defined\n#endif\n"
                     "unsigned long long probe = INJ_SIZE + INJ_LIMIT + INJ_STATE_READY;\n")
    for cc in (["gcc"], ["clang"], ["clang", "--target=aarch64-linux-gnu", "-ffreestanding"]):
        result = subprocess.run([*cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                                 "-Wtrigraphs", "-Wcomment", f"-I{hostile}", "-c", str(probe),
                                 "-o", os.devnull], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr, result.stderr
    assert not re.search(r"\?\?[=/'()!<>-]", (hostile / "inj.h").read_text()), "trigraph left"


# Characters that reorder displayed text or end a line: refused in doc text, written
# only as YAML escapes (a raw one in the file is refused before parsing).
REFUSED_DOC_CHARS = ["\u2028", "\u2029", "\x85", "\x9b", "\u202e", "\u2066", "\u200f",
                     "\ud800", "\x7f"]


@pytest.mark.parametrize("char", REFUSED_DOC_CHARS, ids=[f"U+{ord(c):04X}" for c in
                                                          REFUSED_DOC_CHARS])
def test_doc_characters_that_reorder_or_break_lines_are_refused(char, tmp_path):
    schema = tmp_path / "doc.yaml"
    schema.write_text(DOC_SLOTS.format(doc=_yaml_string(f"a {char}#define EVIL 9")),
                      encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    result, _ = run_limited("generate", schema, "-o", out, "--lang", "c,rust")
    assert_clear_refusal(result, out)
    assert f"contains the character U+{ord(char):04X}" in result.stderr, result.stderr
    assert "3:1: error: the doc of the schema" in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("slotgen: 11 errors"), "every doc is checked"


def test_a_schema_path_that_is_not_utf8_or_not_printable_is_escaped_in_the_banner(tmp_path):
    odd = os.fsdecode(b"odd\xff\xe2\x80\xae\x1b.yaml")  # invalid byte, RLO, ESC
    (tmp_path / odd).write_bytes(SMALL)
    out = tmp_path / "out"
    out.mkdir()
    result, _ = run_limited("generate", odd, "-o", out, "--lang", "c,rust", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for name in ("s.h", "s_members.h", "s.rs"):
        text = (out / name).read_text(encoding="utf-8")
        assert "from odd\\xff\\u202e\\x1b.yaml (sha256" in text, text[:200]
        assert text.isascii(), name
    probe = tmp_path / "probe.c"
    probe.write_text('#include "s.h"\nunsigned probe = S_SIZE;\n')
    for cc in ("gcc", "clang"):
        compiled = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror",
                                   f"-I{out}", "-c", str(probe), "-o", os.devnull],
                                  capture_output=True, text=True)
        assert compiled.returncode == 0, compiled.stderr


def test_a_bad_lang_is_a_usage_error_before_the_schema_is_read(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(SMALL.replace(b"size: 8", b"size: 9"))
    result, _ = run_limited("generate", bad, "-o", tmp_path, "--lang", "cpp")
    assert result.returncode == 2, result.stderr
    assert "unknown --lang 'cpp'" in result.stderr
    assert "error: the computed size" not in result.stderr


@pytest.mark.parametrize("lang", ["", ",", " "], ids=["empty", "comma", "blank"])
def test_an_empty_lang_is_a_usage_error_not_an_empty_success(lang, tmp_path):
    (tmp_path / "s.yaml").write_bytes(SMALL)
    result, _ = run_limited("generate", tmp_path / "s.yaml", "-o", tmp_path, "--lang", lang)
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "unknown --lang" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"]


def test_a_schema_path_with_comment_delimiters_stays_in_the_banner(tmp_path):
    directory = tmp_path / "odd*"
    directory.mkdir()
    (directory / "x.yaml").write_bytes(SMALL)
    out = tmp_path / "out"
    out.mkdir()
    result, _ = run_limited("generate", "odd*/x.yaml", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (tmp_path / "probe.c").write_text('#include "s.h"\n')
    compiled = subprocess.run(["gcc", "-std=c11", "-Wall", "-Werror", "-Iout", "-c", "probe.c",
                               "-o", os.devnull], cwd=tmp_path, capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr
    assert " * Generated by slotgen from odd* /x.yaml (sha256 " in (out / "s.h").read_text()


# ---------------------------------------------------------------------------
# Output safety.

def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() and not p.is_symlink()
                                        else b"") for p in sorted(root.rglob("*"))}


def test_outputs_land_only_in_the_requested_directory(tmp_path):
    sandbox = tmp_path / "sandbox"
    (sandbox / "out").mkdir(parents=True)
    (sandbox / "victim.h").write_text("precious\n")
    os.symlink("../victim.h", sandbox / "out" / "s.h")
    (sandbox / "schema.yaml").write_bytes(SMALL)
    before = _tree(sandbox)
    result, _ = run_limited("generate", "schema.yaml", "-o", "out/../out", cwd=sandbox)
    assert result.returncode == 0, result.stderr
    after = _tree(sandbox)
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    assert changed <= {"out/s.h", "out/s_members.h", "out/s.layout.json"}, changed
    assert (sandbox / "victim.h").read_text() == "precious\n"
    assert not (sandbox / "out" / "s.h").is_symlink()
    assert sorted(p.name for p in (sandbox / "out").iterdir()) == \
        ["s.h", "s.layout.json", "s_members.h"], "no temporary file may be left behind"


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)],
                         ids=["umask-022", "umask-077", "umask-002"])
def test_outputs_get_the_mode_the_umask_gives_new_files(umask, mode, tmp_path):
    """Outputs are staged in a private temporary file and renamed into place; they must
    still end up with the mode any new file gets (0666 less the umask), readable by the
    build that includes them, as with `cc -o` or a shell redirection."""
    (tmp_path / "schema.yaml").write_bytes(SMALL)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    runs = [["generate", "schema.yaml", "-o", "out"],
            ["report", "schema.yaml", "-o", "report.txt"],
            ["diff", "schema.yaml", "schema.yaml", "-o", "diff.txt"]]
    (tmp_path / "out").mkdir()
    for args in runs:
        result = subprocess.run([str(SLOTGEN), *args], cwd=tmp_path, env=env, text=True,
                                capture_output=True, timeout=120,
                                preexec_fn=lambda: os.umask(umask))
        assert result.returncode == 0, result.stderr
    outputs = [*(tmp_path / "out").iterdir(), tmp_path / "report.txt", tmp_path / "diff.txt"]
    assert len(outputs) == 5
    for path in outputs:
        assert path.stat().st_mode & 0o777 == mode, (path.name, oct(path.stat().st_mode))


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_missing_output_directory_is_a_clear_error(kind, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(SMALL)
    target = tmp_path / "nowhere" / "deeper" if kind == "missing" else schema
    result, _ = run_limited("generate", schema, "-o", target)
    assert_clear_refusal(result)
    reason = "directory does not exist" if kind == "missing" else "path is not a directory"
    assert f"{target}: error: the output {reason}" in result.stderr
    assert not (tmp_path / "nowhere").exists()


@contextlib.contextmanager
def read_only(directory: Path):
    """Make `directory` unwritable even for root (immutable attribute), or skip."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        undo = ["chmod", "755", str(directory)]
    elif shutil.which("chattr") and subprocess.run(["chattr", "+i", str(directory)],
                                                   capture_output=True).returncode == 0:
        undo = ["chattr", "-i", str(directory)]
    else:
        pytest.skip("cannot make a directory read-only here")
    try:
        try:
            (directory / ".probe").touch()
        except OSError:
            pass
        else:
            (directory / ".probe").unlink()
            pytest.skip("the directory stayed writable")
        yield
    finally:
        subprocess.run(undo, check=True)


def test_a_read_only_output_directory_is_a_clear_error_and_keeps_old_outputs(tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(SMALL)
    out = tmp_path / "out"
    out.mkdir()
    first, _ = run_limited("generate", schema, "-o", out)
    assert first.returncode == 0, first.stderr
    before = _tree(out)
    schema.write_bytes(SMALL.replace(b"name: a", b"name: b"))
    with read_only(out):
        result, _ = run_limited("generate", schema, "-o", out)
    assert_clear_refusal(result)
    assert f"{out}: error: cannot write the outputs: " in result.stderr
    assert _tree(out) == before


@pytest.mark.parametrize("dialect", [["-std=c11"], ["-std=gnu11"], ["-std=gnu11", "-D_GNU_SOURCE"],
                                     ["-std=c2x"]], ids=["c11", "gnu11", "gnu-source", "c2x"])
@pytest.mark.parametrize("cc", [["gcc"], ["gcc", "-m32", "-ffreestanding"], ["clang"],
                                ["clang", "--target=aarch64-linux-gnu", "-ffreestanding"]],
                         ids=["gcc", "gcc-m32", "clang", "clang-aarch64"])
def test_the_generator_knows_every_macro_of_the_included_headers(cc, dialect):
    """names.STD_MACROS must list each non-reserved macro that a file including the header's
    includes sees: theirs, and the compiler's own (GNU C predefines linux, unix, i386),
    in the dialects kernels build with."""
    from slotgen_lib.names import STD_MACROS

    src = "".join(f"#include <{h}>\n" for h in ("stdatomic.h", "stdbool.h", "stddef.h",
                                                  "stdint.h"))
    out = subprocess.run([*cc, *dialect, "-dM", "-E", "-x", "c", "-"], input=src,
                         capture_output=True, text=True, check=True).stdout
    names = {line.split()[1].split("(")[0] for line in out.splitlines()}
    assert sorted(n for n in names if not n.startswith("_") and n not in STD_MACROS) == []


def test_an_output_name_taken_by_a_directory_leaves_every_old_output(tmp_path):
    out = tmp_path / "out"
    (out / "meta_slot_members.h").mkdir(parents=True)
    (out / "meta_slot.h").write_text("old header\n")
    result, _ = run_limited("generate", SCHEMA, "-o", out)
    assert_clear_refusal(result)
    assert (f"{out / 'meta_slot_members.h'}: error: an output path exists and is not a regular "
            "file") in result.stderr
    assert (out / "meta_slot.h").read_text() == "old header\n"
    assert sorted(p.name for p in out.iterdir()) == ["meta_slot.h", "meta_slot_members.h"]


@pytest.mark.parametrize("command", [["check", SCHEMA], ["report", SCHEMA],
                                     ["diff", SCHEMA, SCHEMA]], ids=["check", "report", "diff"])
def test_a_full_standard_output_is_an_error_not_a_traceback(command):
    with open("/dev/full", "w") as full:
        result = subprocess.run([str(SLOTGEN), *map(str, command)], stdout=full,
                                stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 1
    assert result.stderr == ("slotgen: error: cannot write to standard output: "
                             "No space left on device\n")


@pytest.mark.parametrize("command", ["report", "diff"])
def test_a_directory_as_the_output_file_is_named_in_the_error(command, tmp_path):
    args = [SCHEMA] if command == "report" else [SCHEMA, SCHEMA]
    result, _ = run_limited(command, *args, "-o", tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{tmp_path}: error: the output path is a directory\n")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("edit, expected", [
    (b"sise: 8", ["1:1: error: the schema is missing the required key 'size'",
                  "3:1: error: unknown key 'sise' in the schema"]),
    (b"size: 8.0", ["3:1: error: 'size' of the schema must be an integer, not a number with a "
                    "fraction"]),
    (b"size: '8'", ["3:1: error: 'size' of the schema must be an integer, not a string"]),
    (b"size: 0", ["3:1: error: the size must be positive, not 0"]),
], ids=["missing", "float", "string", "zero"])
def test_an_unusable_size_is_one_error_not_a_layout_mismatch_too(edit, expected, tmp_path):
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(SMALL.replace(b"size: 8", edit))
    result, _ = run_limited("check", schema)
    errors = [line.split(str(schema) + ":", 1)[1] for line in result.stderr.splitlines()
              if ": error: " in line]
    assert errors == expected, result.stderr


def test_a_full_file_system_is_named_in_the_hint_and_keeps_old_outputs(tmp_path, monkeypatch):
    """ENOSPC while staging the second output: nothing replaced, and the hint says why."""
    import errno

    from slotgen_lib import output

    out = tmp_path / "out"
    out.mkdir()
    status, err = slotgen_main("generate", SCHEMA, "-o", out, "-q")
    assert status == 0, err
    before = _tree(out)
    real_mkstemp, calls = output.tempfile.mkstemp, []

    def mkstemp_then_full(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    edited = tmp_path / "slot.yaml"
    edited.write_text(SCHEMA.read_text().replace("doc: ", "doc: changed ", 1))
    monkeypatch.setattr(output.tempfile, "mkstemp", mkstemp_then_full)
    status, err = slotgen_main("generate", edited, "-o", out, "-q")
    assert status == 1
    assert "cannot write the outputs: No space left on device" in err
    assert "hint: free some space on its file system" in err
    assert _tree(out) == before


def test_a_wrong_shaped_fields_value_never_lets_follow_on_errors_through(tmp_path):
    """'fields: 5' counts as no members and a type's refused member as one fewer: the
    counts must not cancel out into a 'whole' model whose layout adds errors of its own."""
    schema = tmp_path / "s.yaml"
    schema.write_bytes(SMALL.split(b"fields:")[0] + b"types:\n  t:\n    fields:\n"
                       b"      - {name: a, type: u8}\n      - {name: 2bad, type: u8}\n"
                       b"fields: 5\n")
    result, _ = run_limited("check", schema)
    assert_clear_refusal(result)
    assert "'fields' must be a list" in result.stderr
    assert "is not a valid C identifier" in result.stderr
    assert "computed size" not in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith("slotgen: 2 errors"), result.stderr
