"""Row 4: plain-SGD reverse transition of the paper network inside the Kramers regime, per batch protocol.

Reverse escape (learned -> trivial) of the second mode on a finite, whitened training set at beta between beta*
and beta_c (:func:`langevin_grok.sgd.reverse.reverse_problem`), the package's one escape event on the empirical
mode amplitude. Two batch protocols, each against its own noise model (``docs/theory.md``, section 2):

- independent batches (with replacement): T = lr c_e / (2B); predictions the exact 1-D MFPT at the start's
  T (``constant_t``) and the exact 1-D MFPT with the state-dependent T(r) = lr c_e(r) / (2B) measured along the
  escape path (``state_dependent``, recommended);
- shuffled epochs (the paper's protocol): the epoch-boundary equipartition temperature of the exact linear
  model (:func:`langevin_grok.sgd.noise_models.shuffled_epoch_model`) with the start's c_e and curvature,
  prediction the exact 1-D MFPT at that temperature.

Every point sits at dE/T >= 3 of its own noise model; each protocol has its own verdict (they can disagree).
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._core.seeds import child_seed
from ..sgd.reverse import reverse_escape_ensemble
from .cache import PartStore
from .config import ROW_IDS, SGDReverseSettings
from .results import CONFIDENCE, RowResult, combine_points, combined_verdict, compare_time, time_point
from .row_sgd import _reverse_setup

__all__ = ["run_sgd_reverse", "state_dependent_prediction"]


def state_dependent_prediction(P: dict, depth: int, width: int, lr: float, batch: int, n_points: int = 25):
    """Exact 1-D MFPT on the arc with T(r) = lr c_e(r) / (2B) measured along the escape path (reverse escape).

    The balanced path from the learned minimum through the saddle is a straight chord in weight space with
    arc length r = sqrt(L) a (docs/theory.md, "Weight space, noise and time"); c_e is measured along it out to
    the escape level, and held at its start value beyond the minimum (the reflecting side).
    """
    from ..landscape.modes import arc_force
    from ..sgd.path_noise import escape_path_noise, mfpt_state_dependent

    L = depth
    a_min, a_sad = float(P["start"].amplitudes[1]), float(P["saddle"].amplitudes[1])
    a_tgt = float(P["rule"].details["lambda_target"]) ** (1.0 / L)
    s_max = (a_min - a_tgt) / (a_min - a_sad)
    data = P["data"]
    pn = escape_path_noise(data.x_train, data.y_train, L, width, P["start"].theta, P["saddle"].theta,
                           n_points=n_points, s_max=s_max, lr=lr, batch=batch)
    r = math.sqrt(L) * (a_min - np.asarray(pn.s) * (a_min - a_sad))
    T = np.asarray(pn.temperature, dtype=float)
    r_min, r_tgt = math.sqrt(L) * a_min, math.sqrt(L) * a_tgt
    r_ref = 2.0 * r_min
    nodes, vals = np.append(r[::-1], r_ref), np.append(T[::-1], T[0])
    p = (float(L), float(P["eta"]), float(P["beta"]))
    res = mfpt_state_dependent(lambda t, x, q: -arc_force(t, x, q), (nodes, vals), r_min, r_tgt, r_ref, p)
    return res, {"r": r.tolist(), "temperature": T.tolist(), "c_e": np.asarray(pn.noise).tolist()}


def _predictions(P: dict, s: SGDReverseSettings, B: int, replacement: bool) -> tuple[dict, float, str]:
    """Predictions of one point (value, status) and the temperature and noise model that set dE/T."""
    from .._core.units import sgd_temperature
    from ..sgd.noise_models import shuffled_epoch_model
    from ..theory.quadrature import exact_mfpt_1d

    eta, beta, c_e = P["eta"], P["beta"], P["c_e"]
    if replacement:
        T = sgd_temperature(s.lr, B, c_e, replacement=True)
        sd, _ = state_dependent_prediction(P, s.depth, s.width, s.lr, B)
        ex = exact_mfpt_1d(s.depth, eta, beta, T, "reverse")
        preds = {"state_dependent": {"value": sd.tau, "log_tau": sd.log_tau, "status": str(sd.status.value)},
                 "constant_t": {"value": ex.tau, "log_tau": ex.log_tau, "status": getattr(ex, "status", "valid")}}
        return preds, T, "with_replacement"
    h = float(P["curvature_e"])
    sh = shuffled_epoch_model(s.lr, B, s.n_train, c_e, h)
    T = float(sh.temperature_boundary)
    ex = exact_mfpt_1d(s.depth, eta, beta, T, "reverse")
    preds = {"shuffled_boundary": {"value": ex.tau if math.isfinite(ex.tau) else None, "log_tau": ex.log_tau,
                                   "status": str(sh.status.value)}}
    return preds, T, "shuffled_epochs_boundary"


def _protocol_points(s, P, seed, cache, progress, replacement: bool) -> list:
    from ..theory.stats import exponential_mle

    points = []
    batches = s.batches if replacement else s.shuffled_batches
    base = 1 if replacement else 50
    barrier = P["ml"].barrier_reverse
    for k, B in enumerate(sorted(batches)):
        preds, T, model = _predictions(P, s, B, replacement)
        sd = child_seed(seed, 4, base + k)
        reps = s.replicas if replacement else s.shuffled_replicas
        sim = cache.cached(base + k, lambda B=B, sd=sd, reps=reps: reverse_escape_ensemble(
            P["data"], P["start"].theta, width=s.width, beta=P["beta"], lr=s.lr, batch=B,
            max_time=s.max_time if replacement else s.shuffled_max_time,
            replicas=reps, seed=sd, rule=P["rule"], replacement=replacement, progress=progress))
        est = exponential_mle(np.asarray(sim["t_sde"], float), np.asarray(sim["observed"], bool),
                              confidence=CONFIDENCE)
        for v in preds.values():
            v.update(compare_time(v["value"], est))
        head = preds["state_dependent" if replacement else "shuffled_boundary"]
        points.append(time_point(
            barrier / T, head["value"], est, model, predictions=preds, batch=B, lr=s.lr, T_eff=T,
            inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T, n_replicas=reps, seed=sd, epochs=sim["epochs"],
            n_diverged=sim["n_diverged"], sgd_steps=sim["sgd_steps"], replacement=replacement,
            lambda_median_before_escape=sim.get("lambda_median_before_escape"), ratio=head["ratio"],
            within=head["within"], half_widths=head["half_widths"], z=head["z"]))
    return points


def _verdict(points: list, method: str, comb: dict) -> str:
    """Combined chi-square verdict; with no escapes anywhere, the lower bounds only: ``inconclusive`` when every
    prediction lies above its bound, ``disagrees`` when one lies below."""
    from .._core.errors import Verdict

    if comb["agrees"] is not None:
        return combined_verdict(comb).value
    within = [p["predictions"][method]["within"] for p in points]
    if not within or any(w is None for w in within):
        return Verdict.NO_DATA.value
    return (Verdict.INCONCLUSIVE if all(within) else Verdict.DISAGREES).value


def run_sgd_reverse(s: SGDReverseSettings, seed: int, progress=False, parts: PartStore | None = None) -> RowResult:
    """Row 4 (see the module docstring)."""
    t0 = time.perf_counter()
    cache = parts or PartStore()
    P = _reverse_setup(s, seed)
    P["curvature_e"] = float(P["e"] @ P["net"].hessian(P["start"].theta) @ P["e"])  # h along the escape direction
    wr = _protocol_points(s, P, seed, cache, progress, replacement=True)
    sh = _protocol_points(s, P, seed, cache, progress, replacement=False)
    points = wr + sh
    comb = {"with_replacement": {m: combine_points([p["predictions"][m] for p in wr])
                                 for m in ("state_dependent", "constant_t")},
            "shuffled_epochs": {"shuffled_boundary": combine_points([p["predictions"]["shuffled_boundary"]
                                                                      for p in sh])}}
    verdicts = {"with_replacement": _verdict(wr, "state_dependent", comb["with_replacement"]["state_dependent"]),
                "with_replacement_constant_t": _verdict(wr, "constant_t", comb["with_replacement"]["constant_t"]),
                "shuffled_epochs": _verdict(sh, "shuffled_boundary", comb["shuffled_epochs"]["shuffled_boundary"])}
    head = wr[-1]
    return RowResult(
        id=ROW_IDS[4], row=4, dynamics="sgd_with_replacement",
        parameters={"depth": s.depth, "width": s.width, "sv_population": list(s.sv), "n_params": P["net"].n_params,
                    "sv_empirical": P["sv_emp"].tolist(), "n_train": s.n_train, "data_seed": P["data_seed"],
                    "whitened": True, "beta": P["beta"], "beta_star": P["beta_star"], "beta_c": P["beta_c"],
                    "lr": s.lr, "batches": sorted(s.batches), "shuffled_batches": sorted(s.shuffled_batches),
                    "start_modes": list(P["start_modes"]), "saddle_modes": list(P["saddle_modes"]),
                    "c_e_start": P["c_e"], "c_e_saddle": P["c_sad"], "curvature_e": P["curvature_e"],
                    "trace_start": P["trace_start"], "max_time": s.max_time,
                    "lambda_target": P["rule"].details["lambda_target"], "lambda_min": P["ml"].lambda_min,
                    "barrier_reverse": P["ml"].barrier_reverse, "max_hessian_eigenvalue": P["curv_max"]},
        prediction={"method": "state_dependent_mfpt", "value": head["prediction"], "unit": "SDE time",
                    "available": True, "dE_over_T": head["dE_over_T"]},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": comb, "verdicts": verdicts},
        ratio=head["ratio"], verdict=verdicts["with_replacement"], points=points,
        seeds=[p["seed"] for p in points], n_seeds=sum(p["n_replicas"] for p in points),
        steps=int(sum(p["sgd_steps"] for p in points)), wall_seconds=time.perf_counter() - t0,
        data={"times": [], "escaped": []},
    )
