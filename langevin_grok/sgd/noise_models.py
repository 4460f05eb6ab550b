"""Noise models of real SGD per batch protocol, effective temperatures, and escape with state-dependent noise.

Theory: docs/theory.md, sections "Weight space, noise and time" and "2. Gradient noise of real SGD".
Along a unit direction e the per-sample gradient variance is ``c = e^T C e`` (C with 1/N, as in
:mod:`langevin_grok.sgd.noise`); the Langevin temperature of independent batches is ``T = lr c / (2B)``.

Linear model of one coordinate in a quadratic well of curvature h (SGD step k, ``rho = 1 - lr h``)::

    x_{k+1} = rho x_k - lr eps_k,        eps_k = batch mean of the per-sample deviations z_n - zbar

- with replacement (:func:`with_replacement_model`): the eps_k are independent, ``Var eps = c/B``, and the
  stationary variance is ``V_wr = lr^2 (c/B)/(1 - rho^2) = (T/h) 2/(2 - lr h)``.
- shuffled epochs (:func:`shuffled_epoch_model`): one epoch is a random permutation of the N samples cut
  into batches of sizes b_j (the last one holds N mod B, torch's ``drop_last=False``). For sampling without
  replacement from N fixed values the batch means have, exactly,
  ``Cov(eps_i, eps_j) = c/(N-1) (N/b_i delta_ij - 1)`` (:func:`epoch_noise_covariance`); epochs are
  independent. Iterating the recursion gives the exact variance at epoch boundaries and k steps into an
  epoch; with equal batches this is the closed form of docs/theory.md (:func:`shuffled_closed_form`).

Network: :func:`permutation_temperature` estimates the epoch-level temperature along e at a state by Monte
Carlo over permutations. Temperatures read off samples of any dynamics (equipartition, displacements) are in
:mod:`langevin_grok.sgd.temperature_estimators`. State-dependent noise (T(x) along the escape path, the exact MFPT
with T(x), the Lyapunov exponent of an invariant set) is in :mod:`langevin_grok.sgd.path_noise`.

Results are frozen dataclasses with a ``noise_model`` name, a ``status`` (:class:`Validity`) and a
``reason`` code. Units: SDE time ``t = lr k``; variances in squared weight units; T in loss units.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import Enum

import numpy as np

from .._core.checks import InputError, check_beta, check_choice, check_depth, check_finite, check_int, \
    check_nonnegative, check_positive, check_rng
from .._core.errors import Validity
from .noise import gradient_noise, per_sample_grads

__all__ = [
    "NoiseModelName", "Validity",
    "WithReplacementModel", "with_replacement_model",
    "epoch_noise_covariance", "shuffled_closed_form", "ShuffledEpochModel", "shuffled_epoch_model",
    "simulate_sgd_1d",
    "PermutationTemperature", "permutation_temperature",
]


class NoiseModelName(str, Enum):
    """Which model or estimator produced a number."""
    WITH_REPLACEMENT = "with_replacement"
    SHUFFLED_EXACT = "shuffled_epochs_exact_linear"
    SHUFFLED_LEADING = "shuffled_epochs_leading_order"
    PERMUTATION_EXACT = "permutation_monte_carlo_exact_epoch"
    PERMUTATION_SECOND_ORDER = "permutation_monte_carlo_second_order"
    EQUIPARTITION_QUADRATIC = "equipartition_quadratic"
    EQUIPARTITION_VIRIAL = "equipartition_virial"
    DISPLACEMENT_EULER = "displacement_euler"
    DISPLACEMENT_OU = "displacement_ornstein_uhlenbeck"
    DISPLACEMENT_AR1 = "displacement_fitted_relaxation"


def _clean(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, Enum):
            v = v.value
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        elif isinstance(v, float) and not math.isfinite(v):
            v = None
        out[k] = v
    return out


def check_network_sgd(theta, X, Y, depth, width, beta, lr, batch):
    """The shared entry checks of the network estimators: sizes, data, protocol and a finite ``theta``.

    Returns ``(L, w, beta, X, Y, lr, B, N, net, theta)`` with ``net`` the network of the data set.
    """
    from ..landscape.network import DeepLinearNetwork
    from .noise import _as_data

    L = check_depth(depth)
    w = check_int("width", width, minimum=1)
    beta = check_beta(beta)
    X, Y = _as_data(X, Y)
    lr, B, N = _check_protocol(lr, batch, X.shape[0])
    net = DeepLinearNetwork.from_data(X, Y, L, w, beta)
    th = np.asarray(theta, dtype=float).ravel().copy()
    if th.shape != (net.n_params,) or not np.all(np.isfinite(th)):
        raise InputError(f"theta must be a finite vector of length D = {net.n_params}, got shape {th.shape}")
    return L, w, beta, X, Y, lr, B, N, net, th


def check_segment(theta_start, theta_end, X, Y, depth, width, beta, end_name: str = "theta_end"):
    """Entry checks of a straight segment of weight space: :func:`check_network_sgd` on ``theta_start`` and a
    finite ``theta_end`` of the same length, distinct from it. Returns ``(L, w, beta, X, Y, net, t0, t1)``."""
    t0 = np.asarray(theta_start, dtype=float).ravel()
    t1 = np.asarray(theta_end, dtype=float).ravel()
    L, w, beta, X, Y, _, _, _, net, t0 = check_network_sgd(t0, X, Y, depth, width, beta, 0.1, 1)
    if t1.shape != t0.shape or not np.all(np.isfinite(t1)) or np.all(t0 == t1):
        raise InputError(f"{end_name} must be a finite vector of theta_start's length, distinct from it")
    return L, w, beta, X, Y, net, t0, t1


def _check_protocol(lr, batch, n_train=None):
    lr = check_positive("lr", lr)
    B = check_int("batch", batch, minimum=1)
    if n_train is not None:
        N = check_int("n_train", n_train, minimum=2)
        if B > N:
            raise InputError(f"batch must be <= n_train ({N}), got {B}")
        return lr, B, N
    return lr, B


def _well_status(lr: float, h: float) -> tuple[Validity, str]:
    if h <= 0:
        return Validity.NOT_APPLICABLE, "no_well"
    if lr * h >= 2.0:
        return Validity.NOT_APPLICABLE, "unstable_step"
    return Validity.VALID, "ok"


# --------------------------------------------------------------------------- with replacement
@dataclass(frozen=True)
class WithReplacementModel:
    """Independent batches (with replacement).

    Attributes
    ----------
    temperature : ``lr c / (2B)`` (continuous-time Langevin temperature).
    discrete_factor : ``2/(2 - lr h)`` (None without a curvature or when not applicable).
    stationary_variance : ``lr^2 (c/B) / (1 - (1 - lr h)^2)`` of the coordinate (None: see status).
    effective_temperature : ``h * stationary_variance = temperature * discrete_factor``.
    ratio : ``stationary_variance / (temperature / h)`` (= discrete_factor).
    """
    noise_model: NoiseModelName
    lr: float
    batch: int
    noise: float
    curvature: float | None
    temperature: float
    discrete_factor: float | None
    stationary_variance: float | None
    effective_temperature: float | None
    ratio: float | None
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def with_replacement_model(lr: float, batch: int, noise: float, curvature: float | None = None
                           ) -> WithReplacementModel:
    """Temperature and stationary variance of SGD with independent batches.

    Parameters
    ----------
    lr, batch : learning rate (> 0) and batch size B (>= 1).
    noise : per-sample gradient variance c along the coordinate (>= 0).
    curvature : h of the quadratic well, optional.

    Notes
    -----
    ``x_{k+1} = (1 - lr h) x_k - lr eps_k`` with independent ``eps_k``, ``Var eps = c/B``, has
    ``V = lr^2 (c/B)/(1 - rho^2) = (lr c/(2 B h)) 2/(2 - lr h)``, docs/theory.md, section
    "2. Gradient noise of real SGD". Status ``not_applicable`` (reason ``no_well`` or ``unstable_step``)
    when h <= 0 or lr h >= 2.
    """
    lr, B = _check_protocol(lr, batch)
    c = check_nonnegative("noise", noise)
    T = lr * c / (2.0 * B)
    if curvature is None:
        return WithReplacementModel(NoiseModelName.WITH_REPLACEMENT, lr, B, c, None, T, None, None, None, None,
                                    Validity.VALID, "no_curvature")
    h = check_finite("curvature", curvature)
    status, reason = _well_status(lr, h)
    if status is Validity.NOT_APPLICABLE:
        return WithReplacementModel(NoiseModelName.WITH_REPLACEMENT, lr, B, c, h, T, None, None, None, None,
                                    status, reason)
    rho = 1.0 - lr * h
    V = lr * lr * (c / B) / (1.0 - rho * rho)
    fac = 2.0 / (2.0 - lr * h)
    return WithReplacementModel(NoiseModelName.WITH_REPLACEMENT, lr, B, c, h, T, fac, V, h * V, fac,
                                status, reason)


# --------------------------------------------------------------------------- shuffled epochs
def _batch_sizes(n_train: int, batch: int) -> np.ndarray:
    m = -(-n_train // batch)
    sizes = np.full(m, batch)
    sizes[-1] = n_train - (m - 1) * batch
    return sizes


def epoch_noise_covariance(n_train: int, batch: int, noise: float = 1.0) -> np.ndarray:
    """Exact covariance ``(m, m)`` of the batch means of one shuffled epoch.

    The N fixed values (population variance ``noise`` with 1/N) are permuted at random and cut into
    ``m = ceil(N/B)`` batches of sizes ``b_j`` (last one ``N - (m-1) B``). Then
    ``Cov(eps_i, eps_j) = c/(N-1) (N/b_i delta_ij - 1)``: a batch mean has ``Var = (c/b)(N-b)/(N-1)``
    and, since the sum over the epoch is fixed, distinct batches are anticorrelated.
    """
    _, B, N = _check_protocol(1.0, batch, n_train)
    c = check_nonnegative("noise", noise)
    b = _batch_sizes(N, B).astype(float)
    return c / (N - 1) * (np.diag(N / b) - 1.0)


def _linear_rr(lr, h, Sigma):
    """V at epoch boundaries and V(k), k = 0..m, by exact iteration of the linear recursion."""
    m = Sigma.shape[0]
    rho = 1.0 - lr * h
    Vk = np.empty(m + 1)
    Vk[0] = 0.0
    for k in range(1, m + 1):
        w = rho ** np.arange(k - 1, -1, -1.0)  # weight of eps_j, j < k, in x_k
        Vk[k] = lr * lr * float(w @ Sigma[:k, :k] @ w)
    Vb = Vk[m] / (1.0 - rho ** (2 * m))
    return Vb, rho ** (2.0 * np.arange(m + 1)) * Vb + Vk


def shuffled_closed_form(lr: float, h: float, batch: int, n_train: int, noise: float) -> tuple[float, np.ndarray]:
    """docs/theory.md's closed form for equal batches (N divisible by B): ``(V_RR(b), V_RR(k), k = 0..m)``.

    ``s^2 = (c/B)(N-B)/(N-1)``, ``S1(k) = sum_{i<k} rho^i``, ``S2(k) = sum_{i<k} rho^(2i)``;
    ``V(b) = lr^2 s^2 (m S2(m) - S1(m)^2) / ((m-1)(1 - rho^(2m)))`` and
    ``V(k) = rho^(2k) V(b) + lr^2 s^2 [S2(k) - (S1(k)^2 - S2(k))/(m-1)]``.
    """
    lr, B, N = _check_protocol(lr, batch, n_train)
    if N % B or N == B:
        raise InputError(f"the closed form needs n_train a multiple of batch with m >= 2, got N={N}, B={B}")
    c = check_nonnegative("noise", noise)
    m = N // B
    rho = 1.0 - lr * check_finite("h", h)
    s2 = (c / B) * (N - B) / (N - 1)
    k = np.arange(m + 1)
    S1 = np.array([np.sum(rho ** np.arange(j)) for j in k])
    S2 = np.array([np.sum(rho ** (2.0 * np.arange(j))) for j in k])
    Vb = lr * lr * s2 * (m * S2[m] - S1[m] ** 2) / ((m - 1) * (1.0 - rho ** (2 * m)))
    return Vb, rho ** (2.0 * k) * Vb + lr * lr * s2 * (S2 - (S1 ** 2 - S2) / (m - 1))


@dataclass(frozen=True)
class ShuffledEpochModel:
    """Random reshuffling in a quadratic well (exact linear result and its leading order).

    Attributes
    ----------
    n_batches : m = ceil(N/B); batch_sizes : (m,).
    var_boundary : stationary variance at epoch boundaries; var_within : (m+1,) k steps into an epoch
        (k = 0 and k = m are boundaries); var_epoch_mean : mean of var_within over k = 0..m-1.
    var_sde : ``T/h`` with ``T = lr c/(2B)``; ratio_boundary, ratio_epoch_mean : variances over var_sde.
    temperature_boundary, temperature_epoch_mean : ``h *`` the variances (equipartition temperatures).
    temperature_leading : ``T (lr h)^2 m(m+1)/12 (N-B)/(N-1)`` (epoch-level, leading order in lr h).
    leading_rel_error : ``temperature_leading / temperature_boundary - 1``; leading_status: valid below
        0.1 in absolute value, marginal below 0.5, else not_applicable (reason ``leading_order_error``).
    """
    noise_model: NoiseModelName
    leading_noise_model: NoiseModelName
    lr: float
    batch: int
    n_train: int
    noise: float
    curvature: float
    n_batches: int
    batch_sizes: np.ndarray = field(repr=False)
    var_boundary: float | None = None
    var_within: np.ndarray | None = field(default=None, repr=False)
    var_epoch_mean: float | None = None
    var_sde: float | None = None
    ratio_boundary: float | None = None
    ratio_epoch_mean: float | None = None
    temperature_boundary: float | None = None
    temperature_epoch_mean: float | None = None
    temperature_leading: float | None = None
    leading_rel_error: float | None = None
    status: Validity = Validity.VALID
    reason: str = "ok"
    leading_status: Validity = Validity.VALID
    leading_reason: str = "ok"

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def shuffled_epoch_model(lr: float, batch: int, n_train: int, noise: float, curvature: float) -> ShuffledEpochModel:
    """Stationary variance of SGD with shuffled epochs in a quadratic well of curvature h.

    Exact for the linear model (module docstring) by iterating the recursion with the exact covariance of
    one epoch's batch means (:func:`epoch_noise_covariance`; any N, B). docs/theory.md, section
    "Shuffled epochs (random reshuffling, the paper's protocol)".

    Notes
    -----
    For small lr h: ``V(b)/V_sde = (lr h)^2 m(m+1)/12 (N-B)/(N-1) (1 + O(lr h m))`` (N = m B), while within
    an epoch ``V(k) - V(b) ~ lr^2 s^2 k(m-k)/(m-1)``, so the epoch mean is of relative order lr h m/3
    larger: ``V_mean/V_sde ~ (N-B)/(N-1) [(lr h)^2 m(m+1)/12 + lr h (m+1)/3]``.
    """
    lr, B, N = _check_protocol(lr, batch, n_train)
    c = check_nonnegative("noise", noise)
    h = check_finite("curvature", curvature)
    sizes = _batch_sizes(N, B)
    m = sizes.size
    T = lr * c / (2.0 * B)
    fpc = (N - B) / (N - 1)
    T_lead = T * (lr * h) ** 2 * m * (m + 1) / 12.0 * fpc
    names = (NoiseModelName.SHUFFLED_EXACT, NoiseModelName.SHUFFLED_LEADING)
    status, reason = _well_status(lr, h)
    if m < 2:
        status, reason = Validity.NOT_APPLICABLE, "single_batch_epoch"
    if status is Validity.NOT_APPLICABLE:
        return ShuffledEpochModel(*names, lr, B, N, c, h, m, sizes, temperature_leading=T_lead, status=status,
                                  reason=reason, leading_status=status, leading_reason=reason)
    Vb, Vk = _linear_rr(lr, h, epoch_noise_covariance(N, B, c))
    Vmean = float(np.mean(Vk[:m]))
    Vsde = T / h
    rat = lambda v: v / Vsde if Vsde > 0 else None  # noqa: E731
    Tb = h * Vb
    err = T_lead / Tb - 1.0 if Tb > 0 else None
    ls, lrsn = ((Validity.VALID, "ok") if err is None or abs(err) < 0.1 else
                (Validity.MARGINAL, "leading_order_error") if abs(err) < 0.5 else
                (Validity.NOT_APPLICABLE, "leading_order_error"))
    return ShuffledEpochModel(*names, lr, B, N, c, h, m, sizes, Vb, Vk, Vmean, Vsde, rat(Vb), rat(Vmean), Tb,
                              h * Vmean, T_lead, err, status, reason, ls, lrsn)


# --------------------------------------------------------------------------- 1-D SGD simulation
def simulate_sgd_1d(grad_u, z, lr: float, batch: int, n_epochs: int, n_paths: int, *, replacement: bool,
                    x0: float = 0.0, params=(), rng=None, record: str = "boundary") -> np.ndarray:
    """SGD on a 1-D loss with a finite data set: per-sample gradients ``g_n(x) = U'(x) - z_n``.

    Parameters
    ----------
    grad_u : callable ``U'(t, x, p)`` (vectorised; e.g. ``lambda t, x, p: -arc_force(t, x, p)``).
    z : (N,) per-sample gradient offsets; centred here so that the full-batch gradient is U'.
    lr, batch : step size and batch size B; ``replacement`` picks the protocol (batches of B drawn with
        replacement, ceil(N/B) steps per epoch; or a fresh permutation per epoch, last batch N mod B).
    n_epochs, n_paths : epochs and independent paths (vectorised over paths).
    rng : Generator | int | None; record : "boundary" (x after every epoch, (n_paths, n_epochs)) or
        "all" (x after every step, (n_paths, n_epochs * m)).
    """
    z = np.asarray(z, dtype=float).ravel()
    lr, B, N = _check_protocol(lr, batch, z.size)
    E = check_int("n_epochs", n_epochs, minimum=1)
    M = check_int("n_paths", n_paths, minimum=1)
    record = check_choice("record", record, ("boundary", "all"))
    gen, _ = check_rng(rng)
    z = z - z.mean()
    p = np.asarray(params, dtype=float)
    m = -(-N // B)
    bounds = [(j * B, min((j + 1) * B, N)) for j in range(m)]
    x = np.full(M, float(x0))
    out = np.empty((M, E) if record == "boundary" else (M, E * m))
    base = np.broadcast_to(np.arange(N), (M, N))
    for ep in range(E):
        if replacement:
            zb = z[gen.integers(0, N, size=(M, m, B))].mean(axis=2)
        else:
            zp = z[gen.permuted(base, axis=1)]
            zb = np.stack([zp[:, a:b].mean(axis=1) for a, b in bounds], axis=1)
        for j in range(m):
            x = x - lr * (np.asarray(grad_u(0.0, x, p), dtype=float) - zb[:, j])
            if record != "boundary":
                out[:, ep * m + j] = x
        if record == "boundary":
            out[:, ep] = x
    return out


# --------------------------------------------------------------------------- network: permutation estimator
@dataclass(frozen=True)
class PermutationTemperature:
    """Epoch-level temperature of shuffled-epoch SGD along a direction e at a state, by Monte Carlo.

    Attributes
    ----------
    temperature : ``Var_perm(e^T theta_epoch) / (2 m lr)`` from one exact SGD epoch per permutation
        (``noise_model`` = permutation_monte_carlo_exact_epoch); std_error : its Monte Carlo error.
    temperature_second_order : the same from the second-order expansion of the epoch on the same
        permutations, ``lr^2 sum_j (H_{B_j} e) . sum_{i<j} g_{B_i}`` (per-sample gradients and
        Hessian-vector products along e); std_error_second_order.
    mean_shift : ``E_perm[e^T (theta_epoch - theta_GD)]``, the mean offset from m full-batch steps (the
        random-reshuffling drift bias), with mean_shift_std_error.
    noise_direction : c_e = e^T C e; curvature : h_e = e^T H e (full-batch Hessian);
    temperature_with_replacement : ``lr c_e / (2B)``; ratio : temperature / temperature_with_replacement
        (None when c_e = 0).
    temperature_linear_model : the one-epoch temperature of the linear model with (c_e, h_e), exact
        (``lr^2 w^T Sigma w / (2 m lr)``, w_j = rho^(m-1-j)); ratio_linear_model : temperature over it.
    temperature_boundary : ``temperature * 2 m lr h_e / (1 - rho^(2m))``, the equipartition temperature
        ``h_e Var(e^T theta)`` at epoch boundaries that this epoch noise gives in a well of curvature h_e
        (``V(b) = Var_epoch / (1 - rho^(2m))``); None unless ``0 < lr h_e < 2``.
    """
    noise_model: NoiseModelName
    temperature: float
    std_error: float
    temperature_second_order: float
    std_error_second_order: float
    mean_shift: float
    mean_shift_std_error: float
    noise_direction: float
    curvature: float
    temperature_with_replacement: float
    ratio: float | None
    temperature_linear_model: float
    ratio_linear_model: float | None
    temperature_boundary: float | None
    lr: float
    batch: int
    n_train: int
    n_batches: int
    n_perm: int
    seed: int | None
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def _var_and_se(v: np.ndarray) -> tuple[float, float]:
    """Sample variance and its standard error from the fourth central moment."""
    K = v.size
    d = v - v.mean()
    var = float(d @ d / (K - 1))
    m4 = float(np.mean(d ** 4))
    return var, float(math.sqrt(max(m4 - var * var * (K - 3) / (K - 1), 0.0) / K))


def _epoch_runs(theta, X, Y, L, w, beta, lr, perms, bounds):
    """theta after one SGD epoch for each permutation row, (K, D); vectorised over permutations."""
    from .trainer import _batch_grads, pack, unpack  # one definition of the batched SGD step
    K, p = perms.shape[0], X.shape[1]
    ws = list(unpack(np.tile(theta, (K, 1)), L, w, p))
    for a, b in bounds:
        idx = perms[:, a:b]
        grads = _batch_grads(ws, X[idx], Y[idx])
        ws = [W - lr * (g + beta * W) for W, g in zip(ws, grads)]
    return pack(ws)


def permutation_temperature(theta, X, Y, depth: int, width: int, beta: float, lr: float, batch: int, direction,
                            *, n_perm: int = 2000, rng=None, fd_step: float = 1e-5,
                            chunk: int = 1000) -> PermutationTemperature:
    """Random-reshuffling temperature along ``direction`` at ``theta`` (network, training samples X, Y (N, p)).

    Runs one epoch of SGD (batches of a random permutation, last batch N mod B, update
    ``theta <- theta - lr (g_B + beta theta)``) from ``theta`` for ``n_perm`` permutations and returns
    ``T_RR = Var_perm(e^T theta_epoch) / (2 m lr)`` (exact in lr; the deterministic part of the epoch drops
    out of the variance). On the same permutations the second-order expansion of docs/theory.md,
    section "Shuffled epochs (random reshuffling, the paper's protocol)", is evaluated for comparison:
    ``e^T Delta = lr^2 sum_j (H_{B_j} e) . sum_{i<j} g_{B_i}`` + deterministic, with per-sample
    Hessian-vector products by central differences of :func:`langevin_grok.sgd.noise.per_sample_grads`
    (step ``fd_step``; the per-sample gradient is a polynomial, the error is O(fd_step^2)).

    Status: ``valid`` if the relative Monte Carlo error of the exact estimate is below 0.2, ``marginal``
    below 0.5, else ``not_applicable`` (reason ``monte_carlo_error``); ``dead_direction`` if c_e = 0.
    """
    L, w, beta, X, Y, lr, B, N, net, theta = check_network_sgd(theta, X, Y, depth, width, beta, lr, batch)
    K = check_int("n_perm", n_perm, minimum=4)
    chunk = check_int("chunk", chunk, minimum=1)
    fd_step = check_positive("fd_step", fd_step)
    e = np.asarray(direction, dtype=float).ravel()
    if e.shape != theta.shape or not np.all(np.isfinite(e)) or not np.any(e):
        raise InputError(f"direction must be a finite non-zero vector of length {theta.size}")
    e = e / np.linalg.norm(e)
    gen, seed = check_rng(rng)
    sizes = _batch_sizes(N, B)
    m = sizes.size
    bounds = [(j * B, j * B + int(sizes[j])) for j in range(m)]
    position_batch = np.repeat(np.arange(m), sizes)
    ref = _epoch_runs(theta, X, Y, L, w, beta, lr, np.arange(N)[None, :], [(0, N)] * m)[0] @ e
    G = per_sample_grads(theta, X, Y, L, w) + beta * theta
    Ue = (per_sample_grads(theta + fd_step * e, X, Y, L, w) - per_sample_grads(theta - fd_step * e, X, Y, L, w)) \
        / (2.0 * fd_step) + beta * e
    exact, second = np.empty(K), np.empty(K)
    for s in range(0, K, chunk):
        perms = gen.permuted(np.broadcast_to(np.arange(N), (min(chunk, K - s), N)), axis=1)
        exact[s:s + perms.shape[0]] = _epoch_runs(theta, X, Y, L, w, beta, lr, perms, bounds) @ e - ref
        k = perms.shape[0]
        rows = np.arange(k)[:, None]
        labels = np.empty_like(perms)
        labels[rows, perms] = position_batch[None, :]  # batch of each sample in each permutation
        A = np.zeros((k, m, N))
        A[rows, labels, np.arange(N)[None, :]] = 1.0 / sizes[labels]  # batch-mean operator, (k, m, N)
        gb, ub = A @ G, A @ Ue  # batch gradients and Hessian-vector products along e, (k, m, D)
        before = np.cumsum(gb, axis=1) - gb  # sum_{i<j} g_{B_i}
        second[s:s + k] = lr * lr * np.einsum("kjd,kjd->k", ub, before)
    v, se = _var_and_se(exact)
    v2, se2 = _var_and_se(second)
    gn = gradient_noise(theta, X, Y, L, w, direction=e)
    c_e = float(gn.direction_variance)
    h_e = float(e @ net.hessian(theta) @ e)
    T_wr = lr * c_e / (2.0 * B)
    rho = 1.0 - lr * h_e
    wv = rho ** np.arange(m - 1, -1, -1.0)
    T_lin = lr * lr * float(wv @ epoch_noise_covariance(N, B, c_e) @ wv) / (2.0 * m * lr)
    norm = 2.0 * m * lr
    T, Tse = v / norm, se / norm
    T_b = T * norm * h_e / (1.0 - rho ** (2 * m)) if 0 < lr * h_e < 2 else None
    if gn.escape_noise_zero:
        status, reason = Validity.NOT_APPLICABLE, "dead_direction"
    else:
        rel = Tse / T if T > 0 else math.inf
        status, reason = ((Validity.VALID, "ok") if rel < 0.2 else (Validity.MARGINAL, "monte_carlo_error")
                          if rel < 0.5 else (Validity.NOT_APPLICABLE, "monte_carlo_error"))
    return PermutationTemperature(
        NoiseModelName.PERMUTATION_EXACT, T, Tse, v2 / norm, se2 / norm, float(exact.mean()),
        float(exact.std(ddof=1) / math.sqrt(K)), c_e, h_e, T_wr, T / T_wr if T_wr > 0 else None, T_lin,
        T / T_lin if T_lin > 0 else None, T_b, lr, B, N, m, K, seed, status, reason)
