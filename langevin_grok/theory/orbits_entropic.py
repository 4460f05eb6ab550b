"""Entropic 1-D reduction of the escape over a saddle orbit (beyond the Laplace limit of :mod:`langevin_grok.theory.orbits`).

:func:`entropic_mfpt`: the exact 1-D mean first-passage time (:func:`langevin_grok.theory.quadrature.mfpt_1d`) on the free
energy of the escaping mode's arc length, ``F(r) = U(r) - T ln Vol(r) + (T/2) sum ln mu_perp(r)``, with the
closed-form orbit volume of the path point and the Hessian's curvatures on the slice orthogonal to its orbit and
to the path (docs/theory.md, section "1. Hidden-layer symmetry", derivation there). SDE time units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from .._core.checks import InputError, check_int, check_positive
from ..landscape.escape import escape_target
from .quadrature import mfpt_1d
from ..landscape.modes import arc_curvature, u
from ..landscape.network import DeepLinearNetwork
from ..landscape.stationary import StationaryPoint, orbit_tangents
from .orbits import (
    CLOUD_RATIO_MIN,
    FREE_ENERGY_MIN,
    _cloud_ratio,
    _dict,
    _exp,
    _log_orbit_volume,
    _resolve_escape,
    _start_log_volume,
    log_sphere_area,
)

__all__ = ["EntropicResult", "entropic_mfpt"]


# --------------------------------------------------------------------------- path geometry
def _path_mask(net: DeepLinearNetwork, saddle: StationaryPoint, e: int) -> np.ndarray:
    """Flat 0/1 mask of mode ``e``'s rank-1 piece in every layer of the canonical embedding.

    With canonical frames (unit j for the j-th active mode) mode e lives in row j of W_1, entry (j, j)
    of the middle layers and column j of W_L; the other modes do not touch that hidden unit.
    """
    active = [i for i, m in enumerate(saddle.modes) if m != "trivial"]
    j = active.index(e)
    L = net.depth
    parts = []
    for l, (r, c) in enumerate(net.shapes):
        rows = np.zeros(r) if l < L - 1 else np.ones(r)
        cols = np.zeros(c) if l > 0 else np.ones(c)
        if l < L - 1:
            rows[j] = 1.0
        if l > 0:
            cols[j] = 1.0
        parts.append(np.outer(rows, cols).ravel())
    return np.concatenate(parts)


def _transverse_log_curvature(net, theta, tangent, d_s) -> tuple[float, float]:
    """``(sum ln mu_perp, min mu_perp)`` of the Hessian on the slice orthogonal to the orbit and the path.

    The orbit's tangent space is the span of the top ``d_s`` left singular vectors of the orbit tangents
    (its dimension is known; at small amplitudes of the escaping mode its tangents are small but not zero).
    """
    Tg = orbit_tangents(net, theta)
    basis = np.linalg.svd(Tg, full_matrices=False)[0][:, :d_s] if d_s else np.zeros((theta.size, 0))
    t = tangent - basis @ (basis.T @ tangent)
    Q = np.column_stack([basis, t / np.linalg.norm(t)])
    q = np.linalg.qr(Q, mode="complete")[0]
    N = q[:, d_s + 1:]
    mu = np.linalg.eigvalsh(N.T @ net.hessian(theta) @ N)
    if mu.size == 0:
        return 0.0, math.inf
    if mu.min() <= 0:
        return math.nan, float(mu.min())
    return float(np.sum(np.log(mu))), float(mu.min())


@dataclass(frozen=True)
class EntropicResult:
    """Exact 1-D mean first-passage time on the free energy of the escaping mode's arc length.

    Attributes
    ----------
    tau, log_tau : float
        Mean escape time (SDE time) to the package's mode event; NaN when not applicable.
    log_well_correction : float
        ``ln c``: the 1-D well population is rescaled by c so that its T -> 0 limit is the weight-space
        Laplace integral (see :func:`entropic_mfpt`, Notes).
    free_energy_barrier : float
        ``max F - min F`` between the entropic well and the target (loss units; 0 when F has no
        interior maximum: no metastability).
    barrier, temperature, barrier_over_t : dU, T, dU / T.
    r_saddle, r_target : arc lengths of the saddle and of the event.
    r_free_energy_min, r_free_energy_max : where F is lowest in (0, r_saddle] and highest beyond it.
    min_transverse_curvature : smallest Hessian eigenvalue on the transverse slice along the path.
    thermal_cloud_ratio : as in :class:`OrbitEyringKramersResult` (marginal below 1.8, reason thermal_cloud).
    rel_error : quadrature error estimate of :func:`langevin_grok.theory.quadrature.mfpt_1d`.
    n_grid : points at which the transverse curvatures were sampled.
    escaping_mode : index of the escaping mode.
    status, reason : :data:`STATUSES`, :data:`REASONS`.
    start_modes : tuple of str
    """

    tau: float
    log_tau: float
    log_well_correction: float
    free_energy_barrier: float
    barrier: float
    temperature: float
    barrier_over_t: float
    r_saddle: float
    r_target: float
    r_free_energy_min: float
    r_free_energy_max: float
    min_transverse_curvature: float
    thermal_cloud_ratio: float
    rel_error: float
    n_grid: int
    escaping_mode: int
    status: str
    reason: str
    start_modes: tuple

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready; non-finite numbers become ``None``)."""
        return _dict(self)


@dataclass(frozen=True, eq=False)
class _Path:
    """Free energy ingredients along the escaping mode (everything but T)."""

    depth: int
    width: int
    sv: float
    beta: float
    amps: np.ndarray        # saddle amplitudes (active modes, in order)
    j: int                  # position of the escaping mode among them
    d_m: int
    d_s: int
    spline: CubicSpline     # S(r) = sum ln mu_perp(r)
    r_lo: float
    s_lo: float
    min_mu: float
    log_c: float            # ln c without T (T-independent)

    def log_volume(self, r):
        a = np.repeat(self.amps[None, :], np.size(r), axis=0)
        a[:, self.j] = np.abs(np.ravel(r)) / math.sqrt(self.depth)
        return _log_orbit_volume(self.depth, self.width, a)

    def transverse(self, r):
        r = np.ravel(np.asarray(r, dtype=float))
        return np.where(r > self.r_lo, self.spline(np.maximum(r, self.r_lo)), self.s_lo)

    def free_energy(self, t, r, p):
        """``F(r) = U(r) - T ln Vol(r) + (T/2) S(r)``, ``p = (T,)`` (package convention)."""
        T = p[0]
        r = np.ravel(np.asarray(r, dtype=float))
        U = u(r / math.sqrt(self.depth), self.depth, self.sv, self.beta)
        return U - T * self.log_volume(r) + 0.5 * T * self.transverse(r)


def _build_path(net, start, saddle, e, n_grid, r_hi) -> _Path:
    L = net.depth
    a_s = float(saddle.amplitudes[e])
    mask = _path_mask(net, saddle, e)
    th_s = np.asarray(saddle.theta)
    tangent = mask * th_s / a_s
    d_s = saddle.orbit_dimension
    # Chebyshev points on (0, r_hi] (dense near the reflecting end and near the target)
    x = np.cos(np.pi * (np.arange(n_grid) + 0.5) / n_grid)[::-1]
    # plus one node at ~0+ (the limit S(0+) enters the well correction; S is linear in r near 0)
    rs = np.concatenate(([1e-6 * r_hi], 0.5 * r_hi * (1.0 + x)))
    n_grid = rs.size
    S, mins = np.empty(n_grid), np.empty(n_grid)
    for i, r in enumerate(rs):
        theta = th_s + (r / math.sqrt(L) / a_s - 1.0) * mask * th_s
        S[i], mins[i] = _transverse_log_curvature(net, theta, tangent, d_s)
    spline = CubicSpline(rs, S) if np.all(np.isfinite(S)) else None
    active = np.flatnonzero(np.asarray(saddle.amplitudes) > 0)
    amps = np.asarray(saddle.amplitudes)[active]
    j = int(np.flatnonzero(active == e)[0])
    d_m = start.orbit_dimension
    eta = float(np.linalg.svd(net.sigma_yx, compute_uv=False)[e])
    path = _Path(L, net.width, eta, net.beta, amps, j, d_m, d_s, spline, float(rs[0]),
                 float(S[0]), float(mins.min()), math.nan)
    if spline is None:
        return path
    # ln c = ln Z_weight-space - ln Z_1D at leading order (T-independent), see entropic_mfpt Notes
    dd = d_s - d_m
    r_small = 1e-6 * rs[0]
    log_c0 = float(path.log_volume(np.array([r_small]))[0]) - dd * math.log(r_small)
    kappa = float(arc_curvature(0.0, 0.0, (float(L), eta, net.beta)))
    log_c = (_start_log_volume(start, L, net.width) + log_sphere_area(dd + 1) - log_c0
             + 0.5 * (S[0] + (dd + 1) * math.log(kappa) - start.log_abs_det_nonzero))
    object.__setattr__(path, "log_c", log_c)
    return path


def _free_energy_extrema(path: _Path, T: float, r_eps: float, r_sad: float, r_target: float):
    r = np.linspace(r_eps, r_target, 4001)
    F = path.free_energy(0.0, r, (T,))
    well = r <= r_sad
    i_min = int(np.argmin(np.where(well, F, np.inf)))
    i_max = i_min + int(np.argmax(F[i_min:]))
    return float(F[i_max] - F[i_min]), float(r[i_min]), float(r[i_max])


def _entropic(net, start, saddle, e, T, n_grid) -> EntropicResult:
    if not np.allclose(net.sigma_xx, np.eye(net.dim), rtol=0, atol=1e-12):
        raise InputError("entropic_mfpt needs sigma_xx = I (the per-mode path potential assumes it)")
    eta = float(np.linalg.svd(net.sigma_yx, compute_uv=False)[e])
    tgt = escape_target(net.depth, eta, net.beta, "forward")
    path = _build_path(net, start, saddle, e, n_grid, 1.02 * tgt.r_target)
    nan = math.nan
    common = dict(barrier=tgt.barrier, temperature=T, barrier_over_t=tgt.barrier / T, r_saddle=tgt.r_saddle,
                  r_target=tgt.r_target, min_transverse_curvature=path.min_mu,
                  thermal_cloud_ratio=_cloud_ratio(start, saddle, net.depth, T), n_grid=n_grid, escaping_mode=e,
                  start_modes=tuple(start.modes))
    if path.spline is None:
        return EntropicResult(tau=nan, log_tau=nan, log_well_correction=nan, free_energy_barrier=nan,
                              r_free_energy_min=nan, r_free_energy_max=nan, rel_error=nan,
                              status="not_applicable", reason="transverse_unstable", **common)
    r_eps = 1e-7 * tgt.r_saddle
    fe, r_fmin, r_fmax = _free_energy_extrema(path, T, r_eps, tgt.r_saddle, tgt.r_target)
    try:
        res = mfpt_1d(path.free_energy, r_eps, tgt.r_target, T, (T,), reflect=r_eps,
                      breakpoints=(r_fmin, r_fmax, tgt.r_saddle))
    except InputError:
        return EntropicResult(tau=nan, log_tau=nan, log_well_correction=path.log_c, free_energy_barrier=fe,
                              r_free_energy_min=r_fmin, r_free_energy_max=r_fmax, rel_error=nan,
                              status="not_applicable", reason="quadrature", **common)
    log_tau = res.log_tau + path.log_c
    if common["thermal_cloud_ratio"] < CLOUD_RATIO_MIN:
        status, reason = "marginal", "thermal_cloud"
    elif fe / T < FREE_ENERGY_MIN:
        status, reason = "marginal", "low_free_energy_barrier"
    else:
        status, reason = "valid", "ok"
    return EntropicResult(tau=_exp(log_tau), log_tau=log_tau, log_well_correction=path.log_c,
                          free_energy_barrier=fe, r_free_energy_min=r_fmin, r_free_energy_max=r_fmax,
                          rel_error=res.rel_error, status=status, reason=reason, **common)


def entropic_mfpt(net: DeepLinearNetwork, start, temperature: float, n_grid: int = 40) -> EntropicResult:
    """Exact 1-D MFPT on the free energy of the escaping mode's arc length (beyond the Laplace limit).

    Parameters
    ----------
    net : DeepLinearNetwork
        With ``Sigma_xx = I``.
    start : sequence of str or StationaryPoint
        Start state (``"trivial"`` / ``"learned"`` per mode); the escaping mode is its first trivial
        mode, which climbs to its saddle while the others stay where they are.
    temperature : float
        T > 0.
    n_grid : int
        Chebyshev points at which the transverse curvatures are computed (spline in between).

    Returns
    -------
    EntropicResult
        ``not_applicable`` with reason ``no_barrier`` (no trivial mode, or it has no saddle),
        ``transverse_unstable`` or ``quadrature``; ``marginal`` when the free-energy barrier is below 3 T.

    Notes
    -----
    docs/theory.md, section "1. Hidden-layer symmetry" (derivation there). Coordinate: the arc length
    ``r = sqrt(L) a`` of the escaping mode's per-layer amplitude a (unit gradient norm on the path, so
    the noise along it has temperature T); the event ``lambda >= lambda_target`` of
    :func:`langevin_grok.landscape.escape.escape_target` is ``r >= r_target``. Free energy::

        F(r) = U(r) - T ln Vol(r) + (T/2) sum ln mu_perp(r),   Vol(r) ~ r^(d_s - d_m) as r -> 0

    with Vol(r) the closed-form orbit volume (:func:`log_orbit_volume`) of the path point and mu_perp the
    Hessian eigenvalues on the slice orthogonal to its orbit and to the path. MFPT by
    :func:`langevin_grok.theory.quadrature.mfpt_1d`, reflecting at r = 1e-7 r_saddle (~0+), then multiplied by the
    constant c that replaces the 1-D well population at leading order by the weight-space one:
    ``c = Vol_m |S^(d_s-d_m)| / c_0 sqrt(prod mu_perp(0+) kappa^(d_s-d_m+1) / det' H_m)``, with
    ``c_0 = lim Vol(r) / r^(d_s-d_m)`` and kappa = U''(0). As T -> 0 the result tends to
    :func:`eyring_kramers_orbit` (tested).
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    T = check_positive("temperature", temperature)
    n_grid = check_int("n_grid", n_grid, minimum=8)
    start_pt, saddle, e, reason = _resolve_escape(net, start)
    if reason != "ok":
        nan = math.nan
        return EntropicResult(tau=nan, log_tau=nan, log_well_correction=nan, free_energy_barrier=nan,
                              barrier=nan, temperature=T, barrier_over_t=nan, r_saddle=nan, r_target=nan,
                              r_free_energy_min=nan, r_free_energy_max=nan, min_transverse_curvature=nan,
                              thermal_cloud_ratio=nan,
                              rel_error=nan, n_grid=n_grid, escaping_mode=-1 if e is None else e,
                              status="not_applicable", reason=reason, start_modes=tuple(start_pt.modes))
    return _entropic(net, start_pt, saddle, e, T, n_grid)
