"""Row 6: rare escapes by adaptive multilevel splitting against the exact MFPT, where brute force cannot go.

AMS (:func:`langevin_grok.langevin.ams.simulate_ams`) on the 1-D arc at dE/T = 15, 25 and 40 against the exact
1-D MFPT (:func:`langevin_grok.theory.quadrature.exact_mfpt_1d`); at a dE/T where brute force also runs, AMS
against the brute-force ensemble of the same model and time step (same answer within the CIs). Theory:
``docs/theory.md``, sections "Escape times" and "Rare events: adaptive multilevel splitting".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, AMSSettings
from .results import CONFIDENCE, RowResult, combine_points, combined_verdict, compare_time, time_point

__all__ = ["run_ams"]


def _ams_point(s: AMSSettings, k: int, x: float, tgt, model, setup, seed: int, parts: PartStore) -> dict:
    from ..langevin.ams import simulate_ams
    from ..theory.quadrature import exact_mfpt_1d

    T = tgt.barrier / x
    exact = exact_mfpt_1d(s.depth, s.sv, s.beta, T, "forward")
    sd = child_seed(seed, 6, k)
    r = parts.cached(k, lambda: simulate_ams(model, T, n_replicas=s.n_replicas, n_runs=s.n_runs, dt=s.dt, seed=sd,
                                             x0=setup.x0, events=setup.events).to_dict())
    est = _Interval(r["mean_escape_time"], r["ci_low"], r["ci_high"], CONFIDENCE)
    cmp = compare_time(exact.tau, est)
    return time_point(x, exact.tau, est, "isotropic", method="ams", prediction_method="exact_mfpt_1d",
                      temperature=T, probability=r["probability"], levels=r.get("levels"), n_runs=s.n_runs,
                      n_replicas=s.n_replicas, path_steps=r["path_steps"], seed=sd, status=r["status"],
                      n_escaped=s.n_runs, n_censored=0, **cmp)


@dataclass(frozen=True)
class _Interval:
    """The (mean, interval) of an AMS estimate in the shape :func:`compare_time` reads."""

    mean: float
    ci_low: float
    ci_high: float
    confidence: float
    n_events: int = 1
    n_censored: int = 0


def _brute_point(s: AMSSettings, tgt, model, setup, seed: int, parts: PartStore) -> dict:
    """Brute force and AMS at one moderate dE/T: the AMS estimate must lie in the brute-force interval."""
    from ..langevin.ams import simulate_ams
    from ..langevin.engine import simulate_ensemble
    from ..theory.stats import exponential_mle

    T = tgt.barrier / s.brute_barrier_over_t
    sd = child_seed(seed, 6, 100)
    bf = parts.cached(100, lambda: (lambda r: {"times": r.times.tolist(), "escaped": r.escaped.tolist(),
                                               "path_steps": r.path_steps})(
        simulate_ensemble(model, T, s.brute_paths, s.dt, setup.x0, setup.events, max_time=1e7, seed=sd)))
    est = exponential_mle(np.array(bf["times"]), np.array(bf["escaped"], dtype=bool), confidence=CONFIDENCE)
    am = parts.cached(101, lambda: simulate_ams(model, T, n_replicas=s.n_replicas, n_runs=s.n_runs, dt=s.dt,
                                                seed=sd + 1, x0=setup.x0, events=setup.events).to_dict())
    cmp = compare_time(am["mean_escape_time"], est)
    return time_point(s.brute_barrier_over_t, am["mean_escape_time"], est, "isotropic", method="brute_force_vs_ams",
                      prediction_method="ams", temperature=T, ams_ci=[am["ci_low"], am["ci_high"]],
                      ams_status=am["status"], path_steps=bf["path_steps"] + am["path_steps"], seed=sd,
                      n_paths=s.brute_paths, **cmp)


def run_ams(s: AMSSettings, seed: int, progress=False, parts: PartStore | None = None) -> RowResult:
    """Row 6 (see the module docstring)."""
    from ..landscape.escape import escape_target
    from ..langevin.events import escape_setup
    from ..langevin.models import arc_model

    t0 = time.perf_counter()
    parts = parts or PartStore()
    tgt = escape_target(s.depth, s.sv, s.beta, "forward")
    model = arc_model(s.depth, s.sv, s.beta)
    setup = escape_setup(model, "forward")
    points = [_ams_point(s, k, x, tgt, model, setup, seed, parts) for k, x in enumerate(s.barrier_over_t)]
    brute = _brute_point(s, tgt, model, setup, seed, parts)
    comb = combine_points(points)
    head = points[-1]
    return RowResult(
        id=ROW_IDS[6], row=6, dynamics="langevin_arc",
        parameters={"depth": s.depth, "sv": s.sv, "beta": s.beta, "barrier": tgt.barrier, "dt": s.dt,
                    "n_replicas": s.n_replicas, "n_runs": s.n_runs, "barrier_over_t": list(s.barrier_over_t),
                    "brute_barrier_over_t": s.brute_barrier_over_t},
        prediction={"method": "exact_mfpt_1d", "value": head["prediction"], "unit": "SDE time", "available": True},
        measurement={"quantity": "mean_escape_time_ams", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": comb, "brute_force_check": brute,
                     "brute_force_agrees": brute["within"]},
        ratio=head["ratio"], verdict=combined_verdict(comb), points=points + [brute],
        seeds=[p["seed"] for p in points] + [brute["seed"]], n_seeds=s.n_replicas * s.n_runs * len(points),
        steps=int(sum(p["path_steps"] for p in points) + brute["path_steps"]),
        wall_seconds=time.perf_counter() - t0, data={},
    )


