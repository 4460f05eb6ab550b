"""Provenance: the build records the commit (setup.py's build_py), git_commit() reads it, environment() has argv."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import langevin_grok
from langevin_grok._core import provenance

ROOT = Path(__file__).resolve().parent.parent


def _git(*args, cwd=ROOT) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout.strip()


def _setup_module():
    spec = importlib.util.spec_from_file_location("langevin_grok_setup", ROOT / "setup.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # __name__ is not "__main__": setup() does not run
    return mod


def _needs_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")


def test_build_py_writes_build_info_into_the_build_and_git_commit_reads_it(tmp_path, monkeypatch):
    _needs_git()
    from setuptools import Distribution, find_packages

    mod = _setup_module()
    monkeypatch.chdir(ROOT)
    dist = Distribution({"name": "langevin-grok", "version": langevin_grok.__version__,
                         "packages": find_packages(include=["langevin_grok*"]),
                         "script_name": str(ROOT / "setup.py")})
    cmd = mod.BuildPyWithInfo(dist)
    cmd.build_lib = str(tmp_path / "lib")
    cmd.ensure_finalized()
    cmd.run()
    info = json.loads((tmp_path / "lib" / "langevin_grok" / "_build_info.json").read_text())
    assert info["commit"] == _git("rev-parse", "HEAD")
    assert info["version"] == langevin_grok.__version__
    assert info["dirty"] == bool(_git("status", "--porcelain", "--untracked-files=no"))
    assert not (ROOT / "langevin_grok" / "_build_info.json").exists()  # never into the source tree
    assert str(tmp_path / "lib" / "langevin_grok" / "_build_info.json") in cmd.get_outputs()
    # the built copy is not a git checkout: git_commit() falls back on the record
    monkeypatch.setattr(provenance, "_PKG", tmp_path / "lib" / "langevin_grok")
    assert provenance.git_commit().startswith(info["commit"])
    assert provenance.git_commit().endswith("(recorded at build time)")


def test_build_info_without_git_records_null(tmp_path):
    mod = _setup_module()
    assert mod.build_info(tmp_path, "9.9") == {"commit": None, "dirty": None, "version": "9.9"}


def test_git_commit_without_checkout_or_record(tmp_path, monkeypatch):
    (tmp_path / "langevin_grok").mkdir()
    monkeypatch.setattr(provenance, "_PKG", tmp_path / "langevin_grok")
    assert provenance.git_commit().startswith("unknown")


def test_environment_records_the_command_line(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["langevin-grok", "sweep-report", "x.sqlite"])
    env = provenance.environment()
    assert env["argv"] == ["langevin-grok", "sweep-report", "x.sqlite"]
    assert env["langevin_grok"] == langevin_grok.__version__


@pytest.mark.slow
def test_wheel_contains_the_commit(tmp_path):
    """Build a wheel offline (no build isolation) from a copy of the tree committed in a scratch repository."""
    _needs_git()
    import setuptools

    if int(setuptools.__version__.split(".")[0]) < 77:
        pytest.skip(f"offline wheel build needs setuptools >= 77 installed (SPDX license), have {setuptools.__version__}")
    src = tmp_path / "src"
    for rel in _git("ls-files", "--cached", "--others", "--exclude-standard").splitlines():
        if (ROOT / rel).is_file():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    _git("add", "-A", cwd=src)
    _git("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-qm", "snapshot", cwd=src)
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "-q",  # noqa: PLW1510
                        "-w", str(tmp_path / "w"), str(src)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    (whl,) = (tmp_path / "w").glob("langevin_grok-*.whl")
    info = json.loads(zipfile.ZipFile(whl).read("langevin_grok/_build_info.json"))
    assert info == {"commit": _git("rev-parse", "HEAD", cwd=src), "dirty": False,
                    "version": langevin_grok.__version__}
