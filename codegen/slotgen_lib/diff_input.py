"""Read one side of a diff: a schema file, a layout JSON, or REV:PATH from git.

A REV:PATH argument is read with `git show REV:PATH` in the current
directory's repository; an existing file of that name wins over the git form.
"""
from __future__ import annotations

import json
import os
import subprocess

from . import diff_model, pipeline
from .diff_model import Snapshot
from .errors import Diagnostic, Loc, SlotgenError


def _fail(where: str, message: str, hint: str = "") -> SlotgenError:
    return SlotgenError([Diagnostic(Loc(where), message, hint)])


def is_git_spec(arg: str) -> bool:
    rev, sep, path = arg.partition(":")
    return bool(sep and rev and path) and not os.path.exists(arg) and "/" not in rev[:1]


def read_bytes(arg: str) -> bytes:
    """The bytes an OLD/NEW argument names; SlotgenError if they cannot be read."""
    if is_git_spec(arg):
        return git_show(arg)
    try:
        with open(arg, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise _fail(arg, f"cannot read the file: {exc.strerror}",
                    "pass a schema, a layout JSON, or REV:PATH from git") from None


def git_show(spec: str) -> bytes:
    rev, _, path = spec.partition(":")
    if rev.startswith("-"):  # git would read it as an option
        raise _fail(spec, f"'{rev}' is not a revision (it starts with '-')",
                    "name a branch, tag or commit")
    try:
        proc = subprocess.run(["git", "show", "--end-of-options", f"{rev}:{path}"],
                              capture_output=True, check=False, timeout=60)
    except FileNotFoundError:
        raise _fail(spec, "git is not installed", "apt-get install git") from None
    except subprocess.TimeoutExpired:
        raise _fail(spec, "git show timed out") from None
    if proc.returncode == 0:
        return proc.stdout
    detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    fatal = [line for line in detail if line.startswith("fatal: ")]
    reason = (fatal or detail or [f"exit {proc.returncode}"])[-1].removeprefix("fatal: ")
    meant = [line.removeprefix("hint: ") for line in detail if "Did you mean" in line]
    if meant:
        hint = meant[0] + " (paths are relative to the repository's top, or start with ./)"
    elif "not a git repository" in reason:
        hint = "run slotgen diff inside the repository, or pass a file"
    elif "exists on disk, but not in" in reason or "does not exist in" in reason:
        hint = f"list the files of {rev} with: git ls-tree -r --name-only {rev}"
    else:
        hint = "check the revision with: git rev-parse --verify " + rev
    raise _fail(spec, f"cannot read '{path}' at revision '{rev}': {reason}", hint)


def looks_like_json(data: bytes) -> bool:
    return data.lstrip()[:1] == b"{" and b'"format"' in data


def load(arg: str) -> Snapshot:
    """One side of a diff as a snapshot; SlotgenError (file:line:col) on bad input."""
    data = read_bytes(arg)
    if looks_like_json(data):
        try:
            document = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            line = getattr(exc, "lineno", 0)
            col = getattr(exc, "colno", 0)
            raise SlotgenError([Diagnostic(Loc(arg, line, col),
                                           f"invalid layout JSON: {getattr(exc, 'msg', exc)}")]) from None
        return diff_model.from_json(document, arg)
    return diff_model.from_layout(pipeline.analyse_text(arg, data), arg)
