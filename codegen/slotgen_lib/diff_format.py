"""Render a diff result as text, JSON, Markdown or GitHub workflow annotations."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import diff_input, render
from .diff_model import KINDS, Change

JSON_FORMAT = 1


@dataclass(frozen=True)
class Result:
    """A classified diff and the verdict of the abi_version policy."""

    old: str
    new: str
    struct: str
    old_abi: int | None
    new_abi: int | None
    allow_breaking: bool
    changes: tuple[Change, ...]

    @property
    def bumped(self) -> bool:
        return self.new_abi is not None and (self.old_abi is None or self.new_abi > self.old_abi)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    @property
    def verdict(self) -> str:
        """none, cosmetic, compatible, semantic, breaking-accepted or breaking."""
        if self.count("breaking"):
            return "breaking-accepted" if self.allow_breaking or self.bumped else "breaking"
        for kind in ("compatible", "semantic", "cosmetic"):
            if self.count(kind):
                return kind
        return "none"

    @property
    def status(self) -> int:
        """abidiff's bits: 4 a layout change, 8 (always with 4) a rejected breaking change."""
        return {"none": 0, "cosmetic": 0, "breaking": 12}.get(self.verdict, 4)


def file_of(result: Result, change: Change) -> str:
    return result.new if change.side == "new" else result.old


def where(result: Result, change: Change) -> str:
    path = file_of(result, change)
    return f"{path}:{change.line}" if change.line else path


def on_targets(change: Change) -> str:
    return f" (on {', '.join(change.targets)})" if change.targets else ""


def summary(result: Result) -> str:
    counts = ", ".join(f"{result.count(k)} {k}" for k in KINDS)
    return f"{result.old} -> {result.new}: {counts}"


def verdict_text(result: Result) -> str:
    abi = f"abi_version {_abi(result.old_abi)} -> {_abi(result.new_abi)}"
    return {
        "none": "no layout change",
        "cosmetic": "doc text only; no layout change",
        "compatible": "compatible: existing binaries keep working",
        "semantic": "same bytes, different contract: review the semantic changes",
        "breaking-accepted": f"breaking, accepted ({'--allow-breaking' if not result.bumped else abi})",
        "breaking": f"breaking change without an abi_version bump ({abi}): rejected",
    }[result.verdict]


def _abi(value: int | None) -> str:
    return "unset" if value is None else str(value)


def text(result: Result) -> str:
    lines = [f"{where(result, c)}: {c.kind}: {c.message}{on_targets(c)}" for c in result.changes]
    lines.append(f"slotgen diff: {summary(result)}")
    lines.append(f"slotgen diff: {verdict_text(result)}")
    if result.verdict == "breaking":
        lines.append("slotgen diff: hint: bump abi_version in the new schema, or pass "
                     "--allow-breaking")
    return "\n".join(lines) + "\n"


def as_json(result: Result) -> str:
    document: dict[str, Any] = {
        "format": JSON_FORMAT, "old": result.old, "new": result.new, "struct": result.struct,
        "abi_version": {"old": result.old_abi, "new": result.new_abi, "bumped": result.bumped},
        "allow_breaking": result.allow_breaking,
        "counts": {k: result.count(k) for k in KINDS},
        "verdict": result.verdict, "exit_status": result.status,
        "changes": [{"class": c.kind, "what": c.what, "subject": c.subject, "old": c.old,
                     "new": c.new, "file": file_of(result, c), "line": c.line,
                     "targets": list(c.targets), "message": c.message}
                    for c in result.changes],
    }
    return json.dumps(document, indent=2) + "\n"


def _escape(value: str, prop: bool = False) -> str:
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if prop else value


def github(result: Result) -> str:
    """Workflow commands: ::error for rejected breaking changes, ::warning for semantic
    changes and accepted breaking ones, ::notice for compatible ones."""
    lines = []
    for c in result.changes:
        if c.kind == "breaking":
            level = "error" if result.verdict == "breaking" else "warning"
        else:
            level = {"semantic": "warning", "compatible": "notice"}.get(c.kind)
        if level is None:
            continue
        path, line = file_of(result, c), c.line
        if c.side == "old" and diff_input.is_git_spec(path):
            # A removal's line is in OLD at REV, not in the checked-out file: annotate NEW.
            path, line = result.new, 0
        path = path.partition(":")[2] if diff_input.is_git_spec(path) else path
        props = f"file={_escape(path, True)}" + (f",line={line}" if line else "")
        title = _escape(f"{c.kind} layout change", True)
        lines.append(f"::{level} {props},title={title}::{_escape(c.message + on_targets(c))}")
    lines.append(f"slotgen diff: {summary(result)}")
    lines.append(f"slotgen diff: {verdict_text(result)}")
    return "\n".join(lines) + "\n"


def markdown(result: Result) -> str:
    rows = [{"kind": c.kind, "where": where(result, c), "message": _md(c.message + on_targets(c))}
            for c in result.changes]
    env = render.environment()
    return env.get_template("diff.md.j2").render(
        old=result.old, new=result.new, struct=result.struct, rows=rows,
        counts=[(k, result.count(k)) for k in KINDS], verdict=verdict_text(result),
        rejected=result.verdict == "breaking")


def _md(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
