"""`slotgen diff --format svg`: the old and new byte maps one above the other,
members that moved, changed or appeared outlined in the colour of their class."""
from __future__ import annotations

from .diff_format import Result, on_targets, verdict_text, where
from .diff_model import Snapshot, TargetSnap
from .svg_map import HIGHLIGHT, LEFT, Canvas, colours, document, panel

# Changes that are drawn as outlines: a member whose bytes differ between the maps.
PLACED = ("offset", "size", "align", "type", "atomic", "signedness", "member-added",
          "member-removed", "member-renamed", "bits-moved", "bits-width", "bits-added",
          "bits-removed", "reserved-shrunk", "reserved-grown")


def _marks(result: Result, side: str) -> dict[str, str]:
    """Member path -> outline colour for one side, worst class winning."""
    marks: dict[str, str] = {}
    for change in reversed(result.changes):  # worst class last, so it wins
        if change.what not in PLACED or change.kind not in HIGHLIGHT:
            continue
        path = change.subject
        if change.what.startswith("bits-"):
            path = path.rpartition(".")[0]
        if change.what == "member-renamed" and side == "old":
            path = change.old
        marks[path] = HIGHLIGHT[change.kind]
    return marks


def render(old: Snapshot, new: Snapshot, result: Result, target: str | None) -> str:
    name = target or new.targets[0].target
    canvas = Canvas()
    title = f"struct {new.struct} on {name}: {result.old} -> {result.new}"
    y = 8.0
    old_target = old.target(name)
    palette = colours(*([old_target] if old_target else []), new.target(name))
    if old_target is not None:
        y = panel(canvas, old, old_target, y, f"OLD {result.old} ({old_target.size} bytes)",
                  _expand(old, old_target, _marks(result, "old")), palette)
    y = panel(canvas, new, new.target(name), y + 20,
              f"NEW {result.new} ({new.target(name).size} bytes)",
              _expand(new, new.target(name), _marks(result, "new")), palette)
    y += 30
    for kind, colour in HIGHLIGHT.items():
        canvas.rect(LEFT, y - 10, 14, 12, "none", colour, 3)
        canvas.text(LEFT + 20, y, f"{kind} change", 10)
        y += 16
    y += 8
    for change in result.changes:
        canvas.text(LEFT, y, f"{change.kind}: {change.message}{on_targets(change)} "
                    f"[{where(result, change)}]", 10, fill=HIGHLIGHT.get(change.kind, "#555"))
        y += 15
    canvas.text(LEFT, y + 8, verdict_text(result), 11, weight="bold")
    return document(canvas, y + 24, title)


def _expand(snap: Snapshot, target: TargetSnap, marks: dict[str, str]) -> dict[str, str]:
    """Outline an aggregate's nested members when the aggregate is marked."""
    out = dict(marks)
    for place in target.places:
        parent = place.path.partition(".")[0]
        if "." in place.path and parent in marks and place.path not in out:
            out[place.path] = marks[parent]
    return out
