"""``sweep-report`` and :mod:`langevin_grok.sweep.analysis`: pooling, Arrhenius fit, predictions, CLI errors."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok._core.errors import Status, Validity, Verdict
from langevin_grok.cli import main
from langevin_grok.sweep import SweepStore, load_results, run_sweep
from langevin_grok.sweep.analysis import escape_times, summarise_sweep
from langevin_grok.sweep.config import Task, task_key
from langevin_grok.theory.stats import arrhenius_fit, exponential_mle

REF_CONFIG = {
    "sweep": {"kind": "simulate", "name": "ref", "seeds": 3, "base_seed": 5},
    "grid": {"temperature": [0.02, 0.05, 0.08, 0.12]},
    "fixed": {"depth": 3, "sv": 0.8, "beta": 0.32, "paths": 12, "max_time": 3.0, "dt": 2e-3},
}


@pytest.fixture(scope="module")
def ref_store(tmp_path_factory):
    """A real (tiny) sweep: 4 temperatures x 3 seeds of the engine's simulate kind (arc), run in-process (the
    coldest point has no escape within max_time for these seeds: a censored group that the fit must leave out)."""
    path = tmp_path_factory.mktemp("ref") / "ref.sqlite"
    s = run_sweep(REF_CONFIG, store=path, workers=1, progress=False)
    assert s.n_done == 12
    return path


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_pooled_estimate_is_the_mle_of_the_raw_pooled_times(ref_store):
    a = summarise_sweep(ref_store)
    rows = load_results(ref_store)
    assert a.kind == "simulate" and a.varying == ("temperature",) and len(a.groups) == 4
    for g in a.groups:
        mine = [r for r in rows if r["params"] == g.params]
        assert len(mine) == g.n_tasks == 3
        # raw pooling, independently of the extractor: escape times plus the survivors at the run length
        t, e = [], []
        for r in mine:
            res = r["result"]
            t += list(res["times"])
            e += [int(k) >= 0 for k in res["event"]]  # event index, -1 = censored
        ref = exponential_mle(np.array(t), np.array(e))
        assert g.estimate == ref
        # and the tasks' own counts give the same events and total time at risk (a third route)
        assert g.estimate.total_time == pytest.approx(sum(sum(r["result"]["times"]) for r in mine), rel=1e-12)
        assert g.n_events == sum(r["result"]["n_escaped"] for r in mine)
        assert g.x == pytest.approx(1.0 / g.params["temperature"], rel=1e-15)


def _write_synthetic(path, kind: str, points, fixed: dict, result_of, seeds=(0, 1)):
    """Store tasks directly (no task function): ``points`` are param dicts, ``result_of(params, seed)``."""
    with SweepStore(path) as st:
        for i, p in enumerate(points):
            params = dict(fixed, **p)
            for r, seed in enumerate(seeds):
                task = Task(i, kind, params, r, seed, task_key(kind, "1", params, seed))
                st.record(task, "synthetic", "1", {"ok": True, "result": result_of(params, seed)}, None)


def _exp_result(dE: float, tau0: float, n: int, cap: float):
    def result(params, seed):
        tau = tau0 * math.exp(dE / params["temperature"])
        t = np.random.default_rng(seed + int(1e6 * params["temperature"])).exponential(tau, n)
        return {"times": np.minimum(t, cap).tolist(), "event": np.where(t < cap, 0, -1).tolist(),
                "exact": {"tau": tau, "barrier": dE}}
    return result


def test_arrhenius_slope_on_a_synthetic_store_with_known_barrier(tmp_path):
    # exponential escape times with tau = 5 exp(0.05 / T), 2 x 400 paths per T, censored at 1500 (seed fixed;
    # tolerance: 4 standard errors of the slope, and the 95 % CI must hold dE: can fail by chance, rarely)
    dE, tau0, Ts = 0.05, 5.0, [0.01, 0.0125, 0.0167, 0.025]
    store = tmp_path / "syn.sqlite"
    fixed = {"model": "arc", "depth": 3, "sv": 0.8, "beta": 0.32, "direction": "forward"}
    _write_synthetic(store, "simulate", [{"temperature": T} for T in Ts], fixed, _exp_result(dE, tau0, 400, 1500.0))
    a = summarise_sweep(store)
    assert a.abscissa == "inverse_temperature" and len(a.series) == 1
    s = a.series[0]
    assert s.status is Status.OK and s.n_used == 4 and s.validity is Validity.VALID
    assert abs(s.fit.slope - dE) < 4 * s.fit.slope_se
    assert s.fit.slope_ci[0] < dE < s.fit.slope_ci[1]
    assert any(g.n_censored for g in a.groups)  # the coldest point is censored in part
    # the carried prediction is exactly Arrhenius: its fit over the same grid recovers dE and tau0
    assert s.predicted_fits["exact"].slope == pytest.approx(dE, rel=1e-10)
    assert s.predicted_fits["exact"].tau0 == pytest.approx(tau0, rel=1e-9)
    assert s.barrier == dE
    for g in a.groups:
        (p,) = g.predictions
        assert p.ratio == pytest.approx(g.estimate.mean / p.tau, rel=1e-15)
        inside = g.estimate.ci_low <= p.tau <= g.estimate.ci_high
        assert p.verdict is (Verdict.AGREES if inside else Verdict.DISAGREES)


def test_simulate_extractor_reads_events_as_censoring():
    t, e, n_excl = escape_times("simulate", {}, {"times": [1.0, 5.0, 2.0], "event": [0, -1, 1]})
    assert t.tolist() == [1.0, 5.0, 2.0] and e.tolist() == [True, False, True] and n_excl == 0


def test_sgd_groups_convert_epochs_to_sde_time_and_drop_diverged(tmp_path):
    store = tmp_path / "sgd.sqlite"
    fixed = {"n_train": 64, "replacement": False, "beta": 0.32}

    def result(params, seed):
        return {"escape_epochs": [10.0, None, 30.0, None], "final_rank": [1, 2, 1, None], "epochs_run": 100}

    pts = [{"lr": lr, "batch": B} for lr in (0.05, 0.1) for B in (4, 8)]
    _write_synthetic(store, "sgd", pts, fixed, result, seeds=(3,))
    a = summarise_sweep(store)
    assert a.abscissa == "batch_over_lr" and len(a.groups) == 4
    for g in a.groups:
        lr, B = g.params["lr"], g.params["batch"]
        steps_per_epoch = 64 / B  # epochs = k B / N
        ref = exponential_mle(np.array([10.0, 100.0, 30.0]) * steps_per_epoch * lr, [True, False, True])
        assert g.estimate.mean == pytest.approx(ref.mean, rel=1e-13)
        assert g.n_excluded == 1 and g.n_paths == 3
        assert g.x == B / lr
    (s,) = a.series
    assert s.validity is Validity.MARGINAL and s.reason == "shuffled_epochs"


def test_theory_store_predictions_are_joined(tmp_path):
    from langevin_grok.theory.kramers import exact_mfpt_1d

    Ts = [0.01, 0.02, 0.03]
    theory = tmp_path / "theory.sqlite"
    run_sweep({"sweep": {"kind": "kramers"}, "grid": {"temperature": Ts},
               "fixed": {"depth": 3, "sv": 0.8, "beta": 0.32}}, store=theory, workers=1, progress=False)
    store = tmp_path / "sim.sqlite"
    fixed = {"model": "arc", "depth": 3, "sv": 0.8, "beta": 0.32, "direction": "forward", "dt": 0.01}
    _write_synthetic(store, "simulate", [{"temperature": T} for T in Ts], fixed, _exp_result(0.03, 10.0, 50, 1e5))
    a = summarise_sweep(store, theory=theory)
    for g in a.groups:
        by = {p.name: p for p in g.predictions if p.source == "theory_store"}
        assert set(by) == {"kramers_1d", "exact_mfpt_1d", "eyring_kramers_chain"}
        ref = exact_mfpt_1d(3, 0.8, 0.32, g.params["temperature"], "forward").tau
        assert by["exact_mfpt_1d"].tau == pytest.approx(ref, rel=1e-12)


def test_cli_report_table_json_and_files_leave_the_store_unchanged(ref_store, tmp_path, capsys):
    before = _sha(ref_store)
    assert main(["sweep-report", str(ref_store)]) == 0
    out = capsys.readouterr().out
    assert "tau [95 % CI]" in out and "Arrhenius fit" in out
    assert main(["sweep-report", str(ref_store), "--json", "--out", str(tmp_path / "rep")]) == 0
    j = json.loads(capsys.readouterr().out)
    assert len(j["analysis"]["groups"]) == 4 and j["figures"] == ["arrhenius.png"]
    assert "argv" in j["provenance"] and j["provenance"]["git"]
    assert {p.name for p in (tmp_path / "rep").iterdir()} == {"report.md", "summary.json", "arrhenius.png"}
    assert "95 % interval" in (tmp_path / "rep" / "report.md").read_text()
    assert _sha(ref_store) == before


def test_cli_bad_input_exits_2(tmp_path, ref_store, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("CREATE TABLE t (x)")
    empty = tmp_path / "empty.sqlite"
    SweepStore(empty).close()
    cases = {"missing": tmp_path / "nope.sqlite", "folder": tmp_path, "text": text, "other": other, "empty": empty}
    for name, path in cases.items():
        assert main(["sweep-report", str(path)]) == 2, name
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "error" in err, (name, err)
    assert main(["sweep-report", str(ref_store), "--out", str(text)]) == 2
    assert main(["sweep-report", str(ref_store), "--confidence", "1.5"]) == 2
    assert main(["sweep-report", str(ref_store), "--kind", "sgd"]) == 2
    capsys.readouterr()


def test_task_function_versions_are_never_pooled(tmp_path):
    store = tmp_path / "versions.sqlite"
    result = _exp_result(0.03, 1.0, 20, 1e3)
    params = {"temperature": 0.02}
    with SweepStore(store) as st:
        for version in ("1", "2"):
            for seed in (0, 1):
                task = Task(0, "simulate", params, seed, seed, task_key("simulate", version, params, seed))
                st.record(task, "v", version, {"ok": True, "result": result(params, seed)}, None)
    with pytest.raises(InputError, match="versions 1, 2"):
        summarise_sweep(store)
    a = summarise_sweep(store, kind_version="2")
    assert a.kind_version == "2" and a.groups[0].n_tasks == 2 and a.groups[0].n_paths == 40
    assert main(["sweep-report", str(store)]) == 2
    assert main(["sweep-report", str(store), "--kind-version", "1", "--json"]) == 0


def test_garbled_result_is_a_one_line_error(tmp_path, capsys):
    store = tmp_path / "garbled.sqlite"
    _write_synthetic(store, "simulate", [{"temperature": 0.02}], {}, lambda p, s: {"times": [1.0, 2.0]})
    with pytest.raises(InputError, match="lacks or garbles its escape times"):
        summarise_sweep(store)
    assert main(["sweep-report", str(store)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_several_kinds_need_a_choice(tmp_path):
    store = tmp_path / "mixed.sqlite"
    _write_synthetic(store, "simulate", [{"temperature": 0.02}], {}, _exp_result(0.03, 1.0, 5, 1e3))
    run_sweep({"sweep": {"kind": "landscape"}, "grid": {"beta": [0.3]}, "fixed": {"depth": 3, "sv": 0.8}},
              store=store, workers=1, progress=False)
    with pytest.raises(InputError, match="several kinds"):
        summarise_sweep(store)
    a = summarise_sweep(store, kind="landscape")
    assert a.groups[0].status is Status.NO_DATA and a.series == ()


def test_fit_matches_a_direct_arrhenius_fit_of_the_group_estimates(ref_store):
    from langevin_grok.theory.stats import log_sigma_from_ci

    a = summarise_sweep(ref_store)
    gs = [g for g in a.groups if g.n_events]
    (cold,) = [g for g in a.groups if not g.n_events]
    assert cold.status is Status.CENSORED and cold.estimate.ci_high == math.inf and cold.estimate.ci_low > 0
    assert a.series[0].n_dropped == 1 and a.series[0].n_used == 3
    ref = arrhenius_fit([g.x for g in gs], [g.estimate.mean for g in gs],
                        log_sigma_from_ci([g.estimate.ci_low for g in gs], [g.estimate.ci_high for g in gs]))
    fit = a.series[0].fit  # the series is in increasing x, the groups in write order: same up to rounding
    for name in ("slope", "slope_se", "intercept", "intercept_se", "r_squared", "chi2"):
        assert getattr(fit, name) == pytest.approx(getattr(ref, name), rel=1e-10), name
    assert (fit.n, fit.dof, fit.weighted) == (3, 1, True)
