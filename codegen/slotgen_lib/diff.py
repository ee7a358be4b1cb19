"""`slotgen diff OLD NEW`: classify layout changes and apply the abi_version policy.

Exit status (abidiff's bit convention):
  0   no change, or doc text only
  1   input error (unreadable file, invalid schema, unknown git revision)
  2   usage error
  4   a layout change that is not breaking, or a breaking change accepted because
      abi_version was bumped or --allow-breaking was given
  12  (8 | 4) a breaking change without an abi_version bump: the CI gate fails
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Callable

from . import diff_format, diff_input, diff_rules, output
from .diff_format import Result
from .diff_model import Snapshot
from .errors import Diagnostic, SlotgenError

FORMATS = ("text", "json", "markdown", "github", "svg")


def register(sub: argparse._SubParsersAction) -> Callable[[argparse.Namespace], int]:
    p = sub.add_parser(
        "diff", help="classify layout changes between two schemas",
        description="Compare two layouts. OLD and NEW are each a schema, a layout JSON "
                    "written by 'slotgen generate', or REV:PATH read with 'git show'.",
        epilog="exit status: 0 no change or doc only, 1 input error, 2 usage error, "
               "4 non-breaking (or accepted breaking) change, 12 breaking change without "
               "an abi_version bump (bit 8 set)")
    p.add_argument("old", metavar="OLD")
    p.add_argument("new", metavar="NEW")
    p.add_argument("--format", choices=FORMATS, default="text",
                   help="text (default), json, markdown, github (workflow annotations), svg")
    p.add_argument("--allow-breaking", action="store_true",
                   help="accept breaking changes without an abi_version bump (exit 4)")
    p.add_argument("--target", default=None,
                   help="target drawn by --format svg (default: the first target)")
    p.add_argument("-o", "--output", metavar="FILE", default=None,
                   help="write the output to FILE instead of standard output")
    return run


def classify(old: Snapshot, new: Snapshot, allow_breaking: bool = False) -> Result:
    local = {"old": old.lines_are_local, "new": new.lines_are_local}
    changes = tuple(c if local[c.side] else replace(c, line=0)
                    for c in diff_rules.changes(old, new))
    return Result(old.label, new.label, new.struct, old.abi_version, new.abi_version,
                  allow_breaking, changes)


def compute(old_arg: str, new_arg: str, allow_breaking: bool = False) -> Result:
    """Load both sides (errors of both reported together) and classify."""
    return classify(*load_pair(old_arg, new_arg), allow_breaking)


def load_pair(old_arg: str, new_arg: str) -> tuple[Snapshot, Snapshot]:
    sides: list[Snapshot] = []
    problems: list[Diagnostic] = []
    for arg in (old_arg, new_arg):
        try:
            sides.append(diff_input.load(arg))
        except SlotgenError as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise SlotgenError(problems)
    return sides[0], sides[1]


def run(args: argparse.Namespace) -> int:
    old, new = load_pair(args.old, args.new)
    result = classify(old, new, args.allow_breaking)
    args.verdict = result.status  # the exit status even if the output's reader goes away
    if args.target is not None and new.target(args.target) is None:
        print(f"slotgen: error: unknown --target {args.target!r}; choose from "
              f"{', '.join(t.target for t in new.targets)}", file=sys.stderr)
        return 2
    if args.format == "svg":
        from . import svg_diff

        text = svg_diff.render(old, new, result, args.target)
    else:
        text = {"text": diff_format.text, "json": diff_format.as_json,
                "markdown": diff_format.markdown, "github": diff_format.github}[args.format](result)
    output.emit(text, args.output)
    return result.status
