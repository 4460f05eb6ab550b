"""User-defined models (``langevin_grok.langevin.custom``): the same compiled kernels, the sdeint reference,
the exact 1-D MFPT, and a quartic double well checked across engine, AMS and quadrature."""

import math

import numpy as np
import pytest
from scipy import integrate

from langevin_grok._core.checks import InputError
from langevin_grok.langevin.ams import simulate_ams
from langevin_grok.langevin.custom import custom_model, user_event
from langevin_grok.langevin.engine import euler_maruyama_replay, simulate_ensemble
from langevin_grok.langevin.reference import simulate_reference
from langevin_grok.langevin.events import coordinate_event
from langevin_grok.theory.kramers import mfpt_1d
from langevin_grok.langevin.models import quadratic_model
from langevin_grok.theory.stats import exponential_mle


def quad_pot(t, x, p):
    return 0.5 * p[0] * np.sum(x * x)


def quad_grad(t, x, p):
    return p[0] * x


def dw_pot(t, x, p):
    """Quartic double well h (x^2 - 1)^2: minima at -1, +1, barrier h at 0."""
    return p[0] * (x[0] * x[0] - 1.0) ** 2


def dw_grad(t, x, p):
    g = np.empty(1)
    g[0] = 4.0 * p[0] * x[0] * (x[0] * x[0] - 1.0)
    return g


@pytest.fixture(scope="module")
def well():
    """Double well h = 1 from x0 = -1 to the event x >= 0.5 (past the barrier top at 0)."""
    return custom_model(dw_pot, dw_grad, 1, (1.0,), name="double_well"), np.array([-1.0]), \
        (coordinate_event(0, 0.5, 1, +1, name="right"),)


@pytest.mark.parametrize("dim", [1, 3])
def test_custom_quadratic_reproduces_builtin_bitwise(dim):
    # same kernel source, same streams: a user quadratic must give the built-in quadratic's numbers
    cm = custom_model(quad_pot, quad_grad, dim, (2.0,))
    qm = quadratic_model(2.0, dim)
    ev = [coordinate_event(0, 1.0, dim, +1)]
    a = simulate_ensemble(cm, 0.5, 64, 0.01, np.zeros(dim), ev, seed=3)
    b = simulate_ensemble(qm, 0.5, 64, 0.01, np.zeros(dim), ev, seed=3)
    assert np.array_equal(a.times, b.times) and np.array_equal(a.final_x, b.final_x)
    # chunking and thread count do not change the custom kernel's result
    c = simulate_ensemble(cm, 0.5, 64, 0.01, np.zeros(dim), ev, seed=3, chunk_size=7, n_threads=1)
    assert np.array_equal(a.times, c.times)
    assert a.model["kind"] == "custom"


@pytest.mark.slow  # two kernel copies compiled for user events (15-35 s)
def test_user_event_matches_coordinate_event():
    def g(t, x, p):
        return x[0] - 1.0

    def gn(t, x, p):
        return 1.0

    cm = custom_model(quad_pot, quad_grad, 3, (2.0,))
    ev = [coordinate_event(0, 1.0, 3, +1)]
    a = simulate_ensemble(cm, 0.5, 64, 0.01, np.zeros(3), ev, seed=4)
    b = simulate_ensemble(cm, 0.5, 64, 0.01, np.zeros(3), [user_event(g, +1, gn)], seed=4)
    assert np.array_equal(a.times, b.times)
    # 1-D: user events are detected on the grid only (no bridge), as a coordinate event without bridge
    c1 = custom_model(quad_pot, quad_grad, 1, (2.0,))
    a = simulate_ensemble(c1, 0.5, 64, 0.01, np.zeros(1), [coordinate_event(0, 1.0, 1, +1)], seed=4,
                          bridge=False)
    b = simulate_ensemble(c1, 0.5, 64, 0.01, np.zeros(1), [user_event(g, +1)], seed=4)
    assert np.array_equal(a.times, b.times)


def test_gradient_potential_and_compiled_adapter(well):
    m = well[0]
    x = np.linspace(-1.7, 1.7, 23)
    h = 1e-6
    fd = (m.potential_1d(0.0, x + h) - m.potential_1d(0.0, x - h)) / (2 * h)
    assert np.allclose(m.grad(0.0, x[:, None])[:, 0], fd, rtol=1e-7, atol=1e-7)
    for xi in (-1.3, 0.2, 0.9):
        assert m.compiled_grad([xi])[0] == pytest.approx(m.grad(0.0, np.array([xi]))[0], rel=1e-14)
    assert m.potential(0.0, np.array([0.0])) == 1.0


def test_reference_and_replay_agree(well):
    # sdeint itoEuler on the numpy side and the compiled replay on the same increments
    m, x0, _ = well
    T, dt, n = 0.2, 0.01, 200
    ref = simulate_reference(m, T, dt, x0, (), n_steps=n, seed=9)
    dW = np.random.default_rng(9).normal(0.0, math.sqrt(dt), (n, 1))
    rep = euler_maruyama_replay(m, T, dt, x0, dW[None])[0]
    assert np.allclose(ref.x, rep, rtol=0, atol=1e-12)


def test_mfpt_1d_user_potential_against_scipy_quadrature(well):
    # independent route: the double integral with scipy.integrate.quad (dE/T = 6, no overflow)
    m = well[0]
    T = 1.0 / 6.0
    res = mfpt_1d(m.potential_1d, -1.0, 0.5, T, m.params)

    def U(y):
        return (y * y - 1.0) ** 2

    def inner(y):
        return integrate.quad(lambda z: math.exp(-U(z) / T), -4.0, y, epsabs=0, epsrel=1e-12, limit=200)[0]

    val = integrate.quad(lambda y: math.exp(U(y) / T) * inner(y), -1.0, 0.5, epsabs=0, epsrel=1e-11,
                         limit=200)[0] / T
    assert res.tau == pytest.approx(val, rel=1e-8)


def test_bad_user_functions():
    with pytest.raises(InputError, match="shape"):
        custom_model(quad_pot, lambda t, x, p: np.zeros(2), 3)
    with pytest.raises(InputError, match="compile"):
        custom_model(lambda t, x, p: {"a": 1}, quad_grad, 1)
    with pytest.raises(InputError, match="dim"):
        custom_model(quad_pot, quad_grad, 0)


@pytest.mark.slow
def test_double_well_engine_ams_quadrature_agree(well):
    """dE/T = 6, dt = 0.005. Brute force (seed 3, 500 paths) and AMS (seed 2, 100 replicas x 10 runs)
    against the quadrature: each within its 99% interval widened by 3% (the Euler-Maruyama step bias,
    -1% measured with 2000 paths), and engine vs AMS within their combined 99% error."""
    m, x0, ev = well
    T = 1.0 / 6.0
    exact = mfpt_1d(m.potential_1d, -1.0, 0.5, T, m.params).tau
    bf = simulate_ensemble(m, T, 500, 0.005, x0, ev, seed=3)
    e = exponential_mle(bf.times, bf.escaped, confidence=0.99)
    assert e.ci_low / 1.03 <= exact <= e.ci_high * 1.03
    a = simulate_ams(m, T, n_replicas=100, n_runs=10, dt=0.005, seed=2, x0=x0, events=ev, confidence=0.99)
    assert a.ci_low / 1.03 <= exact <= a.ci_high * 1.03
    s_a = math.log(a.ci_high / a.ci_low) / (2 * 3.25)  # t_{0.995, 9}
    s_e = math.log(e.ci_high / e.ci_low) / (2 * 2.576)
    assert abs(math.log(a.mean_escape_time / e.mean)) < 2.576 * math.hypot(s_a, s_e)


@pytest.mark.parametrize("ratio", [15.0, pytest.param(25.0, marks=pytest.mark.slow)])
def test_double_well_ams_against_quadrature(well, ratio):
    """AMS (100 replicas x 20 runs, dt = 0.005, seed 2) brackets the exact MFPT within its 99%
    interval widened by 5% (time-step bias; -1% measured by brute force at dE/T = 6)."""
    m, x0, ev = well
    T = 1.0 / ratio
    exact = mfpt_1d(m.potential_1d, -1.0, 0.5, T, m.params).tau
    a = simulate_ams(m, T, n_replicas=100, n_runs=20, dt=0.005, seed=2, x0=x0, events=ev, confidence=0.99)
    assert a.status == "valid"
    assert a.ci_low / 1.05 <= exact <= a.ci_high * 1.05
    assert 0 < a.probability < 1e-3


@pytest.mark.slow  # compiles the AMS kernels for a 2-D user model (15-30 s); the run itself takes ~2 s
def test_separable_2d_well_ams_against_1d_quadrature():
    """U = (x^2 - 1)^2 + k y^2 / 2 with the event x >= 0.5: x is an autonomous 1-D diffusion, so the
    MFPT is the 1-D quadrature's. dE/T = 15, dt = 0.005, 100 x 20, seed 4: the exact value lies in the
    99% interval widened by 5% (step bias). Exercises the general (d > 1) kernels with a user gradient."""
    def pot(t, x, p):
        return (x[0] * x[0] - 1.0) ** 2 + 0.5 * p[0] * x[1] * x[1]

    def grad(t, x, p):
        g = np.empty(2)
        g[0] = 4.0 * x[0] * (x[0] * x[0] - 1.0)
        g[1] = p[0] * x[1]
        return g

    m = custom_model(pot, grad, 2, (3.0,))
    T = 1.0 / 15.0
    exact = mfpt_1d(lambda t, x, p: (x * x - 1.0) ** 2, -1.0, 0.5, T).tau
    a = simulate_ams(m, T, n_replicas=100, n_runs=20, dt=0.005, seed=4, x0=np.array([-1.0, 0.0]),
                     events=(coordinate_event(0, 0.5, 2, +1),), confidence=0.99)
    assert a.status == "valid"
    assert a.ci_low / 1.05 <= exact <= a.ci_high * 1.05
