"""Shared fixtures: run slotgen as a user would, in temporary directories."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SLOTGEN = ROOT / "codegen" / "slotgen"
SCHEMA = ROOT / "layout" / "slot.yaml"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "codegen"))


def run_slotgen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run codegen/slotgen through its own interpreter discovery, as the README says."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(SLOTGEN), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def slotgen():
    return run_slotgen


@pytest.fixture(scope="session")
def generated(tmp_path_factory) -> Path:
    """The project's schema generated once into a temporary directory."""
    out = tmp_path_factory.mktemp("gen")
    result = run_slotgen("generate", SCHEMA, "-o", out, "--lang", "c")
    assert result.returncode == 0, result.stderr
    return out
