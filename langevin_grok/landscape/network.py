"""Weight space of an L2-regularised deep linear network: loss, analytic gradient and Hessian.

Stationary points, Hessian spectra and symmetry orbits are :mod:`langevin_grok.landscape.stationary`.

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

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import InputError, check_beta, check_depth, check_int, check_rng, check_sv

__all__ = [
    "DeepLinearNetwork",
    "layer_shapes",
    "n_params",
    "pack",
    "unpack",
    "loss_fn",
    "grad_fn",
    "drift_fn",
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


