"""Load a YAML file into plain values that remember where each one was written.

Mappings become `YMap` and sequences `YList`; both keep the location of
themselves, of their keys and of their items, so later stages can point at the
exact line of a problem.  Duplicate keys, YAML tags, oversized files and
alias expansion bombs are refused here with a located error.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

from .errors import Diagnostic, Loc, SlotgenError, describe_char

MAX_FILE_BYTES = 1 << 20
MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_INT_BITS = 256  # far beyond any schema value; keeps every number printable

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}


class _ExplicitTag(Exception):
    """A node written with a tag ('!!int 5', '!foo x'): schemas allow none."""

    def __init__(self, tag: str, mark: Any) -> None:
        super().__init__(tag)
        self.tag = tag
        self.mark = mark


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing every explicit tag before it is resolved."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        tag = getattr(event, "tag", None)
        if tag is not None and not isinstance(event, yaml.AliasEvent):
            raise _ExplicitTag(tag, event.start_mark)
        return super().compose_node(parent, index)


class YMap(dict):
    """A mapping with the location of itself and of each key."""

    loc: Loc
    key_locs: dict[str, Loc]


class YList(list):
    """A sequence with the location of itself and of each item."""

    loc: Loc
    item_locs: list[Loc]


def _fail(loc: Loc, message: str, hint: str = "") -> SlotgenError:
    return SlotgenError([Diagnostic(loc, message, hint)])


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _mark_loc(path: str, mark: Any) -> Loc:
    if mark is None:
        return Loc(path)
    return Loc(path, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, path: str) -> None:
        self.path = path
        self.nodes = 0
        self.scalars = yaml.SafeLoader("")

    def convert(self, node: yaml.Node, depth: int) -> Any:
        loc = _mark_loc(self.path, node.start_mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _fail(loc, f"the schema expands to more than {MAX_NODES} YAML nodes",
                        "anchors and aliases must not multiply the document; write it out plainly")
        if depth > MAX_DEPTH:
            raise _fail(loc, f"YAML nested deeper than {MAX_DEPTH} levels")
        if node.tag not in _PLAIN_TAGS:  # an implicit type such as a date (explicit tags: load)
            kind = node.tag.rsplit(":", 1)[-1]
            raise _fail(loc, f"the value {_short(str(node.value))!r} reads as a YAML {kind}, "
                        "which a schema cannot hold",
                        f"quote it to keep it as text: '{_short(str(node.value))}'")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, loc, depth)
        if isinstance(node, yaml.SequenceNode):
            out = YList()
            out.loc = loc
            out.item_locs = []
            for item in node.value:
                out.append(self.convert(item, depth + 1))
                out.item_locs.append(_mark_loc(self.path, item.start_mark))
            return out
        numeric = node.tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
        if numeric and ":" in node.value:
            raise _fail(loc, f"the value {_short(node.value)!r} reads as a YAML 1.1 base-60 "
                        "number", f"quote it to keep it as text: '{_short(node.value)}', or write "
                        "the number in decimal")
        if numeric and len(node.value) > MAX_INT_BITS + 4:  # 0b and 256 binary digits fit
            raise _fail(loc, f"the number {_short(node.value)} has more than {MAX_INT_BITS} bits",
                        "schema values are sizes, offsets and 64-bit integers")
        try:
            value = self.scalars.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            raise _fail(loc, f"cannot read the value {_short(node.value)!r}: {exc}") from None
        if isinstance(value, int) and abs(value).bit_length() > MAX_INT_BITS:
            raise _fail(loc, f"the number {_short(node.value)} has more than {MAX_INT_BITS} bits",
                        "schema values are sizes, offsets and 64-bit integers")
        return value

    def _mapping(self, node: yaml.MappingNode, loc: Loc, depth: int) -> YMap:
        out = YMap()
        out.loc = loc
        out.key_locs = {}
        for key_node, value_node in node.value:
            key_loc = _mark_loc(self.path, key_node.start_mark)
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise _fail(key_loc, "YAML merge keys ('<<') are not supported in a schema")
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag in _PLAIN_TAGS:
                # A key is a name: 'ON', 'NO' or 'null' stays text, never a YAML 1.1 bool.
                self.convert(key_node, depth + 1)
                key = key_node.value
            else:
                key = self.convert(key_node, depth + 1)
            if not isinstance(key, str):
                raise _fail(key_loc, f"mapping key {key!r} is not a string")
            if key in out:
                first = out.key_locs[key]
                raise _fail(key_loc, f"duplicate key '{key}' (first given at line {first.line})",
                            "each key may appear once per mapping; remove one")
            out[key] = self.convert(value_node, depth + 1)
            out.key_locs[key] = key_loc
        return out


# What PyYAML refuses in a file, and the line breaks it reads that editors do not show
# (NEL, LINE and PARAGRAPH SEPARATOR: every later line number would be off).
_LINE_BREAK = re.compile("\r\n|\r|\n")
_UNREADABLE = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
                         "|[\u2028\u2029]")


def _refuse_unreadable_characters(path: str, source: str) -> None:
    match = _UNREADABLE.search(source)
    if match is None:
        return
    index, char = match.start(), match.group()
    before = _LINE_BREAK.split(source[:index])  # lines as YAML counts them: \r\n, \r, \n
    raise _fail(Loc(path, len(before), len(before[-1]) + 1), "the schema contains "
                f"{describe_char(char)}, which YAML does not allow in a file or reads as a "
                "line break", "remove it (names and doc text cannot hold it in any spelling)")


def _too_deep(path: str, source: str) -> Loc:
    """Where flow brackets first nest deeper than MAX_DEPTH (the parser's recursion
    gave out before it could say); unknown when they never do."""
    depth, line, column = 0, 1, 0
    for char in source:
        column += 1
        if char == "\n":
            line, column = line + 1, 0
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return Loc(path, line, column)
        elif char in "]}":
            depth = max(depth - 1, 0)
    return Loc(path)


def load(path: str, text: bytes) -> Any:
    """Parse schema bytes; raise SlotgenError with a location on any problem."""
    if len(text) > MAX_FILE_BYTES:
        # Readers stop at the limit + 1 byte, so only "over the limit" is known here.
        raise _fail(Loc(path), f"the schema is larger than the limit of {MAX_FILE_BYTES} bytes",
                    "a schema of a 64-byte struct needs a few KiB; check the path")
    if b"\0" in text:
        line = text[: text.index(b"\0")].count(b"\n") + 1
        raise _fail(Loc(path, line, 1), "the schema contains a NUL byte")
    try:
        source = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = text[: exc.start].count(b"\n") + 1
        raise _fail(Loc(path, line, 1), "the schema is not valid UTF-8") from None
    _refuse_unreadable_characters(path, source)
    try:
        node = yaml.compose(source, Loader=_Loader)
    except _ExplicitTag as exc:
        tag = exc.tag.replace("tag:yaml.org,2002:", "!!", 1)
        raise _fail(_mark_loc(path, exc.mark),
                    f"YAML tag '{_short(tag)}' is not allowed in a schema",
                    "remove the tag; schemas hold plain strings, numbers, lists and mappings"
                    ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise _fail(_mark_loc(path, mark), f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise _fail(Loc(path), f"YAML error: {exc}") from None
    except RecursionError:
        raise _fail(_too_deep(path, source), "YAML nested too deeply",
                    f"schemas need a few levels; at most {MAX_DEPTH} are read") from None
    if node is None:
        raise _fail(Loc(path, 1, 1), "the schema is empty", "start with 'schema: 1'")
    try:
        return _Converter(path).convert(node, 0)
    except RecursionError:
        raise _fail(Loc(path), "YAML nested too deeply") from None
