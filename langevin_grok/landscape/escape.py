"""The one escape definition of the package: when a path started at one minimum of a mode has escaped.

Used by the theory (:mod:`langevin_grok.theory`), by the Langevin engine's events
(:mod:`langevin_grok.langevin.events`), by the SGD escape rules (:mod:`langevin_grok.sgd`) and by the sweeps,
so it lives in the landscape layer below all of them. Conventions: ``docs/theory.md``, sections "One mode"
and "Escape times" (per-mode loss ``ell - ell(0)``, arc length ``r = sqrt(L) a``, ``U(r) = u(r / sqrt(L))``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .._core.checks import InputError, check_beta, check_choice, check_depth, check_one_sv
from .modes import mode_landscape

__all__ = ["DIRECTIONS", "EscapeTarget", "escape_target"]

DIRECTIONS = ("forward", "reverse")


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
    eta = check_one_sv(sv)
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
