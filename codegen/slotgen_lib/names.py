"""The naming grammar of generated C identifiers, in one place.

  <PREFIX>_SIZE, <PREFIX>_ALIGN, <PREFIX>_ARRAY_ALIGN
  <PREFIX>_<PATH>_OFFSET, <PREFIX>_<PATH>_SIZE      PATH: member path joined by '_',
                                                     upper-cased, leading '_' dropped
  <PREFIX>_<PATH>_<SUB>_SHIFT / _WIDTH / _MASK       bit sub-fields (mask in place)
  <PREFIX>_<NAME>                                    constants
  <PREFIX>_<SET>_<FLAG>, <PREFIX>_<SET>_<FLAG>_BIT   flag masks and bit numbers
  <PREFIX>_<SET>_ALL                                 every flag of a set, OR-ed
  <PREFIX>_MEMBERS(X)                                X-macro table of every member
  struct <struct>_<type>                             named aggregate types
  <struct>_<path>_<op>()                             atomic accessors, path joined by '_'
  <struct>_<path>_<sub>_get() / _set()               bit sub-field accessors
"""
from __future__ import annotations

from collections import Counter

from .errors import Collector, Loc
from .layout import Layout, Member


def upper_path(path: tuple[str, ...]) -> str:
    return "_".join(part.lstrip("_").upper() for part in path)


def member_macro(prefix: str, path: tuple[str, ...], suffix: str) -> str:
    return f"{prefix}_{upper_path(path)}_{suffix}"


def bits_macro(prefix: str, path: tuple[str, ...], sub: str, suffix: str) -> str:
    return f"{prefix}_{upper_path(path)}_{sub.upper()}_{suffix}"


def constant_macro(prefix: str, name: str) -> str:
    return f"{prefix}_{name}"


def flag_macro(prefix: str, flag_set: str, flag: str) -> str:
    return f"{prefix}_{flag_set.upper()}_{flag}"


def flag_set_all_macro(prefix: str, flag_set: str) -> str:
    return f"{prefix}_{flag_set.upper()}_ALL"


def aggregate_tag(struct: str, type_name: str) -> str:
    return f"{struct}_{type_name}"


def accessor(struct: str, path: tuple[str, ...], op: str) -> str:
    return f"{struct}_{'_'.join(path)}_{op}"


def guard(prefix: str, what: str) -> str:
    return f"{prefix}_{what}_INCLUDED"


def all_names(layout: Layout) -> list[tuple[str, Loc, str]]:
    """Every identifier the generated files define, with where it comes from."""
    schema = layout.schema
    p, s = schema.prefix, schema.struct
    out: list[tuple[str, Loc, str]] = [
        (f"{p}_{x}", schema.loc, "the struct") for x in ("SIZE", "ALIGN", "ARRAY_ALIGN", "MEMBERS")]
    out += [(guard(p, "H"), schema.loc, "the header guard"),
            (guard(p, "MEMBERS_H"), schema.loc, "the header guard")]
    out += [(aggregate_tag(s, t.name), t.loc, f"type '{t.name}'") for t in schema.types]
    for m in layout.primary.members:
        out += _member_names(schema.prefix, s, m)
    for c in schema.constants:
        out.append((constant_macro(p, c.name), c.loc, f"constant '{c.name}'"))
    for fs in schema.flag_sets:
        out.append((flag_set_all_macro(p, fs.name), fs.loc, f"flag set '{fs.name}' (its ALL mask)"))
        for flag in fs.flags:
            what = f"flag '{fs.name}.{flag.name}'"
            out.append((flag_macro(p, fs.name, flag.name), flag.loc, what))
            if flag.bit is not None:
                out.append((flag_macro(p, fs.name, flag.name) + "_BIT", flag.loc, what))
    return out


def _member_names(prefix: str, struct: str, m: Member) -> list[tuple[str, Loc, str]]:
    what = f"member '{m.dotted}'"
    loc = m.field.loc
    out = [(member_macro(prefix, m.path, x), loc, what) for x in ("OFFSET", "SIZE")]
    out += [(accessor(struct, m.path, op.name), loc, what) for op in m.field.ops]
    for sub in m.field.bits:
        sub_what = f"sub-field '{m.dotted}.{sub.name}'"
        out += [(bits_macro(prefix, m.path, sub.name, x), sub.loc, sub_what)
                for x in ("SHIFT", "WIDTH", "MASK")]
        out += [(accessor(struct, m.path + (sub.name,), x), sub.loc, sub_what)
                for x in ("get", "set")]
    return out


# Macros the standard headers included by the generated C define (C11 7.17, 7.18, 7.19,
# 7.20, and C23's *_WIDTH), and the GNU dialects' predefined ones: a member, struct or
# generated name equal to one of them changes its meaning.
STD_MACROS = frozenset("""
bool true false NULL offsetof kill_dependency ATOMIC_VAR_INIT ATOMIC_FLAG_INIT
ATOMIC_BOOL_LOCK_FREE ATOMIC_CHAR_LOCK_FREE ATOMIC_CHAR16_T_LOCK_FREE ATOMIC_CHAR32_T_LOCK_FREE
ATOMIC_WCHAR_T_LOCK_FREE ATOMIC_SHORT_LOCK_FREE ATOMIC_INT_LOCK_FREE ATOMIC_LONG_LOCK_FREE
ATOMIC_LLONG_LOCK_FREE ATOMIC_POINTER_LOCK_FREE
atomic_init atomic_is_lock_free atomic_load atomic_load_explicit atomic_store
atomic_store_explicit atomic_exchange atomic_exchange_explicit atomic_compare_exchange_strong
atomic_compare_exchange_strong_explicit atomic_compare_exchange_weak
atomic_compare_exchange_weak_explicit atomic_fetch_add atomic_fetch_add_explicit atomic_fetch_sub
atomic_fetch_sub_explicit atomic_fetch_or atomic_fetch_or_explicit atomic_fetch_xor
atomic_fetch_xor_explicit atomic_fetch_and atomic_fetch_and_explicit atomic_flag_test_and_set
atomic_flag_test_and_set_explicit atomic_flag_clear atomic_flag_clear_explicit
atomic_thread_fence atomic_signal_fence
INTPTR_MIN INTPTR_MAX UINTPTR_MAX INTMAX_MIN INTMAX_MAX UINTMAX_MAX INTMAX_C UINTMAX_C
PTRDIFF_MIN PTRDIFF_MAX SIG_ATOMIC_MIN SIG_ATOMIC_MAX SIZE_MAX WCHAR_MIN WCHAR_MAX WINT_MIN WINT_MAX
""".split() + [f"{kind}{w}_{end}" for w in (8, 16, 32, 64)
               for kind in ("INT", "INT_LEAST", "INT_FAST") for end in ("MIN", "MAX")]
    + [f"U{kind}{w}_MAX" for w in (8, 16, 32, 64) for kind in ("INT", "INT_LEAST", "INT_FAST")]
    + [f"{kind}{w}_C" for w in (8, 16, 32, 64) for kind in ("INT", "UINT")]
    # C23 and _GNU_SOURCE: the widths of <stdint.h>'s types
    + [f"{sign}{kind}{w}_WIDTH" for w in (8, 16, 32, 64) for sign in ("", "U")
       for kind in ("INT", "INT_LEAST", "INT_FAST")]
    + "INTPTR_WIDTH UINTPTR_WIDTH INTMAX_WIDTH UINTMAX_WIDTH PTRDIFF_WIDTH SIG_ATOMIC_WIDTH "
      "SIZE_WIDTH WCHAR_WIDTH WINT_WIDTH".split()
    # what gcc and clang predefine in the GNU dialects kernels build with (-std=gnu11)
    + ["linux", "unix", "i386"])


def _plain_names(layout: Layout) -> list[tuple[str, Loc, str]]:
    """Schema names the generated C spells as they are: the struct tag and member names."""
    schema = layout.schema
    fields = list(schema.fields) + [f for t in schema.types for f in t.fields]
    return [(schema.struct, schema.struct_loc, "the struct")] + \
        [(f.name, f.loc, f"member '{f.name}'") for f in fields]


# Tags the standard headers declare (clang's <stdatomic.h> declares both as tags): a struct
# of the same name is a redefinition.
STD_TAGS = frozenset({"memory_order", "atomic_flag"})


def _tags(layout: Layout) -> list[tuple[str, Loc, str]]:
    schema = layout.schema
    return [(schema.struct, schema.struct_loc, "the struct")] + \
        [(aggregate_tag(schema.struct, t.name), t.loc, f"type '{t.name}'") for t in schema.types]


def _own_macros(layout: Layout) -> dict[str, str]:
    """The generated macros (not functions, not tags), each with what it is generated for."""
    schema = layout.schema
    not_macros = [(aggregate_tag(schema.struct, t.name), f"type '{t.name}'")
                  for t in schema.types]
    for m in layout.primary.members:
        not_macros += [(accessor(schema.struct, m.path, op.name), f"member '{m.dotted}'")
                       for op in m.field.ops]
        not_macros += [(accessor(schema.struct, m.path + (sub.name,), x),
                        f"sub-field '{m.dotted}.{sub.name}'")
                       for sub in m.field.bits for x in ("get", "set")]
    # <PREFIX>_MEMBERS(X) is function-like: a name without '(' after it is left alone.
    not_macros.append((f"{schema.prefix}_MEMBERS", "the struct"))
    left = Counter(not_macros)
    out: dict[str, str] = {}
    for name, _, what in all_names(layout):
        if left[(name, what)] > 0:
            left[(name, what)] -= 1
        else:
            out.setdefault(name, what)
    return out


def check_collisions(layout: Layout, errors: Collector) -> None:
    for name, loc, what in _plain_names(layout) + all_names(layout):
        if name in STD_MACROS:
            errors.error(loc, f"the name '{name}' of {what} is a macro of the standard C "
                         "headers the generated header includes, or one the compiler "
                         "predefines in GNU C", "rename it")
    for name, loc, what in _tags(layout):
        if name in STD_TAGS:
            errors.error(loc, f"the tag 'struct {name}' of {what} is declared by <stdatomic.h>, "
                         "which the generated header includes", "rename it")
    macros = _own_macros(layout)
    for name, loc, what in _plain_names(layout) + _tags(layout)[1:]:
        if name in macros:
            errors.error(loc, f"the name '{name}' of {what} is also a macro the generated header "
                         f"defines (for {macros[name]}), which would replace it",
                         "rename it, or choose another 'prefix'")
    seen: dict[str, str] = {}
    for name, loc, what in all_names(layout):
        if name in seen and seen[name] != what:
            errors.error(loc, f"the generated name '{name}' of {what} collides with the same name "
                         f"generated for {seen[name]}", "rename one of them")
        seen.setdefault(name, what)
