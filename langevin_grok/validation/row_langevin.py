"""Rows 1 and 2: Langevin escapes of the 1-D arc and of the scalar chain against exact theory.

Row 1 (``arc_1d``): the 1-D reduced model (arc length r, Langevin engine); prediction the exact MFPT
(quadrature), 1-D Kramers beside it. Row 2 (``chain``): the scalar chain (w = p = 1) in its L-dimensional
weight space; prediction Eyring-Kramers with its saddle count, the 1-D exact MFPT beside it.
Theory: ``docs/theory.md``, section "Escape times".
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, ArcSettings
from .results import CONFIDENCE, RowResult, combine_points, combined_verdict, compare_time, time_point

__all__ = ["run_langevin_small", "ensemble_summary", "sized_paths"]


def sized_paths(s: ArcSettings, tau: float) -> int:
    """Paths for one temperature: ``clip(step_budget / (tau / dt), min_paths, max_paths)``."""
    steps_per_path = max(1.0, tau / s.dt)
    n = int(s.step_budget // steps_per_path)
    return int(min(s.max_paths, max(s.min_paths, n)))


def ensemble_summary(res, extra=None) -> dict:
    """The parts of an engine :class:`~langevin_grok.langevin.engine.EscapeResult` a row needs (JSON-ready)."""
    out = {"times": res.times.tolist(), "escaped": res.escaped.tolist(), "path_steps": res.path_steps,
           "cap_time": res.cap_time}
    out.update(extra or {})
    return out


def _predictions(row: int, s, T: float) -> tuple[float, str, dict]:
    from ..theory.kramers import eyring_kramers_chain, kramers_1d
    from ..theory.quadrature import exact_mfpt_1d

    exact = exact_mfpt_1d(s.depth, s.sv, s.beta, T, s.direction)
    kr = kramers_1d(s.depth, s.sv, s.beta, T, s.direction)
    if row == 1:
        return exact.tau, "exact_mfpt_1d", {"kramers": kr.tau}
    ek = eyring_kramers_chain(s.depth, s.sv, s.beta, T, s.direction)
    return ek.tau, "eyring_kramers_chain", {"n_saddles": ek.n_saddles, "exact_1d": exact.tau,
                                             "kramers_1d": kr.tau, "log_det_ratio": ek.log_det_ratio,
                                             "mu_1": ek.mu_1}


def _point(row, s, k, x, T, model, seed, workers, progress, parts) -> tuple[dict, dict]:
    from ..langevin.engine import simulate_ensemble
    from ..theory.stats import exponential_mle, ks_exponential

    pred, method, extra = _predictions(row, s, T)
    n = sized_paths(s, pred)
    sd = child_seed(seed, row, k)
    cap = s.cap_factor * pred
    sim = parts.cached(k, lambda: ensemble_summary(simulate_ensemble(
        model, T, n, s.dt, direction=s.direction, max_time=cap, max_steps=int(math.ceil(cap / s.dt)) + 1,
        seed=sd, n_threads=workers, progress=progress)))
    times, escaped = np.array(sim["times"], dtype=float), np.array(sim["escaped"], dtype=bool)
    est = exponential_mle(times, escaped, confidence=CONFIDENCE)
    ks = ks_exponential(times, escaped, tau=pred) if escaped.any() else None
    cmp = compare_time(pred, est)
    pt = time_point(x, pred, est, "isotropic", barrier_over_t=float(x), temperature=T, prediction_method=method,
                    **extra, n_paths=n, cap_time=sim["cap_time"], dt=s.dt, path_steps=sim["path_steps"], seed=sd,
                    ks_pvalue=None if ks is None else ks.pvalue, **cmp)
    if row == 1:
        kc = compare_time(extra["kramers"], est)
        pt.update(ratio_kramers=kc["ratio"], z_kramers=kc["z"], within_kramers=kc["within"])
    else:
        ec = compare_time(extra["exact_1d"], est)
        pt.update(ratio_exact_1d=ec["ratio"], within_exact_1d=ec["within"])
    return pt, sim


def run_langevin_small(row: int, s: ArcSettings, seed: int, workers=None, progress=False,
                       parts: PartStore | None = None) -> RowResult:
    """Row 1 (``s`` an :class:`ArcSettings`) or row 2 (a :class:`ChainSettings`)."""
    from ..landscape.escape import escape_target
    from ..langevin.models import arc_model, chain_model

    t0 = time.perf_counter()
    parts = parts or PartStore()
    tgt = escape_target(s.depth, s.sv, s.beta, s.direction)
    model = (arc_model if row == 1 else chain_model)(s.depth, s.sv, s.beta)
    points, seeds, data = [], [], {"times": [], "escaped": [], "barrier_over_t": [], "prediction": []}
    n_total = steps = 0
    for k, x in enumerate(s.barrier_over_t):
        pt, sim = _point(row, s, k, x, tgt.barrier / float(x), model, seed, workers, progress, parts)
        points.append(pt)
        seeds.append(pt["seed"])
        n_total += pt["n_paths"]
        steps += sim["path_steps"]
        data["times"].append(sim["times"])
        data["escaped"].append(sim["escaped"])
        data["barrier_over_t"].append(float(x))
        data["prediction"].append(pt["prediction"])
    comb = combine_points(points)
    head = points[-1]  # the coldest point is the headline
    kcomb = combine_points(points, "z_kramers") if row == 1 else None
    return RowResult(
        id=ROW_IDS[row], row=row, dynamics="langevin_arc" if row == 1 else "langevin_chain",
        parameters={"depth": s.depth, "sv": s.sv, "beta": s.beta, "direction": s.direction,
                    "barrier": tgt.barrier, "lambda_start": tgt.lambda_start, "lambda_target": tgt.lambda_target,
                    "dt": s.dt, "barrier_over_t": list(s.barrier_over_t), "cap_factor": s.cap_factor},
        prediction={"method": head["prediction_method"], "value": head["prediction"], "unit": "SDE time",
                    "available": True, "dE_over_T": head["dE_over_T"],
                    "n_saddles": head.get("n_saddles")},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": comb, "combined_kramers": kcomb},
        ratio=head["ratio"], verdict=combined_verdict(comb), points=points, seeds=seeds, n_seeds=n_total,
        steps=int(steps), wall_seconds=time.perf_counter() - t0, data=data,
    )


