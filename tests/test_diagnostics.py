"""The row-4 diagnostic scripts (validation/diagnostics/) still run: each with tiny settings, as a new user would
call it, must exit 0 and print its result line. Their numbers are quoted in docs/theory.md ("The escape
plane"), so a script that rots would leave those numbers without a way to reproduce them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIAG = ROOT / "validation" / "diagnostics"

CASES = [
    ("row4_end_to_end.py", ["--replicas", "2", "--max-time", "5", "--variants", "plane,balanced", "--em-paths", "4",
                            "--balanced-paths", "4"],
     ("end-to-end diffusion (Euler-Maruyama", "prediction / balanced (batches)")),
    ("row4_gaussian_network.py", ["--replicas", "2", "--max-time", "5", "--restrict", "plane"],
     "Gaussian network SGD (restrict plane"),
    ("row4_lr_scan.py", ["--replicas", "2", "--max-time", "5", "--lrs", "0.3,0.15"], "lr 0.15, B 12"),
    ("row4_noisy_subspace_sgd.py", ["--replicas", "2", "--max-time", "5", "--dims", "g"], "flat SGD in (e, f, g)"),
    ("row4_plane_relaxed.py", ["--n", "9"], "imbalance relaxed"),
    ("row4_plane_third_direction.py", [], "3-D (e, f, g)"),
]


@pytest.mark.slow
@pytest.mark.parametrize("script,args,expect", CASES, ids=[c[0] for c in CASES])
def test_diagnostic_runs(script, args, expect):
    r = subprocess.run([sys.executable, str(DIAG / script), *args], capture_output=True, text=True, timeout=600,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    for e in (expect,) if isinstance(expect, str) else expect:
        assert e in r.stdout, r.stdout[-2000:]
