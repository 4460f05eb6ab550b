"""Escape-time theory: the default escape event, 1-D Kramers, exact 1-D MFPT, Eyring-Kramers.

Everything here is in SDE time units of ``dX = -grad U dt + sqrt(2T) dW`` (see ``THEORY.md``):
losses are the per-mode ``ell - ell(0)``, the 1-D coordinate is the balanced arc length
``r = sqrt(L) a`` with ``U(r) = u(r / sqrt(L))``.

The escape event (:func:`escape_target`) is defined in one place and used by this module and by
the SDE engine: a path started at one minimum has escaped when the end-to-end singular value
``lambda`` crosses the midpoint between ``lambda_saddle`` and the other minimum's ``lambda``.

Functions
---------
escape_target   the default event (start point, target lambda/r, barrier, direction of crossing).
kramers_1d      ``2 pi / sqrt(U''(well) |U''(saddle)|) exp(dE/T)`` along the arc (divided by the
                number of arc routes: 2 for the forward escape of even L, else 1).
mfpt_1d         exact mean first-passage time of a general 1-D potential by quadrature (mpmath).
exact_mfpt_1d   :func:`mfpt_1d` on the arc potential with the default event.
eyring_kramers  weight-space Eyring-Kramers from two stationary points of a network.
eyring_kramers_chain  the same for the scalar chain (w = p = 1) of depth L.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ._checks import InputError, check_beta, check_choice, check_depth, check_positive, check_sv
from .landscape import mode_landscape

__all__ = [
    "DIRECTIONS",
    "EscapeTarget",
    "escape_target",
    "KramersResult",
    "kramers_1d",
]

DIRECTIONS = ("forward", "reverse")


def _finite_or_none(x):
    """JSON helper: non-finite floats become ``None``."""
    if isinstance(x, (float, np.floating)) and not math.isfinite(float(x)):
        return None
    return x


# --------------------------------------------------------------------------- the escape event
@dataclass(frozen=True)
class EscapeTarget:
    """The default escape event of one mode, shared by the theory and the SDE engine.

    A path starts at the minimum ``lambda_start`` (forward: the trivial point 0; reverse: the
    learned minimum) and has escaped the first time the end-to-end singular value
    ``lambda = prod of the layer amplitudes`` (``a**L`` on the arc, ``w_L ... w_1`` for the scalar
    chain) crosses ``lambda_target`` in the direction ``crossing``:

    - forward (trivial -> learned): ``lambda_target = (lambda_saddle + lambda_min) / 2``,
      event ``lambda >= lambda_target`` (``crossing = +1``);
    - reverse (learned -> trivial): ``lambda_target = lambda_saddle / 2``,
      event ``lambda <= lambda_target`` (``crossing = -1``).

    Use :meth:`signed_distance` (lambda) or :meth:`arc_signed_distance` (arc length r): negative
    before the event, zero on the target, positive after it.

    On the arc, for even L, ``U(r)`` is even and ``lambda = a**L >= 0`` at both signs of r, so the
    forward event is ``|r| >= r_target`` (two routes, ``arc_routes = 2``); for odd L the side
    ``r < 0`` has ``lambda < 0`` and U grows there, so only ``r >= r_target`` counts.

    Attributes
    ----------
    depth, sv, beta, direction : the inputs.
    crossing : +1 (event when lambda rises through the target) or -1 (falls through it).
    lambda_start, lambda_target, lambda_saddle, lambda_min : end-to-end singular values.
    a_start, a_target : the same as per-layer amplitudes ``lambda**(1/L)`` (>= 0).
    r_start, r_target, r_saddle, r_min : arc lengths ``sqrt(L) a`` (the r >= 0 branch).
    barrier : ``ell(lambda_saddle) - ell(lambda_start)`` (loss units).
    energy_start, energy_saddle, energy_target : ``ell - ell(0)`` at start, saddle and target.
    curvature_start, curvature_saddle : ``d2U/dr2`` at the starting minimum and at the saddle.
    arc_routes : number of arc directions leading to the event (2 for forward with even L, else 1).
    """

    depth: int
    sv: float
    beta: float
    direction: str
    crossing: int
    lambda_start: float
    lambda_target: float
    lambda_saddle: float
    lambda_min: float
    a_start: float
    a_target: float
    r_start: float
    r_target: float
    r_saddle: float
    r_min: float
    barrier: float
    energy_start: float
    energy_saddle: float
    energy_target: float
    curvature_start: float
    curvature_saddle: float
    arc_routes: int

    def signed_distance(self, lam):
        """``crossing * (lambda - lambda_target)``: < 0 before, 0 on, > 0 after the event.

        ``lam`` is the end-to-end singular value (scalar or array, e.g. the product of the chain's
        weights); the event fires at the first time this is >= 0.
        """
        return self.crossing * (np.asarray(lam, dtype=float) - self.lambda_target)

    def arc_signed_distance(self, r):
        """:meth:`signed_distance` in the arc length r, with ``lambda = (r / sqrt(L))**L``.

        For even L this makes the forward event ``|r| >= r_target``; for odd L, ``r >= r_target``.
        """
        a = np.asarray(r, dtype=float) / math.sqrt(self.depth)
        return self.signed_distance(a**self.depth)

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready)."""
        return asdict(self)


def _ell_rel(lam: float, depth: int, eta: float, beta: float) -> float:
    """``ell(lambda) - ell(0)`` for lambda >= 0 (not necessarily stationary)."""
    return 0.5 * lam * lam - eta * lam + 0.5 * depth * beta * lam ** (2.0 / depth)


def escape_target(depth: int, sv: float, beta: float, direction: str = "forward") -> EscapeTarget:
    """The default escape event of one mode (see :class:`EscapeTarget`).

    Parameters
    ----------
    depth : int
        Number of weight matrices L >= 3 (L = 2 has no barrier).
    sv : float
        Singular value eta, 0 < eta < 1.
    beta : float
        L2 strength, 0 < beta < beta_c (the bistable range).
    direction : {"forward", "reverse"}
        ``"forward"``: trivial (lambda = 0) -> learned; ``"reverse"``: learned -> trivial.

    Raises
    ------
    InputError
        If the mode has no barrier in that direction (L = 2, beta = 0 or beta >= beta_c).

    Examples
    --------
    >>> t = escape_target(3, 0.8, 0.32, "forward")
    >>> round(t.lambda_target, 6), round(t.barrier, 6), t.crossing
    (0.217644, 0.028453, 1)
    """
    L = check_depth(depth)
    eta = float(check_sv(sv)[0])
    beta = check_beta(beta)
    direction = check_choice("direction", direction, DIRECTIONS)
    if L == 2:
        raise InputError("depth must be >= 3 for an escape barrier (L = 2 has a continuous transition), got 2")
    m = mode_landscape(L, eta, beta)
    if m.phase != "bistable":
        raise InputError(
            f"beta must lie in (0, beta_c = {m.beta_c:.6g}) for a barrier between the trivial and learned "
            f"minima (depth {L}, sv {eta:g}), got {beta!r}"
        )
    if direction == "forward":
        lam_start, lam_target, crossing = 0.0, 0.5 * (m.lambda_saddle + m.lambda_min), 1
        barrier, e_start, curv_start = m.barrier_forward, 0.0, m.curvature_trivial
        routes = 2 if L % 2 == 0 else 1
    else:
        lam_start, lam_target, crossing = m.lambda_min, 0.5 * m.lambda_saddle, -1
        barrier, e_start, curv_start = m.barrier_reverse, m.energy_min, m.curvature_min
        routes = 1
    sqL = math.sqrt(L)
    a_start, a_target = lam_start ** (1.0 / L), lam_target ** (1.0 / L)
    return EscapeTarget(
        depth=L,
        sv=eta,
        beta=beta,
        direction=direction,
        crossing=crossing,
        lambda_start=lam_start,
        lambda_target=lam_target,
        lambda_saddle=m.lambda_saddle,
        lambda_min=m.lambda_min,
        a_start=a_start,
        a_target=a_target,
        r_start=sqL * a_start,
        r_target=sqL * a_target,
        r_saddle=m.r_saddle,
        r_min=m.r_min,
        barrier=barrier,
        energy_start=e_start,
        energy_saddle=m.energy_saddle,
        energy_target=_ell_rel(lam_target, L, eta, beta),
        curvature_start=curv_start,
        curvature_saddle=m.curvature_saddle,
        arc_routes=routes,
    )


# --------------------------------------------------------------------------- 1-D Kramers
@dataclass(frozen=True)
class KramersResult:
    """1-D Kramers escape time along the balanced arc.

    Attributes
    ----------
    tau : float
        Mean escape time (SDE time units); ``inf`` if it overflows float64 (see ``log_tau``).
    log_tau : float
        Natural log of tau (always finite).
    prefactor : float
        ``tau * exp(-barrier / T)``: ``2 pi / (arc_routes sqrt(U''(well) |U''(saddle)|))``.
    barrier, temperature, barrier_over_t : dE, T and dE / T.
    curvature_well, curvature_saddle : ``d2U/dr2`` at the starting minimum and the saddle.
    arc_routes : 2 for the forward escape at even L (saddles at +-r_saddle), else 1.
    direction : ``"forward"`` or ``"reverse"``.
    """

    tau: float
    log_tau: float
    prefactor: float
    barrier: float
    temperature: float
    barrier_over_t: float
    curvature_well: float
    curvature_saddle: float
    arc_routes: int
    direction: str

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready; an overflowed tau becomes ``None``)."""
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


def _exp_or_inf(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


def kramers_1d(depth: int, sv: float, beta: float, temperature: float,
               direction: str = "forward") -> KramersResult:
    """Overdamped 1-D Kramers time along the arc length r.

    ``tau = 2 pi / (n sqrt(U''(r_well) |U''(r_saddle)|)) exp(dE / T)`` with n = ``arc_routes``.

    Parameters
    ----------
    depth, sv, beta, direction : see :func:`escape_target`.
    temperature : float
        Noise temperature T > 0 (loss units).

    Returns
    -------
    KramersResult

    Notes
    -----
    The leading term of the Laplace expansion of the exact MFPT (:func:`exact_mfpt_1d`) for
    ``dE / T -> infinity``; the relative correction is O(T / dE). For even L the forward escape
    has two symmetric saddles at +-r_saddle on the arc, which halves the time.
    """
    T = check_positive("temperature", temperature)
    tgt = escape_target(depth, sv, beta, direction)
    k_w, k_s = tgt.curvature_start, tgt.curvature_saddle
    log_pref = math.log(2.0 * math.pi / tgt.arc_routes) - 0.5 * (math.log(k_w) + math.log(abs(k_s)))
    log_tau = log_pref + tgt.barrier / T
    return KramersResult(
        tau=_exp_or_inf(log_tau),
        log_tau=log_tau,
        prefactor=math.exp(log_pref),
        barrier=tgt.barrier,
        temperature=T,
        barrier_over_t=tgt.barrier / T,
        curvature_well=k_w,
        curvature_saddle=k_s,
        arc_routes=tgt.arc_routes,
        direction=tgt.direction,
    )
