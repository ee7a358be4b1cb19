"""schema file -> validated model -> checked layout: the stages every command shares."""
from __future__ import annotations

from . import layout, names, schema
from .errors import Collector
from .layout import Layout


def analyse_text(path: str, text: bytes) -> Layout:
    """Validate schema bytes and compute every target's layout, or raise SlotgenError."""
    model = schema.load_text(path, text)
    errors = Collector()
    result = layout.compute(model, errors)
    names.check_collisions(result, errors)
    errors.raise_if_any()
    return result


def analyse(path: str) -> Layout:
    model = schema.load_file(path)
    errors = Collector()
    result = layout.compute(model, errors)
    names.check_collisions(result, errors)
    errors.raise_if_any()
    return result
