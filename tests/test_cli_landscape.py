"""``langevin-grok landscape``: JSON keys and values, the table, and one-line errors with exit status 2."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from langevin_grok.cli import main

ls = importlib.import_module("langevin_grok.landscape.modes")

REQUIRED = {
    "sv", "beta_c", "beta_star", "lambda_c", "lambda_star", "lambda_saddle", "lambda_min",
    "barrier_forward", "barrier_reverse", "global_phase",
}


def run_json(capsys, *argv):
    rc = main(["landscape", *argv, "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    return json.loads(out)


def test_json_worked_example(capsys):
    obj = run_json(capsys, "--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.32")
    assert obj["depth"] == 3 and obj["beta"] == 0.32
    modes = obj["modes"]
    assert [m["sv"] for m in modes] == [0.9, 0.8]
    for m in modes:
        assert REQUIRED <= set(m)
        want = ls.mode_landscape(3, m["sv"], 0.32).to_dict()
        assert m == pytest.approx(want)  # same numbers as the Python API, nothing re-computed
    m = modes[1]
    assert round(m["lambda_saddle"], 6) == 0.092545 and round(m["barrier_forward"], 6) == 0.028453
    assert round(m["barrier_reverse"], 6) == 0.008829 and m["global_phase"] == "trivial"
    assert modes[0]["global_phase"] == "learned"  # eta = 0.9: beta* = 0.3448 > 0.32


def test_json_nulls_above_spinodal(capsys):
    obj = run_json(capsys, "--depth", "3", "--sv", "0.8", "0.9", "--beta", "0.4")
    m08, m09 = obj["modes"]
    for k in ("lambda_saddle", "lambda_min", "barrier_forward", "barrier_reverse"):
        assert m08[k] is None  # 0.4 > beta_c(0.8) = 0.3509: trivial only
    assert m08["global_phase"] == "trivial"
    assert m09["lambda_min"] is not None  # 0.4 < beta_c(0.9) = 0.4105: still bistable
    assert m08["beta_c"] == pytest.approx(0.35088212858554396)


def test_json_depth_two(capsys):
    obj = run_json(capsys, "--depth", "2", "--sv", "0.8", "--beta", "0.3")
    (m,) = obj["modes"]
    assert m["lambda_saddle"] is None and m["barrier_forward"] is None and m["barrier_reverse"] is None
    assert m["lambda_min"] == pytest.approx(0.5) and m["global_phase"] == "learned"


def test_table_output(capsys):
    rc = main(["landscape", "--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.32"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    lines = out.strip().splitlines()
    assert "depth L = 3" in lines[0]
    header = lines[1].split()
    assert {"sv", "beta_c", "lambda_saddle", "barrier_forward", "global_phase"} <= set(header)
    rows = [ln.split() for ln in lines[3:]]
    assert len(rows) == 2
    row = dict(zip(header, rows[1]))
    assert row["sv"] == "0.8" and row["global_phase"] == "trivial"
    assert float(row["lambda_saddle"]) == pytest.approx(0.0925452, rel=1e-6)
    rc = main(["landscape", "--depth", "3", "--sv", "0.8", "--beta", "0.5"])
    out, _ = capsys.readouterr()
    assert rc == 0 and " - " in out  # absent values print as '-'


@pytest.mark.parametrize(
    "argv,name",
    [
        (["--depth", "1", "--sv", "0.8", "--beta", "0.3"], "depth"),
        (["--depth", "2.5", "--sv", "0.8", "--beta", "0.3"], "depth"),
        (["--depth", "nan", "--sv", "0.8", "--beta", "0.3"], "depth"),
        (["--depth", "3", "--sv", "0.8", "--beta", "-1"], "beta"),
        (["--depth", "3", "--sv", "0.8", "--beta", "inf"], "beta"),
        (["--depth", "3", "--sv", "0", "--beta", "0.3"], "sv"),
        (["--depth", "3", "--sv", "1", "--beta", "0.3"], "sv"),
        (["--depth", "3", "--sv", "0.5", "nan", "--beta", "0.3"], "sv"),
        (["--depth", "3", "--sv", "inf", "--beta", "0.3"], "sv"),
        (["--depth", "3", "--sv", "-0.5", "--beta", "0.3"], "sv"),
    ],
)
def test_bad_input_exit_2_one_line(capsys, argv, name):
    try:
        rc = main(["landscape", *argv])
    except SystemExit as exc:  # argparse type errors exit from inside parse_args
        rc = exc.code
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert name in lines[0] and "Traceback" not in err
    assert argv[argv.index(f"--{name}") + 1] in lines[0] or name == "sv"  # the value is echoed


def test_subprocess_module_and_console_script(tmp_path):
    """One end-to-end run each of ``python -m langevin_grok`` and the ``langevin-grok`` script."""
    args = ["landscape", "--depth", "3", "--sv", "0.8", "--beta", "0.32", "--json"]
    r = subprocess.run([sys.executable, "-m", "langevin_grok", *args], capture_output=True, text=True,
                       cwd=tmp_path, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["modes"][0]["global_phase"] == "trivial"
    script = shutil.which("langevin-grok") or str(Path(sys.executable).with_name("langevin-grok"))
    r = subprocess.run([script, "landscape", "--depth", "1", "--sv", "0.8", "--beta", "0.3"], capture_output=True,
                       text=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.strip().count("\n") == 0 and "depth" in r.stderr and "Traceback" not in r.stderr


def test_help_states_units(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["landscape", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for opt in ("--depth", "--sv", "--beta", "--json"):
        assert opt in out
    assert "dimensionless" in out and "loss units" in out
