"""Pure pieces of `slotgen diff`: byte ranges, the exit-status table, annotations."""
from __future__ import annotations

import pytest

from slotgen_lib import diff_format, diff_members
from slotgen_lib.diff_format import Result
from slotgen_lib.diff_model import Change


def test_byte_ranges_and_text():
    assert diff_members.byte_ranges({5, 1, 2, 3, 9, 10}) == [(1, 3), (5, 5), (9, 10)]
    assert diff_members.bytes_text({15}) == "byte 15"
    assert diff_members.bytes_text({1, 4, 5}) == "bytes 1, 4..5"


def _result(kinds: tuple[str, ...], old_abi=None, new_abi=None, allow=False) -> Result:
    changes = tuple(Change(k, "doc", "m", "", "", "new", 3, f"{k} thing") for k in kinds)
    return Result("a.yaml", "b.yaml", "s", old_abi, new_abi, allow, changes)


@pytest.mark.parametrize("kinds, old_abi, new_abi, allow, verdict, status", [
    ((), None, None, False, "none", 0),
    (("cosmetic",), None, None, False, "cosmetic", 0),
    (("semantic", "cosmetic"), None, None, False, "semantic", 4),
    (("compatible", "semantic"), None, None, False, "compatible", 4),
    (("breaking",), None, None, False, "breaking", 12),
    (("breaking",), 1, 1, False, "breaking", 12),
    (("breaking",), 2, 1, False, "breaking", 12),
    (("breaking",), 1, 2, False, "breaking-accepted", 4),
    (("breaking",), None, 1, False, "breaking-accepted", 4),
    (("breaking", "compatible"), 1, 1, True, "breaking-accepted", 4),
])
def test_verdict_and_exit_status(kinds, old_abi, new_abi, allow, verdict, status):
    result = _result(kinds, old_abi, new_abi, allow)
    assert (result.verdict, result.status) == (verdict, status)


def test_github_annotations_escape_and_levels():
    changes = (Change("breaking", "offset", "m", "1", "2", "new", 7, "50% moved,\nreally"),
               Change("semantic", "order", "m", "", "", "old", 0, "weaker"),
               Change("cosmetic", "doc", "m", "", "", "new", 2, "doc"))
    text = diff_format.github(Result("HEAD:x,y.yaml", "x,y.yaml", "s", None, None, False,
                                     changes))
    lines = text.splitlines()
    assert lines[0] == "::error file=x%2Cy.yaml,line=7,title=breaking layout change::" \
        "50%25 moved,%0Areally"
    assert lines[1] == "::warning file=x%2Cy.yaml,title=semantic layout change::weaker"
    assert not any("doc" in line for line in lines)
