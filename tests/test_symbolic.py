"""The sympy layer: every derived result is verified, and its numerics agree with independent formulas."""

from __future__ import annotations

import importlib
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from langevin_grok.landscape import symbolic as sym
from langevin_grok._core.checks import InputError

ls = importlib.import_module("langevin_grok.landscape.modes")

EXPECTED_CHECKS = {
    "u(a) = ell(a^L) - eta^2/2",
    "stationarity polynomial",
    "du/da = L a P(a)",
    "d2u/da2",
    "beta(lambda) on the stationary curve",
    "spinodal lambda_c",
    "spinodal beta_c",
    "spinodal is a maximum of beta(lambda)",
    "seed paper Eq. (3)",
    "saddle-node: P(a_c; beta_c) = 0",
    "saddle-node: dP/da(a_c) = 0",
    "barrier identity",
    "coexistence lambda*",
    "coexistence beta*",
    "coexistence beta* at L = 3",
    "lambda* = 2 lambda_c",
    "beta*/beta_c = 2^(2(L-1)/L)/L",
    "-dU/dr = -u'(a)/sqrt(L)",
    "d2U/dr2 = u''(a)/L",
    "curvature at stationary points",
}


@pytest.fixture(scope="module")
def d():
    return sym.derive()


def test_every_result_is_verified(d):
    assert {c.name for c in d.checks} == EXPECTED_CHECKS
    for c in d.checks:
        # general-L proof by sympy for every identity (the exact points are an independent second check)
        assert c.method in ("simplify", "simplify (forced power rules)", "log-simplify"), c
        assert c.n_exact_points >= 6, c
    # identities in (L, eta, a, beta) or (L, eta) are checked at 6 points for each L = 3..8
    assert d.check("barrier identity").n_exact_points == 6 * len(sym.EXACT_DEPTHS)
    assert d.check("spinodal beta_c").n_exact_points == 6 * len(sym.EXACT_DEPTHS)


def test_derivation_is_cached(d):
    assert sym.derive() is d
    assert sym.derive_l2() is sym.derive_l2()


def test_checker_can_fail():
    L = sp.Symbol("L", integer=True, positive=True)
    eta = sp.Symbol("eta", positive=True)
    lam_c = eta * (L - 2) / (2 * (L - 1))
    wrong = 2 * L / (L - 2) * lam_c ** (2 * (L - 1) / L)  # factor 2 too large
    right = L / (L - 2) * lam_c ** (2 * (L - 1) / L)
    pts = [{L: Lv, eta: Fraction(2 * (Lv - 1), Lv - 2) * Fraction(1, 2) ** Lv} for Lv in (3, 4)]
    with pytest.raises(sym.SymbolicCheckError, match="residual"):
        sym._verify("bogus beta_c", wrong, right, pts)
    assert sym._verify("beta_c", right, right, pts).n_exact_points == 2
    with pytest.raises(sym.SymbolicCheckError, match="could not prove"):
        sym._verify("bogus", wrong, right, [], require_proof=True)


def test_derived_forms_match_theory_numerically(d):
    """Evaluate the sympy expressions at float points against docs/theory.md's formulas typed independently."""
    rng = np.random.default_rng(1)
    for L in range(3, 9):
        for eta, a in rng.uniform(0.05, 0.95, size=(4, 2)):
            beta = 0.1 * eta
            sub = {d.L: L, d.eta: eta, d.beta: beta, d.a: a, d.lam: a**L, d.r: np.sqrt(L) * a}

            def ev(e):
                return float(e.subs(sub).evalf(30))

            assert ev(d.stationarity) == pytest.approx(a ** (2 * L - 2) - eta * a ** (L - 2) + beta, rel=1e-12)
            assert ev(d.u) == pytest.approx(0.5 * a ** (2 * L) - eta * a**L + L * beta / 2 * a**2, rel=1e-12)
            lam_c = eta * (L - 2) / (2 * (L - 1))
            assert ev(d.lambda_c) == pytest.approx(lam_c, rel=1e-14)
            assert ev(d.beta_c) == pytest.approx(L / (L - 2) * lam_c ** (2 * (L - 1) / L), rel=1e-14)
            lam_s = eta * (L - 2) / (L - 1)
            assert ev(d.lambda_star) == pytest.approx(lam_s, rel=1e-14)
            assert ev(d.beta_star) == pytest.approx(lam_s ** ((L - 2) / L) * eta / (L - 1), rel=1e-14)
            assert ev(d.beta_ratio) == pytest.approx(ev(d.beta_star) / ev(d.beta_c), rel=1e-13)
            assert ev(d.beta_ratio) < 1.0  # beta* < beta_c for every L >= 3
            assert ev(d.arc_curvature) == pytest.approx(float(ls.arc_curvature(0.0, np.sqrt(L) * a, [L, eta, beta])),
                                                       rel=1e-10, abs=1e-13)


def test_depth_two_derivation():
    e = sym.derive_l2()
    assert all(c.n_exact_points > 0 for c in e.checks)
    assert sp.simplify(e.a_min_squared - (e.eta - e.beta)) == 0
    assert sp.simplify(e.energy_min + (e.eta - e.beta) ** 2 / 2) == 0
    assert sp.simplify(e.curvature_trivial - (e.beta - e.eta)) == 0
    m = ls.mode_landscape(2, 0.8, 0.3)
    sub = {e.eta: 0.8, e.beta: 0.3}
    assert float(e.energy_min.subs(sub)) == pytest.approx(m.energy_min, rel=1e-13)
    assert float(e.curvature_min.subs(sub)) == pytest.approx(m.curvature_min, rel=1e-13)
    assert float(e.curvature_trivial.subs(sub)) == pytest.approx(m.curvature_trivial, rel=1e-13)


def test_stationarity_poly_concrete_depths():
    a = sp.Symbol("a", positive=True)
    p3 = sym.stationarity_poly(3, Fraction(4, 5), Fraction(8, 25))
    assert p3.all_coeffs() == [1, 0, 0, sp.Rational(-4, 5), sp.Rational(8, 25)]
    p5 = sym.stationarity_poly(5)
    assert p5.degree() == 8
    p2 = sym.stationarity_poly(2, Fraction(4, 5), Fraction(1, 5))
    assert p2.as_expr().subs(p2.gens[0], a) == a**2 - sp.Rational(3, 5)


def test_exact_worked_example():
    m = sym.exact_mode(3, Fraction(4, 5), Fraction(8, 25))
    n = ls.mode_landscape(3, 0.8, 0.32)
    pairs = [
        (m.lambda_saddle, n.lambda_saddle), (m.lambda_min, n.lambda_min), (m.barrier_forward, n.barrier_forward),
        (m.barrier_reverse, n.barrier_reverse), (m.beta_c, n.beta_c), (m.beta_star, n.beta_star),
    ]
    for exact, num in pairs:
        assert float(sp.N(exact, 30)) == pytest.approx(num, rel=1e-12)
    # the printed digits of docs/theory.md
    assert str(sp.N(m.beta_c, 5)) == "0.35088"
    assert str(sp.N(m.beta_star, 5)) == "0.29472"
    assert str(sp.N(m.lambda_saddle, 5)) == "0.092545"
    assert str(sp.N(m.lambda_min, 6)) == "0.342743"
    assert str(sp.N(m.barrier_forward, 5)) == "0.028453"
    assert str(sp.N(m.barrier_reverse, 4)) == "0.008829"
    assert sp.N(m.energy_min, 30) > 0  # trivial is global
    # barrier identity against direct evaluation of u at the exact roots, 40 digits
    u = lambda x: x**6 / 2 - sp.Rational(4, 5) * x**3 + sp.Rational(3, 2) * sp.Rational(8, 25) * x**2  # noqa: E731
    assert abs(sp.N(u(m.a_saddle) - m.energy_saddle, 40)) < sp.Float("1e-35")
    assert abs(sp.N(u(m.a_min) - m.energy_min, 40)) < sp.Float("1e-35")


@pytest.mark.parametrize("L,eta,beta", [(4, Fraction(9, 10), Fraction(1, 5)), (6, Fraction(1, 2), Fraction(1, 20)),
                                        (5, Fraction(3, 4), Fraction(0))])
def test_exact_mode_matches_numeric(L, eta, beta):
    m = sym.exact_mode(L, eta, beta)
    n = ls.mode_landscape(L, float(eta), float(beta))
    assert (m.a_saddle is None) == (n.a_saddle is None)
    for exact, num in ((m.a_saddle, n.a_saddle), (m.a_min, n.a_min)):
        assert exact is None or float(sp.N(exact, 30)) == pytest.approx(num, rel=1e-13)


def test_lambdified_closed_forms_and_convention():
    for L in range(3, 9):
        assert sym.beta_c(L, 0.8) == pytest.approx(ls.beta_c(L, 0.8), rel=1e-14)
        assert sym.beta_star(L, 0.8) == pytest.approx(ls.beta_star(L, 0.8), rel=1e-14)
    r = np.linspace(0.0, 1.5, 12).reshape(3, 4)
    for p in ([3, 0.8, 0.32], (3.0, 0.8, 0.32), np.array([3.0, 0.8, 0.32])):
        for f in (sym.arc_potential, sym.arc_force, sym.arc_curvature):
            out = f(0.0, r, p)
            assert out.shape == r.shape and out.dtype == np.float64
    assert float(sym.arc_curvature(0.0, 0.0, [3, 0.8, 0.32])) == pytest.approx(0.32)
    assert np.isfinite(sym.arc_curvature(0.0, np.zeros(3), [5, 0.8, 0.1])).all()


def test_symbolic_bad_input():
    with pytest.raises(InputError, match="depth"):
        sym.beta_c(2, 0.8)  # the general-L closed forms need L >= 3
    with pytest.raises(InputError, match="sv"):
        sym.lambda_star(3, 0.0)
    with pytest.raises(InputError, match="depth"):
        sym.stationarity_poly(1)


def test_import_is_cheap():
    code = "import sys, langevin_grok.landscape.symbolic; print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
