"""Tests of the main job (langevin_grok.validation, its report, and ``langevin-grok validate``).

The end-to-end test runs the smallest preset (``validation_config("test", seed=0)``, ~20-30 s on 2 cores)
once per module. Rows 1 and 2 are real statistical checks: with seed 0 and the test settings (200 paths
per temperature), the exact MFPT (row 1, dE/T = 3 and 4) and Eyring-Kramers (row 2, dE/T = 5) must agree
with the simulated mean escape times by the row's own criterion, combined chi-square p >= 0.05, and every
point's ratio measured/predicted must lie in [0.75, 1.33] (about 4 standard errors of a 200-path mean).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from langevin_grok.cli import main
from langevin_grok.theory.stats import exponential_mle
from langevin_grok.report.validation import table_rows, write_outputs
from langevin_grok.report.validation_text import paragraph
from langevin_grok.validation import combine_points, compare_time, run_validation, validation_config
from langevin_grok.validation.results import ROW_ALPHA

TOP_KEYS = {"command", "mode", "seed", "started", "wall_seconds", "out_dir", "environment", "config",
            "reused_rows", "figures", "rows"}
ROW_KEYS = {"id", "row", "dynamics", "parameters", "prediction", "measurement", "ratio", "verdict",
            "points", "seeds", "n_seeds", "steps", "wall_seconds"}
POINT_KEYS = {"dE_over_T", "prediction", "measured", "ci_low", "ci_high", "noise_model"}


@pytest.fixture(scope="module")
def test_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("validate") / "run"
    report = run_validation(validation_config("test", 0), out, progress=False, command="pytest")
    report = write_outputs(report, out)
    return out, report


def test_outputs_and_documented_keys(test_run):
    out, report = test_run
    assert (out / "report.md").is_file()
    res = json.loads((out / "results.json").read_text())
    assert TOP_KEYS <= set(res)
    assert res["mode"] == "test" and res["seed"] == 0 and res["command"] == "pytest"
    assert {"numpy", "scipy", "numba", "langevin_grok"} <= set(res["environment"])
    assert [r["row"] for r in res["rows"]] == [1, 2, 3, 4, 5, 6, 7]
    for r in res["rows"]:
        assert ROW_KEYS <= set(r), r["row"]
        assert r["dynamics"] and r["verdict"] in ("agrees", "disagrees", "inconclusive", "no_prediction", "no_data")
        assert r["id"] in ("arc_1d", "chain", "network_injected", "sgd_reverse", "sgd_trap", "ams_rare", "sgld_forward")
        for p in r["points"]:
            assert POINT_KEYS <= set(p), (r["id"], sorted(p))
        assert r["seeds"] and all(isinstance(s, int) and s >= 0 for s in r["seeds"])
        assert r["steps"] > 0 and r["n_seeds"] > 0
    for name in ("arrhenius.png", "escape_distribution.png", "survival.png"):
        assert (out / name).stat().st_size > 1000, name
        assert name in res["figures"]
    md = (out / "report.md").read_text()
    for k in range(1, 8):
        assert f"## Row {k} (" in md
    # every row's finished result was written on its own
    assert sorted(p.name for p in (out / "rows").iterdir()) == [f"row{k}.json" for k in range(1, 8)]
    # the printed table has one line per point of rows 1-3 plus the row summaries
    table = table_rows(report)
    assert {line[0] for line in table} == {"1", "2", "3", "4", "5", "6", "7"}
    # results.json holds numbers, the report text is rendered from them (every row has a paragraph)
    assert all(paragraph(r) for r in report.rows)


def test_rows_1_and_2_agree(test_run):
    _, report = test_run
    for r in report.rows[:2]:
        comb = r.measurement["combined"]
        assert r.verdict == "agrees", r.points
        assert comb["pvalue"] >= ROW_ALPHA
        for p in r.points:
            assert 0.75 <= p["ratio"] <= 1.33, p
            assert p["n_escaped"] == p["n_paths"]  # cap of 20 x prediction: nothing censored here
    # row 2's prediction includes the saddle count n_sad = 2^(L-1) = 4 of the scalar chain at L = 3
    assert report.rows[1].points[0]["n_saddles"] == 4
    assert report.rows[1].points[0]["prediction"] == pytest.approx(report.rows[1].points[0]["kramers_1d"] / 2)


def test_row3_states_missing_prediction_and_row5_absorbing(test_run):
    _, report = test_run
    r3, r5 = report.rows[2], report.rows[4]
    # row 3: a prediction at each temperature from the orbit theory, each with its status and its own verdict
    assert r3.prediction["available"] and r3.prediction["method"] == "entropic_mfpt"
    assert r3.parameters["start_zero_modes"] == 18 and r3.parameters["saddle_zero_modes"] == 34
    for p in r3.points:
        assert set(p["predictions"]) == {"entropic_mfpt", "eyring_kramers", "exact_mfpt_1d"}
        assert p["prediction_status"] in ("valid", "marginal", "not_applicable")
    assert r3.verdict in ("agrees", "disagrees", "no_data")
    assert r3.prediction["reference"]["method"] == "exact_mfpt_1d"
    p = r5.points[0]
    assert p["escape_noise_zero"] is True and p["c_e"] < 1e-20 * p["trace"]
    # the structural zero: per-sample gradients on the weights the escape direction moves are exactly 0.0
    assert p["support_size"] > 0 and p["max_abs_grad_on_support"] == 0.0
    assert r5.verdict == ("agrees" if p["n_escaped"] == 0 else "disagrees")
    assert r5.prediction["status"] == "absorbing"


def test_rerun_reuses_finished_rows(test_run, tmp_path):
    out, first = test_run
    again = run_validation(validation_config("test", 0), out, progress=False)
    assert again.reused_rows == (1, 2, 3, 4, 5, 6, 7)
    assert [r.to_dict() for r in again.rows] == [r.to_dict() for r in first.rows]
    # a different seed does not reuse (the settings hash differs): run only the cheap row 5 to check
    other = run_validation(validation_config("test", 1), out, rows=(5,), progress=False)
    assert other.reused_rows == ()


def test_compare_time_and_combination():
    est = exponential_mle([100.0] * 50)  # tau_hat = 100, no censoring
    inside = compare_time(100.0, est)
    assert inside["within"] and inside["ratio"] == pytest.approx(1.0) and inside["z"] == pytest.approx(0.0)
    far = compare_time(200.0, est)
    assert not far["within"]
    assert far["half_widths"] == pytest.approx(math.log(2.0) / math.log(est.ci_high / est.mean))
    assert far["ratio"] == pytest.approx(0.5) and far["z"] < -3
    comb = combine_points([inside, far])
    assert comb["dof"] == 2 and comb["agrees"] is False and comb["chi2"] == pytest.approx(far["z"] ** 2)
    # no escapes: only a lower bound 2 S / chi2_1(0.95) = 20 / 3.84; a prediction above it is consistent
    bound = exponential_mle([5.0, 5.0], [False, False])
    assert compare_time(100.0, bound) == {"ratio": None, "within": True, "half_widths": None, "z": None}
    assert compare_time(1.0, bound)["within"] is False
    # a prediction with its own error: sigma combined in quadrature (the interval's sigma from its width)
    sm = math.log(est.ci_high / est.ci_low) / (2 * 1.959963984540054)
    noisy = compare_time(150.0, est, pred_log_sigma=0.2)
    assert noisy["z"] == pytest.approx(math.log(100.0 / 150.0) / math.hypot(sm, 0.2), rel=1e-9)
    assert noisy["within"] is (abs(noisy["z"]) <= 1.959963984540054)
    assert abs(noisy["z"]) < abs(compare_time(150.0, est)["z"])
    assert compare_time(150.0, est, pred_log_sigma=None) == compare_time(150.0, est)


@pytest.mark.parametrize("argv", [
    ["validate", "--out", "FILE"],
    ["validate", "--seed", "-3"],
    ["validate", "--quick", "--full"],
    ["validate", "--workers", "0"],
])
def test_cli_bad_input_exit_2(argv, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default output folder would be created here
    f = tmp_path / "a_file"
    f.write_text("x")
    argv = [str(f) if a == "FILE" else a for a in argv]
    with pytest.raises(SystemExit) if "--full" in argv else _no_exit():
        code = main(argv)
    if "--full" not in argv:
        assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err
    assert not (tmp_path / "runs").exists()


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_cli_json_row5_quick(tmp_path, capsys):
    out = tmp_path / "q"
    code = main(["validate", "--quick", "--rows", "5", "--out", str(out), "--json", "--no-figures"])
    assert code == 0
    captured = capsys.readouterr()
    res = json.loads(captured.out)
    assert res["mode"] == "quick" and [r["row"] for r in res["rows"]] == [5]
    assert "validate --quick --out" in res["command"]
    assert "verdict" in captured.err  # the table goes to stderr with --json
    assert Path(res["out_dir"]) == out


def test_interrupted_row_resumes_at_first_unfinished_point(test_run, tmp_path, monkeypatch):
    """Kill row 1 during its second temperature: the first ensemble is on disk, the rerun reuses it and
    gives exactly the uninterrupted result."""
    import langevin_grok.langevin.engine as engine

    _, first = test_run
    real = engine.simulate_ensemble
    calls = []

    def dying(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    out = tmp_path / "interrupted"
    monkeypatch.setattr(engine, "simulate_ensemble", dying)
    with pytest.raises(KeyboardInterrupt):
        run_validation(validation_config("test", 0), out, rows=(1,), progress=False)
    assert (out / "rows" / "row1.parts" / "p0.json").is_file() and not (out / "rows" / "row1.json").exists()
    calls.clear()
    monkeypatch.setattr(engine, "simulate_ensemble", lambda *a, **k: calls.append(1) or real(*a, **k))
    again = run_validation(validation_config("test", 0), out, rows=(1,), progress=False)
    assert len(calls) == 1  # only the second temperature was simulated again
    assert again.rows[0].points == first.rows[0].points
    assert not (out / "rows" / "row1.parts").exists()


def test_row4_protocols_inside_the_kramers_regime(test_run):
    """Row 4: every point at dE/T >= 3 of its own noise model, at two beta values between beta* and beta_c;
    independent batches against the discrete-time chain with T(r) along the path (recommended), its continuous
    limit and the exact MFPT at the start's T; shuffled epochs against their own epoch-boundary and epoch-mean
    temperatures; one escape level (escape_target: lambda_sad / 2) on the empirical singular vectors; the
    line-SGD reference beside every point."""
    from langevin_grok.landscape.escape import escape_target
    from langevin_grok.sgd.noise_models import shuffled_epoch_model

    _, report = test_run
    r4 = report.rows[3]
    p = r4.parameters
    betas = p["betas"]
    assert len(betas) >= 2
    for b in betas.values():
        assert p["beta_star"] < b["beta"] < p["beta_c"]
        tgt = escape_target(3, p["sv_empirical"][1], b["beta"], "reverse")
        assert b["lambda_target"] == pytest.approx(tgt.lambda_target, rel=1e-12)
        assert b["line_fit_residual"] < 1e-10
    assert len({q["beta"] for q in r4.points if q["replacement"]}) >= 2
    models = {q["noise_model"] for q in r4.points}
    assert models == {"with_replacement", "shuffled_epochs_boundary"}
    for q in r4.points:
        assert q["dE_over_T"] >= 3.0, q
        assert q["dE_over_T"] == pytest.approx(q["barrier_reverse"] / q["T_eff"])
        keys = ({"balanced_chain", "e2e_batch_chain", "plane_batch_chain", "plane_chain", "discrete_chain",
                 "batch_chain", "state_dependent", "constant_t"}
                if q["replacement"]
                else {"shuffled_boundary", "shuffled_epoch_mean"})
        assert set(q["predictions"]) == keys
        head = "balanced_chain" if q["replacement"] else "shuffled_boundary"
        assert q["prediction"] == q["predictions"][head]["value"]
        if q["replacement"]:
            # the recommended prediction: the balanced network's Gaussian chain times the exact 1-D non-Gaussian
            # factor (batch chain over Gaussian chain), with the 4-D chain's Monte Carlo error in z
            bp, dc = q["predictions"]["balanced_chain"], q["predictions"]["discrete_chain"]
            bg = bp["balanced_gaussian"]
            assert bp["non_gaussian_factor"] == pytest.approx(
                q["predictions"]["batch_chain"]["value"] / dc["value"], rel=1e-12)
            assert bp["value"] == pytest.approx(bg["tau"] * bp["non_gaussian_factor"], rel=1e-12)
            assert bg["noise"] == "gaussian" and bg["n_paths"] == 64 and bg["n_escaped"] > 0
            assert bp["log_sigma"] > 0 and (bp["z"] is None or abs(bp["z"]) <= abs(
                math.log(q["measured"] / bp["value"])) / bp["log_sigma"] + 1e-12)
            bs = q["balanced_sgd"]
            assert bs["noise"] == "batches" and bs["n_paths"] == 64 and bs["n_diverged"] == 0
            assert bs["prediction_over_balanced"] == pytest.approx(bp["value"] / bs["tau"], rel=1e-12)
            assert bs["network_over_balanced"] == pytest.approx(q["measured"] / bs["tau"], rel=1e-12)
            # the end-to-end SDE's factor (continuous time): the former recommended prediction
            pb, bc = q["predictions"]["plane_batch_chain"], q["predictions"]["batch_chain"]
            assert pb["value"] == pytest.approx(bc["value"] * pb["transverse_factor"], rel=1e-12)
            assert 0 < pb["transverse_factor"] < 1 and pb["plane"]["status"] == "valid"
            ee = q["predictions"]["e2e_batch_chain"]
            e2e = ee["e2e"]
            tau_line = pb["plane"]["tau_line"]
            assert ee["transverse_factor"] == pytest.approx(e2e["tau"] / tau_line, rel=1e-12)
            assert ee["value"] == pytest.approx(bc["value"] * ee["transverse_factor"], rel=1e-12)
            assert e2e["n_paths"] == 32 and e2e["n_escaped"] > 0 and e2e["n_diverged"] == 0
            assert e2e["dt_curvature"] == pytest.approx(0.08, rel=1e-9)
            # its own Monte Carlo error enters the comparison: z uses the combined standard error
            assert ee["log_sigma"] > 0 and (ee["z"] is None or abs(ee["z"]) <= abs(
                math.log(q["measured"] / ee["value"])) / ee["log_sigma"] + 1e-12)
            assert {"mean", "ci_low", "n_escaped", "n_diverged", "plane_over_prediction", "network_over_plane",
                    "compare"} <= set(q["plane_sgd"])
        else:
            assert q["plane_sgd"] is None and q["balanced_sgd"] is None
        assert {"mean", "ci_low", "n_escaped", "line_over_prediction", "network_over_line"} <= set(q["line_sgd"])
        tm = q["temperature_measured"]
        if tm is not None:  # the run's own reading against the model's value for it
            assert tm["noise_model"] == "displacement_fitted_relaxation" and tm["temperature"] > 0
            assert tm["measured_over_model"] == pytest.approx(
                tm["variance_over_model"] * tm["relaxation_rate_over_model"], rel=1e-12)
        T_wr = q["lr"] * q["c_e_start"] / (2 * q["batch"])
        if q["replacement"]:
            assert q["T_eff"] == pytest.approx(T_wr, rel=1e-12)
        else:  # its own model, below the with-replacement T of the same B
            sh = shuffled_epoch_model(q["lr"], q["batch"], p["n_train"], q["c_e_start"], q["curvature_e"])
            assert q["T_eff"] == pytest.approx(sh.temperature_boundary, rel=1e-12) and q["T_eff"] < T_wr
    assert set(r4.measurement["verdicts"]) == {"with_replacement", "with_replacement_e2e_sde", "with_replacement_plane",
                                                "with_replacement_continuous",
                                                "with_replacement_plane_gaussian", "with_replacement_discrete_chain",
                                                "with_replacement_batch_chain",
                                                "with_replacement_constant_t", "shuffled_epochs",
                                                "shuffled_epochs_epoch_mean"}
    assert paragraph(r4)  # renders from the numbers alone


def test_row6_ams_against_exact_and_brute_force(test_run):
    """Row 6 (test preset, seed 0): AMS at dE/T = 15 against the exact MFPT and, at dE/T = 4, against brute force
    of the same model and step; both comparisons must hold within their 95 % intervals."""
    _, report = test_run
    r6 = report.rows[5]
    assert r6.id == "ams_rare"
    ams = [p for p in r6.points if p["method"] == "ams"]
    assert [p["dE_over_T"] for p in ams] == [15.0]
    assert all(p["within"] for p in ams) and all(0.5 < p["ratio"] < 2.0 for p in ams)
    assert r6.measurement["brute_force_agrees"] is True


def test_row7_sgld_forward_and_the_paper_temperature(test_run):
    """Row 7 (test preset): SGLD escapes from the rank-1 trap exist (injected noise), every point has both network
    predictions with a status, and the temperature for the paper's 5500 epochs is reported from theory and data."""
    _, report = test_run
    r7 = report.rows[6]
    assert r7.id == "sgld_forward" and r7.dynamics == "sgld_full_batch"
    assert sum(p["n_escaped"] for p in r7.points) > 0
    for p in r7.points:
        assert set(p["predictions"]) == {"entropic_mfpt", "eyring_kramers"}
        assert p["prediction_status"] in ("valid", "marginal", "not_applicable")
    pt = r7.parameters["paper_temperature"]
    assert pt["target_sde_time"] == pytest.approx(5500 * 8 * 0.08)
    assert pt["temperature_theory"] is None or 0 < pt["temperature_theory"] < r7.parameters["barrier_1d"]
    # the short check at the paper's own protocol: one run per available 5500-epoch temperature
    temps = {k: pt[f"temperature_{k}"] for k in ("theory", "measured") if pt[f"temperature_{k}"] is not None}
    assert {c["source"] for c in pt["check"]} == set(temps)
    for c in pt["check"]:
        assert c["temperature"] == temps[c["source"]]
        assert (c["lr"], c["batch"], c["protocol"]) == (0.08, 64, "shuffled_epochs_sgld")
        assert c["n_escaped"] <= c["n_replicas"] and c["ci_low"] > 0
