"""SGD on the escape line (langevin_grok.sgd.line_sgd): the exact polynomial per-sample gradients against the
network's own gradient and noise, the compiled steps against plain gradient descent, the Gaussian variant
against the exact discrete-chain MFPT, and the input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.sgd.line_sgd import LineNoise, line_noise, line_sgd_escape
from langevin_grok.sgd.noise import gradient_noise
from langevin_grok.sgd.path_noise import mfpt_discrete_chain
from langevin_grok.sgd.noise_models import Validity
from langevin_grok.theory.stats import exponential_mle

L, W, BETA = 3, 4, 0.30


@pytest.fixture(scope="module")
def problem(rank2_segment):
    """The conftest's rank-2 minimum and mode-2 saddle (N = 256, w = 4) with the line between them."""
    data, net, start, saddle = rank2_segment
    line = line_noise(data.x_train, data.y_train, L, W, BETA, start.theta, saddle.theta)
    return data, net, start, saddle, line


def test_line_polynomials_are_the_network_gradient_and_noise(problem):
    """Mean of the per-sample polynomials = e . grad of the full-batch loss; their variance = c_e of
    sgd.noise.gradient_noise; both at points on and beyond the segment (the polynomial is exact)."""
    data, net, start, saddle, line = problem
    assert line.fit_residual < 1e-11
    e = line.direction
    for r in (-0.3 * line.length, 0.0, 0.4 * line.length, line.length, 1.7 * line.length):
        th = start.theta + r * e
        assert line.gradient(r) == pytest.approx(float(net.grad(th) @ e), abs=1e-11)
        c = gradient_noise(th, data.x_train, data.y_train, L, W, direction=e, n_top=0).direction_variance
        assert line.noise(r) == pytest.approx(c, rel=1e-9, abs=1e-14)
    assert abs(line.gradient(0.0)) < 1e-10 and abs(line.gradient(line.length)) < 1e-10  # both stationary
    assert line.noise_start == pytest.approx(float(line.noise(0.0)), rel=1e-12)


def test_noiseless_line_sgd_is_gradient_descent():
    """All samples alike (no noise): the compiled loop must reproduce gradient descent on U' = r^3 - r from
    r = 0.2 towards the minimum at 1, never reaching r = 1.5 (no escape, every path censored)."""
    coef = np.tile([0.0, -1.0, 0.0, 1.0], (10, 1))
    line = LineNoise(coef, 1.0, np.ones(1), 0.0, 0.0, 0.0, 0.0, 0.0, 1, 1)
    res = line_sgd_escape(line, 0.1, 5, r_target=1.5, n_paths=3, max_epochs=40, replacement=True, seed=0,
                          r_start=0.2)
    assert not res.observed.any() and np.all(res.epochs == 40) and res.steps_per_epoch == 2
    x = 0.2
    for _ in range(80):
        x -= 0.1 * (x ** 3 - x)
    down = line_sgd_escape(line, 0.1, 5, r_target=x - 1e-9, n_paths=2, max_epochs=40, replacement=False, seed=0,
                           r_start=0.2)  # the level GD passes at step 80 = the end of epoch 40 (and not before)
    assert down.observed.all() and np.all(down.epochs == 40)


def test_gaussian_line_sgd_against_the_discrete_chain_mfpt(problem):
    """The Gaussian variant is the chain of mfpt_discrete_chain with T(r) = lr c_e(r)/(2B) (lr 0.2, B 8,
    dE/T ~ 3 at the start): 600 paths (seed 2) against the Nystrom solve on the same line (2932; measured
    2888); tolerance 4 standard errors of the MLE plus one epoch (escapes are read at epoch boundaries)."""
    *_, start, saddle, line = problem
    lr, B = 0.2, 8
    target = 1.4 * line.length
    T = lambda t, x, p: lr * line.noise(x) / (2 * B)  # noqa: E731
    chain = mfpt_discrete_chain(lambda t, x, p: line.gradient(x), T, 0.0, target, -0.5 * line.length, lr=lr)
    res = line_sgd_escape(line, lr, B, r_target=target, n_paths=600, max_epochs=20000, replacement=True, seed=2,
                          gaussian=True)
    est = exponential_mle(res.t_sde, res.observed)
    assert res.observed.all()
    se = est.mean / math.sqrt(est.n_events)
    assert abs(est.mean - chain.tau) < 4 * se + res.steps_per_epoch * lr


def test_line_sgd_is_reproducible_and_checks_its_inputs(problem):
    *_, line = problem
    kw = dict(r_target=1.4 * line.length, n_paths=8, max_epochs=50, replacement=False)
    a = line_sgd_escape(line, 0.3, 32, seed=7, **kw)
    b = line_sgd_escape(line, 0.3, 32, seed=7, **kw)
    assert np.array_equal(a.t_sde, b.t_sde) and np.array_equal(a.observed, b.observed)
    with pytest.raises(InputError, match="line"):
        line_sgd_escape("not a line", 0.3, 32, seed=7, **kw)
    with pytest.raises(InputError, match="r_target"):
        line_sgd_escape(line, 0.3, 32, seed=7, **{**kw, "r_target": 0.0})
    with pytest.raises(InputError, match="n_paths"):
        line_sgd_escape(line, 0.3, 32, seed=7, **{**kw, "n_paths": 0})
    with pytest.raises(InputError, match="lr"):
        line_sgd_escape(line, -1.0, 32, seed=7, **kw)
    with pytest.raises(InputError, match="n_paths.*memory"):  # refused before any allocation
        line_sgd_escape(line, 0.3, 32, seed=7, **{**kw, "n_paths": 10 ** 12})


def test_exact_batch_chain_against_line_sgd_and_the_gaussian_chain(problem):
    """mfpt_line_sgd (the chain whose step is the exact mean of B draws of the per-sample gradients) against
    (1) 600 simulated line-SGD paths with the same skewed data (skewness 1.8; lr 0.2, B 8, seed 3): within 4
    standard errors plus one epoch, while the Gaussian chain with the same variance is 2x faster (2932 against
    ~5700), and (2) on a line with Gaussian per-sample offsets (N = 4096, seed 0) the Gaussian chain itself
    within 1 %."""
    from langevin_grok.sgd.line_sgd import mfpt_line_sgd

    *_, line = problem
    lr, B, target, refl = 0.2, 8, 1.4 * line.length, -0.5 * line.length
    ex = mfpt_line_sgd(line, lr, B, r_target=target, r_reflect=refl)
    assert ex.status is Validity.VALID
    res = line_sgd_escape(line, lr, B, r_target=target, n_paths=600, max_epochs=40000, replacement=True, seed=3)
    est = exponential_mle(res.t_sde, res.observed)
    assert res.observed.all()
    se = est.mean / math.sqrt(est.n_events)
    assert abs(est.mean - ex.tau) < 4 * se + res.steps_per_epoch * lr
    T = lambda t, x, p: lr * line.noise(x) / (2 * B)  # noqa: E731
    gauss = mfpt_discrete_chain(lambda t, x, p: line.gradient(x), T, 0.0, target, refl, lr=lr)
    assert ex.tau > 1.5 * gauss.tau
    # Gaussian per-sample offsets on a double well: the exact batch kernel is the Gaussian chain
    z = np.random.default_rng(0).standard_normal(4096)
    c = 32.0  # T = lr c/(2B) = 0.1: dE/T = 2.5 for the double well U = r^4/4 - r^2/2
    z = math.sqrt(c) * (z - z.mean()) / z.std()
    coef = np.zeros((z.size, 4))
    coef[:, 0], coef[:, 1], coef[:, 3] = -z, -1.0, 1.0  # g_n(r) = r^3 - r - z_n
    g_line = LineNoise(coef, 1.0, np.ones(1), 0.0, c, 0.0, 0.0, 0.0, 1, 1)
    ex_g = mfpt_line_sgd(g_line, 0.05, 8, r_target=0.5, r_reflect=-2.2, r_start=-1.0)
    ch_g = mfpt_discrete_chain(lambda t, x, p: x ** 3 - x, lambda t, x, p: 0.05 * c / 16 + 0 * x, -1.0, 0.5, -2.2,
                               lr=0.05)
    assert ex_g.status is Validity.VALID
    assert ex_g.tau == pytest.approx(ch_g.tau, rel=0.01)


def test_dead_units_stay_dead_so_width_2_and_10_run_identically():
    """From the canonical learned rank-2 state, the unused hidden units of w = 10 carry exactly zero weight
    and every per-sample gradient on them is zero, so SGD never moves them: the reverse-escape ensemble of the
    paper network (w = 10, 140 weights) gives bit-identical escape times to the w = 2 network (12 weights) with
    the same data, batches and seed. What the 1-D line misses therefore lives in the 11 directions of the
    rank-2 subnetwork transverse to the escape line (docs/theory.md, "SGD on the escape line")."""
    from langevin_grok._core.seeds import child_seed
    from langevin_grok.sgd.reverse import reverse_escape_ensemble
    from langevin_grok.validation import row_sgd
    from langevin_grok.validation.config import SGDReverseSettings

    out = {}
    for w in (2, 10):
        P = row_sgd._reverse_setup(SGDReverseSettings(width=w), 0, 0.5)
        sim = reverse_escape_ensemble(P["data"], P["start"].theta, width=w, beta=P["beta"], lr=0.3, batch=40,
                                      max_time=1500.0, replicas=6, seed=child_seed(0, 4, 1), rule=P["rule"],
                                      replacement=True)
        out[w] = (np.asarray(sim["t_sde"]), np.asarray(sim["observed"]))
    assert out[2][1].any()
    assert np.array_equal(out[2][0], out[10][0]) and np.array_equal(out[2][1], out[10][1])


def test_measured_temperature_reads_the_arc_coordinate_before_each_escape():
    """sgd.reverse.measured_temperature on synthetic records: an exact OU process in r = sqrt(L) lambda^(1/L)
    (h = 0.5, T = 2e-3, one record per unit time, 400 replicas, seed 8) written as lambda; replicas "escape" at
    random epochs and their later records are garbage (1e3) that must not count. The fitted-relaxation
    reading returns T within 3 % and h within 5 %, and None when too few records precede the escapes."""
    from types import SimpleNamespace

    from langevin_grok.sgd.reverse import measured_temperature

    L, h, T, R, K = 3, 0.5, 2e-3, 400, 300
    rng = np.random.default_rng(8)
    a = math.exp(-h)
    r = np.empty((K, R))
    r[0] = 1.2 + rng.standard_normal(R) * math.sqrt(T / h)
    for k in range(K - 1):
        r[k + 1] = 1.2 + a * (r[k] - 1.2) + math.sqrt(T / h * (1 - a * a)) * rng.standard_normal(R)
    lam = (r / math.sqrt(L)) ** L
    esc = rng.integers(60, K + 100, size=R).astype(float)  # some censored (beyond the records)
    lam[np.arange(K)[:, None] >= esc[None, :]] = 1e3
    res = SimpleNamespace(epochs=np.arange(K))
    out = measured_temperature(res, lam, np.ones(R, bool), esc, L, 1.0)
    assert out["temperature"] == pytest.approx(T, rel=0.03)
    assert out["relaxation_rate"] == pytest.approx(h, rel=0.05)
    assert measured_temperature(res, lam, np.ones(R, bool), np.full(R, 25.0), L, 1.0) is None
