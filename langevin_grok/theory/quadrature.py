"""Exact mean first-passage times of 1-D diffusions by quadrature: the package's ground truth.

:func:`mfpt_1d` for any 1-D potential ``U(t, x, p)`` with a reflecting far end; :func:`exact_mfpt_1d` on the arc
potential of one mode with the package's escape event. In SDE time units of ``dX = -U'(X) dt + sqrt(2T) dW``
(``docs/theory.md``, section "Escape times"); cross-checked in ``tests/test_mfpt_crosscheck.py`` against an
independent backward-ODE route over L = 3..6, beta down to 1e-6, both directions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

import mpmath
import numpy as np

from .._core.checks import InputError, check_finite, check_int, check_positive
from ..landscape.escape import escape_target
from ..landscape.modes import arc_potential

__all__ = ["MFPTResult", "mfpt_1d", "exact_mfpt_1d"]


def _finite_or_none(x):
    """JSON helper: non-finite floats become ``None``."""
    if isinstance(x, (float, np.floating)) and not math.isfinite(float(x)):
        return None
    return x


def _exp_or_inf(x: float) -> float:
    return math.exp(x) if x < 709.0 else math.inf


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

_GL_ORDERS = (12, 24, 48, 96, 192, 384)

_GAP_ORDER = 10

_STEEP = 60.0  # split a piece before quadrature when U/T changes by more than this over it

_EPS = float(np.finfo(float).eps)
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


class _Potential:
    """U on the mirrored axis (``U(s y)``), counting evaluations."""

    def __init__(self, potential, s: float, p: np.ndarray):
        self.potential, self.s, self.p, self.n_evals = potential, s, p, 0

    def __call__(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        self.n_evals += y.size
        return np.asarray(self.potential(0.0, self.s * y, self.p), dtype=float)


def _domain(V, X0: float, B: float, A: float, T: float, tail: float):
    """The reflecting end (an infinite one truncated where the well's weight is below exp(-tail)) and U on a
    4001-point grid of [A, B]."""
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
                return A, grid, vg
            h *= 2.0
        raise InputError("potential does not confine the process on the reflecting side of x0")
    grid = np.linspace(A, B, 4001)
    return A, grid, V(grid)


def _check_resolution(vg, T: float, s: float, A: float, B: float) -> None:
    """U is evaluated in float64: its absolute resolution eps |U| must stay far below T."""
    resolution = np.finfo(float).eps * float(np.max(np.abs(vg))) / T
    if resolution > 1e-6:
        raise InputError(
            f"temperature {T!r} is too small for the potential's float64 resolution: eps |U| / T = "
            f"{resolution:.1e} > 1e-6 on [{min(s * A, s * B):.6g}, {max(s * A, s * B):.6g}]")


def _knots(grid, vg, T: float, A: float, X0: float, B: float, breakpoints) -> np.ndarray:
    """Ends, x0, breakpoints, local extrema of U on the grid, and cuts every 40 of U/T; x0 and the ends exact."""
    knots = {A, X0, B}
    knots.update(y for y in breakpoints if A < y < B)
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
    return np.union1d(extra, fixed)


def _needed_pieces(V, knots, X0: float, T: float, tail: float, s: float, A: float, B: float):
    """Pieces whose contributions matter (log-bounds), and the refusal of an unresolvable steep descent."""
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
    return lo_k, hi_k, need_out, need_in, cut


class _Quadrature:
    """Gauss-Legendre order doubling with bisection on one piece (see :func:`mfpt_1d`, Notes)."""

    def __init__(self, V, T: float, rtol: float):
        self.V, self.T, self.rtol = V, T, rtol
        self.xg, self.wg = _gl(_GAP_ORDER)
        self.capped = 0  # pieces left unconverged at the bisection depth cap

    def piece(self, lo, hi, F, outer, depth=0):
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
        v3 = self.V(np.array([lo, 0.5 * (lo + hi), hi])) / self.T
        orders = () if (np.ptp(v3) > _STEEP and depth < 24) else _GL_ORDERS
        for n in orders:
            xn, wn = _gl(n)
            y = lo + width * xn
            if outer:
                # gaps lo=y_0 < y_1 < ... < y_n < hi; inner integral over each with a 10-point rule
                edges = np.concatenate(([lo], y, [hi]))
                gl = np.diff(edges)
                z = edges[:-1, None] + gl[:, None] * self.xg[None, :]
                vz = self.V(z.ravel()).reshape(z.shape)
                vy = self.V(y)
                cin = vz.min()
                gaps = (np.exp(-(vz - cin) / self.T) @ self.wg) * gl  # shape (n+1,), times exp(-cin/T)
                G = np.cumsum(gaps)
                cout = vy.max()
                ft = wn * width * np.exp((vy - cout) / self.T)
                e_in, e_out = mpmath.exp(-cin / self.T), mpmath.exp(cout / self.T)
                inc = e_in * mpmath.mpf(float(G[-1]))
                s1 = e_out * mpmath.mpf(float(ft.sum()))  # d(outer piece) / dF
                out = F * s1 + e_out * e_in * mpmath.mpf(float(ft @ G[:-1]))
            else:
                vy = self.V(y)
                cin = vy.min()
                inc = mpmath.exp(-cin / self.T) * mpmath.mpf(float(wn @ np.exp(-(vy - cin) / self.T) * width))
                out = mpmath.mpf(0)
            # U in float64 has an absolute error ~eps |U|, i.e. a relative error ~eps |U| / T in the
            # integrand: no order can do better than that
            tol = max(self.rtol, 64.0 * _EPS * float(np.max(np.abs(vy))) / self.T)
            if prev is not None:
                d_inc, d_out = abs(inc - prev[0]), abs(out - prev[1])
                if d_inc <= tol * inc and d_out <= tol * out:
                    converged = True
                    break
            prev = (inc, out)
        if converged or depth >= 24:
            # the float64 rounding of U enters every node as a relative error ~ eps |U| / T, which no
            # order change can show: count it in the error estimate
            floor = 4.0 * _EPS * float(np.max(np.abs(vy))) / self.T
            self.capped += not converged
            return inc, out, d_inc + floor * inc, d_out + floor * out, s1, 1
        mid = 0.5 * (lo + hi)
        a = self.piece(lo, mid, F, outer, depth + 1)
        b = self.piece(mid, hi, F + a[0], outer, depth + 1)
        # the left increment's error also enters the right outer part through F
        return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3] + a[2] * b[4], a[4] + b[4], a[5] + b[5])


def _accumulate(q: _Quadrature, lo_k, hi_k, need_out, need_in):
    """The double integral over the needed pieces in mpmath (total, its error estimate, pieces used)."""
    n_used = 0
    F = mpmath.mpf(0)  # inner integral from A to the current knot
    F_err = mpmath.mpf(0)  # its estimated absolute error
    total = mpmath.mpf(0)
    err = mpmath.mpf(0)
    for k, (lo, hi) in enumerate(zip(lo_k, hi_k)):
        if not (need_out[k] or need_in[k]):
            continue
        inc, out, d_inc, d_out, s1, m = q.piece(lo, hi, F, bool(need_out[k]))
        n_used += m
        # error estimate: change between the last two orders, plus the inner integral's error
        # carried into this outer piece
        err += d_out + F_err * s1
        F_err += d_inc
        total += out
        F += inc
    if total <= 0:
        raise InputError("mean first-passage time integral vanished: check the potential and the end points")
    return total, err, n_used


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
    V = _Potential(potential, s, np.asarray(params, dtype=float))
    X0, B = s * x0, s * b
    A, grid, vg = _domain(V, X0, B, s * reflect, T, tail)
    _check_resolution(vg, T, s, A, B)
    knots = _knots(grid, vg, T, A, X0, B, [s * float(bp) for bp in breakpoints])
    lo_k, hi_k, need_out, need_in, cut = _needed_pieces(V, knots, X0, T, tail, s, A, B)
    q = _Quadrature(V, T, rtol)
    with mpmath.workdps(dps):
        total, err, n_used = _accumulate(q, lo_k, hi_k, need_out, need_in)
        log_tau = float(mpmath.log(total) - mpmath.log(T))
        # plus what was dropped: every skipped (inner, outer) pair is below exp(cut), and the truncated
        # reflecting tail is below exp(-tail) of the well integral
        err += need_out.size * (need_out.size + 1) // 2 * mpmath.exp(cut)
        if not math.isfinite(reflect):
            err += mpmath.exp(-tail) * total
        rel_error = float(err / total)
    if q.capped:
        status, reason = "marginal", "bisection_depth_cap"
    elif not rel_error <= _TRUSTED_REL_ERROR:
        status, reason = "marginal", "quadrature_error_large"
    else:
        status, reason = "valid", "converged"
    return MFPTResult(tau=_exp_or_inf(log_tau), log_tau=log_tau, temperature=T, x0=x0, target=b, reflect=reflect,
                      reflect_used=s * A, rel_error=rel_error, n_pieces=int(n_used), n_evals=int(V.n_evals),
                      status=status, reason=reason)


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
