"""Provenance of a result: package version, git commit, Python, platform and the numerical stack.

One definition used by every writer (validation results, reproduction report, sweeps). The commit is read
from the git checkout the package runs from; a non-editable install records the commit it was built from in
``langevin_grok/_build_info.json`` (written at build time, see ``setup.py``), so ``pip install .`` keeps it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

__all__ = ["environment", "git_commit"]

_VERSIONED = ("numpy", "scipy", "matplotlib", "mpmath", "sympy", "numba", "sdeint")
_PKG = Path(__file__).resolve().parent.parent


def _git(root: Path) -> str | None:
    if not (root / ".git").exists():
        return None
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short=12", "HEAD"], capture_output=True,
                             text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return rev + (" (with uncommitted changes)" if dirty else "")


def git_commit() -> str:
    """The commit behind this copy of the package: the live checkout, else the one recorded at build time."""
    live = _git(_PKG.parent)
    if live:
        return live
    info = _PKG / "_build_info.json"
    try:
        data = json.loads(info.read_text())
        recorded, dirty = data.get("commit"), data.get("dirty")
    except (OSError, ValueError, AttributeError):
        recorded, dirty = None, None
    if not recorded:
        return "unknown (not a git checkout, no build record)"
    return f"{recorded}{' with uncommitted changes' if dirty else ''} (recorded at build time)"


def environment() -> dict:
    """Versions of Python, this package, its numerical dependencies, the commit, platform, core count and
    the command line (``argv``: ``sys.argv`` of the process that produced the result)."""
    from .version import __version__

    env = {"langevin_grok": __version__, "git": git_commit(), "python": platform.python_version(),
           "platform": platform.platform(), "cpu_count": os.cpu_count(), "argv": list(sys.argv)}
    for name in _VERSIONED:
        try:
            env[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            env[name] = "not installed"
    return env
