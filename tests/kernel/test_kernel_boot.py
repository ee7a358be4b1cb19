"""Boot the kernel at 64 MiB, 512 MiB and 5 GiB (RAM above the 4 GiB hole),
and on unusual machines (odd sizes, two CPUs), and check the whole boot
transcript: layout check, memory totals, every self-test, buddyinfo, the
summary line and the exit status."""

from __future__ import annotations

import os
import re
import tempfile

import pytest

from qemu_harness import (BOOT_FORBIDDEN, BOOT_SELFTESTS, REPO, Boot, boot, check, env_path,
                          find)

MIB = 1 << 20
FRAME = 4096
# machine name -> (QEMU -m argument, bytes of RAM, extra QEMU arguments)
MACHINES = {
    "64M": ("64M", 64 * MIB, ()),
    "512M": ("512M", 512 * MIB, ()),
    "5G": ("5G", 5 << 30, ()),
    "33M": ("33M", 33 * MIB, ()),            # not a multiple of a max-order block
    "3583M": ("3583M", 3583 * MIB, ()),      # just below the 3.5 GiB where QEMU splits RAM
    "3584M": ("3584M", 3584 * MIB, ()),      # split: metadata is 2.00% (a zero after the point)
    "5G-smp2": ("5G", 5 << 30, ("-smp", "2")),  # the second CPU stays parked
    # More page tables than fit one reservation each (RAM above 32 GiB), in a
    # sparse file so that the host needs neither 33 GiB nor the disk for it.
    "33G-file": ("33G", 33 << 30, ("-object", "memory-backend-file,id=ram0,size=33G,"
                                   "mem-path={ram_file},share=on",
                                   "-machine", "memory-backend=ram0")),
}
FOUR_GIB_PFN = (4 << 30) // FRAME

_boots: dict[str, Boot] = {}


def _scratch_dir() -> str:
    """A directory with room for what the 33 GiB guest writes into its RAM file
    (its metadata array, about 530 MiB): /dev/shm when it is large enough."""
    for candidate in ("/dev/shm", tempfile.gettempdir(), str(REPO / "build")):
        if os.path.isdir(candidate):
            stat = os.statvfs(candidate)
            if stat.f_bavail * stat.f_frsize >= 2 << 30:
                return candidate
    raise AssertionError("no directory with 2 GiB free for the 33 GiB guest's RAM file")


def boot_at(mem: str) -> Boot:
    """One boot per memory size, shared by the tests of that size."""
    if mem not in _boots:
        size, _, extra = MACHINES[mem]
        with tempfile.TemporaryDirectory(dir=_scratch_dir()) as scratch:
            ram_file = os.path.join(scratch, "ram")
            args = [arg.format(ram_file=ram_file) for arg in extra]
            _boots[mem] = boot(env_path("KERNEL_IMAGE", "build/kernel/metaslot32.elf"), size,
                               f"boot-{mem}", timeout_s=90, qemu_args=args)
    return _boots[mem]


def boot_expectations() -> list[str]:
    expected = [r"metaslot: x86_64 kernel booting",
                r"layout: free_link +0/16 +0/16 +OK",
                r"layout: refcount +32/4 +32/4 +OK",
                r"layout: _reserved_tail +48/16 +48/16 +OK",
                r"layout: \d+ members checked, 0 mismatched: OK",
                r"selftest: layout +PASS",
                r"mem: \[0x0000000000100000-0x[0-9a-f]{16}\] usable",
                r"mem: frames total \d+ \(pfn 0\.\.\d+\), usable \d+ \(\d+ MiB\), reserved \d+",
                r"mem: metadata \d+ bytes \(\d+ slots of 64 bytes\) = \d+\.\d\d% of usable RAM",
                r"mem: frames managed by the allocator \d+"]
    expected += [r"selftest: +allocated \d+ frames in \d+ blocks, 0 left free",
                 r"selftest: +no block in a hole, reserved range, first MiB, kernel or metadata",
                 r"selftest: +buddyinfo before = after, ms_check OK"]
    expected += [rf"selftest: {re.escape(name)} +PASS" for name in BOOT_SELFTESTS[1:]]
    expected += [r"stack: \d+ of \d+ bytes used",
                 r"buddyinfo:",
                 r"Node 0, zone +DMA( +\d+){11}",
                 r"Node 0, zone +Normal( +\d+){11}",
                 rf"selftest: {len(BOOT_SELFTESTS)} passed, 0 failed"]
    return expected


@pytest.mark.parametrize("mem", MACHINES)
def test_boot_passes_every_selftest(mem: str) -> None:
    check(boot_at(mem), boot_expectations(), BOOT_FORBIDDEN)


@pytest.mark.parametrize("mem", MACHINES)
def test_boot_totals_match_memory_size(mem: str) -> None:
    result = boot_at(mem)
    totals = find(result, r"mem: frames total (\d+) \(pfn 0\.\.(\d+)\), usable (\d+) "
                          r"\((\d+) MiB\), reserved (\d+)")
    total, last_pfn, usable, _, reserved = (int(g) for g in totals.groups())
    managed = int(find(result, r"mem: frames managed by the allocator (\d+)").group(1))
    meta = find(result, r"mem: metadata (\d+) bytes \((\d+) slots of 64 bytes\).*")
    meta_bytes, slots = int(meta.group(1)), int(meta.group(2))
    allocated = find(result, r"selftest: +allocated (\d+) frames in (\d+) blocks, 0 left free")

    # The share of RAM the metadata takes, in hundredths, truncated as the kernel does.
    hundredths = meta_bytes * 10000 // (usable * FRAME)
    find(result, rf"mem: metadata {meta_bytes} bytes .* = {hundredths // 100}\."
                 rf"{hundredths % 100:02d}% of usable RAM")
    # The layout summary counts every row it printed.
    rows = [line for line in result.lines
            if re.match(r"layout: .* (OK|MISMATCH)$", line) and "members checked" not in line]
    assert int(find(result, r"layout: (\d+) members checked.*").group(1)) == len(rows) > 10

    stack = find(result, r"stack: (\d+) of (\d+) bytes used")
    assert int(stack.group(1)) < int(stack.group(2)) // 2, "boot stack more than half used"

    mem_bytes = MACHINES[mem][1]
    assert last_pfn == total - 1
    assert usable + reserved == total
    assert 0.97 * mem_bytes <= usable * FRAME <= mem_bytes, (usable, mem_bytes)
    assert slots == total and meta_bytes == 64 * total
    # Managed = usable minus first MiB, kernel image, page tables, metadata.
    assert managed < usable
    assert usable - managed <= 256 + meta_bytes // FRAME + 1024, (usable, managed)
    assert int(allocated.group(1)) == managed
    # QEMU's pc machine keeps all RAM below 4 GiB up to 3.5 GiB; from 3.5 GiB on
    # it keeps 3 GiB low and puts the rest above the 4 GiB line.
    if mem_bytes < 0xE0000000:
        assert last_pfn < FOUR_GIB_PFN
    else:
        assert last_pfn >= FOUR_GIB_PFN, "no RAM above 4 GiB was found"
        check(result, [r"mem: \[0x0000000100000000-0x[0-9a-f]{16}\] usable",
                       r"paging: RAM mapped up to 0x[0-9a-f]+ with 2 MiB pages "
                       r"\([1-9]\d* new page tables\)"], status=None)


def test_clang_build_boots() -> None:
    """The kernel and the runtime built with clang pass the same boot test."""
    image = env_path("KERNEL_CLANG_IMAGE", "build/kernel-clang/metaslot32.elf")
    result = boot(image, "64M", "boot-64M-clang", timeout_s=60)
    check(result, boot_expectations(), BOOT_FORBIDDEN)
