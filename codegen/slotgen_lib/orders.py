"""C11 memory-order rules for the atomic ops a schema may name."""
from __future__ import annotations

from .model import ORDERS

LOAD_ORDERS = ("relaxed", "acquire", "seq_cst")
STORE_ORDERS = ("relaxed", "release", "seq_cst")
# Strength of each order's acquire side and release side, for comparisons.
_ACQUIRE_SIDE = {"relaxed": 0, "acquire": 1, "release": 0, "acq_rel": 1, "seq_cst": 2}
_RELEASE_SIDE = {"relaxed": 0, "acquire": 0, "release": 1, "acq_rel": 1, "seq_cst": 2}


def allowed(op: str) -> tuple[str, ...]:
    """Orders C11 permits for an op (for cas: the success order)."""
    if op == "load":
        return LOAD_ORDERS
    if op == "store":
        return STORE_ORDERS
    return ORDERS


def cas_failure_problem(success: str, failure: str) -> str:
    """Why a cas failure order is forbidden for its success order, or ''."""
    if failure in ("release", "acq_rel"):
        return f"a cas failure order cannot be '{failure}' (C11 7.17.7.4)"
    if _ACQUIRE_SIDE[failure] > _ACQUIRE_SIDE[success]:
        return (f"the cas failure order '{failure}' is stronger than the "
                f"success order '{success}' (C11 7.17.7.4)")
    return ""


def default_cas_failure(success: str) -> str:
    """The strongest failure order allowed with a success order."""
    return {"relaxed": "relaxed", "acquire": "acquire", "release": "relaxed",
            "acq_rel": "acquire", "seq_cst": "seq_cst"}[success]


def compare(old: str, new: str) -> str:
    """'stronger', 'weaker', 'different' or 'same' for new relative to old."""
    if old == new:
        return "same"
    acq = _ACQUIRE_SIDE[new] - _ACQUIRE_SIDE[old]
    rel = _RELEASE_SIDE[new] - _RELEASE_SIDE[old]
    if acq >= 0 and rel >= 0:
        return "stronger"
    if acq <= 0 and rel <= 0:
        return "weaker"
    return "different"
