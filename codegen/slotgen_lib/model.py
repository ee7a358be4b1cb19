"""The validated schema: frozen dataclasses that later stages read, never raw YAML."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import Loc

SCALARS = ("u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "uptr")
TARGETS = ("x86_64", "i386", "aarch64")
ORDERS = ("relaxed", "acquire", "release", "acq_rel", "seq_cst")
OPS = ("load", "store", "cas", "fetch_add", "fetch_sub", "fetch_or", "fetch_and", "exchange")
DEFAULT_OPS = (("load", ("acquire",)), ("store", ("release",)))


@dataclass(frozen=True)
class TypeRef:
    """A member's type as written: '[atomic ]base[[count]]'."""

    base: str
    atomic: bool = False
    count: int | None = None

    @property
    def is_scalar(self) -> bool:
        return self.base in SCALARS

    @property
    def signed(self) -> bool:
        return self.base.startswith("i")

    def spelling(self) -> str:
        text = ("atomic " if self.atomic else "") + self.base
        return text + (f"[{self.count}]" if self.count is not None else "")


@dataclass(frozen=True)
class Op:
    name: str
    orders: tuple[str, ...]
    loc: Loc


@dataclass(frozen=True)
class BitField:
    name: str
    lsb: int
    width: int
    doc: str
    loc: Loc


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeRef
    doc: str
    loc: Loc
    type_loc: Loc
    offset: int | None = None
    offset_loc: Loc | None = None
    reserved: bool = False
    ops: tuple[Op, ...] = ()
    bits: tuple[BitField, ...] = ()
    flag_set: str | None = None


@dataclass(frozen=True)
class Aggregate:
    name: str
    doc: str
    fields: tuple[Field, ...]
    loc: Loc


@dataclass(frozen=True)
class Constant:
    name: str
    type: str
    value: int
    doc: str
    loc: Loc


@dataclass(frozen=True)
class Flag:
    name: str
    mask: int
    bit: int | None
    doc: str
    loc: Loc


@dataclass(frozen=True)
class FlagSet:
    name: str
    type: str
    doc: str
    flags: tuple[Flag, ...]
    loc: Loc


def all_flags(flag_set: FlagSet) -> int:
    """Every flag of the set OR-ed: the set's <PREFIX>_<SET>_ALL mask."""
    value = 0
    for flag in flag_set.flags:
        value |= flag.mask
    return value


@dataclass(frozen=True)
class Schema:
    path: str
    sha256: str
    version: int
    struct: str
    prefix: str
    doc: str
    sizes: tuple[tuple[str, int | None], ...]  # None: missing or invalid (reported)
    align: int | None
    array_align: int | None
    portable: bool
    targets: tuple[str, ...]
    abi_version: int | None
    types: tuple[Aggregate, ...]
    fields: tuple[Field, ...]
    constants: tuple[Constant, ...]
    flag_sets: tuple[FlagSet, ...]
    loc: Loc
    size_loc: Loc
    doc_loc: Loc  # the 'doc' key, or the mapping when there is none
    align_loc: Loc  # the 'align' key (likewise)
    array_align_loc: Loc
    struct_loc: Loc
    prefix_loc: Loc
    targets_loc: Loc

    def size_for(self, target: str) -> int | None:
        return dict(self.sizes)[target]

    def aggregate(self, name: str) -> Aggregate | None:
        return next((t for t in self.types if t.name == name), None)

    def flag_set(self, name: str) -> FlagSet | None:
        return next((f for f in self.flag_sets if f.name == name), None)
