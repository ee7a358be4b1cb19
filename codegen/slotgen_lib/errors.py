"""One error type for every problem a user can fix: file, line, column, message."""
from __future__ import annotations

import unicodedata

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Loc:
    """A position in an input file (1-based line and column; 0 = unknown)."""

    path: str
    line: int = 0
    col: int = 0

    def __str__(self) -> str:
        if self.line:
            return f"{self.path}:{self.line}:{self.col}"
        return self.path


@dataclass(frozen=True)
class Diagnostic:
    loc: Loc
    message: str
    hint: str = ""
    severity: str = "error"

    def format(self) -> str:
        text = f"{self.loc}: {self.severity}: {self.message}"
        if self.hint:
            text += f"\n{self.loc}: hint: {self.hint}"
        return text


@dataclass
class SlotgenError(Exception):
    """Raised with every diagnostic collected by a stage."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(d.format() for d in self.diagnostics)


class Collector:
    """Collects diagnostics so one run reports every problem at once."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []
        self.seen: set[Diagnostic] = set()  # constant-time duplicate check for huge inputs

    def error(self, loc: Loc, message: str, hint: str = "") -> None:
        diag = Diagnostic(loc, message, hint)
        if diag not in self.seen:
            self.seen.add(diag)
            self.items.append(diag)

    def raise_if_any(self) -> None:
        if self.items:
            ordered = sorted(self.items, key=lambda d: (d.loc.path, d.loc.line, d.loc.col))
            raise SlotgenError(ordered)


def closest(word: str, choices: list[str]) -> str:
    """The valid choice nearest to a misspelt word, or '' if none is close."""
    import difflib

    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else ""


def describe_char(char: str) -> str:
    """A character named for a message: "the character U+202E (RIGHT-TO-LEFT OVERRIDE)"."""
    name = unicodedata.name(char, "")
    if not name and unicodedata.category(char) == "Cc":
        name = "control character"
    return f"the character U+{ord(char):04X}" + (f" ({name})" if name else "")
