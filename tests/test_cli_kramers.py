"""``langevin-grok kramers``: JSON contract, agreement with the Python API, one-line errors (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from langevin_grok.cli import SUBCOMMANDS, main
from langevin_grok.landscape.escape import escape_target
from langevin_grok.theory.kramers import exact_mfpt_1d, eyring_kramers_chain, kramers_1d

CONTRACT = {"barrier", "kramers_1d", "exact_mfpt_1d", "eyring_kramers", "n_saddles"}
ARGS = ["--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "0.004"]


def run_json(capsys, *argv):
    rc = main(["kramers", *argv, "--json"])
    out, err = capsys.readouterr()
    assert rc == 0 and err == ""
    return json.loads(out)


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_json_matches_api(capsys, direction):
    obj = run_json(capsys, *ARGS, "--direction", direction)
    assert CONTRACT <= set(obj) and "kramers" in SUBCOMMANDS
    T = 0.004
    assert obj["barrier"] == escape_target(3, 0.8, 0.3, direction).barrier
    assert obj["kramers_1d"] == pytest.approx(kramers_1d(3, 0.8, 0.3, T, direction).tau, rel=1e-14)
    assert obj["exact_mfpt_1d"] == pytest.approx(exact_mfpt_1d(3, 0.8, 0.3, T, direction).tau, rel=1e-14)
    assert obj["eyring_kramers"] == pytest.approx(eyring_kramers_chain(3, 0.8, 0.3, T, direction).tau, rel=1e-14)
    assert obj["n_saddles"] == (4 if direction == "forward" else 1)
    assert obj["ratio_kramers_1d_to_exact"] == pytest.approx(obj["kramers_1d"] / obj["exact_mfpt_1d"], rel=1e-12)
    tgt = escape_target(3, 0.8, 0.3, direction)
    assert obj["lambda_target"] == tgt.lambda_target and obj["r_target"] == tgt.r_target


def test_json_overflow_is_null(capsys):
    obj = run_json(capsys, "--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "2e-5")
    assert obj["barrier_over_t"] > 1000
    assert obj["kramers_1d"] is None and obj["exact_mfpt_1d"] is None and obj["eyring_kramers"] is None
    assert obj["log_exact_mfpt_1d"] > 1000 and obj["n_saddles"] == 4


def test_table_output(capsys):
    assert main(["kramers", *ARGS]) == 0
    out = capsys.readouterr().out
    assert "exact_mfpt_1d" in out and "n_saddles = 4" in out and "dE/T" in out


@pytest.mark.parametrize("bad", [
    ["--temperature", "0"],
    ["--temperature", "-1"],
    ["--beta", "0.4"],           # beyond beta_c: no barrier
    ["--beta", "0"],             # no saddle
    ["--depth", "2"],            # continuous transition
    ["--depth", "3.5"],
    ["--sv", "1.5"],
    ["--direction", "sideways"],
])
def test_bad_input_one_line_exit_2(capsys, bad):
    argv = list(ARGS)
    if bad[0] in argv:
        argv[argv.index(bad[0]) + 1] = bad[1]
    else:
        argv += bad
    rc = main(["kramers", *argv])
    out, err = capsys.readouterr()
    assert rc == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("langevin-grok kramers: error:")


def test_console_module_entry():
    r = subprocess.run([sys.executable, "-m", "langevin_grok", "kramers", *ARGS, "--temperature", "nan"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
