"""``langevin-grok kramers``: JSON contract, agreement with the Python API, one-line errors (exit 2)."""

from __future__ import annotations

import json
import math
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


# --------------------------------------------------------------------------- --width (langevin_grok.theory.orbits)
WIDTH_ARGS = ["--depth", "3", "--width", "10", "--sv", "0.9", "0.8", "--beta", "0.32", "--temperature", "0.0028",
              "--start", "learned,trivial"]


def test_width_json_matches_api(capsys):
    from langevin_grok.theory.network_prediction import network_escape_prediction

    obj = run_json(capsys, *WIDTH_ARGS)
    api = network_escape_prediction(3, 10, [0.9, 0.8], 0.32, 0.0028, start=("learned", "trivial"))
    keys = {"eyring_kramers", "eyring_kramers_status", "entropic_mfpt", "prediction", "prediction_method",
            "zero_modes_start", "zero_modes_saddle", "log_orbit_volume_ratio", "free_energy_barrier", "barrier",
            "barrier_over_t", "crossover_temperature"}
    assert keys <= set(obj)
    assert obj["eyring_kramers"] == pytest.approx(api.eyring_kramers, rel=1e-12)
    assert obj["entropic_mfpt"] == pytest.approx(api.entropic_mfpt, rel=1e-12)
    assert (obj["zero_modes_start"], obj["zero_modes_saddle"]) == (18, 34)


def test_width_table_and_default_start(capsys):
    assert main(["kramers", "--depth", "3", "--width", "2", "--sv", "0.9", "0.8", "--beta", "0.32",
                 "--temperature", "0.004"]) == 0
    out = capsys.readouterr().out
    assert "trivial,trivial" in out and "eyring_kramers (orbit)" in out and "not_applicable" in out


@pytest.mark.parametrize("bad", [
    ["--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.3", "--temperature", "0.004"],  # two sv without --width
    ["--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "0.004", "--start", "trivial"],
    ["--depth", "3", "--width", "1", "--sv", "0.9", "0.8", "--beta", "0.32", "--temperature", "0.004",
     "--start", "learned,trivial"],
    ["--depth", "3", "--width", "2", "--sv", "0.9", "0.8", "--beta", "0.32", "--temperature", "0.004",
     "--direction", "reverse"],
])
def test_width_bad_input_exit_2(capsys, bad):
    assert main(["kramers", *bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_width_1_equals_the_chain_command(capsys):
    chain = run_json(capsys, "--depth", "3", "--sv", "0.8", "--beta", "0.32", "--temperature", "0.003")
    net = run_json(capsys, "--depth", "3", "--width", "1", "--sv", "0.8", "--beta", "0.32", "--temperature", "0.003")
    assert net["eyring_kramers"] == pytest.approx(chain["eyring_kramers"], rel=1e-10)
    assert net["log_orbit_volume_ratio"] == pytest.approx(math.log(chain["n_saddles"]), abs=1e-12)
