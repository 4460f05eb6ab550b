"""Mini-batch SGD of deep linear networks: an ensemble of replicas trained in one computation.

An ensemble of M independent replicas of ``f(x) = W_L ... W_1 x`` (``W_1`` is ``(w, p)``, hidden
layers ``(w, w)``, ``W_L`` is ``(p, w)``) is stored as a tuple of L arrays of shape
``(M, n_out, n_in)``. Every SGD step of all replicas is a handful of batched numpy matrix products
over the replica axis (no Python loop over replicas in the training computation). Each replica
minimises, on its own mini-batches b of size B,

    Loss_b(W) = 1/(2B) sum_{n in b} |f(x_n) - y_n|^2 + beta/2 sum_l |W_l|_F^2

with the update ``W <- W - lr grad Loss_b(W) [+ sqrt(2 T lr) xi]``. The optional Gaussian term is
injected noise (SGLD-style) of temperature T: with ``t = lr k`` it matches
``dtheta = -grad Loss dt + sqrt(2T) dW`` on top of the mini-batch noise.

Randomness: replica i draws everything (its initial weights, each epoch's shuffled order or
with-replacement indices, its injected noise) from its own stream
``SeedSequence(entropy, spawn_key=(stage, i))``, so a replica's trajectory does not depend on the
ensemble size M or on how the ensemble is split. Per epoch, a replica draws its batch indices first
and then, if T > 0, its noise for all steps of the epoch, shape ``(steps, D)`` in the packed layout.

Units: time is counted in epochs (one epoch = ceil(N/B) steps); SDE time is ``t = lr * steps``.
``mse`` (train and test) is torch's ``MSELoss()``: the mean over samples and outputs of the squared
residual. The data part of the loss is ``(p/2) mse``; these agree only for p = 2.

Escape detection is :mod:`langevin_grok.sgd.escape`; the whole escape protocol (data, start, run, escape,
noise) is :func:`langevin_grok.sgd.protocol.run_protocol`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import (InputError, check_beta, check_int,
                      check_nonnegative, check_positive)
from .._core.seeds import as_seed_sequence
from .data import Dataset, empirical_cross_svd, mse_from_moments
from ..landscape.network import layer_shapes, n_params  # re-exported: one definition of the layout
from ..landscape.network import pack as _network_pack
from ..landscape.network import unpack as _network_unpack

__all__ = [
    "layer_shapes",
    "n_params",
    "pack",
    "unpack",
    "end_to_end",
    "replica_generator",
    "init_random",
    "draw_epoch",
    "full_batch_grad",
    "TrainResult",
    "train",
    "TrainingInterrupted",
    "SweepResult",
    "quasi_static_sweep",
    "checkpoint_init",
]

# Stage tags in the replica spawn keys: stage 0 draws initial weights, training stages count from 1.
_INIT_STAGE = 0
# A replica whose weights leave this range (or turn NaN/inf) is declared diverged.
_OVERFLOW = 1e100


class TrainingInterrupted(KeyboardInterrupt):
    """Raised by :func:`train` on Ctrl-C or SIGTERM.

    ``partial`` is the TrainResult with the curves recorded so far (``epochs_run`` full epochs; its weights
    are the state when interrupted, possibly mid-epoch); ``cause`` is the original interrupt (a
    ``KeyboardInterrupt`` or :class:`~langevin_grok._core.errors.Terminated`).
    """

    def __init__(self, partial, cause):
        super().__init__("training interrupted")
        self.partial, self.cause = partial, cause


# --------------------------------------------------------------------------- layout
def pack(weights) -> np.ndarray:
    """Flatten an ensemble ``(M, o, i)`` per layer into ``theta`` of shape ``(M, D)`` (the layout of
    :func:`langevin_grok.landscape.network.pack`, which this calls)."""
    return _network_pack(weights)


def unpack(theta: np.ndarray, depth: int, width: int, dim: int) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack`; ``theta`` is ``(M, D)`` (or ``(D,)`` for a single network, giving M = 1).

    Contiguous copies (the trainer updates them in place), from :func:`langevin_grok.landscape.network.unpack`.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=float))
    return tuple(np.ascontiguousarray(W) for W in _network_unpack(theta, depth, width, dim))


def end_to_end(weights) -> np.ndarray:
    """``W_L...W_1`` for each replica, shape ``(M, p, p)``."""
    m = weights[0]
    for W in weights[1:]:
        m = W @ m
    return m


def _check_weights(weights, dim: int | None = None) -> tuple[np.ndarray, ...]:
    if not isinstance(weights, (tuple, list)) or len(weights) < 2:
        raise InputError("weights must be a sequence of >= 2 arrays of shape (M, n_out, n_in)")
    ws = tuple(np.array(W, dtype=np.float64, copy=True) for W in weights)
    M = ws[0].shape[0]
    for l, W in enumerate(ws):
        if W.ndim != 3 or W.shape[0] != M:
            raise InputError(f"weights[{l}] must have shape (M={M}, n_out, n_in), got {W.shape}")
        if l and W.shape[2] != ws[l - 1].shape[1]:
            raise InputError(f"weights[{l}] has {W.shape[2]} inputs but weights[{l-1}] has {ws[l-1].shape[1]} outputs")
    if dim is not None and (ws[0].shape[2] != dim or ws[-1].shape[1] != dim):
        raise InputError(f"weights map R^{ws[0].shape[2]} -> R^{ws[-1].shape[1]}, data has dim {dim}")
    return ws


# --------------------------------------------------------------------------- randomness
def replica_generator(seed_seq: np.random.SeedSequence, stage: int, replica: int) -> np.random.Generator:
    """The stream of ``replica`` in ``stage``: ``SeedSequence(entropy, spawn_key=key + (stage, replica))``."""
    ss = np.random.SeedSequence(seed_seq.entropy, spawn_key=tuple(seed_seq.spawn_key) + (stage, replica))
    return np.random.default_rng(ss)


def init_random(depth: int, width: int, dim: int, n_replicas: int, seed=None,
                scale: float | None = None) -> tuple[np.ndarray, ...]:
    """Random initial ensemble: every entry of every layer ``N(0, 1) * scale``.

    The default ``scale = 1/sqrt(w)`` is the seed paper's "N(0,1) scaled by 1/sqrt(w)", applied to all
    L layers (the paper does not distinguish layers; with p < w the first and last layer are then
    smaller than a fan-in-scaled init would make them).
    """
    shapes = layer_shapes(depth, width, dim)
    M = check_int("n_replicas", n_replicas, minimum=1)
    s = 1.0 / math.sqrt(width) if scale is None else check_positive("scale", scale)
    ss = as_seed_sequence(seed)
    D = sum(o * i for o, i in shapes)
    theta = np.empty((M, D))
    for r in range(M):  # initial draw only; training itself is vectorised over replicas
        theta[r] = replica_generator(ss, _INIT_STAGE, r).standard_normal(D) * s
    return unpack(theta, depth, width, dim)


def draw_epoch(gen: np.random.Generator, n_train: int, batch: int, replacement: bool,
               n_noise: int = 0) -> tuple[np.ndarray, list[slice], np.ndarray | None]:
    """One replica's random draws for one epoch.

    Returns ``(idx, batches, noise)``: sample indices ``idx`` (a permutation of range(N), or
    ``steps * B`` independent indices with replacement), the slices of ``idx`` that form the
    successive batches, and standard normals of shape ``(steps, n_noise)`` (None if ``n_noise == 0``).
    Without replacement the last batch holds the ``N mod B`` leftover samples (torch DataLoader with
    ``shuffle=True, drop_last=False``).
    """
    steps = -(-n_train // batch)
    if replacement:
        idx = gen.integers(0, n_train, size=steps * batch)
        slices = [slice(k * batch, (k + 1) * batch) for k in range(steps)]
    else:
        idx = gen.permutation(n_train)
        slices = [slice(k * batch, min((k + 1) * batch, n_train)) for k in range(steps)]
    noise = gen.standard_normal((steps, n_noise)) if n_noise else None
    return idx, slices, noise


# --------------------------------------------------------------------------- gradients
def _batch_grads(ws, xb, yb):
    """Gradients of ``1/(2b) sum |f(x)-y|^2`` for each replica on its own batch ``xb, yb (M, b, p)``."""
    hs = [xb]
    for W in ws:
        hs.append(hs[-1] @ W.transpose(0, 2, 1))
    g = (hs[-1] - yb) * (1.0 / xb.shape[1])
    grads = [None] * len(ws)
    for l in range(len(ws) - 1, -1, -1):
        grads[l] = g.transpose(0, 2, 1) @ hs[l]
        if l:
            g = g @ ws[l]
    return grads


def full_batch_grad(weights, sxx: np.ndarray, syx: np.ndarray, beta: float) -> tuple[np.ndarray, ...]:
    """Full-batch gradient of ``1/(2N) sum|Mx-y|^2 + beta/2|W|^2`` from second moments (per replica).

    ``dLoss/dM = M Sxx - Syx``; ``dLoss/dW_l = (W_L..W_{l+1})^T (M Sxx - Syx) (W_{l-1}..W_1)^T + beta W_l``.
    """
    L = len(weights)
    left = [None] * L  # W_{l-1} ... W_1 (identity for l = 1)
    p = weights[0].shape[2]
    acc = np.broadcast_to(np.eye(p), (weights[0].shape[0], p, p))
    for l in range(L):
        left[l] = acc
        acc = weights[l] @ acc
    G = acc @ sxx - syx
    out = [None] * L
    right = G
    for l in range(L - 1, -1, -1):
        out[l] = right @ left[l].transpose(0, 2, 1) + beta * weights[l]
        right = weights[l].transpose(0, 2, 1) @ right
    return tuple(out)


# --------------------------------------------------------------------------- training
@dataclass(frozen=True)
class TrainResult:
    """Curves and final state of one ensemble run.

    Attributes
    ----------
    depth, width, dim, beta, lr, batch, n_train, noise_temperature, replacement, seed, stage :
        the run's settings (``seed`` the SeedSequence entropy; ``stage`` the spawn-key tag).
    n_replicas : M.
    epochs_run : number of epochs actually run (fewer than asked if every replica converged).
    epochs : (R,) epochs at which observables were recorded (0 = the initial state).
    train_mse, test_mse : (R, M) torch-style MSE (mean over samples and outputs).
    loss : (R, M) full-batch training loss ``(p/2) train_mse + beta/2 |W|^2``.
    grad_norm : (R, M) norm of the full-batch gradient.
    mode_sv : (R, M, p) ``u_i^T M v_i``: end-to-end map projected on the population data modes.
    mode_sv_empirical : (R, M, p) ``U_i^T M V_i`` with ``U, V`` the singular vectors of the training
        set's empirical ``Y^T X / N`` (:func:`langevin_grok.sgd.data.empirical_cross_svd`): the projection that
        belongs to the empirical singular values (an exactly rank-deficient state reads exactly 0 here,
        while the population projection picks up the other modes' leakage).
    svals : (R, M, p) singular values of the end-to-end map, descending.
    eff_rank : (R, M) number of singular values above ``rank_tol``.
    weights : final ensemble, tuple of (M, n_out, n_in); NaN for diverged replicas.
    diverged : (M,) bool; diverged_epoch : (M,) epoch at which divergence was seen (NaN if not).
    converged : (M,) bool (all False when no convergence criterion was given);
    converged_epoch : (M,) first epoch at which the criterion held (NaN if never).
    data_sv : (p,) population singular values of the data's Sigma_yx.
    data_sv_empirical : (p,) singular values of the training set's empirical ``Y^T X / N``.
    spawn_key : spawn key of the seed's SeedSequence (replica streams: ``spawn_key + (stage, replica)``).
    rank_tol, converge_tol, converge_window : criteria used.
    stopped_early : True if ``train(stop_rule=...)`` ended the run before ``epochs`` because every
        replica had escaped or diverged.
    """

    depth: int
    width: int
    dim: int
    beta: float
    lr: float
    batch: int
    n_train: int
    noise_temperature: float
    replacement: bool
    seed: int
    stage: int
    n_replicas: int
    epochs_run: int
    epochs: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    mode_sv: np.ndarray
    svals: np.ndarray
    eff_rank: np.ndarray
    weights: tuple = field(repr=False)
    diverged: np.ndarray = field(repr=False)
    diverged_epoch: np.ndarray = field(repr=False)
    converged: np.ndarray = field(repr=False)
    converged_epoch: np.ndarray = field(repr=False)
    data_sv: np.ndarray = field(repr=False, default=None)
    spawn_key: tuple = ()
    rank_tol: float = 1e-2
    converge_tol: float | None = None
    converge_window: int | None = None
    stopped_early: bool = False
    mode_sv_empirical: np.ndarray = field(repr=False, default=None)
    data_sv_empirical: np.ndarray = field(repr=False, default=None)

    @property
    def steps_per_epoch(self) -> int:
        return -(-self.n_train // self.batch)

    def to_dict(self) -> dict:
        """JSON-ready summary: settings and final per-replica values (curves are in :meth:`curves`)."""
        last = -1
        return {
            "depth": self.depth, "width": self.width, "dim": self.dim, "beta": self.beta, "lr": self.lr,
            "batch": self.batch, "n_train": self.n_train, "noise_temperature": self.noise_temperature,
            "replacement": self.replacement, "seed": self.seed, "spawn_key": list(self.spawn_key), "stage": self.stage,
            "n_replicas": self.n_replicas, "epochs_run": self.epochs_run,
            "final_train_mse": self.train_mse[last].tolist(), "final_test_mse": self.test_mse[last].tolist(),
            "final_mode_sv": self.mode_sv[last].tolist(), "final_rank": self.eff_rank[last].tolist(),
            "final_mode_sv_empirical": (None if self.mode_sv_empirical is None
                                        else self.mode_sv_empirical[last].tolist()),
            "diverged": self.diverged.tolist(),
            "diverged_epoch": [None if np.isnan(e) else float(e) for e in self.diverged_epoch],
            "converged": self.converged.tolist(),
            "converged_epoch": [None if np.isnan(e) else float(e) for e in self.converged_epoch],
            "rank_tol": self.rank_tol, "converge_tol": self.converge_tol, "converge_window": self.converge_window,
            "stopped_early": self.stopped_early,
        }

    def curves(self) -> dict[str, np.ndarray]:
        """The recorded arrays by name (for ``numpy.savez``)."""
        out = {k: getattr(self, k) for k in ("epochs", "train_mse", "test_mse", "loss", "grad_norm", "mode_sv",
                                             "svals", "eff_rank", "diverged", "diverged_epoch", "converged",
                                             "converged_epoch")}
        if self.mode_sv_empirical is not None:
            out["mode_sv_empirical"] = self.mode_sv_empirical
        return out


class _Recorder:
    """Observables of the whole ensemble from second moments (O(p^2) per replica, not O(N))."""

    def __init__(self, data: Dataset, beta: float, rank_tol: float):
        self.tr = data.moments("train")
        self.te = data.moments("test")
        self.u, self.v = data.u, data.v
        self.ue, self.sv_emp, vte = empirical_cross_svd(data, "train")
        self.ve = vte.T
        self.beta = beta
        self.rank_tol = rank_tol
        self.p = data.dim
        self.rows = {k: [] for k in ("epochs", "train_mse", "test_mse", "loss", "grad_norm", "mode_sv", "svals",
                                     "eff_rank", "mode_sv_empirical")}

    def observe(self, ws, bad):
        m = end_to_end(ws)
        train = mse_from_moments(m, *self.tr)
        sq = sum(np.einsum("mij,mij->m", W, W) for W in ws)
        loss = 0.5 * self.p * train + 0.5 * self.beta * sq
        g = full_batch_grad(ws, self.tr[0], self.tr[1], self.beta)
        gn = np.sqrt(sum(np.einsum("mij,mij->m", x, x) for x in g))
        out = {
            "train_mse": train, "test_mse": mse_from_moments(m, *self.te), "loss": loss, "grad_norm": gn,
            "mode_sv": np.einsum("ji,mjk,ki->mi", self.u, m, self.v),
            "mode_sv_empirical": np.einsum("ji,mjk,ki->mi", self.ue, m, self.ve),
        }
        sv = np.linalg.svd(m, compute_uv=False)
        out["svals"] = sv
        out["eff_rank"] = np.sum(sv > self.rank_tol, axis=-1)
        for k in out:
            if k == "eff_rank":
                out[k] = np.where(bad, -1, out[k])
            else:
                out[k] = np.where(bad.reshape((-1,) + (1,) * (out[k].ndim - 1)), np.nan, out[k])
        return out

    def record(self, epoch, ws, bad):
        obs = self.observe(ws, bad)
        self.rows["epochs"].append(float(epoch))
        for k, v in obs.items():
            self.rows[k].append(v)
        return obs

    def arrays(self):
        return {k: np.asarray(v) for k, v in self.rows.items()}


def _validate_hyper(lr, batch, n_train, beta, noise_temperature):
    lr = check_positive("lr", lr)
    beta = check_beta(beta)
    B = check_int("batch", batch, minimum=1)
    if B > n_train:
        raise InputError(f"batch must be <= n_train ({n_train}), got {B}")
    T = check_nonnegative("noise_temperature", noise_temperature)
    return lr, beta, B, T


def _epoch_steps(ws, gens, X, Y, N, B, replacement, n_noise, lr, decay, noise_amp, offsets) -> None:
    """One epoch of every replica in place: draw its batches (and injected noise), then the SGD steps."""
    draws = [draw_epoch(g, N, B, replacement, n_noise) for g in gens]
    idx = np.stack([d[0] for d in draws])  # (M, n_idx)
    slices = draws[0][1]
    noise = np.stack([d[2] for d in draws]) if n_noise else None  # (M, steps, D)
    xe, ye = X[idx], Y[idx]
    for k, sl in enumerate(slices):
        grads = _batch_grads(ws, xe[:, sl], ye[:, sl])
        for l, W in enumerate(ws):
            W *= decay
            W -= lr * grads[l]
            if n_noise:
                W += noise_amp * noise[:, k, offsets[l]:offsets[l + 1]].reshape(W.shape)


def _freeze_diverged(ws, bad, diverged_epoch, epoch: int) -> None:
    """Per-replica divergence check (in place); frozen replicas stay at exactly zero weights."""
    finite = np.ones(bad.size, dtype=bool)
    for W in ws:
        finite &= np.all(np.isfinite(W) & (np.abs(W) < _OVERFLOW), axis=(1, 2))
    new_bad = ~finite & ~bad
    if new_bad.any():
        diverged_epoch[new_bad] = epoch
        bad |= new_bad
    if bad.any():
        for W in ws:
            W[bad] = 0.0


def _update_convergence(loss_hist, n, tol, converged, converged_epoch, bad, epoch) -> bool:
    """Mark replicas whose windowed mean loss changed by less than ``tol`` (in place); True when all have."""
    if len(loss_hist) <= 2 * n:
        return False
    recent = np.mean(loss_hist[-n:], axis=0)
    prev = np.mean(loss_hist[-2 * n:-n], axis=0)
    ok = np.abs(recent - prev) <= tol * np.abs(recent)
    newly = ok & ~converged & ~bad
    converged_epoch[newly] = epoch
    converged |= ok & ~bad  # once converged, stays marked
    return bool(np.all(converged | bad))


def _train_result(ws, rec, data, bad, diverged_epoch, converged, converged_epoch, ss, settings: dict) -> TrainResult:
    """The frozen result of :func:`train` from its final state and records."""
    arr = rec.arrays()
    return TrainResult(
        depth=len(ws), width=ws[0].shape[1], dim=data.dim, seed=int(ss.entropy), n_replicas=ws[0].shape[0],
        epochs=arr["epochs"], train_mse=arr["train_mse"], test_mse=arr["test_mse"], loss=arr["loss"],
        grad_norm=arr["grad_norm"], mode_sv=arr["mode_sv"], svals=arr["svals"], eff_rank=arr["eff_rank"],
        weights=tuple(np.where(bad[:, None, None], np.nan, W) for W in ws), diverged=bad,
        diverged_epoch=diverged_epoch, converged=converged, converged_epoch=converged_epoch, data_sv=data.sv.copy(),
        spawn_key=tuple(int(k) for k in ss.spawn_key), mode_sv_empirical=arr["mode_sv_empirical"],
        data_sv_empirical=rec.sv_emp.copy(), **settings)


def train(weights, data: Dataset, *, beta: float, lr: float, batch: int, epochs: int,
          noise_temperature: float = 0.0, replacement: bool = False, seed=None, stage: int = 1,
          record_every: int = 1, rank_tol: float = 1e-2, converge_tol: float | None = None,
          converge_window: int = 50, progress: bool = False, stop_rule=None) -> TrainResult:
    """Train an ensemble of replicas by mini-batch SGD with weight decay (all replicas at once).

    Parameters
    ----------
    weights : sequence of L arrays (M, n_out, n_in)
        Initial ensemble (copied), e.g. from :func:`init_random` or a previous result's ``weights``.
    data : Dataset
        Training set (used for the updates) and test set (observed only).
    beta, lr, batch : float, float, int
        Weight decay, learning rate and batch size B (1 <= B <= N).
    epochs : int
        Maximum number of epochs (>= 0).
    noise_temperature : float
        Injected Gaussian noise T >= 0 per step: ``theta += sqrt(2 T lr) xi``. 0 is plain SGD.
    replacement : bool
        Batches drawn with replacement (ceil(N/B) batches of B per epoch) instead of shuffled epochs.
    seed : Generator | int | None
        Entropy of the replica streams (see module docstring); recorded in the result.
    stage : int
        Spawn-key tag (>= 1) so that successive runs from one seed use fresh streams.
    record_every : int
        Observables every ``record_every`` epochs, plus the initial and the final state.
    rank_tol : float
        A singular value of the end-to-end map above ``rank_tol`` counts toward the effective rank.
    converge_tol, converge_window : float | None, int
        Convergence criterion (off when ``converge_tol`` is None): a replica has converged when the
        mean full-batch training loss over the last ``converge_window`` epochs differs from the mean
        over the window before by at most ``converge_tol`` times its magnitude. Losses are then
        recorded every epoch; the run stops when every live replica has converged (or at ``epochs``).
    progress : bool
        tqdm progress bar on stderr.
    stop_rule : langevin_grok.sgd.escape.EscapeRule, optional
        Early stopping: checked on every recorded state; the run ends at the first record at which
        every replica has escaped by this rule (at that or an earlier record) or diverged. The
        recorded curves and the escape epochs by the same rule are then identical to those of the
        full-length run up to that epoch (each replica's trajectory does not depend on when the
        ensemble stops); ``stopped_early`` says whether it happened.

    Returns
    -------
    TrainResult

    Notes
    -----
    Divergence (a non-finite weight or one beyond 1e100) is checked after every epoch and per
    replica; a diverged replica is frozen at zero weights internally, reported as NaN, and the others
    go on.

    The convergence criterion only sees the loss: on a plateau (near a saddle, or just above a
    spinodal where the dynamics slows down) the loss can change by less than ``converge_tol`` per
    window while the state still drifts, and the run is then declared converged. Check ``mode_sv``.
    """
    ws = _check_weights(weights, data.dim)
    N = data.n_train
    lr, beta, B, T = _validate_hyper(lr, batch, N, beta, noise_temperature)
    n_epochs = check_int("epochs", epochs, minimum=0)
    every = check_int("record_every", record_every, minimum=1)
    stage = check_int("stage", stage, minimum=1)
    rank_tol = check_nonnegative("rank_tol", rank_tol)
    if converge_tol is not None:
        converge_tol = check_positive("converge_tol", converge_tol)
        converge_window = check_int("converge_window", converge_window, minimum=1)
    replacement = bool(replacement)
    ss = as_seed_sequence(seed)
    M = ws[0].shape[0]
    shapes = [W.shape[1:] for W in ws]
    D = sum(o * i for o, i in shapes)
    offsets = np.cumsum([0] + [o * i for o, i in shapes]).astype(np.int64)
    gens = [replica_generator(ss, stage, r) for r in range(M)]
    X, Y = data.x_train, data.y_train
    noise_amp = math.sqrt(2.0 * T * lr)
    n_noise = D if T > 0 else 0
    decay = 1.0 - lr * beta

    rec = _Recorder(data, beta, rank_tol)
    bad = np.zeros(M, dtype=bool)
    diverged_epoch = np.full(M, np.nan)
    converged = np.zeros(M, dtype=bool)
    converged_epoch = np.full(M, np.nan)
    loss_hist = []
    obs0 = rec.record(0, ws, bad)
    if converge_tol is not None:
        loss_hist.append(rec.rows["loss"][-1])
    escaped = None
    stopped = False
    if stop_rule is not None:
        if not (hasattr(stop_rule, "hit") and hasattr(stop_rule, "key") and hasattr(stop_rule, "mode")):
            raise InputError(f"stop_rule must be an EscapeRule, got {type(stop_rule).__name__}")
        if stop_rule.mode >= data.dim:
            raise InputError(f"stop_rule.mode must be < dim ({data.dim}), got {stop_rule.mode}")
        escaped = stop_rule.hit(obs0[stop_rule.key])
        stopped = bool(n_epochs > 0 and np.all(escaped | bad))

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=n_epochs, unit="epoch", leave=False, dynamic_ncols=True)
    epoch = 0
    interrupted = None
    try:
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            while epoch < n_epochs and not stopped:
                _epoch_steps(ws, gens, X, Y, N, B, replacement, n_noise, lr, decay, noise_amp, offsets)
                epoch += 1
                _freeze_diverged(ws, bad, diverged_epoch, epoch)
                recorded = epoch % every == 0 or epoch == n_epochs
                if converge_tol is not None:
                    obs = rec.record(epoch, ws, bad) if recorded else rec.observe(ws, bad)
                    loss_hist.append(obs["loss"])
                    if _update_convergence(loss_hist, converge_window, converge_tol, converged, converged_epoch,
                                           bad, epoch):
                        if rec.rows["epochs"][-1] != epoch:
                            rec.record(epoch, ws, bad)
                        break
                elif recorded:
                    obs = rec.record(epoch, ws, bad)
                if bar is not None:
                    bar.update(1)
                if escaped is not None and recorded:
                    # only recorded states count, exactly as for the escape epochs found afterwards
                    escaped |= stop_rule.hit(obs[stop_rule.key])
                    if epoch < n_epochs and np.all(escaped | bad):
                        stopped = True
                        break
    except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM: hand back what was recorded (TrainingInterrupted)
        interrupted = exc
    if bar is not None:
        bar.close()
    result = _train_result(ws, rec, data, bad, diverged_epoch, converged, converged_epoch, ss, dict(
        beta=beta, lr=lr, batch=B, n_train=N, noise_temperature=T, replacement=replacement, stage=stage,
        epochs_run=epoch, rank_tol=rank_tol, converge_tol=converge_tol, stopped_early=stopped,
        converge_window=converge_window if converge_tol is not None else None))
    if interrupted is not None:
        raise TrainingInterrupted(result, interrupted) from None
    return result


def checkpoint_init(data: Dataset, *, depth: int, width: int, n_replicas: int, init_beta: float, lr: float,
                    batch: int, seed=None, max_epochs: int = 20000, converge_tol: float = 1e-4,
                    converge_window: int = 200, progress: bool = False) -> TrainResult:
    """The paper's checkpoint protocol, first half: random init (stage 0), then SGD at ``init_beta``
    (stage 1) until the convergence criterion of :func:`train` holds or ``max_epochs``. Continue from
    ``result.weights`` at another beta with ``stage=2``."""
    ss = as_seed_sequence(seed)
    w0 = init_random(depth, width, data.dim, n_replicas, ss)
    return train(w0, data, beta=init_beta, lr=lr, batch=batch, epochs=max_epochs, seed=ss, stage=1,
                 record_every=max(1, converge_window), converge_tol=converge_tol, converge_window=converge_window,
                 progress=progress)


@dataclass(frozen=True)
class SweepResult:
    """Quasi-static beta sweep: the converged state at each beta, in sweep order.

    Attributes
    ----------
    betas : (K,) the sweep values in order.
    train_mse, test_mse : (K, M); mode_sv, svals : (K, M, p); eff_rank : (K, M).
    converged : (K, M) bool; epochs_run : (K,) epochs spent at each step.
    weights : final ensemble after the last step.
    seed : SeedSequence entropy; step k trains with ``stage = first_stage + k``.
    """

    betas: np.ndarray
    train_mse: np.ndarray
    test_mse: np.ndarray
    mode_sv: np.ndarray
    svals: np.ndarray
    eff_rank: np.ndarray
    converged: np.ndarray
    epochs_run: np.ndarray
    weights: tuple = field(repr=False)
    seed: int = 0

    def to_dict(self) -> dict:
        return {"betas": self.betas.tolist(), "test_mse": self.test_mse.tolist(), "mode_sv": self.mode_sv.tolist(),
                "eff_rank": self.eff_rank.tolist(), "converged": self.converged.tolist(),
                "epochs_run": self.epochs_run.tolist(), "seed": self.seed}


def quasi_static_sweep(weights, data: Dataset, betas, *, lr: float, batch: int, max_epochs: int = 5000,
                       converge_tol: float = 1e-4, converge_window: int = 50, noise_temperature: float = 0.0,
                       replacement: bool = False, seed=None, first_stage: int = 1,
                       progress: bool = False) -> SweepResult:
    """Step beta through ``betas`` and re-train to convergence at each value from the previous state.

    Sweep up and then down (``betas`` and ``betas[::-1]``, chaining ``weights``) to trace the
    hysteresis loop. Each step stops by the convergence criterion of :func:`train` or at
    ``max_epochs``; ``converged`` says which.
    """
    betas = np.asarray([check_beta(b) for b in np.atleast_1d(np.asarray(betas, dtype=float))])
    if betas.size == 0:
        raise InputError("betas must hold at least one value")
    ss = as_seed_sequence(seed)
    ws = _check_weights(weights, data.dim)
    cols = {k: [] for k in ("train_mse", "test_mse", "mode_sv", "svals", "eff_rank", "converged")}
    used = []
    it = betas
    if progress:
        from tqdm import tqdm
        it = tqdm(betas, unit="beta", leave=False)
    for k, b in enumerate(it):
        res = train(ws, data, beta=float(b), lr=lr, batch=batch, epochs=max_epochs,
                    noise_temperature=noise_temperature, replacement=replacement, seed=ss, stage=first_stage + k,
                    record_every=max_epochs or 1, converge_tol=converge_tol, converge_window=converge_window)
        ws = res.weights
        for c in ("train_mse", "test_mse", "mode_sv", "svals", "eff_rank"):
            cols[c].append(getattr(res, c)[-1])
        cols["converged"].append(res.converged)
        used.append(res.epochs_run)
    return SweepResult(betas=betas, **{k: np.asarray(v) for k, v in cols.items()},
                       epochs_run=np.asarray(used), weights=ws, seed=int(ss.entropy))
