"""Typed, located access to the mappings of a loaded schema (no schema rules here)."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from .errors import Collector, Loc, closest, describe_char
from .yamlload import YList, YMap

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Alignas _Alignof _Atomic _Bool _Complex _Generic
_Imaginary _Noreturn _Static_assert _Thread_local
asm typeof
alignas alignof constexpr nullptr static_assert thread_local typeof_unqual _BitInt
_Decimal32 _Decimal64 _Decimal128
""".split())  # C11, the GNU dialect's asm and typeof (kernels build with -std=gnu11), C23
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
MAX_NAME = 63
_MISSING = object()


class Reader:
    """Reads keys of YMaps, reporting wrong kinds and unknown keys to a Collector."""

    def __init__(self, path: str, errors: Collector) -> None:
        self.path = path
        self.errors = errors

    def loc(self, node: Any, key: str | None = None) -> Loc:
        if isinstance(node, YMap) and key is not None and key in node.key_locs:
            return node.key_locs[key]
        return getattr(node, "loc", Loc(self.path))

    def mapping(self, node: Any, where: Loc, what: str) -> YMap | None:
        if isinstance(node, YMap):
            return node
        self.errors.error(where, f"{what} must be a mapping, not {_kind(node)}")
        return None

    def sequence(self, node: Any, where: Loc, what: str) -> YList | None:
        if isinstance(node, YList):
            return node
        self.errors.error(where, f"{what} must be a list, not {_kind(node)}")
        return None

    def keys(self, node: YMap, allowed: tuple[str, ...], required: tuple[str, ...],
             what: str) -> None:
        for key in node:
            if key not in allowed:
                near = closest(key, list(allowed))
                hint = f"did you mean '{near}'?" if near else "valid keys: " + ", ".join(allowed)
                self.errors.error(node.key_locs[key], f"unknown key '{key}' in {what}", hint)
        for key in required:
            if key not in node:
                self.errors.error(node.loc, f"{what} is missing the required key '{key}'")

    def get(self, node: YMap, key: str, kind: type, what: str, default: Any = None) -> Any:
        value = node.get(key, _MISSING)
        if value is _MISSING:
            return default
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            self.errors.error(self.loc(node, key),
                              f"'{key}' of {what} must be an integer, not {_kind(value)}")
            return default
        if kind is not int and not isinstance(value, kind):
            self.errors.error(self.loc(node, key),
                              f"'{key}' of {what} must be {_article(kind)}, not {_kind(value)}")
            return default
        return value

    def doc(self, node: YMap, what: str) -> str:
        text = self.get(node, "doc", str, what, "")
        bad = next((c for c in text if _unsafe_in_doc(c)), None)
        if bad is not None:
            self.errors.error(self.loc(node, "doc"),
                              f"the doc of {what} contains {describe_char(bad)}",
                              "doc text may hold newlines and tabs but no other control, "
                              "line-separator, bidirectional-override or surrogate character")
            return ""
        return text

    def identifier(self, name: Any, where: Loc, what: str, pattern: str | None = None) -> bool:
        """Report why `name` cannot be used as a C identifier; True if it can."""
        if not isinstance(name, str):
            self.errors.error(where, f"{what} must be a string, not {_kind(name)}")
            return False
        if not _IDENT.match(name) or not name.isascii():
            self.errors.error(where, f"{what} '{name}' is not a valid C identifier",
                              "use ASCII letters, digits and '_', not starting with a digit")
            return False
        if name in C_KEYWORDS:
            self.errors.error(where, f"{what} '{name}' is a C keyword", "choose another name")
            return False
        if name.startswith("__") or (len(name) > 1 and name[0] == "_" and name[1].isupper()):
            self.errors.error(where, f"{what} '{name}' is reserved in C (starts with '__' or '_' "
                              "and a capital)", "drop the leading underscores")
            return False
        if len(name) > MAX_NAME:
            self.errors.error(where, f"{what} is {len(name)} characters long; the limit is "
                              f"{MAX_NAME}")
            return False
        if pattern and not re.fullmatch(pattern, name):
            self.errors.error(where, f"{what} '{name}' must match {pattern}")
            return False
        return True


# Characters that reorder how source text is displayed: compilers warn about them in
# comments (gcc -Wbidi-chars, rustc's text_direction_codepoint_in_comment).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                           "\u2066\u2067\u2068\u2069")


def _unsafe_in_doc(char: str) -> bool:
    """Whether a doc character cannot go into a generated comment as it is."""
    if char in "\n\t":
        return False
    return unicodedata.category(char) in ("Cc", "Cs", "Zl", "Zp") or char in _BIDI_CONTROLS


# What a YAML value is called in messages; bool before int, as bool is an int.
_KINDS = ((bool, "a boolean"), (int, "an integer"), (float, "a number with a fraction"),
          (str, "a string"), (list, "a list"), (dict, "a mapping"), (type(None), "empty"))


def _kind(value: Any) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)),
                type(value).__name__)


def _article(kind: type) -> str:
    return {str: "a string", bool: "true or false", int: "an integer"}.get(kind, kind.__name__)
