"""Build hook of langevin-grok: everything else is in pyproject.toml.

``build_py`` also writes ``langevin_grok/_build_info.json`` into the build (never into the source tree):
``{"commit": <git rev-parse HEAD of the source, or null>, "dirty": <uncommitted changes to tracked files,
or null>, "version": <package version>}``. :func:`langevin_grok._core.provenance.git_commit` reads it when
the installed package is not a git checkout, so ``pip install .`` (wheel, ``--target``, a non-editable
install) still records the commit its results came from. Building from an sdist (no .git) records null.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

BUILD_INFO = "_build_info.json"
PACKAGE = "langevin_grok"


def _git(root: Path, *args: str) -> str | None:
    try:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=20,
                              check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def build_info(root: Path, version: str) -> dict:
    """What the build records about the source tree at ``root``."""
    commit = _git(root, "rev-parse", "HEAD") or None
    status = _git(root, "status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": None if status is None else bool(status), "version": version}


class BuildPyWithInfo(build_py):
    """``build_py`` that adds ``langevin_grok/_build_info.json`` to the build directory."""

    def run(self):
        super().run()
        if not self.dry_run:
            self.write_build_info()

    def write_build_info(self) -> Path:
        root = Path(__file__).resolve().parent
        out = Path(self.build_lib) / PACKAGE / BUILD_INFO
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(build_info(root, self.distribution.get_version()), indent=2) + "\n")
        return out

    def get_outputs(self, include_bytecode=1):
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PACKAGE / BUILD_INFO)]


if __name__ == "__main__":
    setup(cmdclass={"build_py": BuildPyWithInfo})
