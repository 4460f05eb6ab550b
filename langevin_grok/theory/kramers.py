"""Escape-time theory: 1-D Kramers, exact 1-D MFPT, Eyring-Kramers.

Everything here is in SDE time units of ``dX = -grad U dt + sqrt(2T) dW`` (see ``docs/theory.md``):
losses are the per-mode ``ell - ell(0)``, the 1-D coordinate is the balanced arc length
``r = sqrt(L) a`` with ``U(r) = u(r / sqrt(L))``.

The escape event is the package's one definition, :func:`langevin_grok.landscape.escape.escape_target`
(shared with the Langevin engine and the SGD layer): a path started at one minimum has escaped when the
end-to-end singular value ``lambda`` crosses the midpoint between ``lambda_saddle`` and the other minimum's
``lambda``.

Functions
---------
kramers_1d      ``2 pi / sqrt(U''(well) |U''(saddle)|) exp(dE/T)`` along the arc (divided by the
                number of arc routes: 2 for the forward escape of even L, else 1).
mfpt_1d         exact mean first-passage time of a general 1-D potential by quadrature (mpmath).
exact_mfpt_1d   :func:`mfpt_1d` on the arc potential with the default event.
eyring_kramers  weight-space Eyring-Kramers from two stationary points of a network; refuses
                (:class:`ZeroModeError`) when a Hessian has zero modes (width > 1).
count_equivalent_saddles  symmetry count of the saddles adjacent to a minimum (width 1).
eyring_kramers_chain  the same for the scalar chain (w = p = 1) of depth L.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from .._core.checks import (
    InputError,
    check_int,
    check_positive,
)
from ..landscape.escape import escape_target
from .quadrature import MFPTResult, exact_mfpt_1d, mfpt_1d  # noqa: F401  (re-exported: the theory's ground truth)
from ..landscape.network import DeepLinearNetwork
from ..landscape.stationary import StationaryPoint, equivalent_saddles, stationary_point

__all__ = [
    "KramersResult",
    "kramers_1d",
    "MFPTResult",
    "mfpt_1d",
    "exact_mfpt_1d",
    "ZeroModeError",
    "EyringKramersResult",
    "count_equivalent_saddles",
    "eyring_kramers",
    "eyring_kramers_chain",
]

def _finite_or_none(x):
    """JSON helper: non-finite floats become ``None``."""
    if isinstance(x, (float, np.floating)) and not math.isfinite(float(x)):
        return None
    return x


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


# Gauss-Legendre orders tried per piece (doubling), and the fixed order on gaps between nodes.


# --------------------------------------------------------------------------- Eyring-Kramers in weight space
class ZeroModeError(InputError):
    """The Hessian has zero modes (a continuous symmetry orbit): the isolated Eyring-Kramers
    formula does not apply. Raised instead of returning a wrong number."""


@dataclass(frozen=True)
class EyringKramersResult:
    """Eyring-Kramers escape time in weight space through isolated index-1 saddles.

    ``tau = (1/n_saddles) (2 pi / |mu_1|) sqrt(|det H_saddle| / det H_start) exp(barrier / T)``.

    Attributes
    ----------
    tau : float
        Mean escape time (SDE time units); ``inf`` on float64 overflow (see ``log_tau``).
    log_tau : float
    prefactor : float
        ``tau exp(-barrier / T)``.
    barrier : float
        ``energy(saddle) - energy(start)`` (loss units).
    temperature, barrier_over_t : T and barrier / T.
    n_saddles : int
        Number of equivalent saddles adjacent to the start point.
    mu_1 : float
        The saddle's negative Hessian eigenvalue.
    logdet_start, logdet_saddle : float
        ``log det H_start`` and ``log |det H_saddle|`` (from ``slogdet``).
    log_det_ratio : float
        ``logdet_saddle - logdet_start``.
    n_params : int
        Dimension D of weight space.
    start_modes, saddle_modes : tuple of str
    direction : str or None
        Set by :func:`eyring_kramers_chain`.
    """

    tau: float
    log_tau: float
    prefactor: float
    barrier: float
    temperature: float
    barrier_over_t: float
    n_saddles: int
    mu_1: float
    logdet_start: float
    logdet_saddle: float
    log_det_ratio: float
    n_params: int
    start_modes: tuple
    saddle_modes: tuple
    direction: str | None = None

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready; an overflowed tau becomes ``None``)."""
        d = {k: _finite_or_none(v) for k, v in asdict(self).items()}
        d["start_modes"], d["saddle_modes"] = list(self.start_modes), list(self.saddle_modes)
        return d


def _orbit_size(net, point) -> int:
    """Number of distinct images of ``point`` under the hidden-unit sign flips (width 1)."""
    images = np.array([q.theta for q in equivalent_saddles(net, point)])
    scale = max(1.0, float(np.max(np.abs(images))))
    distinct: list[np.ndarray] = []
    for th in images:
        if not any(np.max(np.abs(th - d)) <= 1e-12 * scale for d in distinct):
            distinct.append(th)
    return len(distinct)


def count_equivalent_saddles(net, start, saddle) -> int:
    """Number of symmetry-equivalent saddles adjacent to the minimum ``start`` (width-1 networks).

    The discrete symmetry group G (hidden-unit sign flips, ``|G| = 2^(L-1)``) maps saddles to
    saddles and minima to minima, and each saddle's unstable manifold descends on the start side
    to exactly one image of the start point (equivariance). Counting (minimum, saddle) pairs both
    ways gives ``n_sad = |orbit(saddle)| / |orbit(start)| = |Stab(start)| / |Stab(saddle)|``.

    For the scalar chain (w = p = 1): forward from 0 (fixed by all of G) to the saddle (trivial
    stabiliser): ``n_sad = 2^(L-1)``, the sign patterns with positive product. Reverse from a learned
    minimum with sign pattern s: ``n_sad = 1``, only the saddle of the same pattern (the others lie
    beyond other learned minima or across 0).

    Parameters
    ----------
    net : DeepLinearNetwork with ``width == 1``.
    start, saddle : StationaryPoint
    """
    n_sad, n_start = _orbit_size(net, saddle), _orbit_size(net, start)
    if n_sad % n_start:
        raise InputError(f"orbit sizes do not divide: saddle {n_sad}, start {n_start}")
    return n_sad // n_start


def _descends_to(net, saddle, start) -> bool:
    """True when one branch of the saddle's unstable manifold descends (gradient flow) to ``start``.

    Starts at ``saddle.theta +- 1e-4 |theta| e`` with e the unstable eigenvector, integrates
    ``dtheta/dt = -grad Loss`` (LSODA) until the gradient is below 1e-10 away from the saddle or
    ``t = 200 / min(mu_start, |mu_1|)`` (leaving the saddle takes ~ ln(1e4) / |mu_1|, which grows
    near the spinodal where the saddle flattens), and compares with ``start.theta``.
    """
    from scipy.integrate import solve_ivp

    e = saddle.eigenvectors[:, 0]
    scale = max(1.0, float(np.linalg.norm(saddle.theta)), float(np.linalg.norm(start.theta)))
    t_max = 200.0 / min(float(start.eigenvalues[0]), abs(float(saddle.eigenvalues[0])))

    def stop(t, x):
        if np.linalg.norm(x - saddle.theta) <= 2e-4 * scale:  # still at the saddle (flat near the spinodal)
            return 1.0
        return float(np.linalg.norm(net.grad(x))) - 1e-10

    stop.terminal = True
    for sign in (1.0, -1.0):
        x0 = saddle.theta + sign * 1e-4 * scale * e
        sol = solve_ivp(lambda t, x: -net.grad(x), (0.0, t_max), x0, method="LSODA", events=stop,
                        rtol=1e-9, atol=1e-12 * scale)
        if np.linalg.norm(sol.y[:, -1] - start.theta) <= 1e-4 * scale:
            return True
    return False


def eyring_kramers(net, start, saddle, temperature: float, n_saddles: int | None = None,
                   check_connection: bool = True) -> EyringKramersResult:
    """Eyring-Kramers mean escape time from the minimum ``start`` over the index-1 ``saddle``.

    Parameters
    ----------
    net : DeepLinearNetwork
    start, saddle : StationaryPoint or mode specification
        Stationary points from :func:`langevin_grok.landscape.stationary.stationary_point`, or the ``modes`` to
        build them with (e.g. ``["trivial"]`` and ``["saddle"]``).
    temperature : float
        T > 0.
    n_saddles : int, optional
        Number of equivalent saddles; default :func:`count_equivalent_saddles` (width 1 only).
    check_connection : bool
        Verify by gradient flow that the saddle's unstable manifold descends to ``start`` on one
        side (the saddle is adjacent to this minimum); InputError otherwise.

    Returns
    -------
    EyringKramersResult

    Raises
    ------
    ZeroModeError
        If either Hessian has zero modes (width > 1: hidden-layer rotations make the saddle a
        manifold; the prefactor then needs the orbit volume and a power of T, not done here).
    InputError
        If ``start`` is not a minimum, ``saddle`` is not index 1, or the saddle is not higher.

    Notes
    -----
    ``tau = (1/n_sad) (2 pi / |mu_1|) sqrt(|det H_sad| / det H_start) exp(dE / T)``, with the
    determinants as log-determinants (``numpy.linalg.slogdet``) so D-dimensional products neither
    overflow nor underflow. Leading order in T; the relative correction is O(T / dE).
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    T = check_positive("temperature", temperature)
    if not isinstance(start, StationaryPoint):
        start = stationary_point(net, start)
    if not isinstance(saddle, StationaryPoint):
        saddle = stationary_point(net, saddle)
    for name, pt in (("start", start), ("saddle", saddle)):
        if pt.n_zero:
            raise ZeroModeError(
                f"{name} point {pt.kind!r} has {pt.n_zero} Hessian zero modes (width = {net.width}: "
                f"hidden-layer rotation orbit of dimension {pt.orbit_dimension}); the isolated Eyring-Kramers "
                "formula does not apply")
    if start.index != 0:
        raise InputError(f"start must be a minimum (index 0), got index {start.index} at {start.kind!r}")
    if saddle.index != 1:
        raise InputError(f"saddle must have index 1, got index {saddle.index} at {saddle.kind!r}")
    barrier = saddle.energy - start.energy
    if not barrier > 0:
        raise InputError(f"saddle must lie above start, got barrier {barrier!r}")
    if check_connection and not _descends_to(net, saddle, start):
        raise InputError(f"saddle {saddle.kind!r} is not adjacent to start {start.kind!r}: neither branch of its "
                         "unstable manifold descends there")
    if n_saddles is None:
        if net.width != 1:
            raise InputError(f"n_saddles must be given for width = {net.width} (counted only for width 1)")
        n_saddles = count_equivalent_saddles(net, start, saddle)
    n_saddles = check_int("n_saddles", n_saddles, minimum=1)
    sign_m, logdet_m = np.linalg.slogdet(net.hessian(start.theta))
    sign_s, logdet_s = np.linalg.slogdet(net.hessian(saddle.theta))
    if sign_m <= 0 or sign_s >= 0:  # consistent with index 0 / 1 from the eigenvalues
        raise InputError(f"Hessian determinant signs ({sign_m:+g}, {sign_s:+g}) do not match a minimum "
                         "and an index-1 saddle")
    mu1 = float(saddle.eigenvalues[0])
    log_pref = (math.log(2 * math.pi / n_saddles) - math.log(abs(mu1)) + 0.5 * (logdet_s - logdet_m))
    log_tau = log_pref + barrier / T
    return EyringKramersResult(
        tau=_exp_or_inf(log_tau),
        log_tau=log_tau,
        prefactor=math.exp(log_pref),
        barrier=float(barrier),
        temperature=T,
        barrier_over_t=float(barrier) / T,
        n_saddles=n_saddles,
        mu_1=mu1,
        logdet_start=float(logdet_m),
        logdet_saddle=float(logdet_s),
        log_det_ratio=float(logdet_s - logdet_m),
        n_params=int(net.n_params),
        start_modes=tuple(start.modes),
        saddle_modes=tuple(saddle.modes),
    )


def eyring_kramers_chain(depth: int, sv: float, beta: float, temperature: float,
                         direction: str = "forward") -> EyringKramersResult:
    """:func:`eyring_kramers` for the scalar chain (w = p = 1) of depth L.

    Weights ``w_1 .. w_L``, loss ``1/2 (w_L...w_1 - eta)^2 + beta/2 sum w_l^2`` (+ const). Forward:
    from 0 over the ``2^(L-1)`` saddles (sign patterns with positive product). Reverse: from a
    learned minimum over its one adjacent saddle.

    Notes
    -----
    At every non-zero stationary point of the chain the Hessian has the arc curvature ``U''(r)`` along
    the balanced direction and ``2 beta`` on the L-1 transverse ones (use ``beta = eta a^(L-2) -
    a^(2L-2)``); at 0 it is ``beta I``. Hence::

        forward:  tau_EK = 2^(-(L-1)/2) 2 pi / sqrt(U''(0) |U''(r_sad)|) exp(dE/T)
                         = arc_routes 2^(-(L-1)/2) kramers_1d(forward)
        reverse:  tau_EK = kramers_1d(reverse)

    The 1-D model misses the 2^(L-1) saddles and the transverse stiffening from beta (at 0) to
    2 beta (at the saddle); ``arc_routes`` = 2 for even L, where the arc already has two saddles.
    """
    tgt = escape_target(depth, sv, beta, direction)  # validates: a barrier exists in this direction
    net = DeepLinearNetwork.from_singular_values(tgt.depth, 1, 1, [tgt.sv], tgt.beta)
    start = ["trivial"] if tgt.direction == "forward" else ["learned"]
    # all saddles are images of one under the sign flips (equal Hessian spectra): one Hessian, and
    # the count in closed form (count_equivalent_saddles would enumerate all 2^(L-1) images)
    n_sad = 2 ** (tgt.depth - 1) if tgt.direction == "forward" else 1
    res = eyring_kramers(net, start, ["saddle"], temperature, n_saddles=n_sad)
    return replace(res, direction=tgt.direction)
