"""Write outputs atomically: all files or none, unchanged files left untouched."""
from __future__ import annotations

import errno
import os
import sys
import tempfile

from .errors import Diagnostic, Loc, SlotgenError


def _fail(path: str, message: str, hint: str = "") -> SlotgenError:
    return SlotgenError([Diagnostic(Loc(path), message, hint)])


def write_all(directory: str, files: dict[str, str]) -> list[str]:
    """Write `files` (plain names) into `directory`; return the names whose bytes changed.

    Every file is first written to a temporary file beside its target, then all
    are renamed into place, so a failure leaves the previous outputs as they were.
    """
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise _fail(directory, "the output path is not a directory",
                    "give -o the directory to write into")
    if not os.path.isdir(directory):
        raise _fail(directory, "the output directory does not exist",
                    f"create it first: mkdir -p {directory}")
    for name in files:
        if os.path.basename(name) != name or name in ("", ".", ".."):
            raise _fail(name, "output names must be plain file names")
        target = os.path.join(directory, name)
        if os.path.lexists(target) and not os.path.isfile(target):
            raise _fail(target, "an output path exists and is not a regular file",
                        "remove it or write into another directory with -o")
    staged: list[tuple[str, str]] = []
    replaced: list[tuple[str, bytes | None]] = []
    umask = os.umask(0o022)
    os.umask(umask)
    try:
        for name, text in files.items():
            target = os.path.join(directory, name)
            data = text.encode("utf-8")
            if _same(target, data):
                continue
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
            staged.append((tmp, target))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, target in staged:
            previous = _read(target)
            os.replace(tmp, target)
            replaced.append((target, previous))
    except OSError as exc:
        for tmp, _ in staged:
            if os.path.exists(tmp):
                os.unlink(tmp)
        _restore(replaced)
        hint = {errno.ENOSPC: "free some space on its file system",
                errno.EDQUOT: "free some space within your disk quota"}.get(
                    exc.errno, "check that the directory is writable")
        raise _fail(directory, f"cannot write the outputs: {exc.strerror}", hint) from None
    return [os.path.basename(target) for _, target in staged]


def emit(text: str, path: str | None) -> None:
    """Write one output to the file `path` (as write_all does) or, without one, to stdout."""
    if not path:
        sys.stdout.write(text)
        return
    if os.path.isdir(path):
        raise _fail(path, "the output path is a directory", "give -o the name of a file")
    directory, name = os.path.split(os.path.abspath(path))
    write_all(directory, {name: text})


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def _same(path: str, data: bytes) -> bool:
    return _read(path) == data


def _restore(replaced: list[tuple[str, bytes | None]]) -> None:
    """Best effort after a failed rename: put back what the earlier renames replaced."""
    for target, previous in reversed(replaced):
        try:
            if previous is None:
                os.unlink(target)
            else:
                with open(target, "wb") as handle:
                    handle.write(previous)
        except OSError:
            pass
