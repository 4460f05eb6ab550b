"""The Sphinx documentation builds with warnings as errors (API pages, theory document, executed gallery).

Skipped when Sphinx and the docs extensions are not installed (``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("sphinx", "numpydoc", "myst_parser", "sphinx_gallery", "distributed")


@pytest.mark.slow
@pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in NEEDED),
                    reason="docs extra not installed (pip install -e '.[docs]')")
def test_sphinx_build_without_warnings(tmp_path):
    # a fresh copy of the sources: nothing generated before (API stubs, executed examples, doctrees) is reused,
    # and nothing is written into the source tree
    generated = shutil.ignore_patterns("_build", "api", "auto_examples", "sg_execution_times.rst")
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=generated)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    out = tmp_path / "html"
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(tmp_path / "docs"), str(out)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    for page in ("index.html", "theory.html", "api/langevin_grok.theory.kramers.html",
                 "auto_examples/plot_02_escape_ensemble.html", "auto_examples/plot_05_dask_sweep.html"):
        assert (out / page).is_file(), page
    # the executed examples left their figures in the page
    assert "sphx-glr-single-img" in (out / "auto_examples/plot_01_mode_landscape.html").read_text()
    # every example ran in this build (none was taken from a cache)
    assert len(list((tmp_path / "docs/auto_examples/images").glob("sphx_glr_plot_0*_001.png"))) == 5
