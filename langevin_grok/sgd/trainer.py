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

The whole escape protocol (data, random or checkpoint start, the run, escape detection with optional
early stopping, gradient noise at the trained weights) is :func:`run_protocol`; the ``sgd``
subcommand and the ``sgd`` sweep kind (``sweep_task``, ``SWEEP_SCHEMA``) are thin wrappers of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import (InputError, check_beta, check_choice, check_depth, check_finite, check_int,
                      check_nonnegative, check_positive)
from .._core.seeds import as_seed_sequence
from .data import Dataset, empirical_cross_svd, mse_from_moments
from ..landscape.modes import mode_landscape
from ..landscape.network import layer_shapes, n_params  # re-exported: one definition of the layout

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
    "SweepResult",
    "quasi_static_sweep",
    "checkpoint_init",
    "EscapeResult",
    "escape_by_test_mse",
    "escape_by_singular_value",
    "escape_by_mode_amplitude",
    "EscapeRule",
    "singular_value_rule",
    "mode_amplitude_rule",
    "escape_by_rule",
    "protocol_settings",
    "ProtocolResult",
    "run_protocol",
    "sweep_task",
    "SWEEP_SCHEMA",
]

# Stage tags in the replica spawn keys: stage 0 draws initial weights, training stages count from 1.
_INIT_STAGE = 0
# A replica whose weights leave this range (or turn NaN/inf) is declared diverged.
_OVERFLOW = 1e100


# --------------------------------------------------------------------------- layout
def pack(weights) -> np.ndarray:
    """Flatten an ensemble ``(M, o, i)`` per layer into ``theta`` of shape ``(M, D)``: the layers
    ``W_1 .. W_L`` one after the other, each row-major (the layout of :mod:`langevin_grok.landscape.network`)."""
    M = weights[0].shape[0]
    return np.concatenate([W.reshape(M, -1) for W in weights], axis=1)


def unpack(theta: np.ndarray, depth: int, width: int, dim: int) -> tuple[np.ndarray, ...]:
    """Inverse of :func:`pack`; ``theta`` is ``(M, D)`` (or ``(D,)`` for a single network, giving M = 1)."""
    theta = np.asarray(theta, dtype=float)
    if theta.ndim == 1:
        theta = theta[None, :]
    shapes = layer_shapes(depth, width, dim)
    D = sum(o * i for o, i in shapes)
    if theta.shape[1] != D:
        raise InputError(f"theta must have {D} columns for depth={depth}, width={width}, dim={dim}, "
                         f"got shape {theta.shape}")
    out, k = [], 0
    for o, i in shapes:
        out.append(np.ascontiguousarray(theta[:, k:k + o * i].reshape(-1, o, i)))
        k += o * i
    return tuple(out)


def end_to_end(weights) -> np.ndarray:
    """``W_L ... W_1`` for each replica, shape ``(M, p, p)``."""
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


def train(weights, data: Dataset, *, beta: float, lr: float, batch: int, epochs: int,
          noise_temperature: float = 0.0, replacement: bool = False, seed=None, stage: int = 1,
          record_every: int = 1, rank_tol: float = 1e-2, converge_tol: float | None = None,
          converge_window: int = 50, progress: bool = False, stop_rule: EscapeRule | None = None) -> TrainResult:
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
    stop_rule : EscapeRule, optional
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
        if not isinstance(stop_rule, EscapeRule):
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
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        while epoch < n_epochs and not stopped:
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
            epoch += 1
            # Per-replica divergence check; frozen replicas stay at exactly zero weights.
            finite = np.ones(M, dtype=bool)
            for W in ws:
                finite &= np.all(np.isfinite(W) & (np.abs(W) < _OVERFLOW), axis=(1, 2))
            new_bad = ~finite & ~bad
            if new_bad.any():
                diverged_epoch[new_bad] = epoch
                bad |= new_bad
            if bad.any():
                for W in ws:
                    W[bad] = 0.0
            recorded = epoch % every == 0 or epoch == n_epochs
            if converge_tol is not None:
                obs = rec.record(epoch, ws, bad) if recorded else rec.observe(ws, bad)
                loss_hist.append(obs["loss"])
                n = converge_window
                if len(loss_hist) > 2 * n:
                    recent = np.mean(loss_hist[-n:], axis=0)
                    prev = np.mean(loss_hist[-2 * n:-n], axis=0)
                    ok = np.abs(recent - prev) <= converge_tol * np.abs(recent)
                    newly = ok & ~converged & ~bad
                    converged_epoch[newly] = epoch
                    converged |= ok & ~bad  # once converged, stays marked
                    if np.all(converged | bad):
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
    if bar is not None:
        bar.close()
    final = tuple(np.where(bad[:, None, None], np.nan, W) for W in ws)
    arr = rec.arrays()
    return TrainResult(
        depth=len(ws), width=ws[0].shape[1], dim=data.dim, beta=beta, lr=lr, batch=B, n_train=N,
        noise_temperature=T, replacement=replacement, seed=int(ss.entropy), stage=stage, n_replicas=M,
        epochs_run=epoch, epochs=arr["epochs"], train_mse=arr["train_mse"], test_mse=arr["test_mse"],
        loss=arr["loss"], grad_norm=arr["grad_norm"], mode_sv=arr["mode_sv"], svals=arr["svals"],
        eff_rank=arr["eff_rank"], weights=final, diverged=bad, diverged_epoch=diverged_epoch,
        converged=converged, converged_epoch=converged_epoch, data_sv=data.sv.copy(),
        spawn_key=tuple(int(k) for k in ss.spawn_key), rank_tol=rank_tol, converge_tol=converge_tol,
        converge_window=converge_window if converge_tol is not None else None, stopped_early=stopped,
        mode_sv_empirical=arr["mode_sv_empirical"], data_sv_empirical=rec.sv_emp.copy(),
    )


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


# --------------------------------------------------------------------------- escape detection
@dataclass(frozen=True)
class EscapeResult:
    """Per-replica escape epochs by one criterion; ``None`` marks a censored (or diverged) replica.

    Attributes
    ----------
    criterion : "test_mse", "singular_value" or "mode_amplitude".
    epochs : tuple of float | None, one per replica (recorded epoch at which the criterion first held).
    diverged : tuple of bool (a diverged replica is never counted as escaped).
    threshold : the threshold(s) used (scalar, or per replica for "test_mse").
    details : dict of the criterion's parameters.
    """

    criterion: str
    epochs: tuple
    diverged: tuple
    threshold: object
    details: dict

    @property
    def n_escaped(self) -> int:
        return sum(e is not None for e in self.epochs)

    @property
    def n_censored(self) -> int:
        return sum(e is None and not d for e, d in zip(self.epochs, self.diverged))

    @property
    def n_diverged(self) -> int:
        return sum(self.diverged)

    def times(self) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, observed)`` arrays for censored-data statistics: censored replicas carry the
        last recorded epoch with ``observed = False`` (diverged replicas are left out)."""
        keep = [i for i, d in enumerate(self.diverged) if not d]
        end = float(self.details.get("last_epoch", np.nan))
        t = np.array([self.epochs[i] if self.epochs[i] is not None else end for i in keep], dtype=float)
        obs = np.array([self.epochs[i] is not None for i in keep], dtype=bool)
        return t, obs

    def to_dict(self) -> dict:
        thr = self.threshold.tolist() if isinstance(self.threshold, np.ndarray) else self.threshold
        return {"criterion": self.criterion, "escape_epochs": list(self.epochs), "n_escaped": self.n_escaped,
                "n_censored": self.n_censored, "n_diverged": self.n_diverged, "threshold": thr,
                "details": self.details}


def _first_crossing(curve: np.ndarray, epochs: np.ndarray, threshold, below: np.ndarray) -> list:
    """First recorded epoch where ``curve[:, i]`` is <= (below) or >= (above) the threshold."""
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), curve.shape[1:])
    hit = np.where(below[None, :], curve <= thr[None, :], curve >= thr[None, :])
    hit &= np.isfinite(curve)
    out = []
    for i in range(curve.shape[1]):
        k = np.flatnonzero(hit[:, i])
        out.append(float(epochs[k[0]]) if k.size else None)
    return out


def _finish(result: TrainResult, criterion, epochs, threshold, details) -> EscapeResult:
    div = tuple(bool(d) for d in result.diverged)
    epochs = tuple(None if d else e for e, d in zip(epochs, div))
    details = dict(details, last_epoch=float(result.epochs[-1]))
    return EscapeResult(criterion, epochs, div, threshold, details)


def escape_by_test_mse(result: TrainResult, plateau=None, final=None, final_fraction: float = 0.05,
                       min_change: float = 1e-2) -> EscapeResult:
    """The seed paper's criterion: the first recorded epoch at which the test MSE has crossed the
    midpoint between its plateau and its final value.

    Parameters
    ----------
    plateau : float or (M,), optional
        Plateau value (default: each replica's test MSE at the first record, i.e. the initial state).
    final : float or (M,), optional
        Final value (default: each replica's median over the last ``final_fraction`` of the records).
    min_change : float
        A replica whose ``|final - plateau|`` is below this (MSE units) did not move: censored.
    """
    te = result.test_mse
    plateau = te[0] if plateau is None else np.broadcast_to(np.asarray(plateau, float), te.shape[1:])
    if final is None:
        n = max(1, int(round(final_fraction * te.shape[0])))
        final = np.median(te[-n:], axis=0)
    else:
        final = np.broadcast_to(np.asarray(final, float), te.shape[1:])
    min_change = check_nonnegative("min_change", min_change)
    mid = 0.5 * (plateau + final)
    ep = _first_crossing(te, result.epochs, mid, below=final < plateau)
    moved = np.abs(final - plateau) >= min_change
    ep = [e if m else None for e, m in zip(ep, moved)]
    return _finish(result, "test_mse", ep, mid, {"min_change": min_change, "final_fraction": final_fraction})


@dataclass(frozen=True)
class EscapeRule:
    """An escape criterion that can be checked while training (for early stopping) and after it.

    ``values(mode_sv)`` maps the projected singular values ``u_i^T M v_i`` (``(..., p)``) of ``mode`` to
    the criterion's variable (the singular value itself, or the mode amplitude
    ``a = sign(lambda)|lambda|^(1/L)``); a replica has escaped once that variable is ``<= threshold``
    (``below``) or ``>= threshold``. Build one with :func:`singular_value_rule` or
    :func:`mode_amplitude_rule`; :func:`escape_by_singular_value` and :func:`escape_by_mode_amplitude`
    apply the same rule to recorded curves, and :func:`train` (``stop_rule``) checks it at every record.

    ``basis`` says which projection the rule reads: ``"population"`` (``TrainResult.mode_sv``, the data
    model's singular vectors) or ``"empirical"`` (``TrainResult.mode_sv_empirical``, the training set's);
    ``key`` is the name of that array.
    """

    criterion: str
    mode: int
    threshold: float
    below: bool
    amplitude_depth: int | None = None
    details: dict = field(default_factory=dict)
    basis: str = "population"

    @property
    def key(self) -> str:
        return "mode_sv_empirical" if self.basis == "empirical" else "mode_sv"

    def values(self, mode_sv: np.ndarray) -> np.ndarray:
        lam = np.asarray(mode_sv, dtype=float)[..., self.mode]
        if self.amplitude_depth is None:
            return lam
        return np.sign(lam) * np.abs(lam) ** (1.0 / self.amplitude_depth)

    def hit(self, mode_sv: np.ndarray) -> np.ndarray:
        """Boolean (...,): the criterion holds (NaN, i.e. diverged, never counts)."""
        x = self.values(mode_sv)
        with np.errstate(invalid="ignore"):
            h = x <= self.threshold if self.below else x >= self.threshold
        return h & np.isfinite(x)


_BASES = ("population", "empirical")


def singular_value_rule(mode: int, threshold: float, direction: str = "up", dim: int | None = None,
                        basis: str = "population") -> EscapeRule:
    """Rule of :func:`escape_by_singular_value`: ``u_i^T M v_i`` of ``mode`` rises above (``"up"``) or
    falls below (``"down"``) ``threshold``; ``basis`` picks the population or empirical ``u_i, v_i``."""
    mode = check_int("mode", mode, minimum=0)
    if dim is not None and mode >= dim:
        raise InputError(f"mode must be < dim ({dim}), got {mode}")
    thr = check_finite("threshold", threshold)
    direction = check_choice("direction", direction, ("up", "down"))
    basis = check_choice("basis", basis, _BASES)
    return EscapeRule("singular_value", mode, thr, direction == "down",
                      details={"mode": mode, "direction": direction, "basis": basis}, basis=basis)


def mode_amplitude_rule(depth: int, sv: float, beta: float, mode: int, direction: str = "forward",
                        basis: str = "population") -> EscapeRule:
    """Rule of :func:`escape_by_mode_amplitude` for a mode of singular value ``sv`` at ``beta``.

    The level is the one escape definition of the package, :func:`langevin_grok.landscape.escape.escape_target`
    (also used by the Langevin engine's events, :func:`langevin_grok.langevin.events.escape_setup`):
    ``"forward"``: lambda rises above ``(lambda_sad + lambda_min)/2``; ``"reverse"``: lambda falls below
    ``lambda_sad/2``. The rule reads the amplitude ``a = sign(lambda)|lambda|^(1/L)`` against
    ``threshold = a_target = lambda_target^(1/L)`` (the same event: the map is monotone).
    ``basis``: which projection lambda is read from (``"empirical"`` when ``sv`` is the training set's
    singular value). Raises InputError if the mode is not bistable at ``beta`` (no saddle to cross).
    """
    from ..landscape.escape import escape_target

    L = check_depth(depth)
    mode = check_int("mode", mode, minimum=0)
    direction = check_choice("direction", direction, ("forward", "reverse"))
    basis = check_choice("basis", basis, _BASES)
    eta = check_finite("sv", sv)
    ml = mode_landscape(L, eta, beta)
    if ml.a_saddle is None or ml.a_min is None:
        raise InputError(f"mode {mode} (sv={eta:g}) has no saddle at beta={beta:g} (phase {ml.phase})")
    tgt = escape_target(L, eta, beta, direction)
    return EscapeRule("mode_amplitude", mode, float(tgt.a_target), direction == "reverse", amplitude_depth=L,
                      details={"mode": mode, "direction": direction, "sv": eta, "a_saddle": ml.a_saddle,
                               "a_min": ml.a_min, "lambda_target": tgt.lambda_target,
                               "lambda_saddle": tgt.lambda_saddle, "lambda_min": tgt.lambda_min,
                               "level": "escape.escape_target", "basis": basis},
                      basis=basis)


def escape_by_rule(result: TrainResult, rule: EscapeRule) -> EscapeResult:
    """Per-replica first recorded epoch at which ``rule`` holds (None: censored or diverged)."""
    if rule.mode >= result.dim:
        raise InputError(f"mode must be < dim ({result.dim}), got {rule.mode}")
    curve = getattr(result, rule.key)
    if curve is None:
        raise InputError(f"the result has no {rule.key} curve (recorded by an older version of train)")
    hit = rule.hit(curve)  # (R, M)
    ep = []
    for i in range(hit.shape[1]):
        k = np.flatnonzero(hit[:, i])
        ep.append(float(result.epochs[k[0]]) if k.size else None)
    return _finish(result, rule.criterion, ep, rule.threshold, dict(rule.details))


def escape_by_singular_value(result: TrainResult, mode: int, threshold: float,
                             direction: str = "up", basis: str = "population") -> EscapeResult:
    """First recorded epoch at which the projected singular value ``u_i^T M v_i`` of ``mode`` rises
    above (``"up"``) or falls below (``"down"``) ``threshold`` (the paper uses sigma_2 > 1e-3);
    ``basis="empirical"`` projects on the training set's singular vectors instead."""
    return escape_by_rule(result, singular_value_rule(mode, threshold, direction, dim=result.dim, basis=basis))


def escape_by_mode_amplitude(result: TrainResult, mode: int, direction: str = "forward",
                             sv: float | str | None = None, basis: str | None = None) -> EscapeResult:
    """Mode value ``lambda = u_i^T M v_i`` crossing the level of :func:`langevin_grok.landscape.escape.escape_target`.

    ``"forward"`` (trivial -> learned): lambda rises above ``(lambda_sad + lambda_min)/2``.
    ``"reverse"`` (learned -> trivial): lambda falls below ``lambda_sad / 2``.
    (Checked as the amplitude ``a = sign(lambda)|lambda|^(1/L)`` against ``lambda_target^(1/L)``.)

    ``sv`` is the mode's eta: None = the population value (projection on the population singular
    vectors); ``"empirical"`` = the training set's value (projection on the empirical singular vectors,
    ``result.mode_sv_empirical``); a number = that eta. ``basis`` ("population" | "empirical") fixes the
    projection explicitly; when omitted with a number it is the basis whose singular value equals ``sv``
    (relative 1e-12), and an ``sv`` matching neither needs an explicit ``basis``. The projection always
    belongs to the singular values used, so an exactly rank-deficient state reads lambda = 0 on the
    empirical landscape. Raises InputError if the mode is not bistable at the run's beta.
    """
    mode = check_int("mode", mode, minimum=0)
    if mode >= result.dim:
        raise InputError(f"mode must be < dim ({result.dim}), got {mode}")
    if basis is not None:
        basis = check_choice("basis", basis, _BASES)
    emp = None if result.data_sv_empirical is None else float(result.data_sv_empirical[mode])
    pop = float(result.data_sv[mode])
    if sv is None or (isinstance(sv, str) and sv == "population"):
        eta, basis = pop, basis or "population"
    elif isinstance(sv, str):
        check_choice("sv", sv, ("empirical", "population"))
        if emp is None:
            raise InputError("sv='empirical' needs a result with data_sv_empirical (recorded by train)")
        eta, basis = emp, basis or "empirical"
    else:
        eta = check_finite("sv", sv)
        if basis is None:
            if emp is not None and abs(eta - emp) <= 1e-12 * abs(emp):
                basis = "empirical"
            elif abs(eta - pop) <= 1e-12 * abs(pop):
                basis = "population"
            else:
                raise InputError(f"sv={eta!r} is neither the empirical ({emp!r}) nor the population ({pop!r}) "
                                 f"singular value of mode {mode}: pass basis='population' or 'empirical'")
    return escape_by_rule(result, mode_amplitude_rule(result.depth, eta, result.beta, mode, direction, basis))


# --------------------------------------------------------------------------- the full protocol
_CRITERIA = ("test_mse", "singular_value", "mode_amplitude")
_INITS = ("random", "checkpoint")


def _clean(x):
    """JSON-ready copy: numpy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def protocol_settings(*, depth, width, sv, beta, lr, batch, epochs, n_replicas=10, seed=0, data_seed=None,
                      init="random", init_beta=None, init_max_epochs=20000, converge_tol=1e-4,
                      converge_window=200, noise_temperature=0.0, replacement=False, n_train=512, n_test=512,
                      n_pool=None, record_every=1, criterion="test_mse", escape_mode=None, sv_threshold=1e-3,
                      min_change=1e-2, early_stop=True, measure_noise=True) -> dict:
    """Validate the arguments of :func:`run_protocol` and return them in canonical form (no work done).

    Raises InputError naming the argument and the value.
    """
    from .._core.checks import check_sv

    eta = check_sv(sv)
    s = {
        "depth": check_depth(depth), "width": check_int("width", width, minimum=1), "sv": [float(x) for x in eta],
        "beta": check_beta(beta), "lr": check_positive("lr", lr), "n_train": check_int("n_train", n_train, minimum=1),
        "n_test": check_int("n_test", n_test, minimum=1), "epochs": check_int("epochs", epochs, minimum=0),
        "n_replicas": check_int("n_replicas", n_replicas, minimum=1), "seed": check_int("seed", seed, minimum=0),
        "data_seed": None if data_seed is None else check_int("data_seed", data_seed, minimum=0),
        "init": check_choice("init", init, _INITS), "init_beta": None, "init_max_epochs": int(init_max_epochs),
        "converge_tol": float(converge_tol), "converge_window": int(converge_window),
        "noise_temperature": check_nonnegative("noise_temperature", noise_temperature),
        "replacement": bool(replacement), "n_pool": None,
        "record_every": check_int("record_every", record_every, minimum=1),
        "criterion": check_choice("criterion", criterion, _CRITERIA), "escape_mode": None,
        "sv_threshold": check_finite("sv_threshold", sv_threshold),
        "min_change": check_nonnegative("min_change", min_change), "early_stop": bool(early_stop),
        "measure_noise": bool(measure_noise),
    }
    B = check_int("batch", batch, minimum=1)
    if B > s["n_train"]:
        raise InputError(f"batch must be <= n_train ({s['n_train']}), got {B}")
    s["batch"] = B
    if n_pool is not None:
        s["n_pool"] = check_int("n_pool", n_pool, minimum=1)
        if s["n_train"] > s["n_pool"]:
            raise InputError(f"n_train must be <= n_pool ({s['n_pool']}), got {s['n_train']}")
    if s["init"] == "checkpoint":
        if init_beta is None:
            raise InputError("init_beta is required with init = 'checkpoint'")
        s["init_beta"] = check_beta(init_beta, "init_beta")
        s["init_max_epochs"] = check_int("init_max_epochs", init_max_epochs, minimum=1)
        s["converge_tol"] = check_positive("converge_tol", converge_tol)
        s["converge_window"] = check_int("converge_window", converge_window, minimum=1)
    if escape_mode is not None:
        m = check_int("escape_mode", escape_mode, minimum=0)
        if m >= len(eta):
            raise InputError(f"escape_mode must be in 0..{len(eta) - 1}, got {escape_mode}")
        s["escape_mode"] = m
    return s


@dataclass(frozen=True)
class ProtocolResult:
    """Outcome of :func:`run_protocol`: escape epochs, final state and measured noise of one ensemble.

    Attributes
    ----------
    escape_epochs : list of float | None, one per replica (None: censored or diverged), epochs of the
        run at ``beta`` (the checkpoint training is not counted).
    n_escaped, n_censored, n_diverged, n_seeds : counts (n_seeds = M replicas).
    criterion, criterion_mode, criterion_direction : the escape rule used.
    final_rank : list of int | None (None: diverged); train_mse, test_mse : final torch-style MSE per replica.
    noise : dict, the gradient-noise measurement (see :func:`run_protocol`); its keys ``noise_trace``,
        ``noise_escape_direction``, ``temperature_eff`` ... are flattened into :meth:`to_dict`.
    dynamics : "plain SGD" or "SGD + injected noise T=...".
    early_stop_applied, stopped_early, epochs_run : early stopping (see :func:`train`).
    settings : the canonical arguments plus the seed sequences of data and training.
    train : TrainResult of the run at beta; start : TrainResult of the checkpoint training (None for
        random init); escape : EscapeResult; data : Dataset.
    """

    escape_epochs: list
    n_escaped: int
    n_censored: int
    n_diverged: int
    n_seeds: int
    criterion: str
    criterion_mode: int
    criterion_direction: str
    final_rank: list
    train_mse: list
    test_mse: list
    noise: dict
    dynamics: str
    early_stop_applied: bool
    stopped_early: bool
    epochs_run: int
    settings: dict
    train: TrainResult = field(repr=False)
    escape: EscapeResult = field(repr=False)
    start: TrainResult | None = field(repr=False, default=None)
    data: Dataset | None = field(repr=False, default=None)

    def to_dict(self) -> dict:
        """The JSON object of ``langevin-grok sgd --json`` (non-finite floats as None)."""
        out = {
            "escape_epochs": self.escape_epochs, "n_escaped": self.n_escaped, "n_seeds": self.n_seeds,
            "n_censored": self.n_censored, "n_diverged": self.n_diverged, "criterion": self.criterion,
            "criterion_mode": self.criterion_mode, "criterion_direction": self.criterion_direction,
            "final_rank": self.final_rank, "train_mse": self.train_mse, "test_mse": self.test_mse,
        }
        out.update(self.noise)
        out.update({"dynamics": self.dynamics, "early_stop_applied": self.early_stop_applied,
                    "stopped_early": self.stopped_early, "epochs_run": self.epochs_run, "settings": self.settings})
        return _clean(out)

    def curves(self) -> dict[str, np.ndarray]:
        """Recorded curves of the run at beta plus ``escape_epochs`` (NaN = censored), for ``numpy.savez``."""
        c = self.train.curves()
        c["escape_epochs"] = np.array([np.nan if e is None else e for e in self.escape_epochs])
        return c


def _state_modes(mode_sv: np.ndarray, tol: float) -> tuple[str, ...]:
    """Per mode: "learned" if the median projected singular value over live replicas exceeds tol."""
    med = np.nanmedian(mode_sv, axis=0) if np.isfinite(mode_sv).any() else np.zeros(mode_sv.shape[1])
    return tuple("learned" if m > tol else "trivial" for m in med)


def _measure_noise(s: dict, data: Dataset, weights, modes, weights_beta: float, zero_rtol: float = 1e-12) -> dict:
    """Noise at the trained weights along the escape direction rotated into their frame
    (:func:`langevin_grok.sgd.noise.aligned_escape_noise`), per live replica, and at the ideal point.

    The weights were trained at ``weights_beta``: the ideal state they are aligned to is built there,
    the saddle (escape direction) and the ideal-point comparison at the run's beta."""
    from ..landscape.network import DeepLinearNetwork, stationary_point
    from .noise import aligned_escape_noise, aligned_escape_noise_ensemble, gradient_noise, relevant_saddle
    from .._core.units import sgd_temperature

    L, w, eta, beta = s["depth"], s["width"], s["sv"], s["beta"]
    out = {"noise_state": list(modes), "saddle": None, "escape_mode": s["escape_mode"],
           "escape_direction_kind": None, "noise_trace": None, "noise_escape_direction": None,
           "escape_noise_zero": None, "temperature_eff": None, "temperature_iso": None,
           "noise_escape_direction_replicas": None, "noise_trace_replicas": None, "alignment_residual": None,
           "alignment_relative_residual": None, "noise_escape_direction_ideal": None, "noise_trace_ideal": None,
           "escape_noise_zero_ideal": None,
           "noise_measured_at": (f"trained weights of the checkpoint (trained at beta={weights_beta:g})"
                                 if s["init"] == "checkpoint" else "trained weights at the end of the run"),
           "noise_note": None}
    net = DeepLinearNetwork.from_singular_values(L, w, len(eta), eta, beta)
    wnet = net if weights_beta == beta else DeepLinearNetwork.from_singular_values(L, w, len(eta), eta, weights_beta)
    try:
        stationary_point(wnet, modes)  # the state must exist where the weights were trained, too
        ideal = stationary_point(net, modes)
    except InputError as exc:
        out["noise_note"] = f"state {','.join(modes)} is not a stationary point at beta={beta:g}: {exc}"
        return out
    X, Y = data.x_train, data.y_train
    kw = {"lr": s["lr"], "batch": s["batch"], "replacement": s["replacement"], "zero_rtol": zero_rtol}
    rel = relevant_saddle(L, eta, beta, modes)
    if s["escape_mode"] is not None:
        m = s["escape_mode"]
        saddle = list(modes)
        saddle[m] = "saddle"
        rel = (tuple(saddle), m, "forward" if modes[m] == "trivial" else "reverse")
    live = [r for r in range(weights[0].shape[0]) if all(np.all(np.isfinite(W[r])) for W in weights)]
    thetas = pack(weights)
    if rel is None:
        traces = [gradient_noise(thetas[r], X, Y, L, w, **kw).trace for r in live]
        out["noise_trace_replicas"] = traces
        out["noise_trace"] = float(np.median(traces)) if traces else None
        out["noise_trace_ideal"] = gradient_noise(ideal.theta, X, Y, L, w, **kw).trace
        out["noise_note"] = f"no bistable mode at beta={beta:g}: no escape direction"
        return out
    try:
        at_ideal = aligned_escape_noise(ideal.theta, X, Y, net, modes, rel[0], **kw)
    except InputError as exc:
        out["noise_note"] = f"no escape direction: {exc}"
        return out
    out.update(saddle=list(rel[0]), escape_mode=rel[1], escape_direction_kind=rel[2],
               noise_escape_direction_ideal=at_ideal.noise.direction_variance,
               noise_trace_ideal=at_ideal.noise.trace, escape_noise_zero_ideal=at_ideal.noise.escape_noise_zero)
    res = aligned_escape_noise_ensemble(thetas[live], X, Y, net, modes, rel[0], state_net=wnet, **kw) if live else ()
    if not res:
        out["noise_note"] = "every replica diverged: no trained weights to measure the noise at"
        return out
    ce = [a.noise.direction_variance for a in res]
    tr = [a.noise.trace for a in res]
    c_med, tr_med = float(np.median(ce)), float(np.median(tr))
    zero = bool(c_med <= zero_rtol * tr_med)
    n_eff = data.n_train
    out.update(
        noise_escape_direction_replicas=ce, noise_trace_replicas=tr,
        alignment_residual=[a.alignment.residual for a in res],
        alignment_relative_residual=[a.alignment.relative_residual for a in res],
        noise_trace=tr_med, noise_escape_direction=c_med, escape_noise_zero=zero,
        temperature_eff=0.0 if zero else sgd_temperature(s["lr"], s["batch"], c_med, n_train=n_eff,
                                                         replacement=s["replacement"]),
        temperature_iso=sgd_temperature(s["lr"], s["batch"], tr_med / net.n_params, n_train=n_eff,
                                        replacement=s["replacement"]),
    )
    if at_ideal.noise.escape_noise_zero:
        out["noise_note"] = (
            "zero gradient noise along the escape direction at the ideal state: an absorbing trap for plain SGD "
            "(no finite escape time follows from the noise); at the trained weights c_e/tr C = "
            f"{c_med / tr_med if tr_med > 0 else float('nan'):.3g} (median), the undecayed remnant of the trap's "
            "dead directions" + (" (zero within the tolerance)" if zero else ""))
    elif zero:
        out["noise_note"] = ("zero gradient noise along the escape direction at the trained weights: an absorbing "
                             "trap for plain SGD (no finite escape time follows from the noise)")
    return out


def run_protocol(*, depth: int, width: int, sv, beta: float, lr: float, batch: int, epochs: int,
                 n_replicas: int = 10, seed: int = 0, data_seed: int | None = None, init: str = "random",
                 init_beta: float | None = None, init_max_epochs: int = 20000, converge_tol: float = 1e-4,
                 converge_window: int = 200, noise_temperature: float = 0.0, replacement: bool = False,
                 n_train: int = 512, n_test: int = 512, n_pool: int | None = None, record_every: int = 1,
                 criterion: str = "test_mse", escape_mode: int | None = None, sv_threshold: float = 1e-3,
                 min_change: float = 1e-2, early_stop: bool = True, measure_noise: bool = True,
                 progress: bool = False) -> ProtocolResult:
    """The seed paper's escape protocol end to end: data, start state, SGD at ``beta``, escapes, noise.

    Parameters
    ----------
    depth, width, sv : network depth L, hidden width w, singular values eta of Sigma_yx (p = len(sv)).
    beta, lr, batch, epochs : weight decay, learning rate, batch size B and epochs of the run (epochs).
    n_replicas : M replicas trained together.
    seed : int
        Replica streams: ``SeedSequence(seed, spawn_key=(1,))`` (stage 0 random init, stage 1 checkpoint
        training, stage 2 the run at beta).
    data_seed : int, optional
        Data: ``SeedSequence(data_seed, spawn_key=(0,))``; default ``seed`` (so the data changes with
        ``seed`` unless fixed here).
    init : "random" | "checkpoint"
        random: N(0,1)/sqrt(w) in every layer; checkpoint: random, then SGD at ``init_beta`` until the
        loss criterion (``converge_tol`` relative change over ``converge_window`` epochs) or
        ``init_max_epochs``.
    noise_temperature, replacement : injected noise T (0 = plain SGD) and batches with replacement.
    n_train, n_test : sample counts; n_pool : if given, the training set is ``n_train`` samples drawn from
        a pool of ``n_pool`` (sparse sub-sampling, :func:`langevin_grok.sgd.data.make_sparse_dataset`).
    record_every : observable cadence (epochs); escapes are detected on recorded epochs only.
    criterion : "test_mse" | "singular_value" | "mode_amplitude"
        The paper's test-MSE midpoint; ``u_i^T M v_i`` of the criterion mode past ``sv_threshold``; or
        the mode amplitude past the saddle/minimum midpoint. The criterion mode is ``escape_mode`` if
        given, else for checkpoint starts the mode of :func:`langevin_grok.sgd.noise.relevant_saddle` at the
        start state, else the last (weakest) mode; the direction is up/forward from a trivial mode and
        down/reverse from a learned one (random init counts as trivial: it starts near 0).
    min_change : test_mse criterion: replicas whose final MSE is within this of the plateau are censored.
    early_stop : bool
        Stop the run once every replica has escaped or diverged (:func:`train` ``stop_rule``). Applied
        for the singular_value and mode_amplitude criteria; the test_mse criterion needs the final
        value of the whole run, so it always runs all epochs (``early_stop_applied`` says which).
        Escape epochs are identical to those of the full run.
    measure_noise : bool
        Per-sample gradient noise at the trained weights: the start state for checkpoint runs (the
        metastable state being escaped), the final state for random init. For each live replica the
        ideal state (modes read off the median projected singular values, population network at beta)
        is aligned to the weights by hidden-layer rotations and the escape direction of the relevant
        saddle rotated with it (:func:`langevin_grok.sgd.noise.aligned_escape_noise`). Summary values are
        medians over live replicas; per-replica lists and the alignment residuals are included, and the
        ideal point's values for comparison.

    Returns
    -------
    ProtocolResult
    """
    from .data import make_dataset, make_sparse_dataset

    s = protocol_settings(
        depth=depth, width=width, sv=sv, beta=beta, lr=lr, batch=batch, epochs=epochs, n_replicas=n_replicas,
        seed=seed, data_seed=data_seed, init=init, init_beta=init_beta, init_max_epochs=init_max_epochs,
        converge_tol=converge_tol, converge_window=converge_window, noise_temperature=noise_temperature,
        replacement=replacement, n_train=n_train, n_test=n_test, n_pool=n_pool, record_every=record_every,
        criterion=criterion, escape_mode=escape_mode, sv_threshold=sv_threshold, min_change=min_change,
        early_stop=early_stop, measure_noise=measure_noise)
    L, w, eta, p = s["depth"], s["width"], s["sv"], len(s["sv"])
    dss = np.random.SeedSequence(s["seed"] if s["data_seed"] is None else s["data_seed"], spawn_key=(0,))
    if s["n_pool"] is None:
        data = make_dataset(eta, n_train=s["n_train"], n_test=s["n_test"], seed=dss)
    else:
        data = make_sparse_dataset(eta, n_train=s["n_train"], n_pool=s["n_pool"], n_test=s["n_test"], seed=dss)
    ss = np.random.SeedSequence(s["seed"], spawn_key=(1,))
    start = None
    if s["init"] == "random":
        w0 = init_random(L, w, p, s["n_replicas"], ss)
        start_modes = ("trivial",) * p
        mode = s["escape_mode"] if s["escape_mode"] is not None else p - 1
    else:
        start = checkpoint_init(data, depth=L, width=w, n_replicas=s["n_replicas"], init_beta=s["init_beta"],
                                lr=s["lr"], batch=s["batch"], seed=ss, max_epochs=s["init_max_epochs"],
                                converge_tol=s["converge_tol"], converge_window=s["converge_window"],
                                progress=progress)
        w0 = start.weights
        start_modes = _state_modes(start.mode_sv[-1], start.rank_tol)
        mode = s["escape_mode"]
        if mode is None:
            from .noise import relevant_saddle

            rel = relevant_saddle(L, eta, s["beta"], start_modes)
            mode = rel[1] if rel is not None else p - 1
    up = start_modes[mode] == "trivial"
    rule = None
    if s["criterion"] == "singular_value":
        rule = singular_value_rule(mode, s["sv_threshold"], "up" if up else "down", dim=p)
    elif s["criterion"] == "mode_amplitude":
        rule = mode_amplitude_rule(L, eta[mode], s["beta"], mode, "forward" if up else "reverse")
    apply_stop = rule is not None and s["early_stop"]
    res = train(w0, data, beta=s["beta"], lr=s["lr"], batch=s["batch"], epochs=s["epochs"],
                noise_temperature=s["noise_temperature"], replacement=s["replacement"], seed=ss, stage=2,
                record_every=s["record_every"], progress=progress, stop_rule=rule if apply_stop else None)
    esc = escape_by_test_mse(res, min_change=s["min_change"]) if rule is None else escape_by_rule(res, rule)
    if s["measure_noise"]:
        if start is not None:
            nw, nmodes = start.weights, start_modes
        else:
            nw, nmodes = res.weights, _state_modes(res.mode_sv[-1], res.rank_tol)
        noise = _measure_noise(s, data, nw, nmodes, s["init_beta"] if start is not None else s["beta"])
    else:
        noise = {"noise_trace": None, "noise_escape_direction": None, "temperature_eff": None,
                 "noise_note": "noise not measured (measure_noise=False)"}
    settings = dict(s)
    settings.update(
        data_seed_sequence={"entropy": data.seed, "spawn_key": list(data.spawn_key)},
        train_seed_sequence={"entropy": res.seed, "spawn_key": list(res.spawn_key)},
        start_modes=list(start_modes),
        checkpoint_epochs=None if start is None else start.epochs_run,
        checkpoint_converged=None if start is None else int(start.converged.sum()))
    return ProtocolResult(
        escape_epochs=list(esc.epochs), n_escaped=esc.n_escaped, n_censored=esc.n_censored,
        n_diverged=esc.n_diverged, n_seeds=res.n_replicas, criterion=esc.criterion, criterion_mode=int(mode),
        criterion_direction=("up" if up else "down") if s["criterion"] != "mode_amplitude" else
        ("forward" if up else "reverse"),
        final_rank=[None if d else int(r) for r, d in zip(res.eff_rank[-1], res.diverged)],
        train_mse=res.train_mse[-1].tolist(), test_mse=res.test_mse[-1].tolist(), noise=noise,
        dynamics="plain SGD" if s["noise_temperature"] == 0 else f"SGD + injected noise T={s['noise_temperature']:g}",
        early_stop_applied=apply_stop, stopped_early=res.stopped_early, epochs_run=res.epochs_run,
        settings=settings, train=res, escape=esc, start=start, data=data)


# --------------------------------------------------------------------------- sweep hook
# Picked up by langevin_grok.sweep.registry for ``[sweep] kind = "sgd"``: one task = one ensemble of
# ``replicas`` replicas run by :func:`run_protocol` with ``seed`` = the task seed.
SWEEP_SCHEMA = {
    "depth": {"type": "int", "min": 2, "help": "number of weight matrices L (dimensionless)"},
    "width": {"type": "int", "min": 1, "help": "hidden width w (units)"},
    "sv": {"type": "floats", "min": 0.0, "max": 1.0, "min_exclusive": True, "max_exclusive": True,
           "help": "singular values eta of Sigma_yx, p = their number (dimensionless)"},
    "beta": {"type": "float", "min": 0.0, "help": "weight decay beta of the run (loss units per squared weight)"},
    "lr": {"type": "float", "min": 0.0, "min_exclusive": True, "help": "learning rate (SDE time per step)"},
    "batch": {"type": "int", "min": 1, "help": "batch size B (samples)"},
    "epochs": {"type": "int", "min": 0, "help": "epochs of the run at beta (epochs)"},
    "replicas": {"type": "int", "min": 1, "default": 10, "help": "replicas M trained together per task"},
    "data_seed": {"type": "int", "min": 0, "default": None,
                  "help": "seed of the data sets (default: the task seed, so every task draws its own data)"},
    "init": {"type": "str", "choices": _INITS, "default": "random",
             "help": "random: N(0,1)/sqrt(w); checkpoint: trained to convergence at init_beta first"},
    "init_beta": {"type": "float", "min": 0.0, "default": None,
                  "help": "weight decay of the checkpoint training (loss units; required with init=checkpoint)"},
    "init_max_epochs": {"type": "int", "min": 1, "default": 20000, "help": "cap on the checkpoint training (epochs)"},
    "converge_tol": {"type": "float", "min": 0.0, "min_exclusive": True, "default": 1e-4,
                     "help": "checkpoint convergence: relative change of the windowed mean loss (dimensionless)"},
    "converge_window": {"type": "int", "min": 1, "default": 200, "help": "checkpoint convergence window (epochs)"},
    "noise_temperature": {"type": "float", "min": 0.0, "default": 0.0,
                          "help": "injected Gaussian noise temperature T (loss units; 0 = plain SGD)"},
    "replacement": {"type": "bool", "default": False, "help": "batches with replacement (default: shuffled epochs)"},
    "n_train": {"type": "int", "min": 1, "default": 512, "help": "training samples N"},
    "n_test": {"type": "int", "min": 1, "default": 512, "help": "test samples"},
    "n_pool": {"type": "int", "min": 1, "default": None,
               "help": "sparse sub-sampling: draw n_train out of a pool of n_pool samples (default: no pool)"},
    "record_every": {"type": "int", "min": 1, "default": 1, "help": "observable cadence (epochs)"},
    "criterion": {"type": "str", "choices": _CRITERIA, "default": "test_mse", "help": "escape criterion"},
    "escape_mode": {"type": "int", "min": 0, "default": None, "help": "mode index (0-based) of the criterion"},
    "sv_threshold": {"type": "float", "default": 1e-3, "help": "singular_value criterion threshold (dimensionless)"},
    "min_change": {"type": "float", "min": 0.0, "default": 1e-2,
                   "help": "test_mse criterion: smallest plateau-to-final change counted as an escape (MSE units)"},
    "early_stop": {"type": "bool", "default": True,
                   "help": "stop once every replica escaped or diverged (singular_value/mode_amplitude criteria)"},
    "measure_noise": {"type": "bool", "default": True, "help": "measure the gradient noise at the trained weights"},
}
SWEEP_VERSION = "1"
SWEEP_HELP = "mini-batch SGD escape protocol of one ensemble (langevin_grok.sgd.trainer.run_protocol)"


def _sweep_kwargs(params: dict) -> dict:
    kw = {k: v for k, v in params.items() if k != "replicas"}
    kw["n_replicas"] = params["replicas"]
    return kw


def SWEEP_CHECK(params: dict) -> None:  # noqa: N802 - name fixed by the sweep registry
    """Constraints between parameters (batch <= n_train, init_beta with checkpoint, ...)."""
    protocol_settings(**_sweep_kwargs(params))


def sweep_task(params: dict, seed: int) -> dict:
    """Sweep task ``"sgd"``: ``run_protocol(**params, seed=seed).to_dict()`` (``replicas`` -> n_replicas)."""
    return run_protocol(**_sweep_kwargs(params), seed=int(seed), progress=False).to_dict()
