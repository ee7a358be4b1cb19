"""Boot the metaslot kernel under QEMU and check its serial transcript.

Every run goes through kernel/qemu-run (which maps QEMU's isa-debug-exit
statuses to host statuses 0 = all passed, 1 = checks failed, 2 = panic,
3 = crash, 124 = timeout) under a hard timeout, and keeps its transcript in
the log directory.  Expected patterns are regular expressions matched
against whole lines (re.fullmatch, carriage returns removed), in order;
forbidden patterns must not occur anywhere in any line (re.search).  On
failure the assertion message lists the missing or forbidden patterns with
the transcript lines around the place they were expected or found.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

REPO = Path(__file__).resolve().parents[2]
CONTEXT_LINES = 6

STATUS_PASSED = 0
STATUS_FAILED = 1
STATUS_PANIC = 2
STATUS_CRASH = 3
STATUS_TIMEOUT = 124

# The boot self-tests, in the order the kernel runs them (kernel/selftest.c).
BOOT_SELFTESTS = (
    "layout",
    "alloc-all-free-all",
    "order-alignment-no-overlap",
    "zeroed-after-dirty",
    "double-free-detected",
    "poison-quarantined",
    "handle-stale-after-free",
    "vtable-once-on-last-ref",
    "pcp-cache-conserves-frames",
    "zone-fallback-normal-to-dma",
)

# Lines that must never appear in a passing boot.
BOOT_FORBIDDEN = (r"MISMATCH", r"\bFAIL\b", r"PANIC", r"EXCEPTION")


@dataclass(frozen=True)
class Boot:
    """One finished QEMU run."""

    name: str
    status: int
    lines: tuple[str, ...]
    log_path: Path
    elapsed_s: float

    def describe(self) -> str:
        return (f"{self.name}: host status {self.status} after {self.elapsed_s:.2f} s, "
                f"transcript {self.log_path}")


def env_path(var: str, default: str) -> Path:
    return Path(os.environ.get(var, str(REPO / default)))


def boot(image: Path, mem: str, name: str, *, timeout_s: int = 60,
         append: str | None = None, stdin_text: str | None = None,
         qemu_args: Sequence[str] = ()) -> Boot:
    """Boots image with mem of RAM; returns the status and the transcript."""
    if not image.is_file():
        raise AssertionError(f"{image} is missing: build it with `make kernel`")
    log_dir = env_path("KERNEL_LOG_DIR", "build/kernel/logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    cmd = [str(REPO / "kernel" / "qemu-run"), str(image), mem, str(timeout_s)]
    if append is not None:
        cmd += ["-append", append]
    cmd += list(qemu_args)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, input=(stdin_text or "").encode(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=timeout_s + 15, check=False)
        out, status = proc.stdout, proc.returncode
    except subprocess.TimeoutExpired as exc:
        out, status = exc.stdout or b"", STATUS_TIMEOUT
    elapsed = time.monotonic() - start
    text = out.decode("utf-8", errors="replace").replace("\r", "")
    log_path.write_text(text)
    with open(log_dir / "timings.txt", "a") as timings:
        timings.write(f"{name}: {mem} boot-to-exit {elapsed:.2f} s, host status {status}\n")
    return Boot(name, status, tuple(text.split("\n")), log_path, elapsed)


def _context(lines: Sequence[str], index: int) -> str:
    lo = max(0, index - CONTEXT_LINES)
    hi = min(len(lines), index + CONTEXT_LINES + 1)
    return "\n".join(f"  {i + 1:5d}| {lines[i]}" for i in range(lo, hi))


def check(result: Boot, expected: Iterable[str], forbidden: Iterable[str] = (),
          status: int | None = STATUS_PASSED) -> None:
    """Asserts every expected pattern matches some line, in the given order,
    no forbidden pattern matches any line, and the host status."""
    problems: list[str] = []
    lines = result.lines
    pos = 0
    for pattern in expected:
        rx = re.compile(pattern)
        hit = next((i for i in range(pos, len(lines)) if rx.fullmatch(lines[i])), None)
        if hit is None:
            anywhere = next((i for i, line in enumerate(lines) if rx.fullmatch(line)), None)
            where = ("found only earlier, out of order" if anywhere is not None
                     else "not found")
            problems.append(f"missing line /{pattern}/ ({where}); transcript near "
                            f"line {pos + 1}:\n{_context(lines, pos)}")
        else:
            pos = hit + 1
    for pattern in forbidden:
        rx = re.compile(pattern)
        for i, line in enumerate(lines):
            if rx.search(line):
                problems.append(f"forbidden /{pattern}/ at line {i + 1}:\n"
                                f"{_context(lines, i)}")
                break
    if status is not None and result.status != status:
        tail = "\n".join(f"  | {line}" for line in lines[-2 * CONTEXT_LINES:])
        problems.append(f"host status {result.status}, expected {status}; "
                        f"last lines:\n{tail}")
    if problems:
        raise AssertionError(result.describe() + "\n" + "\n".join(problems))


def find(result: Boot, pattern: str) -> re.Match[str]:
    """The match of the first line fully matching pattern (asserts one exists)."""
    rx = re.compile(pattern)
    for line in result.lines:
        m = rx.fullmatch(line)
        if m:
            return m
    check(result, [pattern], status=None)
    raise AssertionError("unreachable")


PROMPT = "metaslot> "


class Shell:
    """The kernel's serial shell, driven one command at a time.

    Starts QEMU with the kernel command line "shell", waits for the first
    prompt, and sends commands as if typed; each reply is the list of lines
    printed before the next prompt (the echoed command removed).  The whole
    transcript goes to the log directory when the session ends.
    """

    def __init__(self, image: Path, mem: str, name: str, timeout_s: int = 90):
        log_dir = env_path("KERNEL_LOG_DIR", "build/kernel/logs")
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.name = name
        self.mem = mem
        self.start = time.monotonic()
        self.deadline = self.start + timeout_s
        self.text = ""
        self.proc = subprocess.Popen(
            [str(REPO / "kernel" / "qemu-run"), str(image), mem, str(timeout_s),
             "-append", "shell"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.boot_lines = self._read_until_prompt()

    def _read_until_prompt(self) -> list[str]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        start = len(self.text)
        while not self.text[start:].endswith(PROMPT):
            left = self.deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            chunk = os.read(fd, 4096) if ready else b""
            if not chunk:
                self._finish()
                raise AssertionError(f"{self.name}: no prompt (exit status "
                                     f"{self.proc.returncode}); transcript {self.log_path}:\n"
                                     + self.text[-3000:])
            self.text += chunk.decode("utf-8", errors="replace").replace("\r", "")
        reply = self.text[start:-len(PROMPT)]
        return reply.split("\n")

    def run(self, typed: str) -> list[str]:
        """Sends typed + newline; returns the reply lines (no echo, no prompt)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(typed.encode() + b"\n")
        self.proc.stdin.flush()
        lines = self._read_until_prompt()
        return [line for line in lines[1:] if line != ""]

    def halt(self) -> int:
        """Sends "halt"; returns the host exit status of qemu-run."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"halt\n")
        self.proc.stdin.flush()
        return self._finish()

    def _finish(self) -> int:
        try:
            out, _ = self.proc.communicate(timeout=max(self.deadline - time.monotonic(), 1))
            self.text += out.decode("utf-8", errors="replace").replace("\r", "")
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
        self.log_path.write_text(self.text)
        with open(self.log_path.parent / "timings.txt", "a") as timings:
            timings.write(f"{self.name}: {self.mem} boot-to-halt "
                          f"{time.monotonic() - self.start:.2f} s (interactive), "
                          f"host status {self.proc.returncode}\n")
        return self.proc.returncode
