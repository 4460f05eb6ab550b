"""Simulation figures (Figs. 1(a), 1(b), 2(b), 3, escape-time law) in tiny configurations, and the
consistency of the reproduction rows they fill with their own numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from langevin_grok.report import figures as F
from langevin_grok.report import paper_arrhenius, paper_common, paper_sweep, paper_traps
from langevin_grok.sgd import schedule
from langevin_grok.report import reproduction as R
from langevin_grok.sgd import trainer as sgd
from langevin_grok.sgd.data import make_dataset

SIM = ("fig1a", "fig1b", "fig2b", "fig3", "escape_dist")



@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Every simulation figure through the runner, with the tiny preset (an argument, no patched globals)."""
    out = tmp_path_factory.mktemp("simfigs")
    summary = F.run_figures(list(SIM), out_dir=out, quick=True, seed=5, preset="tiny")
    return out, summary


def test_simulation_figures_are_registered():
    specs = {s.name: s for s in F.registered_figures()}
    for name in SIM:
        assert specs[name].kind == "simulation"
    names = [s.name for s in F.registered_figures()]
    assert names.index("fig1a") < names.index("fig1b") < names.index("fig2a") < names.index("fig2b") \
        < names.index("fig3") < names.index("fig4")


def test_tiny_run_writes_images_records_and_rows(tiny_run):
    out, summary = tiny_run
    assert summary.ok, summary.failures
    assert [r.name for r in summary.results] == list(SIM)
    for name in SIM:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
        rec = json.loads((out / f"{name}.json").read_text())
        assert rec["name"] == name and rec["seed"] == F.figure_seed(5, name)
        assert rec["params"] and rec["numbers"] and rec["caption"]
    report = (out / F.REPORT_NAME).read_text()
    keys = {c.key for r in summary.results for c in r.claims}
    for k in ("fig1a_tau_random", "fig1a_tau_rank1", "fig1a_tau_trivial", "fig1b_escape", "fig2b_R2",
              "fig2b_dE_eff", "fig3_drops"):
        assert k in keys
        assert R.PAPER_CLAIMS[k].claim in report
    # the tiny parameters are what the records say was run
    rec = json.loads((out / "fig1a.json").read_text())
    assert rec["params"]["n_seeds"] == paper_traps.FIG1A_TINY.n_seeds and rec["params"]["epochs"] == paper_traps.FIG1A_TINY.epochs


def _claims(summary):
    return {c.key: (c, r) for r in summary.results for c in r.claims}


def test_censored_measurements_are_never_reproduced(tiny_run):
    _, summary = tiny_run
    cl = _claims(summary)
    # fig1a: each tau row against the measurement it reports
    c, r = cl["fig1a_tau_rank1"]
    m = r.numbers["tau_test_mse"]["rank-1 trap"]
    # a censored measurement is never "reproduced" and carries no value (implication, asserted every run)
    assert m["n_events"] > 0 or (c.status != R.REPRODUCED and c.value is None), (m, c)
    c, r = cl["fig1b_escape"]
    m = r.numbers["tau"]
    # full-batch GD from an exactly rank-1 state: sigma_2 is rounding noise, nothing escapes
    assert r.numbers["sigma_2_max_over_all"] < 1e-12
    assert m["n_events"] == 0 and c.status in (R.NOT_REPRODUCED, R.CONTRADICTED)
    assert r.numbers["batch_used"] == paper_traps.FIG1B_TINY.n_train
    # fig2b: rows without a fit are not reproduced
    for key in ("fig2b_R2", "fig2b_dE_eff"):
        c, r = cl[key]
        assert r.numbers["paper_protocol"]["fit_trace"] is not None or c.status == R.NOT_REPRODUCED
    # the rank-1 trap's escape-direction noise is zero (plain SGD cannot escape there)
    nz = _claims(summary)["fig1a_tau_rank1"][1].numbers["noise"]
    assert nz["rank-1 trap"]["escape_noise_zero"] and nz["trivial trap"]["c_e"] == 0.0


def test_interval_rows_agree_with_their_intervals(tiny_run):
    _, summary = tiny_run
    for c, r in _claims(summary).values():
        if c.key == "fig2b_escape_protocol_barrier":
            fit = r.numbers["escape_protocol"]["fit_T_e"]
            dE = r.numbers["escape_protocol"]["barrier_reverse"]
            inside = fit["slope_ci"][0] <= dE <= fit["slope_ci"][1]
            assert (c.status == R.REPRODUCED) == inside
        if c.key == "escape_law_exponential":
            run = r.numbers["run"]["tau_sde"]
            inside = run["ci_low"] <= r.numbers["exact_mfpt_tau_sde"] <= (run["ci_high"] or math.inf)
            assert (c.status == R.REPRODUCED) == inside


def test_tau_status_rules():
    none = {"n_events": 0, "ci_low": 5000.0, "ci_high": None}
    assert paper_common._tau_status(none, 2750, 11000) == R.NOT_REPRODUCED  # censored: never reproduced
    assert paper_common._tau_status({**none, "ci_low": 2e4}, 2750, 11000) == R.CONTRADICTED  # bound beyond the claim
    some = {"n_events": 5, "ci_low": 4000.0, "ci_high": 9000.0}
    assert paper_common._tau_status(some, 2750, 11000) == R.REPRODUCED
    assert paper_common._tau_status({**some, "ci_low": 12000.0, "ci_high": 30000.0}, 2750, 11000) == R.CONTRADICTED


def test_mle_counts_censored_runs():
    m = schedule.escape_mle([10.0, None, 30.0, None], 100.0)
    assert m["n_events"] == 2 and m["n_censored"] == 2
    assert m["mean"] == pytest.approx((10 + 30 + 100 + 100) / 2)
    m = schedule.escape_mle([None, None], 50.0)
    assert m["mean"] is None and m["ci_low"] > 50.0  # a lower bound only


def test_sigma_crossing_and_drops():
    data = make_dataset([0.9, 0.8], n_train=64, n_test=16, seed=1)
    w0 = sgd.init_random(3, 4, 2, 3, seed=2)
    r = sgd.train(w0, data, beta=0.05, lr=0.05, batch=16, epochs=5, seed=3)
    s = r.svals.copy()
    s[:, :, 1] = np.array([[0, 0, 0], [0, 0, 1], [0, 1, 1], [1, 1, 1], [1, 1, 1], [1, 1, 1]])[: s.shape[0]] * 0.5
    r2 = type(r)(**{**r.__dict__, "svals": s})
    assert schedule.sigma_crossing(r2, 1, 0.1, "up") == [3.0, 2.0, 1.0]
    assert schedule.sigma_crossing(r2, 1, 0.1, "down") == [0.0, 0.0, 0.0]
    betas = np.array([0.1, 0.2, 0.3, 0.4])
    sv = np.zeros((4, 2, 2))
    sv[:, 0, 0] = [0.5, 0.4, 0.0, 0.0]
    sv[:, 1, 0] = [0.0, 0.0, 0.0, 0.0]  # never above: no drop
    assert paper_sweep._drops(sv, betas, 0, 1e-3) == [0.3, None]


def test_concat_chains_records_on_one_epoch_axis():
    data = make_dataset([0.9, 0.8], n_train=64, n_test=16, seed=1)
    w0 = sgd.init_random(3, 4, 2, 2, seed=2)
    r = schedule.train_schedule(w0, data, schedule=[(4, 1), (6, 3)], seed=3, beta=0.1, lr=0.05, batch=16)
    assert r.epochs.tolist() == [0, 1, 2, 3, 4, 7, 10] and r.epochs_run == 10
    assert r.test_mse.shape == (7, 2) and r.svals.shape == (7, 2, 2)
    assert r.mode_sv.shape[0] == 7
    assert r.mode_sv_empirical is None or r.mode_sv_empirical.shape[0] == 7


def test_compute_draw_claims_compose_to_the_registered_figure(tiny_run):
    """The split steps, called by hand, give the registered figure's numbers and rows (same seed)."""
    from matplotlib.figure import Figure

    _, summary = tiny_run
    res = {r.name: r for r in summary.results}["fig1b"]
    cfg, seed = paper_traps.FIG1B_TINY, F.figure_seed(5, "fig1b")
    d = paper_traps.fig1b_compute(cfg, seed=seed)
    assert json.loads(json.dumps(R.jsonable(d.numbers))) == res.to_dict()["numbers"]
    claims, caption = paper_traps.fig1b_claims(cfg, d.numbers, seed)
    assert [(c.key, c.status, c.value) for c in claims] == [(c.key, c.status, c.value) for c in res.claims]
    assert caption == res.caption
    assert isinstance(paper_traps.fig1b_draw(cfg, d), Figure)
    # the compute step holds numbers and arrays only (no drawing objects)
    assert all(isinstance(v, np.ndarray) or np.isscalar(v) for v in d.arrays.values())


def test_fig2b_bars_are_the_likelihood_ratio_intervals():
    """Panels (b, c) draw ln tau with bars ln(mean/ci_low), ln(ci_high/mean): the 95 % LR interval itself."""
    from langevin_grok.report import plotting

    pts = [{"T_trace": 0.5, "T_e": 0.1, "n_events": 5, "tau_sde": {"mean": 10.0, "ci_low": 5.0, "ci_high": 30.0}},
           {"T_trace": 0.25, "T_e": 0.05, "n_events": 0, "tau_sde": {"mean": None, "ci_low": 40.0, "ci_high": None}},
           {"T_trace": 0.2, "T_e": 0.04, "n_events": 0, "tau_sde": None}]
    x, y, err, lb = paper_arrhenius._ln_points(pts, "T_trace")
    np.testing.assert_allclose(x, [2.0, 4.0, 5.0])
    assert y[0] == pytest.approx(math.log(10.0)) and np.isnan(y[1:]).all()
    np.testing.assert_allclose(err[:, 0], [math.log(2.0), math.log(3.0)])
    assert lb[1] == pytest.approx(math.log(40.0)) and np.isnan(lb[[0, 2]]).all()
    _, ax = plotting.plot_arrhenius(x, y, err, err_label="95 % LR interval")
    seg = ax.containers[0].lines[2][0].get_segments()[0]
    np.testing.assert_allclose(np.exp(seg[:, 1]), [5.0, 30.0])  # the bar spans exactly ci_low..ci_high
