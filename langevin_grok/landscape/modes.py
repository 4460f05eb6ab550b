"""Per-mode loss landscape of an L2-regularised deep linear network (numeric layer).

On the balanced, aligned subspace each singular value eta of Sigma_yx is carried by one
per-layer amplitude a (the same in every layer); the end-to-end singular value is
lambda = a**L. With constants dropped (see ``../docs/theory.md``)::

    ell(lambda) = 1/2 (lambda - eta)**2 + (L beta / 2) lambda**(2/L)
    u(a)        = 1/2 a**(2L) - eta a**L + (L beta / 2) a**2  ( = ell(a**L) - eta**2 / 2 )

Stationary points with a != 0 solve a**(2L-2) - eta a**(L-2) + beta = 0, equivalently
beta = lambda**(1 - 2/L) (eta - lambda). The closed forms here are re-derived symbolically in
:mod:`langevin_grok.landscape.symbolic` and checked there against these functions.

All functions take float64 scalars; :func:`mode_landscape` returns a frozen dataclass, and
:func:`landscape` one per singular value.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import brentq

from .._core.checks import MAX_SCALE, check_beta, check_depth, check_one_sv, check_sv

__all__ = [
    "ModeLandscape",
    "lambda_c",
    "beta_c",
    "lambda_star",
    "beta_star",
    "ell",
    "u",
    "u_prime",
    "u_second",
    "arc_potential",
    "arc_force",
    "arc_curvature",
    "stationary_value",
    "beta_of_lambda",
    "stationary_amplitudes",
    "mode_landscape",
    "landscape",
    "PHASES",
]

PHASES = ("bistable", "trivial_only", "learned_only")

# brentq: relative tolerance at the float64 floor, absolute tolerance far below any root we need.
_RTOL = 4 * np.finfo(float).eps
_XTOL = 1e-300


# closed forms accept any eta > 0 (the landscape needs no joint covariance); above this they overflow
_MAX_ETA = MAX_SCALE ** 0.25

# --------------------------------------------------------------------------- closed forms
def lambda_c(depth: int, eta: float) -> float:
    """End-to-end singular value at the spinodal: ``eta (L-2) / (2(L-1))`` (0 for L = 2)."""
    L = check_depth(depth)
    eta = check_one_sv(eta, upper=_MAX_ETA)
    return eta * (L - 2) / (2 * (L - 1))


def beta_c(depth: int, eta: float) -> float:
    """Spinodal L2 strength where the learned minimum disappears.

    ``beta_c = L/(L-2) lambda_c**(2(L-1)/L)`` for L >= 3 (the seed paper's Eq. (3)); for L = 2 the
    transition is continuous at ``beta = eta`` (the L -> 2 limit of the same formula).
    """
    L = check_depth(depth)
    eta = check_one_sv(eta, upper=_MAX_ETA)
    if L == 2:
        return eta
    lc = eta * (L - 2) / (2 * (L - 1))
    return L / (L - 2) * lc ** (2 * (L - 1) / L)


def lambda_star(depth: int, eta: float) -> float:
    """End-to-end singular value of the learned minimum at coexistence: ``eta (L-2)/(L-1)``."""
    L = check_depth(depth)
    eta = check_one_sv(eta, upper=_MAX_ETA)
    return eta * (L - 2) / (L - 1)


def beta_star(depth: int, eta: float) -> float:
    """Coexistence L2 strength (both minima equally deep): ``lambda***((L-2)/L) eta/(L-1)``.

    For L = 2 there is no coexistence; the L -> 2 limit, ``eta``, is returned.
    """
    L = check_depth(depth)
    eta = check_one_sv(eta, upper=_MAX_ETA)
    if L == 2:
        return eta
    ls = eta * (L - 2) / (L - 1)
    return ls ** ((L - 2) / L) * eta / (L - 1)


# --------------------------------------------------------------------------- potentials
def ell(lam, depth: int, eta: float, beta: float):
    """Per-mode loss ``1/2 (lambda-eta)^2 + (L beta/2) |lambda|^(2/L)`` (array-friendly)."""
    lam = np.asarray(lam, dtype=float)
    return 0.5 * (lam - eta) ** 2 + 0.5 * depth * beta * np.abs(lam) ** (2.0 / depth)


def u(a, depth: int, eta: float, beta: float):
    """Per-layer potential ``1/2 a^(2L) - eta a^L + (L beta/2) a^2`` (array-friendly)."""
    a = np.asarray(a, dtype=float)
    aL = a**depth
    return 0.5 * aL * aL - eta * aL + 0.5 * depth * beta * a * a


def u_prime(a, depth: int, eta: float, beta: float):
    """``du/da = L a (a^(2L-2) - eta a^(L-2) + beta)``."""
    a = np.asarray(a, dtype=float)
    return depth * (a ** (2 * depth - 1) - eta * a ** (depth - 1) + beta * a)


def u_second(a, depth: int, eta: float, beta: float):
    """``d2u/da2 = L[(2L-1) a^(2L-2) - (L-1) eta a^(L-2) + beta]``."""
    a = np.asarray(a, dtype=float)
    L = depth
    return L * ((2 * L - 1) * a ** (2 * L - 2) - (L - 1) * eta * a ** (L - 2) + beta)


def arc_potential(t, r, p):
    """Reduced 1-D potential ``U(r) = u(r / sqrt(L))`` on the balanced arc length ``r = sqrt(L) a``.

    Calling convention ``f(t, x, p)`` with ``p = (depth, eta, beta)``; ``t`` is unused.
    """
    L, eta, beta = p[0], p[1], p[2]
    return u(np.asarray(r, dtype=float) / math.sqrt(L), int(L), eta, beta)


def arc_force(t, r, p):
    """``-dU/dr`` on the arc, convention ``f(t, x, p)`` with ``p = (depth, eta, beta)``."""
    L, eta, beta = p[0], p[1], p[2]
    s = math.sqrt(L)
    return -u_prime(np.asarray(r, dtype=float) / s, int(L), eta, beta) / s


def arc_curvature(t, r, p):
    """``d2U/dr2 = u''(a) / L`` on the arc, convention ``f(t, x, p)``."""
    L, eta, beta = p[0], p[1], p[2]
    return u_second(np.asarray(r, dtype=float) / math.sqrt(L), int(L), eta, beta) / L


def stationary_value(lam, depth: int, eta: float):
    """``ell(lambda_s) - ell(0) = (lambda_s/2)[(L-2) eta - (L-1) lambda_s]`` at a stationary lambda_s."""
    lam = np.asarray(lam, dtype=float)
    return 0.5 * lam * ((depth - 2) * eta - (depth - 1) * lam)


def beta_of_lambda(lam, depth: int, eta: float):
    """The L2 strength at which ``lambda`` is stationary: ``lambda^(1-2/L) (eta - lambda)``."""
    lam = np.asarray(lam, dtype=float)
    return lam ** (1.0 - 2.0 / depth) * (eta - lam)


# --------------------------------------------------------------------------- roots
def stationary_amplitudes(depth: int, eta: float, beta: float) -> tuple[float | None, float | None]:
    """Per-layer amplitudes ``(a_saddle, a_min)`` of the non-trivial stationary points (a > 0).

    Solves ``a^(L-2) (eta - a^L) = beta`` by bracketed root finding on each side of the fold
    ``a_c = lambda_c**(1/L)``. Entries are ``None`` where the point does not exist: for L = 2 there
    is no saddle; for beta >= beta_c (L >= 3) neither exists; at beta = 0 the saddle merges with a = 0.
    """
    L = check_depth(depth)
    eta = check_one_sv(eta, upper=_MAX_ETA)
    beta = check_beta(beta)
    if L == 2:
        return (None, math.sqrt(eta - beta)) if beta < eta else (None, None)
    bc = beta_c(L, eta)
    if beta >= bc:
        return None, None
    a_c = lambda_c(L, eta) ** (1.0 / L)
    a_top = eta ** (1.0 / L)

    if beta == 0.0:
        # the learned root is exactly lambda = eta (a_top**L may round to either side of eta, so
        # f(a_top) has no reliable sign for brentq); the saddle has merged with a = 0
        return None, a_top

    def f(a: float) -> float:
        return a ** (L - 2) * (eta - a**L) - beta

    if f(a_c) <= 0.0:
        # beta within rounding of beta_c: the two roots coincide at the fold to float64 precision
        return a_c, a_c
    # f(a_top) = -beta only in exact arithmetic; a_top**L rounds, so for beta below ~1e-16 step
    # just past a_top, where f < 0 holds robustly (f < 0 for every a > a_top, so no root is added).
    a_hi, step = a_top, 1e-15
    while f(a_hi) >= 0.0:
        a_hi, step = a_top * (1.0 + step), step * 10.0
    a_min = brentq(f, a_c, a_hi, xtol=_XTOL, rtol=_RTOL, maxiter=500)
    # (beta/eta)**(1/(L-2)) lies below the saddle (f < 0 there) and is close to it for small beta, so
    # brentq does not have to bisect down from 0 through hundreds of binary orders (beta ~ 1e-300)
    # (the halved guess covers subnormal beta, where f(guess) itself rounds to the wrong sign)
    guess = (beta / eta) ** (1.0 / (L - 2))
    a_lo = next((x for x in (guess, 0.5 * guess) if 0.0 < x < a_c and f(x) < 0.0), 0.0)
    a_up = 2.0 * guess  # f(2 guess) ~ (2**(L-2) - 1) beta > 0 while guess**L << eta
    if not (a_lo < a_up < a_c and f(a_up) > 0.0):
        a_up = a_c
    a_sad = brentq(f, a_lo, a_up, xtol=_XTOL, rtol=_RTOL, maxiter=500)
    return a_sad, a_min


# --------------------------------------------------------------------------- per-mode summary
@dataclass(frozen=True)
class ModeLandscape:
    """Everything about one mode at one (L, eta, beta). ``None`` marks what does not exist.

    Attributes
    ----------
    depth, sv, beta : the inputs.
    beta_c, beta_star, lambda_c, lambda_star : spinodal and coexistence points (closed forms).
    phase : ``"bistable"`` (trivial and learned minima coexist), ``"trivial_only"`` or
        ``"learned_only"`` (L = 2 below eta, or beta = 0).
    global_phase : ``"learned"`` if the learned minimum is strictly deeper than the trivial one,
        else ``"trivial"``.
    lambda_saddle, lambda_min : end-to-end singular values of the saddle and the learned minimum.
    a_saddle, a_min, r_saddle, r_min : the same as per-layer amplitude a and arc length r = sqrt(L) a.
    energy_saddle, energy_min : ``ell - ell(0)`` at those points.
    barrier_forward : ``ell(lambda_sad) - ell(0)`` (trivial -> learned).
    barrier_reverse : ``ell(lambda_sad) - ell(lambda_min)`` (learned -> trivial).
    curvature_trivial, curvature_saddle, curvature_min : ``d2U/dr2`` along the arc length r.
    """

    depth: int
    sv: float
    beta: float
    beta_c: float
    beta_star: float
    lambda_c: float
    lambda_star: float
    phase: str
    global_phase: str
    lambda_saddle: float | None
    lambda_min: float | None
    a_saddle: float | None
    a_min: float | None
    r_saddle: float | None
    r_min: float | None
    energy_saddle: float | None
    energy_min: float | None
    barrier_forward: float | None
    barrier_reverse: float | None
    curvature_trivial: float
    curvature_saddle: float | None
    curvature_min: float | None

    def to_dict(self) -> dict:
        """Plain-``dict`` form (JSON-ready; ``None`` for what does not exist)."""
        return asdict(self)


def mode_landscape(depth: int, sv: float, beta: float) -> ModeLandscape:
    """Stationary points, barriers, phases and arc curvatures of one mode.

    Parameters
    ----------
    depth : int
        Number of weight matrices L >= 2.
    sv : float
        Singular value eta of Sigma_yx, 0 < eta < 1.
    beta : float
        L2 strength, >= 0.

    Examples
    --------
    The worked example of docs/theory.md:

    >>> m = mode_landscape(3, 0.8, 0.32)
    >>> round(m.lambda_saddle, 6), round(m.barrier_forward, 6), m.global_phase
    (0.092545, 0.028453, 'trivial')
    """
    L = check_depth(depth)
    eta = check_one_sv(sv)
    beta = check_beta(beta)
    a_sad, a_min = stationary_amplitudes(L, eta, beta)
    sqL = math.sqrt(L)

    def lam(a):
        return None if a is None else a**L

    lam_sad, lam_min = lam(a_sad), lam(a_min)
    e_sad = None if lam_sad is None else float(stationary_value(lam_sad, L, eta))
    e_min = None if lam_min is None else float(stationary_value(lam_min, L, eta))
    if L == 2:
        phase = "learned_only" if a_min is not None else "trivial_only"
    elif a_min is None:
        phase = "trivial_only"
    elif a_sad is None:
        phase = "learned_only"
    else:
        phase = "bistable"
    if phase == "learned_only":
        global_phase = "learned"
    elif phase == "trivial_only":
        global_phase = "trivial"
    else:
        global_phase = "learned" if e_min < 0.0 else "trivial"
    bf = e_sad if phase == "bistable" else None
    if phase == "bistable":
        # factored difference of the barrier identity, (L-1)/2 (l_sad - l_min)(2 lambda_c - l_sad - l_min),
        # is positive in exact arithmetic; near the fold both factors are tiny and rounding can flip the
        # sign of the ~1e-20 result, so clamp at 0
        lc2 = eta * (L - 2) / (L - 1)
        br = max(0.0, 0.5 * (L - 1) * (lam_sad - lam_min) * (lc2 - lam_sad - lam_min))
    else:
        br = None
    p = (L, eta, beta)

    def curv(a):
        return None if a is None else float(arc_curvature(0.0, sqL * a, p))

    return ModeLandscape(
        depth=L,
        sv=eta,
        beta=beta,
        beta_c=beta_c(L, eta),
        beta_star=beta_star(L, eta),
        lambda_c=lambda_c(L, eta),
        lambda_star=lambda_star(L, eta),
        phase=phase,
        global_phase=global_phase,
        lambda_saddle=lam_sad,
        lambda_min=lam_min,
        a_saddle=a_sad,
        a_min=a_min,
        r_saddle=None if a_sad is None else sqL * a_sad,
        r_min=None if a_min is None else sqL * a_min,
        energy_saddle=e_sad,
        energy_min=e_min,
        barrier_forward=bf,
        barrier_reverse=br,
        curvature_trivial=float(arc_curvature(0.0, 0.0, p)),
        curvature_saddle=curv(a_sad),
        curvature_min=curv(a_min),
    )


def landscape(depth: int, sv, beta: float) -> tuple[ModeLandscape, ...]:
    """:func:`mode_landscape` for each singular value in ``sv`` (one entry per mode)."""
    L = check_depth(depth)
    etas = check_sv(sv)
    beta = check_beta(beta)
    return tuple(mode_landscape(L, float(e), beta) for e in etas)
