"""Row 3: the seed paper's network (L = 3, w = 10, p = 2) with isotropic injected noise, rank-1 trap escape.

Langevin engine on the population loss from the rank-1 trap (mode 0 learned, mode 1 exactly zero); the escape
event is the escaping mode's singular value of the end-to-end map crossing the level of the package's escape
definition (:func:`langevin_grok.langevin.events.network_escape_setup`, event ``"sv"``). Predictions at each
temperature (:func:`langevin_grok.theory.network_prediction.network_escape_prediction`): Eyring-Kramers over the
hidden-layer symmetry orbits, the entropic 1-D reduction with its exact MFPT (the recommended one where it
applies), each with its validity status; the 1-D exact MFPT of the mode stays beside them as a reference.
Each prediction gets its own verdict, so they can disagree. Theory: ``docs/theory.md``, section 1.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, NetworkSettings
from .results import CONFIDENCE, RowResult, combine_points, combined_verdict, compare_time, time_point
from .row_langevin import ensemble_summary

__all__ = ["run_network", "network_ensemble", "PREDICTIONS"]

START_MODES = ("learned", "trivial")  # the rank-1 trap; mode 1 escapes forward
PREDICTIONS = ("entropic_mfpt", "eyring_kramers", "exact_mfpt_1d")


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


def network_ensemble(net, temperature: float, n_paths: int, dt: float, max_time: float, seed: int, *,
                     start_modes=START_MODES, escape_mode: int = 1, workers=None, progress=False) -> dict:
    """One weight-space Langevin ensemble from ``start_modes`` with the singular-value escape event (JSON-ready
    summary plus the median singular values of W at the stop)."""
    from ..langevin.engine import simulate_ensemble
    from ..langevin.events import network_escape_setup
    from ..langevin.models import network_model

    es = network_escape_setup(net, start_modes, escape_mode, "forward", event="sv")
    res = simulate_ensemble(network_model(net), temperature, n_paths, dt, x0=es.x0, events=list(es.events),
                            max_time=max_time, max_steps=int(math.ceil(max_time / dt)) + 1, seed=seed,
                            n_threads=workers, progress=progress)
    sv = [np.linalg.svd(net.end_to_end(th), compute_uv=False) for th in res.final_x]
    return ensemble_summary(res, {"final_svals": sv})


def _point(s: NetworkSettings, net, k: int, x: float, barrier: float, seed: int, workers, progress, parts):
    from ..theory.quadrature import exact_mfpt_1d
    from ..theory.network_prediction import network_escape_prediction
    from ..theory.stats import exponential_mle, ks_exponential

    T = barrier / float(x)
    pr = network_escape_prediction(s.depth, s.width, list(s.sv), s.beta, T, start=START_MODES)
    ref = exact_mfpt_1d(s.depth, s.sv[1], s.beta, T, "forward").tau
    sd = child_seed(seed, 3, k)
    sim = parts.cached(k, lambda: network_ensemble(net, T, s.n_paths, s.dt, s.max_time, sd, workers=workers,
                                                   progress=progress))
    times, escaped = np.array(sim["times"], dtype=float), np.array(sim["escaped"], dtype=bool)
    est = exponential_mle(times, escaped, confidence=CONFIDENCE)
    ks = ks_exponential(times, escaped) if escaped.sum() >= 2 else None
    values = {"entropic_mfpt": pr.entropic_mfpt, "eyring_kramers": pr.eyring_kramers, "exact_mfpt_1d": ref}
    status = {"entropic_mfpt": pr.entropic_mfpt_status, "eyring_kramers": pr.eyring_kramers_status,
              "exact_mfpt_1d": "reference"}
    per = {m: {"value": values[m], "status": status[m], **compare_time(values[m], est)} for m in PREDICTIONS}
    head = per.get({"entropic_mfpt": "entropic_mfpt", "eyring_kramers_orbit": "eyring_kramers"}.get(
        pr.prediction_method, "none"), {"value": None, "status": "not_applicable", "ratio": None, "within": None,
                                        "half_widths": None, "z": None})
    svals = np.array(sim["final_svals"], dtype=float)
    pt = time_point(
        x, head["value"], est, "isotropic", barrier_over_t=float(x), temperature=T,
        prediction_method=pr.prediction_method, prediction_status=head["status"], predictions=per,
        diagnostics={"zero_modes_start": pr.zero_modes_start, "zero_modes_saddle": pr.zero_modes_saddle,
                     "log_orbit_volume_ratio": pr.log_orbit_volume_ratio,
                     "free_energy_barrier": pr.free_energy_barrier, "crossover_temperature": pr.crossover_temperature,
                     "eyring_kramers_reason": pr.eyring_kramers_reason, "entropic_mfpt_reason": pr.entropic_mfpt_reason},
        reference_exact_1d=ref, ratio_to_reference=per["exact_mfpt_1d"]["ratio"],
        final_singular_values_median=np.median(svals, axis=0).tolist(), n_paths=s.n_paths, cap_time=sim["cap_time"],
        path_steps=sim["path_steps"], seed=sd, thermal_energy_DT_over_2=0.5 * net.n_params * T,
        ks_pvalue_exponential=None if ks is None else ks.pvalue, ratio=head["ratio"], within=head["within"],
        half_widths=head["half_widths"], z=head["z"])
    return pt, sim, pr


def run_network(s: NetworkSettings, seed: int, workers=None, progress=False,
                parts: PartStore | None = None) -> RowResult:
    """Row 3 (see the module docstring)."""
    from ..landscape.escape import escape_target
    from ..landscape.network import DeepLinearNetwork

    t0 = time.perf_counter()
    parts = parts or PartStore()
    net = DeepLinearNetwork.from_singular_values(s.depth, s.width, s.dim, list(s.sv), s.beta)
    tgt = escape_target(s.depth, s.sv[1], s.beta, "forward")
    points, seeds, data = [], [], {"times": [], "escaped": [], "barrier_over_t": [], "reference": []}
    steps = 0
    pr = None
    for k, x in enumerate(s.barrier_over_t):
        pt, sim, pr = _point(s, net, k, x, tgt.barrier, seed, workers, progress, parts)
        points.append(pt)
        seeds.append(pt["seed"])
        steps += sim["path_steps"]
        data["times"].append(sim["times"])
        data["escaped"].append(sim["escaped"])
        data["barrier_over_t"].append(float(x))
        data["reference"].append(pt["reference_exact_1d"])
    head = points[-1]
    combined = {m: combine_points([p["predictions"][m] for p in points]) for m in PREDICTIONS}
    return RowResult(
        id=ROW_IDS[3], row=3, dynamics="langevin_network",
        parameters={"depth": s.depth, "width": s.width, "dim": s.dim, "sv": list(s.sv), "beta": s.beta,
                    "n_params": net.n_params, "start_modes": list(START_MODES), "saddle_modes": list(pr.saddle_modes),
                    "start_zero_modes": pr.zero_modes_start, "saddle_zero_modes": pr.zero_modes_saddle,
                    "barrier_1d": tgt.barrier, "lambda_target": tgt.lambda_target, "escape_event": "sv",
                    "crossover_temperature": pr.crossover_temperature, "dt": s.dt, "max_time": s.max_time,
                    "barrier_over_t": list(s.barrier_over_t)},
        prediction={"method": head["prediction_method"], "value": head["prediction"], "unit": "SDE time",
                    "available": head["prediction"] is not None, "status": head["prediction_status"],
                    "reference": {"method": "exact_mfpt_1d", "value": head["reference_exact_1d"]}},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": combined["entropic_mfpt"],
                     "combined_by_prediction": combined, "apparent_barrier": _apparent_barrier(points)},
        ratio=head["ratio"], verdict=combined_verdict(combined["entropic_mfpt"]), points=points, seeds=seeds,
        n_seeds=s.n_paths * len(points), steps=int(steps), wall_seconds=time.perf_counter() - t0, data=data,
    )
