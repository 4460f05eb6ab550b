"""Row 3: the seed paper's network (L = 3, w = 10, p = 2) with isotropic injected noise, rank-1 trap escape.

Langevin engine on the population loss from the rank-1 trap (mode 0 learned, mode 1 exactly zero); the
escape event is the package's mode-amplitude event on mode 1. The isolated-saddle Eyring-Kramers formula
refuses here (zero modes of the hidden-layer orbits); the 1-D exact MFPT is kept as a labelled reference.
Theory: ``docs/theory.md``, section "1. Hidden-layer symmetry".
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._core.errors import Status, Verdict
from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, NetworkSettings
from .results import CONFIDENCE, RowResult, compare_time, time_point
from .row_langevin import ensemble_summary

__all__ = ["run_network"]


def _apparent_barrier(points: list) -> dict | None:
    """Slope of ln tau against 1/T of the measured times (information only)."""
    from ..theory.stats import arrhenius_fit, log_sigma_from_ci

    ok = [p for p in points if p["n_escaped"] > 0 and p["ci_high"] is not None and math.isfinite(p["ci_high"])]
    if len(ok) < 3:
        return None
    sig = log_sigma_from_ci([p["ci_low"] for p in ok], [p["ci_high"] for p in ok], CONFIDENCE)
    fit = arrhenius_fit([1.0 / p["temperature"] for p in ok], [p["mean"] for p in ok], sig, confidence=CONFIDENCE)
    return {"slope": fit.slope, "ci_low": fit.slope_ci[0], "ci_high": fit.slope_ci[1],
            "intercept": fit.intercept, "r_squared": fit.r_squared, "n": fit.n}


def run_network(s: NetworkSettings, seed: int, workers=None, progress=False,
                parts: PartStore | None = None) -> RowResult:
    """Row 3 (see the module docstring)."""
    from ..landscape.escape import escape_target
    from ..landscape.network import DeepLinearNetwork, stationary_point
    from ..langevin.engine import simulate_ensemble
    from ..langevin.events import network_mode_event
    from ..langevin.models import network_model
    from ..theory.kramers import ZeroModeError, exact_mfpt_1d, eyring_kramers
    from ..theory.stats import exponential_mle, ks_exponential

    t0 = time.perf_counter()
    parts = parts or PartStore()
    net = DeepLinearNetwork.from_singular_values(s.depth, s.width, s.dim, list(s.sv), s.beta)
    mode = 1  # the rank-1 trap: mode 0 learned, mode 1 trivial; mode 1 escapes forward
    start_modes, saddle_modes = ("learned", "trivial"), ("learned", "saddle")
    start, saddle = stationary_point(net, start_modes), stationary_point(net, saddle_modes)
    tgt = escape_target(s.depth, s.sv[mode], s.beta, "forward")
    U, _, Vt = np.linalg.svd(net.sigma_yx)
    event = network_mode_event(U[:, mode], Vt[mode], tgt.lambda_target, +1, name="mode1_forward")
    model = network_model(net)
    points, seeds, data = [], [], {"times": [], "escaped": [], "barrier_over_t": [], "reference": []}
    n_total = steps = 0
    status = Status.OK
    for k, x in enumerate(s.barrier_over_t):
        T = tgt.barrier / float(x)
        try:
            pred = eyring_kramers(net, start, saddle, T, n_saddles=1).tau
        except ZeroModeError:
            status, pred = Status.ZERO_MODES, None
        ref = exact_mfpt_1d(s.depth, s.sv[mode], s.beta, T, "forward").tau
        sd = child_seed(seed, 3, k)

        def run():  # called at once (below), so the loop variables are current
            res = simulate_ensemble(model, T, s.n_paths, s.dt, x0=start.theta, events=[event],
                                    max_time=s.max_time, max_steps=int(math.ceil(s.max_time / s.dt)) + 1, seed=sd,
                                    n_threads=workers, progress=progress)
            # what the escaped state looks like: singular values of W at the stop (rank 2 = mode learned)
            sv = [np.linalg.svd(net.end_to_end(th), compute_uv=False) for th in res.final_x]
            return ensemble_summary(res, {"final_svals": sv})

        sim = parts.cached(k, run)
        times, escaped = np.array(sim["times"], dtype=float), np.array(sim["escaped"], dtype=bool)
        est = exponential_mle(times, escaped, confidence=CONFIDENCE)
        ks = ks_exponential(times, escaped) if escaped.sum() >= 2 else None
        rc = compare_time(ref, est)
        svals = np.array(sim["final_svals"], dtype=float)
        points.append(time_point(
            x, pred, est, "isotropic", barrier_over_t=float(x), temperature=T, reference_exact_1d=ref,
            final_singular_values_median=np.median(svals, axis=0).tolist(), n_paths=s.n_paths,
            cap_time=sim["cap_time"], path_steps=sim["path_steps"], seed=sd, ratio_to_reference=rc["ratio"],
            reference_within_ci=rc["within"], thermal_energy_DT_over_2=0.5 * net.n_params * T,
            ks_pvalue_exponential=None if ks is None else ks.pvalue))
        seeds.append(sd)
        n_total += s.n_paths
        steps += sim["path_steps"]
        data["times"].append(sim["times"])
        data["escaped"].append(sim["escaped"])
        data["barrier_over_t"].append(float(x))
        data["reference"].append(ref)
    head = points[-1]
    available = head["prediction"] is not None
    verdict = Verdict.NO_PREDICTION
    if available:  # not expected for width > 1; kept so a future isolated case is judged, not hidden
        within = head["ci_low"] <= head["prediction"] <= head["ci_high"]
        verdict = Verdict.AGREES if within else Verdict.DISAGREES
    return RowResult(
        id=ROW_IDS[3], row=3, dynamics="langevin_network",
        parameters={"depth": s.depth, "width": s.width, "dim": s.dim, "sv": list(s.sv), "beta": s.beta,
                    "n_params": net.n_params, "start_modes": list(start_modes), "saddle_modes": list(saddle_modes),
                    "start_zero_modes": start.n_zero, "saddle_zero_modes": saddle.n_zero,
                    "start_index": start.index, "barrier_1d": tgt.barrier, "lambda_target": tgt.lambda_target,
                    "dt": s.dt, "max_time": s.max_time, "barrier_over_t": list(s.barrier_over_t)},
        prediction={"method": "eyring_kramers", "value": head["prediction"], "unit": "SDE time",
                    "available": available, "status": status,
                    "reference": {"method": "exact_mfpt_1d", "value": head["reference_exact_1d"]}},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "apparent_barrier": _apparent_barrier(points)},
        ratio=head["ratio_to_reference"], verdict=verdict, points=points, seeds=seeds,
        n_seeds=n_total, steps=int(steps), wall_seconds=time.perf_counter() - t0, data=data,
    )
