"""Exact mean first-passage time of a low-dimensional Ito diffusion with anisotropic, state-dependent noise.

``dX = b(X) dt + sqrt(2 D(X)) dW`` in d = 1, 2 or 3 dimensions on a box, absorbed on a set of grid nodes (the
escape event), reflected at the box's faces. The mean first-passage time tau solves the backward equation

    sum_i b_i d_i tau + sum_ij D_ij d_i d_j tau = -1,    tau = 0 on the absorbing set,

which needs no Boltzmann law: it holds for non-reversible diffusions (drift not D times a gradient), where
neither the 1-D MFPT nor isotropic Eyring-Kramers applies. docs/theory.md, section "With replacement"
("The escape plane and the noisy subspace").

Discretisation: central differences on a uniform grid (second differences along each axis, the 4-point
stencil for each mixed derivative), faces by mirror images (zero normal derivative; immaterial where the
faces lie many T above the well, which the caller must arrange: tau must not move when the box grows), one
sparse LU solve (SuperLU). The absorbing set is a staircase of nodes, so the error is first order in the
spacing near it; :func:`mfpt_grid` solves on two grids (spacing h and about h/2) and reports the relative
change as the error estimate. The grid Peclet number ``|b_i| h_i / (2 D_ii)`` where tau varies is reported: above 1
central differences lose monotonicity, which the two-grid comparison then shows as an error.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import numpy as np

from .._core.checks import InputError, check_finite, check_int, check_positive
from .._core.errors import Validity
from .._core.jsonable import jsonable

__all__ = ["GridMFPTResult", "mfpt_grid", "solve_backward"]


@dataclass(frozen=True)
class GridMFPTResult:
    """Mean first-passage time of a diffusion on a grid (:func:`mfpt_grid`).

    Attributes
    ----------
    tau : MFPT from the start (SDE time), on the finer grid. tau_coarse : the same on the coarser grid.
    rel_error : ``|tau - tau_coarse| / tau``.
    shape : nodes of the finer grid per axis. peclet : largest grid Peclet number ``|b_i| h_i / (2 D_ii)`` on it
        where tau varies (nodes off the absorbing set with tau below 99 % of its largest value).
    min_eig_d : smallest eigenvalue of D over the grid, relative to the largest trace (D must be positive
        definite).
    status / reason : ``valid``/``ok``; ``marginal`` with ``not_converged`` (rel_error above rtol);
        ``not_applicable`` with ``singular_noise`` (D not positive definite at some node) or
        ``start_absorbed`` (the node nearest the start is absorbing).
    negative_couplings : on the finer grid, the fraction of free nodes whose row of the discretised generator
        has a negative off-diagonal entry (0: an M-matrix, a Markov chain on the grid; :func:`solve_backward`).
    """
    tau: float
    tau_coarse: float
    rel_error: float
    shape: tuple
    peclet: float
    min_eig_d: float
    status: Validity
    reason: str
    negative_couplings: float = math.nan

    def to_dict(self) -> dict:
        return jsonable(asdict(self))


def solve_backward(axes, b, D, absorbing, direct_max: int = 60000, scheme: str = "central",
                   return_info: bool = False):
    """tau on the grid spanned by ``axes`` (d uniform 1-D arrays) (module docstring).

    ``b``: ``(d, *shape)`` drift; ``D``: ``(d, d, *shape)`` symmetric diffusion matrix; ``absorbing``: bool
    ``(*shape)``. ``scheme``: ``"central"`` (second order, not monotone where the grid Peclet number exceeds 1)
    or ``"monotone"`` (exponentially fitted differences along each axis and the positive-weight mixed stencil;
    module docstring).
    Returns the array of mean first-passage times (0 on ``absorbing``); with ``return_info`` also the fraction
    of free nodes where an off-diagonal coupling is negative (0 for a monotone discretisation). Up to
    ``direct_max`` nodes by sparse LU, above by ILU-preconditioned GMRES (relative residual <= 1e-8 checked,
    else the direct solve).
    """
    import scipy.sparse as sp
    from scipy.sparse.linalg import spsolve

    if scheme not in ("central", "monotone"):
        raise InputError(f"scheme must be 'central' or 'monotone', got {scheme!r}")
    shape = tuple(a.size for a in axes)
    d, n = len(shape), math.prod(shape)
    h = [float(a[1] - a[0]) for a in axes]
    grid = np.indices(shape).reshape(d, -1)

    def neighbour(offset):  # flat index of the node at grid + offset, mirrored at the faces
        idx = []
        for k in range(d):
            i = grid[k] + offset[k]
            m = shape[k] - 1
            idx.append(np.where(i < 0, -i, np.where(i > m, 2 * m - i, i)))
        return np.ravel_multi_index(idx, shape)

    entries = {}

    def add(offset, w):
        c = neighbour(offset)
        entries.setdefault(offset, [c, np.zeros(n)])[1][:] += np.broadcast_to(w, (n,))

    bf, Df = b.reshape(d, n), D.reshape(d, d, n)
    zero = (0,) * d
    diag = np.zeros(n)
    for k in range(d):
        e = tuple(1 if j == k else 0 for j in range(d))
        me = tuple(-v for v in e)
        if scheme == "central":
            up = Df[k, k] / h[k] ** 2 + bf[k] / (2 * h[k])
            down = Df[k, k] / h[k] ** 2 - bf[k] / (2 * h[k])
        else:  # Il'in-Allen-Southwell: D (Pe/2) coth(Pe/2) with central drift, Pe = b h / D
            pe = bf[k] * h[k] / Df[k, k]
            up = Df[k, k] / h[k] ** 2 * _bernoulli(-pe)
            down = Df[k, k] / h[k] ** 2 * _bernoulli(pe)
        add(e, up)
        add(me, down)
        diag -= up + down
    for k, m in itertools.combinations(range(d), 2):
        if scheme == "central":
            c = 2 * Df[k, m] / (4 * h[k] * h[m])
            for sk, sm in itertools.product((1, -1), repeat=2):
                off = tuple(sk if j == k else sm if j == m else 0 for j in range(d))
                add(off, sk * sm * c)
        else:  # 2 D_km d_k d_m on the two corners along sign(D_km), compensated on the four axis neighbours
            c = np.abs(Df[k, m]) / (h[k] * h[m])
            sg = np.sign(Df[k, m])
            for sk in (1, -1):
                for sm in (1, -1):
                    off = tuple(sk if j == k else sm if j == m else 0 for j in range(d))
                    add(off, c * (sk * sm * sg > 0))
                for j in (k, m):
                    add(tuple(sk if i == j else 0 for i in range(d)), -c)
            diag += 2 * c
    add(zero, diag)
    absorb = np.asarray(absorbing, dtype=bool).ravel()
    free = np.flatnonzero(~absorb)
    pos = np.full(n, -1)
    pos[free] = np.arange(free.size)
    r = np.concatenate([pos[free]] * len(entries))
    cidx = np.concatenate([pos[v[0][free]] for v in entries.values()])
    vals = np.concatenate([v[1][free] for v in entries.values()])
    inside = cidx >= 0  # tau = 0 on the absorbing nodes: their columns drop out
    A = sp.csc_matrix((vals[inside], (r[inside], cidx[inside])), shape=(free.size, free.size))
    rhs = -np.ones(free.size)
    x = spsolve(A, rhs) if free.size <= direct_max else _iterative(A, rhs)
    tau = np.zeros(n)
    tau[free] = x
    if not return_info:
        return tau.reshape(shape)
    # rows of the assembled generator (faces' mirrored entries summed) with a negative off-diagonal coupling
    off = (A - sp.diags(A.diagonal())).tocsr()
    off.data = np.minimum(off.data, 0.0)
    scale = np.abs(A.diagonal())
    negative = np.asarray(off.min(axis=1).todense()).ravel() < -1e-12 * scale
    return tau.reshape(shape), float(negative.mean()) if free.size else 0.0


def _bernoulli(x):
    """x / (e^x - 1), 1 at x = 0 (the weights of exponential fitting)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        out = x / np.expm1(x)
    small = np.abs(x) < 1e-8
    return np.where(small, 1.0 - x / 2, np.where(np.isfinite(out), out, 0.0))


def _iterative(A, rhs) -> np.ndarray:
    """GMRES with an incomplete-LU preconditioner (for 3-D grids, where sparse LU fills in badly)."""
    from scipy.sparse.linalg import LinearOperator, gmres, spilu

    ilu = spilu(A, drop_tol=1e-5, fill_factor=15)
    M = LinearOperator(A.shape, ilu.solve)
    x, info = gmres(A, rhs, M=M, rtol=1e-11, atol=0.0, restart=100, maxiter=200)
    resid = float(np.linalg.norm(A @ x - rhs) / np.linalg.norm(rhs))
    if info != 0 or not np.all(np.isfinite(x)) or resid > 1e-8:
        from scipy.sparse.linalg import spsolve

        return spsolve(A, rhs)  # fall back to the direct solve (slow, exact)
    return x


def _fields(field, axes):
    mesh = np.meshgrid(*axes, indexing="ij")
    d = len(axes)
    try:
        b, D = field(*mesh)
        if len(b) != d or len(D) != d or any(len(row) != d for row in D):
            raise ValueError
        b = np.stack([np.broadcast_to(np.asarray(v, dtype=float), mesh[0].shape) for v in b])
        D = np.asarray([[np.broadcast_to(np.asarray(D[i][j], dtype=float), mesh[0].shape) for j in range(d)]
                        for i in range(d)])
    except (TypeError, ValueError, IndexError):
        raise InputError(f"field must return (b, D): {d} drift arrays and a {d} x {d} nested sequence of "
                         "diffusion arrays, each broadcastable to the grid") from None
    if not (np.all(np.isfinite(b)) and np.all(np.isfinite(D))):
        raise InputError("field must return finite drift and diffusion on the whole box")
    return mesh, b, D


def mfpt_grid(field, absorbing, start, ranges, n=61, *, rtol: float = 0.02, refine: float = 2.0,
              scheme: str = "central") -> GridMFPTResult:
    """Mean first-passage time from ``start`` of ``dX = b dt + sqrt(2 D) dW`` on a box (module docstring).

    Parameters
    ----------
    field : callable ``field(*coords) -> (b, D)`` on d arrays of equal shape (vectorised): ``b`` a sequence of
        d drift arrays, ``D`` a d x d nested sequence of diffusion arrays (symmetric).
    absorbing : callable ``absorbing(*coords) -> bool array``, True where the escape event holds.
    start : the start point (d values), inside the box and outside the absorbing set; tau is read there by
        cubic interpolation of the grid values.
    ranges : d pairs (low, high): the box; its faces reflect.
    n : nodes per axis of the coarse grid (an int or d ints, each >= 5); the fine grid has about ``refine``
        times as many per axis.
    rtol : status ``marginal`` (``not_converged``) where the two grids differ by more.
    scheme : ``"central"`` or ``"monotone"`` (:func:`solve_backward`).
    """
    from scipy.interpolate import RegularGridInterpolator

    try:
        start = np.atleast_1d(np.asarray(start, dtype=float)).ravel()
    except (TypeError, ValueError):
        raise InputError(f"start must be 1, 2 or 3 numbers, got {start!r}") from None
    d = start.size
    if not np.all(np.isfinite(start)):
        raise InputError(f"start must be finite, got {start.tolist()}")
    if d not in (1, 2, 3):
        raise InputError(f"start must have 1, 2 or 3 coordinates, got {d}")
    try:
        ranges = [(check_finite("ranges", lo), check_finite("ranges", hi)) for lo, hi in ranges]
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"ranges must be {d} pairs (low, high), got {ranges!r}") from None
    if len(ranges) != d:
        raise InputError(f"ranges must be {d} pairs (low, high), got {len(ranges)}")
    for k, ((lo, hi), s) in enumerate(zip(ranges, start)):
        if not (lo < s < hi):
            raise InputError(f"start[{k}] must lie inside ranges[{k}], got {float(s)!r} not in ({lo!r}, {hi!r})")
    ns = [n] * d if np.isscalar(n) else list(n)
    if len(ns) != d:
        raise InputError(f"n must be an int or {d} ints, got {n!r}")
    ns = [check_int("n", v, minimum=5) for v in ns]
    rtol = check_positive("rtol", rtol)
    if scheme not in ("central", "monotone"):
        raise InputError(f"scheme must be 'central' or 'monotone', got {scheme!r}")
    refine = check_positive("refine", refine)
    taus, info = [], None
    for level in (0, 1):
        shape = ns if level == 0 else [int(round((v - 1) * refine)) + 1 for v in ns]
        axes = [np.linspace(lo, hi, m) for (lo, hi), m in zip(ranges, shape)]
        mesh, b, D = _fields(field, axes)
        ab = np.asarray(absorbing(*mesh), dtype=bool)
        near = tuple(int(np.argmin(np.abs(a - s))) for a, s in zip(axes, start))
        Dm = np.moveaxis(D.reshape(d, d, -1), -1, 0)
        eig = np.linalg.eigvalsh(Dm)
        min_eig = float(eig[:, 0].min() / np.trace(Dm, axis1=1, axis2=2).max())
        if ab[near]:
            return GridMFPTResult(0.0, 0.0, 0.0, tuple(shape), math.nan, min_eig, Validity.NOT_APPLICABLE,
                                  "start_absorbed")
        if min_eig <= 0:
            return GridMFPTResult(math.nan, math.nan, math.nan, tuple(shape), math.nan, min_eig,
                                  Validity.NOT_APPLICABLE, "singular_noise")
        tau, neg = solve_backward(axes, b, D, ab, scheme=scheme, return_info=True)
        method = "cubic" if all(m >= 4 for m in shape) else "linear"
        taus.append(float(RegularGridInterpolator(axes, tau, method=method)(start)[0]))
        # the Peclet number where tau varies (the transition region: below 99 % of its largest value, off the
        # absorbing set); far from the path, where tau is flat, central differences do no harm
        region = (tau < 0.99 * tau.max()) & ~ab
        with np.errstate(divide="ignore", invalid="ignore"):
            pe = max(float(np.nanmax(np.where(region, np.abs(b[k]) * (axes[k][1] - axes[k][0]) / (2 * D[k, k]),
                                              0.0))) for k in range(d))
        info = (tuple(shape), pe, min_eig, neg)
    tau_c, tau_f = taus
    err = abs(tau_f - tau_c) / abs(tau_f)
    shape, pe, me, neg = info
    if err > rtol:
        st, rs = Validity.MARGINAL, "not_converged"
    else:
        st, rs = Validity.VALID, "ok"
    return GridMFPTResult(tau_f, tau_c, err, shape, pe, me, st, rs, neg)
