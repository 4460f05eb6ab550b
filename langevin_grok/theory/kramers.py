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

import mpmath
import numpy as np

from .._core.checks import (
    InputError,
    check_finite,
    check_int,
    check_positive,
)
from ..landscape.escape import escape_target
from ..landscape.modes import arc_potential
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


# --------------------------------------------------------------------------- exact 1-D MFPT
@dataclass(frozen=True)
class MFPTResult:
    """Exact mean first-passage time of a 1-D overdamped Langevin process.

    Attributes
    ----------
    tau : float
        Mean first-passage time (SDE time units); ``inf`` if it exceeds float64 (see ``log_tau``).
    log_tau : float
        Natural log of tau.
    temperature : float
        T.
    x0, target, reflect : float
        Start, absorbing point, reflecting end as given (``reflect`` may be +-inf).
    reflect_used : float
        The finite reflecting end actually integrated from (equal to ``reflect`` when finite).
    rel_error : float
        Estimated relative error: the change between the last two Gauss-Legendre orders of every
        piece (with the inner integral's error carried into the later outer pieces), plus the float64
        rounding floor ``4 eps |U| / T`` of each piece, plus bounds on the skipped pieces and on the
        truncated reflecting tail (``exp(-tail)``), relative to the total.
    n_pieces, n_evals : int
        Number of integration pieces evaluated (after skipping negligible ones and bisecting steep
        ones) and of potential evaluations.
    direction, barrier, barrier_over_t : only set by :func:`exact_mfpt_1d` (else ``None``).
    status : {"valid", "marginal"}
        ``"marginal"`` when ``rel_error`` exceeds 1e-6 or a piece stayed unconverged at the
        bisection depth cap: the number is then not a ground truth.
    reason : {"converged", "quadrature_error_large", "bisection_depth_cap"}
    """

    tau: float
    log_tau: float
    temperature: float
    x0: float
    target: float
    reflect: float
    reflect_used: float
    rel_error: float
    n_pieces: int
    n_evals: int
    direction: str | None = None
    barrier: float | None = None
    barrier_over_t: float | None = None
    status: str = "valid"
    reason: str = "converged"

    def to_dict(self) -> dict:
        """Plain ``dict`` (JSON-ready; non-finite values become ``None``)."""
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


# Gauss-Legendre orders tried per piece (doubling), and the fixed order on gaps between nodes.
_GL_ORDERS = (12, 24, 48, 96, 192, 384)
_GAP_ORDER = 10
_STEEP = 60.0  # split a piece before quadrature when U/T changes by more than this over it
_GL_CACHE: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _gl(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (cached)."""
    if n not in _GL_CACHE:
        x, w = np.polynomial.legendre.leggauss(n)
        _GL_CACHE[n] = (0.5 * (x + 1.0), 0.5 * w)
    return _GL_CACHE[n]


_RTOL_RANGE = (1e-13, 1e-3)  # below: float64 round-off of a piece's sum; above: not a ground truth
_TAIL_RANGE = (10.0, 600.0)  # truncation exp(-tail) of the reflecting end; the bounds skip exp(-(tail + 30))
_TRUSTED_REL_ERROR = 1e-6  # above this estimated relative error the status is "marginal"
_MAX_STEEP_PIECES = 20000  # cost cap of resolving a steep descent on the scale T / |U'| (about 10 s)


def _check_quadrature_options(tail, rtol, dps) -> tuple[float, float, int]:
    """Validate ``tail``, ``rtol`` and ``dps`` of :func:`mfpt_1d` (InputError naming the argument)."""
    tail, rtol = check_finite("tail", tail), check_finite("rtol", rtol)
    if not _TAIL_RANGE[0] <= tail <= _TAIL_RANGE[1]:
        raise InputError(f"tail must lie in [{_TAIL_RANGE[0]:g}, {_TAIL_RANGE[1]:g}] (units of T), got {tail!r}")
    if not _RTOL_RANGE[0] <= rtol <= _RTOL_RANGE[1]:
        raise InputError(f"rtol must lie in [{_RTOL_RANGE[0]:g}, {_RTOL_RANGE[1]:g}], got {rtol!r}")
    dps = check_int("dps", dps, minimum=20)
    return tail, rtol, dps


def mfpt_1d(potential, x0: float, target: float, temperature: float, params=(), *,
            reflect: float | None = None, breakpoints=(), tail: float = 60.0, rtol: float = 1e-11,
            dps: int = 30) -> MFPTResult:
    """Exact mean first-passage time from ``x0`` to ``target`` with a reflecting far end.

    For the process ``dX = -U'(X) dt + sqrt(2T) dW`` absorbed at ``b = target`` and reflected at
    ``a = reflect`` on the other side of ``x0``::

        b > x0 > a:  tau(x0) = (1/T) int_{x0}^{b} dy exp(U(y)/T) int_{a}^{y} dz exp(-U(z)/T)
        b < x0 < a:  tau(x0) = (1/T) int_{b}^{x0} dy exp(U(y)/T) int_{y}^{a} dz exp(-U(z)/T)

    (the second is the first after the mirror ``x -> -x``, which is how it is computed).

    Parameters
    ----------
    potential : callable
        ``U(t, x, p)`` in the package convention, vectorised over a float64 array ``x`` of shape (n,)
        (e.g. :func:`langevin_grok.landscape.modes.arc_potential`). Any 1-D potential works; for a
        user-defined model (:func:`langevin_grok.langevin.custom.custom_model`, dim 1) pass
        ``model.potential_1d`` and ``params=model.params``.
    x0, target : float
        Start and absorbing point, ``x0 != target``.
    temperature : float
        T > 0.
    params : array_like
        ``p`` passed to ``potential``.
    reflect : float, optional
        Reflecting end on the far side of ``x0`` (may equal ``x0``); default: infinity on that side.
        An infinite end is replaced by the nearest point R (found by doubling) beyond which
        ``exp(-(U - U_min)/T) < exp(-tail)`` and U keeps rising: the dropped tail is below
        ``exp(-tail) T / |U'(R)|``, i.e. ~1e-26 of the well integral for the default ``tail = 60``.
    breakpoints : sequence of float
        Extra points to split the integration at (stationary points; optional, since the local
        extrema of U on a 4001-point grid are added anyway).
    tail : float
        Truncation depth in units of T, see ``reflect``.
    rtol : float
        Relative tolerance of each piece's Gauss-Legendre order doubling.
    dps : int
        Decimal digits of the mpmath accumulation.

    Returns
    -------
    MFPTResult

    Notes
    -----
    The range ``[a, b]`` is cut into pieces on each of which ``U/T`` changes by at most 40 (and at
    ``x0``, the breakpoints and the grid's local extrema of U); pieces whose contributions are
    bounded (from U at 14 points of each piece) below ``exp(-(tail + 30))`` of the largest bound
    are skipped, and a piece over which ``U/T`` still changes by more than 60 (steeper than the
    4001-point grid resolves) is bisected before any quadrature: where the target lies far down a steep slope (``(U_saddle - U_target) / T`` of
    1e5 and more, tiny barriers) the deterministic descent must be resolved on the scale
    ``T / |U'|`` and the cost grows like ``(U_saddle - U_target) / (60 T)`` pieces (an InputError
    naming the temperature above 2e4 pieces, ~10 s, e.g. forward escapes at beta <~ 0.01 for L = 3).
    ``x0`` and both ends are kept exactly as knots (the outer integral starts at the knot ``x0``). On a piece,
    the outer integral uses Gauss-Legendre of order n (doubled until converged); the inner
    integral ``F(y)`` at the outer nodes is accumulated over the gaps between consecutive nodes
    with a 10-point rule, so the double integral costs O(n) evaluations rather than O(n^2). Each
    piece is evaluated in float64 relative to its own largest exponent and the pieces are combined
    in mpmath ``mpf``, whose exponent range is unbounded: nothing overflows or underflows at any
    dE/T (tested to 800).
    U itself is evaluated in float64, so the integrand carries a relative error ~ eps |U| / T
    (5e-14 at |U| = 0.03, T = 6e-5); the order doubling stops at that floor when it exceeds ``rtol``
    (only for T below ~1e-5 |U|, e.g. near the spinodal where barriers are tiny); where it would
    exceed 1e-6 (T < ~2e-10 |U|) an InputError is raised instead of returning noise.
    """
    T = check_positive("temperature", temperature)
    x0 = check_finite("x0", x0)
    tail, rtol, dps = _check_quadrature_options(tail, rtol, dps)
    b = check_finite("target", target)
    if b == x0:
        raise InputError(f"target must differ from x0 ({x0!r}), got {target!r}")
    s = 1.0 if b > x0 else -1.0  # mirror so that the absorbing point is above
    if reflect is None:
        reflect = -s * math.inf
    reflect = float(reflect)
    if math.isnan(reflect) or s * reflect > s * x0:
        raise InputError(f"reflect must lie on the far side of x0 = {x0!r} from target = {b!r}, got {reflect!r}")
    p = np.asarray(params, dtype=float)
    n_evals = 0

    def V(y):
        nonlocal n_evals
        y = np.asarray(y, dtype=float)
        n_evals += y.size
        return np.asarray(potential(0.0, s * y, p), dtype=float)

    X0, B, A = s * x0, s * b, s * reflect
    if not math.isfinite(A):
        h = max(B - X0, 1e-3)
        for _ in range(80):
            A = X0 - h
            grid = np.linspace(A, B, 4001)
            vg = V(grid)
            if not np.all(np.isfinite(vg)):
                raise InputError("potential is not finite on the reflecting side of x0")
            # far enough: the integrand exp(-(U - U_min)/T) is below exp(-tail) and U rises outward,
            # with U_min the lowest U between the end and x0 (the well the path starts in)
            if (vg[0] - vg[grid <= X0].min()) / T >= tail and vg[0] > vg[1]:
                break
            h *= 2.0
        else:
            raise InputError("potential does not confine the process on the reflecting side of x0")
    else:
        grid = np.linspace(A, B, 4001)
        vg = V(grid)
    # U is evaluated in float64: its absolute resolution eps |U| must stay far below T
    resolution = np.finfo(float).eps * float(np.max(np.abs(vg))) / T
    if resolution > 1e-6:
        raise InputError(
            f"temperature {T!r} is too small for the potential's float64 resolution: eps |U| / T = "
            f"{resolution:.1e} > 1e-6 on [{min(s * A, s * B):.6g}, {max(s * A, s * B):.6g}]")
    # knots: ends, x0, breakpoints, local extrema of U on the grid
    knots = {A, X0, B}
    for bp in breakpoints:
        y = s * float(bp)
        if A < y < B:
            knots.add(y)
    d = np.diff(vg)
    ext = np.nonzero(d[:-1] * d[1:] < 0)[0] + 1
    knots.update(grid[ext].tolist())
    # cuts where U/T has changed by 40 since the last cut (bounded dynamic range per piece)
    phi = vg / T
    acc = 0.0
    for i in range(1, grid.size):
        acc += abs(phi[i] - phi[i - 1])
        if acc >= 40.0:
            knots.add(float(grid[i]))
            acc = 0.0
    # merge near-duplicate knots, keeping A, X0 and B exactly: a grid point or breakpoint an ulp below
    # X0 must not replace it, since the outer integral starts at the knot equal to X0 (lo >= X0 below)
    merge = 1e-15 * max(1.0, abs(B - A))
    fixed = np.array([A, X0, B])
    extra = np.array(sorted(k for k in knots if A < k < B and np.min(np.abs(k - fixed)) > merge))
    if extra.size:
        extra = extra[np.concatenate(([True], np.diff(extra) > merge))]
    knots = np.union1d(extra, fixed)

    # Cheap log-bounds of every piece's contributions (U at the ends and 12 interior points), to skip
    # pieces whose every (inner piece i <= outer piece j) pair is below exp(-(tail + 30)) of the
    # largest pair: each bound overestimates its pair by at most the piece-width factors, far less
    # than the margin, so what is skipped is < 1e-30 of the total. Within one piece (i = j) only
    # z <= y counts, so its bound is max_{z <= y} U(y) - U(z) (0 where U falls), not max U - min U.
    lo_k, hi_k = knots[:-1], knots[1:]
    wk = hi_k - lo_k
    x12, _ = _gl(12)
    pts = lo_k[:, None] + wk[:, None] * np.concatenate(([0.0], x12, [1.0]))[None, :]
    vp = V(pts.ravel()).reshape(pts.shape) / T
    logw = np.log(wk)
    is_out = lo_k >= X0
    inner_b = -vp.min(axis=1) + logw
    outer_b = np.where(is_out, vp.max(axis=1) + logw, -np.inf)
    diag = np.where(is_out, np.max(vp - np.minimum.accumulate(vp, axis=1), axis=1) + 2 * logw, -np.inf)
    before = np.concatenate(([-np.inf], np.maximum.accumulate(inner_b)[:-1]))  # max over i < j
    after = np.concatenate((np.maximum.accumulate(outer_b[::-1])[::-1][1:], [-np.inf]))  # max over j > i
    pair = np.maximum(outer_b + before, diag)
    cut = pair.max() - (tail + 30.0)
    need_out = pair > cut
    need_in = np.maximum(inner_b + after, diag) > cut
    # a needed piece over which U/T changes by more than _STEEP is bisected down to the scale T / |U'|
    # (a steep deterministic descent, e.g. from a tiny barrier's saddle down to the target): refuse
    # rather than run for hours when that would take more than _MAX_STEEP_PIECES pieces
    n_steep = float(np.sum(np.ptp(vp, axis=1)[need_out | need_in] / _STEEP))
    if n_steep > _MAX_STEEP_PIECES:
        raise InputError(
            f"temperature {T!r} is too small for this quadrature: U/T changes by {np.ptp(vp):.3g} on "
            f"[{min(s * A, s * B):.6g}, {max(s * A, s * B):.6g}], about {n_steep:.2g} pieces of the scale "
            f"T / |U'| would be needed (cap {_MAX_STEEP_PIECES})")

    xg, wg = _gl(_GAP_ORDER)

    eps = np.finfo(float).eps

    def piece(lo, hi, F, outer, depth=0):
        """Inner increment, outer contribution and their error estimates on [lo, hi] given F(lo).

        Gauss-Legendre order doubling until the change is below ``rtol`` or below the noise floor
        of the float64 potential, ~eps |U| / T; if U/T changes by more than 60 over the piece, or the
        highest order has not converged, bisect (at most 24 levels deep)."""
        width = hi - lo
        prev = None
        d_inc = d_out = mpmath.mpf(0)
        s1 = mpmath.mpf(0)
        converged = False
        # a piece over which U/T changes by more than 60 is split before any quadrature (cheaper
        # than failing at every order): happens where one grid step is much wider than T / |U'|
        v3 = V(np.array([lo, 0.5 * (lo + hi), hi])) / T
        orders = () if (np.ptp(v3) > _STEEP and depth < 24) else _GL_ORDERS
        for n in orders:
            xn, wn = _gl(n)
            y = lo + width * xn
            if outer:
                # gaps lo=y_0 < y_1 < ... < y_n < hi; inner integral over each with a 10-point rule
                edges = np.concatenate(([lo], y, [hi]))
                gl = np.diff(edges)
                z = edges[:-1, None] + gl[:, None] * xg[None, :]
                vz = V(z.ravel()).reshape(z.shape)
                vy = V(y)
                cin = vz.min()
                gaps = (np.exp(-(vz - cin) / T) @ wg) * gl  # shape (n+1,), times exp(-cin/T)
                G = np.cumsum(gaps)
                cout = vy.max()
                ft = wn * width * np.exp((vy - cout) / T)
                e_in, e_out = mpmath.exp(-cin / T), mpmath.exp(cout / T)
                inc = e_in * mpmath.mpf(float(G[-1]))
                s1 = e_out * mpmath.mpf(float(ft.sum()))  # d(outer piece) / dF
                out = F * s1 + e_out * e_in * mpmath.mpf(float(ft @ G[:-1]))
            else:
                vy = V(y)
                cin = vy.min()
                inc = mpmath.exp(-cin / T) * mpmath.mpf(float(wn @ np.exp(-(vy - cin) / T) * width))
                out = mpmath.mpf(0)
            # U in float64 has an absolute error ~eps |U|, i.e. a relative error ~eps |U| / T in the
            # integrand: no order can do better than that
            tol = max(rtol, 64.0 * eps * float(np.max(np.abs(vy))) / T)
            if prev is not None:
                d_inc, d_out = abs(inc - prev[0]), abs(out - prev[1])
                if d_inc <= tol * inc and d_out <= tol * out:
                    converged = True
                    break
            prev = (inc, out)
        if converged or depth >= 24:
            # the float64 rounding of U enters every node as a relative error ~ eps |U| / T, which no
            # order change can show: count it in the error estimate
            floor = 4.0 * eps * float(np.max(np.abs(vy))) / T
            capped[0] += not converged
            return inc, out, d_inc + floor * inc, d_out + floor * out, s1, 1
        mid = 0.5 * (lo + hi)
        a = piece(lo, mid, F, outer, depth + 1)
        b = piece(mid, hi, F + a[0], outer, depth + 1)
        # the left increment's error also enters the right outer part through F
        return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3] + a[2] * b[4], a[4] + b[4], a[5] + b[5])

    n_used = 0
    capped = [0]  # pieces left unconverged at the bisection depth cap
    with mpmath.workdps(dps):
        F = mpmath.mpf(0)  # inner integral from A to the current knot
        F_err = mpmath.mpf(0)  # its estimated absolute error
        total = mpmath.mpf(0)
        err = mpmath.mpf(0)
        for k, (lo, hi) in enumerate(zip(lo_k, hi_k)):
            if not (need_out[k] or need_in[k]):
                continue
            inc, out, d_inc, d_out, s1, m = piece(lo, hi, F, bool(need_out[k]))
            n_used += m
            # error estimate: change between the last two orders, plus the inner integral's error
            # carried into this outer piece
            err += d_out + F_err * s1
            F_err += d_inc
            total += out
            F += inc
        if total <= 0:
            raise InputError("mean first-passage time integral vanished: check the potential and the end points")
        log_tau = float(mpmath.log(total) - mpmath.log(T))
        # plus what was dropped: every skipped (inner, outer) pair is below exp(cut), and the truncated
        # reflecting tail is below exp(-tail) of the well integral
        err += need_out.size * (need_out.size + 1) // 2 * mpmath.exp(cut)
        if not math.isfinite(reflect):
            err += mpmath.exp(-tail) * total
        rel_error = float(err / total)
    if capped[0]:
        status, reason = "marginal", "bisection_depth_cap"
    elif not rel_error <= _TRUSTED_REL_ERROR:
        status, reason = "marginal", "quadrature_error_large"
    else:
        status, reason = "valid", "converged"
    return MFPTResult(
        tau=_exp_or_inf(log_tau),
        log_tau=log_tau,
        temperature=T,
        x0=x0,
        target=b,
        reflect=reflect,
        reflect_used=s * A,
        rel_error=rel_error,
        n_pieces=int(n_used),
        n_evals=int(n_evals),
        status=status,
        reason=reason,
    )


def exact_mfpt_1d(depth: int, sv: float, beta: float, temperature: float,
                  direction: str = "forward", **options) -> MFPTResult:
    """Exact mean escape time along the arc for the default event (:func:`escape_target`).

    Forward: start at r = 0, absorbed at ``r_target`` (between the saddle and the learned minimum).
    For odd L the far side is ``r -> -infinity`` (U rises there); for even L, U is even in r and the
    event is ``|r| >= r_target``, equivalent by symmetry to a reflecting end at r = 0.
    Reverse: start at ``r_min``, absorbed at ``r_target`` below the saddle, reflecting at
    ``r -> +infinity``.

    Parameters
    ----------
    depth, sv, beta, direction : see :func:`escape_target`.
    temperature : float
        T > 0.
    **options
        Passed to :func:`mfpt_1d` (``tail``, ``rtol``, ``dps``).

    Returns
    -------
    MFPTResult
        With ``direction``, ``barrier`` and ``barrier_over_t`` set.

    Examples
    --------
    >>> r = exact_mfpt_1d(3, 0.8, 0.3, 0.001)
    >>> round(r.log_tau, 6)
    26.109052
    """
    T = check_positive("temperature", temperature)
    tgt = escape_target(depth, sv, beta, direction)
    p = (float(tgt.depth), tgt.sv, tgt.beta)
    if tgt.direction == "forward":
        reflect = 0.0 if tgt.depth % 2 == 0 else -math.inf
    else:
        reflect = math.inf
    res = mfpt_1d(arc_potential, tgt.r_start, tgt.r_target, T, p, reflect=reflect,
                  breakpoints=(0.0, tgt.r_saddle, tgt.r_min), **options)
    return replace(res, direction=tgt.direction, barrier=tgt.barrier, barrier_over_t=tgt.barrier / T)


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
        Stationary points from :func:`langevin_grok.landscape.network.stationary_point`, or the ``modes`` to
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
