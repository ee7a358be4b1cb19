"""schema file -> validated model -> checked layout: the stages every command shares."""
from __future__ import annotations

from . import layout, names, rust, schema, yamlload
from .errors import Diagnostic, Loc, SlotgenError
from .layout import Layout


def analyse_text(path: str, text: bytes) -> Layout:
    """Validate schema bytes and compute every target's layout, or raise SlotgenError.

    When the schema has errors but every member survived them, the layout is
    still computed so that its problems are reported in the same run.
    """
    model, errors, whole = schema.check_text(path, text)
    if model is None or (errors.items and not whole):
        errors.raise_if_any()
    assert model is not None
    result = layout.compute(model, errors)
    names.check_collisions(result, errors)
    rust.check_names(result, errors)
    errors.raise_if_any()
    return result


def analyse(path: str) -> Layout:
    try:
        with open(path, "rb") as handle:
            text = handle.read(yamlload.MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SlotgenError([Diagnostic(Loc(path), f"cannot read the schema: {exc.strerror}")])
    return analyse_text(path, text)
