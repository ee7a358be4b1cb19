"""Every validation rule: the message names file, line and column and says what is wrong."""
from __future__ import annotations

import pytest

from conftest import FIXTURES

BAD = FIXTURES / "bad"

# fixture -> (line:col, the whole error message) of its first error
EXPECTED = {
    "yaml-syntax": ("6:1", "YAML syntax error: expected ',' or '}', but got '<stream end>'"),
    "unknown-key": ("7:5", "unknown key 'ofset' in a member of the struct"),
    "missing-key": ("1:1", "the schema is missing the required key 'size'"),
    "duplicate-member": ("6:6", "duplicate member name 'a' in the struct (first declared at "
                                "line 5)"),
    "invalid-identifier": ("5:6", "the member name '2fast' is not a valid C identifier"),
    "c-keyword": ("5:6", "the member name 'volatile' is a C keyword"),
    "unknown-type": ("5:15", "unknown type 'u46' for member 'a'"),
    "atomic-misaligned": ("7:6", "'count' (atomic u32) at offset 2 is not 4-byte aligned"),
    "overlap": ("6:26", "'b' is pinned at offset 4, which overlaps 'a' (it ends at offset 8)"),
    "pin-mismatch": ("6:26", "'b' is pinned at offset 8, but its computed offset is 4"),
    "implicit-hole": ("6:6", "implicit hole: the compiler adds 4 bytes of padding at offset 4 "
                             "before 'b' (u64, 8-byte aligned) (on x86_64, aarch64)"),
    "tail-padding": ("6:6", "implicit hole: the compiler adds 4 bytes of tail padding after 'b' "
                            "at offset 12 of struct s"),
    "size-mismatch": ("3:1", "the computed size of struct s is 8 bytes, but 'size' says 64"),
    "op-on-plain": ("7:5", "member 'a' is not atomic but has ops"),
    "store-acquire": ("7:11", "C11 forbids memory order 'acquire' for op 'store' of member 'a'"),
    "load-release": ("7:11", "C11 forbids memory order 'acq_rel' for op 'load' of member 'a'"),
    "cas-failure-stronger": ("7:11", "the cas failure order 'acquire' is stronger than the success "
                                     "order 'relaxed' (C11 7.17.7.4) in op 'cas' of member 'a'"),
    "cas-failure-release": ("7:11", "a cas failure order cannot be 'release' (C11 7.17.7.4) in op "
                                    "'cas' of member 'a'"),
    "bits-overlap": ("9:10", "sub-field 'hi' of member 'a' [8, 16) overlaps 'lo' [0, 12)"),
    "bits-too-wide": ("8:10", "sub-field 'lo' of member 'a' covers bits [10, 18), outside the 16 "
                              "bits of u16"),
    "constant-too-big": ("7:22", "the value 0x10000 of constant 'LIMIT' does not fit u16 "
                                 "(0x0..0xffff)"),
    "flag-too-big": ("10:14", "bit 32 of flag 'HIGH' of flag set 'state' does not fit u32"),
    "duplicate-flag-bit": ("11:14", "flags 'READY' and 'DONE' of flag set 'state' use the same "
                                    "bit 3"),
    "name-collision": ("7:3", "the generated name 'S_REFCOUNT_SIZE' of constant 'REFCOUNT_SIZE' "
                              "collides with the same name generated for member 'refcount'"),
    "duplicate-yaml-key": ("4:1", "duplicate key 'size' (first given at line 3)"),
    "align-mismatch": ("5:1", "alignof(struct s) is 8, but 'align' says 16"),
    "array-length-zero": ("8:5", "the array length of member 'z' must be 1..65536, not 0"),
    "bits-one-bit-too-wide": ("8:10", "sub-field 'lo' of member 'a' covers bits [10, 17), outside "
                                      "the 16 bits of u16"),
    "array-align-not-power-of-two": ("4:1", "'array_align' must be a power of two, not 48"),
    "atomic-bits-without-cas": ("8:5", "the bit sub-fields of atomic member 'w' need a 'cas' op "
                                       "for their _set accessors"),
    "flag-named-all": ("11:7", "the generated name 'S_BITS_ALL' of flag 'bits.ALL' collides "
                               "with the same name generated for flag set 'bits' (its ALL mask)"),
}

HINTS = {
    "unknown-key": "did you mean 'offset'?",
    "unknown-type": "did you mean 'u64'?",
    "atomic-misaligned": "declare {name: _reserved_count, type: u8[2], reserved: true} before "
                         "'count'",
    "implicit-hole": "declare {name: _reserved_b, type: u8[4], reserved: true} before 'b'",
    "pin-mismatch": "declare 4 reserved bytes before it",
    "cas-failure-release": "use [acq_rel, acquire]",
    "atomic-bits-without-cas": "add 'cas' to the ops of 'w'",
}


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_validation_rule_reports_file_line_and_problem(slotgen, rule, tmp_path):
    path = BAD / f"{rule}.yaml"
    result = slotgen("generate", path, "-o", tmp_path)
    position, message = EXPECTED[rule]
    assert result.returncode == 1
    assert f"{path}:{position}: error: {message}\n" in result.stderr
    if rule in HINTS:
        assert f"{path}:{position}: hint: {HINTS[rule]}\n" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == [], "a failed generation must write nothing"


def test_every_fixture_is_covered():
    assert sorted(p.stem for p in BAD.glob("*.yaml")) == sorted([*EXPECTED, "several-errors"])


def test_several_errors_are_reported_in_one_run(slotgen):
    path = BAD / "several-errors.yaml"
    result = slotgen("check", path)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert errors == [
        f"{path}:7:6: error: implicit hole: the compiler adds 4 bytes of padding at offset 4 "
        "before 'b' (u64, 8-byte aligned)",
        f"{path}:10:5: error: member 'c' is not atomic but has ops",
        f"{path}:11:26: error: unknown flag set 'state_flags' for member 'd'",
    ]
    assert result.stderr.rstrip().endswith("slotgen: 3 errors")


def test_check_accepts_the_project_schema(slotgen):
    from conftest import SCHEMA

    result = slotgen("check", SCHEMA)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert "ok: struct meta_slot, 12 members" in result.stdout


def test_missing_schema_file_is_a_clear_error(slotgen, tmp_path):
    result = slotgen("check", tmp_path / "nope.yaml")
    assert result.returncode == 1
    assert result.stderr.startswith(f"{tmp_path / 'nope.yaml'}: error: cannot read the schema: "
                                    "No such file or directory")


def test_usage_error_exits_2(slotgen):
    result = slotgen("generate")
    assert result.returncode == 2
    assert "usage:" in result.stderr
