"""The benchmark command: it runs, and its table and JSON say what the README says.

Each bench binary named in METASLOT_BENCH_BINS (space-separated, set by
`make test-bench`) runs every row once at a tenth of the work (--quick); the
figures are not judged, their bookkeeping is: the contract rows are there,
min <= median <= max, ratio = median / limit of the same run, speedup = the
one-thread row's time / the two-thread row's time.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_ROWS = [
    "limit",
    "hot_order0_cached",
    "hot_order0_nocache",
    "fill_drain",
    "mixed",
    "mixed_16g",
    "hot_order0_cached_2t",
    "mixed_2t",
    "init_per_gib",
]
SPEEDUP_OF = {"hot_order0_cached_2t": "hot_order0_cached", "mixed_2t": "mixed"}
FIELDS = {"name", "median_ns", "min_ns", "max_ns", "limit_ns", "ratio", "speedup"}


def bench_bins() -> list[Path]:
    names = os.environ.get("METASLOT_BENCH_BINS", "").split()
    if not names:
        raise RuntimeError("METASLOT_BENCH_BINS is empty: run these tests with `make test-bench`")
    return [Path(name) for name in names]


@pytest.fixture(scope="module", params=bench_bins(), ids=lambda path: path.parent.name)
def quick_run(request, tmp_path_factory) -> tuple[dict, str]:
    json_path = tmp_path_factory.mktemp("bench") / "results.json"
    done = subprocess.run(
        [str(request.param), "--quick", "--runs", "1", "--json", str(json_path)],
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(json_path.read_text(encoding="utf-8")), done.stdout


def by_name(results: dict) -> dict[str, dict]:
    return {row["name"]: row for row in results["rows"]}


def test_contract_rows_and_fields(quick_run):
    results, table = quick_run
    assert isinstance(results["machine"], str) and results["machine"]
    assert isinstance(results["compiler"], str) and results["compiler"]
    names = [row["name"] for row in results["rows"]]
    assert [name for name in names if name in CONTRACT_ROWS] == CONTRACT_ROWS
    for row in results["rows"]:
        assert set(row) == FIELDS, row
        assert 0 < row["min_ns"] <= row["median_ns"] <= row["max_ns"], row
        assert any(line.split()[:1] == [row["name"]] for line in table.splitlines()), row["name"]


def test_ratio_is_median_over_limit_of_the_same_run(quick_run):
    results, _ = quick_run
    rows = by_name(results)
    limit_ns = rows["limit"]["median_ns"]
    for row in results["rows"]:
        assert row["limit_ns"] == limit_ns
        if row["name"] == "init_per_gib":
            assert row["ratio"] is None
        else:
            assert row["ratio"] == pytest.approx(row["median_ns"] / limit_ns, rel=2e-3, abs=2e-3)


def test_printed_table_says_what_the_json_says(quick_run):
    """Each row of the printed table carries the JSON's figures (to the table's two
    decimals): a wrong ratio or speedup column would mislead whoever reads only it."""
    results, table = quick_run
    printed = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:] if line.split()}
    for row in results["rows"]:
        cells = printed[row["name"]]
        assert len(cells) == 6, (row["name"], cells)
        for cell, field in zip(cells, ("median_ns", "min_ns", "max_ns", "limit_ns", "ratio",
                                       "speedup")):
            if row[field] is None:
                assert cell == "-", (row["name"], field, cell)
            else:
                assert float(cell) == pytest.approx(row[field], abs=0.006), (row["name"], field)


def test_speedup_compares_with_the_one_thread_row(quick_run):
    results, _ = quick_run
    rows = by_name(results)
    for row in results["rows"]:
        base = SPEEDUP_OF.get(row["name"])
        if base is None and row["name"] != "hot_order0_cached_2i":
            assert row["speedup"] is None, row
            continue
        base = base or "hot_order0_cached"
        expected = rows[base]["median_ns"] / row["median_ns"]
        assert row["speedup"] == pytest.approx(expected, rel=2e-3, abs=2e-3), row


def test_unknown_row_is_refused(tmp_path):
    for binary in bench_bins():
        json_path = tmp_path / "out.json"
        done = subprocess.run([str(binary), "--only", "no_such_row", "--json", str(json_path)],
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2
        assert "no row named 'no_such_row'" in done.stderr
        assert not json_path.exists()


def test_merge_keeps_every_build(tmp_path):
    first = {"machine": "m", "compiler": "gcc", "runs": 1, "rows": [{"name": "limit"}]}
    second = {"machine": "m", "compiler": "clang", "runs": 1, "rows": []}
    paths = []
    for index, results in enumerate((first, second)):
        path = tmp_path / f"results-{index}.json"
        path.write_text(json.dumps(results), encoding="utf-8")
        paths.append(str(path))
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "merge_results.py"), "-o", str(out),
                           *paths], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    merged = json.loads(out.read_text(encoding="utf-8"))
    assert (merged["machine"], merged["compiler"], merged["rows"]) == ("m", "gcc", first["rows"])
    assert merged["builds"] == [first, second]
