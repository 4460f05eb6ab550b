"""Training in pieces: chained records of successive runs, log-spaced recording, first crossings.

Used by the protocols that follow the seed paper's figures (the ``paper_*`` modules of :mod:`langevin_grok.report`):
:func:`train_schedule` continues one ensemble in consecutive pieces (fine records early, coarse later)
so that progress is visible and a run can stop once every replica escaped; :func:`concat_results` chains
the pieces on one epoch axis; :func:`sigma_crossing` reads first-passage epochs of a singular value.
"""

from __future__ import annotations

import numpy as np
from dataclasses import replace

from . import trainer as sgd
from ..theory.stats import exponential_mle
from .data import Dataset

__all__ = ["concat_results", "train_schedule", "log_schedule", "sigma_crossing", "ensemble_from", "progress_bar", "escape_times", "escape_mle"]


def concat_results(results: list[sgd.TrainResult]) -> sgd.TrainResult:
    """Chain the records of successive :func:`sgd.train` calls (each continuing the previous one's
    weights) into one result on a common epoch axis; the state is the last call's."""
    if len(results) == 1:
        return results[0]
    keys = ("train_mse", "test_mse", "loss", "grad_norm", "mode_sv", "svals", "eff_rank")
    keys += tuple(k for k in ("mode_sv_empirical",) if getattr(results[0], k, None) is not None)
    epochs, cols, offset = [], {k: [] for k in keys}, 0.0
    for j, r in enumerate(results):
        sl = slice(0, None) if j == 0 else slice(1, None)  # each call re-records its start state
        epochs.append(r.epochs[sl] + offset)
        for k in keys:
            cols[k].append(getattr(r, k)[sl])
        offset += r.epochs_run
    last = results[-1]
    div_ep = np.full(last.n_replicas, np.nan)
    off = 0.0
    for r in results:
        new = np.isnan(div_ep) & ~np.isnan(r.diverged_epoch)
        div_ep[new] = r.diverged_epoch[new] + off
        off += r.epochs_run
    return replace(last, epochs=np.concatenate(epochs), epochs_run=int(offset), diverged_epoch=div_ep,
                   **{k: np.concatenate(v, axis=0) for k, v in cols.items()})

def train_schedule(w0, data: Dataset, *, schedule, seed, first_stage: int = 1, stop=None, bar=None,
                    max_piece: int = 1000, **kw) -> sgd.TrainResult:
    """Train in consecutive pieces ``schedule = [(epochs, record_every), ...]`` (fine records early,
    coarse later), stopping after a piece if ``stop(result_so_far)`` is true. Pieces longer than
    ``max_piece`` epochs are split (at multiples of their record interval) so that the progress bar
    moves; piece k draws from stage ``first_stage + k`` of the replica streams."""
    pieces = []
    for n, every in schedule:
        step = max(every, every * (max_piece // every))
        pieces += [(min(step, n - j), every) for j in range(0, n, step)]
    parts, ws = [], w0
    for k, (n, every) in enumerate(pieces):
        if n <= 0:
            continue
        r = sgd.train(ws, data, epochs=int(n), record_every=int(every), seed=seed, stage=first_stage + k, **kw)
        parts.append(r)
        ws = r.weights
        if bar is not None:
            bar.update(int(n))
        if stop is not None and stop(concat_results(parts)):
            break
    return concat_results(parts)

def log_schedule(total: int, fine: int = 100, points: int = 400) -> list[tuple[int, int]]:
    """Every epoch up to ``fine``, then about ``points`` records up to ``total``."""
    fine = min(fine, total)
    rest = total - fine
    every = max(1, rest // points) if rest else 1
    return [(fine, 1), (rest, every)]

def progress_bar(total: int, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", leave=False, dynamic_ncols=True)

def sigma_crossing(result: sgd.TrainResult, k: int, threshold: float, direction: str = "up") -> list:
    """First recorded epoch at which the k-th singular value (descending) of the end-to-end map rises
    above (``"up"``) or falls below (``"down"``) ``threshold``; None if never (censored) or diverged.

    Unlike :func:`langevin_grok.sgd.escape.escape_by_singular_value`, which projects the map on the
    *population* modes, this uses the map's own singular values: with a finite training set the
    learned first mode leaks ~1e-3 into the population's second-mode projection, which would fire
    the paper's sigma_2 > 1e-3 criterion at epoch 0.
    """
    s = result.svals[:, :, k]
    hit = (s >= threshold) if direction == "up" else (s <= threshold)
    hit &= np.isfinite(s)
    out = []
    for i in range(s.shape[1]):
        idx = np.flatnonzero(hit[:, i])
        out.append(None if (idx.size == 0 or result.diverged[i]) else float(result.epochs[idx[0]]))
    return out

def ensemble_from(theta: np.ndarray, m: int, depth: int, width: int, dim: int):
    return sgd.unpack(np.tile(theta, (m, 1)), depth, width, dim)


def escape_times(epochs: list, end: float) -> tuple[np.ndarray, np.ndarray]:
    t = np.array([end if e is None else e for e in epochs], dtype=float)
    return t, np.array([e is not None for e in epochs], dtype=bool)


def escape_mle(epochs: list, end: float) -> dict:
    """Censoring-aware exponential MLE of the escape epoch (stats.exponential_mle, LR interval).

    An escape at the first record (epoch 0) is counted at half the first record interval, so the
    total time at risk stays positive."""
    t, obs = escape_times(epochs, end)
    t = np.where(t <= 0, 0.5, t)
    est = exponential_mle(t, obs)
    d = est.to_dict()
    d["median_observed"] = float(np.median(t[obs])) if obs.any() else None
    d["q10_q90_observed"] = [float(q) for q in np.quantile(t[obs], [0.1, 0.9])] if obs.any() else None
    return d
