"""The end-to-end diffusion: SGD's noise seen by the product W = W_L ... W_1 of a balanced deep linear network.

Every per-sample gradient of a deep linear network is ``J(theta)^T vec(r_n x_n^T)`` (r_n = W x_n - y_n), so the
batch noise moves the weights only along the p^2 directions that change W, and those directions turn with theta
(:mod:`langevin_grok.sgd.escape_plane`, which keeps them fixed: a flat chart). For a balanced network
(``W_{l+1}^T W_{l+1} = W_l W_l^T``, the state that weight decay relaxes to) the dynamics of W is closed. Under the
SGD diffusion ``dtheta = -grad Loss dt + sqrt(lr C(theta) / B) dB`` its Ito SDE is

    dW = b(W) dt + sqrt(2 D(W)) dB,
    b    = -K[G] - L beta W + ito(W),
    D    = lr / (2B) K Cov_n(r_n x_n^T) K^T,
    K[X] = sum_l (W W^T)^((L-l)/L) X (W^T W)^((l-1)/L),

with G = mean_n r_n x_n^T the data gradient in W and ``ito`` the second-order term of the product map: in the
frame W = U diag(s) V^T, ``ito_ik = lr/B sum_{l<m} sum_j s_i^(2(L-m)/L) s_j^((2m-2l+L-2)/L) s_k^(2(l-1)/L)
Cov(xi_ij, xi_jk)``, xi = U^T (r x^T) V. The hidden width does not enter (w >= rank W). Each of the three
pieces equals the weight-space route at a balanced theta (``J (-grad Loss)``, ``J (lr C / 2B) J^T`` and
``1/2 d^2 W / dtheta^2 : lr C / B``; tests/test_end_to_end.py, to the accuracy of the finite differences used
there). Off balance the imbalance enters W's drift; at validation row 4 a penalty that removes it leaves every
SGD escape epoch unchanged (docs/theory.md).

:func:`end_to_end_fields` evaluates b and D at many W at once from the data's moments up to fourth order (exact:
r x^T is linear in W). :func:`end_to_end_escape` simulates the diffusion (Euler-Maruyama, Gaussian noise,
continuous time): a Monte Carlo evaluation of the model's escape time, with its statistical error, for
comparison with network SGD, whose escape it reproduces where the flat escape plane does not
(docs/theory.md, section "With replacement", "The end-to-end diffusion").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.checks import InputError, check_finite, check_int, check_positive, check_rng
from .._core.errors import Validity

__all__ = ["DataMoments", "data_moments", "gradient_moments", "EndToEndFields", "end_to_end_fields",
           "drift_curvature", "end_to_end_escape", "balanced_sgd_escape"]


@dataclass(frozen=True)
class DataMoments:
    """Moments of a training set that fix the per-sample gradients ``r_n x_n^T`` as functions of W.

    sxx, syx : (p, p) ``mean x x^T`` and ``mean y x^T``. m_xxxx[a, j, b, l] = mean x_a x_j x_b x_l;
    m_xxyx[a, j, k, l] = mean x_a x_j y_k x_l; m_yxyx[i, j, k, l] = mean y_i x_j y_k x_l. n : samples.
    """
    sxx: np.ndarray
    syx: np.ndarray
    m_xxxx: np.ndarray
    m_xxyx: np.ndarray
    m_yxyx: np.ndarray
    n: int


def data_moments(X, Y) -> DataMoments:
    """The moments of ``(X, Y)`` (N, p) that :func:`gradient_moments` needs."""
    X = np.asarray(X, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if X.ndim != 2 or X.shape != Y.shape or X.shape[0] < 2:
        raise InputError(f"X and Y must be (N, p) arrays of the same shape with N >= 2, got {X.shape} and {Y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(Y))):
        raise InputError("X and Y must be finite")
    N = X.shape[0]
    return DataMoments(X.T @ X / N, Y.T @ X / N, np.einsum("na,nj,nb,nl->ajbl", X, X, X, X) / N,
                       np.einsum("na,nj,nk,nl->ajkl", X, X, Y, X) / N,
                       np.einsum("ni,nj,nk,nl->ijkl", Y, X, Y, X) / N, N)


def gradient_moments(W, mom: DataMoments) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``G`` (M, p, p) and covariance ``C`` (M, p, p, p, p), ``C[m, i, j, k, l] = Cov_n(r_i x_j, r_k x_l)``,
    of the per-sample data gradients ``r_n x_n^T`` (r_n = W x_n - y_n) at each of the W (M, p, p)."""
    G = W @ mom.sxx - mom.syx
    E = (np.einsum("mia,mkb,ajbl->mijkl", W, W, mom.m_xxxx, optimize=True)
         - np.einsum("mia,ajkl->mijkl", W, mom.m_xxyx, optimize=True)
         - np.einsum("mkb,blij->mijkl", W, mom.m_xxyx, optimize=True) + mom.m_yxyx[None])
    return G, E - np.einsum("mij,mkl->mijkl", G, G)


@dataclass(frozen=True)
class EndToEndFields:
    """Drift and diffusion of the end-to-end SDE at M points (:func:`end_to_end_fields`).

    drift : (M, p, p) b(W), Ito term included. diffusion : (M, p, p, p, p) D(W), ``dW = b dt + sqrt(2 D) dB``
    with D acting on W's entries (row-major pairs). ito : (M, p, p) the Ito part of the drift (order T).
    """
    drift: np.ndarray
    diffusion: np.ndarray
    ito: np.ndarray


def _frame_powers(U, s, k):
    """``U diag(s^k) U^T`` for (M, p, p) frames; s^0 = 1."""
    return np.einsum("mia,ma,mja->mij", U, s ** k, U)


def end_to_end_fields(W, mom: DataMoments, depth: int, beta: float, lr: float, batch: int) -> EndToEndFields:
    """b(W) and D(W) of the balanced end-to-end SDE under independent batches of size ``batch``
    (module docstring). ``W``: (p, p) or (M, p, p)."""
    L = check_int("depth", depth, minimum=2)
    beta, lr = check_finite("beta", beta), check_positive("lr", lr)
    B = check_int("batch", batch, minimum=1)
    if not isinstance(mom, DataMoments):
        raise InputError(f"mom must be the DataMoments of data_moments(X, Y), got {type(mom).__name__}")
    W = np.asarray(W, dtype=float)
    if W.ndim == 2:
        W = W[None]
    p = mom.sxx.shape[0]
    if W.ndim != 3 or W.shape[1:] != (p, p):
        raise InputError(f"W must be ({p}, {p}) or (M, {p}, {p}), got shape {W.shape}")
    if not np.all(np.isfinite(W)):
        raise InputError("W must be finite")
    G, C = gradient_moments(W, mom)
    U, s, Vt = np.linalg.svd(W)
    V = np.swapaxes(Vt, 1, 2)
    K = np.zeros(W.shape + (p, p))
    for k in range(1, L + 1):  # layer k
        K += np.einsum("mia,mbj->mijab", _frame_powers(U, s, 2 * (L - k) / L),
                       _frame_powers(V, s, 2 * (k - 1) / L))
    drift = -np.einsum("mijab,mab->mij", K, G) - L * beta * W
    D = (lr / (2 * B)) * np.einsum("mijab,mabcd,mklcd->mijkl", K, C, K, optimize=True)
    Cf = np.einsum("mai,mbj,mabcd,mck,mdl->mijkl", U, V, C, U, V, optimize=True)  # in the singular frame
    A = np.zeros_like(W)
    for k in range(1, L + 1):  # the pairs of layers k < m
        for m in range(k + 1, L + 1):
            A += np.einsum("mi,mj,mk,mijjk->mik", s ** (2 * (L - m) / L), s ** ((2 * m - 2 * k + L - 2) / L),
                           s ** (2 * (k - 1) / L), Cf)
    ito = (lr / B) * np.einsum("mia,mab,mjb->mij", U, A, V)
    return EndToEndFields(drift + ito, D, ito)


def drift_curvature(W0, mom: DataMoments, depth: int, beta: float, lr: float, batch: int) -> float:
    """The largest eigenvalue modulus of the end-to-end drift's Jacobian at ``W0`` (central differences, step 1e-6
    relative): the fastest relaxation rate, which an Euler-Maruyama step must resolve."""
    W0 = np.asarray(W0, dtype=float)
    p = mom.sxx.shape[0]
    if W0.shape != (p, p) or not np.all(np.isfinite(W0)):
        raise InputError(f"W0 must be a finite ({p}, {p}) array, got shape {W0.shape}")
    h = 1e-6 * max(1.0, float(np.abs(W0).max()))
    E = np.eye(p * p).reshape(p * p, p, p) * h
    bp = end_to_end_fields(W0[None] + E, mom, depth, beta, lr, batch).drift
    bm = end_to_end_fields(W0[None] - E, mom, depth, beta, lr, batch).drift
    jac = ((bp - bm) / (2 * h)).reshape(p * p, p * p).T
    return float(np.abs(np.linalg.eigvals(jac)).max())


def _amplitude_event(event, p):
    """``(u, v, threshold)`` checked and as arrays, or None for a callable event."""
    if callable(event):
        return None
    try:
        u, v, thr = event
        u = np.ascontiguousarray(u, dtype=float)
        v = np.ascontiguousarray(v, dtype=float)
        thr = float(thr)
    except (TypeError, ValueError):
        raise InputError(f"event must be a callable event(W) -> bool (M,) or a tuple (u, v, threshold), got "
                         f"{event!r}") from None
    if u.shape != (p,) or v.shape != (p,) or not (np.all(np.isfinite(u)) and np.all(np.isfinite(v))
                                                  and math.isfinite(thr)):
        raise InputError(f"event (u, v, threshold) needs finite u and v of length {p} and a finite threshold, got "
                         f"shapes {u.shape}, {v.shape} and threshold {thr!r}")
    return u, v, thr


def end_to_end_escape(W0, X, Y, depth: int, beta: float, lr: float, batch: int, event, *, n_paths: int,
                      t_max: float, dt: float = 0.05, seed=None, method: str = "compiled") -> dict:
    """Euler-Maruyama simulation of the end-to-end SDE from ``W0`` until the escape event holds.

    Continuous-time Gaussian model (the SGD diffusion): the step is ``b dt + sqrt(2 D dt) xi`` with the fields of
    :func:`end_to_end_fields`; the event is read after every step and the escape time is the step's end.
    ``event``: a tuple ``(u, v, threshold)`` (escape once the projection ``u^T W v``, a mode's singular value, is
    ``<= threshold``; :func:`langevin_grok.sgd.escape.rule_projection` makes it from an escape rule), or, for
    ``method="reference"`` only, a callable ``event(W) -> bool (M,)``. ``method``:
    ``"compiled"`` (:mod:`langevin_grok.sgd.end_to_end_kernels`, parallel over paths, one counter-based stream
    per path: the same result for any thread count) or ``"reference"`` (numpy, vectorised over paths, the
    fields of :func:`end_to_end_fields` and an eigen-decomposition root of D; the same law, other numbers).
    ``dt`` must resolve the fastest relaxation (dt times the largest curvature well below 1).

    Returns ``t_sde`` (escape or censoring time), ``observed``, ``n_diverged`` (non-finite paths, counted as
    censored), ``n_lost_rank`` (steps at which the data covariance Cov(r x^T) was not positive definite; compiled
    only, 0 else), ``dt``, ``seed`` (an integer seed, else None), ``dt_curvature`` (dt times the largest
    eigenvalue modulus of the drift's Jacobian at W0, by central differences), ``method`` and ``status`` / ``reason``:
    ``valid``/``ok``, or ``marginal`` with ``diverged`` where a path became non-finite, ``lost_rank`` where
    Cov(r x^T) lost positive definiteness on the way (the noise then misses directions), or ``coarse_step`` where
    dt_curvature exceeds 0.1 (the step's bias is then no longer small).
    """
    from ..langevin.streams import path_keys

    if method not in ("compiled", "reference"):
        raise InputError(f"method must be 'compiled' or 'reference', got {method!r}")
    W0 = np.asarray(W0, dtype=float)
    n_paths = check_int("n_paths", n_paths, minimum=1)
    t_max, dt = check_positive("t_max", t_max), check_positive("dt", dt)
    mom = data_moments(X, Y)
    p = mom.sxx.shape[0]
    if W0.shape != (p, p) or not np.all(np.isfinite(W0)):
        raise InputError(f"W0 must be a finite ({p}, {p}) array, got shape {W0.shape}")
    amp = _amplitude_event(event, p)
    if amp is None and method == "compiled":
        raise InputError("event must be a tuple (u, v, threshold) for method='compiled' (a callable event needs "
                         "method='reference')")
    dt_curv = dt * drift_curvature(W0, mom, depth, beta, lr, batch)  # also checks the problem once
    n_steps = int(math.ceil(t_max / dt))
    n_lost = 0
    if method == "compiled":
        from . import end_to_end_kernels as kern

        seed, keys = path_keys(seed, n_paths)
        times = np.empty(n_paths)
        flags = np.empty(n_paths, dtype=np.int64)
        lost = np.empty(n_paths, dtype=np.int64)
        u, v, thr = amp
        kern.run_paths(np.ascontiguousarray(W0), mom.sxx, mom.syx, mom.m_xxxx, mom.m_xxyx, mom.m_yxyx, int(depth),
                       float(beta), lr / (2 * int(batch)), dt, n_steps, u, v, thr, keys, times, flags, lost)
        observed = flags == 1
        t = np.where(observed | (flags == 2), times, n_steps * dt)
        n_div, n_lost = int((flags == 2).sum()), int(lost.sum())
    else:
        if amp is not None:
            u, v, thr = amp

            def event(W):
                return np.einsum("i,mij,j->m", u, W, v) <= thr
        rng, seed = check_rng(seed, "seed")
        t, observed, n_div = _reference_paths(W0, mom, depth, beta, lr, batch, event, n_paths, n_steps, dt, rng)
    if n_div:
        status, reason = Validity.MARGINAL, "diverged"
    elif n_lost:
        status, reason = Validity.MARGINAL, "lost_rank"
    elif dt_curv > 0.1:
        status, reason = Validity.MARGINAL, "coarse_step"
    else:
        status, reason = Validity.VALID, "ok"
    return {"t_sde": t, "observed": observed, "n_diverged": n_div, "n_lost_rank": n_lost, "dt": dt, "seed": seed,
            "dt_curvature": dt_curv, "method": method, "status": status, "reason": reason}


def _reference_paths(W0, mom, depth, beta, lr, batch, event, n_paths, n_steps, dt, rng):
    p = W0.shape[0]
    W = np.repeat(W0[None], n_paths, axis=0)
    t = np.full(n_paths, n_steps * dt)
    observed = np.zeros(n_paths, dtype=bool)
    diverged = np.zeros(n_paths, dtype=bool)
    live = np.arange(n_paths)
    for k in range(1, n_steps + 1):
        f = end_to_end_fields(W[live], mom, depth, beta, lr, batch)
        Dm = f.diffusion.reshape(live.size, p * p, p * p)
        w, Q = np.linalg.eigh(Dm)  # D is positive semi-definite; the square root tolerates rank loss
        root = np.einsum("mij,mj->mij", Q, np.sqrt(np.clip(w, 0.0, None)))
        xi = rng.standard_normal((live.size, p * p))
        W[live] += f.drift * dt + math.sqrt(2 * dt) * np.einsum("mij,mj->mi", root, xi).reshape(-1, p, p)
        bad = ~np.all(np.isfinite(W[live]), axis=(1, 2))
        hit = np.zeros(live.size, dtype=bool)
        ev = np.asarray(event(W[live[~bad]]), dtype=bool)
        if ev.shape != (int((~bad).sum()),):
            raise InputError(f"event must return one bool per W it is given, got shape {ev.shape} for "
                             f"{int((~bad).sum())} states")
        hit[~bad] = ev
        diverged[live[bad]] = True
        t[live[hit]] = k * dt
        observed[live[hit]] = True
        live = live[~(hit | bad)]
        if live.size == 0:
            break
    return t, observed, int(diverged.sum())


def _gaussian_moments(X, Y) -> tuple[np.ndarray, np.ndarray]:
    """Mean and symmetric square root of the covariance of the per-sample ``(vec(x x^T), vec(y x^T))``."""
    Z = np.concatenate([np.einsum("na,nb->nab", X, X).reshape(X.shape[0], -1),
                        np.einsum("na,nb->nab", Y, X).reshape(X.shape[0], -1)], axis=1)
    w, Q = np.linalg.eigh(np.cov(Z.T, bias=True))
    return Z.mean(axis=0), np.ascontiguousarray((Q * np.sqrt(np.clip(w, 0.0, None))) @ Q.T)


def balanced_sgd_escape(W0, X, Y, depth: int, beta: float, lr: float, batch: int, event, *, n_paths: int,
                        max_epochs: int, seed=None, read_every: str = "epoch", noise: str = "batches",
                        replacement: bool = True) -> dict:
    """SGD of a balanced network in its end-to-end map, with the data's real batches.

    The discrete-time, non-Gaussian counterpart of :func:`end_to_end_escape`: every step factorises W balanced
    (``W_1 = S^(1/L) V^T``, ``W_l = S^(1/L)``, ``W_L = U S^(1/L)``), draws B training samples uniformly with
    replacement (``replacement=False``: shuffled epochs, a fresh permutation of the N samples per epoch cut into
    ``ceil(N / B)`` consecutive batches, the last one holding the leftover, as
    :func:`langevin_grok.sgd.trainer.draw_epoch`), moves every layer by ``-lr`` times its batch gradient (loss ``1/(2B) sum |W x - y|^2`` plus
    ``beta/2`` times the layers' squared norms) and takes the product as the new W: exactly the network's own
    step from a balanced state, whatever its hidden width and hidden frames (a first-order step conserves the
    imbalance ``W_(l+1)^T W_(l+1) - W_l W_l^T`` for any batch; only its order-lr^2 part is dropped by
    re-balancing). Its continuous, Gaussian limit is :func:`end_to_end_fields`' SDE, Ito term included (the
    mean of the step's noise products). The event ``(u, v, threshold)`` (escape once ``u^T W v <= threshold``,
    :func:`langevin_grok.sgd.escape.rule_projection`) is read at every epoch's end, ``ceil(N / B)`` steps, as
    the network ensemble reads its rule (:func:`langevin_grok.sgd.reverse.reverse_escape_ensemble`), or with
    ``read_every="step"`` after every step (the first passage of the chain itself; ``max_epochs`` still sets the
    run length). ``noise="gaussian"`` replaces the batches by Gaussian batch moments with the same mean and
    covariance as the per-sample ``(x x^T, y x^T)`` over B (so the batch gradient has the data's mean and
    covariance at every W, only its higher cumulants dropped): the with-replacement noise model in discrete
    time (independent batches only).
    Compiled (:func:`langevin_grok.sgd.end_to_end_kernels.run_balanced_sgd`), parallel over paths, one
    counter-based stream per path (docs/theory.md, "The end-to-end diffusion", "Balanced SGD").

    Returns ``t_sde`` (escape or censoring time, ``lr`` x steps), ``observed``, ``epochs`` (escape epoch or
    ``max_epochs``), ``n_diverged`` (non-finite paths, counted as censored at the epoch they failed),
    ``steps_per_epoch``, ``step_curvature`` (lr times the drift's largest curvature at W0, by
    :func:`drift_curvature`; the step is unstable beyond 2), ``seed`` and ``status`` / ``reason``: ``valid`` /
    ``ok``, ``marginal`` / ``diverged``, or ``not_applicable`` / ``unstable_step`` (no paths run).
    """
    from ..langevin.streams import path_keys
    from . import end_to_end_kernels as kern

    X = np.ascontiguousarray(X, dtype=float)
    Y = np.ascontiguousarray(Y, dtype=float)
    mom = data_moments(X, Y)
    p = mom.sxx.shape[0]
    W0 = np.asarray(W0, dtype=float)
    if W0.shape != (p, p) or not np.all(np.isfinite(W0)):
        raise InputError(f"W0 must be a finite ({p}, {p}) array, got shape {W0.shape}")
    n_paths = check_int("n_paths", n_paths, minimum=1)
    max_epochs = check_int("max_epochs", max_epochs, minimum=1)
    if read_every not in ("epoch", "step"):
        raise InputError(f"read_every must be 'epoch' or 'step', got {read_every!r}")
    if noise not in ("batches", "gaussian"):
        raise InputError(f"noise must be 'batches' or 'gaussian', got {noise!r}")
    if not isinstance(replacement, (bool, np.bool_)):
        raise InputError(f"replacement must be True or False, got {replacement!r}")
    if noise == "gaussian" and not replacement:
        raise InputError("noise='gaussian' needs replacement=True (Gaussian moments model independent batches)")
    u, v, thr = _amplitude_event(event, p) or (None, None, None)
    if u is None:
        raise InputError("event must be a tuple (u, v, threshold) for balanced_sgd_escape")
    step_curv = lr * drift_curvature(W0, mom, depth, beta, lr, batch)  # also checks depth, beta, lr, batch
    B = int(batch)
    if B > mom.n:
        raise InputError(f"batch must be <= the number of training samples ({mom.n}), got {B}")
    m = -(-mom.n // B)
    seed, keys = path_keys(seed, n_paths)
    if step_curv >= 2.0:
        return {"t_sde": np.full(n_paths, math.nan), "observed": np.zeros(n_paths, dtype=bool),
                "epochs": np.zeros(n_paths, dtype=np.int64), "n_diverged": 0, "steps_per_epoch": m,
                "step_curvature": step_curv, "seed": seed, "status": Validity.NOT_APPLICABLE,
                "reason": "unstable_step"}
    every = m if read_every == "epoch" else 1
    reads = np.empty(n_paths, dtype=np.int64)
    flags = np.empty(n_paths, dtype=np.int64)
    mu, root = _gaussian_moments(X, Y) if noise == "gaussian" else (np.empty(0), np.empty((0, 0)))
    kern.run_balanced_sgd(np.ascontiguousarray(W0), X, Y, int(depth), float(beta), float(lr), B, m,
                          not replacement, every, max_epochs * (m // every), u, v, thr, keys, reads, flags, mu, root)
    observed = flags == 1
    n_div = int((flags == 2).sum())
    status, reason = (Validity.MARGINAL, "diverged") if n_div else (Validity.VALID, "ok")
    return {"t_sde": reads * every * float(lr), "observed": observed, "epochs": -(-(reads * every) // m),
            "n_diverged": n_div,
            "steps_per_epoch": m, "step_curvature": step_curv, "seed": seed, "status": status, "reason": reason}
