"""The escape plane: SGD's escape as a 2-D diffusion in the chord and the softest noisy transverse direction.

The 1-D reductions of an SGD escape (:mod:`langevin_grok.sgd.path_noise`, :mod:`langevin_grok.sgd.line_sgd`)
keep one direction of weight space, the chord e from the start minimum to the saddle. The batch noise of a deep
linear network is confined to a few directions: every per-sample gradient is J(theta)^T vec(r_n x_n^T), J the
Jacobian of the end-to-end map, so C(theta) has rank at most p^2 and its range is invariant under the Hessian
at a stationary point (the other directions, hidden-layer rotations and imbalances, get no noise and decouple
there). Of the p^2 - 1 noisy directions transverse to e, one softens strongly from the minimum to the saddle
(for the paper network's rank-2 subnetwork, Hessian 0.68 -> 0.21: the mixing of the two modes' singular
vectors); its thermal width grows over the barrier and speeds the escape up, an entropic effect that no 1-D
model has and that isotropic Eyring-Kramers misstates (the noise is anisotropic and state dependent, so the
process is not reversible).

The plane ``theta(x, y) = theta_start + x e + y f`` (f that soft direction at the saddle, orthogonal to e): the
coordinates are linear in theta, so their Ito SDE under the SGD diffusion is exact, with drift
``-(e, f) . grad Loss`` and diffusion ``lr/(2B) (e, f)^T C (e, f)`` evaluated on the plane (the other directions
held at zero). The per-sample gradients along e and f are polynomials of total degree 2L - 1 in (x, y), fitted
exactly (residual reported). :func:`plane_mfpt` solves the plane's backward equation
(:func:`langevin_grok.theory.mfpt_grid.mfpt_grid`) and the same problem on the chord alone
(:func:`langevin_grok.sgd.path_noise.mfpt_state_dependent`); their ratio is the transverse factor, which
multiplies a 1-D prediction (docs/theory.md, section "With replacement", "The escape plane").
:func:`plane_sgd_escape` is SGD on the plane with the data's real per-sample gradients (a simulation, the 2-D
analogue of :func:`langevin_grok.sgd.line_sgd.line_sgd_escape`, independent batches).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field

import numba
import numpy as np

from .._core.checks import InputError, check_finite, check_int, check_positive
from .._core.errors import Validity
from .._core.jsonable import jsonable
from .noise import per_sample_grads

__all__ = ["EscapePlane", "escape_plane", "PlaneMFPT", "plane_mfpt", "plane_sgd_escape", "noisy_subspace",
           "flat_polynomials", "monomials"]


@dataclass(frozen=True)
class EscapePlane:
    """Per-sample gradients on the escape plane as exact polynomials in (x, y) (module docstring).

    Attributes
    ----------
    coefficients : (K, N, 2) ``g_n(x, y) = sum_k coefficients[k, n] x^i_k y^j_k`` along (e, f), loss plus L2.
    exponents : (K, 2) the powers (i_k, j_k), i + j <= 2L - 1.
    basis : (D, 2) the unit vectors e (the chord) and f. theta_start : (D,) the origin. length : the chord's
        length (the saddle sits at x = length, y = 0).
    fit_residual : largest absolute residual of the fit at its points (exact: ~1e-13).
    curvature_f_start, curvature_f_saddle : f^T H f at the start and the saddle. noise_rank : rank of C at the
        saddle (the dimension of the noisy subspace). overlap_f : |f_saddle . f_start| of the softest transverse
        noisy directions at the two points (1: the plane contains both).
    beta, depth, width : the problem.
    """
    coefficients: np.ndarray = field(repr=False)
    exponents: np.ndarray = field(repr=False)
    basis: np.ndarray = field(repr=False)
    theta_start: np.ndarray = field(repr=False)
    length: float
    fit_residual: float
    curvature_f_start: float
    curvature_f_saddle: float
    noise_rank: int
    overlap_f: float
    beta: float
    depth: int
    width: int

    def _vander(self, x, y) -> np.ndarray:
        return monomials((x, y), self.exponents)

    def per_sample(self, x, y) -> np.ndarray:
        """Per-sample gradients along (e, f) at points (x, y): shape (M, N, 2)."""
        return np.einsum("mk,kna->mna", self._vander(x, y), self.coefficients)

    def fields(self, lr: float, batch: int):
        """``field(X, Y) -> (b, D)`` of the SGD diffusion on the plane, for :func:`mfpt_grid` (module docstring)."""
        mean = self.coefficients.mean(axis=1)  # (K, 2)
        dev = self.coefficients - mean[:, None, :]
        M = np.einsum("kna,lnb->abkl", dev, dev) / dev.shape[1]  # covariance of the coefficient vectors
        k = lr / (2.0 * batch)

        def field_(X, Y):
            V = self._vander(X, Y)
            b = [-(V @ mean[:, a]).reshape(X.shape) for a in range(2)]
            D = [[k * np.einsum("ik,kl,il->i", V, M[a, c], V).reshape(X.shape) for c in range(2)] for a in range(2)]
            return b, D
        return field_

    def thetas(self, x, y) -> np.ndarray:
        """Weight vectors at plane points: shape (M, D)."""
        xy = np.stack([np.asarray(x, dtype=float).ravel(), np.asarray(y, dtype=float).ravel()], axis=1)
        return self.theta_start[None, :] + xy @ self.basis.T

    def to_dict(self) -> dict:
        return jsonable({k: v for k, v in asdict(self).items()
                         if k not in ("coefficients", "exponents", "basis", "theta_start")})


def noisy_subspace(theta, X, Y, depth: int, width: int) -> np.ndarray:
    """Orthonormal basis (D, r) of the range of the per-sample gradient covariance C(theta) (r <= p^2)."""
    G = per_sample_grads(theta, X, Y, depth, width)
    G = G - G.mean(axis=0)
    ev, V = np.linalg.eigh(G.T @ G / G.shape[0])
    return V[:, ev > 1e-10 * ev.max()]


def monomials(coords, exponents) -> np.ndarray:
    """``prod_a coords[a]^exponents[k, a]`` for each point: shape (M, K); ``coords`` a sequence of d arrays."""
    c = [np.asarray(v, dtype=float).ravel() for v in coords]
    return np.stack([np.prod([ci ** q for ci, q in zip(c, e)], axis=0) for e in exponents], axis=-1)


def flat_polynomials(X, Y, depth: int, width: int, beta: float, theta_start, basis, scale: float,
                     n_per_axis: int | None = None):
    """Per-sample gradients (loss plus L2) along the columns of ``basis`` (D, d) at
    ``theta_start + basis @ z``, as exact polynomials of total degree 2L - 1 in z.

    Fitted by least squares on a product grid, ``[-1, 2] scale`` on the first axis and ``[-1.5, 1.5] scale`` on
    the others, ``n_per_axis`` points each (default 2L + 3 for d <= 2, 2L + 1 above; at least 2L are needed).
    Returns ``(coefficients (K, N, d), exponents (K, d), fit residual)``.
    """
    t0 = np.asarray(theta_start, dtype=float)
    basis = np.asarray(basis, dtype=float)
    d, deg = basis.shape[1], 2 * depth - 1
    n = (deg + 4 if d <= 2 else deg + 2) if n_per_axis is None else int(n_per_axis)
    exps = np.array([q for q in itertools.product(range(deg + 1), repeat=d) if sum(q) <= deg])
    axes = [np.linspace(-1.0, 2.0, n) * scale] + [np.linspace(-1.5, 1.5, n) * scale] * (d - 1)
    pts = np.array(list(itertools.product(*axes)))
    th = t0[None, :] + pts @ basis.T
    G = np.stack([per_sample_grads(t, X, Y, depth, width) for t in th]) @ basis + beta * (th @ basis)[:, None, :]
    V = monomials(pts.T, exps)
    coef = np.linalg.lstsq(V, G.reshape(len(pts), -1), rcond=None)[0].reshape(len(exps), X.shape[0], d)
    resid = float(np.max(np.abs(np.einsum("pk,kna->pna", V, coef) - G)))
    return np.ascontiguousarray(coef), exps, resid


def _softest_transverse(H, R, e) -> tuple[np.ndarray, float]:
    """Of the Hessian's eigenvectors in the noisy subspace R, the softest one other than the escape direction."""
    h, W = np.linalg.eigh(R.T @ H @ R)
    V = R @ W
    esc = int(np.argmax(np.abs(V.T @ e)))
    rest = [i for i in np.argsort(h) if i != esc]
    return V[:, rest[0]], float(h[rest[0]])


def escape_plane(X, Y, depth: int, width: int, beta: float, theta_start, theta_saddle) -> EscapePlane:
    """The escape plane from ``theta_start`` (a minimum) towards ``theta_saddle`` (module docstring)."""
    from .noise_models import check_segment

    L, w, beta, X, Y, net, t0, t1 = check_segment(theta_start, theta_saddle, X, Y, depth, width, beta, "theta_saddle")
    length = float(np.linalg.norm(t1 - t0))
    e = (t1 - t0) / length
    R_s = noisy_subspace(t1, X, Y, L, w)
    if R_s.shape[1] < 2:
        raise InputError(f"the batch noise at theta_saddle has rank {R_s.shape[1]}: no transverse noisy direction")
    f, _ = _softest_transverse(net.hessian(t1), R_s, e)
    f = f - (f @ e) * e
    f /= np.linalg.norm(f)
    f0, _ = _softest_transverse(net.hessian(t0), noisy_subspace(t0, X, Y, L, w), e)
    basis = np.stack([e, f], axis=1)
    coef, exps, resid = flat_polynomials(X, Y, L, w, beta, t0, basis, length)
    return EscapePlane(coef, exps, basis, t0, length, resid,
                       float(f @ net.hessian(t0) @ f), float(f @ net.hessian(t1) @ f), int(R_s.shape[1]),
                       float(abs(f @ f0)), beta, L, w)


@dataclass(frozen=True)
class PlaneMFPT:
    """The escape plane's MFPT beside the chord's (:func:`plane_mfpt`).

    Attributes
    ----------
    tau_plane : MFPT of the plane diffusion from the start (SDE time, continuous time). tau_line : the exact
        1-D MFPT on the chord (y = 0) with the same drift and noise along e. transverse_factor :
        ``tau_plane / tau_line``, the factor by which the transverse direction changes the escape time.
    rel_error : the plane solve's two-grid error estimate (the chord's is ~1e-8). shape : fine grid.
    y_halfwidth : the box's half-width in y (``width_sd`` thermal widths sqrt(D_ff/h_ff), the larger of the
        start's and the saddle's). target, reflect : the chord's escape level and reflecting end.
    status / reason : ``valid``/``ok`` or the worse of the two solves' statuses and reasons.
    """
    tau_plane: float
    tau_line: float
    transverse_factor: float
    rel_error: float
    shape: tuple
    y_halfwidth: float
    target: float
    reflect: float
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return jsonable(asdict(self))


def plane_mfpt(plane: EscapePlane, event, lr: float, batch: int, target: float, reflect: float, *,
               n: int = 121, width_sd: float = 7.0, rtol: float = 0.02) -> PlaneMFPT:
    """MFPT of the SGD diffusion on the escape plane and on its chord (module docstring).

    Parameters
    ----------
    plane : from :func:`escape_plane`.
    event : callable ``event(thetas) -> bool array`` on weight vectors (M, D): the escape event (True: escaped).
    lr, batch : SGD step and batch size (independent batches: D = lr C / (2B)).
    target : distance along the chord at which the event fires on it (the box ends 0.1 chord lengths beyond).
    reflect : reflecting end on the chord, on the far side of the start (negative).
    n : coarse grid nodes per axis (the fine grid has 2n - 1). width_sd : the box's half-width in y in thermal
        widths. rtol : the plane solve's tolerance (status ``marginal`` above).
    """
    from ..theory.mfpt_grid import mfpt_grid
    from .path_noise import mfpt_state_dependent

    lr, batch = check_positive("lr", lr), check_int("batch", batch, minimum=1)
    target, reflect = check_finite("target", target), check_finite("reflect", reflect)
    if not (reflect < 0.0 < target):
        raise InputError(f"need reflect < 0 < target on the chord, got reflect={reflect!r}, target={target!r}")
    width_sd = check_positive("width_sd", width_sd)
    fld = plane.fields(lr, batch)
    sd = 0.0
    for x0 in (0.0, plane.length):
        _, D = fld(np.array([x0]), np.array([0.0]))
        h = plane.curvature_f_start if x0 == 0.0 else plane.curvature_f_saddle
        if h <= 0:
            raise InputError(f"the plane's transverse curvature must be positive at the start and the saddle, "
                             f"got {h!r}")
        sd = max(sd, math.sqrt(float(D[1][1][0]) / h))
    half = width_sd * sd
    absorbing = lambda Xg, Yg: np.asarray(event(plane.thetas(Xg, Yg)), dtype=bool).reshape(Xg.shape)  # noqa: E731
    res = mfpt_grid(fld, absorbing, [0.0, 0.0], [(reflect, target + 0.1 * plane.length), (-half, half)], n,
                    rtol=rtol)

    def on_chord(x):
        x = np.atleast_1d(np.asarray(x, dtype=float))
        b, D = fld(x, np.zeros_like(x))
        return -b[0].reshape(x.shape), D[0][0].reshape(x.shape)
    line = mfpt_state_dependent(lambda t, x, p: on_chord(x)[0], lambda t, x, p: on_chord(x)[1], 0.0, target,
                                reflect)
    bad = [(r.status, r.reason) for r in (res, line) if r.status != Validity.VALID]
    st, rs = (Validity.VALID, "ok") if not bad else bad[0]
    if any(s == Validity.NOT_APPLICABLE for s, _ in bad):
        st, rs = next((s, r) for s, r in bad if s == Validity.NOT_APPLICABLE)
    fac = res.tau / line.tau if math.isfinite(res.tau) and line.tau > 0 else math.nan
    return PlaneMFPT(res.tau, line.tau, fac, res.rel_error, res.shape, half, target, reflect, st, rs)


def plane_sgd_escape(plane: EscapePlane, event, lr: float, batch: int, *, n_paths: int, max_epochs: int,
                     seed=None) -> dict:
    """SGD with independent batches on the escape plane, with the data's real per-sample gradients.

    Each step draws ``batch`` sample indices with replacement per path (``ceil(N/B)`` steps per epoch, as the
    trainer's independent batches) and moves ``(x, y) <- (x, y) - lr * mean_{n in batch} g_n(x, y)``, g_n the
    plane's exact polynomials; ``event(thetas)`` is read at every epoch's end, as for the network runs.
    Returns ``t_sde`` (escape or censoring time, lr x steps), ``observed`` and ``epochs`` (per path), and
    ``n_diverged`` (paths that became non-finite; counted as censored).
    """
    from .._core.checks import check_memory
    from .._core.seeds import as_seed_sequence

    lr, batch = check_positive("lr", lr), check_int("batch", batch, minimum=1)
    n_paths = check_int("n_paths", n_paths, minimum=1)
    max_epochs = check_int("max_epochs", max_epochs, minimum=1)
    K, N, _ = plane.coefficients.shape
    check_memory("n_paths", 8.0 * K * n_paths * batch * 2, "for the batch-mean coefficients of one step")
    rng = np.random.default_rng(as_seed_sequence(seed))
    m = -(-N // batch)
    coef = np.ascontiguousarray(plane.coefficients)
    exps = np.ascontiguousarray(plane.exponents, dtype=np.int64)
    x, y = np.zeros(n_paths), np.zeros(n_paths)
    first = np.full(n_paths, -1)
    for ep in range(1, max_epochs + 1):
        live = np.flatnonzero(first < 0)
        if live.size == 0:
            break
        # one draw for the epoch: the same stream as m draws of (paths, batch), one per step
        idx = rng.integers(0, N, size=(m, live.size, batch))
        xl, yl = x[live], y[live]
        _plane_epoch(xl, yl, coef, exps, idx, lr)
        x[live], y[live] = xl, yl
        ok = np.isfinite(xl) & np.isfinite(yl)
        hit = np.zeros(live.size, dtype=bool)
        hit[ok] = np.asarray(event(plane.thetas(xl[ok], yl[ok])), dtype=bool)
        first[live[hit]] = ep
    obs = first > 0
    epochs = np.where(obs, first, max_epochs)
    n_div = int(np.sum(~(np.isfinite(x) & np.isfinite(y))))  # non-finite paths never hit: counted as censored
    return {"t_sde": epochs * m * lr, "observed": obs, "epochs": epochs, "n_diverged": n_div}


@numba.njit(cache=True, nogil=True)
def _plane_epoch(x, y, coef, exps, idx, lr):  # pragma: no cover - compiled
    """Steps of plane SGD for one epoch, in place: ``idx[s, r, :]`` are path r's batch at step s."""
    K = exps.shape[0]
    n_steps, R, B = idx.shape
    mono = np.empty(K)
    for r in range(R):
        xr, yr = x[r], y[r]
        for st in range(n_steps):
            for k in range(K):
                mono[k] = xr ** exps[k, 0] * yr ** exps[k, 1]
            gx = 0.0
            gy = 0.0
            for b in range(B):
                n = idx[st, r, b]
                for k in range(K):
                    gx += mono[k] * coef[k, n, 0]
                    gy += mono[k] * coef[k, n, 1]
            xr -= lr * gx / B
            yr -= lr * gy / B
        x[r], y[r] = xr, yr
