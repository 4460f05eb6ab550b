"""Escape-time statistics: censored exponential MLE and its intervals, KS test, Arrhenius fit.

Statistical tests use fixed seeds and state their tolerances (several standard errors wide)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from langevin_grok._core.checks import InputError
from langevin_grok.theory.stats import (
    arrhenius_fit,
    exponential_mle,
    ks_exponential,
    log_sigma_from_ci,
    median_ci,
)


def _censored_sample(rng, n, tau, cap):
    t = rng.exponential(tau, size=n)
    return np.minimum(t, cap), t <= cap


# --------------------------------------------------------------------------- MLE
def test_mle_point_estimate_and_counts():
    est = exponential_mle([1.0, 2.0, 3.0, 4.0], [True, True, True, False])
    assert est.mean == pytest.approx(10.0 / 3.0) and est.rate == pytest.approx(0.3)
    assert (est.n_paths, est.n_events, est.n_censored, est.total_time) == (4, 3, 1, 10.0)
    assert est.ci_low < est.mean < est.ci_high
    assert exponential_mle([2.0, 4.0]).mean == 3.0  # no censoring: the sample mean


@pytest.mark.parametrize("d,S", [(1, 3.0), (7, 10.0), (250, 400.0)])
def test_lr_interval_solves_the_likelihood_ratio_equation(d, S):
    times = np.full(d + 3, S / (d + 3))
    escaped = np.arange(d + 3) < d
    est = exponential_mle(times, escaped, confidence=0.9)
    loglik = lambda tau: -d * math.log(tau) - S / tau
    q = stats.chi2.ppf(0.9, 1)
    for end in (est.ci_low, est.ci_high):
        assert 2 * (loglik(est.mean) - loglik(end)) == pytest.approx(q, rel=1e-9)


def test_chi2_interval_is_exact_formula_without_censoring():
    t = [0.5, 1.5, 2.0, 0.1, 0.9]
    est = exponential_mle(t, method="chi2")
    S, d = sum(t), 5
    assert est.ci_low == pytest.approx(2 * S / stats.chi2.ppf(0.975, 2 * d))
    assert est.ci_high == pytest.approx(2 * S / stats.chi2.ppf(0.025, 2 * d))
    # with censoring the lower end uses 2d + 2 degrees of freedom (time-terminated test)
    est = exponential_mle(t, [1, 1, 1, 1, 0], method="chi2")
    assert est.ci_low == pytest.approx(2 * S / stats.chi2.ppf(0.975, 2 * 4 + 2))


def test_zero_events_gives_lower_bound_only():
    for method in ("lr", "chi2"):
        est = exponential_mle([5.0, 5.0, 5.0], [False, False, False], method=method)
        assert est.mean == math.inf and est.ci_high == math.inf and est.n_events == 0
        assert 0 < est.ci_low < math.inf
        d = est.to_dict()
        assert d["mean"] is None and d["ci_high"] is None and d["ci_low"] > 0
    assert exponential_mle([5.0] * 3, [0] * 3).ci_low == pytest.approx(2 * 15 / stats.chi2.ppf(0.95, 1))


def test_mle_bad_input():
    with pytest.raises(InputError):
        exponential_mle([])
    with pytest.raises(InputError):
        exponential_mle([1.0, -1.0])
    with pytest.raises(InputError):
        exponential_mle([1.0, np.nan])
    with pytest.raises(InputError):
        exponential_mle([1.0, 2.0], [True])
    with pytest.raises(InputError):
        exponential_mle([1.0], confidence=1.0)
    with pytest.raises(InputError):
        exponential_mle([1.0], method="wald")


def test_mle_nearly_unbiased_with_censoring():
    """Seed 11; 2000 experiments of 400 paths, tau = 1, cap 1.5 (22% censored). The MLE's bias is
    O(1/d) ~ 0.3%; the Monte Carlo standard error of the mean is ~0.13%. Tolerance 1%."""
    rng = np.random.default_rng(11)
    means = [exponential_mle(*_censored_sample(rng, 400, 1.0, 1.5)).mean for _ in range(2000)]
    assert abs(np.mean(means) - 1.0) < 0.01


def test_interval_coverage_by_simulation():
    """Seed 12; 3000 experiments of 40 paths, tau = 2, cap 3 (22% censored), 95% intervals.
    Binomial standard error of a coverage near 0.95 is 0.004: LR must cover within [0.935, 0.965];
    the chi2 interval is conservative under censoring: within [0.94, 0.985]."""
    rng = np.random.default_rng(12)
    cover = {"lr": 0, "chi2": 0}
    n_rep = 3000
    for _ in range(n_rep):
        t, e = _censored_sample(rng, 40, 2.0, 3.0)
        for m in cover:
            est = exponential_mle(t, e, method=m)
            cover[m] += est.ci_low <= 2.0 <= est.ci_high
    assert 0.935 <= cover["lr"] / n_rep <= 0.965
    assert 0.94 <= cover["chi2"] / n_rep <= 0.985


def test_zero_event_lower_bound_coverage():
    """Seed 13; many experiments with few escapes (5 paths, cap = tau/4): whenever no path escapes,
    the 95% lower bound must still hold in at least ~95% of those cases (tolerance 0.03)."""
    rng = np.random.default_rng(13)
    hits = total = 0
    for _ in range(4000):
        t, e = _censored_sample(rng, 5, 1.0, 0.25)
        if e.any():
            continue
        total += 1
        hits += exponential_mle(t, e).ci_low <= 1.0
    assert total > 500
    assert hits / total >= 0.92


# --------------------------------------------------------------------------- KS
def test_ks_exact_size_under_the_null():
    """Seed 21; 600 exponential samples of 50 with tau known: rejection rate at 5% within [0.025, 0.08]."""
    rng = np.random.default_rng(21)
    rej = sum(ks_exponential(rng.exponential(3.0, 50), tau=3.0).pvalue < 0.05 for _ in range(600))
    assert 0.025 <= rej / 600 <= 0.08


def test_ks_bootstrap_size_with_censoring():
    """Seed 22; 200 censored samples (n = 60, cap = 2 tau), tau estimated, 99 bootstrap draws each:
    rejection rate at 10% within [0.04, 0.18] (binomial sd 0.02)."""
    rng = np.random.default_rng(22)
    rej = 0
    for i in range(200):
        t, e = _censored_sample(rng, 60, 1.0, 2.0)
        r = ks_exponential(t, e, n_boot=99, rng=1000 + i)
        assert r.method == "bootstrap" and r.cap == 2.0 and r.seed == 1000 + i
        rej += r.pvalue < 0.10
    assert 0.04 <= rej / 200 <= 0.18


def test_ks_rejects_non_exponential():
    """Seed 23: Weibull shape 2 (a relaxation-dominated law) with 300 samples, censored or not."""
    rng = np.random.default_rng(23)
    t = rng.weibull(2.0, 300)
    assert ks_exponential(t, n_boot=199, rng=5).pvalue < 0.01
    cap = 1.2
    assert ks_exponential(np.minimum(t, cap), t <= cap, n_boot=199, rng=6).pvalue < 0.01
    assert ks_exponential(t, tau=float(t.mean())).method == "exact"
    assert ks_exponential(t).method == "conservative"


def test_ks_truncated_law_matches_scipy():
    rng = np.random.default_rng(24)
    t, e = _censored_sample(rng, 200, 1.0, 1.0)
    r = ks_exponential(t, e, tau=1.0)
    x = t[e]
    trunc = lambda s: (1 - np.exp(-s)) / (1 - np.exp(-1.0))
    ref = stats.kstest(x, trunc)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert r.pvalue == pytest.approx(ref.pvalue, rel=1e-6)


def test_ks_bad_input():
    with pytest.raises(InputError, match="common cap"):
        ks_exponential([1.0, 2.0, 3.0], [True, False, False])
    with pytest.raises(InputError):
        ks_exponential([1.0, 2.0], [False, False])
    with pytest.raises(InputError):
        ks_exponential([1.0, 5.0], [True, True], cap=2.0)


# --------------------------------------------------------------------------- Arrhenius
def test_arrhenius_exact_data():
    x = np.array([50.0, 80.0, 120.0, 200.0])
    tau = 3.0 * np.exp(0.02 * x)
    fit = arrhenius_fit(x, tau)
    assert fit.slope == pytest.approx(0.02, rel=1e-12) and fit.tau0 == pytest.approx(3.0, rel=1e-12)
    assert fit.r_squared == pytest.approx(1.0, abs=1e-14)
    assert fit.slope_ci[0] <= 0.02 <= fit.slope_ci[1]
    assert fit.predict([100.0]) == pytest.approx([3.0 * math.exp(2.0)])
    fw = arrhenius_fit(x, tau, sigma_log=[0.1, 0.2, 0.1, 0.3], absolute_sigma=True)
    assert fw.slope == pytest.approx(0.02, rel=1e-12) and fw.r_squared == pytest.approx(1.0, abs=1e-14)


def test_arrhenius_recovers_slope_and_ci_coverage():
    """Seed 31; 6 temperatures, ln tau with known noise sd 0.1, 1000 replicate fits. Slope mean within
    1% of 0.15 and 95% CI coverage within [0.93, 0.97] (t-interval, sd of coverage 0.007) for both
    weightings."""
    rng = np.random.default_rng(31)
    x = np.linspace(100.0, 200.0, 6)
    sig = np.array([0.05, 0.08, 0.1, 0.1, 0.15, 0.2])
    slopes, cov_u, cov_a = [], 0, 0
    for _ in range(1000):
        y = 1.5 + 0.15 * x + sig * rng.standard_normal(6)
        fit = arrhenius_fit(x, np.exp(y), sigma_log=sig)
        fa = arrhenius_fit(x, np.exp(y), sigma_log=sig, absolute_sigma=True)
        slopes.append(fit.slope)
        cov_u += fit.slope_ci[0] <= 0.15 <= fit.slope_ci[1]
        cov_a += fa.slope_ci[0] <= 0.15 <= fa.slope_ci[1]
    assert np.mean(slopes) == pytest.approx(0.15, rel=0.01)
    assert 0.93 <= cov_u / 1000 <= 0.97 and 0.93 <= cov_a / 1000 <= 0.97


def test_arrhenius_from_simulated_escape_ensembles():
    """Seed 32: exponential escape ensembles (200 paths, censored at a cap) at 5 inverse temperatures,
    tau = 2 exp(0.03 x); MLE + delta-method sigmas; the 95% slope CI covers 0.03 and R^2 > 0.99."""
    rng = np.random.default_rng(32)
    x = np.array([40.0, 60.0, 80.0, 100.0, 120.0])
    taus, sig = [], []
    for xi in x:
        tau = 2 * math.exp(0.03 * xi)
        est = exponential_mle(*_censored_sample(rng, 200, tau, 3 * tau))
        taus.append(est.mean)
        sig.append(log_sigma_from_ci(est.ci_low, est.ci_high))
    sig = np.array(sig)
    assert np.all(np.abs(sig * math.sqrt(190) - 1) < 0.15)  # sigma(ln tau) ~ 1/sqrt(escapes)
    fit = arrhenius_fit(x, taus, sigma_log=sig, absolute_sigma=True)
    assert fit.slope_ci[0] <= 0.03 <= fit.slope_ci[1]
    assert fit.r_squared > 0.99


def test_arrhenius_bad_input():
    with pytest.raises(InputError):
        arrhenius_fit([1, 2], [1, 2])
    with pytest.raises(InputError):
        arrhenius_fit([1, 2, 3], [1, 0, 2])
    with pytest.raises(InputError):
        arrhenius_fit([1, 2, 3], [1, np.inf, 2])
    with pytest.raises(InputError):
        arrhenius_fit([1, 1, 1], [1, 2, 3])
    with pytest.raises(InputError):
        log_sigma_from_ci([1.0], [np.inf])


def test_median_ci_counts_censored_runs_as_late():
    m = median_ci([1.0] * 9 + [None])
    assert m["median"] == 1.0 and m["n_censored"] == 1
    m = median_ci([None] * 6 + [3.0] * 4)
    assert m["median"] is None and m["ci_high"] is None
    # coverage of the order-statistic interval (seed 0, 400 samples of 25 exponentials; tolerance 0.03)
    rng = np.random.default_rng(0)
    hits = [(lambda c: c["ci_low"] <= math.log(2) <= c["ci_high"])(median_ci(list(rng.exponential(1.0, 25))))
            for _ in range(400)]
    assert np.mean(hits) >= 0.92
