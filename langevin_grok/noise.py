"""Mini-batch gradient noise of a deep linear network at a given state, and its temperature.

For training samples (x_n, y_n), n = 1..N, the per-sample loss is ``1/2 |f(x_n) - y_n|^2 + beta/2 |theta|^2``
and its gradient ``g_n`` (the weight-decay part is the same for every sample, so it drops out of the
covariance). The per-sample gradient covariance over the training set is

    C = 1/N sum_n (g_n - gbar)(g_n - gbar)^T,      gbar = 1/N sum_n g_n,

so that a batch of B samples drawn with replacement has gradient covariance ``C / B`` (times
``(N-B)/(N-1)`` without replacement). Along a unit direction e the relevant variance is
``c_e = e^T C e``, and SGD at learning rate lr is Langevin dynamics at ``T = lr c / (2B)``
(:func:`langevin_grok.temperature.sgd_temperature`).

Dead directions: a hidden unit whose incoming and outgoing weights are all zero gets an exactly zero
gradient from every sample, so ``c_e = 0`` exactly along a direction that only moves such units. That
is an absorbing trap for plain SGD: :class:`GradientNoise` says so in ``escape_noise_zero`` and its
direction temperature is then 0; no finite escape time may be predicted from it.

``theta`` uses the flat layout of :mod:`langevin_grok.network` (``W_1 .. W_L`` row-major).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._checks import InputError, check_beta, check_depth, check_int, check_nonnegative, check_positive
from .landscape import mode_landscape
from .network import DeepLinearNetwork, stationary_point, unpack
from .temperature import sgd_temperature

__all__ = [
    "per_sample_grads",
    "GradientNoise",
    "gradient_noise",
    "escape_direction",
    "relevant_saddle",
]


def _as_data(X, Y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.shape != X.shape or X.shape[0] < 1:
        raise InputError(f"X and Y must be (N, p) arrays of one shape with N >= 1, got {X.shape} and {Y.shape}")
    return X, Y


def per_sample_grads(theta, X, Y, depth: int, width: int) -> np.ndarray:
    """Gradients of ``1/2 |f(x_n) - y_n|^2`` for every sample, shape ``(N, D)`` (data part only).

    Vectorised over samples: ``dl_n/dW_l = delta_{l,n} h_{l-1,n}^T`` with forward activations
    ``h_{l,n} = W_l h_{l-1,n}`` and back-propagated residuals ``delta_{l-1,n} = W_l^T delta_{l,n}``,
    ``delta_{L,n} = f(x_n) - y_n``. Their mean plus ``beta theta`` is the full-batch gradient of
    :meth:`langevin_grok.network.DeepLinearNetwork.grad` built with ``from_data(X, Y)``.
    """
    X, Y = _as_data(X, Y)
    L = check_depth(depth)
    p = X.shape[1]
    Ws = unpack(theta, L, check_int("width", width, minimum=1), p)
    hs = [X]
    for W in Ws:
        hs.append(hs[-1] @ W.T)
    delta = hs[-1] - Y
    out = [None] * L
    for l in range(L - 1, -1, -1):
        out[l] = np.einsum("no,ni->noi", delta, hs[l]).reshape(X.shape[0], -1)
        if l:
            delta = delta @ Ws[l]
    return np.concatenate(out, axis=1)


@dataclass(frozen=True)
class GradientNoise:
    """Per-sample gradient covariance at one state.

    Attributes
    ----------
    n_train, n_params : N and D.
    trace : ``tr C``; mean_variance : ``tr C / D`` (the isotropic c).
    eigenvalues : (k,) top eigenvalues of C, descending; eigenvectors : (D, k) columns.
    direction_variance : ``c_e = e^T C e`` along the given unit direction (None if none given).
    escape_noise_zero : True if ``c_e <= zero_rtol * tr C`` (or both are 0): the direction receives no
        gradient noise and plain SGD cannot escape along it (absorbing trap). None without a direction.
    exactly_zero : True if ``c_e`` is exactly 0.0 in floating point.
    lr, batch, replacement : SGD settings used for the temperatures (None if not given).
    temperature_iso : ``lr (tr C / D) / (2B)`` (with the without-replacement factor unless
        ``replacement``); temperature_direction : the same with ``c_e`` (0 when escape_noise_zero).
    zero_rtol : threshold used for escape_noise_zero.
    """

    n_train: int
    n_params: int
    trace: float
    mean_variance: float
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray = field(repr=False)
    direction_variance: float | None = None
    escape_noise_zero: bool | None = None
    exactly_zero: bool | None = None
    lr: float | None = None
    batch: int | None = None
    replacement: bool = False
    temperature_iso: float | None = None
    temperature_direction: float | None = None
    zero_rtol: float = 1e-12

    def to_dict(self) -> dict:
        return {
            "n_train": self.n_train, "n_params": self.n_params, "trace": self.trace,
            "mean_variance": self.mean_variance, "eigenvalues": self.eigenvalues.tolist(),
            "direction_variance": self.direction_variance, "escape_noise_zero": self.escape_noise_zero,
            "exactly_zero": self.exactly_zero, "lr": self.lr, "batch": self.batch,
            "replacement": self.replacement, "temperature_iso": self.temperature_iso,
            "temperature_direction": self.temperature_direction, "zero_rtol": self.zero_rtol,
        }


def gradient_noise(theta, X, Y, depth: int, width: int, *, direction=None, lr: float | None = None,
                   batch: int | None = None, replacement: bool = False, n_top: int = 5,
                   zero_rtol: float = 1e-12) -> GradientNoise:
    """Per-sample gradient covariance C at ``theta`` on the samples ``X, Y`` (N, p).

    Parameters
    ----------
    theta : (D,) array
        The state (layout of :mod:`langevin_grok.network`).
    direction : (D,) array, optional
        Direction e (normalised here), e.g. :func:`escape_direction`.
    lr, batch : optional
        Give both to get the temperatures ``T = lr c / (2B)``; ``batch`` must be <= N.
    replacement : bool
        Batches with replacement (no ``(N-B)/(N-1)`` factor).
    n_top : int
        Number of top eigenpairs of C to return.
    zero_rtol : float
        ``c_e <= zero_rtol tr C`` counts as zero noise on the direction (exact zeros stay exact; the
        tolerance absorbs the ~1e-16 leakage of a numerically computed eigenvector).
    """
    X, Y = _as_data(X, Y)
    G = per_sample_grads(theta, X, Y, depth, width)
    N, D = G.shape
    dev = G - G.mean(axis=0)
    C = dev.T @ dev / N
    trace = float(np.einsum("nd,nd->", dev, dev) / N)
    k = check_int("n_top", n_top, minimum=0)
    k = min(k, D)
    w, v = np.linalg.eigh(C)
    order = np.argsort(w)[::-1][:k]
    zero_rtol = check_nonnegative("zero_rtol", zero_rtol)
    c_e = zero = exact = None
    if direction is not None:
        e = np.asarray(direction, dtype=float).ravel()
        if e.shape != (D,) or not np.all(np.isfinite(e)) or not np.any(e):
            raise InputError(f"direction must be a finite non-zero vector of length D = {D}, got shape {e.shape}")
        e = e / np.linalg.norm(e)
        proj = dev @ e  # c_e without forming C, so an exact zero stays exact
        c_e = float(proj @ proj / N)
        exact = c_e == 0.0
        zero = bool(c_e <= zero_rtol * trace)
    T_iso = T_dir = None
    if (lr is None) != (batch is None):
        raise InputError("give both lr and batch (or neither) for the temperatures")
    if lr is not None:
        lr = check_positive("lr", lr)
        batch = check_int("batch", batch, minimum=1)
        T_iso = sgd_temperature(lr, batch, trace / D, n_train=N, replacement=replacement)
        if c_e is not None:
            T_dir = 0.0 if zero else sgd_temperature(lr, batch, c_e, n_train=N, replacement=replacement)
    return GradientNoise(
        n_train=N, n_params=D, trace=trace, mean_variance=trace / D, eigenvalues=w[order],
        eigenvectors=v[:, order], direction_variance=c_e, escape_noise_zero=zero, exactly_zero=exact,
        lr=lr, batch=batch, replacement=bool(replacement), temperature_iso=T_iso, temperature_direction=T_dir,
        zero_rtol=zero_rtol,
    )


def escape_direction(net: DeepLinearNetwork, saddle_modes) -> np.ndarray:
    """Unit escape direction: the unstable Hessian eigenvector of the saddle ``saddle_modes`` (one entry
    per mode, exactly one ``"saddle"``), from :func:`langevin_grok.network.stationary_point` in its
    canonical frame (mode i on hidden unit i). Raises InputError if the point has no unstable direction."""
    sp = stationary_point(net, saddle_modes)
    e = sp.unstable_direction
    if e is None:
        raise InputError(f"stationary point {sp.kind} has no unstable direction (index 0)")
    return e


def relevant_saddle(depth: int, sv, beta: float, state_modes) -> tuple[tuple[str, ...], int, str] | None:
    """The saddle a state escapes through, by the per-mode landscape at ``beta``.

    ``state_modes`` gives "trivial" or "learned" per mode. The escaping mode is the first mode whose
    state is metastable (bistable, and its state not the global phase); failing that, the first
    bistable mode in the trivial state (the seed paper's forward escape). Returns
    ``(saddle_modes, mode_index, "forward" | "reverse")`` or None when no mode is bistable.
    """
    L = check_depth(depth)
    beta = check_beta(beta)
    modes = tuple(state_modes)
    sv = list(np.atleast_1d(np.asarray(sv, dtype=float)))
    if len(modes) != len(sv):
        raise InputError(f"state_modes must have one entry per sv ({len(sv)}), got {len(modes)}")
    bist = []
    for i, (m, eta) in enumerate(zip(modes, sv)):
        if m not in ("trivial", "learned"):
            raise InputError(f"state_modes entries must be 'trivial' or 'learned', got {m!r}")
        if eta <= 0:
            continue
        ml = mode_landscape(L, eta, beta)
        if ml.phase == "bistable":
            bist.append((i, m, ml.global_phase))
    pick = next(((i, m) for i, m, g in bist if m != g), None)
    if pick is None:
        pick = next(((i, m) for i, m, g in bist if m == "trivial"), None)
    if pick is None:
        return None
    i, m = pick
    saddle = list(modes)
    saddle[i] = "saddle"
    return tuple(saddle), i, ("forward" if m == "trivial" else "reverse")
