"""Command line of slotgen: `main(argv) -> exit status`."""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable

from . import diff, output, pipeline, render, report, rust
from .errors import SlotgenError

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2
LANGS = ("c", "rust", "json")


def _cmd_check(args: argparse.Namespace) -> int:
    layout = pipeline.analyse(args.schema)
    s = layout.schema
    targets = ", ".join(f"{t.target} {t.size}/{t.align}" for t in layout.targets)
    print(f"{args.schema}: ok: struct {s.struct}, {len(layout.primary.members)} members, "
          f"size/align {targets}{' (portable)' if s.portable else ''}")
    return EXIT_OK


def _cmd_generate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    langs = [x.strip() for x in args.lang.split(",") if x.strip()]
    bad = [x for x in langs if x not in LANGS]
    if bad or not langs:
        print(f"slotgen: error: unknown --lang {','.join(bad) or args.lang!r}; "
              f"choose from {', '.join(LANGS)}", file=sys.stderr)
        return EXIT_USAGE
    layout = pipeline.analyse(args.schema)
    files: dict[str, str] = {}
    if "c" in langs:
        files.update(render.render_c(layout))
    if "json" in langs or "c" in langs:
        files[f"{layout.schema.struct}.layout.json"] = render.render_json(layout)
    if "rust" in langs:
        files.update(rust.render(layout))
    changed = output.write_all(args.output, files)
    if not args.quiet:
        elapsed = (time.perf_counter() - started) * 1000
        print(f"slotgen: {args.output}: {len(changed)} of {len(files)} files updated "
              f"({elapsed:.0f} ms)")
    return EXIT_OK


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]]:
    parser = argparse.ArgumentParser(
        prog="slotgen", description="Generate, check, report and diff slot layouts.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    commands: dict[str, Callable[[argparse.Namespace], int]] = {}

    p = sub.add_parser("check", help="validate a schema")
    p.add_argument("schema")
    commands["check"] = _cmd_check

    p = sub.add_parser("generate", help="write the C header, member table and layout JSON")
    p.add_argument("schema")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="existing directory")
    p.add_argument("--lang", default="c", help="comma-separated: c, rust, json (default c; "
                   "c also writes the layout JSON)")
    p.add_argument("-q", "--quiet", action="store_true")
    commands["generate"] = _cmd_generate

    for module in (report, diff):
        commands[module.__name__.rpartition(".")[2]] = module.register(sub)
    return parser, commands


def main(argv: list[str]) -> int:
    parser, commands = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    status = None
    try:
        status = commands[args.command](args)
        sys.stdout.flush()  # a full disk or closed pipe is reported here, not at exit
        return status
    except SlotgenError as exc:
        print(str(exc), file=sys.stderr)
        count = len(exc.diagnostics)
        print(f"slotgen: {count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader stopped early: the verdict still stands
        _silence_stdout()
        return status if status is not None else getattr(args, "verdict", EXIT_OK)
    except OSError as exc:  # most often: stdout on a full disk
        _silence_stdout()
        where = exc.filename or "standard output"
        print(f"slotgen: error: cannot write to {where}: {exc.strerror}", file=sys.stderr)
        return EXIT_ERROR


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
