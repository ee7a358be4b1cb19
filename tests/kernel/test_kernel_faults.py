"""Failures must be loud: a kernel built with a header whose struct differs
from the schema fails its boot layout check, and CPU exceptions are reported
and end QEMU with a failure status instead of a silent triple fault."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

import pytest

from qemu_harness import (REPO, STATUS_CRASH, STATUS_FAILED, STATUS_PANIC, STATUS_TIMEOUT, boot,
                          check, env_path)


def test_wrong_header_fails_layout_check() -> None:
    image = env_path("KERNEL_WRONG_IMAGE", "build/kernel-wrong/metaslot32.elf")
    result = boot(image, "64M", "wrong-header", timeout_s=60)
    check(result,
          [r"layout: refcount +32/4 +36/4 +MISMATCH",
           r"layout: generation +36/4 +32/4 +MISMATCH",
           r"layout: struct meta_slot +0/64 +0/72 +MISMATCH",
           r"layout: \d+ members checked, 3 mismatched: FAIL",
           r"selftest: layout +FAIL \(.*\)",
           r"selftest: 0 passed, 1 failed"],
          forbidden=[r"selftest: alloc-all", r"PANIC"],
          status=STATUS_FAILED)


@pytest.mark.parametrize("kind, report", [
    ("pf", r"EXCEPTION: vector 14 \(#PF page fault\), error code 0x0"),
    ("gp", r"EXCEPTION: vector 13 \(#GP general protection\), error code 0x0"),
    ("df", r"EXCEPTION: vector 8 \(#DF double fault\), error code 0x0"),
])
def test_exception_is_reported(kind: str, report: str) -> None:
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    result = boot(image, "64M", f"crash-{kind}", timeout_s=30, append=f"crash={kind}")
    expected = [rf"crash: provoking {kind}", report]
    if kind == "pf":
        expected.append(r"  cr2=0000400000000000 \(not present, read\)")
    expected.append(r"PANIC: unhandled CPU exception \d+")
    check(result, expected, forbidden=[r"selftest:"], status=STATUS_PANIC)


def test_triple_fault_is_never_success() -> None:
    """QEMU ends a triple fault under -no-reboot with status 0; the host
    side must turn that into a failure, not a pass."""
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    result = boot(image, "64M", "crash-triple", timeout_s=30, append="crash=triple")
    check(result, [r"crash: provoking triple"], forbidden=[r"selftest:"],
          status=STATUS_CRASH)


def test_hung_kernel_times_out_with_transcript() -> None:
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    result = boot(image, "64M", "crash-hang", timeout_s=3, append="crash=hang")
    check(result, [r"crash: provoking hang"], forbidden=[r"selftest:"],
          status=STATUS_TIMEOUT)
    assert result.elapsed_s < 15


@pytest.mark.parametrize("args", [["/nonexistent/kernel.elf", "64M", "20"],
                                  [None, "64M", "20", "-bogus-option"]],
                         ids=["no-image", "bad-option"])
def test_qemu_failing_to_start_is_never_success(args) -> None:
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    cmd = [str(REPO / "kernel" / "qemu-run")] + [str(image) if a is None else a for a in args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 125, (result.returncode, result.stderr)
    assert "qemu-run: QEMU failed before the kernel reported" in result.stderr


def test_memory_smaller_than_the_image_is_refused_at_once() -> None:
    """With less RAM than the image occupies, QEMU's loader leaves the machine in the
    firmware, silent until the timeout; qemu-run refuses before starting QEMU."""
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    end = 0
    for line in subprocess.run(["readelf", "-lW", str(image)], capture_output=True, text=True,
                               check=True).stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            end = max(end, int(fields[3], 16) + int(fields[5], 16))
    assert end > 1 << 20
    for mem in ("1M", f"{(end >> 10) - 1}K", "0.9M", "1048576b", "size=1M"):
        start = time.monotonic()
        result = subprocess.run([str(REPO / "kernel" / "qemu-run"), str(image), mem, "120"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 125, (mem, result.returncode, result.stderr)
        assert f"MEM {mem} is less than the image needs" in result.stderr
        assert f"give at least {(end + (1 << 20) - 1) >> 20}M" in result.stderr
        assert time.monotonic() - start < 10
    # Sizes are decimal, as QEMU reads them: 08M is 8 MiB (not an octal error), and
    # 0 is QEMU's default size, not zero bytes.
    for mem in ("08M", "0"):
        result = subprocess.run([str(REPO / "kernel" / "qemu-run"), str(image), mem, "120"],
                                capture_output=True, text=True, timeout=150)
        assert result.returncode == 0, (mem, result.returncode, result.stderr)


def test_a_long_command_line_keeps_its_options() -> None:
    """QEMU puts the image path before -append: a line over 255 bytes loses its
    head, never the options at its end, and the kernel says so."""
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    result = boot(image, "64M", "long-cmdline", timeout_s=30,
                  append="padding=" + "x" * 300 + " crash=pf")
    check(result, [r"metaslot: the command line is \d{3} bytes; only its last 255 were kept",
                   r"EXCEPTION: vector 14 \(#PF page fault\), error code 0x0"],
          status=STATUS_PANIC)


def test_an_interrupted_run_is_not_reported_as_a_crash() -> None:
    """Ctrl-C sends SIGINT to the whole foreground group: QEMU then exits 0, as after a
    triple fault; qemu-run must say it was interrupted (130), not that the kernel crashed."""
    image = env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf")
    run = subprocess.Popen([str(REPO / "kernel" / "qemu-run"), str(image), "64M", "60",
                            "-append", "shell"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 30
    seen = ""
    while "metaslot>" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([run.stdout], [], [], max(deadline - time.monotonic(), 0))
        if ready:
            seen += os.read(run.stdout.fileno(), 4096).decode(errors="replace")
    assert "metaslot>" in seen, seen
    os.killpg(run.pid, signal.SIGINT)
    _, err = run.communicate(timeout=30)
    assert run.returncode == 130, (run.returncode, err)
    assert "qemu-run: interrupted" in err
    assert "triple fault" not in err
