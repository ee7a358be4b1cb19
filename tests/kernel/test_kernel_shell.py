"""Drive the serial shell with good and bad input: every bad line gets one
"error:" line, the allocator stays consistent (the self-tests still pass
afterwards) and "halt" exits with success."""

from __future__ import annotations

import re

from qemu_harness import Shell, env_path

ERROR = re.compile(r"error: .+")


def one_error(reply: list[str], pattern: str) -> None:
    assert len(reply) == 1 and ERROR.fullmatch(reply[0]), reply
    assert re.fullmatch(pattern, reply[0]), (pattern, reply)


def test_shell_commands_and_bad_input() -> None:
    sh = Shell(env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf"), "128M", "shell")
    try:
        assert any(re.fullmatch(r"selftest: \d+ passed, 0 failed", line) for line in sh.boot_lines)
        help_text = "\n".join(sh.run("help"))
        for cmd in ("layout", "mem", "buddyinfo", "stats", "meta <pfn>", "alloc <order>",
                    "free <pfn> <order>", "poison <pfn>", "selftest", "halt"):
            assert cmd in help_text, cmd
        assert sh.run("layout")[-1].endswith("0 mismatched: OK")
        totals = [re.fullmatch(r"mem: frames total (\d+) \(pfn 0\.\.(\d+)\).*", line)
                  for line in sh.run("mem")]
        total, last = (int(g) for g in next(m for m in totals if m).groups())
        assert last == total - 1
        # Line editing: three backspaces turn "budxyz" into "buddyinfo".
        buddy = sh.run("budxyz\x7f\x7f\x7fdyinfo")
        zones = [line.split()[3] for line in buddy if line.startswith("Node 0, zone")]
        assert zones == ["DMA", "Normal"], buddy
        assert not any(line.startswith("error") for line in buddy), buddy

        one_error(sh.run("frobnicate"), r"error: unknown command 'frobnicate' \(try 'help'\)")
        one_error(sh.run("meta"), r"error: meta: missing <pfn>")
        one_error(sh.run("meta 12x"), r"error: meta: malformed pfn '12x'")
        one_error(sh.run("meta 99999999999999999999999"), r"error: meta: malformed pfn .*")
        one_error(sh.run("meta 0x7fffffff"), r"error: meta: pfn \d+ out of range \(0\.\.\d+\)")
        # The first pfn past the end is out of range, the last one is not.
        one_error(sh.run(f"meta {total}"), rf"error: meta: pfn {total} out of range \(0\.\.{last}\)")
        assert not any(line.startswith("error") for line in sh.run(f"meta {last}"))
        one_error(sh.run(f"free {total} 0"), rf"error: free: pfn {total} out of range \(0\.\.{last}\)")
        one_error(sh.run("alloc"), r"error: alloc: missing <order>")
        one_error(sh.run("alloc 11"), r"error: alloc: invalid order 11 \(0\.\.10\)")
        one_error(sh.run("alloc -1"), r"error: alloc: malformed order '-1'")
        one_error(sh.run("free 300"), r"error: free: missing <order>")
        one_error(sh.run("free 0 0"), r"error: free: pfn 0 order 0: MS_EDOUBLEFREE.*")
        one_error(sh.run("free 0x7fffffff 0"), r"error: free: pfn \d+ out of range \(0\.\.\d+\)")
        one_error(sh.run("free 300 0x"), r"error: free: malformed order '0x'")
        one_error(sh.run("poison"), r"error: poison: missing <pfn>")
        one_error(sh.run("poison abc"), r"error: poison: malformed pfn 'abc'")
        one_error(sh.run("halt now"), r"error: halt: too many arguments")
        one_error(sh.run("help me"), r"error: help: too many arguments")
        assert sh.run("   ") == []
        # A line is run exactly as typed or not at all: nothing is cut or dropped.
        one_error(sh.run("alloc" + " " * 73 + "10"),
                  r"error: line longer than 79 characters; nothing run")
        one_error(sh.run("meta 1" + "0" * 100), r"error: line longer than 79 characters; nothing run")
        one_error(sh.run("alloc 1\u00e90"), r"error: byte 0xc3 is not printable ASCII; nothing run")
        one_error(sh.run("\x00\x00me\x00ta 300"),
                  r"error: byte 0x0 is not printable ASCII; nothing run")
        one_error(sh.run("free 4\t100 0"), r"error: free: too many arguments")  # a tab separates

        reply = sh.run("alloc 2")
        m = re.fullmatch(r"alloc: pfn (\d+) order 2 zone Normal generation (\d+)", reply[0])
        assert m and len(reply) == 1, reply
        pfn = int(m.group(1))
        assert pfn % 4 == 0
        meta = "\n".join(sh.run(f"meta {pfn}"))
        assert re.search(r"flags += 0x[0-9a-f]{8} \[[A-Z|]*ALLOCATED", meta), meta
        assert re.search(r"order += 2", meta) and re.search(r"refcount += 1\b", meta), meta
        assert re.search(r"meta_aux += 0x[0-9a-f]{8} owner_cpu=\d+ numa_node=0", meta), meta
        one_error(sh.run(f"free {pfn} 1"), rf"error: free: pfn {pfn} order 1: MS_EWRONGORDER.*")
        assert sh.run(f"free {pfn} 2") == [f"free: pfn {pfn} order 2 freed"]
        one_error(sh.run(f"free {pfn} 2"), rf"error: free: pfn {pfn} order 2: MS_EDOUBLEFREE.*")

        reply = sh.run("alloc 0")
        victim = int(re.fullmatch(r"alloc: pfn (\d+) order 0 .*", reply[0]).group(1))
        assert sh.run(f"poison {victim}") == [f"poison: pfn {victim} poisoned"]
        # pfn 0 is in the DMA zone's span but reserved (the first MiB): said so.
        assert sh.run("poison 0") == ["poison: pfn 0 poisoned (reserved, not usable RAM: it is "
                                      "never handed out, so nothing is quarantined)"]
        meta = "\n".join(sh.run(f"meta {victim}"))
        assert re.search(r"guard += 0x8[0-9a-f]{7} \[.*POISONED", meta), meta
        sh.run(f"free {victim} 0")
        stats = "\n".join(sh.run("stats"))
        assert re.search(r"quarantined [1-9]\d* in [1-9]\d* blocks", stats), stats

        selftest = sh.run("selftest")
        assert re.fullmatch(r"selftest: \d+ passed, 0 failed", selftest[-1]), selftest
        assert not any("FAIL" in line for line in selftest), selftest
    finally:
        status = sh.halt()
    assert status == 0, f"halt: host status {status}; transcript {sh.log_path}"


def test_poison_names_the_first_frame_past_a_usable_range() -> None:
    """At 5 GiB the firmware keeps the top of the RAM below 3 GiB: the frame just past
    the usable range is in a zone's span but reserved, and the shell says so; the
    range's own last frame is usable and is poisoned plainly."""
    sh = Shell(env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf"), "5G", "shell-5G")
    try:
        ranges = [re.fullmatch(r"mem: \[0x([0-9a-f]{16})-0x([0-9a-f]{16})\] usable", line)
                  for line in sh.run("mem")]
        ends = [(int(m.group(2), 16) + 1) // 4096 for m in ranges if m]
        below_4g = [end for end in ends if end < (4 << 30) // 4096]
        assert below_4g, ends
        end = max(below_4g)  # the first pfn past the usable RAM below 4 GiB
        assert sh.run(f"poison {end}") == [
            f"poison: pfn {end} poisoned (reserved, not usable RAM: it is never handed out, "
            "so nothing is quarantined)"]
        assert sh.run(f"poison {end - 1}") == [f"poison: pfn {end - 1} poisoned"]
    finally:
        status = sh.halt()
    assert status == 0, f"halt: host status {status}; transcript {sh.log_path}"
