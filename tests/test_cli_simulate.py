"""``langevin-grok simulate``: JSON contract, SGD temperature, one-line errors with exit status 2."""

import json

import pytest

from langevin_grok.cli import main
from langevin_grok._core.units import sgd_temperature

KEYS = {"mean_escape_time", "ci_low", "ci_high", "n_paths", "n_escaped", "path_steps", "wall_seconds"}
# dE/T = 2.4 keeps the run short (mean escape ~ 100 SDE time units)
BASE = ["simulate", "--depth", "3", "--sv", "0.8", "--beta", "0.32", "--paths", "200", "--dt", "0.02",
        "--seed", "1", "--json"]


def _run(capsys, argv):
    code = main(argv)
    out = capsys.readouterr()
    return code, out


@pytest.mark.parametrize("model", ["arc", "chain"])
def test_json_contract(capsys, model):
    code, out = _run(capsys, BASE + ["--model", model, "--temperature", "0.012"])
    assert code == 0
    d = json.loads(out.out)
    assert KEYS <= set(d)
    assert d["n_paths"] == 200 and d["seed"] == 1 and d["model"] == model
    assert 0 < d["n_escaped"] <= 200
    assert d["ci_low"] < d["mean_escape_time"] < d["ci_high"]
    assert d["path_steps"] > 0 and d["wall_seconds"] > 0
    # same seed -> same numbers
    code, out2 = _run(capsys, BASE + ["--model", model, "--temperature", "0.012"])
    assert json.loads(out2.out)["mean_escape_time"] == d["mean_escape_time"]


def test_reverse_and_sgd_temperature(capsys):
    code, out = _run(capsys, BASE + ["--direction", "reverse", "--beta", "0.335", "--lr", "0.05", "--batch", "8",
                                     "--noise", "2.0", "--max-time", "400"])
    assert code == 0
    d = json.loads(out.out)
    assert d["temperature"] == pytest.approx(sgd_temperature(0.05, 8, 2.0))
    assert d["direction"] == "reverse"
    assert d["mean_escape_steps"] == pytest.approx(d["mean_escape_time"] / 0.05)


def test_table_output(capsys):
    code, out = _run(capsys, [a for a in BASE if a != "--json"] + ["--temperature", "0.012"])
    assert code == 0 and "mean_escape_time" in out.out


@pytest.mark.parametrize("extra,word", [
    (["--temperature", "0"], "temperature"),
    (["--temperature", "-0.01"], "temperature"),
    (["--temperature", "0.01", "--dt", "0"], "dt"),
    (["--temperature", "0.01", "--paths", "0"], "paths"),
    (["--temperature", "0.01", "--paths", "2.5"], "paths"),
    (["--temperature", "0.01", "--beta", "0.5"], "beta"),
    (["--temperature", "0.01", "--model", "network"], "model"),
    (["--temperature", "0.01", "--direction", "up"], "direction"),
    ([], "temperature"),
    (["--temperature", "0.01", "--lr", "0.1", "--batch", "4", "--noise", "1"], "either"),
])
def test_bad_input_exits_2_with_one_line(capsys, extra, word):
    code, out = _run(capsys, BASE + extra)
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in out.err


@pytest.mark.parametrize("model", ["arc", "chain"])
def test_method_ams_json_contract(capsys, model):
    """``--method ams`` at dE/T = 10 (30 replicas x 4 runs, seed 1): the JSON contract, reproducible per
    seed; on the arc the exact MFPT lies in the 99% interval widened by 10% (dt = 0.02 step bias)."""
    from langevin_grok.landscape.escape import escape_target
    from langevin_grok.theory.kramers import exact_mfpt_1d

    T = escape_target(3, 0.8, 0.3).barrier / 10.0
    argv = ["simulate", "--model", model, "--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", str(T),
            "--method", "ams", "--paths", "30", "--runs", "4", "--dt", "0.02", "--seed", "1", "--confidence",
            "0.99", "--json"]
    code, out = _run(capsys, argv)
    assert code == 0
    d = json.loads(out.out)
    assert {"method", "n_runs", "probability", "levels", "mean_escape_time", "ci_low", "ci_high",
            "wall_seconds", "seed"} <= set(d)
    assert d["method"] == "ams" and d["n_runs"] == 4 and d["n_paths"] == 30 and d["seed"] == 1
    assert 0 < d["probability"] < 1 and d["levels"] > 0
    assert d["ci_low"] < d["mean_escape_time"] < d["ci_high"]
    code, out2 = _run(capsys, argv)
    assert json.loads(out2.out)["mean_escape_time"] == d["mean_escape_time"]
    if model == "arc":
        exact = exact_mfpt_1d(3, 0.8, 0.3, T).tau
        assert d["ci_low"] / 1.1 <= exact <= d["ci_high"] * 1.1
    code, out = _run(capsys, argv[:-1])
    assert code == 0 and "probability" in out.out


def test_method_ams_rejects_max_time(capsys):
    code, out = _run(capsys, BASE + ["--temperature", "0.002", "--method", "ams", "--max-time", "10"])
    assert code == 2 and "max_time" in out.err


def test_network_model_from_the_rank1_trap(capsys):
    """``simulate --model network``: the paper network from its rank-1 trap with the singular-value event;
    seeded (seed 1, 32 paths, dE/T = 5): every path escapes and the mean lies in the range the orbit theory's
    measurements give at this dE/T (docs/theory.md section 1: 6.55 [5.7, 7.5]), within a factor 2."""
    from langevin_grok.cli import main
    import json

    code = main(["simulate", "--model", "network", "--depth", "3", "--width", "10", "--sv", "0.9", "0.8",
                 "--beta", "0.32", "--temperature", "0.0057", "--start", "learned,trivial", "--paths", "32",
                 "--seed", "1", "--dt", "0.01", "--json"])
    assert code == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_escaped"] == d["n_paths"] == 32 and d["escape_event"] == "singular_value"
    assert d["start_modes"] == ["learned", "trivial"] and d["n_params"] == 140
    assert 6.55 / 2 < d["mean_escape_time"] < 6.55 * 2
    assert d["ci_low"] < d["mean_escape_time"] < d["ci_high"]


def test_network_model_bad_input_one_line(capsys):
    from langevin_grok.cli import main

    for argv in (["--model", "network", "--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.32", "-T", "0.01"],
                 ["--model", "network", "--width", "1", "--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.32",
                  "-T", "0.01", "--start", "learned,trivial"],
                 ["--model", "arc", "--depth", "3", "--sv", "0.9", "0.8", "--beta", "0.32", "-T", "0.01"]):
        assert main(["simulate", *argv]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "error" in err


def test_step_and_cap_checks(capsys):
    """dt is checked against the stiffest curvature (refused at dt x max|U''| > 1: the issue's dt = 5 gave an
    escape time 26x too fast) and a run whose cap censors most paths says so (warning code and stderr line)."""
    import json

    from langevin_grok.cli import main

    base = ["simulate", "--depth", "3", "--sv", "0.8", "--beta", "0.3", "--temperature", "0.004", "--seed", "1"]
    assert main(base + ["--dt", "5", "--paths", "10"]) == 2
    assert "dt" in capsys.readouterr().err
    assert main(base + ["--paths", "50", "--max-time", "50", "--json"]) == 0
    cap = capsys.readouterr()
    d = json.loads(cap.out)
    assert d["n_escaped"] < 0.8 * d["n_paths"] and "censored" in d["warnings"]
    # default cap from the prediction: 30 x the exact MFPT, bounded by --max-steps x dt
    from langevin_grok.theory.quadrature import exact_mfpt_1d

    assert main(base + ["--paths", "20", "--json", "--max-steps", "1e8", "--temperature", "0.006"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["censor_time"] == pytest.approx(30 * exact_mfpt_1d(3, 0.8, 0.3, 0.006).tau, rel=1e-6)
