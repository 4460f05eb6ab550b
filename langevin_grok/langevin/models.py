"""Problem definitions for the Langevin engine: potentials and gradients in one place.

A :class:`Model` is one gradient field ``grad U(x)`` with its parameter vector ``p`` (1-D float64),
usable two ways from the same definition:

- numpy functions ``potential(t, x, p)`` and ``grad(t, x, p)`` (the package's calling convention),
  used by the sdeint reference integrator (:func:`langevin_grok.langevin.reference.simulate_reference`) and by
  anything that wants to evaluate the field in Python;
- a numba-compiled gradient selected by the model's integer ``code`` inside the ensemble kernel
  (:func:`grad_into`), compiled once for all model kinds and cached on disk.

Model kinds
-----------
``arc``
    The 1-D reduced coordinate: arc length ``r = sqrt(L) a`` on the balanced path,
    ``U(r) = u(r / sqrt(L))`` with ``p = (depth, eta, beta)``. The numpy side is
    :func:`langevin_grok.landscape.modes.arc_potential` / :func:`~langevin_grok.landscape.modes.arc_force`.
``chain``
    The scalar chain (width = dim = 1) of depth L in its full L-dimensional weight space,
    ``U(w) = 1/2 (prod_l w_l - eta)^2 + beta/2 sum_l w_l^2`` (constant ``1/2 Sigma_yy - 1/2 eta^2``
    dropped), ``p = (depth, eta, beta)``.
``network``
    The general deep linear network of :class:`langevin_grok.landscape.network.DeepLinearNetwork`
    (population loss ``1/2 tr(W Sxx W^T) - tr(W Syx^T) + 1/2 tr Syy + beta/2 |theta|^2``, layers
    packed ``concat(W_1.ravel(), ..., W_L.ravel())``), ``p = net.params``; the numpy side is
    :mod:`langevin_grok.landscape.network`, the compiled gradient lives here.
``quadratic``
    ``U(x) = k/2 |x|^2`` in any dimension (Ornstein-Uhlenbeck process; ``k = 0`` is free diffusion),
    ``p = (k,)``. Used by the tests that have exact solutions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np

from .._core.checks import InputError, check_beta, check_depth, check_int, check_nonnegative, check_sv
from ..landscape import network as _network
from ..landscape.modes import arc_force, arc_potential

__all__ = [
    "Model",
    "MODEL_KINDS",
    "arc_model",
    "chain_model",
    "network_model",
    "quadratic_model",
    "chain_potential",
    "chain_grad",
    "network_product",
    "quadratic_potential",
    "quadratic_grad",
    "arc_grad",
    "grad_into",
    "grad_1d",
    "model_constants",
    "work_size",
]

# Integer codes the compiled kernel dispatches on (one compiled function for all kinds).
ARC, CHAIN, NETWORK, QUADRATIC = 0, 1, 2, 3
MODEL_KINDS = {"arc": ARC, "chain": CHAIN, "network": NETWORK, "quadratic": QUADRATIC}


# --------------------------------------------------------------------------- numpy side
def arc_grad(t, r, p):
    """``dU/dr`` on the arc (minus :func:`langevin_grok.landscape.modes.arc_force`)."""
    return -arc_force(t, r, p)


def chain_potential(t, w, p):
    """``1/2 (prod w - eta)^2 + beta/2 |w|^2`` for the scalar chain; ``w`` of shape ``(L,)`` or ``(n, L)``."""
    w = np.asarray(w, dtype=float)
    eta, beta = p[1], p[2]
    prod = np.prod(w, axis=-1)
    return 0.5 * (prod - eta) ** 2 + 0.5 * beta * np.sum(w * w, axis=-1)


def _prod_except(w):
    # prod_{k != l} w_k by prefix/suffix products: exact when some w_k = 0 (no division).
    w = np.asarray(w, dtype=float)
    ones = np.ones(w.shape[:-1] + (1,))
    pre = np.cumprod(np.concatenate([ones, w[..., :-1]], axis=-1), axis=-1)
    suf = np.cumprod(np.concatenate([ones, w[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    return pre * suf


def chain_grad(t, w, p):
    """Gradient of :func:`chain_potential`: ``(prod w - eta) prod_{k!=l} w_k + beta w_l``."""
    w = np.asarray(w, dtype=float)
    eta, beta = p[1], p[2]
    prod = np.prod(w, axis=-1, keepdims=True)
    return (prod - eta) * _prod_except(w) + beta * w


def network_product(x, p) -> np.ndarray:
    """End-to-end matrix ``W = W_L ... W_1`` of shape ``(dim, dim)`` from the packed ``x`` and
    ``p = DeepLinearNetwork.params``."""
    Ws = _network.unpack(np.asarray(x, dtype=float), int(p[0]), int(p[1]), int(p[2]))
    W = Ws[0]
    for Wl in Ws[1:]:
        W = Wl @ W
    return W


def quadratic_potential(t, x, p):
    """``k/2 |x|^2`` (sum over the last axis)."""
    x = np.asarray(x, dtype=float)
    return 0.5 * p[0] * np.sum(x * x, axis=-1)


def quadratic_grad(t, x, p):
    """``k x``."""
    return p[0] * np.asarray(x, dtype=float)


# --------------------------------------------------------------------------- model object
@dataclass(frozen=True, eq=False)
class Model:
    """A gradient field ``grad U`` for the Langevin engine.

    Attributes
    ----------
    kind : str
        ``"arc"``, ``"chain"``, ``"network"`` or ``"quadratic"``.
    code : int
        Integer the compiled kernel dispatches on.
    dim : int
        Dimension of the state ``x``.
    params : ndarray, shape (n_params,)
        Parameter vector ``p`` (float64, read-only) passed to every ``f(t, x, p)``.
    depth, sv, beta : int or None, float or None, float or None
        The per-mode landscape inputs where the model has them (arc and chain; the network keeps
        ``sv`` as the singular values of Syx).
    """

    kind: str
    code: int
    dim: int
    params: np.ndarray
    depth: int | None = None
    sv: np.ndarray | float | None = None
    beta: float | None = None
    extra: dict = field(default_factory=dict)

    def potential(self, t, x):
        """``U(x)`` through the numpy definition."""
        return _POTENTIALS[self.kind](t, x, self.params)

    def grad(self, t, x):
        """``grad U(x)`` through the numpy definition; shape of ``x``."""
        return _GRADS[self.kind](t, x, self.params)

    def drift(self, t, x):
        """``-grad U(x)`` (the Langevin drift)."""
        return -np.asarray(self.grad(t, x), dtype=float)

    def compiled_grad(self, x) -> np.ndarray:
        """``grad U(x)`` through the compiled kernel function (for tests and cross-checks)."""
        x = np.ascontiguousarray(x, dtype=float).reshape(self.dim)
        out = np.empty(self.dim)
        work = np.empty(work_size(self.code, self.params))
        grad_into(self.code, x, self.params, model_constants(self.code, self.params), out, work)
        return out

    def to_dict(self) -> dict:
        """Small JSON-ready description."""
        sv = self.sv
        if isinstance(sv, np.ndarray):
            sv = sv.tolist()
        return {"kind": self.kind, "dim": self.dim, "depth": self.depth, "sv": sv, "beta": self.beta}


# The network's numpy side is langevin_grok.landscape.network (one definition of the weight-space loss).
_POTENTIALS = {"arc": arc_potential, "chain": chain_potential, "network": _network.loss_fn,
               "quadratic": quadratic_potential}
_GRADS = {"arc": arc_grad, "chain": chain_grad, "network": _network.grad_fn, "quadratic": quadratic_grad}


def _frozen(a) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def arc_model(depth: int, sv: float, beta: float) -> Model:
    """1-D arc-length model ``U(r) = u(r / sqrt(L))``, ``p = (depth, eta, beta)``."""
    L = check_depth(depth)
    eta = float(check_sv(sv)[0])
    beta = check_beta(beta)
    return Model("arc", ARC, 1, _frozen([L, eta, beta]), depth=L, sv=eta, beta=beta)


def chain_model(depth: int, sv: float, beta: float) -> Model:
    """Scalar chain (width = dim = 1) of depth L in its L-dimensional weight space."""
    L = check_depth(depth)
    eta = float(check_sv(sv)[0])
    beta = check_beta(beta)
    return Model("chain", CHAIN, L, _frozen([L, eta, beta]), depth=L, sv=eta, beta=beta)


def network_model(net) -> Model:
    """General deep linear network in its full weight space.

    Parameters
    ----------
    net : langevin_grok.landscape.network.DeepLinearNetwork
        ``p = net.params`` (``[L, w, p, beta, Sxx, Syx, Syy]``); the numpy side is
        :func:`langevin_grok.landscape.network.loss_fn` / :func:`~langevin_grok.landscape.network.grad_fn`, the compiled
        gradient is :func:`grad_into` (tested against it).
    """
    if not isinstance(net, _network.DeepLinearNetwork):
        raise InputError(f"net must be a langevin_grok.landscape.network.DeepLinearNetwork, got {net!r}")
    sv = np.linalg.svd(net.sigma_yx, compute_uv=False)
    return Model("network", NETWORK, net.n_params, _frozen(net.params), depth=net.depth, sv=sv, beta=net.beta,
                 extra={"width": net.width, "dim": net.dim, "net": net})


def quadratic_model(stiffness: float, dim: int = 1) -> Model:
    """``U(x) = k/2 |x|^2`` in ``dim`` dimensions (Ornstein-Uhlenbeck; ``k = 0``: free diffusion)."""
    k = check_nonnegative("stiffness", stiffness)
    d = check_int("dim", dim, minimum=1)
    return Model("quadratic", QUADRATIC, d, _frozen([k]), extra={"stiffness": k})


# --------------------------------------------------------------------------- compiled side
@numba.njit(cache=True)
def _ipow(a, n):
    # starts from a, not 1.0: one multiplication less on the kernel's step-to-step dependency chain
    if n <= 0:
        return 1.0
    out = a
    for _ in range(n - 1):
        out *= a
    return out


def work_size(code: int, p: np.ndarray) -> int:
    """Length of the scratch array :func:`grad_into` needs for this model."""
    if code == CHAIN:
        return int(p[0]) + 1
    if code == NETWORK:
        L, w, d = int(p[0]), int(p[1]), int(p[2])
        m = max(w, d)
        return 2 * L * m * d + 2 * d * d + m * d + 1
    return 1


@numba.njit(cache=True)
def _layer_rows(l, L, w, d):
    return d if l == L - 1 else w


@numba.njit(cache=True)
def _layer_cols(l, w, d):
    return d if l == 0 else w


@numba.njit(cache=True)
def _layer_off(l, w, d):
    return 0 if l == 0 else w * d + (l - 1) * w * w


@numba.njit(cache=True)
def network_products(x, p, work):
    """Prefix products ``P_l = W_{l-1}...W_1`` (``pre[l]``, rows ``c_l`` used, shape (m, d)), suffix
    products ``S_l = W_L...W_{l+1}`` (``suf[l]``, columns ``r_l`` used, shape (d, m)) and the
    end-to-end ``W`` (d, d), all views into ``work``; layer l (0-based) is ``(r_l, c_l)``."""
    L = int(p[0])
    w = int(p[1])
    d = int(p[2])
    m = max(w, d)
    pre = work[0:L * m * d].reshape((L, m, d))
    suf = work[L * m * d:2 * L * m * d].reshape((L, d, m))
    W = work[2 * L * m * d:2 * L * m * d + d * d].reshape((d, d))
    for i in range(d):
        for j in range(d):
            pre[0, i, j] = 1.0 if i == j else 0.0
            suf[L - 1, i, j] = 1.0 if i == j else 0.0
    for l in range(1, L):
        # P_l = W_{l-1} @ P_{l-1}: (r, c) @ (c, d)
        r = _layer_rows(l - 1, L, w, d)
        c = _layer_cols(l - 1, w, d)
        o = _layer_off(l - 1, w, d)
        for i in range(r):
            for j in range(d):
                s = 0.0
                for k in range(c):
                    s += x[o + i * c + k] * pre[l - 1, k, j]
                pre[l, i, j] = s
    for l in range(L - 2, -1, -1):
        # S_l = S_{l+1} @ W_{l+1}: (d, r) @ (r, c)
        r = _layer_rows(l + 1, L, w, d)
        c = _layer_cols(l + 1, w, d)
        o = _layer_off(l + 1, w, d)
        for i in range(d):
            for j in range(c):
                s = 0.0
                for k in range(r):
                    s += suf[l + 1, i, k] * x[o + k * c + j]
                suf[l, i, j] = s
    # W = W_L @ P_{L-1}
    r = _layer_rows(L - 1, L, w, d)
    c = _layer_cols(L - 1, w, d)
    o = _layer_off(L - 1, w, d)
    for i in range(r):
        for j in range(d):
            s = 0.0
            for k in range(c):
                s += x[o + i * c + k] * pre[L - 1, k, j]
            W[i, j] = s
    return pre, suf, W


@numba.njit(cache=True)
def model_constants(code, p, scale=1.0):
    """Per-model constants the compiled gradient reads instead of recomputing them every step
    (keeps square roots and divisions off the step-to-step dependency chain). With ``scale``
    :func:`grad_1d` returns ``scale * dU/dr`` (the 1-D kernel folds ``dt`` in, one multiplication
    less per step); :func:`grad_into` reads only the unscaled entries.

    Arc: ``[L, eta, beta, 1/sqrt(L), L/sqrt(L), A, B, C]`` with ``scale * dU/dr =
    A r^(2L-1) + B r^(L-1) + C r`` (the polynomial in ``r`` itself: no rescaling ``a = r/sqrt(L)``
    and no outer factor on the chain). Other models: ``p`` (quadratic: stiffness times ``scale``).
    """
    if code == 0:
        L = int(p[0])
        s = math.sqrt(p[0])
        k = 1.0 / s
        c = scale * (p[0] / s)
        kLm1 = _ipow(k, L - 1)
        return np.array([p[0], p[1], p[2], k, p[0] / s,
                         c * kLm1 * kLm1 * k, -c * p[1] * kLm1, c * p[2] * k])
    q = p.copy()
    if code == 3:
        q[0] *= scale
    return q


@numba.njit(cache=True, inline="always")
def grad_1d(code, r, q):
    """Compiled ``dU/dr`` of a 1-D model (arc or quadratic) at the scalar ``r``; the ensemble kernel
    keeps 1-D states in registers (several times faster than going through arrays). Returns
    ``scale * dU/dr`` when ``q = model_constants(code, p, scale)``."""
    if code == 0:
        # grouped so that the dependency chain from r is r^(L-1) -> square -> *A -> *r -> +
        rLm1 = _ipow(r, int(q[0]) - 1)
        return (q[5] * (rLm1 * rLm1)) * r + (q[6] * rLm1 + q[7] * r)
    return q[0] * r


@numba.njit(cache=True, inline="always")
def grad_into(code, x, p, q, out, work):
    """Compiled ``grad U(x)`` written into ``out`` (shape of ``x``); ``q = model_constants(code, p)``,
    ``work`` has :func:`work_size` entries. One function for all model kinds (dispatch on ``code``)."""
    if code == 0:  # arc: dU/dr = u'(a)/sqrt(L) = (L/sqrt(L)) (a^(2L-1) - eta a^(L-1) + beta a), a = r/sqrt(L)
        L = int(q[0])
        a = x[0] * q[3]
        aLm1 = _ipow(a, L - 1)
        out[0] = q[4] * (aLm1 * aLm1 * a - q[1] * aLm1 + q[2] * a)
    elif code == 1:  # chain
        L = int(p[0])
        eta = p[1]
        beta = p[2]
        # suffix products in work, prefix running: prod_{k != l} without division
        work[L] = 1.0
        for l in range(L - 1, -1, -1):
            work[l] = work[l + 1] * x[l]
        prod = work[0]
        c = prod - eta
        pre = 1.0
        for l in range(L):
            out[l] = c * pre * work[l + 1] + beta * x[l]
            pre *= x[l]
    elif code == 2:  # network
        L = int(p[0])
        w = int(p[1])
        d = int(p[2])
        beta = p[3]
        m = max(w, d)
        pre, suf, W = network_products(x, p, work)
        base = 2 * L * m * d + d * d
        E = work[base:base + d * d].reshape((d, d))
        T1 = work[base + d * d:base + d * d + m * d].reshape((m, d))
        sxx0 = 4
        syx0 = 4 + d * d
        for i in range(d):
            for j in range(d):
                s = 0.0
                for k in range(d):
                    s += W[i, k] * p[sxx0 + k * d + j]
                E[i, j] = s - p[syx0 + i * d + j]
        for l in range(L):
            r = _layer_rows(l, L, w, d)
            c = _layer_cols(l, w, d)
            o = _layer_off(l, w, d)
            # T1 = S_l^T E : (r, d)
            for i in range(r):
                for j in range(d):
                    s = 0.0
                    for k in range(d):
                        s += suf[l, k, i] * E[k, j]
                    T1[i, j] = s
            # grad_l = T1 @ P_l^T + beta W_l : (r, c)
            for i in range(r):
                for j in range(c):
                    s = 0.0
                    for k in range(d):
                        s += T1[i, k] * pre[l, j, k]
                    out[o + i * c + j] = s + beta * x[o + i * c + j]
    else:  # quadratic
        k = p[0]
        for i in range(x.shape[0]):
            out[i] = k * x[i]
