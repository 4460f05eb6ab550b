"""Symbolic layer: the per-mode landscape derived with sympy for general integer depth L.

Every closed form used by :mod:`langevin_grok.landscape.modes` is *derived* here from the per-mode
loss, not typed in, and each derived result is checked against the closed form quoted in
``docs/theory.md``:

1. ``u(a) = ell(a**L) - eta**2/2`` and the stationarity polynomial
   ``a**(2L-2) - eta a**(L-2) + beta`` obtained as ``(du/da) / (L a)``;
2. the stationary curve ``beta(lambda) = lambda**(1-2/L) (eta - lambda)``;
3. the spinodal (saddle-node) ``(lambda_c, beta_c)`` from ``d beta / d lambda = 0``;
4. the barrier identity ``ell(lambda_s) - ell(0) = (lambda_s/2)[(L-2) eta - (L-1) lambda_s]``;
5. the coexistence point ``(lambda*, beta*)`` from stationarity plus equal depth;
6. the curvature along the balanced arc length ``r = sqrt(L) a`` and its value at stationary
   points, ``U''(r_s) = 2(L-1) lambda_s**((L-2)/L) (lambda_s - lambda_c)`` (sign = min/saddle);
7. the ratio ``beta*/beta_c = 2**(2(L-1)/L) / L`` (< 1 for every L >= 3), and the seed paper's
   Eq. (3) form of beta_c;
8. the L = 2 special case.

Each check first tries sympy simplification (``simplify(lhs - rhs) == 0``, then the same after
forcing power rules, then ``log(lhs) - log(rhs)``, valid because every quantity involved is
positive for L >= 3, eta > 0, lambda > 0). Independently of that outcome, every identity is also
evaluated in exact rational arithmetic at many points for L = 3..8 (points chosen so that every
fractional power is a perfect power, so the residual is an exact rational that must be 0).
A failed check raises :class:`SymbolicCheckError`.

sympy is imported lazily and the derivation runs once per process (``functools.lru_cache``), so
importing this module is cheap.

Numerics are lambdified into the package's calling convention ``f(t, x, p)`` with
``p = (depth, eta, beta)``: :func:`arc_potential`, :func:`arc_force`, :func:`arc_curvature`;
closed forms of ``(depth, eta)``: :func:`lambda_c`, :func:`beta_c`, :func:`lambda_star`,
:func:`beta_star`; and :func:`stationary_value` of ``(lambda, depth, eta)``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Callable

import numpy as np

from .._core.checks import check_depth, check_positive

__all__ = [
    "SymbolicCheckError",
    "Check",
    "Derivation",
    "L2Derivation",
    "ExactMode",
    "derive",
    "derive_l2",
    "stationarity_poly",
    "exact_mode",
    "arc_potential",
    "arc_force",
    "arc_curvature",
    "lambda_c",
    "beta_c",
    "lambda_star",
    "beta_star",
    "stationary_value",
    "EXACT_DEPTHS",
]

#: Depths at which every identity is also checked in exact rational arithmetic.
EXACT_DEPTHS = (3, 4, 5, 6, 7, 8)
# Rational bases of the exact check points (perfect L-th powers are built from them).
_Q = (Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(4, 5), Fraction(5, 7), Fraction(1, 3))


class SymbolicCheckError(AssertionError):
    """A derived expression does not match the closed form it should reproduce."""


@dataclass(frozen=True)
class Check:
    """Outcome of one verified identity ``lhs == rhs``.

    Attributes
    ----------
    name : short identifier, e.g. ``"spinodal beta_c"``.
    lhs, rhs : the two sympy expressions compared (lhs is the derived one).
    method : how sympy proved it for general L (``"simplify"``, ``"simplify (forced power rules)"``,
        ``"log-simplify"``) or ``"exact rational points only"`` if no general proof was found.
    n_exact_points : number of exact rational points (over L = 3..8, or L = 2) at which the residual
        evaluated to exactly 0.
    """

    name: str
    lhs: Any
    rhs: Any
    method: str
    n_exact_points: int


@dataclass(frozen=True)
class Derivation:
    """All derived expressions for general integer L >= 3 (sympy objects) plus their checks.

    Symbols: ``L`` (positive integer), ``a`` (per-layer amplitude), ``lam`` (end-to-end singular
    value lambda = a**L), ``eta``, ``beta``, ``r`` (arc length sqrt(L) a); all but L positive.
    """

    L: Any
    a: Any
    lam: Any
    eta: Any
    beta: Any
    r: Any
    ell: Any  # ell(lambda)
    u: Any  # u(a) = ell(a**L) - eta**2/2
    u_prime: Any  # du/da
    u_second: Any  # d2u/da2
    stationarity: Any  # (du/da)/(L a): a**(2L-2) - eta a**(L-2) + beta
    beta_of_lambda: Any  # beta on the stationary curve, as a function of lambda
    dbeta_dlambda: Any
    lambda_c: Any
    beta_c: Any
    a_c: Any
    stationary_value: Any  # ell(lambda_s) - ell(0) on the stationary curve
    lambda_star: Any
    beta_star: Any
    arc_potential: Any  # U(r) = u(r/sqrt(L))
    arc_force: Any  # -dU/dr
    arc_curvature: Any  # d2U/dr2
    curvature_stationary: Any  # d2U/dr2 at a stationary point, function of lambda
    beta_ratio: Any  # beta*/beta_c = 2**(2(L-1)/L) / L
    seed_eq3: Any  # the seed paper's form of beta_c, (1/(1-k)) (eta (1-k)/(2-k))**(2-k), k = 2/L
    checks: tuple[Check, ...]

    def check(self, name: str) -> Check:
        """The :class:`Check` called ``name``."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class L2Derivation:
    """The L = 2 special case (concrete L): continuous transition at beta = eta, no barrier."""

    a: Any
    eta: Any
    beta: Any
    u: Any
    stationarity: Any  # a**2 - eta + beta
    a_min_squared: Any  # eta - beta
    energy_min: Any  # u(a_min) - u(0) = -(eta - beta)**2 / 2
    curvature_trivial: Any  # d2U/dr2 at r = 0: beta - eta
    curvature_min: Any  # d2U/dr2 at the learned minimum: 2 (eta - beta)
    checks: tuple[Check, ...]


# --------------------------------------------------------------------------- verification helpers
def _sp():
    import sympy

    return sympy


def _prove(lhs, rhs, *, positive_log: bool = True) -> str | None:
    """Try to show ``lhs == rhs`` for general symbols; return the method or None."""
    sp = _sp()
    diff = lhs - rhs
    if sp.simplify(diff) == 0:
        return "simplify"
    # force=True power rules, e.g. (x**k)**(1/L) = x**(k/L): valid since every base here is positive
    forced = sp.powsimp(sp.expand_power_base(sp.powdenest(sp.expand(diff), force=True), force=True), force=True)
    if sp.simplify(forced) == 0:
        return "simplify (forced power rules)"
    if positive_log and lhs != 0 and rhs != 0:
        # Both sides positive (L >= 3, eta, lambda > 0): compare logarithms of the factored forms.
        d = sp.expand_log(sp.log(sp.factor(lhs)) - sp.log(sp.factor(rhs)), force=True)
        if sp.simplify(d) == 0:
            return "log-simplify"
    return None


def _exact_zero(lhs, rhs, points: list[dict]) -> int:
    """Evaluate ``lhs - rhs`` exactly at each substitution; every residual must be exactly 0."""
    sp = _sp()
    for pt in points:
        sub = {k: sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction) else v for k, v in pt.items()}
        val = sp.expand((lhs - rhs).xreplace(sub))
        if not val.is_Rational:
            val = sp.simplify(val)
        if val != 0:
            raise SymbolicCheckError(f"residual {val} != 0 at {pt}")
    return len(points)


def _verify(name, lhs, rhs, points, *, positive_log=True, require_proof=False) -> Check:
    method = _prove(lhs, rhs, positive_log=positive_log)
    if method is None:
        if require_proof:
            raise SymbolicCheckError(f"{name}: sympy could not prove {lhs} == {rhs}")
        method = "exact rational points only"
    try:
        n = _exact_zero(lhs, rhs, points)
    except SymbolicCheckError as exc:
        raise SymbolicCheckError(f"{name}: {exc}") from None
    return Check(name=name, lhs=lhs, rhs=rhs, method=method, n_exact_points=n)


def _points_state(L, eta, a, beta, depths=EXACT_DEPTHS, with_beta=True) -> list[dict]:
    """Points (L, eta, a[, beta]) with rational a, eta, beta: lambda = a**L stays rational."""
    pts = []
    etas = (Fraction(4, 5), Fraction(9, 10), Fraction(1, 3))
    betas = (Fraction(8, 25), Fraction(1, 100), Fraction(0))
    for Lv in depths:
        for i, q in enumerate(_Q):
            pt = {L: Lv, a: q, eta: etas[i % 3]}
            if with_beta:
                pt[beta] = betas[i % 3]
            pts.append(pt)
    return pts


def _points_eta(L, eta, factor: Callable[[int], Fraction], depths=EXACT_DEPTHS) -> list[dict]:
    """Points (L, eta) with eta = factor(L) q**L, so the relevant lambda is the perfect power q**L."""
    return [{L: Lv, eta: factor(Lv) * q**Lv} for Lv in depths for q in _Q]


# --------------------------------------------------------------------------- the derivation
@functools.lru_cache(maxsize=1)
def derive() -> Derivation:
    """Run the general-L derivation once and verify every result (cached).

    Returns
    -------
    Derivation
        Frozen record of sympy expressions and :class:`Check` results.

    Raises
    ------
    SymbolicCheckError
        If any derived expression disagrees with its closed form.
    """
    sp = _sp()
    L = sp.Symbol("L", integer=True, positive=True)
    a, lam, eta, beta, r = sp.symbols("a lambda eta beta r", positive=True)
    checks: list[Check] = []
    st = _points_state(L, eta, a, beta)

    # 1. the per-mode loss and its per-layer form
    ell = (lam - eta) ** 2 / 2 + L * beta / 2 * lam ** (2 / L)
    u = sp.expand(ell.subs(lam, a**L) - eta**2 / 2)  # (a**L)**(2/L) -> a**2 since a > 0
    checks.append(_verify("u(a) = ell(a^L) - eta^2/2", u,
                          a ** (2 * L) / 2 - eta * a**L + L * beta / 2 * a**2, st))
    # powsimp turns sympy's a**(2L)/a into a**(2L-1): no removable 0/0 at a = 0 when lambdified
    u_prime = sp.powsimp(sp.expand(sp.diff(u, a)))
    u_second_derived = sp.diff(u, a, 2)
    # keep the grouped form (no a**(2L)/a**2 quotients, so no 0/0 at a = 0 once lambdified)
    u_second = L * ((2 * L - 1) * a ** (2 * L - 2) - (L - 1) * eta * a ** (L - 2) + beta)
    checks.append(_verify("d2u/da2", u_second_derived, u_second, st))

    # 2. stationarity polynomial: du/da = L a P(a)
    P = sp.expand(sp.powsimp(sp.expand(u_prime / (L * a))))
    P = sp.collect(sp.powsimp(P), beta)
    checks.append(_verify("stationarity polynomial", P, a ** (2 * L - 2) - eta * a ** (L - 2) + beta, st))
    checks.append(_verify("du/da = L a P(a)", u_prime, L * a * P, st))

    # 3. stationary curve beta(lambda): solve P = 0 for beta, then a = lambda**(1/L)
    (beta_a,) = sp.solve(P, beta)
    b_lam = sp.powsimp(sp.expand(beta_a.subs(a, lam ** (1 / L))))
    b_lam = sp.factor(b_lam)
    st_lam = [{L: p[L], lam: p[a] ** p[L], eta: p[eta]} for p in st]
    checks.append(_verify("beta(lambda) on the stationary curve", b_lam, lam ** (1 - 2 / L) * (eta - lam), st_lam))

    # 4. spinodal: d beta/d lambda = 0. Multiplying by lambda**(2/L) leaves a linear equation.
    db = sp.diff(b_lam, lam)
    lin = sp.expand(sp.powsimp(sp.expand(db * lam ** (2 / L)), force=True))
    sols = sp.solve(lin, lam)
    if len(sols) != 1:
        raise SymbolicCheckError(f"spinodal: expected one root of d beta/d lambda = 0, got {sols}")
    lam_c = sp.factor(sols[0])
    pc = _points_eta(L, eta, lambda Lv: Fraction(2 * (Lv - 1), Lv - 2))
    checks.append(_verify("spinodal lambda_c", lam_c, eta * (L - 2) / (2 * (L - 1)), pc))
    beta_c_der = b_lam.subs(lam, lam_c)
    beta_c_closed = L / (L - 2) * lam_c ** (2 * (L - 1) / L)
    checks.append(_verify("spinodal beta_c", beta_c_der, beta_c_closed, pc))
    # the seed paper's Eq. (3) with k = 2/L
    k = 2 / L
    seed_eq3 = (1 / (1 - k)) * (eta * (1 - k) / (2 - k)) ** (2 - k)
    checks.append(_verify("seed paper Eq. (3)", seed_eq3, beta_c_closed, pc))
    # it is a maximum of beta(lambda): d2 beta/d lambda2 at lambda_c equals this negative closed form
    d2 = sp.diff(b_lam, lam, 2).subs(lam, lam_c)
    d2_closed = -(2 * (L - 1) / L) * lam_c ** (-2 / L)
    checks.append(_verify("spinodal is a maximum of beta(lambda)", d2, d2_closed, pc))
    # saddle-node in a: P(a_c) = 0 and dP/da(a_c) = 0 at beta = beta_c
    a_c = lam_c ** (1 / L)
    pcs = [dict(p) for p in pc]
    # (divided by the positive factors a_c**(L-2), a_c**(L-3) so that sympy can cancel the powers)
    checks.append(_verify("saddle-node: P(a_c; beta_c) = 0",
                          P.subs(beta, beta_c_closed).subs(a, a_c) / a_c ** (L - 2), sp.Integer(0),
                          pcs, positive_log=False))
    checks.append(_verify("saddle-node: dP/da(a_c) = 0", sp.diff(P, a).subs(a, a_c) / a_c ** (L - 3), sp.Integer(0),
                          pcs, positive_log=False))

    late = _derive_barriers_and_arc(L, a, lam, eta, beta, r, ell, u, u_prime, u_second, b_lam, beta_a, lam_c,
                                    beta_c_closed, pc, st, st_lam, checks)
    barrier_closed, lam_star, beta_star_closed, ratio, U, U_force, U_curv, curv_closed = late
    return Derivation(
        L=L, a=a, lam=lam, eta=eta, beta=beta, r=r,
        ell=ell, u=u, u_prime=u_prime, u_second=u_second, stationarity=P,
        beta_of_lambda=b_lam, dbeta_dlambda=db, lambda_c=lam_c, beta_c=beta_c_closed, a_c=a_c,
        stationary_value=barrier_closed, lambda_star=lam_star, beta_star=beta_star_closed,
        arc_potential=U, arc_force=U_force, arc_curvature=U_curv,
        curvature_stationary=curv_closed, beta_ratio=ratio, seed_eq3=seed_eq3, checks=tuple(checks),
    )


def _derive_barriers_and_arc(L, a, lam, eta, beta, r, ell, u, u_prime, u_second, b_lam, beta_a, lam_c,
                             beta_c_closed, pc, st, st_lam, checks):
    """Sections 5-7 of :func:`derive`: barrier identity, coexistence, curvature along the arc (appends checks)."""
    sp = _sp()
    # 5. barrier identity: substitute beta(lambda) into ell(lambda) - ell(0)
    e_stat = sp.factor(sp.expand(sp.powsimp(sp.expand((ell - ell.subs(lam, 0)).subs(beta, b_lam)))))
    barrier_closed = lam / 2 * ((L - 2) * eta - (L - 1) * lam)
    checks.append(_verify("barrier identity", e_stat, barrier_closed, st_lam, positive_log=False))

    # 6. coexistence: stationary and ell(lambda) = ell(0) with lambda != 0
    nz = [s for s in sp.solve(sp.cancel(e_stat / lam), lam) if s != 0]
    if len(nz) != 1:
        raise SymbolicCheckError(f"coexistence: expected one non-zero root, got {nz}")
    lam_star = sp.factor(nz[0])
    ps = _points_eta(L, eta, lambda Lv: Fraction(Lv - 1, Lv - 2))
    checks.append(_verify("coexistence lambda*", lam_star, eta * (L - 2) / (L - 1), ps))
    beta_star_der = b_lam.subs(lam, lam_star)
    beta_star_closed = lam_star ** ((L - 2) / L) * eta / (L - 1)
    checks.append(_verify("coexistence beta*", beta_star_der, beta_star_closed, ps))
    l3 = [{eta: 2 * q**3} for q in _Q]
    checks.append(_verify("coexistence beta* at L = 3", beta_star_closed.subs(L, 3), (eta / 2) ** sp.Rational(4, 3), l3))
    checks.append(_verify("lambda* = 2 lambda_c", lam_star, 2 * lam_c, pc))
    # beta*/beta_c does not depend on eta; exact points need eta with lambda* AND lambda_c perfect powers
    ratio = sp.simplify(sp.powsimp(sp.expand_power_base(beta_star_closed / beta_c_closed, force=True), force=True))
    # a second forced pass merges (2/(L-2))**k (L-2)**k into 2**k (valid: L - 2 > 0)
    ratio = sp.simplify(sp.powsimp(sp.expand_power_base(ratio, force=True), force=True))
    if ratio.has(eta):
        raise SymbolicCheckError(f"beta*/beta_c should not depend on eta, got {ratio}")
    # eta-free, so the exact points are just depths (powers of 2 with rational exponents compare exactly)
    checks.append(_verify("beta*/beta_c = 2^(2(L-1)/L)/L", ratio, 2 ** (2 * (L - 1) / L) / L,
                          [{L: Lv} for Lv in range(3, 30)]))

    # 7. curvature along the arc length r = sqrt(L) a
    # The expressions kept (and lambdified) are the chain-rule forms in a = r/sqrt(L), free of the
    # removable r**L/r**2 singularities of sympy's direct r-derivatives; both are checked equal.
    U = u.subs(a, r / sp.sqrt(L))
    U_force = (-u_prime / sp.sqrt(L)).subs(a, r / sp.sqrt(L))
    U_curv = (u_second / L).subs(a, r / sp.sqrt(L))
    st_r = [{L: p[L], r: p[a], eta: p[eta], beta: p[beta]} for p in st]
    checks.append(_verify("-dU/dr = -u'(a)/sqrt(L)", -sp.diff(U, r), U_force, st_r, positive_log=False))
    checks.append(_verify("d2U/dr2 = u''(a)/L", sp.diff(U, r, 2), U_curv, st_r, positive_log=False))
    # at a stationary point: eliminate beta with the stationary curve
    curv_stat_a = sp.expand((u_second / L).subs(beta, beta_a))
    curv_stat = sp.factor(sp.powsimp(sp.expand(curv_stat_a.subs(a, lam ** (1 / L))), force=True))
    curv_closed = 2 * (L - 1) * lam ** ((L - 2) / L) * (lam - eta * (L - 2) / (2 * (L - 1)))
    checks.append(_verify("curvature at stationary points", curv_stat, curv_closed, st_lam, positive_log=False))

    return barrier_closed, lam_star, beta_star_closed, ratio, U, U_force, U_curv, curv_closed


@functools.lru_cache(maxsize=1)
def derive_l2() -> L2Derivation:
    """The L = 2 case with concrete L (cached): stationarity is linear in a**2, no barrier."""
    sp = _sp()
    a, eta, beta, r = sp.symbols("a eta beta r", positive=True)
    lam = sp.Symbol("lambda", positive=True)
    ell = (lam - eta) ** 2 / 2 + beta * lam
    u = sp.expand(ell.subs(lam, a**2) - eta**2 / 2)
    P = sp.expand(sp.diff(u, a) / (2 * a))
    sols = sp.solve(P, a**2) if P.has(a**2) else []
    (a2,) = sp.solve(P.subs(a**2, lam), lam) if not sols else sols
    st = [{eta: e, beta: b} for e in (Fraction(4, 5), Fraction(9, 10), Fraction(1, 2)) for b in
          (Fraction(0), Fraction(1, 10), Fraction(8, 25))]
    st2 = [{**p, a: q} for p in st for q in _Q[:2]]
    checks = [
        _verify("L=2 stationarity polynomial", P, a**2 - eta + beta, st2, positive_log=False),
        _verify("L=2 a_min^2", a2, eta - beta, st, positive_log=False),
    ]
    U = u.subs(a, r / sp.sqrt(2))
    U2 = sp.diff(U, r, 2)
    e_min = sp.factor(u.subs(a, sp.sqrt(a2)))  # u(0) = 0
    checks.append(_verify("L=2 energy of learned minimum", e_min, -(eta - beta) ** 2 / 2, st, positive_log=False))
    # the general barrier identity at L = 2 gives the same value with lambda_s = eta - beta
    lam_s = eta - beta
    checks.append(_verify("L=2 barrier identity", e_min, (lam_s / 2 * (0 * eta - lam_s)), st, positive_log=False))
    c0 = U2.subs(r, 0)
    cm = sp.factor(U2.subs(r, sp.sqrt(2) * sp.sqrt(a2)))
    checks.append(_verify("L=2 curvature at 0", c0, beta - eta, st, positive_log=False))
    checks.append(_verify("L=2 curvature at minimum", cm, 2 * (eta - beta), st, positive_log=False))
    return L2Derivation(a=a, eta=eta, beta=beta, u=u, stationarity=P, a_min_squared=a2, energy_min=e_min,
                        curvature_trivial=c0, curvature_min=cm, checks=tuple(checks))


# --------------------------------------------------------------------------- concrete L, exact roots
def stationarity_poly(depth: int, eta=None, beta=None):
    """The stationarity polynomial for a concrete depth as a ``sympy.Poly`` in ``a``.

    ``eta`` and ``beta`` may be numbers (converted exactly with ``sympy.nsimplify`` for floats;
    pass ``fractions.Fraction``/``sympy.Rational`` for exact values) or ``None`` to keep symbols.
    Obtained from the general derivation by substituting L, so it is the derived polynomial.
    """
    sp = _sp()
    L = check_depth(depth)
    d = derive() if L >= 3 else None
    if L == 2:
        e2 = derive_l2()
        expr, a, e_sym, b_sym = e2.stationarity, e2.a, e2.eta, e2.beta
    else:
        expr, a, e_sym, b_sym = d.stationarity.subs(d.L, L), d.a, d.eta, d.beta
    sub = {}
    if eta is not None:
        sub[e_sym] = sp.Rational(eta.numerator, eta.denominator) if isinstance(eta, Fraction) else sp.nsimplify(eta)
    if beta is not None:
        sub[b_sym] = sp.Rational(beta.numerator, beta.denominator) if isinstance(beta, Fraction) else sp.nsimplify(beta)
    return sp.Poly(sp.expand(expr.xreplace(sub)), a)


@dataclass(frozen=True)
class ExactMode:
    """Exact stationary points of one mode at rational (L, eta, beta).

    ``a_saddle``/``a_min`` are sympy algebraic numbers (``CRootOf``) or ``None``; lambdas are their
    L-th powers; energies are ``ell(lambda) - ell(0)`` from the barrier identity. Use
    ``sympy.N(x, digits)`` to evaluate to any precision.
    """

    depth: int
    eta: Any
    beta: Any
    poly: Any
    a_saddle: Any
    a_min: Any
    lambda_saddle: Any
    lambda_min: Any
    energy_saddle: Any
    energy_min: Any
    barrier_forward: Any
    barrier_reverse: Any
    beta_c: Any
    beta_star: Any
    lambda_c: Any
    lambda_star: Any


def exact_mode(depth: int, eta, beta) -> ExactMode:
    """Exact (algebraic) stationary points for rational ``eta``, ``beta`` (``Fraction`` or sympy Rational).

    The positive real roots of :func:`stationarity_poly` are isolated exactly (``sympy.real_roots``);
    for L >= 3 the smaller one is the saddle and the larger one the learned minimum.
    """
    sp = _sp()
    L = check_depth(depth)
    e = sp.Rational(eta.numerator, eta.denominator) if isinstance(eta, Fraction) else sp.Rational(eta)
    b = sp.Rational(beta.numerator, beta.denominator) if isinstance(beta, Fraction) else sp.Rational(beta)
    poly = stationarity_poly(L, e, b)
    roots = sorted({x for x in sp.real_roots(poly) if x.is_positive}, key=lambda x: sp.N(x, 50))
    if L == 2:
        a_sad, a_min = None, (roots[-1] if roots else None)
        lc, ls, bc, bs = sp.Integer(0), sp.Integer(0), e, e
    else:
        d = derive()
        sub = {d.L: L, d.eta: e}
        lc, ls = d.lambda_c.subs(sub), d.lambda_star.subs(sub)
        bc, bs = d.beta_c.subs(sub), d.beta_star.subs(sub)
        if len(roots) == 2:
            a_sad, a_min = roots
        elif len(roots) == 1:  # beta = 0: only the learned root is positive
            a_sad, a_min = None, roots[0]
        else:
            a_sad, a_min = None, None

    def lam(x):
        return None if x is None else x**L

    def energy(x):
        return None if x is None else sp.Rational(1, 2) * x * ((L - 2) * e - (L - 1) * x)

    l_sad, l_min = lam(a_sad), lam(a_min)
    e_sad, e_min = energy(l_sad), energy(l_min)
    bf = e_sad if (e_sad is not None and e_min is not None) else None
    br = (e_sad - e_min) if bf is not None else None
    return ExactMode(depth=L, eta=e, beta=b, poly=poly, a_saddle=a_sad, a_min=a_min, lambda_saddle=l_sad,
                     lambda_min=l_min, energy_saddle=e_sad, energy_min=e_min, barrier_forward=bf,
                     barrier_reverse=br, beta_c=bc, beta_star=bs, lambda_c=lc, lambda_star=ls)


# --------------------------------------------------------------------------- lambdified numerics
@functools.lru_cache(maxsize=None)
def _lambdified(name: str):
    sp = _sp()
    d = derive()
    if name in ("arc_potential", "arc_force", "arc_curvature"):
        return sp.lambdify((d.r, d.L, d.eta, d.beta), getattr(d, name), "numpy")
    if name == "stationary_value":
        return sp.lambdify((d.lam, d.L, d.eta), d.stationary_value, "numpy")
    return sp.lambdify((d.L, d.eta), getattr(d, name), "numpy")


def _unpack(p) -> tuple[float, float, float]:
    p = np.asarray(p, dtype=float)
    return float(p[0]), float(p[1]), float(p[2])


def arc_potential(t, r, p):
    """``U(r) = u(r/sqrt(L))`` lambdified from the derivation; ``f(t, x, p)``, ``p = (depth, eta, beta)``.

    ``r`` may be a scalar or an array of any shape; the result has the same shape. ``t`` is unused.
    """
    L, eta, beta = _unpack(p)
    return _lambdified("arc_potential")(np.asarray(r, dtype=float), L, eta, beta)


def arc_force(t, r, p):
    """``-dU/dr`` lambdified from the derivation; convention ``f(t, x, p)``."""
    L, eta, beta = _unpack(p)
    return _lambdified("arc_force")(np.asarray(r, dtype=float), L, eta, beta)


def arc_curvature(t, r, p):
    """``d2U/dr2`` lambdified from the derivation; convention ``f(t, x, p)``."""
    L, eta, beta = _unpack(p)
    out = _lambdified("arc_curvature")(np.asarray(r, dtype=float), L, eta, beta)
    return np.broadcast_to(out, np.shape(r)).astype(float) if np.ndim(out) < np.ndim(r) else out


def _closed(name: str, depth, eta) -> float:
    L = check_depth(depth, minimum=3)
    eta = check_positive("sv", eta)
    return float(_lambdified(name)(float(L), eta))


def lambda_c(depth: int, eta: float) -> float:
    """Spinodal lambda_c (L >= 3), lambdified from the derived expression."""
    return _closed("lambda_c", depth, eta)


def beta_c(depth: int, eta: float) -> float:
    """Spinodal beta_c (L >= 3), lambdified from the derived expression."""
    return _closed("beta_c", depth, eta)


def lambda_star(depth: int, eta: float) -> float:
    """Coexistence lambda* (L >= 3), lambdified from the derived expression."""
    return _closed("lambda_star", depth, eta)


def beta_star(depth: int, eta: float) -> float:
    """Coexistence beta* (L >= 3), lambdified from the derived expression."""
    return _closed("beta_star", depth, eta)


def stationary_value(lam, depth: int, eta: float):
    """``ell(lambda_s) - ell(0)`` at a stationary lambda_s (derived barrier identity), array-friendly."""
    L = check_depth(depth)
    eta = check_positive("sv", eta)
    return _lambdified("stationary_value")(np.asarray(lam, dtype=float), float(L), eta)
