"""Weight space of an L2-regularised deep linear network: loss, gradient, Hessian, stationary points.

The network is ``f(x) = W_L ... W_1 x`` with ``W_1`` of shape ``(w, p)``, ``W_2 .. W_{L-1}`` of
shape ``(w, w)`` and ``W_L`` of shape ``(p, w)``. With second moments ``Sigma_xx = E[x x^T]``,
``Sigma_yx = E[y x^T]`` and ``Sigma_yy = E[y y^T]`` the loss is (see ``../docs/theory.md``)::

    Loss(theta) = 1/2 E|W x - y|^2 + beta/2 sum_l |W_l|_F^2
                = 1/2 tr(W Sigma_xx W^T) - tr(W Sigma_yx^T) + 1/2 tr(Sigma_yy) + beta/2 |theta|^2

with ``W = W_L ... W_1`` the end-to-end map. Built from a data set (:meth:`DeepLinearNetwork.from_data`)
the moments are the sample averages and the loss equals ``1/(2N) sum_n |f(x_n) - y_n|^2 + beta/2 |theta|^2``
exactly.

Everything is numpy float64. Gradient and Hessian are analytic (products of layers), not finite differences.

Flat parameter vector
---------------------
``theta`` (length ``D = w p + (L-2) w^2 + p w``) is the concatenation of ``W_1, W_2, ..., W_L``, each
flattened in row-major (C) order: ``theta = concat(W_1.ravel(), ..., W_L.ravel())``. See :func:`pack`
and :func:`unpack`.

Calling convention
------------------
For the package-wide convention ``f(t, x, p)`` (``t`` unused) the module functions :func:`loss_fn`,
:func:`grad_fn` and :func:`drift_fn` take ``p = net.params``, a flat float64 array laid out as
``[L, w, p, beta, Sigma_xx.ravel(), Sigma_yx.ravel(), Sigma_yy.ravel()]`` (row-major ``p x p`` blocks).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import InputError, check_beta, check_depth, check_int, check_rng, check_sv
from .modes import stationary_amplitudes, u

__all__ = [
    "DeepLinearNetwork",
    "HessianSpectrum",
    "StationaryPoint",
    "MODE_KINDS",
    "layer_shapes",
    "n_params",
    "pack",
    "unpack",
    "loss_fn",
    "grad_fn",
    "drift_fn",
    "hessian_spectrum",
    "stationary_point",
    "stationary_points",
    "equivalent_saddles",
    "orbit_dimension",
    "orbit_tangents",
    "default_tolerance",
]

MODE_KINDS = ("trivial", "saddle", "learned")

# Default relative tolerance for classifying Hessian eigenvalues: |mu| <= RTOL * max|mu| counts as zero.
# Constructed stationary points are exact to ~1e-15 (brentq at the float64 floor), so symmetry zero
# modes come out at ~1e-15 relative; genuine curvatures are >= beta-sized. 1e-8 separates the two
# with a wide margin on both sides except within ~1e-8 of a spinodal, where a curvature truly vanishes.
RTOL = 1e-8

# Relative tolerance for structural checks on covariance matrices (symmetry, eigenvector test).
_STRUCT_RTOL = 1e-10


# --------------------------------------------------------------------------- validation helpers
def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=8)
    return repr(value)


def _as_matrix(name: str, value, shape: tuple[int, int] | None = None) -> np.ndarray:
    """A finite float64 2-D array (of ``shape`` if given), as a read-only copy."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric matrix, got {_fmt(value)}") from None
    if arr.ndim != 2:
        raise InputError(f"{name} must be a 2-D array, got shape {arr.shape}")
    if shape is not None and arr.shape != shape:
        raise InputError(f"{name} must have shape {shape}, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, got {_fmt(arr)}")
    arr.setflags(write=False)
    return arr


def _as_theta(theta, d: int, name: str = "theta") -> np.ndarray:
    """A finite float64 vector of length ``d``."""
    try:
        arr = np.asarray(theta, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a numeric vector, got {_fmt(theta)}") from None
    if arr.shape != (d,):
        raise InputError(f"{name} must have shape ({d},), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} must be finite, got {_fmt(arr)}")
    return arr


def _haar_orthogonal(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """An ``(n, k)`` matrix with Haar-random orthonormal columns (QR with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, k)))
    return q * np.sign(np.diag(r))


# --------------------------------------------------------------------------- flat parameter layout
def layer_shapes(depth: int, width: int, dim: int) -> tuple[tuple[int, int], ...]:
    """Shapes ``(rows, cols)`` of ``W_1, ..., W_L``: ``(w, p), (w, w) x (L-2), (p, w)``."""
    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    p = check_int("dim", dim, minimum=1)
    return ((w, p),) + ((w, w),) * (L - 2) + ((p, w),)


def n_params(depth: int, width: int, dim: int) -> int:
    """Number of trainable parameters ``D = w p + (L-2) w^2 + p w``."""
    return sum(r * c for r, c in layer_shapes(depth, width, dim))


def pack(layers: Sequence[np.ndarray]) -> np.ndarray:
    """Concatenate ``W_1, ..., W_L`` (each row-major) into ``theta``.

    Layers of shape ``(r, c)`` give ``theta`` of shape ``(D,)``; an ensemble, layers ``(M, r, c)``, gives
    ``(M, D)`` (any common leading axes are kept). The one definition of the parameter layout.
    """
    arrs = [np.asarray(W, dtype=float) for W in layers]
    lead = arrs[0].shape[:-2]
    return np.concatenate([W.reshape(*lead, -1) for W in arrs], axis=-1)


def _unpack(theta: np.ndarray, shapes) -> list[np.ndarray]:
    out, i = [], 0
    lead = theta.shape[:-1]
    for r, c in shapes:
        out.append(theta[..., i : i + r * c].reshape(*lead, r, c))
        i += r * c
    return out


def unpack(theta, depth: int, width: int, dim: int) -> list[np.ndarray]:
    """Split ``theta`` (shape ``(D,)``) into the layer matrices ``[W_1, ..., W_L]`` (views).

    ``theta`` of shape ``(..., D)`` (an ensemble) gives layers of shape ``(..., r, c)``.
    """
    shapes = layer_shapes(depth, width, dim)
    d = sum(r * c for r, c in shapes)
    arr = np.asarray(theta, dtype=float) if np.ndim(theta) > 1 else None
    if arr is None:
        return _unpack(_as_theta(theta, d), shapes)
    if arr.shape[-1] != d:
        raise InputError(f"theta must have {d} columns for depth={depth}, width={width}, dim={dim}, "
                         f"got shape {arr.shape}")
    return _unpack(arr, shapes)


# --------------------------------------------------------------------------- core numerics (no checks)
def _prefix_suffix(Ws: list[np.ndarray], p: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``B[k] = W_{k-1} .. W_1`` (``B[0] = I_p``) and ``A[k] = W_L .. W_{k+1}`` (``A[L-1] = I_p``), 0-based."""
    L = len(Ws)
    B = [np.eye(p)]
    for k in range(1, L):
        B.append(Ws[k - 1] @ B[k - 1])
    A = [None] * L
    A[L - 1] = np.eye(p)
    for k in range(L - 2, -1, -1):
        A[k] = A[k + 1] @ Ws[k + 1]
    return A, B


def _loss(Ws, sxx, syx, syy_half_trace, beta, theta) -> float:
    We = Ws[-1]
    for W in reversed(Ws[:-1]):
        We = We @ W
    data = 0.5 * np.sum(We * (We @ sxx)) - np.sum(We * syx) + syy_half_trace
    return float(data + 0.5 * beta * np.dot(theta, theta))


def _grad(Ws, sxx, syx, beta, p) -> np.ndarray:
    A, B = _prefix_suffix(Ws, p)
    G = A[0] @ Ws[0] @ sxx - syx  # dLoss_data / dW_end-to-end
    return np.concatenate([(A[k].T @ G @ B[k].T + beta * Ws[k]).ravel() for k in range(len(Ws))])


def _hessian(Ws, sxx, syx, beta, p) -> np.ndarray:
    L = len(Ws)
    A, B = _prefix_suffix(Ws, p)
    G = A[0] @ Ws[0] @ sxx - syx
    sizes = [W.size for W in Ws]
    offs = np.concatenate([[0], np.cumsum(sizes)])
    D = int(offs[-1])
    # Gauss-Newton part: d(W_end) = A_k dW_k B_k, i.e. vec_r(dW_end) = (A_k kron B_k^T) vec_r(dW_k),
    # and the data term's second differential is tr(dW_end Sigma_xx dW_end^T) = vec^T (I kron Sigma_xx) vec.
    J = np.hstack([np.kron(A[k], B[k].T) for k in range(L)])  # (p*p, D)
    H = J.T @ np.kron(np.eye(p), sxx) @ J
    # Curvature of the product itself: for k < l, d2 W_end = A_l dW_l M dW_k B_k with
    # M = W_{l-1} .. W_{k+1}, contracted with G: tr(P dW_l M dW_k), P = B_k G^T A_l.
    for k in range(L - 1):
        M = np.eye(Ws[k].shape[0])
        for l in range(k + 1, L):
            P = B[k] @ G.T @ A[l]
            blk = np.einsum("ia,bc->abci", P, M).reshape(sizes[l], sizes[k])
            H[offs[l] : offs[l + 1], offs[k] : offs[k + 1]] += blk
            H[offs[k] : offs[k + 1], offs[l] : offs[l + 1]] += blk.T
            M = Ws[l] @ M
    H[np.diag_indices(D)] += beta
    # J^T K J is symmetric only up to rounding; symmetrise so eigh and equality tests see an exact one.
    return 0.5 * (H + H.T)


# --------------------------------------------------------------------------- the network
@dataclass(frozen=True, eq=False)
class DeepLinearNetwork:
    """A depth-L linear network with L2 strength beta and second-moment data description.

    Parameters
    ----------
    depth : int
        Number of weight matrices L >= 2.
    width : int
        Hidden width w >= 1.
    dim : int
        Input and output dimension p >= 1.
    sigma_xx : array, shape (p, p)
        Input second moment ``E[x x^T]`` (symmetric).
    sigma_yx : array, shape (p, p)
        Cross moment ``E[y x^T]``.
    beta : float
        L2 strength >= 0.
    sigma_yy : array, shape (p, p), optional
        Output second moment ``E[y y^T]``; it only adds the constant ``tr(Sigma_yy)/2``. Default: the
        identity, which makes the loss the exact population MSE/2 of docs/theory.md's data model (unit output
        variance, joint covariance ``[[I, Sigma_yx^T], [Sigma_yx, I]]``); for other data it is MSE/2 up
        to a constant.

    Notes
    -----
    Matrices are stored as read-only float64 copies. ``theta`` layout: see the module docstring.
    """

    depth: int
    width: int
    dim: int
    sigma_xx: np.ndarray
    sigma_yx: np.ndarray
    beta: float
    sigma_yy: np.ndarray | None = None
    _shapes: tuple = field(init=False, repr=False)
    _syy_half_trace: float = field(init=False, repr=False)

    def __post_init__(self) -> None:
        L = check_depth(self.depth)
        w = check_int("width", self.width, minimum=1)
        p = check_int("dim", self.dim, minimum=1)
        beta = check_beta(self.beta)
        sxx = _as_matrix("sigma_xx", self.sigma_xx, (p, p))
        scale = max(1.0, float(np.max(np.abs(sxx))))
        if np.max(np.abs(sxx - sxx.T)) > _STRUCT_RTOL * scale:
            raise InputError(f"sigma_xx must be symmetric, got {_fmt(sxx)}")
        sxx = 0.5 * (sxx + sxx.T)  # exact symmetry keeps the Hessian exactly symmetric
        sxx.setflags(write=False)
        syx = _as_matrix("sigma_yx", self.sigma_yx, (p, p))
        syy = np.eye(p) if self.sigma_yy is None else np.array(self.sigma_yy, dtype=float)
        syy = _as_matrix("sigma_yy", syy, (p, p))
        for name, val in (("depth", L), ("width", w), ("dim", p), ("beta", beta),
                          ("sigma_xx", sxx), ("sigma_yx", syx), ("sigma_yy", syy)):
            object.__setattr__(self, name, val)
        object.__setattr__(self, "_shapes", layer_shapes(L, w, p))
        object.__setattr__(self, "_syy_half_trace", 0.5 * float(np.trace(syy)))

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_singular_values(
        cls,
        depth: int,
        width: int,
        dim: int,
        sv,
        beta: float,
        rng: np.random.Generator | int | None = None,
        u: np.ndarray | None = None,
        v: np.ndarray | None = None,
    ) -> "DeepLinearNetwork":
        """docs/theory.md's population model: ``Sigma_xx = I``, ``Sigma_yx = U diag(eta) V^T``, ``Sigma_yy = I``.

        Parameters
        ----------
        sv : sequence of float
            Singular values eta, each in (0, 1); at most ``dim`` of them, padded with zeros to ``dim``.
            ``Sigma_yx`` keeps the given order, but :func:`stationary_point` labels modes in the
            descending order of the SVD.
        rng : Generator | int | None
            If given (and ``u``, ``v`` are not), ``U`` and ``V`` are Haar-random orthogonal matrices drawn
            from it; by default ``U = V = I``.
        u, v : arrays of shape (dim, dim), optional
            Explicit orthogonal ``U`` and ``V`` (both or neither).
        """
        L = check_depth(depth)
        w = check_int("width", width, minimum=1)
        p = check_int("dim", dim, minimum=1)
        eta = check_sv(sv)
        if eta.size > p:
            raise InputError(f"sv must hold at most dim = {p} values, got {eta.size}: {_fmt(eta)}")
        eta = np.concatenate([eta, np.zeros(p - eta.size)])
        if (u is None) != (v is None):
            raise InputError("u and v must be given together (both orthogonal (dim, dim) matrices)")
        if u is not None:
            U = _as_matrix("u", u, (p, p))
            V = _as_matrix("v", v, (p, p))
            for name, Q in (("u", U), ("v", V)):
                if np.max(np.abs(Q.T @ Q - np.eye(p))) > 1e-10:
                    raise InputError(f"{name} must be orthogonal, got {_fmt(Q)}")
        elif rng is not None:
            gen, _ = check_rng(rng)
            U = _haar_orthogonal(gen, p, p)
            V = _haar_orthogonal(gen, p, p)
        else:
            U = V = np.eye(p)
        return cls(L, w, p, np.eye(p), (U * eta) @ V.T, beta, np.eye(p))

    @classmethod
    def from_data(cls, X, Y, depth: int, width: int, beta: float) -> "DeepLinearNetwork":
        """Empirical moments of a data set: ``Sigma_xx = X^T X / N``, ``Sigma_yx = Y^T X / N``, ``Sigma_yy = Y^T Y / N``.

        Then ``loss(theta) = 1/(2N) sum_n |W_L..W_1 x_n - y_n|^2 + beta/2 sum_l |W_l|_F^2`` exactly.

        Parameters
        ----------
        X, Y : arrays of shape (N, p)
            Inputs and targets, one sample per row.
        """
        X = _as_matrix("X", X)
        Y = _as_matrix("Y", Y)
        if X.shape[0] < 1:
            raise InputError(f"X must hold at least one sample, got shape {X.shape}")
        if Y.shape != X.shape:
            raise InputError(f"Y must have the shape of X {X.shape}, got shape {Y.shape}")
        n, p = X.shape
        return cls(depth, width, p, X.T @ X / n, Y.T @ X / n, beta, Y.T @ Y / n)

    @classmethod
    def from_params(cls, params) -> "DeepLinearNetwork":
        """Inverse of :attr:`params`."""
        prm = np.asarray(params, dtype=float)
        if prm.ndim != 1 or prm.size < 7:
            raise InputError(f"params must be a 1-D array [L, w, p, beta, ...], got shape {prm.shape}")
        p = check_int("params[2] (dim)", prm[2], minimum=1)
        if prm.size != 4 + 3 * p * p:
            raise InputError(f"params must have length 4 + 3 p^2 = {4 + 3 * p * p}, got {prm.size}")
        blocks = prm[4:].reshape(3, p, p)
        return cls(prm[0], prm[1], p, blocks[0], blocks[1], prm[3], blocks[2])

    # ------------------------------------------------------------------ layout
    @property
    def n_params(self) -> int:
        """D, the length of ``theta``."""
        return sum(r * c for r, c in self._shapes)

    @property
    def shapes(self) -> tuple[tuple[int, int], ...]:
        """Layer shapes ``W_1 .. W_L``."""
        return self._shapes

    @property
    def params(self) -> np.ndarray:
        """Flat parameter array for the ``f(t, x, p)`` convention:
        ``[L, w, p, beta, Sigma_xx.ravel(), Sigma_yx.ravel(), Sigma_yy.ravel()]``."""
        return np.concatenate([[self.depth, self.width, self.dim, self.beta],
                               self.sigma_xx.ravel(), self.sigma_yx.ravel(), self.sigma_yy.ravel()])

    def unpack(self, theta) -> list[np.ndarray]:
        """``[W_1, ..., W_L]`` (views into ``theta``)."""
        return _unpack(_as_theta(theta, self.n_params), self._shapes)

    def pack(self, layers: Sequence[np.ndarray]) -> np.ndarray:
        """``theta`` from ``[W_1, ..., W_L]`` (shapes checked)."""
        if len(layers) != self.depth:
            raise InputError(f"layers must hold depth = {self.depth} matrices, got {len(layers)}")
        for l, (W, shp) in enumerate(zip(layers, self._shapes), start=1):
            _as_matrix(f"layers[{l - 1}] (W_{l})", W, shp)
        return pack(layers)

    def end_to_end(self, theta) -> np.ndarray:
        """The product ``W_L ... W_1``, shape ``(p, p)``."""
        Ws = self.unpack(theta)
        We = Ws[-1]
        for W in reversed(Ws[:-1]):
            We = We @ W
        return We

    # ------------------------------------------------------------------ loss and derivatives
    def loss(self, theta) -> float:
        """``Loss(theta)`` (module docstring), a float."""
        theta = _as_theta(theta, self.n_params)
        Ws = _unpack(theta, self._shapes)
        return _loss(Ws, self.sigma_xx, self.sigma_yx, self._syy_half_trace, self.beta, theta)

    def grad(self, theta) -> np.ndarray:
        """Analytic gradient, shape ``(D,)``.

        Notes
        -----
        ``dLoss/dW_l = (W_L..W_{l+1})^T G (W_{l-1}..W_1)^T + beta W_l`` with ``G = W Sigma_xx - Sigma_yx``.
        """
        theta = _as_theta(theta, self.n_params)
        return _grad(_unpack(theta, self._shapes), self.sigma_xx, self.sigma_yx, self.beta, self.dim)

    def hessian(self, theta) -> np.ndarray:
        """Analytic Hessian, shape ``(D, D)``, exactly symmetric.

        Notes
        -----
        Three parts: the Gauss-Newton term ``J^T (I kron Sigma_xx) J`` with ``J`` the Jacobian of
        ``vec(W_L..W_1)``; the curvature of the layer product contracted with ``G = W Sigma_xx - Sigma_yx``
        (blocks ``k != l`` only, since the product is linear in each layer); and ``beta I``.
        Memory is ``8 D^2`` bytes.
        """
        theta = _as_theta(theta, self.n_params)
        return _hessian(_unpack(theta, self._shapes), self.sigma_xx, self.sigma_yx, self.beta, self.dim)

    def grad_batch(self, thetas) -> np.ndarray:
        """Gradients of many parameter vectors at once: ``thetas`` shape ``(M, D)`` -> ``(M, D)``."""
        th = np.asarray(thetas, dtype=float)
        if th.ndim != 2 or th.shape[1] != self.n_params:
            raise InputError(f"thetas must have shape (M, {self.n_params}), got shape {th.shape}")
        if not np.all(np.isfinite(th)):
            raise InputError("thetas must be finite")
        M = th.shape[0]
        Ws, i = [], 0
        for r, c in self._shapes:
            Ws.append(th[:, i : i + r * c].reshape(M, r, c))
            i += r * c
        L, p = self.depth, self.dim
        B = [np.broadcast_to(np.eye(p), (M, p, p))]
        for k in range(1, L):
            B.append(Ws[k - 1] @ B[k - 1])
        A = [None] * L
        A[L - 1] = np.broadcast_to(np.eye(p), (M, p, p))
        for k in range(L - 2, -1, -1):
            A[k] = A[k + 1] @ Ws[k + 1]
        G = A[0] @ Ws[0] @ self.sigma_xx - self.sigma_yx
        parts = [(np.swapaxes(A[k], 1, 2) @ G @ np.swapaxes(B[k], 1, 2) + self.beta * Ws[k]).reshape(M, -1)
                 for k in range(L)]
        return np.concatenate(parts, axis=1)


# --------------------------------------------------------------------------- f(t, x, p) convention
def _from_params_fast(p: np.ndarray):
    """Decode ``net.params`` without validation (hot path of integrators)."""
    L, w, d, beta = int(p[0]), int(p[1]), int(p[2]), float(p[3])
    blocks = p[4:].reshape(3, d, d)
    return L, w, d, beta, blocks[0], blocks[1], blocks[2]


def loss_fn(t, x, p) -> float:
    """``Loss(x)`` in the ``f(t, x, p)`` convention; ``p = net.params``, ``t`` unused."""
    L, w, d, beta, sxx, syx, syy = _from_params_fast(np.asarray(p, dtype=float))
    x = np.asarray(x, dtype=float)
    Ws = _unpack(x, layer_shapes(L, w, d))
    return _loss(Ws, sxx, syx, 0.5 * float(np.trace(syy)), beta, x)


def grad_fn(t, x, p) -> np.ndarray:
    """Gradient, shape ``(D,)``, in the ``f(t, x, p)`` convention; ``p = net.params``."""
    L, w, d, beta, sxx, syx, _ = _from_params_fast(np.asarray(p, dtype=float))
    x = np.asarray(x, dtype=float)
    return _grad(_unpack(x, layer_shapes(L, w, d)), sxx, syx, beta, d)


def drift_fn(t, x, p) -> np.ndarray:
    """Langevin drift ``-grad Loss(x)`` in the ``f(t, x, p)`` convention; ``p = net.params``."""
    return -grad_fn(t, x, p)


# --------------------------------------------------------------------------- spectra
def default_tolerance(eigenvalues: np.ndarray, rtol: float = RTOL) -> float:
    """Zero-mode threshold ``rtol * max|mu|`` (``rtol = 1e-8`` by default; 0 for an all-zero spectrum)."""
    ev = np.asarray(eigenvalues, dtype=float)
    return float(rtol * np.max(np.abs(ev))) if ev.size else 0.0


@dataclass(frozen=True, eq=False)
class HessianSpectrum:
    """Eigen-decomposition of the Hessian at one point.

    Attributes
    ----------
    eigenvalues : array (D,), ascending.
    eigenvectors : array (D, D), columns are unit eigenvectors (``eigenvectors[:, i]``).
    index : number of eigenvalues < -tol.
    n_zero : number of eigenvalues with ``|mu| <= tol``.
    tol : the threshold used (absolute, in loss units per squared weight).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    index: int
    n_zero: int
    tol: float

    def to_dict(self) -> dict:
        """JSON-ready dict (eigenvectors omitted: D x D)."""
        return {"eigenvalues": self.eigenvalues.tolist(), "index": self.index,
                "n_zero": self.n_zero, "tol": self.tol}


def hessian_spectrum(net: DeepLinearNetwork, theta, tol: float | None = None) -> HessianSpectrum:
    """Hessian eigenvalues (ascending), eigenvectors, index and number of zero modes at ``theta``.

    Parameters
    ----------
    net : DeepLinearNetwork
    theta : array (D,)
    tol : float, optional
        Absolute threshold: ``|mu| <= tol`` is a zero mode, ``mu < -tol`` counts towards the index.
        Default :func:`default_tolerance`: ``1e-8 * max|mu|``.
    """
    H = net.hessian(theta)
    ev, vec = np.linalg.eigh(H)
    if tol is None:
        tol = default_tolerance(ev)
    else:
        tol = check_beta(tol, name="tol")
    return HessianSpectrum(ev, vec, int(np.sum(ev < -tol)), int(np.sum(np.abs(ev) <= tol)), float(tol))


# --------------------------------------------------------------------------- stationary points
def orbit_dimension(depth: int, width: int, n_active: int) -> int:
    """Dimension of the hidden-layer rotation orbit through a point with ``n_active`` non-trivial modes.

    Each hidden layer ``l = 1..L-1`` carries an orthogonal symmetry ``W_l -> O_l W_l``,
    ``W_{l+1} -> W_{l+1} O_l^T`` (loss and L2 term unchanged). At an embedded point the k active modes
    occupy a k-dimensional subspace of every hidden layer with non-zero amplitudes. A generator
    ``Omega_l`` (antisymmetric w x w) leaves the point fixed iff it acts only inside the (w-k)-dimensional
    unused subspace: ``Omega_1 W_1 = 0`` forces ``Omega_1`` to vanish on the used columns (``W_1`` has
    full row rank k on them), hence by antisymmetry on the used rows, and then ``W_2 Omega_1 = 0`` so
    the same argument applies to ``Omega_2``, and so on. So the stabiliser is ``so(w-k)^(L-1)`` and::

        orbit dim = (L-1) [ w(w-1)/2 - (w-k)(w-k-1)/2 ] = (L-1) [ k (w-k) + k (k-1)/2 ]

    (``(L-1)(w-1)`` for one active mode). At a stationary point each orbit direction is a Hessian zero
    mode. For beta > 0 and distinct non-zero singular values these are all the zero modes (checked in
    the tests); beta = 0 adds the rescaling symmetries and degenerate singular values add input/output
    rotations.
    """
    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    k = check_int("n_active", n_active, minimum=0)
    if k > w:
        raise InputError(f"n_active must be <= width = {w}, got {k}")
    return (L - 1) * (k * (w - k) + k * (k - 1) // 2)


def orbit_tangents(net: DeepLinearNetwork, theta) -> np.ndarray:
    """Tangent vectors of the hidden-layer rotation orbit at ``theta``, one per generator.

    For hidden layer ``l = 1..L-1`` and unit pair ``i < j`` the generator ``Omega = E_ij - E_ji`` moves
    ``W_l -> Omega W_l`` and ``W_{l+1} -> -W_{l+1} Omega``. Columns are ordered by layer, then by
    ``(i, j)`` in ``numpy.triu_indices(w, 1)`` order.

    Returns
    -------
    array, shape (D, (L-1) w (w-1) / 2)
        Unnormalised tangents; their rank is :func:`orbit_dimension` at an embedded point, their Gram
        matrix is the metric the orbit inherits from weight space (for Eyring-Kramers with zero modes).
        At a stationary point ``H @ T = 0`` up to rounding.
    """
    Ws = net.unpack(theta)
    L, w = net.depth, net.width
    offs = np.concatenate([[0], np.cumsum([W.size for W in Ws])])
    iu, ju = np.triu_indices(w, 1)
    n_pair = iu.size
    T = np.zeros((net.n_params, (L - 1) * n_pair))
    for l in range(L - 1):  # hidden layer between Ws[l] (output side) and Ws[l + 1] (input side)
        W, Wn = Ws[l], Ws[l + 1]
        for c, (i, j) in enumerate(zip(iu, ju)):
            dW = np.zeros_like(W)
            dW[i], dW[j] = W[j], -W[i]  # Omega W
            dWn = np.zeros_like(Wn)
            dWn[:, j], dWn[:, i] = -Wn[:, i], Wn[:, j]  # -Wn Omega
            col = l * n_pair + c
            T[offs[l] : offs[l + 1], col] = dW.ravel()
            T[offs[l + 1] : offs[l + 2], col] = dWn.ravel()
    return T


@dataclass(frozen=True, eq=False)
class StationaryPoint:
    """A constructed stationary point and its Hessian spectrum.

    Attributes
    ----------
    theta : array (D,)
        The point (layout in the module docstring).
    modes : tuple of str
        ``"trivial" | "saddle" | "learned"`` per singular value of Sigma_yx (descending order).
    amplitudes : array (p,)
        Per-layer amplitude a_i of each mode (0 for trivial ones); end-to-end singular value a_i^L.
    loss : float
        ``Loss(theta)`` including the constant ``tr(Sigma_yy)/2``.
    energy : float
        ``loss - Loss(0)``: the sum of the per-mode ``u(a_i)`` (times ``v_i^T Sigma_xx v_i``).
    gradient_norm : float
        ``|grad Loss(theta)|``; ~1e-15 at a correctly built point.
    eigenvalues : array (D,), ascending; eigenvectors : array (D, D), columns.
    index : int
        Number of eigenvalues ``< -tol``.
    n_zero : int
        Number of eigenvalues with ``|mu| <= tol``.
    tol : float
        Zero-mode threshold used (default ``1e-8 * max|mu|``, see :func:`default_tolerance`).
    orbit_dimension : int
        Dimension of the hidden-layer rotation orbit (:func:`orbit_dimension`), the expected ``n_zero``.
    seed : int | None
        Seed of the random hidden frames, if an integer seed was given.
    """

    theta: np.ndarray
    modes: tuple[str, ...]
    amplitudes: np.ndarray
    loss: float
    energy: float
    gradient_norm: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    index: int
    n_zero: int
    tol: float
    orbit_dimension: int
    seed: int | None = None

    @property
    def kind(self) -> str:
        """The modes as one string, e.g. ``"learned,trivial"``."""
        return ",".join(self.modes)

    @property
    def is_isolated(self) -> bool:
        """True when the Hessian has no zero modes (the isolated Eyring-Kramers formula may apply)."""
        return self.n_zero == 0

    @property
    def unstable_direction(self) -> np.ndarray | None:
        """Unit eigenvector of the most negative Hessian eigenvalue (the escape direction), shape ``(D,)``.

        ``None`` when ``index == 0``. Sign: ``e . theta > 0`` (moving along +e grows the point away from
        theta = 0, towards the learned state of the saddle mode); if ``e . theta == 0``, the largest
        component is positive.
        """
        if self.index == 0:
            return None
        e = self.eigenvectors[:, 0].copy()
        s = float(np.dot(e, self.theta))
        if abs(s) <= 1e-12 * max(1.0, float(np.linalg.norm(self.theta))):
            s = e[np.argmax(np.abs(e))]
        return e if s > 0 else -e

    @property
    def nonzero_eigenvalues(self) -> np.ndarray:
        """Eigenvalues with ``|mu| > tol`` (ascending): the curvatures transverse to the zero modes."""
        return self.eigenvalues[np.abs(self.eigenvalues) > self.tol]

    @property
    def log_abs_det_nonzero(self) -> float:
        """``sum log|mu|`` over :attr:`nonzero_eigenvalues` (``log|det H|`` when ``n_zero == 0``)."""
        return float(np.sum(np.log(np.abs(self.nonzero_eigenvalues))))

    @property
    def unstable_eigenvalue(self) -> float | None:
        """The most negative eigenvalue ``mu_1 < 0`` (``None`` when ``index == 0``)."""
        return None if self.index == 0 else float(self.eigenvalues[0])

    def to_dict(self, n_eigenvalues: int | None = None) -> dict:
        """JSON-ready dict; eigenvectors omitted. ``n_eigenvalues`` keeps only the smallest ones."""
        ev = self.eigenvalues if n_eigenvalues is None else self.eigenvalues[:n_eigenvalues]
        return {
            "modes": list(self.modes), "amplitudes": self.amplitudes.tolist(), "loss": self.loss,
            "energy": self.energy, "gradient_norm": self.gradient_norm, "index": self.index,
            "n_zero": self.n_zero, "orbit_dimension": self.orbit_dimension, "tol": self.tol,
            "eigenvalues": ev.tolist(), "theta": self.theta.tolist(), "seed": self.seed,
        }


def _analyse(net: DeepLinearNetwork, theta: np.ndarray, modes, amplitudes, energy, k, seed, tol):
    spec = hessian_spectrum(net, theta, tol)
    theta = np.array(theta, dtype=float)
    theta.setflags(write=False)
    return StationaryPoint(
        theta=theta, modes=tuple(modes), amplitudes=np.asarray(amplitudes, dtype=float),
        loss=net.loss(theta), energy=float(energy), gradient_norm=float(np.linalg.norm(net.grad(theta))),
        eigenvalues=spec.eigenvalues, eigenvectors=spec.eigenvectors, index=spec.index,
        n_zero=spec.n_zero, tol=spec.tol, orbit_dimension=orbit_dimension(net.depth, net.width, k), seed=seed,
    )


def _check_modes(modes, p: int) -> tuple[str, ...]:
    if isinstance(modes, str):
        modes = [m.strip() for m in modes.split(",")]
    try:
        modes = tuple(modes)
    except TypeError:
        raise InputError(f"modes must be a sequence of {'|'.join(MODE_KINDS)}, got {_fmt(modes)}") from None
    if not 1 <= len(modes) <= p:
        raise InputError(f"modes must have 1..dim = {p} entries (one per singular value), got {len(modes)}: "
                         f"{_fmt(modes)}")
    for m in modes:
        if m not in MODE_KINDS:
            raise InputError(f"modes entries must be one of {', '.join(MODE_KINDS)}, got {_fmt(m)}")
    return modes + ("trivial",) * (p - len(modes))


def stationary_point(
    net: DeepLinearNetwork,
    modes,
    rng: np.random.Generator | int | None = None,
    tol: float | None = None,
) -> StationaryPoint:
    """Embed the balanced, aligned per-mode solution into weight space and analyse its Hessian.

    Parameters
    ----------
    net : DeepLinearNetwork
    modes : sequence of str (or one comma-separated string)
        ``"trivial" | "saddle" | "learned"`` per singular value of Sigma_yx in descending order
        (``U, eta, V^T = svd(Sigma_yx)``). Fewer than ``dim`` entries: the rest are trivial.
    rng : Generator | int | None
        ``None`` (default): the k non-trivial modes use hidden units ``0..k-1`` of every hidden layer.
        Otherwise each hidden layer gets a Haar-random orthonormal k-frame ``Q_l`` (w x k) from ``rng``.
    tol : float, optional
        Zero-mode threshold, see :func:`hessian_spectrum`.

    Returns
    -------
    StationaryPoint

    Examples
    --------
    The worked example of docs/theory.md (L = 3, eta = 0.8, beta = 0.32) as a scalar chain:

    >>> net = DeepLinearNetwork.from_singular_values(3, 1, 1, [0.8], 0.32)
    >>> sp = stationary_point(net, ["saddle"])
    >>> sp.index, sp.n_zero, round(sp.energy, 6)
    (1, 0, 0.028453)

    Notes
    -----
    With active modes ``S`` and amplitudes ``a = a_S``::

        W_1 = Q_1 diag(a) V_S^T,  W_l = Q_l diag(a) Q_{l-1}^T (1 < l < L),  W_L = U_S diag(a) Q_{L-1}^T

    so ``W_L..W_1 = U_S diag(a^L) V_S^T``. The amplitudes come from
    :func:`langevin_grok.landscape.modes.stationary_amplitudes` (index 0 saddle, 1 learned).

    Supported Sigma_xx: every active right singular vector ``v_i`` must be an eigenvector of Sigma_xx,
    ``Sigma_xx v_i = s_i v_i`` with ``s_i > 0`` (always true for Sigma_xx = I, the data model of
    docs/theory.md). The mode then solves the per-mode problem with ``eta_i / s_i`` and ``beta / s_i``, and
    its energy is ``s_i u(a_i; eta_i/s_i, beta/s_i)``. Anything else raises :class:`InputError`
    (the stationary points are then not aligned with the SVD of Sigma_yx).
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    L, w, p = net.depth, net.width, net.dim
    modes = _check_modes(modes, p)
    active = [i for i, m in enumerate(modes) if m != "trivial"]
    k = len(active)
    if k > w:
        raise InputError(f"width = {w} is smaller than the number of non-trivial modes {k} in {_fmt(list(modes))}")
    gen, seed = (None, None) if rng is None else check_rng(rng)
    U, eta, Vt = np.linalg.svd(net.sigma_yx)
    zero_sv = 1e-12 * max(1.0, float(eta[0]))
    sxx = net.sigma_xx
    sxx_scale = max(1.0, float(np.linalg.norm(sxx, 2)))
    amps = np.zeros(p)
    energy = 0.0
    for i in active:
        if eta[i] <= zero_sv:
            raise InputError(f"modes[{i}] = {modes[i]!r} needs a non-zero singular value, got sv = {eta[i]:.3g}")
        v = Vt[i]
        s = float(v @ sxx @ v)
        if np.linalg.norm(sxx @ v - s * v) > _STRUCT_RTOL * sxx_scale or s <= 0:
            raise InputError(
                f"sigma_xx is not supported for modes[{i}]: the right singular vector of sigma_yx must be an "
                f"eigenvector of sigma_xx with a positive eigenvalue (e.g. sigma_xx = I)")
        a_sad, a_min = stationary_amplitudes(L, float(eta[i]) / s, net.beta / s)
        a = a_sad if modes[i] == "saddle" else a_min
        if a is None:
            raise InputError(
                f"modes[{i}] = {modes[i]!r} does not exist at depth = {L}, sv = {eta[i]:.6g}, beta = {net.beta:.6g}"
                + (" (no saddle for depth 2)" if L == 2 else ""))
        amps[i] = a
        energy += s * float(u(a, L, float(eta[i]) / s, net.beta / s))
    if k == 0:
        theta = np.zeros(net.n_params)
    else:
        a = amps[active]
        if gen is None:
            frames = [np.eye(w)[:, :k] for _ in range(L - 1)]
        else:
            frames = [_haar_orthogonal(gen, w, k) for _ in range(L - 1)]
        Ws = [frames[0] @ (a[:, None] * Vt[active])]
        for l in range(1, L - 1):
            Ws.append((frames[l] * a) @ frames[l - 1].T)
        Ws.append((U[:, active] * a) @ frames[-1].T)
        theta = pack(Ws)
    return _analyse(net, theta, modes, amps, energy, k, seed, tol)


def stationary_points(
    net: DeepLinearNetwork, rng: np.random.Generator | int | None = None, tol: float | None = None
) -> tuple[StationaryPoint, ...]:
    """Every constructible mode combination (product over the p modes of the kinds that exist there,
    with at most ``width`` non-trivial modes), in lexicographic order of ``MODE_KINDS``."""
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    out = []
    for combo in itertools.product(MODE_KINDS, repeat=net.dim):
        if sum(m != "trivial" for m in combo) > net.width:
            continue
        try:
            out.append(stationary_point(net, combo, rng=rng, tol=tol))
        except InputError as exc:
            # Only "does not exist here" (or zero singular value) skips a combination; any other problem
            # with the network is reported.
            if "does not exist" in str(exc) or "non-zero singular value" in str(exc):
                continue
            raise
    return tuple(out)


def equivalent_saddles(net: DeepLinearNetwork, point: StationaryPoint) -> tuple[StationaryPoint, ...]:
    """The 2^(L-1) images of ``point`` under the hidden-unit sign flips of a width-1 network.

    For ``width == 1`` each hidden layer's O(1) = {+1, -1} symmetry flips ``W_l -> d_l W_l d_{l-1}`` with
    ``d_0 = d_L = 1`` and ``d_l = +-1`` for the L-1 hidden units. For the scalar chain (w = p = 1) these
    are exactly the sign patterns of the L weights whose product is positive. Each image is re-analysed
    (loss, gradient, Hessian), so callers can check that all are stationary with equal energy and index.
    The first entry is ``point`` itself (all ``d_l = +1``). The 2^(L-1) images are distinct when no
    layer is zero (e.g. the scalar-chain saddle, so ``n_sad = 2^(L-1)`` for the escape from 0); the
    trivial point is its own image, so count distinct thetas rather than entries in general.

    For ``width > 1`` the sign flips lie on a continuous rotation orbit (the saddle is not isolated),
    so there is no finite count and :class:`InputError` is raised.
    """
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    if net.width != 1:
        raise InputError(
            f"width = {net.width}: equivalent saddles form a continuous O(width) orbit for width > 1, "
            "not a finite set; use StationaryPoint.n_zero / orbit_dimension")
    theta = _as_theta(point.theta, net.n_params, name="point.theta")
    L = net.depth
    k = int(np.sum(np.asarray(point.amplitudes) != 0))
    out = []
    for flips in itertools.product((1.0, -1.0), repeat=L - 1):
        d = (1.0,) + flips + (1.0,)
        Ws = [d[l + 1] * W * d[l] for l, W in enumerate(_unpack(theta, net.shapes))]
        out.append(_analyse(net, pack(Ws), point.modes, point.amplitudes, point.energy, k, point.seed, point.tol))
    return tuple(out)
