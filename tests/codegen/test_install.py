"""`make install` into a temporary DESTDIR, the installed example built and run
against it with nothing from the source tree on its paths, then `make uninstall`.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT

PREFIX = "/opt/metaslot"
SENTINEL = "bin/not-ours"


def _make(*args: str, cwd: Path = ROOT, env: dict | None = None) -> str:
    env = dict(os.environ if env is None else env)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    result = subprocess.run(["make", "--no-print-directory", *args], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.fixture(scope="module")
def staged(tmp_path_factory):
    destdir = tmp_path_factory.mktemp("destdir")
    root = destdir / PREFIX.lstrip("/")
    (root / SENTINEL).parent.mkdir(parents=True)
    (root / SENTINEL).write_text("installed by someone else\n")
    _make("install", f"DESTDIR={destdir}", f"PREFIX={PREFIX}")
    return destdir, root


def test_install_puts_every_piece_in_place_and_lists_it(staged):
    _, root = staged
    for path in ("bin/slotgen", "include/metaslot/ms.h", "include/metaslot/meta_slot.h",
                 "include/metaslot/meta_slot_members.h", "lib/libmetaslot.a",
                 "lib/pkgconfig/metaslot.pc", "share/metaslot/slot.yaml",
                 "share/metaslot/doc/README.md", "share/metaslot/codegen/slotgen",
                 "share/metaslot/codegen/templates/struct.h.j2",
                 "share/metaslot/examples/embed/Makefile"):
        assert (root / path).is_file(), path
    assert os.access(root / "bin" / "slotgen", os.X_OK)
    manifest = (root / "share/metaslot/install-manifest.txt").read_text().split()
    assert sorted(manifest) == sorted(_files(root) - {SENTINEL})
    assert f"prefix={PREFIX}\n" in (root / "lib/pkgconfig/metaslot.pc").read_text()


def test_install_pkg_config_points_into_destdir(staged):
    destdir, root = staged
    env = dict(os.environ, PKG_CONFIG_PATH=str(root / "lib/pkgconfig"),
               PKG_CONFIG_SYSROOT_DIR=str(destdir))
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "metaslot"], env=env,
                           check=True, capture_output=True, text=True).stdout.split()
    assert flags == [f"-I{root}/include", f"-L{root}/lib", "-lmetaslot"]
    # The variables a build uses to find the generator and the schema name files
    # that were installed.
    for variable, path in (("slotgen", "bin/slotgen"), ("schema", "share/metaslot/slot.yaml"),
                           ("datadir", "share/metaslot"), ("includedir", "include")):
        value = subprocess.run(["pkg-config", f"--variable={variable}", "metaslot"], env=env,
                               check=True, capture_output=True, text=True).stdout.strip()
        assert value == f"{root}/{path}", (variable, value)
        assert Path(value).exists(), (variable, value)


def test_install_example_builds_and_runs_outside_the_tree(staged, tmp_path):
    destdir, root = staged
    project = tmp_path / "embed"
    shutil.copytree(root / "share/metaslot/examples/embed", project)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LC_ALL": "C",
           "PKG_CONFIG_PATH": str(root / "lib/pkgconfig"), "PKG_CONFIG_SYSROOT_DIR": str(destdir)}
    out = _make(f"SLOTGEN={root}/bin/slotgen", "run", cwd=project, env=env)
    assert "embed: OK: 1024 of 1024 frames free, slot size 64 bytes" in out, out
    assert str(ROOT) not in out, out
    assert f"-I{root}/include" in out and "-Ibuild" in out, out
    # The example's own schema copy has the layout the installed library was built with.
    mine = json.loads((project / "build/meta_slot.layout.json").read_text())
    theirs = json.loads((root / "share/metaslot/meta_slot.layout.json").read_text())
    assert mine["targets"] == theirs["targets"], \
        "examples/embed/slot.yaml no longer matches layout/slot.yaml: copy it again"


def test_uninstall_removes_exactly_what_was_installed(staged):
    destdir, root = staged
    _make("uninstall", f"DESTDIR={destdir}", f"PREFIX={PREFIX}")
    assert _files(root) == {SENTINEL}
    assert not (root / "share/metaslot").exists()
    assert not (root / "include/metaslot").exists()


def test_a_prefix_with_a_space_gives_a_working_pkg_config_file(tmp_path):
    """pkg-config's own escaping ('\\ ') in metaslot.pc: its output, given to the shell as
    Makefiles and `eval` give it, compiles and links a program against the install."""
    prefix = tmp_path / "with space" / "inst"
    _make("install", f"PREFIX={prefix}")
    assert "prefix=" + str(prefix).replace(" ", "\\ ") + "\n" in \
        (prefix / "lib/pkgconfig/metaslot.pc").read_text()
    probe = tmp_path / "probe.c"
    probe.write_text('#include "metaslot/meta_slot.h"\n#include "metaslot/ms.h"\n'
                     "int main(void) { return META_SLOT_SIZE == 64 ? 0 : 1; }\n")
    env = dict(os.environ, PKG_CONFIG_PATH=str(prefix / "lib/pkgconfig"))
    built = subprocess.run(["sh", "-c", 'eval "gcc -std=c11 \\"$1\\" $(pkg-config --cflags --libs '
                            'metaslot) -o \\"$2\\""', "sh", str(probe), str(tmp_path / "probe")],
                           env=env, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    assert subprocess.run([str(tmp_path / "probe")]).returncode == 0
    _make("uninstall", f"PREFIX={prefix}")
    assert not (prefix / "lib/pkgconfig/metaslot.pc").exists()


@pytest.mark.parametrize("prefix", ["/tmp/a&b", "/tmp/it's", "relative/dir", "/tmp/a;b",
                                    "/tmp/a\\b", "/tmp/a#b"])
def test_a_prefix_the_pc_file_or_shell_cannot_hold_is_refused(prefix, tmp_path):
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    result = subprocess.run(["make", "--no-print-directory", "install", f"PREFIX={prefix}",
                             f"DESTDIR={tmp_path}"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode != 0
    assert "PREFIX" in result.stderr and "Stop." in result.stderr, result.stderr
    assert not any(tmp_path.iterdir()), "nothing may be installed"
