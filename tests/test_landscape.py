"""Per-mode landscape numerics (langevin_grok.landscape.modes) against independent numerical routes.

Independent routes: numpy.roots of the integer-L stationarity polynomial in a (Newton-polished);
brentq on d beta/d lambda = 0 for the spinodal; brentq in beta on energy_min(beta) = 0 for the
coexistence point; barriers by direct evaluation of u at the roots. Tolerance: 1e-10 relative.
"""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from langevin_grok._core.checks import InputError

# ``langevin_grok.landscape.modes`` the attribute is the re-exported function; take the module itself.
ls = importlib.import_module("langevin_grok.landscape.modes")

DEPTHS = range(3, 9)
ETAS = (0.1, 0.35, 0.6, 0.8, 0.9, 0.99)
BETA_FRACS = (0.02, 0.2, 0.5, 0.8, 0.95)  # beta / beta_c
RTOL = 1e-10


# --------------------------------------------------------------------------- independent routes
def roots_numpy(L: int, eta: float, beta: float) -> np.ndarray:
    """Positive real roots of a^(2L-2) - eta a^(L-2) + beta via numpy.roots, Newton-polished, sorted."""
    c = np.zeros(2 * L - 1)
    c[0] = 1.0  # a^(2L-2)
    c[L] = -eta  # a^(L-2): index (2L-2) - (L-2) = L
    c[-1] += beta  # constant (for L = 2 this adds to the a^0 = a^(L-2) coefficient)
    z = np.roots(c)
    # companion-matrix roots carry O(1e-8) imaginary noise near double roots; keep the near-real ones
    real = np.sort(z[(np.abs(z.imag) < 1e-6 * np.maximum(1.0, np.abs(z))) & (z.real > 0)].real)
    dc = np.polyder(c)
    out = []
    for a in real:
        for _ in range(8):
            a = a - np.polyval(c, a) / np.polyval(dc, a)
        out.append(a)
    return np.array(out)


def u_direct(a, L, eta, beta):
    return 0.5 * a ** (2 * L) - eta * a**L + 0.5 * L * beta * a * a


def spinodal_brentq(L: int, eta: float) -> tuple[float, float]:
    def dbeta(lam):  # derivative of beta(lambda) = lambda^(1-2/L) (eta - lambda)
        return (1 - 2 / L) * lam ** (-2 / L) * (eta - lam) - lam ** (1 - 2 / L)

    lam = brentq(dbeta, 1e-12 * eta, eta, xtol=1e-300, rtol=1e-15, maxiter=500)
    return lam, lam ** (1 - 2 / L) * (eta - lam)


def energy_min_numpy(L, eta, beta):
    a = roots_numpy(L, eta, beta)[-1]
    return u_direct(a, L, eta, beta)  # u(0) = 0


def close(x, y, rtol=RTOL, atol=0.0):
    return abs(x - y) <= rtol * max(abs(x), abs(y)) + atol


# --------------------------------------------------------------------------- closed forms vs numerics
@pytest.mark.parametrize("L", DEPTHS)
def test_roots_and_barriers_match_numpy_roots(L):
    for eta in ETAS:
        bc = ls.beta_c(L, eta)
        for f in BETA_FRACS:
            beta = f * bc
            m = ls.mode_landscape(L, eta, beta)
            a = roots_numpy(L, eta, beta)
            assert len(a) == 2, (L, eta, beta, a)
            assert close(m.a_saddle, a[0]) and close(m.a_min, a[1]), (L, eta, beta)
            assert close(m.lambda_saddle, a[0] ** L) and close(m.lambda_min, a[1] ** L)
            e_sad, e_min = u_direct(a[0], L, eta, beta), u_direct(a[1], L, eta, beta)
            # barrier by direct evaluation of u; absolute floor = float64 rounding of u's O(eta^2) terms
            assert close(m.barrier_forward, e_sad, atol=1e-15), (L, eta, beta)
            assert close(m.barrier_reverse, e_sad - e_min, atol=1e-15), (L, eta, beta)
            assert m.phase == "bistable"


@pytest.mark.parametrize("L", DEPTHS)
def test_spinodal_matches_brentq(L):
    for eta in ETAS:
        lam, beta = spinodal_brentq(L, eta)
        assert close(ls.lambda_c(L, eta), lam)
        assert close(ls.beta_c(L, eta), beta)


@pytest.mark.parametrize("L", DEPTHS)
def test_coexistence_matches_brentq_on_energy(L):
    for eta in ETAS:
        bc = ls.beta_c(L, eta)
        # energy_min(beta) increases through 0 at beta*; beta*/beta_c = 4^((L-1)/L)/L < 0.99 for L >= 3
        bs = brentq(lambda b: energy_min_numpy(L, eta, b), 1e-3 * bc, 0.99 * bc, xtol=1e-300, rtol=1e-15)
        assert close(ls.beta_star(L, eta), bs)
        lam = roots_numpy(L, eta, bs)[-1] ** L
        assert close(ls.lambda_star(L, eta), lam, rtol=1e-9)  # flat energy at the root: lambda is less sharp


def test_no_nontrivial_roots_above_spinodal():
    for L in DEPTHS:
        for eta in ETAS:
            bc = ls.beta_c(L, eta)
            assert len(roots_numpy(L, eta, 1.01 * bc)) == 0
            m = ls.mode_landscape(L, eta, 1.01 * bc)
            assert m.phase == "trivial_only" and m.lambda_min is None and m.lambda_saddle is None


# --------------------------------------------------------------------------- worked example
def test_theory_worked_example():
    """docs/theory.md: L=3, eta=0.8, beta=0.32, to the printed digits."""
    m = ls.mode_landscape(3, 0.8, 0.32)
    assert round(m.beta_c, 5) == 0.35088
    assert round(m.beta_star, 5) == 0.29472
    assert round(m.lambda_saddle, 6) == 0.092545
    assert round(m.lambda_min, 6) == 0.342743
    assert round(m.barrier_forward, 6) == 0.028453
    assert round(m.barrier_reverse, 6) == 0.008829
    assert m.global_phase == "trivial" and m.phase == "bistable"
    assert m.beta_star == pytest.approx((0.8 / 2) ** (4 / 3), rel=1e-14)  # L = 3 form of beta*


# --------------------------------------------------------------------------- property tests
modes = st.tuples(
    st.integers(3, 8),
    st.floats(0.02, 0.999),
    st.floats(1e-4, 1 - 1e-6),  # beta / beta_c
)


@settings(max_examples=150, deadline=None)
@given(modes)
def test_barrier_identity_and_stationarity(mode):
    L, eta, f = mode
    beta = f * ls.beta_c(L, eta)
    m = ls.mode_landscape(L, eta, beta)
    for a, lam, e in ((m.a_saddle, m.lambda_saddle, m.energy_saddle), (m.a_min, m.lambda_min, m.energy_min)):
        terms = (a ** (2 * L - 2), eta * a ** (L - 2), beta)
        residual = a ** (2 * L - 2) - eta * a ** (L - 2) + beta
        assert abs(residual) <= 1e-13 * max(terms)
        # identity ell(lambda_s) - ell(0) = (lambda_s/2)[(L-2) eta - (L-1) lambda_s] vs direct u
        assert e == pytest.approx(u_direct(a, L, eta, beta), rel=1e-9, abs=1e-15)
        assert e == pytest.approx(float(ls.ell(lam, L, eta, beta) - ls.ell(0.0, L, eta, beta)), rel=1e-9, abs=1e-15)


@settings(max_examples=150, deadline=None)
@given(modes)
def test_ordering_and_curvature_signs(mode):
    L, eta, f = mode
    beta = f * ls.beta_c(L, eta)
    m = ls.mode_landscape(L, eta, beta)
    assert 0 < m.lambda_saddle < m.lambda_c < m.lambda_min < eta
    assert m.beta_star < m.beta_c
    assert m.lambda_star == pytest.approx(2 * m.lambda_c, rel=1e-15)
    assert m.curvature_min > 0 > m.curvature_saddle
    assert m.curvature_trivial == pytest.approx(beta, rel=1e-15)  # L >= 3: U''(0) = beta
    assert m.barrier_forward > 0 and m.barrier_reverse > 0
    # curvature at a stationary point: 2(L-1) lambda^((L-2)/L) (lambda - lambda_c)
    for lam, c in ((m.lambda_saddle, m.curvature_saddle), (m.lambda_min, m.curvature_min)):
        assert c == pytest.approx(2 * (L - 1) * lam ** ((L - 2) / L) * (lam - m.lambda_c), rel=1e-7, abs=1e-13)


@settings(max_examples=150, deadline=None)
@given(modes)
def test_global_phase_switches_at_beta_star(mode):
    L, eta, f = mode
    beta = f * ls.beta_c(L, eta)
    m = ls.mode_landscape(L, eta, beta)
    if abs(beta - m.beta_star) < 1e-9 * m.beta_star:
        return  # numerically at coexistence
    want = "learned" if beta < m.beta_star else "trivial"
    assert m.global_phase == want
    assert (m.energy_min < 0) == (beta < m.beta_star)
    assert (m.lambda_min > m.lambda_star) == (beta < m.beta_star)


def test_global_phase_switch_bracket():
    for L in DEPTHS:
        bs = ls.beta_star(L, 0.8)
        assert ls.mode_landscape(L, 0.8, bs * (1 - 1e-8)).global_phase == "learned"
        assert ls.mode_landscape(L, 0.8, bs * (1 + 1e-8)).global_phase == "trivial"


# --------------------------------------------------------------------------- L = 2 and edge cases
@pytest.mark.parametrize("eta,beta", [(0.8, 0.0), (0.8, 0.3), (0.5, 0.499), (0.9, 0.05)])
def test_depth_two_continuous_transition(eta, beta):
    m = ls.mode_landscape(2, eta, beta)
    assert m.phase == "learned_only" and m.global_phase == "learned"
    assert m.a_saddle is None and m.barrier_forward is None and m.barrier_reverse is None
    assert m.a_min**2 == pytest.approx(eta - beta, rel=1e-14)
    assert m.lambda_min == pytest.approx(eta - beta, rel=1e-14)
    assert m.energy_min == pytest.approx(-((eta - beta) ** 2) / 2, rel=1e-13)
    assert m.curvature_trivial == pytest.approx(beta - eta, rel=1e-14)  # the trivial point is a maximum
    assert m.curvature_min == pytest.approx(2 * (eta - beta), rel=1e-13)
    assert m.beta_c == eta
    a = roots_numpy(2, eta, beta)
    assert a[-1] == pytest.approx(m.a_min, rel=1e-12)


@pytest.mark.parametrize("beta", [0.8, 0.95])
def test_depth_two_above_transition(beta):
    m = ls.mode_landscape(2, 0.8, beta)
    assert m.phase == "trivial_only" and m.global_phase == "trivial"
    assert m.lambda_min is None and m.curvature_trivial == pytest.approx(beta - 0.8)


@pytest.mark.parametrize("L", DEPTHS)
def test_beta_zero(L):
    m = ls.mode_landscape(L, 0.7, 0.0)
    assert m.phase == "learned_only" and m.global_phase == "learned"
    assert m.a_saddle is None and m.barrier_forward is None
    assert m.lambda_min == pytest.approx(0.7, rel=1e-14)
    assert m.energy_min == pytest.approx(-0.7**2 / 2, rel=1e-13)
    assert m.curvature_trivial == 0.0


@pytest.mark.parametrize("L", DEPTHS)
def test_at_and_above_spinodal(L):
    bc = ls.beta_c(L, 0.8)
    for beta in (bc, bc * (1 + 1e-12), 2 * bc, 10.0):
        m = ls.mode_landscape(L, 0.8, beta)
        assert m.phase == "trivial_only" and m.global_phase == "trivial"
        assert all(
            getattr(m, k) is None
            for k in ("lambda_saddle", "lambda_min", "barrier_forward", "barrier_reverse", "curvature_min")
        )
        d = m.to_dict()
        assert d["lambda_min"] is None and d["beta_c"] == bc
    # just below the spinodal the two roots are about to merge, both on the correct side of lambda_c
    m = ls.mode_landscape(L, 0.8, bc * (1 - 1e-10))
    assert m.phase == "bistable"
    assert m.lambda_saddle < m.lambda_c < m.lambda_min
    assert m.lambda_min - m.lambda_saddle < 1e-3


def test_several_modes_one_entry_each():
    out = ls.landscape(3, [0.9, 0.8], 0.32)
    assert len(out) == 2 and [m.sv for m in out] == [0.9, 0.8]
    assert out[1] == ls.mode_landscape(3, 0.8, 0.32)
    assert out[0].phase == "bistable"


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(depth=1, sv=0.8, beta=0.3), "depth"),
        (dict(depth=2.5, sv=0.8, beta=0.3), "depth"),
        (dict(depth=float("nan"), sv=0.8, beta=0.3), "depth"),
        (dict(depth="3", sv=0.8, beta=0.3), "depth"),
        (dict(depth=True, sv=0.8, beta=0.3), "depth"),
        (dict(depth=3, sv=0.0, beta=0.3), "sv"),
        (dict(depth=3, sv=1.0, beta=0.3), "sv"),
        (dict(depth=3, sv=-0.2, beta=0.3), "sv"),
        (dict(depth=3, sv=float("nan"), beta=0.3), "sv"),
        (dict(depth=3, sv=float("inf"), beta=0.3), "sv"),
        (dict(depth=3, sv=0.8, beta=-1.0), "beta"),
        (dict(depth=3, sv=0.8, beta=float("nan")), "beta"),
        (dict(depth=3, sv=0.8, beta=float("inf")), "beta"),
    ],
)
def test_bad_input_names_argument(kwargs, name):
    for fn in (ls.mode_landscape, ls.landscape):
        with pytest.raises(InputError, match=name) as exc:
            fn(**kwargs)
        assert isinstance(exc.value, ValueError)
        assert "\n" not in str(exc.value)


def test_bad_input_closed_forms_and_lists():
    with pytest.raises(InputError, match="sv"):
        ls.landscape(3, [], 0.3)
    with pytest.raises(InputError, match="sv"):
        ls.landscape(3, [0.5, 1.2], 0.3)
    with pytest.raises(InputError, match="depth"):
        ls.beta_c(1, 0.5)
    with pytest.raises(InputError, match="sv"):
        ls.beta_star(3, 0.0)
    with pytest.raises(InputError, match="beta"):
        ls.stationary_amplitudes(3, 0.5, -0.1)


# --------------------------------------------------------------------------- symbolic vs hand-written
def test_symbolic_closed_forms_match_landscape():
    from langevin_grok.landscape import symbolic as sym

    for L in DEPTHS:
        for eta in ETAS:
            for name in ("lambda_c", "beta_c", "lambda_star", "beta_star"):
                assert getattr(sym, name)(L, eta) == pytest.approx(getattr(ls, name)(L, eta), rel=1e-14)
            lam = np.linspace(0.0, eta, 7)
            np.testing.assert_allclose(sym.stationary_value(lam, L, eta), ls.stationary_value(lam, L, eta),
                                       rtol=1e-13, atol=1e-16)


def test_symbolic_arc_functions_match_landscape():
    from langevin_grok.landscape import symbolic as sym

    r = np.linspace(-1.5, 2.0, 29)
    for L in range(2, 9):
        for eta, beta in ((0.8, 0.32), (0.3, 0.0), (0.95, 0.6)):
            p = np.array([L, eta, beta], dtype=float)
            for name in ("arc_potential", "arc_force", "arc_curvature"):
                want = getattr(ls, name)(0.0, r, p)
                got = getattr(sym, name)(0.0, r, p)
                assert got.shape == r.shape
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13, err_msg=f"{name} L={L}")
            assert float(sym.arc_curvature(0.0, 0.0, p)) == pytest.approx(float(ls.arc_curvature(0.0, 0.0, p)))
            m = ls.mode_landscape(L, eta, beta) if beta < ls.beta_c(L, eta) or L == 2 else None
            r_min = None if m is None else m.r_min
            assert r_min is None or abs(float(sym.arc_force(0.0, r_min, p))) < 1e-12
            assert r_min is None or float(sym.arc_curvature(0.0, r_min, p)) == pytest.approx(m.curvature_min,
                                                                                               rel=1e-10)


def test_arc_curvature_is_finite_difference_of_force():
    p = np.array([4.0, 0.8, 0.2])
    r = np.linspace(0.1, 1.8, 9)
    h = 1e-5
    fd = -(ls.arc_force(0, r + h, p) - ls.arc_force(0, r - h, p)) / (2 * h)
    np.testing.assert_allclose(ls.arc_curvature(0, r, p), fd, rtol=1e-7, atol=1e-9)
    fd_u = -(ls.arc_potential(0, r + h, p) - ls.arc_potential(0, r - h, p)) / (2 * h)
    np.testing.assert_allclose(ls.arc_force(0, r, p), fd_u, rtol=1e-7, atol=1e-9)
    assert math.isclose(float(ls.arc_potential(0, 0.0, p)), 0.0)


@pytest.mark.parametrize("L", DEPTHS)
def test_extreme_but_valid_beta(L):
    """Root finding must not fail at beta ~ 1e-300 (saddle ~ 1e-150) or one ulp below the spinodal."""
    for eta in (0.01, 0.3, 0.99):
        bc = ls.beta_c(L, eta)
        for beta in (5e-324, 1e-300, 1e-30, 1e-17, np.nextafter(bc, 0.0), bc * (1 - 1e-15)):
            m = ls.mode_landscape(L, eta, beta)
            assert m.phase == "bistable", (L, eta, beta)
            assert m.a_saddle <= m.a_min and m.lambda_min <= eta * (1 + 1e-14)
            assert m.barrier_forward >= 0.0 and m.barrier_reverse >= 0.0
        m = ls.mode_landscape(L, eta, 1e-30)
        # small-beta saddle: a^(L-2) eta ~ beta
        assert m.a_saddle == pytest.approx((1e-30 / eta) ** (1 / (L - 2)), rel=1e-6)
        assert m.lambda_min == pytest.approx(eta, rel=1e-12)
