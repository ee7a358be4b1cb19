"""Independent oracles for a generated layout: the C compiler, pycparser and DWARF.

Each returns {member path: (offset, size)} plus "<size>" and, where the oracle
knows it, "<align>"; none of them reads the generator's numbers.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from pycparser import c_ast, c_parser

FAKE_LIBC = "/usr/share/python3-pycparser/fake_libc_include"
Offsets = dict[str, tuple[int, int]]


def member_paths(layout_json: Path) -> list[str]:
    return [m["path"] for m in json.loads(Path(layout_json).read_text())["members"]]


def compiler_offsets(header: Path, struct: str, paths: list[str], cc: list[str],
                     workdir: Path, run: bool = True) -> Offsets:
    """Compile and run a probe printing offsetof/sizeof/alignof of every member."""
    lines = [f'#include "{header.name}"', "#include <stdio.h>", "int main(void)", "{"]
    lines.append(f'\tprintf("<size> 0 %zu\\n", sizeof(struct {struct}));')
    lines.append(f'\tprintf("<align> 0 %zu\\n", _Alignof(struct {struct}));')
    for path in paths:
        lines.append(f'\tprintf("{path} %zu %zu\\n", offsetof(struct {struct}, {path}), '
                     f"sizeof(((struct {struct} *)0)->{path}));")
    lines += ["\treturn 0;", "}"]
    src = workdir / "probe.c"
    exe = workdir / "probe"
    src.write_text("\n".join(lines) + "\n")
    subprocess.run([*cc, "-std=c11", "-Wall", "-Wextra", "-Wpedantic", "-Werror", "-Wno-psabi",
                    f"-I{header.parent}", str(src), "-o", str(exe)],
                   check=True, capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    result: Offsets = {}
    for line in out.splitlines():
        path, offset, size = line.split()
        result[path] = (int(offset), int(size))
    result["<size>"] = (0, result["<size>"][1])
    return result


_SCALAR_BYTES = {"uint8_t": 1, "int8_t": 1, "uint16_t": 2, "int16_t": 2, "uint32_t": 4,
                 "int32_t": 4, "uint64_t": 8, "int64_t": 8}


def _scalar(name: str, atomic: bool, target: str) -> tuple[int, int]:
    """The psABI rules, written independently of the generator."""
    if name == "uintptr_t":
        return (4, 4) if target == "i386" else (8, 8)
    size = _SCALAR_BYTES[name]
    align = 4 if target == "i386" and size == 8 and not atomic else size
    return size, align


class _Structs:
    def __init__(self, ast: c_ast.FileAST, target: str) -> None:
        self.defs = {}
        self.target = target
        for node in ast.ext:
            decl_type = getattr(node, "type", None)
            if isinstance(decl_type, c_ast.Struct) and decl_type.decls is not None:
                self.defs[decl_type.name] = decl_type

    def shape(self, decl_type, quals: list[str]) -> tuple[int, int, str | None]:
        """(size, align, nested struct name) of a declarator's type."""
        if isinstance(decl_type, c_ast.ArrayDecl):
            size, align, nested = self.shape(decl_type.type, quals)
            return size * int(decl_type.dim.value, 0), align, nested
        if isinstance(decl_type, c_ast.TypeDecl):
            inner = decl_type.type
            atomic = "_Atomic" in (decl_type.quals or []) or "_Atomic" in quals
            if isinstance(inner, c_ast.Struct):
                size, align, _ = self.layout(inner.name)
                return size, align, inner.name
            size, align = _scalar(inner.names[0], atomic, self.target)
            return size, align, None
        raise ValueError(f"unsupported declarator {type(decl_type).__name__}")

    def layout(self, name: str) -> tuple[int, int, Offsets]:
        pos, max_align, out = 0, 1, {}
        for decl in self.defs[name].decls:
            size, align, nested = self.shape(decl.type, decl.quals or [])
            pos = -(-pos // align) * align
            out[decl.name] = (pos, size)
            if nested:
                for path, (off, sub) in self.layout(nested)[2].items():
                    out[f"{decl.name}.{path}"] = (pos + off, sub)
            pos += size
            max_align = max(max_align, align)
        return -(-pos // max_align) * max_align, max_align, out


def pycparser_offsets(header: Path, struct: str, target: str = "x86_64") -> Offsets:
    """Parse the preprocessed header and lay the struct out from its declarations."""
    macro = {"x86_64": "__x86_64__", "i386": "__i386__", "aarch64": "__aarch64__"}[target]
    text = subprocess.run(
        ["gcc", "-E", "-P", "-std=c11", "-nostdinc", "-undef", f"-D{macro}=1", f"-I{FAKE_LIBC}",
         "-D__attribute__(x)=", str(header)],
        check=True, capture_output=True, text=True).stdout
    ast = c_parser.CParser().parse(text, filename=str(header))
    size, align, offsets = _Structs(ast, target).layout(struct)
    offsets["<size>"] = (0, size)
    offsets["<align>"] = (0, align)
    return offsets


_PAHOLE_MEMBER = re.compile(r"^\s*(?P<type>.+?)\s+(?P<name>\w+)(?:\[\d+\])*"
                            r"(?:\s+__attribute__\(\(.*?\)\))?;\s*"
                            r"/\*\s*(?P<off>\d+)\s+(?P<size>\d+)\s*\*/")
_PAHOLE_SIZE = re.compile(r"/\*\s*size:\s*(\d+),")


def pahole_struct(obj: Path, name: str) -> tuple[int, list[tuple[str, str, int, int]]]:
    out = subprocess.run(["pahole", "-C", name, str(obj)], check=True, capture_output=True,
                         text=True)
    text = out.stdout + out.stderr
    if "ERROR" in text or not out.stdout.strip():
        raise AssertionError(f"pahole could not read struct {name}:\n{text}")
    members, size = [], None
    for line in out.stdout.splitlines():
        match = _PAHOLE_MEMBER.match(line)
        if match:
            members.append((match["type"].strip(), match["name"], int(match["off"]),
                            int(match["size"])))
        found = _PAHOLE_SIZE.search(line)
        if found:
            size = int(found.group(1))
    assert size is not None, out.stdout
    return size, members


def pahole_offsets(header: Path, struct: str, cc: list[str], workdir: Path) -> Offsets:
    """Compile an object with DWARF 4 (pahole 1.24 cannot read DWARF 5 _Atomic) and read it."""
    src = workdir / "dwarf_probe.c"
    obj = workdir / "dwarf_probe.o"
    src.write_text(f'#include "{header.name}"\nstruct {struct} dwarf_probe_instance;\n')
    subprocess.run([*cc, "-std=c11", "-g", "-gdwarf-4", "-c", f"-I{header.parent}", str(src),
                    "-o", str(obj)], check=True, capture_output=True, text=True)

    def walk(name: str, base: int, prefix: str, out: Offsets) -> int:
        size, members = pahole_struct(obj, name)
        for ctype, member, off, msize in members:
            out[prefix + member] = (base + off, msize)
            if ctype.startswith("struct "):
                walk(ctype.split()[1], base + off, prefix + member + ".", out)
        return size

    result: Offsets = {}
    result["<size>"] = (0, walk(struct, 0, "", result))
    return result


def json_offsets(layout_json: Path, target: str | None = None) -> Offsets:
    data = json.loads(Path(layout_json).read_text())
    view = data["targets"][target] if target else data
    out = {m["path"]: (m["offset"], m["size"]) for m in view["members"]}
    out["<size>"] = (0, view["size"])
    out["<align>"] = (0, view["align"])
    return out


def disagreements(expected: Offsets, seen: Offsets) -> list[str]:
    """Human-readable differences, comparing only keys both sides know."""
    problems = []
    for key in sorted(set(expected) | set(seen)):
        if key == "<align>" and key not in seen:
            continue
        if expected.get(key) != seen.get(key):
            problems.append(f"{key}: layout says {expected.get(key)}, oracle says {seen.get(key)}")
    return problems
