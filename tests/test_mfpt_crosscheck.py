"""Cross-check of the exact 1-D MFPT (``quadrature.exact_mfpt_1d``) against an independent route, the
input checks of its quadrature, and the closed-form saddle count of ``eyring_kramers_chain``.

Independent route: the backward equation ``T tau'' - U' tau' = -1`` (docs/theory.md, section "Escape
times") written as the first-order linear system

    g' = (U'(y) / T) g + 1,    tau' = g / T,     g = exp(U/T) int_a^y exp(-U/T)

integrated with scipy's implicit Radau method from the reflecting end (g = 0 there) to the target,
``tau`` accumulated from the start point on. It uses only the derivative U'(r), coded here from
``u(a) = a^(2L)/2 - eta a^L + L beta a^2 / 2`` with ``r = sqrt(L) a``, never ``exp(+-U/T)`` of the
package's quadrature nor its pieces, knots or skipping rules. Both routes converge to ~1e-12
relative here (measured); the stated agreement tolerance is 1e-8.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import langevin_grok.theory.kramers as kramers
from langevin_grok._core.checks import InputError
from langevin_grok.landscape.escape import escape_target
from langevin_grok.theory.kramers import exact_mfpt_1d, eyring_kramers, eyring_kramers_chain, mfpt_1d
from langevin_grok.landscape.modes import arc_potential, beta_c, beta_star
from langevin_grok.landscape.network import DeepLinearNetwork

ETA = 0.8
RTOL_AGREE = 1e-8


def _dU(r: float, L: int, eta: float, beta: float) -> float:
    """dU/dr of U(r) = u(r / sqrt(L)), u(a) = a^(2L)/2 - eta a^L + L beta a^2 / 2."""
    a = r / math.sqrt(L)
    return (L * a ** (2 * L - 1) - L * eta * a ** (L - 1) + L * beta * a) / math.sqrt(L)


def _ode_mfpt(L: int, eta: float, beta: float, T: float, direction: str) -> float:
    """Mean escape time by the backward ODE (module docstring), in the mirrored variable y = s r
    (s = -1 for the reverse escape) so that the target lies above the start."""
    t = escape_target(L, eta, beta, direction)
    s = -1.0 if direction == "reverse" else 1.0
    dV = lambda y: s * _dU(s * y, L, eta, beta)  # noqa: E731
    y0, yb, ysad = s * t.r_start, s * t.r_target, s * t.r_saddle
    if direction == "forward" and L % 2 == 0:
        ya = 0.0  # U even in r: reflecting at the start
    else:  # far end where the slope alone holds the path back by >= 200 T over the distance to y0
        h = 1e-6 * max(abs(t.r_start), t.r_saddle)
        while not -dV(y0 - h) * h >= 200.0 * T:
            h *= 2.0
        ya = y0 - h
    f = lambda y, v: [dV(y) / T * v[0] + 1.0, v[0] / T]  # noqa: E731
    jac = lambda y, v: [[dV(y) / T, 0.0], [1.0 / T, 0.0]]  # noqa: E731
    # geometric cuts towards the saddle from both sides: the structure near r = 0 at small beta
    # is many orders of magnitude smaller than the well
    cuts = [y0 + (ysad - y0) * (1 - 4.0**-k) for k in range(1, 9)]
    cuts += [ysad + (yb - ysad) * 4.0**-k for k in range(1, 9)]
    pts = sorted({ya, y0, ysad, yb, *cuts})
    v = np.zeros(2)
    for a, b in zip(pts[:-1], pts[1:]):
        with warnings.catch_warnings():  # the zero initial tau makes Radau's error norm overflow once
            warnings.simplefilter("ignore", RuntimeWarning)
            sol = solve_ivp(f, (a, b), v, method="Radau", jac=jac, rtol=1e-10, atol=1e-300,
                            first_step=1e-6 * (b - a))
        assert sol.success
        v = sol.y[:, -1]
        if b <= y0:
            v[1] = 0.0  # tau counts only from the start point on
    return float(v[1])


def _check_point(L, beta, direction, dE_over_T):
    T = escape_target(L, ETA, beta, direction).barrier / dE_over_T
    res = exact_mfpt_1d(L, ETA, beta, T, direction)
    ref = _ode_mfpt(L, ETA, beta, T, direction)
    assert res.status == "valid" and res.rel_error < 1e-7
    assert res.tau == pytest.approx(ref, rel=RTOL_AGREE)


# Points of project issue 13 that were wrong before (reverse escapes at small beta: a grid point one
# ulp below x0 replaced x0 as a knot and the outer integral over [x0, saddle] was dropped), the issue's
# example (L = 3, beta = 2e-3, dE/T = 10: 191.9 before, 1.1448e5 after), and points near beta* and
# beta_c in both directions. dE/T = 10 throughout (the issue's example); the slow grid covers 2 .. 30.
FAST = [
    (3, 2e-3, "reverse", 10.0),
    (3, 5e-4, "reverse", 10.0),
    (3, 1e-4, "reverse", 10.0),
    (3, 1e-6, "reverse", 10.0),
    (4, 0.01, "reverse", 10.0),
    (5, 5e-4, "reverse", 30.0),
    (3, beta_star(3, ETA), "forward", 10.0),
    (4, 0.999 * beta_c(4, ETA), "forward", 2.0),
    (6, 0.999 * beta_c(6, ETA), "reverse", 10.0),
]


@pytest.mark.parametrize("L, beta, direction, dE_over_T", FAST)
def test_exact_mfpt_agrees_with_backward_ode(L, beta, direction, dE_over_T):
    _check_point(L, beta, direction, dE_over_T)


def _slow_grid():
    out = []
    for L in (3, 4, 5, 6):
        bc, bs = beta_c(L, ETA), beta_star(L, ETA)
        for beta in (1e-6, 1e-4, 5e-4, 2e-3, 0.01, bs, 0.99 * bc, 0.999 * bc):
            out += [(L, beta, "reverse", q) for q in (2.0, 10.0, 30.0)]
        # forward: the barrier is ~beta^(L/(L-2)), so at small beta T is far below |U| along the
        # descent; only the betas the quadrature accepts (the rest: test_forward_refused_at_small_beta)
        fwd = {3: (0.03, 0.1), 4: (0.01, 0.03), 5: (0.002, 0.01), 6: (5e-4, 0.002)}[L]
        for beta in (*fwd, bs, 0.99 * bc, 0.999 * bc):
            out += [(L, beta, "forward", q) for q in (2.0, 10.0, 30.0)]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("L, beta, direction, dE_over_T", _slow_grid())
def test_exact_mfpt_agrees_with_backward_ode_dense(L, beta, direction, dE_over_T):
    _check_point(L, beta, direction, dE_over_T)


def test_issue_example_value_and_error():
    """The issue's example prints tau = 1.1448e5 now (191.9 before) with an error estimate that
    covers the deviation from the independent route."""
    res = exact_mfpt_1d(3, ETA, 0.002, 0.0317417, "reverse")
    ref = _ode_mfpt(3, ETA, 0.002, 0.0317417, "reverse")
    assert abs(res.tau / ref - 1) <= max(10 * res.rel_error, 1e-10)
    assert res.tau == pytest.approx(1.14484e5, rel=1e-5)  # the value of the ODE route, 5 digits


def test_forward_refused_at_small_beta():
    """Forward at beta = 1e-6: barrier 7.8e-19 while |U| ~ 0.2 on the descent -> InputError naming
    the temperature (float64 resolution), never a silent number."""
    t = escape_target(3, ETA, 1e-6)
    with pytest.raises(InputError, match="temperature"):
        exact_mfpt_1d(3, ETA, 1e-6, t.barrier / 10)


def test_forward_steep_descent_refused_quickly(monkeypatch):
    """L = 3, beta = 2e-3 forward at dE/T = 10: U/T falls by ~4e8 from the saddle to the target;
    resolving that would take ~6e6 pieces (hours). Refused before any piece is evaluated."""
    from langevin_grok.theory import quadrature

    calls = []
    monkeypatch.setattr(quadrature, "_gl", lambda n, _gl=quadrature._gl: calls.append(n) or _gl(n))
    t = escape_target(3, ETA, 2e-3)
    with pytest.raises(InputError, match="too small for this quadrature"):
        exact_mfpt_1d(3, ETA, 2e-3, t.barrier / 10)
    assert set(calls) <= {12}  # only the 12-point bounds ran, no piece quadrature


# --------------------------------------------------------------------------- input checks
@pytest.mark.parametrize("name, value", [
    ("dps", 0), ("dps", 10), ("dps", 2.5), ("rtol", 0.0), ("rtol", -1e-9), ("rtol", math.nan),
    ("rtol", 1e-20), ("rtol", 0.5), ("tail", math.nan), ("tail", 1.0), ("tail", math.inf),
])
def test_quadrature_options_validated(name, value):
    with pytest.raises(InputError, match=name):
        exact_mfpt_1d(3, ETA, 0.3, 0.003, **{name: value})
    with pytest.raises(InputError, match=name):
        mfpt_1d(arc_potential, 0.0, 1.0, 0.003, (3.0, ETA, 0.3), **{name: value})


def test_quadrature_options_in_range_give_the_same_answer():
    a = exact_mfpt_1d(3, ETA, 0.3, 0.003, dps=20, rtol=1e-6, tail=40.0)
    b = exact_mfpt_1d(3, ETA, 0.3, 0.003, dps=60, rtol=1e-13, tail=100.0)
    assert a.tau == pytest.approx(b.tau, rel=max(1e-6, 10 * a.rel_error))
    assert a.rel_error >= math.exp(-40.0)  # the truncated tail is counted in the estimate


def test_status_marginal_when_the_estimate_is_large():
    """A truncation at tail = 10 T leaves up to exp(-10) = 4.5e-5 of the well out: the estimate counts
    it, the status says the number is no ground truth, and the actual deviation is within it."""
    coarse = exact_mfpt_1d(3, ETA, 0.3, 0.003, tail=10.0)
    fine = exact_mfpt_1d(3, ETA, 0.3, 0.003)
    assert coarse.rel_error >= math.exp(-10.0)
    assert (coarse.status, coarse.reason) == ("marginal", "quadrature_error_large")
    assert (fine.status, fine.reason) == ("valid", "converged")
    assert abs(coarse.tau / fine.tau - 1) <= coarse.rel_error


# --------------------------------------------------------------------------- Eyring-Kramers count
@pytest.mark.parametrize("L", range(3, 9))
@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_chain_closed_form_count_equals_enumeration(L, direction):
    """eyring_kramers_chain (one Hessian, closed-form count) equals eyring_kramers with the count
    from enumerating all 2^(L-1) sign-flip images (count_equivalent_saddles)."""
    beta = 0.5 * beta_c(L, ETA)
    T = escape_target(L, ETA, beta, direction).barrier / 10
    fast = eyring_kramers_chain(L, ETA, beta, T, direction)
    net = DeepLinearNetwork.from_singular_values(L, 1, 1, [ETA], beta)
    start = ["trivial"] if direction == "forward" else ["learned"]
    slow = eyring_kramers(net, start, ["saddle"], T)  # n_saddles enumerated
    assert fast.n_saddles == slow.n_saddles == (2 ** (L - 1) if direction == "forward" else 1)
    assert fast.log_tau == pytest.approx(slow.log_tau, rel=1e-13, abs=1e-12)


@pytest.mark.parametrize("L", [13, 20])
def test_chain_does_not_enumerate_at_large_depth(L, monkeypatch):
    """At L = 13 .. 20 no sign-flip image is built (the enumeration had 2^(L-1) Hessians)."""
    import langevin_grok.landscape.stationary as network

    calls = []
    monkeypatch.setattr(kramers, "equivalent_saddles", lambda *a: calls.append(a) or network.equivalent_saddles(*a))
    beta = 0.5 * beta_c(L, ETA)
    T = escape_target(L, ETA, beta).barrier / 10
    res = eyring_kramers_chain(L, ETA, beta, T)
    assert calls == []
    assert res.n_saddles == 2 ** (L - 1)
    # closed form (docs/theory.md, "Escape times"): tau_EK = arc_routes 2^(-(L-1)/2) tau_Kramers(1-D)
    k = kramers.kramers_1d(L, ETA, beta, T)
    assert res.log_tau - k.log_tau == pytest.approx(math.log(k.arc_routes) - 0.5 * (L - 1) * math.log(2), abs=1e-9)


@pytest.mark.parametrize("L", [3, 4])
def test_chain_adjacency_near_spinodal(L):
    """At beta = (1 - 1e-5) beta_c the forward saddle is flat (|mu_1| ~ 1e-3); the gradient-flow
    adjacency check used to stop before leaving it and raised 'not adjacent'."""
    beta = (1 - 1e-5) * beta_c(L, ETA)
    T = escape_target(L, ETA, beta).barrier / 10
    res = eyring_kramers_chain(L, ETA, beta, T)
    k = kramers.kramers_1d(L, ETA, beta, T)
    assert res.log_tau - k.log_tau == pytest.approx(math.log(k.arc_routes) - 0.5 * (L - 1) * math.log(2), abs=1e-6)


def test_issue_example_against_simulation():
    """Seeded simulation of the issue's example (arc model, L = 3, eta = 0.8, beta = 2e-3, reverse,
    T = 0.0317417, dE/T = 10): 20 Euler-Maruyama paths with the Brownian-bridge crossing correction,
    dt = 0.05 (U''(r_min) dt = 0.11: the discretisation bias of tau is a few percent, far inside the
    statistical error of 20 paths, ~ +-45 %). The 99 % likelihood-ratio interval of the exponential
    MLE must contain the exact tau and exclude the old value 191.9. Measured: 9.24e4 [5.46e4, 1.75e5],
    20 of 20 escaped, exact 1.1448e5; about 2 s plus the numba compile."""
    from langevin_grok.langevin.engine import simulate_ensemble
    from langevin_grok.langevin.models import arc_model
    from langevin_grok.theory.stats import exponential_mle

    T = 0.0317417
    exact = exact_mfpt_1d(3, ETA, 0.002, T, "reverse").tau
    sim = simulate_ensemble(arc_model(3, ETA, 0.002), T, 20, 0.05, direction="reverse", seed=20260113,
                            max_steps=20_000_000, n_threads=1)
    est = exponential_mle(sim.times, sim.escaped, confidence=0.99)
    assert est.ci_low <= exact <= est.ci_high
    assert est.ci_low > 10 * 191.9
