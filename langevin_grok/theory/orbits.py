"""Escape over saddle manifolds: hidden-layer symmetry orbits of a deep linear network (width w >= 1).

For ``w > 1`` the trap and the saddle are orbits of the hidden-layer group ``O(w)^(L-1)``; their
Hessians have zero modes and the isolated Eyring-Kramers formula
(:func:`langevin_grok.theory.kramers.eyring_kramers`) does not apply. This module implements, in SDE time
units of ``dtheta = -grad Loss dt + sqrt(2T) dW`` (docs/theory.md, section "1. Hidden-layer symmetry"):

- :func:`log_orbit_volume` closed-form induced-metric volume of the orbit through an embedded point
  (checked in the tests against :func:`log_orbit_volume_gram`, the Gram determinant of
  :func:`langevin_grok.landscape.stationary.orbit_tangents` times the group-volume ratio);
- :func:`orbit_eyring_kramers_time` the Laplace formula with zero modes (any barrier, curvatures,
  volumes and orbit dimensions: also used for the radial toy of the tests);
- :func:`eyring_kramers_orbit` that formula for two embedded stationary states of a network, with
  validity diagnostics (:class:`OrbitEyringKramersResult`);
- :func:`langevin_grok.theory.orbits_entropic.entropic_mfpt` (its own module) the exact 1-D mean first-passage
  time on the free energy of the escaping mode's arc length (orbit Jacobian and transverse curvatures);
- :func:`crossover_temperature` the temperature below which the free-energy barrier exceeds k T;
- the one entry for ``langevin-grok kramers --width W`` is
  :func:`langevin_grok.theory.network_prediction.network_escape_prediction`.

Validity is a ``status`` in :data:`STATUSES` with a ``reason`` code from :data:`REASONS`; physical
outcomes are never exceptions. Bad input raises :class:`langevin_grok._core.checks.InputError`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy.optimize import brentq

from .._core.checks import InputError, check_depth, check_int, check_positive
from ..landscape.modes import mode_landscape
from ..landscape.network import DeepLinearNetwork
from ..landscape.stationary import StationaryPoint, _check_modes, orbit_tangents, stationary_point

__all__ = [
    "STATUSES",
    "REASONS",
    "log_sphere_area",
    "log_orbit_volume",
    "log_orbit_volume_gram",
    "orbit_eyring_kramers_time",
    "OrbitEyringKramersResult",
    "eyring_kramers_orbit",
    "CrossoverResult",
    "crossover_temperature",
]

STATUSES = ("valid", "marginal", "not_applicable")
REASONS = (
    "ok",                      # every diagnostic within its threshold
    "start_not_minimum",       # start state has a negative curvature
    "saddle_not_index_1",      # saddle state does not have exactly one negative curvature
    "no_barrier",              # saddle not above start, or the escaping mode has no saddle
    "zero_modes_mismatch",     # Hessian zero-mode count differs from the orbit dimension
    "low_barrier",             # barrier / T below BARRIER_MIN
    "low_free_energy_barrier", # free-energy barrier / T below FREE_ENERGY_MIN
    "thermal_width",           # thermal width not small against an orbit radius
    "thermal_cloud",           # RMS thermal displacement at the saddle not small against the escape distance
    "transverse_unstable",     # a transverse curvature along the path is <= 0 (entropic only)
    "quadrature",              # 1-D quadrature failed (entropic only)
)
# Thresholds of the diagnostics (dimensionless). Below them the prediction is "marginal".
BARRIER_MIN = 5.0          # dU / T
FREE_ENERGY_MIN = 3.0      # free-energy barrier / T (the default k of crossover_temperature)
THERMAL_RATIO_MIN = 3.0    # orbit radius sqrt2 a / thermal width sqrt(T / mu)
# escape distance / RMS thermal displacement sqrt(T sum 1/mu_+) at the saddle. Calibrated on the paper network's
# Langevin runs (docs/theory.md section 1): >= 1.97 where theory and simulation agree within 1.3 (w = 2, 3),
# <= 1.55 where they disagree 3.7-12x (w = 10, dU/T <= 30); the threshold lies in that bracket.
CLOUD_RATIO_MIN = 1.8


def _finite_or_none(x):
    if isinstance(x, (float, np.floating)) and not math.isfinite(float(x)):
        return None
    return x


def _dict(obj) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else _finite_or_none(v)) for k, v in asdict(obj).items()}


def _exp(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


# --------------------------------------------------------------------------- orbit volumes
def log_sphere_area(n: int) -> float:
    """``ln |S^(n-1)|`` with ``|S^(n-1)| = 2 pi^(n/2) / Gamma(n/2)`` (area of the unit sphere in R^n; n >= 1)."""
    n = check_int("n", n, minimum=1)
    return math.log(2.0) + 0.5 * n * math.log(math.pi) - math.lgamma(0.5 * n)


def _log_orbit_volume(L: int, w: int, a: np.ndarray):
    """Closed form of :func:`log_orbit_volume`; ``a`` of shape (k,) or (n, k) (vectorised over rows)."""
    a = np.asarray(a, dtype=float)
    k = a.shape[-1]
    out = (L - 1) * sum(log_sphere_area(i) for i in range(w - k + 1, w + 1))
    out = out + (L - 1) * (w - k) * np.sum(np.log(math.sqrt(2.0) * a), axis=-1)
    for i in range(k):
        for j in range(i + 1, k):
            s = sum(a[..., i] ** (2 * m) * a[..., j] ** (2 * (L - 1 - m)) for m in range(L))
            out = out + 0.5 * ((L - 1) * math.log(2.0) + np.log(s))
    return float(out) if np.ndim(out) == 0 else out


def log_orbit_volume(depth: int, width: int, amplitudes) -> float:
    """``ln Vol`` of the hidden-layer orbit through an embedded point with the given active amplitudes.

    Parameters
    ----------
    depth, width : int
        L >= 2 and w >= 1.
    amplitudes : sequence of float, shape (k,)
        Per-layer amplitudes ``a_i > 0`` of the k <= w active (non-trivial) modes; empty for theta = 0.

    Returns
    -------
    float
        ``ln Vol``, Vol in the metric induced by weight space (a count for w = 1: ``2^(L-1)`` images for
        one active mode; 1 for theta = 0).

    Notes
    -----
    docs/theory.md, section "1. Hidden-layer symmetry" (corrected)::

        Vol = [prod_{i=w-k+1..w} |S^(i-1)|]^(L-1) * prod_{i<=k} (sqrt2 a_i)^((L-1)(w-k))
              * prod_{i<j<=k} [2^(L-1) sum_{m=0..L-1} a_i^(2m) a_j^(2(L-1-m))]^(1/2)

    The first factor is ``(Vol O(w) / Vol O(w-k))^(L-1)`` in the metric where each generator
    ``E_ij - E_ji`` has unit length. Rotations mixing an active unit with an unused one move two layers
    at speed ``a_i`` each. Rotations inside the active k-plane couple neighbouring hidden layers (both
    act on the layer between them): for each pair (i, j) their Gram matrix is tridiagonal,
    ``2 (a_i^2 + a_j^2)`` on and ``-2 a_i a_j`` off the diagonal, with determinant
    ``2^(L-1) (a_i^(2L) - a_j^(2L)) / (a_i^2 - a_j^2)``. (The notes this page grew from had the diagonal
    product ``[2 (a_i^2 + a_j^2)]^((L-1)/2)``, which misses the coupling.)
    """
    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    a = np.asarray(amplitudes, dtype=float).ravel()
    if a.size > w:
        raise InputError(f"amplitudes must hold at most width = {w} values, got {a.size}")
    if a.size and not (np.all(np.isfinite(a)) and np.all(a > 0)):
        raise InputError(f"amplitudes must be finite and > 0, got {a!r}")
    return _log_orbit_volume(L, w, a)


def log_orbit_volume_gram(net: DeepLinearNetwork, point: StationaryPoint, rtol: float = 1e-9) -> tuple[float, int]:
    """Independent route to :func:`log_orbit_volume`: group-volume ratio times the Gram determinant.

    ``ln Vol = (L-1) ln(Vol O(w) / Vol O(w-k)) + 1/2 ln pdet(T^T T)`` with ``T`` the orbit tangents of
    one unit-norm generator each (:func:`langevin_grok.landscape.stationary.orbit_tangents`) and pdet the product of
    the eigenvalues above ``rtol`` times the largest. Returns ``(ln Vol, rank)``; the rank is the orbit
    dimension. ``Vol O(n) = prod_{i=1..n} |S^(i-1)|`` (unit-length generators; |S^0| = 2).
    """
    k = int(np.count_nonzero(np.asarray(point.amplitudes)))
    L, w = net.depth, net.width
    log_group = (L - 1) * sum(log_sphere_area(i) for i in range(w - k + 1, w + 1))
    T = orbit_tangents(net, point.theta)
    if T.shape[1] == 0:
        return log_group, 0
    ev = np.linalg.eigvalsh(T.T @ T)
    nz = ev[ev > rtol * max(ev.max(), 0.0)] if ev.max() > 0 else ev[:0]
    return log_group + 0.5 * float(np.sum(np.log(nz))), int(nz.size)


# --------------------------------------------------------------------------- the Laplace formula
def orbit_eyring_kramers_time(barrier: float, mu: float, logdet_start: float, logdet_saddle: float,
                              log_volume_start: float, log_volume_saddle: float, dim_start: int,
                              dim_saddle: int, temperature: float) -> float:
    """``ln tau`` of the Eyring-Kramers law with symmetry orbits (no checks, no diagnostics).

    ``tau = (2 pi / |mu|) sqrt(|det' H_s| / det' H_m) Vol_m / Vol_s (2 pi T)^((d_s - d_m)/2) exp(dU / T)``

    Parameters
    ----------
    barrier : dU > 0.  mu : the saddle's negative eigenvalue.
    logdet_start, logdet_saddle : ``ln det' H_m`` and ``ln |det' H_s|`` (non-zero eigenvalues only).
    log_volume_start, log_volume_saddle : ``ln Vol`` of the two orbits (0 for an isolated point).
    dim_start, dim_saddle : orbit dimensions d_m, d_s.  temperature : T > 0.

    Notes
    -----
    docs/theory.md, section "1. Hidden-layer symmetry": Laplace asymptotics of
    ``E tau = int_well e^(-U/T) / flux``; the well integral is ``Vol_m (2 pi T)^((D-d_m)/2) / sqrt(det' H_m)``,
    the flux over the saddle orbit ``(|mu| / 2 pi) Vol_s (2 pi T)^((D-d_s)/2) / sqrt|det' H_s|`` (both
    times their Boltzmann factors). Relative correction O(T / dU).
    """
    T = temperature
    return (math.log(2.0 * math.pi / abs(mu)) + 0.5 * (logdet_saddle - logdet_start)
            + log_volume_start - log_volume_saddle + 0.5 * (dim_saddle - dim_start) * math.log(2.0 * math.pi * T)
            + barrier / T)


def _free_energy_barrier(barrier, logdet_m, logdet_s, logvol_m, logvol_s, d_m, d_s, T) -> float:
    """``dU - T ln[Vol_s/Vol_m (2 pi T)^(-(d_s-d_m)/2) sqrt(det'H_m / |det'H_s|)]``."""
    return barrier - T * (logvol_s - logvol_m - 0.5 * (d_s - d_m) * math.log(2.0 * math.pi * T)
                          + 0.5 * (logdet_m - logdet_s))


# --------------------------------------------------------------------------- network: stationary states
def _point(net: DeepLinearNetwork, spec) -> StationaryPoint:
    """A StationaryPoint (canonical frames) from modes, or the point itself."""
    if isinstance(spec, StationaryPoint):
        return spec
    return stationary_point(net, spec)


def _thermal_ratio(point: StationaryPoint, T: float) -> float:
    """min over active modes of ``sqrt2 a_i / sqrt(T / mu_min)``, mu_min the smallest positive non-zero curvature."""
    a = np.asarray(point.amplitudes)
    a = a[a > 0]
    pos = point.nonzero_eigenvalues[point.nonzero_eigenvalues > 0]
    if a.size == 0 or pos.size == 0:
        return math.inf
    return float(math.sqrt(2.0) * a.min() / math.sqrt(T / pos.min()))


@dataclass(frozen=True)
class OrbitEyringKramersResult:
    """Eyring-Kramers escape time over a saddle orbit, with its validity diagnostics.

    Attributes
    ----------
    tau, log_tau : float
        Mean escape time (SDE time; ``inf`` on overflow) and its log; NaN when ``status`` is
        ``"not_applicable"``.
    prefactor : float
        ``tau exp(-barrier / T)`` (contains ``T^((d_s-d_m)/2)``).
    barrier, temperature, barrier_over_t : dU (loss units), T, dU / T.
    mu_1 : float
        Negative Hessian eigenvalue of the saddle.
    logdet_start, logdet_saddle : float
        ``ln det' H_m`` and ``ln |det' H_s|`` (products of the non-zero eigenvalues).
    zero_modes_start, zero_modes_saddle : int
        Hessian eigenvalues with ``|mu| <= 1e-8 max|mu|``.
    orbit_dim_start, orbit_dim_saddle : int
        Orbit dimensions d_m, d_s (:func:`langevin_grok.landscape.network.orbit_dimension`).
    log_orbit_volume_start, log_orbit_volume_saddle : float
        ``ln Vol`` of the two orbits (:func:`log_orbit_volume`).
    log_orbit_volume_ratio : float
        ``ln(Vol_s / Vol_m)``; for w = 1 this is ``ln n_sad`` (``(L-1) ln 2`` forward from 0).
    free_energy_barrier : float
        ``dU - T ln[Vol_s/Vol_m (2 pi T)^(-(d_s-d_m)/2) sqrt(det'H_m / |det'H_s|)]`` (loss units).
    free_energy_barrier_over_t : float
    thermal_width_ratio : float
        min over the active modes of both points of ``sqrt2 a_i / sqrt(T / mu_min)``.
    thermal_cloud_ratio : float
        ``sqrt(L) |a_s - a_m|`` (escape distance) over ``sqrt(T sum 1/mu_+)`` (RMS thermal displacement at the
        saddle, positive curvatures); below 1.8 the thermal cloud is as large as the escape and the
        Laplace / 1-D pictures fail (measured 3.7-12x at w = 10).
    status, reason : str
        :data:`STATUSES` and :data:`REASONS`.
    start_modes, saddle_modes : tuple of str
    """

    tau: float
    log_tau: float
    prefactor: float
    barrier: float
    temperature: float
    barrier_over_t: float
    mu_1: float
    logdet_start: float
    logdet_saddle: float
    zero_modes_start: int
    zero_modes_saddle: int
    orbit_dim_start: int
    orbit_dim_saddle: int
    log_orbit_volume_start: float
    log_orbit_volume_saddle: float
    log_orbit_volume_ratio: float
    free_energy_barrier: float
    free_energy_barrier_over_t: float
    thermal_width_ratio: float
    thermal_cloud_ratio: float
    status: str
    reason: str
    start_modes: tuple
    saddle_modes: tuple

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready; non-finite numbers become ``None``)."""
        return _dict(self)


def _orbit_status(start, saddle, barrier) -> str:
    if start.index != 0:
        return "start_not_minimum"
    if saddle.index != 1:
        return "saddle_not_index_1"
    if not barrier > 0:
        return "no_barrier"
    if start.n_zero != start.orbit_dimension or saddle.n_zero != saddle.orbit_dimension:
        return "zero_modes_mismatch"
    return "ok"


def _cloud_ratio(start: StationaryPoint, saddle: StationaryPoint, L: int, T: float) -> float:
    """``sqrt(L) |a_s - a_m| / sqrt(T sum 1/mu_+)``: escape distance over the saddle's RMS thermal displacement."""
    pos = saddle.nonzero_eigenvalues[saddle.nonzero_eigenvalues > 0]
    dist = math.sqrt(L) * float(np.linalg.norm(np.asarray(saddle.amplitudes) - np.asarray(start.amplitudes)))
    return dist / math.sqrt(T * float(np.sum(1.0 / pos))) if pos.size else math.inf


def _validity(barrier_over_t: float, fe_over_t: float, thermal: float, cloud: float) -> tuple[str, str]:
    if barrier_over_t < BARRIER_MIN:
        return "marginal", "low_barrier"
    if cloud < CLOUD_RATIO_MIN:
        return "marginal", "thermal_cloud"
    if fe_over_t < FREE_ENERGY_MIN:
        return "marginal", "low_free_energy_barrier"
    if thermal < THERMAL_RATIO_MIN:
        return "marginal", "thermal_width"
    return "valid", "ok"


def _eyring_kramers_orbit(net, start, saddle, T) -> OrbitEyringKramersResult:
    barrier = float(saddle.energy - start.energy)
    nan = math.nan
    d_m, d_s = start.orbit_dimension, saddle.orbit_dimension
    lv_m = _log_orbit_volume(net.depth, net.width, start.amplitudes[start.amplitudes > 0])
    lv_s = _log_orbit_volume(net.depth, net.width, saddle.amplitudes[saddle.amplitudes > 0])
    reason = _orbit_status(start, saddle, barrier)
    common = dict(barrier=barrier, temperature=T, barrier_over_t=barrier / T,
                  zero_modes_start=start.n_zero, zero_modes_saddle=saddle.n_zero, orbit_dim_start=d_m,
                  orbit_dim_saddle=d_s, log_orbit_volume_start=lv_m, log_orbit_volume_saddle=lv_s,
                  log_orbit_volume_ratio=lv_s - lv_m, start_modes=tuple(start.modes),
                  saddle_modes=tuple(saddle.modes))
    if reason != "ok":
        return OrbitEyringKramersResult(
            tau=nan, log_tau=nan, prefactor=nan, mu_1=nan if saddle.index == 0 else float(saddle.eigenvalues[0]),
            logdet_start=nan, logdet_saddle=nan, free_energy_barrier=nan, free_energy_barrier_over_t=nan,
            thermal_width_ratio=nan, thermal_cloud_ratio=nan, status="not_applicable", reason=reason, **common)
    mu = float(saddle.eigenvalues[0])
    ld_m, ld_s = start.log_abs_det_nonzero, saddle.log_abs_det_nonzero
    log_tau = orbit_eyring_kramers_time(barrier, mu, ld_m, ld_s, lv_m, lv_s, d_m, d_s, T)
    fe = _free_energy_barrier(barrier, ld_m, ld_s, lv_m, lv_s, d_m, d_s, T)
    thermal = min(_thermal_ratio(start, T), _thermal_ratio(saddle, T))
    cloud = _cloud_ratio(start, saddle, net.depth, T)
    status, why = _validity(barrier / T, fe / T, thermal, cloud)
    return OrbitEyringKramersResult(
        tau=_exp(log_tau), log_tau=log_tau, prefactor=math.exp(log_tau - barrier / T), mu_1=mu,
        logdet_start=ld_m, logdet_saddle=ld_s, free_energy_barrier=fe, free_energy_barrier_over_t=fe / T,
        thermal_width_ratio=thermal, thermal_cloud_ratio=cloud, status=status, reason=why, **common)


def eyring_kramers_orbit(net: DeepLinearNetwork, start, saddle, temperature: float) -> OrbitEyringKramersResult:
    """Eyring-Kramers mean escape time from the orbit of ``start`` over the orbit of ``saddle``.

    Parameters
    ----------
    net : DeepLinearNetwork
        Any (L, w, p, Sigma's, beta) that :func:`langevin_grok.landscape.stationary.stationary_point` supports.
    start, saddle : sequence of str, or StationaryPoint
        Mode states (``"trivial" | "saddle" | "learned"`` per singular value), e.g.
        ``("learned", "trivial")`` and ``("learned", "saddle")``.
    temperature : float
        T > 0.

    Returns
    -------
    OrbitEyringKramersResult
        ``status = "not_applicable"`` (tau NaN) when start is not a minimum, the saddle not index 1,
        the saddle not higher, or a zero-mode count differs from the orbit dimension; ``"marginal"``
        when dU/T < 5, the free-energy barrier is below 3 T, or an orbit radius sqrt2 a is below 3 thermal
        widths sqrt(T / mu_min).

    Notes
    -----
    docs/theory.md, section "1. Hidden-layer symmetry". Discrete images are inside the orbit volume:
    for w = 1 the orbit of a point with an active mode is its 2^(L-1) sign-flip images (``Vol`` is that
    count), so this reduces to :func:`langevin_grok.theory.kramers.eyring_kramers_chain`; for w >= 2 the sign
    flips of a hidden unit lie in O(w) and are not counted again. Leading order in T (relative
    correction O(T / dU)); see :func:`langevin_grok.theory.orbits_entropic.entropic_mfpt` for moderate barriers.
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    T = check_positive("temperature", temperature)
    return _eyring_kramers_orbit(net, _point(net, start), _point(net, saddle), T)


# --------------------------------------------------------------------------- the escaping mode
def _escaping_mode(start_modes: tuple) -> int | None:
    return next((i for i, m in enumerate(start_modes) if m == "trivial"), None)


def _start_log_volume(start: StationaryPoint, depth: int, width: int) -> float:
    """``ln Vol`` of the orbit of ``start`` (:func:`log_orbit_volume` of its active amplitudes)."""
    a = np.asarray(start.amplitudes)
    return _log_orbit_volume(depth, width, a[a > 0])


def _saddle_modes(start_modes: tuple, e: int) -> tuple:
    return tuple("saddle" if i == e else m for i, m in enumerate(start_modes))


def _resolve_escape(net: DeepLinearNetwork, start) -> tuple[StationaryPoint, StationaryPoint | None, int | None, str]:
    """Start point, saddle point (or None), escaping mode (or None) and a reason code."""
    if isinstance(start, StationaryPoint):
        start_pt = start
        modes = tuple(start.modes)
    else:
        modes = _check_modes(start, net.dim)
        if "saddle" in modes:
            raise InputError(f"start must hold only trivial/learned modes, got {list(modes)}")
        start_pt = None
    e = _escaping_mode(modes)
    if e is None:
        return _point(net, modes) if start_pt is None else start_pt, None, None, "no_barrier"
    eta = np.linalg.svd(net.sigma_yx, compute_uv=False)
    if net.depth < 3 or eta[e] <= 0 or mode_landscape(net.depth, float(eta[e]), net.beta).phase != "bistable":
        return _point(net, modes) if start_pt is None else start_pt, None, e, "no_barrier"
    if start_pt is None:
        start_pt = _point(net, modes)
    return start_pt, stationary_point(net, _saddle_modes(modes, e)), e, "ok"


# --------------------------------------------------------------------------- crossover temperature
@dataclass(frozen=True)
class CrossoverResult:
    """Temperature below which the free-energy barrier exceeds k T (the trap is metastable).

    Attributes
    ----------
    temperature : float
        T_x with ``free_energy_barrier(T_x) = k T_x``; NaN when none exists (see status).
    k : float
        The multiple of T required.
    barrier : float
        dU (loss units).
    status : str
        ``"valid"`` (a root, or ``inf`` when the free-energy barrier exceeds k T at every T) or
        ``"not_applicable"`` (no barrier / zero-mode mismatch; reason from :func:`eyring_kramers_orbit`).
    reason : str
    """

    temperature: float
    k: float
    barrier: float
    status: str
    reason: str

    def to_dict(self) -> dict:
        return _dict(self)


def crossover_temperature(net: DeepLinearNetwork, start, saddle, k: float = FREE_ENERGY_MIN) -> CrossoverResult:
    """Root of ``free_energy_barrier(T) = k T`` (docs/theory.md, section "1. Hidden-layer symmetry").

    With ``g(T) = F(T)/T - k = dU/T - ln[Vol_s/Vol_m sqrt(det'H_m/|det'H_s|)] + (d_s-d_m)/2 ln(2 pi T) - k``,
    g decreases on ``0 < T < T_top = 2 dU / (d_s - d_m)`` (all T when d_s = d_m) and tends to +inf as
    T -> 0; the root is bracketed on (0, T_top] and found by brentq in ln T. Below it the trap is metastable
    in the sense ``F > k T``. If ``g(T_top) > 0`` (d_s > d_m) g is positive at every T and the result is
    ``inf`` (status valid); likewise if d_s = d_m and g stays positive up to ``T = e^40 dU``.
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    k = check_positive("k", k)
    ref = _eyring_kramers_orbit(net, _point(net, start), _point(net, saddle), 1.0)
    if ref.status == "not_applicable":
        return CrossoverResult(math.nan, k, ref.barrier, "not_applicable", ref.reason)
    dU, dd = ref.barrier, ref.orbit_dim_saddle - ref.orbit_dim_start
    args = (ref.logdet_start, ref.logdet_saddle, ref.log_orbit_volume_start, ref.log_orbit_volume_saddle,
            ref.orbit_dim_start, ref.orbit_dim_saddle)

    def g(log_t):
        T = math.exp(log_t)
        return _free_energy_barrier(dU, *args, T) / T - k

    hi = math.log(2.0 * dU / dd) if dd > 0 else math.log(dU) + 40.0
    if g(hi) > 0:  # F_b > k T at every temperature
        return CrossoverResult(math.inf, k, dU, "valid", "ok")
    lo = hi - 1.0
    while g(lo) <= 0:
        lo -= 1.0
    return CrossoverResult(math.exp(brentq(g, lo, hi, xtol=1e-14, rtol=1e-13)), k, dU, "valid", "ok")


# --------------------------------------------------------------------------- one entry
