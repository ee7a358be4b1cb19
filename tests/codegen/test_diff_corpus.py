"""The classification corpus: every pair under diff_corpus/ with its expected
classes and exit status (see diff_corpus/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from slotgen_lib import cli

CORPUS = Path(__file__).resolve().parent / "diff_corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "case.json").is_file())
KINDS = ("breaking", "compatible", "semantic", "cosmetic")
# Removals name the line in OLD; everything else the line in NEW.
OLD_SIDE = {"member-removed", "bits-removed", "constant-removed", "flag-removed",
            "flag-set-removed", "target-removed"}


def _diff(monkeypatch, capsys, *argv: str) -> tuple[int, dict]:
    monkeypatch.chdir(CORPUS)
    status = cli.main(["diff", "--format", "json", *argv])
    captured = capsys.readouterr()
    assert captured.err == ""
    return status, json.loads(captured.out)


def _line(change: dict) -> str:
    where = [f"on {','.join(change['targets'])}"] if change["targets"] else []
    return " ".join([change["class"], change["what"], change["subject"], *where])


def test_corpus_is_big_enough_and_covers_every_class():
    assert len(CASES) >= 30
    seen = set()
    statuses = set()
    for name in CASES:
        case = json.loads((CORPUS / name / "case.json").read_text())
        seen.update(line.split()[0] for line in case["changes"])
        statuses.add(case["status"])
        assert case["description"]
    assert seen == set(KINDS)
    assert statuses == {0, 4, 12}


@pytest.mark.parametrize("name", CASES)
def test_corpus_case(name, monkeypatch, capsys):
    case = json.loads((CORPUS / name / "case.json").read_text())
    old = str(Path(name, case["old"]))
    status, result = _diff(monkeypatch, capsys, *case["args"], old, f"{name}/new.yaml")
    assert [_line(c) for c in result["changes"]] == case["changes"]
    assert status == case["status"] == result["exit_status"]
    for change in result["changes"]:
        assert change["line"] > 0, change
        assert change["file"] == (old if change["what"] in OLD_SIDE else
                                  f"{name}/new.yaml"), change


# What each kind of change is when the diff runs the other way; kinds not
# named here are their own inverse (an offset, an order, a doc, ...).
INVERSE = {"member-added": "member-removed", "bits-added": "bits-removed",
           "constant-added": "constant-removed", "flag-added": "flag-removed",
           "flag-bit-added": "flag-bit-removed", "flag-set-added": "flag-set-removed",
           "op-added": "op-removed", "reserved-grown": "reserved-shrunk",
           "target-added": "target-removed"}
INVERSE.update({removed: added for added, removed in list(INVERSE.items())})
# A rename names the new name, which the other way round is the old one.
RENAMES = {"member-renamed", "bits-renamed"}


def _kind(what: str, subject: str) -> tuple[str, str]:
    return what, "(renamed)" if what in RENAMES else subject


def _reversed_kind(what: str, subject: str) -> tuple[str, str]:
    return _kind(INVERSE.get(what, what), subject)


# Cases whose OLD is a schema (a layout JSON's reverse is covered by the schema cases).
REVERSIBLE = [name for name in CASES if not json.loads(
    (CORPUS / name / "case.json").read_text())["old"].endswith(".json")]


@pytest.mark.parametrize("name", REVERSIBLE)
def test_corpus_reverse_is_the_inverse(name, monkeypatch, capsys):
    """NEW -> OLD is classified too: every change comes back as its inverse (a carve
    reversed is a removal, and so on), on the same subject."""
    case = json.loads((CORPUS / name / "case.json").read_text())
    status, result = _diff(monkeypatch, capsys, f"{name}/new.yaml", str(Path(name, case["old"])))
    # Every forward change comes back as its inverse, on the same subject.
    expected = sorted(_reversed_kind(*line.split()[1:3]) for line in case["changes"])
    assert sorted(_kind(c["what"], c["subject"]) for c in result["changes"]) == expected, result
    forward = {c.split()[0] for c in case["changes"]}
    backward = {c["class"] for c in result["changes"]}
    if "compatible" in forward and "breaking" not in forward:
        # Undoing an addition removes something: always breaking.
        assert "breaking" in backward, result
    elif forward <= {"semantic", "cosmetic"}:
        assert backward == forward and status == case["status"], result
    assert status in (0, 4, 12)
