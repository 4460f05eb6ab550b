"""Plotting functions on synthetic data: each returns (fig, ax) with the expected artists, no pyplot state."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from langevin_grok.report import plotting as P
from langevin_grok._core.checks import InputError


def _labelled_lines(ax):
    return [ln for ln in ax.get_lines() if not ln.get_label().startswith("_")]


def _legend_texts(ax):
    leg = ax.get_legend()
    return [t.get_text() for t in leg.get_texts()] if leg is not None else []


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """No function may leave a pyplot-managed figure behind (global state)."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before


def _check(fig, ax):
    assert isinstance(fig, Figure)
    assert ax in fig.axes
    assert ax.get_xlabel() and ax.get_ylabel()


def test_new_figure_and_save(tmp_path):
    fig, ax = P.new_figure()
    ax.plot([0, 1], [0, 1])
    paths = P.save_figure(fig, tmp_path / "sub", "demo")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths[1].read_bytes()[:5] == b"%PDF-"
    fig2, axes = P.new_figure(1, 2)
    assert axes.shape == (2,)


def test_draws_on_given_axes():
    fig, axes = P.new_figure(1, 2)
    t = np.linspace(1, 100, 50)
    f2, a2 = P.plot_grokking_curve(t, 1 / t, 2 / t, ax=axes[1])
    assert f2 is fig and a2 is axes[1]
    assert len(axes[0].get_lines()) == 0


def _path_curve(beta, with_points=True):
    x = np.linspace(0, 0.5, 50)
    e = x * (0.3 - x)
    if not with_points:
        return P.PathCurve(beta=beta, x=x, energy=e)
    return P.PathCurve(beta=beta, x=x, energy=e, x_saddle=0.15, e_saddle=0.0225, x_min=0.4, e_min=-0.04,
                       barrier_forward=0.0225, barrier_reverse=0.0625)


def test_plot_minimal_path_lines_markers_and_arrows():
    curves = [_path_curve(0.29), _path_curve(0.32), _path_curve(0.35, with_points=False)]
    fig, ax = P.plot_minimal_path(curves)
    _check(fig, ax)
    labels = [ln.get_label() for ln in _labelled_lines(ax)]
    # one curve per beta plus three marker proxies
    assert [lab.split(":")[0] for lab in labels[:3]] == [r"$\beta = 0.29$", r"$\beta = 0.32$", r"$\beta = 0.35$"]
    assert labels[3:] == ["trivial minimum", "saddle", "learned minimum"]
    # both barrier values in the legend entry of each curve that has them (no text over the curves)
    for lab in labels[:2]:
        assert P._fmt_num(0.0225) in lab and P._fmt_num(0.0625) in lab
    assert labels[2] == r"$\beta = 0.35$"
    # forward and reverse arrows for the two curves with a barrier, none for the third
    arrows = [c for c in ax.texts if getattr(c, "arrow_patch", None) is not None]
    assert len(arrows) == 4
    assert not [t for t in ax.texts if t.get_text()]
    # the legend sits under the axes (its anchor is below y = 0 in axes coordinates)
    assert ax.get_legend().get_bbox_to_anchor().transformed(ax.transAxes.inverted()).y0 < 0
    fig, ax = P.plot_minimal_path(curves, annotate=False)
    assert [ln.get_label() for ln in _labelled_lines(ax)][0] == r"$\beta = 0.29$"
    with pytest.raises(InputError, match="curves"):
        P.plot_minimal_path([])


def _branch(eta):
    lc = eta / 4
    st = np.linspace(lc, eta, 20)
    un = np.linspace(0, lc, 20)
    bol = lambda lam: lam ** (1 / 3) * (eta - lam)  # noqa: E731
    return P.BifurcationBranch(label=f"eta={eta}", beta_stable=bol(st), lam_stable=st, beta_unstable=bol(un),
                               lam_unstable=un, beta_c=float(bol(lc)), lambda_c=lc, beta_star=(eta / 2) ** (4 / 3),
                               lambda_star=eta / 2)


def test_plot_bifurcation_branches():
    fig, ax = P.plot_bifurcation([_branch(0.9), _branch(0.8)])
    _check(fig, ax)
    lines = _labelled_lines(ax)
    labels = [ln.get_label() for ln in lines]
    assert labels[0].startswith("trivial")
    assert sum("learned (stable)" in lab for lab in labels) == 2
    assert sum("saddle (unstable)" in lab for lab in labels) == 2
    styles = {ln.get_label(): ln.get_linestyle() for ln in lines}
    assert styles["eta=0.9: learned (stable)"] == "-" and styles["eta=0.9: saddle (unstable)"] == "--"
    # beta_c and beta* labels for each mode
    texts = [t.get_text() for t in ax.texts]
    assert sum("beta_c" in t for t in texts) == 2 and sum("beta^*" in t for t in texts) == 2
    with pytest.raises(InputError):
        P.plot_bifurcation([])


def test_plot_depth_dependence():
    d = np.array([3, 4, 5, 6])
    fig, ax = P.plot_depth_dependence(d, {"a": d * 1.0, "b": d * 2.0}, ylabel="y", logy=True,
                                      styles={"b": {"ls": "--"}})
    _check(fig, ax)
    assert [ln.get_label() for ln in _labelled_lines(ax)] == ["a", "b"]
    assert ax.get_yscale() == "log"
    with pytest.raises(InputError, match="series"):
        P.plot_depth_dependence(d, {"a": np.ones(3)}, ylabel="y")


def test_plot_mse_curves_band_and_escapes():
    rng = np.random.default_rng(1)
    t = np.arange(1.0, 101.0)
    curves = {"random init": rng.random((5, 100)), "rank-1 trap": rng.random((5, 100)), "single": rng.random(100)}
    fig, ax = P.plot_mse_curves(t, curves, escape_times={"random init": 12.0, "rank-1 trap": math.inf})
    _check(fig, ax)
    lines = _labelled_lines(ax)
    assert len(lines) == 3 + 1 + 1  # 3 medians, 1 escape line, 1 "no escape" legend entry
    # median line equals the per-epoch median of the seeds
    np.testing.assert_allclose(lines[0].get_ydata(), np.median(curves["random init"], axis=0))
    assert len(ax.collections) == 2 + 1  # two bands (the 1-D curve has none) + the legend proxy
    legend = _legend_texts(ax)
    assert any("12 epochs" in s for s in legend) and any("no escape" in s for s in legend)
    fig, ax = P.plot_mse_curves(t, curves, escape_times={"random init": 12.0, "rank-1 trap": math.inf},
                                escape_labels={"random init": "median 12", "rank-1 trap": "tau > 50"})
    legend = _legend_texts(ax)
    assert "median 12" in legend and "tau > 50" in legend
    with pytest.raises(InputError):
        P.plot_mse_curves(t, {"bad": np.ones((2, 7))})
    with pytest.raises(InputError, match="quantiles"):
        P.plot_mse_curves(t, curves, quantiles=(0.9, 0.1))


def test_plot_grokking_curve_references():
    t = np.arange(1.0, 51.0)
    fig, ax = P.plot_grokking_curve(t, 1 / t, 2 / t, references={"best rank-1 fit": 0.3, "best rank-2 fit": 0.1,
                                                                 "Bayes error": 0.05}, escape_epoch=20.0)
    _check(fig, ax)
    labels = [ln.get_label() for ln in _labelled_lines(ax)]
    assert labels[:2] == ["train MSE", "test MSE"]
    assert len(labels) == 2 + 3 + 1
    assert any(lab.startswith("Bayes error = 0.05") for lab in labels)


def test_plot_arrhenius_fit_prediction_and_censoring():
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([1.0, 2.1, 2.9, np.nan])
    fig, ax = P.plot_arrhenius(x, y, np.full(4, 0.1), err_label="95 % LR interval", fit=(1.0, 0.0), r2=0.991,
                               slope_ci=(0.83, 1.17), slope_se=0.05, predicted=(1.2, -0.3),
                               lower_bounds=[np.nan, np.nan, np.nan, 4.5], lower_bound_label="95 % lower bound")
    _check(fig, ax)
    legend = _legend_texts(ax)
    fit_entry = [s for s in legend if s.startswith("fit")]
    # R^2, the slope's interval and its standard error, each with its coverage, in the fit's entry
    assert len(fit_entry) == 1
    assert all(v in fit_entry[0] for v in ("0.991", "95 % CI 0.83..1.17", "s.e. 0.05"))
    assert any(s.startswith("theory") for s in legend)
    assert "95 % lower bound" in legend
    assert "measured (bars: 95 % LR interval)" in legend
    # error bars without saying what they cover are refused
    with pytest.raises(InputError, match="err_label"):
        P.plot_arrhenius(x, y, np.full(4, 0.1))
    # the NaN point is not drawn as a measurement
    data = ax.containers[0].lines[0].get_xdata()
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])
    # no escapes at all: a note, no fit line, the x range still shown
    fig, ax = P.plot_arrhenius(x, np.full(4, np.nan), note="no escapes")
    assert ax.get_legend() is None and [t.get_text() for t in ax.texts] == ["no escapes"]
    assert ax.get_xlim()[0] < 1.0 < 4.0 < ax.get_xlim()[1]
    with pytest.raises(InputError):
        P.plot_arrhenius(x, y[:3])


def test_plot_escape_distribution_ecdf_and_hist():
    rng = np.random.default_rng(2)
    t = rng.exponential(10.0, 300)
    t[t > 25] = np.inf  # censored runs
    fig, ax = P.plot_escape_distribution(t, tau=10.0, censor_time=25.0, ks_pvalue=0.5)
    _check(fig, ax)
    lines = _labelled_lines(ax)
    assert len(lines) == 3  # ECDF, law, censoring line
    ecdf = lines[0].get_ydata()
    n_obs = int(np.isfinite(t).sum())
    assert ecdf[-1] == pytest.approx(n_obs / t.size)  # censored runs stay in the denominator
    assert f"{n_obs} of {t.size}" in lines[0].get_label()
    fig, ax = P.plot_escape_distribution(t, tau=10.0, tau_ci=(9.0, None), censor_time=25.0)
    assert "95 % CI 9..inf" in _labelled_lines(ax)[1].get_label()
    fig, ax = P.plot_escape_distribution(t, tau=10.0, kind="hist")
    assert len(_labelled_lines(ax)) == 1 and len(ax.patches) > 0
    with pytest.raises(InputError, match="tau"):
        P.plot_escape_distribution(t, tau=-1.0)
    with pytest.raises(InputError, match="kind"):
        P.plot_escape_distribution(t, tau=1.0, kind="pie")


def test_kaplan_meier_matches_hand_computation():
    # times 1, 2(censored), 3, 4: S = 3/4 after 1; at 3 two at risk -> 3/4 * 1/2; at 4 -> 0
    st, sv = P._kaplan_meier(np.array([3.0, 1.0, 4.0, 2.0]), np.array([True, True, True, False]))
    np.testing.assert_allclose(st, [0, 1, 3, 4])
    np.testing.assert_allclose(sv, [1, 0.75, 0.375, 0.0])


def test_plot_survival():
    rng = np.random.default_rng(3)
    t = rng.exponential(5.0, 100)
    obs = t < 12
    t = np.minimum(t, 12)
    fig, ax = P.plot_survival(t, obs, tau=5.0, tau_ci=(4.2, 6.1))
    _check(fig, ax)
    lines = _labelled_lines(ax)
    assert len(lines) == 2
    assert "95 % CI 4.2..6.1" in lines[1].get_label()
    assert f"{obs.sum()} escapes, {(~obs).sum()} censored" in lines[0].get_label()
    # the step curve never rises and starts at 1
    y = lines[0].get_ydata()
    assert y[0] == 1.0 and np.all(np.diff(y) <= 0)
    with pytest.raises(InputError):
        P.plot_survival(t, obs[:5], tau=5.0)


def test_plot_hysteresis():
    b = np.round(np.arange(0.25, 0.46, 0.01), 2)
    up = np.where(b < 0.36, 0.1, 0.3) + 0.01 * np.random.default_rng(4).standard_normal((6, b.size))
    fig, ax = P.plot_hysteresis(b, up, b[::-1], np.full(b.size, 0.2), beta_c={"a": 0.35, "b": 0.41},
                                beta_star={"a": 0.29, "b": 0.34})
    _check(fig, ax)
    labels = [ln.get_label() for ln in _labelled_lines(ax)]
    assert len(labels) == 2 + 2 + 2
    assert labels[0].startswith("sweep up") and labels[1].startswith("sweep down")
    assert sum("beta_c" in lab for lab in labels) == 2 and sum("beta^*" in lab for lab in labels) == 2
    assert len(ax.collections) == 1  # band only for the 2-D sweep
    with pytest.raises(InputError):
        P.plot_hysteresis(b, up[:, :3], b, np.ones(b.size))


def test_no_interactive_backend_needed():
    # The module builds Figure objects directly; it must not switch the global backend.
    backend = matplotlib.get_backend()
    P.new_figure()
    assert matplotlib.get_backend() == backend


def test_plot_arrhenius_theory_curves():
    x = np.array([1.0, 2.0, 3.0])
    fig, ax = P.plot_arrhenius(x, x + 1, theory_curves={"exact MFPT": (np.linspace(1, 3, 9), np.linspace(2, 4.2, 9)),
                                                         "Eyring-Kramers": (x, x + 0.5)})
    labels = [ln.get_label() for ln in _labelled_lines(ax)]
    assert labels == ["exact MFPT", "Eyring-Kramers"]
    with pytest.raises(InputError, match="theory_curves"):
        P.plot_arrhenius(x, x, theory_curves={"bad": (x, x[:2])})
