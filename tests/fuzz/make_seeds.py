"""Writes the hand-made seeds of the allocator fuzz target (tests/fuzz/corpus/).

Each seed is a short, readable scenario in the input format of
tests/fuzz/fuzz.h; libFuzzer mutates from there.  The corpus also holds
inputs found by fuzzing and merged with `make fuzz-merge`.

Usage: /usr/bin/python3 tests/fuzz/make_seeds.py [OUT_DIR]
"""
import os
import struct
import sys

# enum fz_op, in order.
OPS = [
    "ALLOC", "ALLOC_SMALL", "FREE_LIVE", "FREE_WRONG_ORDER", "FREE_ANY", "FREE_AGAIN",
    "GET", "PUT", "REF_ANY", "SET_VTABLE", "POISON", "HANDLE_LIVE", "CACHE_TOGGLE",
    "DRAIN", "DRAIN_ALL", "SET_CPU", "OBSERVE", "CHECK", "QUARANTINE_LIST", "ALLOC_ZONES",
    "MISUSE",
]
OP = {name: index for index, name in enumerate(OPS)}

BACKED, CACHE_OFF, NO_CPU_ID, IRQ_HOOKS, NO_PHYS_TO_VIRT = 0x08, 0x10, 0x20, 0x40, 0x80
NOZERO, NOCACHE, CPU_HINT = 1, 2, 4


def header(base_choice, nr_frames, ranges=(), config=0):
    """ranges: () for one range over the span, else (offset, nr_frames) pairs."""
    data = bytes([base_choice | config]) + struct.pack("<H", nr_frames - 1)
    data += bytes([len(ranges)])
    for offset, length in ranges:
        data += struct.pack("<HH", offset + 1, length)
    return data


def op(name, *args):
    return bytes([OP[name]]) + bytes(args)


def pfn_arg(offset):
    """A pfn at base + offset (offset < span + 4)."""
    return struct.pack("<H", offset + 4)


def alloc(order, flags=NOZERO, purpose=0, cpu=0):
    return op("ALLOC", order, flags, purpose, cpu)


def small(order, flags=NOZERO):
    return op("ALLOC_SMALL", order, flags)


SEEDS = {
    "basic": header(0, 64) + small(0) * 8 + op("FREE_LIVE", 3) + op("FREE_LIVE", 0)
    + small(1) + small(2) + op("CHECK", 40) + op("DRAIN_ALL"),
    "every-order": header(0, 2048) + b"".join(alloc(k) for k in range(16))
    + op("OBSERVE", 0, 0, 200) + b"".join(op("FREE_LIVE", 0) for _ in range(11))
    + op("DRAIN_ALL"),
    "refs-vtable": header(2, 128) + alloc(2) + op("SET_VTABLE", 0, 1) + op("GET", 0)
    + op("GET", 0) + op("FREE_LIVE", 0) + op("PUT", 0) + op("PUT", 0) + op("PUT", 0)
    + op("PUT", 0) + alloc(0) + op("SET_VTABLE", 0, 2) + op("REF_ANY", 0, 0, 0x80, 0),
    "poison": header(1, 300) + small(0) + small(2) + op("POISON", *pfn_arg(100))
    + op("POISON", 0x00, 0x80, 1) + op("FREE_LIVE", 1) + op("FREE_LIVE", 0)
    + op("POISON", *pfn_arg(1)) + op("QUARANTINE_LIST", 1) + op("QUARANTINE_LIST", 7)
    + small(0) * 4,
    "poison-cached": header(0, 64) + small(0, 0) + op("FREE_LIVE", 0) + small(0, 0)
    + op("FREE_LIVE", 0) + op("POISON", *pfn_arg(0)) + op("POISON", *pfn_arg(1))
    + op("POISON", *pfn_arg(2)) + small(0, 0) * 3 + op("DRAIN_ALL"),
    "ranges-backed": header(3, 200, ((0, 37), (40, 23), (64, 64), (150, 49)),
                            BACKED | IRQ_HOOKS) + small(0, 0) + small(1, 0) + alloc(3, 0, 2)
    + alloc(0, 0, 1) + op("FREE_LIVE", 0) + small(0, 0) + op("DRAIN_ALL"),
    "cpus": header(0, 512, (), NO_CPU_ID) + op("SET_CPU", 3) + small(0, 0) * 3
    + op("SET_CPU", 9) + small(0, 0) * 2 + alloc(0, CPU_HINT, 0, 15) + op("FREE_LIVE", 1)
    + op("FREE_LIVE", 2) + op("DRAIN", 3) + op("CACHE_TOGGLE", 0) + small(0, 0)
    + op("CACHE_TOGGLE", 1) + op("DRAIN", 19) + op("DRAIN_ALL"),
    "double-free": header(2, 256) + small(1) + small(0) + op("FREE_WRONG_ORDER", 0, 0)
    + op("FREE_WRONG_ORDER", 1, 3) + op("FREE_LIVE", 0) + op("FREE_AGAIN", 0)
    + op("FREE_ANY", *pfn_arg(255), 0) + op("FREE_ANY", *pfn_arg(257), 0)
    + op("FREE_ANY", *pfn_arg(3), 12),
    "observe": header(4, 40, ((2, 30),)) + small(0) + op("OBSERVE", 0, 0, 5)
    + op("OBSERVE", 3, 0, 0) + op("OBSERVE", 0, 0, 255) + op("CHECK", 0) + op("CHECK", 1)
    + op("CHECK", 9) + op("QUARANTINE_LIST", 0),
    "exhaust": header(5, 100, (), CACHE_OFF) + alloc(3) * 14 + small(0) * 6
    + b"".join(op("FREE_LIVE", i) for i in range(20)),
    "handles": header(6, 32) + small(0) + small(0) + op("FREE_LIVE", 0) + small(0)
    + op("HANDLE_LIVE", 1) + op("HANDLE_LIVE", 3) + op("HANDLE_LIVE", 5)
    + op("HANDLE_LIVE", 0, 0x00, 0x80, 0, 1) + op("HANDLE_LIVE", 0, 0x02, 0x00, 2),
    "bad-options": header(7, 64) + alloc(11) + alloc(0, 0, 4) + alloc(0, CPU_HINT, 0, 17)
    + alloc(1, 0xc0, 0x80) + alloc(0, 0, 0x78) + alloc(0, 0, 3),
    "zones": header(0, 128) + op("ALLOC_ZONES", 0, 0) + op("ALLOC_ZONES", 3, 1)
    + op("ALLOC_ZONES", 2, 2) + op("ALLOC_ZONES", 2, 0x82) + op("ALLOC_ZONES", 0, 3)
    + op("ALLOC_ZONES", 14, 0x40) + op("FREE_LIVE", 0),
    "misuse": header(1, 16, ((100, 3),)) + b"".join(op("MISUSE", i) for i in range(8))
    + small(0),
    "unaddressable": header(2, 64, (), BACKED | NO_PHYS_TO_VIRT) + small(0, 0) + alloc(2, 0, 2),
    # Regression: a block coalesced across two adjacent ranges made ms_check
    # report "walk: block misaligned or beyond its range".
    "adjacent-ranges": header(0, 8, ((0, 2), (2, 2), (4, 4))) + op("CHECK", 40)
    + alloc(3) + op("FREE_LIVE", 0) + op("DRAIN_ALL"),
    # Regression: a frame poisoned while reserved reached the free lists when
    # its range was added, and was handed out.
    "poison-before-add": header(0, 4, ((0, 0),)) + op("POISON", *pfn_arg(2))
    + op("MISUSE", 7) + alloc(2) + small(0) * 4,
    "page-table-nozero": header(2, 16, (), BACKED) + alloc(0, NOZERO, 2) + op("FREE_LIVE", 0)
    + alloc(0, NOZERO | NOCACHE, 2) + alloc(1, 0, 1),
}


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out_dir, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out_dir, "seed-" + name), "wb") as out:
            out.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
