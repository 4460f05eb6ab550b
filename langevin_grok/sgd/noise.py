"""Mini-batch gradient noise of a deep linear network at a given state, and its temperature.

For training samples (x_n, y_n), n = 1..N, the per-sample loss is ``1/2 |f(x_n) - y_n|^2 + beta/2 |theta|^2``
and its gradient ``g_n`` (the weight-decay part is the same for every sample, so it drops out of the
covariance). The per-sample gradient covariance over the training set is

    C = 1/N sum_n (g_n - gbar)(g_n - gbar)^T,      gbar = 1/N sum_n g_n,

so that a batch of B samples drawn with replacement has gradient covariance ``C / B`` (times
``(N-B)/(N-1)`` without replacement). Along a unit direction e the relevant variance is
``c_e = e^T C e``, and SGD at learning rate lr is Langevin dynamics at ``T = lr c / (2B)``
(:func:`langevin_grok._core.units.sgd_temperature`).

Dead directions: a hidden unit whose incoming and outgoing weights are all zero gets an exactly zero
gradient from every sample, so ``c_e = 0`` exactly along a direction that only moves such units. That
is an absorbing trap for plain SGD: :class:`GradientNoise` says so in ``escape_noise_zero`` and its
direction temperature is then 0; no finite escape time may be predicted from it.

``theta`` uses the flat layout of :mod:`langevin_grok.landscape.network` (``W_1 .. W_L`` row-major).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataclasses import dataclass, field

import numpy as np

from .._core.checks import InputError, check_beta, check_depth, check_int, check_nonnegative, check_positive
from ..landscape.modes import mode_landscape
from ..landscape.network import DeepLinearNetwork, unpack
from ..landscape.stationary import stationary_point
from .._core.units import sgd_temperature

if TYPE_CHECKING:
    from .data import Dataset

__all__ = [
    "state_noise",
    "per_sample_grads",
    "GradientNoise",
    "gradient_noise",
    "escape_direction",
    "relevant_saddle",
    "rotate_hidden",
    "Alignment",
    "align_hidden",
    "AlignedEscapeNoise",
    "aligned_escape_noise",
    "aligned_escape_noise_ensemble",
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
    :meth:`langevin_grok.landscape.network.DeepLinearNetwork.grad` built with ``from_data(X, Y)``.
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
    escape_noise_zero : True if ``exactly_zero`` or ``c_e <= zero_rtol * tr C`` (or both are 0): the
        direction receives no gradient noise and plain SGD cannot escape along it (absorbing trap). None
        without a direction.
    exactly_zero : True if ``c_e == 0.0``, or if every per-sample gradient deviation ``g_n - gbar`` is
        exactly 0.0 (in floating point) on the direction's support, the coordinates with
        ``|e_i| > support_rtol * max|e|``. A direction computed as a numerical eigenvector of an embedded stationary point (e.g. the unstable direction of a
        saddle that only moves empty hidden units) leaks ~1e-16 onto other weights, which makes
        ``c_e ~ 1e-32`` instead of 0.0; the support test decides the structural zero without that leak.
    direction_support : number of coordinates in the support (None without a direction).
    direction_leak : norm of the unit direction outside its support (None without a direction).
    support_rtol : relative size below which a direction component counts as numerical leakage.
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
    direction_support: int | None = None
    direction_leak: float | None = None
    support_rtol: float = 1e-8

    def to_dict(self) -> dict:
        return {
            "n_train": self.n_train, "n_params": self.n_params, "trace": self.trace,
            "mean_variance": self.mean_variance, "eigenvalues": self.eigenvalues.tolist(),
            "direction_variance": self.direction_variance, "escape_noise_zero": self.escape_noise_zero,
            "exactly_zero": self.exactly_zero, "lr": self.lr, "batch": self.batch,
            "replacement": self.replacement, "temperature_iso": self.temperature_iso,
            "temperature_direction": self.temperature_direction, "zero_rtol": self.zero_rtol,
            "direction_support": self.direction_support, "direction_leak": self.direction_leak,
            "support_rtol": self.support_rtol,
        }


def gradient_noise(theta, X, Y, depth: int, width: int, *, direction=None, lr: float | None = None,
                   batch: int | None = None, replacement: bool = False, n_top: int = 5,
                   zero_rtol: float = 1e-12, support_rtol: float = 1e-8) -> GradientNoise:
    """Per-sample gradient covariance C at ``theta`` on the samples ``X, Y`` (N, p).

    Parameters
    ----------
    theta : (D,) array
        The state (layout of :mod:`langevin_grok.landscape.network`).
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
        tolerance absorbs the ~1e-16 leakage of a numerically computed eigenvector, c_e ~ 1e-32 tr C).
    support_rtol : float
        Components with ``|e_i| <= support_rtol max|e|`` are leakage, not support, for ``exactly_zero``
        (1e-8 sits far above the ~1e-16 leak of an eigenvector and far below any genuine component).
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
    c_e = zero = exact = n_supp = leak = None
    if direction is not None:
        e = np.asarray(direction, dtype=float).ravel()
        if e.shape != (D,) or not np.all(np.isfinite(e)) or not np.any(e):
            raise InputError(f"direction must be a finite non-zero vector of length D = {D}, got shape {e.shape}")
        e = e / np.linalg.norm(e)
        proj = dev @ e  # c_e without forming C, so an exact zero stays exact
        c_e = float(proj @ proj / N)
        support_rtol = check_nonnegative("support_rtol", support_rtol)
        supp = np.abs(e) > support_rtol * np.abs(e).max()
        n_supp = int(supp.sum())
        leak = float(np.linalg.norm(e[~supp]))
        # structural zero: no sample's gradient moves the weights the direction really moves
        exact = bool(c_e == 0.0 or not np.any(G[:, supp] - G[:, supp].mean(axis=0)))
        zero = bool(exact or c_e <= zero_rtol * trace)
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
        zero_rtol=zero_rtol, direction_support=n_supp, direction_leak=leak, support_rtol=float(support_rtol),
    )


def escape_direction(net: DeepLinearNetwork, saddle_modes) -> np.ndarray:
    """Unit escape direction: the unstable Hessian eigenvector of the saddle ``saddle_modes`` (one entry
    per mode, exactly one ``"saddle"``), from :func:`langevin_grok.landscape.stationary.stationary_point` in its
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


# --------------------------------------------------------------------------- frame alignment
def _polar(m: np.ndarray) -> np.ndarray:
    """The orthogonal Q maximising ``<Q, m>`` (orthogonal Procrustes): ``U V^T`` of ``m = U S V^T``."""
    u, _, vt = np.linalg.svd(m)
    return u @ vt


def rotate_hidden(theta, rotations, depth: int, width: int, dim: int) -> np.ndarray:
    """Apply hidden-layer rotations ``Q_1, ..., Q_{L-1}`` (each ``(w, w)`` orthogonal) to ``theta``.

    ``W_1 -> Q_1 W_1``, ``W_l -> Q_l W_l Q_{l-1}^T`` (1 < l < L), ``W_L -> W_L Q_{L-1}^T``. This map is
    linear and orthogonal on weight space and leaves the loss (data part and L2 term) unchanged, so it
    maps a stationary point to a stationary point, a Hessian eigenvector to the eigenvector of the image
    point, and a unit vector to a unit vector. Returns a new ``(D,)`` array.
    """
    L = check_depth(depth)
    Ws = unpack(np.asarray(theta, dtype=float), L, width, dim)
    Qs = list(rotations)
    if len(Qs) != L - 1 or any(np.shape(Q) != (width, width) for Q in Qs):
        raise InputError(f"rotations must be {L - 1} arrays of shape ({width}, {width})")
    out = []
    for l, W in enumerate(Ws):
        W = Qs[l] @ W if l < L - 1 else W
        out.append(W @ Qs[l - 1].T if l > 0 else W)
    return np.concatenate([W.ravel() for W in out])


@dataclass(frozen=True)
class Alignment:
    """Hidden-layer rotations that bring a reference point closest to a target point.

    Attributes
    ----------
    rotations : tuple of L-1 arrays (w, w), orthogonal: ``Q_1 .. Q_{L-1}``.
    residual : ``|theta_target - rotate_hidden(theta_ref, Q)|`` (weight units), the distance from the
        target to the reference's rotation orbit (as found; see :func:`align_hidden`).
    relative_residual : ``residual / |theta_ref|`` (None when theta_ref = 0).
    target_distance : ``|theta_target - theta_ref|`` before alignment (for comparison).
    n_sweeps : block-coordinate sweeps used; converged : the objective stopped decreasing before the cap.
    """

    rotations: tuple
    residual: float
    relative_residual: float | None
    target_distance: float
    n_sweeps: int
    converged: bool

    def to_dict(self) -> dict:
        return {"residual": self.residual, "relative_residual": self.relative_residual,
                "target_distance": self.target_distance, "n_sweeps": self.n_sweeps, "converged": self.converged}


def align_hidden(theta_ref, theta_target, depth: int, width: int, dim: int, *, base=None, fixed_units: int = 0,
                 max_sweeps: int = 200, rtol: float = 1e-13) -> Alignment:
    """Orthogonal hidden-layer rotations minimising ``sum_l |Q_l R_l Q_{l-1}^T - T_l|_F^2``.

    ``R_l`` and ``T_l`` are the layers of ``theta_ref`` and ``theta_target`` (``Q_0 = Q_L = I``: inputs
    and outputs have no symmetry). This is the squared weight-space distance from the target to the
    orbit of the reference under the loss-preserving symmetries.

    Method: block-coordinate descent. With the other rotations fixed, the objective is linear in
    ``Q_l`` through ``<Q_l, M_l>``, ``M_l = T_l Q_{l-1} R_l^T + T_{l+1}^T Q_{l+1} R_{l+1}``, and the exact
    block minimiser is the orthogonal Procrustes solution ``Q_l = polar(M_l)``. Start: a forward pass
    that fits each layer given the previous one (layer-by-layer Procrustes on the hidden frames); then
    sweeps over l = 1..L-1 until the objective decreases by less than ``rtol`` times its scale. Each
    block step cannot increase the objective, so the result is at least as close as the layer-by-layer
    fit; it is exact (residual ~1e-15) when the target is a rotated copy of the reference.

    Parameters
    ----------
    base : sequence of (w, w), optional
        Restrict to ``Q_l = base_l diag(I_k, S_l)`` with ``k = fixed_units`` and S_l orthogonal on the
        other ``w - k`` units: keeps units ``0..k-1`` where ``base`` put them (used to fix the part of the
        frame that a first alignment left undetermined). Default: no restriction (``base = I, k = 0``).
    fixed_units : int
        k above (0 <= k <= w).
    """
    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    k = check_int("fixed_units", fixed_units, minimum=0)
    if k > w:
        raise InputError(f"fixed_units must be <= width = {w}, got {k}")
    R = unpack(np.asarray(theta_ref, dtype=float), L, w, dim)
    T = unpack(np.asarray(theta_target, dtype=float), L, w, dim)
    if not (np.all(np.isfinite(np.concatenate([x.ravel() for x in R])))
            and np.all(np.isfinite(np.concatenate([x.ravel() for x in T])))):
        raise InputError("theta_ref and theta_target must be finite")
    Bs = [np.eye(w)] * (L - 1) if base is None else [np.asarray(b, dtype=float) for b in base]
    if len(Bs) != L - 1 or any(b.shape != (w, w) for b in Bs):
        raise InputError(f"base must be {L - 1} arrays of shape ({w}, {w})")
    eye_p = np.eye(dim)

    def solve(l, M):
        # maximise <B diag(I_k, S), M> = const + <S, (B^T M)[k:, k:]>
        if k == 0:
            return Bs[l] @ _polar(Bs[l].T @ M)
        S = np.eye(w)
        if k < w:
            S[k:, k:] = _polar((Bs[l].T @ M)[k:, k:])
        return Bs[l] @ S

    def objective(Q):
        Qf = [eye_p] + list(Q) + [eye_p]
        return sum(float(np.sum((Qf[l + 1] @ R[l] @ Qf[l].T - T[l]) ** 2)) for l in range(L))

    Q = list(Bs)
    for l in range(L - 1):  # forward pass: layer l+1 (0-based l) given Q_{l-1}
        prev = eye_p if l == 0 else Q[l - 1]
        Q[l] = solve(l, T[l] @ prev @ R[l].T)
    scale = sum(float(np.sum(x * x)) for x in R) + sum(float(np.sum(x * x)) for x in T)
    f = objective(Q)
    sweeps, converged = 0, False
    while sweeps < max_sweeps:
        sweeps += 1
        for l in range(L - 1):
            prev = eye_p if l == 0 else Q[l - 1]
            nxt = eye_p if l == L - 2 else Q[l + 1]
            Q[l] = solve(l, T[l] @ prev @ R[l].T + T[l + 1].T @ nxt @ R[l + 1])
        f_new = objective(Q)
        if f - f_new <= rtol * max(scale, 1e-300):
            f, converged = min(f, f_new), True
            break
        f = f_new
    res = float(np.sqrt(max(f, 0.0)))
    nref = float(np.sqrt(sum(float(np.sum(x * x)) for x in R)))
    dist = float(np.linalg.norm(np.asarray(theta_target, float) - np.asarray(theta_ref, float)))
    return Alignment(tuple(Q), res, None if nref == 0 else res / nref, dist, sweeps, converged)


@dataclass(frozen=True)
class AlignedEscapeNoise:
    """Gradient noise along the escape direction at trained weights, in the trained weights' frame.

    Attributes
    ----------
    state_modes, saddle_modes : tuple of str
        The ideal state the replica sits at and the saddle it escapes through.
    alignment : Alignment
        Rotations taking the ideal state (:func:`langevin_grok.landscape.stationary.stationary_point`, canonical frame)
        closest to the trained weights; ``alignment.residual`` says how far the trained weights are from
        that state's orbit (finite-N data, unfinished training, or a different state all show up here).
    direction : (D,) unit escape direction (unstable Hessian eigenvector of the saddle) rotated into the
        trained frame.
    noise : GradientNoise at the trained weights with that direction (``noise.direction_variance`` is
        c_e = e^T C e).
    """

    state_modes: tuple
    saddle_modes: tuple
    alignment: Alignment
    direction: np.ndarray = field(repr=False)
    noise: GradientNoise = field(repr=False)

    def to_dict(self) -> dict:
        return {"state_modes": list(self.state_modes), "saddle_modes": list(self.saddle_modes),
                "alignment": self.alignment.to_dict(), "noise": self.noise.to_dict()}


def _active_units(modes) -> list[int]:
    return [i for i, m in enumerate(modes) if m != "trivial"]


def aligned_escape_noise(theta, X, Y, net: DeepLinearNetwork, state_modes, saddle_modes, *, lr: float | None = None,
                         batch: int | None = None, replacement: bool = False, n_top: int = 5,
                         zero_rtol: float = 1e-12, max_sweeps: int = 200,
                         state_net: DeepLinearNetwork | None = None) -> AlignedEscapeNoise:
    """c_e = e^T C e at trained weights ``theta``, with the escape direction e carried into their frame.

    Hidden-layer rotations leave the loss unchanged, so trained weights sit at an arbitrarily rotated
    copy of the ideal stationary point, and the ideal escape direction (built in the canonical frame)
    must be rotated the same way before it is compared with the trained state's gradient noise.

    Steps: (1) the ideal state ``S = stationary_point(net, state_modes)`` and saddle
    ``P = stationary_point(net, saddle_modes)`` with its unstable eigenvector e; P's hidden units are
    permuted (a symmetry) so that the modes active in S sit on the same units in both. (2)
    :func:`align_hidden` of S onto ``theta``: rotations Q (the reported residual). (3) When P uses hidden
    units that S leaves empty (a forward escape from a rank-deficient state), S's stabiliser leaves
    those units' frame undetermined; it is fixed by a second alignment of P onto ``theta`` restricted to
    rotations of the units S does not use (``base=Q``, ``fixed_units = k_S``), which matches the escaping
    mode's units to whatever the trained weights carry there. This does not change S's residual. (4)
    ``e' = rotate_hidden(e, Q)`` and :func:`gradient_noise` at ``theta`` on ``X, Y`` along e'.

    ``net`` gives the ideal points (typically the population network of the data model); ``X, Y`` are
    the training samples (N, p). ``state_net`` (default ``net``) builds S instead, e.g. the network at
    the weight decay the weights were trained at (a checkpoint) when the saddle is that of another beta;
    S and P share the canonical frame, so the rotations carry over. Raises InputError if either point
    does not exist or P has no unstable direction.
    """
    thetas = np.asarray(theta, dtype=float)
    if thetas.ndim != 1:
        raise InputError(f"theta must be a vector of length D, got shape {thetas.shape} "
                         "(use aligned_escape_noise_ensemble for several states)")
    return aligned_escape_noise_ensemble(thetas[None, :], X, Y, net, state_modes, saddle_modes, lr=lr, batch=batch,
                                         replacement=replacement, n_top=n_top, zero_rtol=zero_rtol,
                                         max_sweeps=max_sweeps, state_net=state_net)[0]


def aligned_escape_noise_ensemble(thetas, X, Y, net: DeepLinearNetwork, state_modes, saddle_modes, *,
                                  lr: float | None = None, batch: int | None = None, replacement: bool = False,
                                  n_top: int = 5, zero_rtol: float = 1e-12, max_sweeps: int = 200,
                                  state_net: DeepLinearNetwork | None = None) -> tuple[AlignedEscapeNoise, ...]:
    """:func:`aligned_escape_noise` for each row of ``thetas`` (M, D), building the ideal points once."""
    if not isinstance(net, DeepLinearNetwork):
        raise InputError(f"net must be a DeepLinearNetwork, got {type(net).__name__}")
    L, w, p = net.depth, net.width, net.dim
    thetas = np.asarray(thetas, dtype=float)
    if thetas.ndim != 2 or thetas.shape[1] != net.n_params or not np.all(np.isfinite(thetas)):
        raise InputError(f"thetas must be finite, of shape (M, D = {net.n_params}), got shape {thetas.shape}")
    if state_net is None:
        state_net = net
    elif not isinstance(state_net, DeepLinearNetwork) or state_net.n_params != net.n_params:
        raise InputError("state_net must be a DeepLinearNetwork of the same depth, width and dim as net")
    S = stationary_point(state_net, state_modes)
    P = stationary_point(net, saddle_modes)
    e = P.unstable_direction
    if e is None:
        raise InputError(f"stationary point {P.kind} has no unstable direction (index 0)")
    aS, aP = _active_units(S.modes), _active_units(P.modes)
    kS = len(aS)
    # permutation of P's hidden units: unit of mode m in P (its rank in aP) -> its unit in S, others after
    dest, free = {}, iter(range(kS, w))
    for rank, m in enumerate(aP):
        dest[rank] = aS.index(m) if m in aS else next(free, None)
        if dest[rank] is None:
            raise InputError(f"width = {w} too small to hold the modes of {S.kind} and {P.kind} together")
    rest = [u for u in range(w) if u not in dest.values()]
    src_rest = [u for u in range(w) if u not in dest]
    perm = np.zeros((w, w))
    for s_unit, d_unit in list(dest.items()) + list(zip(src_rest, rest)):
        perm[d_unit, s_unit] = 1.0
    Pi = [perm] * (L - 1)
    p_theta = rotate_hidden(P.theta, Pi, L, w, p)
    e = rotate_hidden(e, Pi, L, w, p)
    second = any(m not in aS for m in aP) and kS < w
    out = []
    for theta in thetas:
        al = align_hidden(S.theta, theta, L, w, p, max_sweeps=max_sweeps)
        if second:
            rot = align_hidden(p_theta, theta, L, w, p, base=al.rotations, fixed_units=kS,
                               max_sweeps=max_sweeps).rotations
            al = Alignment(rot, al.residual, al.relative_residual, al.target_distance, al.n_sweeps, al.converged)
        e_rot = rotate_hidden(e, al.rotations, L, w, p)
        gn = gradient_noise(theta, X, Y, L, w, direction=e_rot, lr=lr, batch=batch, replacement=replacement,
                            n_top=n_top, zero_rtol=zero_rtol)
        out.append(AlignedEscapeNoise(tuple(S.modes), tuple(P.modes), al, e_rot, gn))
    return tuple(out)


def state_noise(data: Dataset, beta: float, modes, *, lr: float, batch: int, depth: int = 3,
                width: int = 10) -> dict:
    """Per-sample gradient noise (:func:`langevin_grok.sgd.noise.gradient_noise`) on the training set at the
    canonical stationary state ``modes`` (population network at ``beta``), projected on the escape
    direction of the saddle chosen by :func:`langevin_grok.sgd.noise.relevant_saddle`.

    Returns the trace, ``c_e``, whether ``c_e`` vanishes, and the temperatures ``T_trace = lr (tr C/D)
    /(2B)`` (the paper's) and ``T_e = lr c_e/(2B)`` (docs/theory.md's), both with the without-replacement
    factor of shuffled epochs.
    """
    net = DeepLinearNetwork.from_singular_values(depth, width, data.dim, list(data.sv), beta)
    state = stationary_point(net, modes)
    rel = relevant_saddle(depth, data.sv, beta, modes)
    direction = escape_direction(net, rel[0]) if rel is not None else None
    gn = gradient_noise(state.theta, data.x_train, data.y_train, depth, width, direction=direction, lr=lr,
                        batch=min(batch, data.n_train))
    return {"state": list(modes), "saddle": None if rel is None else list(rel[0]),
            "escape_mode": None if rel is None else rel[1], "direction": None if rel is None else rel[2],
            "trace": gn.trace, "mean_variance": gn.mean_variance, "c_e": gn.direction_variance,
            "c_e_exactly_zero": gn.exactly_zero, "escape_noise_zero": gn.escape_noise_zero,
            "T_trace": gn.temperature_iso, "T_e": gn.temperature_direction, "lr": lr, "batch": min(batch, data.n_train),
            "where": "canonical stationary point of the population network at beta, gradients on the training set"}
