"""The Rust view (`--lang rust`): it builds with rustc in a no_std crate, a Rust probe
prints the same offset table as the C probe, and every method carries exactly the
schema's memory orders.

rustc is found through $RUSTC, PATH or ~/.cargo/bin; Rust >= 1.85 is needed (1.77 for
core::mem::offset_of!, 1.85 for the edition-2024 build).  A machine without it fails
these tests with the fix.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import FIXTURES, SCHEMA, run_slotgen
from oracles import compiler_offsets, json_offsets, member_paths
from slotgen_lib.names import member_macro
from slotgen_lib.rust import camel, ident

MIXED = FIXTURES / "abi" / "mixed-abi.yaml"
MIN_RUSTC = (1, 85)  # the view needs 1.77 (offset_of!); the tests build an edition-2024 crate
# C11 memory_order_<x> -> Rust Ordering::<y>, written here independently of the generator.
ORDERING = {"relaxed": "Relaxed", "acquire": "Acquire", "release": "Release",
            "acq_rel": "AcqRel", "seq_cst": "SeqCst"}


def find_rustc() -> str:
    candidates = [os.environ.get("RUSTC"), shutil.which("rustc"),
                  str(Path.home() / ".cargo" / "bin" / "rustc")]
    for rustc in filter(None, candidates):
        if not os.access(rustc, os.X_OK):
            continue
        version = subprocess.run([rustc, "--version"], capture_output=True, text=True).stdout
        found = re.match(r"rustc (\d+)\.(\d+)", version)
        if found and tuple(map(int, found.groups())) >= MIN_RUSTC:
            return rustc
        pytest.fail(f"{rustc} is {version.strip() or 'unusable'}; the Rust view needs rustc >= "
                    f"{'.'.join(map(str, MIN_RUSTC))} (offset_of!, edition 2024). Install it with "
                    "rustup (https://rustup.rs) or point RUSTC at one.")
    pytest.fail("rustc was not found via $RUSTC, PATH or ~/.cargo/bin/rustc; install Rust >= "
                f"{'.'.join(map(str, MIN_RUSTC))} with rustup (https://rustup.rs) or set RUSTC.")


@pytest.fixture(scope="module")
def rustc() -> str:
    return find_rustc()


def _generate(schema: Path, out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    result = run_slotgen("generate", schema, "-o", out, "--lang", "c,rust", "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads(next(out.glob("*.layout.json")).read_text())
    struct = data["struct"]
    return {"dir": out, "json": out / f"{struct}.layout.json", "header": out / f"{struct}.h",
            "rs": out / f"{struct}.rs", "struct": struct, "data": data}


@pytest.fixture(scope="module", params=[SCHEMA, MIXED], ids=["slot", "mixed-abi"])
def gen(request, tmp_path_factory):
    return _generate(request.param, tmp_path_factory.mktemp(request.param.stem))


def _rustc(rustc: str, args: list[str]) -> None:
    result = subprocess.run([rustc, "--edition", "2021", "-D", "warnings", *args],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _probe_source(gen: dict) -> str:
    """A program printing the compiler's offset table and the generated constants."""
    struct, prefix = gen["struct"], gen["data"]["prefix"]
    rtype = camel(struct)
    lines = [f'#[path = "{gen["rs"]}"]', "#[allow(dead_code)]", f"mod {struct};",
             f"use {struct}::*;", "",
             "fn size_of_pointee<T>(_: *const T) -> usize {", "    core::mem::size_of::<T>()", "}",
             "", "fn main() {", f"    let slot = core::mem::MaybeUninit::<{rtype}>::uninit();",
             "    let base = slot.as_ptr();",
             f'    println!("<size> 0 {{}}", core::mem::size_of::<{rtype}>());',
             f'    println!("<align> 0 {{}}", core::mem::align_of::<{rtype}>());']
    for path in member_paths(gen["json"]):
        place = ".".join(ident(part) for part in path.split("."))
        const = member_macro(prefix, tuple(path.split(".")), "")
        lines += [f"    let p = unsafe {{ core::ptr::addr_of!((*base).{place}) }};",
                  f'    println!("{path} {{}} {{}}", p as usize - base as usize, '
                  "size_of_pointee(p));",
                  f'    println!("const {path} {{}} {{}}", {const}OFFSET, {const}SIZE);']
    lines += [f'    println!("const <size> 0 {{}}", {prefix}_SIZE);',
              f'    println!("const <align> 0 {{}}", {prefix}_ALIGN);', "}"]
    return "\n".join(lines) + "\n"


def _run_probe(rustc: str, gen: dict, workdir: Path) -> tuple[dict, dict]:
    src, exe = workdir / "probe.rs", workdir / "probe_rs"
    src.write_text(_probe_source(gen))
    _rustc(rustc, ["-o", str(exe), str(src)])
    measured, consts = {}, {}
    for line in subprocess.run([str(exe)], check=True, capture_output=True,
                               text=True).stdout.splitlines():
        words = line.split()
        table = consts if words[0] == "const" else measured
        path, offset, size = words[-3:]
        table[path] = (int(offset), int(size))
    return measured, consts


def test_rust_view_builds_in_a_no_std_crate(rustc, gen, tmp_path):
    lib = tmp_path / "lib.rs"
    lib.write_text(f'#![no_std]\n#[path = "{gen["rs"]}"]\npub mod {gen["struct"]};\n')
    _rustc(rustc, ["--crate-type", "lib", "--emit", "metadata", "-o",
                   str(tmp_path / "lib.rmeta"), str(lib)])


def test_rust_probe_prints_the_same_table_as_the_c_probe(rustc, gen, tmp_path):
    measured, consts = _run_probe(rustc, gen, tmp_path)
    c_table = compiler_offsets(gen["header"], gen["struct"], member_paths(gen["json"]),
                               ["gcc"], tmp_path)
    assert measured == c_table
    assert consts == json_offsets(gen["json"], "x86_64")
    assert len(measured) == len(member_paths(gen["json"])) + 2


def _methods(text: str) -> dict[str, list[str]]:
    """Generated method name -> the Ordering variants its body uses, in order."""
    pattern = re.compile(r"^    pub fn (?:r#)?(\w+)\(.*?\n    \}$", re.S | re.M)
    return {m.group(1): re.findall(r"Ordering::(\w+)", m.group(0)) for m in pattern.finditer(text)}


def test_rust_methods_carry_exactly_the_schemas_orders(gen):
    expected: dict[str, list[str]] = {}
    for member in gen["data"]["members"]:
        stem = member["path"].replace(".", "_")
        ops = member["ops"]
        for op, orders in ops.items():
            expected[f"{stem}_{op}"] = [ORDERING[o] for o in orders]
        for sub in member["bits"]:
            if member["atomic"]:
                load = ORDERING[ops["load"][0]]
                cas = [ORDERING[o] for o in ops["cas"]]
                expected[f"{stem}_{sub['name']}_get"] = [load]
                expected[f"{stem}_{sub['name']}_set"] = [load] + cas
            else:
                expected[f"{stem}_{sub['name']}_get"] = []
                expected[f"{stem}_{sub['name']}_set"] = []
    assert _methods(gen["rs"].read_text()) == expected


BEHAVIOUR = {
    "meta_slot": """
    let s: MetaSlot = unsafe { core::mem::zeroed() };
    s.meta_aux_owner_cpu_set(0x1_1234);
    s.meta_aux_numa_node_set(0xbeef);
    assert_eq!(s.meta_aux_owner_cpu_get(), 0x1234);
    assert_eq!(s.meta_aux_numa_node_get(), 0xbeef);
    assert_eq!(s.meta_aux_load(), 0xbeef_1234);
    s.refcount_store(META_SLOT_REFCOUNT_UNUSED);
    assert_eq!(s.refcount_cas(META_SLOT_REFCOUNT_UNUSED, 1), Ok(META_SLOT_REFCOUNT_UNUSED));
    assert_eq!(s.refcount_cas(META_SLOT_REFCOUNT_UNUSED, 2), Err(1));
    assert_eq!(s.flags_fetch_or(META_SLOT_FRAME_FLAGS_ALLOCATED), 0);
    assert_eq!(s.flags_load(), 1 << META_SLOT_FRAME_FLAGS_ALLOCATED_BIT);
""",
    "mixed_abi": """
    let mut s: MixedAbi = unsafe { core::mem::zeroed() };
    s.type_tag_set(0xa);
    s.type_kind_set(0x13);
    assert_eq!(s.type_load(), 0xa000_0003_u32 as i32);
    assert_eq!((s.type_tag_get(), s.type_kind_get()), (0xa, 3));
    s.stamp_epoch_set(0xff_ffff);
    assert_eq!(s.stamp, 0xffff_ff00_0000_0000);
    assert_eq!(s.owner_exchange(7), 0);
    assert_eq!(s.owner_cas(7, 9), Ok(7));
""",
}


def test_rust_accessors_behave(rustc, gen, tmp_path):
    src, exe = tmp_path / "behave.rs", tmp_path / "behave"
    src.write_text(f'#[path = "{gen["rs"]}"]\n#[allow(dead_code)]\nmod {gen["struct"]};\n'
                   f"use {gen['struct']}::*;\n\nfn main() {{{BEHAVIOUR[gen['struct']]}}}\n")
    _rustc(rustc, ["-C", "debug-assertions", "-o", str(exe), str(src)])
    subprocess.run([str(exe)], check=True, capture_output=True, text=True)


def test_rust_view_of_random_schemas_compiles_with_its_asserts(rustc, tmp_path):
    """Random valid schemas (tests/codegen/strategies.py): every generated file builds in one
    no_std crate, so rustc's x86_64 layout matches each schema's numbers (the const asserts)."""
    from hypothesis import HealthCheck, given, settings

    from slotgen_lib import pipeline, rust
    from slotgen_lib.errors import SlotgenError
    from strategies import valid_schemas

    drawn = []

    @settings(max_examples=60, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(valid_schemas(max_members=16))
    def collect(schema) -> None:
        if "x86_64" in schema.targets:
            drawn.append(schema)

    collect()
    mods = ["#![no_std]"]
    for i, schema in enumerate(drawn):
        try:
            layout = pipeline.analyse_text(f"random{i}.yaml", schema.text.encode())
        except SlotgenError:
            continue  # the strategy's validity is test_properties.py's concern, not this one's
        (_, text), = rust.render(layout).items()
        (tmp_path / f"random{i}.rs").write_text(text)
        (tmp_path / f"random{i}.yaml").write_text(schema.text)
        mods.append(f'#[path = "random{i}.rs"]\npub mod random{i};')
    assert len(mods) > 10, f"only {len(mods) - 1} of the drawn schemas were valid"
    (tmp_path / "lib.rs").write_text("\n".join(mods) + "\n")
    _rustc(rustc, ["--crate-type", "lib", "--emit", "metadata", "-o",
                   str(tmp_path / "lib.rmeta"), str(tmp_path / "lib.rs")])


SIGNED_TOP_BITS = """schema: 1
struct: sg
size: 16
targets: [x86_64]
fields:
  - {name: a, type: i8, flag_set: s8}
  - {name: _r0, type: "u8[1]", reserved: true}
  - {name: b, type: i16, flag_set: s16}
  - {name: c, type: i32, flag_set: s32}
  - {name: d, type: i64, flag_set: s64}
flag_sets:
  s8: {type: i8, values: {LOW: {bit: 0}, TOP: {bit: 7}}}
  s16: {type: i16, values: {TOP: {bit: 15}}}
  s32: {type: i32, values: {TOP: {bit: 31}}}
  s64: {type: i64, values: {TOP: {bit: 63}}}
"""


def test_signed_flag_sets_keep_their_top_bit_in_rust(rustc, tmp_path):
    """A flag on a signed set's top bit is that type's minimum (its bit pattern), checked by
    rustc against values computed here, and the same value the C header has."""
    schema = tmp_path / "sg.yaml"
    schema.write_text(SIGNED_TOP_BITS)
    gen = _generate(schema, tmp_path / "out")
    checks = [f"const _: () = assert!(SG_{name}_TOP == {rtype}::MIN);"
              for name, rtype in (("S8", "i8"), ("S16", "i16"), ("S32", "i32"), ("S64", "i64"))]
    checks.append("const _: () = assert!(SG_S8_LOW == 1 && SG_S8_ALL == -127);")
    lib = tmp_path / "lib.rs"
    lib.write_text(f'#![no_std]\n#[path = "{gen["rs"]}"]\n#[allow(dead_code)]\nmod sg;\n'
                   "use sg::*;\n" + "\n".join(checks) + "\n")
    _rustc(rustc, ["--crate-type", "lib", "--emit", "metadata", "-o",
                   str(tmp_path / "lib.rmeta"), str(lib)])
    probe = tmp_path / "probe.c"
    probe.write_text('#include "sg.h"\n_Static_assert(SG_S8_TOP == -128 && SG_S8_ALL == -127 && '
                     'SG_S64_TOP == INT64_MIN, "C agrees");\n')
    compiled = subprocess.run(["gcc", "-std=c11", "-fsyntax-only", f"-I{gen['dir']}", str(probe)],
                              capture_output=True, text=True)
    assert compiled.returncode == 0, compiled.stderr


def test_schema_names_in_any_case_build_without_warnings(rustc, tmp_path):
    """Names are kept as the schema writes them (a C header's names): an upper-case member,
    a lower-case constant-like type and a flag set in capitals must not warn under -D
    warnings, which the Rust probe builds use."""
    schema = tmp_path / "case.yaml"
    schema.write_text("schema: 1\nstruct: Mixed_Case\nprefix: MC\nsize: 8\ntargets: [x86_64]\n"
                      "types:\n  Pair_T: {fields: [{name: Lo, type: u16},\n"
                      "                     {name: Hi, type: u16}]}\n"
                      "fields:\n  - {name: COUNT, type: atomic u32, flag_set: STATE,\n"
                      "     ops: {load: acquire, store: release}}\n"
                      "  - {name: pair, type: Pair_T}\n"
                      "flag_sets:\n  STATE: {type: u32, values: {ON: {bit: 0}}}\n")
    gen = _generate(schema, tmp_path / "out")
    lib = tmp_path / "lib.rs"
    lib.write_text(f'#![no_std]\n#[path = "{gen["rs"]}"]\npub mod mixed;\n'
                   "pub fn use_it(s: &mixed::MixedCase) -> u32 { s.COUNT_load() }\n")
    _rustc(rustc, ["--crate-type", "lib", "--emit", "metadata", "-o",
                   str(tmp_path / "lib.rmeta"), str(lib)])


def test_a_struct_named_like_an_import_it_does_not_need_builds(rustc, tmp_path):
    """`ordering` is refused only when the view imports Ordering (it has atomic members);
    without them the struct Ordering builds (rustc is the judge)."""
    plain = tmp_path / "plain.yaml"
    plain.write_text("schema: 1\nstruct: ordering\nprefix: P\nsize: 4\nfields:\n"
                     "  - {name: a, type: u32}\n")
    gen = _generate(plain, tmp_path / "out")
    lib = tmp_path / "lib.rs"
    lib.write_text(f'#![no_std]\n#[path = "{gen["rs"]}"]\npub mod ordering;\n')
    _rustc(rustc, ["--crate-type", "lib", "--emit", "metadata", "-o",
                   str(tmp_path / "lib.rmeta"), str(lib)])
    atomic = tmp_path / "atomic.yaml"
    atomic.write_text(plain.read_text().replace("type: u32", "type: atomic u32"))
    refused = run_slotgen("check", atomic)
    assert refused.returncode == 1
    assert "the struct is 'Ordering' in the Rust view" in refused.stderr


def test_target_cfgs_name_the_architectures_rustc_knows(rustc, gen):
    """Each per-target item is under the target_arch rustc itself reports for that ABI
    (i386 is "x86" to Rust): a wrong name would silently drop the item on that target."""
    triples = {"x86_64": "x86_64-unknown-linux-gnu", "i386": "i686-unknown-linux-gnu",
               "aarch64": "aarch64-unknown-linux-gnu"}
    arch = {}
    for target, triple in triples.items():
        cfg = subprocess.run([rustc, "--print", "cfg", "--target", triple], check=True,
                             capture_output=True, text=True).stdout
        arch[target] = re.search(r'^target_arch="(\w+)"$', cfg, re.M).group(1)
    named = set(re.findall(r'target_arch = "(\w+)"', gen["rs"].read_text()))
    assert named, "no per-target item in the Rust view"
    # Every target of the schema is named, and nothing else.
    assert named == {arch[target] for target in gen["data"]["targets"]}, (named, arch)


def test_names_reserved_in_later_rust_editions_are_raw(rustc, tmp_path):
    """`gen` is a keyword from edition 2024 on: members named so must be raw
    identifiers for the view to build in a 2024 crate."""
    schema = tmp_path / "gen.yaml"
    schema.write_text("schema: 1\nstruct: s\nprefix: S\nsize: 8\ntargets: [x86_64]\nfields:\n"
                      "  - {name: gen, type: atomic u32, ops: {load: acquire}}\n"
                      "  - {name: try, type: u32}\n")
    gen = _generate(schema, tmp_path / "out")
    text = gen["rs"].read_text()
    assert "r#gen" in text and "r#try" in text
    lib = tmp_path / "lib.rs"
    lib.write_text(f'#![no_std]\n#[path = "{gen["rs"]}"]\npub mod s;\n'
                   "pub fn use_it(x: &s::S) -> u32 { x.r#gen_load() + x.r#try }\n")
    result = subprocess.run([rustc, "--edition", "2024", "-D", "warnings", "--crate-type", "lib",
                             "--emit", "metadata", "-o", str(tmp_path / "lib.rmeta"), str(lib)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
