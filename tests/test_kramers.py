"""Escape-time theory: the default event, 1-D Kramers, exact MFPT by quadrature, Eyring-Kramers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.linalg import solve_banded

from langevin_grok._core.checks import InputError
from langevin_grok.theory.kramers import (
    escape_target,
    exact_mfpt_1d,
    kramers_1d,
    mfpt_1d,
)
from langevin_grok.landscape.modes import arc_potential, mode_landscape

L3 = (3, 0.8, 0.3)  # depth, sv, beta: bistable, forward barrier 0.02288, reverse 0.01862


# --------------------------------------------------------------------------- the event
def test_escape_target_forward_and_reverse_definitions():
    m = mode_landscape(*L3)
    f = escape_target(*L3, "forward")
    assert f.lambda_start == 0.0 and f.r_start == 0.0 and f.crossing == 1
    assert f.lambda_target == pytest.approx(0.5 * (m.lambda_saddle + m.lambda_min), rel=1e-15)
    assert f.r_target == pytest.approx(math.sqrt(3) * f.lambda_target ** (1 / 3), rel=1e-14)
    assert f.barrier == m.barrier_forward
    assert m.r_saddle < f.r_target < m.r_min
    r = escape_target(*L3, "reverse")
    assert r.lambda_start == m.lambda_min and r.r_start == pytest.approx(m.r_min, rel=1e-14)
    assert r.lambda_target == pytest.approx(0.5 * m.lambda_saddle, rel=1e-15) and r.crossing == -1
    assert r.barrier == m.barrier_reverse
    assert 0 < r.r_target < m.r_saddle
    # signed distances: negative at the start, positive past the target
    assert f.signed_distance(0.0) < 0 < f.signed_distance(m.lambda_min)
    assert r.signed_distance(m.lambda_min) < 0 < r.signed_distance(0.0)
    assert f.arc_signed_distance(f.r_target) == pytest.approx(0.0, abs=1e-15)
    # odd L: the negative side of the arc has lambda < 0 and never fires the forward event
    assert f.arc_signed_distance(-2.0) < 0 and f.arc_routes == 1


def test_escape_target_even_depth_is_symmetric():
    t = escape_target(4, 0.8, 0.2, "forward")
    assert t.arc_routes == 2
    assert t.arc_signed_distance(-t.r_target - 0.1) > 0 and t.arc_signed_distance(t.r_target + 0.1) > 0
    assert escape_target(4, 0.8, 0.2, "reverse").arc_routes == 1


@pytest.mark.parametrize("args", [(2, 0.8, 0.3), (3, 0.8, 0.36), (3, 0.8, 0.0), (3, 1.2, 0.1)])
def test_escape_target_rejects_no_barrier(args):
    with pytest.raises(InputError):
        escape_target(*args)
    with pytest.raises(InputError):
        escape_target(3, 0.8, 0.3, "sideways")


# --------------------------------------------------------------------------- Kramers
def test_kramers_1d_formula():
    T = 0.004
    k = kramers_1d(*L3, T)
    m = mode_landscape(*L3)
    expect = 2 * math.pi / math.sqrt(m.curvature_trivial * abs(m.curvature_saddle)) * math.exp(m.barrier_forward / T)
    assert k.tau == pytest.approx(expect, rel=1e-13)
    kr = kramers_1d(*L3, T, "reverse")
    expect = 2 * math.pi / math.sqrt(m.curvature_min * abs(m.curvature_saddle)) * math.exp(m.barrier_reverse / T)
    assert kr.tau == pytest.approx(expect, rel=1e-13)
    # even L forward: two saddles at +-r_saddle on the arc halve the time
    k4 = kramers_1d(4, 0.8, 0.2, T)
    m4 = mode_landscape(4, 0.8, 0.2)
    assert k4.tau == pytest.approx(
        math.pi / math.sqrt(m4.curvature_trivial * abs(m4.curvature_saddle)) * math.exp(m4.barrier_forward / T),
        rel=1e-13)
    with pytest.raises(InputError):
        kramers_1d(*L3, 0.0)


def test_overflowing_tau_keeps_log():
    t = escape_target(*L3)
    T = t.barrier / 800
    k = kramers_1d(*L3, T)
    e = exact_mfpt_1d(*L3, T)
    assert k.tau == math.inf and e.tau == math.inf
    assert math.isfinite(e.log_tau) and abs(e.log_tau - k.log_tau) < 1e-3
    assert k.to_dict()["tau"] is None and e.to_dict()["tau"] is None


# --------------------------------------------------------------------------- exact MFPT, independent routes
def _dblquad_mfpt(U, x0, b, a, T):
    """scipy route (absorbing above): (1/T) int_x0^b e^{U(y)/T} int_a^y e^{-U(z)/T} dz dy."""
    inner = lambda y: integrate.quad(lambda z: math.exp(-U(z) / T), a, y, epsabs=0, epsrel=1e-12, limit=200)[0]
    val, _ = integrate.quad(lambda y: math.exp(U(y) / T) * inner(y), x0, b, epsabs=0, epsrel=1e-11, limit=200)
    return val / T


def _fd_mfpt(U, x0, b, a, T, n):
    """Backward equation T tau'' - U' tau' = -1, tau(b) = 0, tau'(a) = 0, in flux form
    (e^{-U/T} tau')' = -e^{-U/T}/T on a uniform grid (second order), returns tau(x0)."""
    x = np.linspace(a, b, n + 1)
    h = x[1] - x[0]
    w = np.exp(-(U(0.5 * (x[:-1] + x[1:])) - U(x).min()) / T)  # at half points
    rhs = np.exp(-(U(x) - U(x).min()) / T) / T * h * h
    ab = np.zeros((3, n + 1))
    # interior rows i: w_{i-1/2} tau_{i-1} - (w_{i-1/2} + w_{i+1/2}) tau_i + w_{i+1/2} tau_{i+1} = -rhs_i
    ab[1, 1:n] = -(w[:-1] + w[1:])
    ab[0, 2:n + 1] = w[1:]
    ab[2, 0:n - 1] = w[:-1]
    # reflecting end (ghost node, zero flux): -w_{1/2} tau_0 + w_{1/2} tau_1 = -rhs_0 / 2
    ab[1, 0] = -w[0]
    ab[0, 1] = w[0]
    r = -rhs.copy()
    r[0] *= 0.5
    # absorbing end
    ab[1, n] = 1.0
    ab[2, n - 1] = 0.0
    r[n] = 0.0
    tau = solve_banded((1, 1), ab, r)
    return float(np.interp(x0, x, tau))


def _fd_richardson(U, x0, b, a, T, n=8000):
    t1, t2 = _fd_mfpt(U, x0, b, a, T, n), _fd_mfpt(U, x0, b, a, T, 2 * n)
    return (4 * t2 - t1) / 3


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_exact_mfpt_against_scipy_and_finite_differences(direction):
    T = 0.006  # dE/T ~ 3.8 (forward), 3.1 (reverse): small enough for plain float quadrature
    t = escape_target(*L3, direction)
    p = np.array([3.0, 0.8, 0.3])
    res = exact_mfpt_1d(*L3, T, direction)
    assert res.rel_error < 1e-9
    if direction == "forward":
        U = lambda y: float(arc_potential(0, y, p))
        Uv = lambda y: arc_potential(0, y, p)
        x0, b, a = 0.0, t.r_target, -1.6  # U(-1.6) / T > 150: the far end is irrelevant
    else:  # mirror x -> -x so the absorbing point is above
        U = lambda y: float(arc_potential(0, -y, p))
        Uv = lambda y: arc_potential(0, -y, p)
        x0, b, a = -t.r_start, -t.r_target, -2.2
    assert (U(a) - min(U(x0), U(b))) / T > 100
    ref_quad = _dblquad_mfpt(U, x0, b, a, T)
    ref_fd = _fd_richardson(Uv, x0, b, a, T)
    assert res.tau == pytest.approx(ref_quad, rel=1e-8)
    assert res.tau == pytest.approx(ref_fd, rel=1e-5)


def test_even_depth_forward_matches_two_sided_absorption():
    """Even L: |r| >= r_target from r = 0 equals a reflecting wall at 0 (symmetry). Independent route:
    finite differences on the full interval [-r_target, r_target] with absorption at both ends."""
    T = 0.01
    depth, sv, beta = 4, 0.8, 0.2
    t = escape_target(depth, sv, beta)
    p = np.array([4.0, sv, beta])
    res = exact_mfpt_1d(depth, sv, beta, T)
    b = t.r_target
    # two-sided Dirichlet problem T tau'' - U' tau' = -1 on [-b, b], central differences
    n = 4000
    x = np.linspace(-b, b, n + 1)
    h = x[1] - x[0]
    w = np.exp(-(arc_potential(0, 0.5 * (x[:-1] + x[1:]), p)) / T)
    rhs = -np.exp(-arc_potential(0, x, p) / T) / T * h * h
    ab = np.zeros((3, n + 1))
    ab[1, 1:n] = -(w[:-1] + w[1:])
    ab[0, 2:n + 1] = w[1:]
    ab[2, 0:n - 1] = w[:-1]
    ab[1, 0] = ab[1, n] = 1.0
    ab[0, 1] = 0.0
    ab[2, n - 1] = 0.0
    rhs[0] = rhs[n] = 0.0
    tau = solve_banded((1, 1), ab, rhs)
    assert res.tau == pytest.approx(tau[n // 2], rel=2e-5)


def test_mfpt_free_diffusion_closed_form():
    """U = 0: tau = (b^2 - x0^2) / (2T) with a wall at 0 (and the mirror image)."""
    zero = lambda t, x, p: np.zeros_like(x)
    T = 0.3
    r = mfpt_1d(zero, 0.4, 1.5, T, reflect=0.0)
    assert r.tau == pytest.approx((1.5**2 - 0.4**2) / (2 * T), rel=1e-12)
    r = mfpt_1d(zero, -0.4, -1.5, T, reflect=0.0)
    assert r.tau == pytest.approx((1.5**2 - 0.4**2) / (2 * T), rel=1e-12)
    with pytest.raises(InputError):  # no confinement on the far side
        mfpt_1d(zero, 0.4, 1.5, T)
    with pytest.raises(InputError):  # wall on the wrong side
        mfpt_1d(zero, 0.4, 1.5, T, reflect=2.0)


# --------------------------------------------------------------------------- Kramers vs exact
def test_kramers_over_exact_tends_to_one_monotonically():
    t = escape_target(*L3)
    ratios = []
    for dE_T in (5, 10, 25, 50, 200, 500):
        T = t.barrier / dE_T
        ratios.append(kramers_1d(*L3, T).tau / exact_mfpt_1d(*L3, T).tau)
    ratios = np.array(ratios)
    assert np.all(np.diff(ratios) > 0) and np.all(ratios < 1)
    assert abs(ratios[2] - 1) < 0.03  # dE/T = 25: within a few %
    assert abs(ratios[4] - 1) < 0.005 and abs(ratios[5] - 1) < 0.002
    # the approach is the Laplace correction c T / dE: (1 - ratio) dE/T nearly the same at 200 and 500,
    # which also checks the quadrature at dE/T = 500 to ~1e-5 relative
    c200, c500 = (1 - ratios[4]) * 200, (1 - ratios[5]) * 500
    assert c500 == pytest.approx(c200, rel=0.02)


@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_exact_mfpt_stable_at_large_barrier(direction):
    t = escape_target(*L3, direction)
    for dE_T in (200, 500):
        T = t.barrier / dE_T
        a = exact_mfpt_1d(*L3, T, direction)
        b = exact_mfpt_1d(*L3, T, direction, dps=50, rtol=1e-12, tail=90.0)
        assert math.isfinite(a.tau) and a.rel_error < 1e-9
        assert a.log_tau == pytest.approx(b.log_tau, abs=1e-10)
        ratio = kramers_1d(*L3, T, direction).tau / a.tau
        assert abs(ratio - 1) < 0.01


def test_even_depth_forward_kramers_limit():
    depth, sv, beta = 4, 0.8, 0.2
    t = escape_target(depth, sv, beta)
    T = t.barrier / 200
    assert kramers_1d(depth, sv, beta, T).tau / exact_mfpt_1d(depth, sv, beta, T).tau == pytest.approx(1, abs=0.01)


# --------------------------------------------------------------------------- Eyring-Kramers
from langevin_grok.theory.kramers import (  # noqa: E402
    ZeroModeError,
    count_equivalent_saddles,
    eyring_kramers,
    eyring_kramers_chain,
)
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point


def _fd_hessian(net, theta, h=1e-5):
    """Central differences of the analytic gradient (an independent route to the Hessian)."""
    D = theta.size
    H = np.empty((D, D))
    for i in range(D):
        e = np.zeros(D)
        e[i] = h
        H[:, i] = (net.grad(theta + e) - net.grad(theta - e)) / (2 * h)
    return 0.5 * (H + H.T)


@pytest.mark.parametrize("depth,beta", [(3, 0.3), (4, 0.2), (5, 0.1)])
@pytest.mark.parametrize("direction", ["forward", "reverse"])
def test_eyring_kramers_chain_against_finite_difference_hessians(depth, beta, direction):
    T = 0.003
    ek = eyring_kramers_chain(depth, 0.8, beta, T, direction)
    net = DeepLinearNetwork.from_singular_values(depth, 1, 1, [0.8], beta)
    start = stationary_point(net, ["trivial" if direction == "forward" else "learned"])
    sad = stationary_point(net, ["saddle"])
    Hm, Hs = _fd_hessian(net, start.theta), _fd_hessian(net, sad.theta)
    ev_m, ev_s = np.linalg.eigvalsh(Hm), np.linalg.eigvalsh(Hs)
    assert np.all(ev_m > 0) and ev_s[0] < 0 < ev_s[1]
    n_sad = 2 ** (depth - 1) if direction == "forward" else 1  # derived in count_equivalent_saddles
    dE = net.loss(sad.theta) - net.loss(start.theta)
    tau = (1 / n_sad) * (2 * math.pi / abs(ev_s[0])) * math.sqrt(abs(np.prod(ev_s)) / np.prod(ev_m)) * math.exp(dE / T)
    assert ek.n_saddles == n_sad
    assert ek.mu_1 == pytest.approx(ev_s[0], rel=1e-6)
    assert ek.barrier == pytest.approx(dE, rel=1e-10)
    assert ek.tau == pytest.approx(tau, rel=1e-6)


@pytest.mark.parametrize("depth,beta", [(3, 0.3), (4, 0.2), (5, 0.1)])
def test_eyring_kramers_chain_vs_arc_kramers(depth, beta):
    """Transverse curvature 2 beta at the saddle vs beta at 0, and 2^(L-1) saddles (forward);
    a single saddle and equal transverse curvatures (reverse)."""
    T = 0.004
    f = eyring_kramers_chain(depth, 0.8, beta, T, "forward")
    k = kramers_1d(depth, 0.8, beta, T, "forward")
    assert f.tau / k.tau == pytest.approx(k.arc_routes * 2 ** (-(depth - 1) / 2), rel=1e-10)
    r = eyring_kramers_chain(depth, 0.8, beta, T, "reverse")
    assert r.tau / kramers_1d(depth, 0.8, beta, T, "reverse").tau == pytest.approx(1.0, rel=1e-10)
    assert f.log_det_ratio == pytest.approx(
        math.log(abs(f.mu_1)) + (depth - 1) * math.log(2 * beta) - depth * math.log(beta), rel=1e-10)


def test_saddle_counts_from_symmetry():
    net = DeepLinearNetwork.from_singular_values(3, 1, 1, [0.8], 0.3)
    zero, sad, mn = (stationary_point(net, [m]) for m in ("trivial", "saddle", "learned"))
    assert count_equivalent_saddles(net, zero, sad) == 4
    assert count_equivalent_saddles(net, mn, sad) == 1
    # a width-1 network with p = 2 escaping from 0 over the first mode's saddle: still 2^(L-1)
    net2 = DeepLinearNetwork.from_singular_values(4, 1, 2, [0.9, 0.8], 0.2)
    ek = eyring_kramers(net2, ["trivial", "trivial"], ["saddle", "trivial"], 0.01)
    assert ek.n_saddles == 8 and ek.n_params == 2 + 1 + 1 + 2


def test_eyring_kramers_refuses_zero_modes_and_bad_points():
    net = DeepLinearNetwork.from_singular_values(3, 2, 2, [0.9, 0.8], 0.32)
    with pytest.raises(ZeroModeError, match="zero modes"):
        eyring_kramers(net, ["trivial", "trivial"], ["saddle", "trivial"], 0.004)
    assert issubclass(ZeroModeError, InputError) and issubclass(ZeroModeError, ValueError)
    chain = DeepLinearNetwork.from_singular_values(3, 1, 1, [0.8], 0.3)
    with pytest.raises(InputError, match="index 1"):
        eyring_kramers(chain, ["trivial"], ["learned"], 0.004)
    with pytest.raises(InputError, match="minimum"):
        eyring_kramers(chain, ["saddle"], ["saddle"], 0.004)
    with pytest.raises(InputError):
        eyring_kramers(chain, ["trivial"], ["saddle"], -1.0)
    with pytest.raises(InputError):
        eyring_kramers_chain(3, 0.8, 0.4, 0.004)  # beta > beta_c: no barrier


# --------------------------------------------------------------------------- quadrature edge cases
def test_mfpt_steep_linear_slope_closed_form():
    """U = -k x, wall at a, target b: tau = (b - x0)/k - (T/k^2)(exp(-k(x0-a)/T) - exp(-k(b-a)/T)).
    Here U/T falls by 2e4 over the range: the descent must be resolved on the scale T/k."""
    lin = lambda t, x, p: -p[0] * x
    T, k = 5e-5, 1.0
    r = mfpt_1d(lin, 0.0, 1.0, T, (k,), reflect=-0.5)
    exact = 1.0 / k - T / k**2 * (math.exp(-0.5 * k / T) - math.exp(-1.5 * k / T))
    assert r.tau == pytest.approx(exact, rel=1e-12)
    T = 0.2  # and a diffusive case where the correction matters
    r = mfpt_1d(lin, 0.0, 1.0, T, (k,), reflect=-0.5)
    assert r.tau == pytest.approx(1.0 / k - T / k**2 * (math.exp(-0.5 * k / T) - math.exp(-1.5 * k / T)), rel=1e-12)


def test_mfpt_near_spinodal_reverse_large_barrier():
    """Regression: near beta_c the target lies far below start and saddle in units of T (U/T drops by
    ~1e7); the well-saddle pair must not be skipped. Kramers/exact -> 1 - O(T/dE) as elsewhere."""
    t = escape_target(3, 0.8, 0.3508, "reverse")
    T = t.barrier / 300
    e = exact_mfpt_1d(3, 0.8, 0.3508, T, "reverse")
    assert kramers_1d(3, 0.8, 0.3508, T, "reverse").tau / e.tau == pytest.approx(1.0, abs=0.003)
    # strong Markov property: first passage to the target goes through every intermediate level
    # (tolerance: the float64 potential limits the integrand to ~eps |U| / T ~ 2e-9 relative here)
    y = 0.5 * (t.r_start + t.r_saddle)
    p = (3.0, 0.8, 0.3508)
    a = mfpt_1d(arc_potential, t.r_start, y, T, p)
    b = mfpt_1d(arc_potential, y, t.r_target, T, p)
    assert a.tau + b.tau == pytest.approx(e.tau, rel=1e-7)


def test_mfpt_refuses_temperature_below_float_resolution():
    t = escape_target(3, 0.8, 1e-4)  # barrier 8e-13 while |U| ~ 0.2 along the way
    with pytest.raises(InputError, match="float64 resolution"):
        exact_mfpt_1d(3, 0.8, 1e-4, t.barrier / 3)


def test_mfpt_truncation_measured_from_the_starting_well():
    """U = c x^2 (x < 0, a wide shallow well) and -k x (x > 0, a deep drop to the target): the
    infinite end must be truncated relative to the well's bottom, not the (much lower) target."""
    def U(t, x, p):
        c, k = p
        return np.where(x < 0, c * x * x, -k * x)

    T, c, k, b = 0.01, 0.01, 1.0, 1.0
    r = mfpt_1d(U, 0.0, b, T, (c, k))
    exact = (0.5 * math.sqrt(math.pi * T / c) - T / k) * (1 - math.exp(-k * b / T)) / k + b / k
    assert r.tau == pytest.approx(exact, rel=1e-10)
    assert r.reflect_used < -math.sqrt(60 * T / c)  # the wall sits where c x^2 > 60 T


def test_eyring_kramers_checks_the_saddle_is_adjacent():
    """From a learned minimum of the chain only the saddle of the same sign pattern is adjacent; the
    sign-flipped images lie across w_l = 0 (behind lambda = 0). From 0 every image is adjacent."""
    from langevin_grok.landscape.stationary import equivalent_saddles

    net = DeepLinearNetwork.from_singular_values(3, 1, 1, [0.8], 0.3)
    zero, sad, mn = (stationary_point(net, [m]) for m in ("trivial", "saddle", "learned"))
    images = equivalent_saddles(net, sad)
    assert eyring_kramers(net, mn, images[0], 0.01).n_saddles == 1
    for img in images[1:]:
        with pytest.raises(InputError, match="not adjacent"):
            eyring_kramers(net, mn, img, 0.01)
        assert eyring_kramers(net, zero, img, 0.01).n_saddles == 4
    # p = 2, w = 1: from 0 over the first mode's saddle, and back from its learned state
    net2 = DeepLinearNetwork.from_singular_values(3, 1, 2, [0.9, 0.8], 0.3)
    assert eyring_kramers(net2, ["learned", "trivial"], ["saddle", "trivial"], 0.01).n_saddles == 1
