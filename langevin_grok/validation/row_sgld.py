"""Row 7: SGLD (full-batch gradient + injected Gaussian noise) on the paper network, forward from its rank-1 trap.

Plain SGD cannot leave the exact rank-1 trap (row 5: the noise on the escape direction vanishes and the trap
attracts), so the paper's forward escape needs injected noise. On the finite, whitened training set at the
paper's beta = 0.32, SGLD at temperatures T set from the 1-D forward barrier of the empirical mode 2, against the
network theory (:func:`langevin_grok.theory.network_prediction.network_escape_prediction`: entropic MFPT and orbit
Eyring-Kramers). Also: the injected temperature at which the forward escape takes the paper's ~5500 epochs at
its lr = 0.08, B = 64 (5500 x 8 x 0.08 = 3520 SDE time), from the theory (root in T) and from the measured
points (log-linear interpolation in 1/T), and a short check of both at the paper's own protocol: mini-batch
SGLD (its data noise on top of the injected T), lr = 0.08, B = 64, shuffled epochs, escape epochs measured
against the 5500. Theory: ``docs/theory.md``, sections 1 and 2.
"""

from __future__ import annotations

import math
import time

import numpy as np

from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, SGLDSettings
from .results import CONFIDENCE, RowResult, combine_points, combined_verdict, compare_time, time_point

__all__ = ["run_sgld", "PAPER_EPOCHS"]

PAPER_EPOCHS = 5500  # the paper's Fig. 1(a) rank-1 trap escape time (epochs, lr 0.08, B 64, N 512)


def _problem(s: SGLDSettings, seed: int) -> dict:
    from ..landscape.escape import escape_target
    from ..landscape.network import DeepLinearNetwork
    from ..landscape.stationary import stationary_point
    from ..sgd.data import empirical_cross_svd, make_dataset
    from ..sgd.escape import mode_amplitude_rule

    data = make_dataset(list(s.sv), s.n_train, s.n_test, seed=child_seed(seed, 7, 0), whiten_train=True)
    eta = empirical_cross_svd(data)[1]
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, s.depth, s.width, s.beta)
    return {"data": data, "eta": eta, "start": stationary_point(net, ("learned", "trivial")),
            "target": escape_target(s.depth, float(eta[1]), s.beta, "forward"),
            "rule": mode_amplitude_rule(s.depth, float(eta[1]), s.beta, 1, "forward", basis="empirical")}


def _prediction(s: SGLDSettings, eta, T: float):
    from ..theory.network_prediction import network_escape_prediction

    return network_escape_prediction(s.depth, s.width, [float(e) for e in eta], s.beta, T,
                                     start=("learned", "trivial"))


def _point(s: SGLDSettings, P: dict, k: int, x: float, seed: int, parts: PartStore, progress) -> dict:
    from ..sgd import trainer as sgd
    from ..sgd.escape import escape_by_rule
    from ..theory.stats import exponential_mle

    T = P["target"].barrier / x
    pr = _prediction(s, P["eta"], T)
    sd = child_seed(seed, 7, 1 + k)

    def run():
        ws = sgd.unpack(np.repeat(P["start"].theta[None, :], s.replicas, axis=0), s.depth, s.width, 2)
        res = sgd.train(ws, P["data"], beta=s.beta, lr=s.lr, batch=s.n_train, epochs=int(s.max_time / s.lr),
                        seed=sd, noise_temperature=T, stop_rule=P["rule"], progress=bool(progress))
        ep, obs = escape_by_rule(res, P["rule"]).times()
        return {"t_sde": (np.asarray(ep, float) * s.lr).tolist(), "observed": np.asarray(obs).tolist(),
                "steps": int(res.epochs_run * s.replicas)}

    sim = parts.cached(k, run)
    est = exponential_mle(np.asarray(sim["t_sde"]), np.asarray(sim["observed"], bool), confidence=CONFIDENCE)
    per = {"entropic_mfpt": {"value": pr.entropic_mfpt, "status": pr.entropic_mfpt_status},
           "eyring_kramers": {"value": pr.eyring_kramers, "status": pr.eyring_kramers_status}}
    for v in per.values():
        v.update(compare_time(v["value"], est))
    head = per["entropic_mfpt"]
    return time_point(x, head["value"], est, "injected_isotropic", temperature=T, predictions=per, seed=sd,
                      n_replicas=s.replicas, sgd_steps=sim["steps"], prediction_status=head["status"],
                      ratio=head["ratio"], within=head["within"], half_widths=head["half_widths"], z=head["z"])


def _paper_temperature(s: SGLDSettings, P: dict, points: list) -> dict:
    """T at which tau = the paper's 5500 epochs (in SDE time at its lr and B): theory root and measured."""
    from scipy.optimize import brentq

    t_star = PAPER_EPOCHS * math.ceil(s.n_train / s.paper_batch) * s.paper_lr
    barrier = P["target"].barrier

    def gap(log_x):
        tau = _prediction(s, P["eta"], barrier / math.exp(log_x)).entropic_mfpt
        return math.log(tau) - math.log(t_star) if tau else -math.inf

    theory = None
    try:
        theory = barrier / math.exp(brentq(gap, math.log(5.0), math.log(80.0), xtol=1e-3))
    except ValueError:  # no sign change: the target time is outside the theory's range
        pass
    ok = [p for p in points if p["n_escaped"] > 0]
    measured = None
    if len(ok) >= 2:  # log-linear in 1/T through the two coldest measured points (extrapolated if needed)
        a, b = ok[-2], ok[-1]
        x1, x2, y1, y2 = 1 / a["temperature"], 1 / b["temperature"], math.log(a["mean"]), math.log(b["mean"])
        measured = 1.0 / (x2 + (math.log(t_star) - y2) * (x2 - x1) / (y2 - y1))
    return {"target_sde_time": t_star, "epochs": PAPER_EPOCHS, "lr": s.paper_lr, "batch": s.paper_batch,
            "temperature_theory": theory, "temperature_measured": measured,
            "barrier_over_t_theory": None if theory is None else barrier / theory,
            "barrier_over_t_measured": None if measured is None else barrier / measured}


def _paper_check(s: SGLDSettings, P: dict, temps: dict, seed: int, parts: PartStore, progress) -> list:
    """Mini-batch SGLD at the paper's lr and B (shuffled epochs) at each 5500-epoch temperature in ``temps``
    (source -> T): escape epochs (censored MLE) against the paper's 5500."""
    from ..sgd import trainer as sgd
    from ..sgd.escape import escape_by_rule
    from ..theory.stats import exponential_mle

    out = []
    epochs = max(1, int(round(s.check_epochs_factor * PAPER_EPOCHS)))
    for k, (source, T) in enumerate(temps.items()):
        if T is None or s.check_replicas < 1:
            continue
        sd = child_seed(seed, 7, 100 + k)

        def run(T=T, sd=sd):
            ws = sgd.unpack(np.repeat(P["start"].theta[None, :], s.check_replicas, axis=0), s.depth, s.width, 2)
            res = sgd.train(ws, P["data"], beta=s.beta, lr=s.paper_lr, batch=s.paper_batch, epochs=epochs,
                            seed=sd, noise_temperature=T, stop_rule=P["rule"], progress=bool(progress))
            ep, obs = escape_by_rule(res, P["rule"]).times()
            return {"epochs": np.where(obs, ep, float(epochs)).astype(float).tolist(),
                    "observed": np.asarray(obs).tolist(),
                    "steps": int(res.epochs_run * math.ceil(s.n_train / s.paper_batch) * s.check_replicas)}

        sim = parts.cached(100 + k, run)
        est = exponential_mle(np.asarray(sim["epochs"]), np.asarray(sim["observed"], bool), confidence=CONFIDENCE)
        cmp = compare_time(float(PAPER_EPOCHS), est)
        out.append({"source": source, "temperature": T, "lr": s.paper_lr, "batch": s.paper_batch,
                    "protocol": "shuffled_epochs_sgld", "run_epochs": epochs, "n_replicas": s.check_replicas,
                    "seed": sd, "n_escaped": est.n_events, "tau_epochs": est.mean, "ci_low": est.ci_low,
                    "ci_high": est.ci_high, "ratio_to_paper": cmp["ratio"], "paper_within": cmp["within"],
                    "sgd_steps": sim["steps"]})
    return out


def run_sgld(s: SGLDSettings, seed: int, progress=False, parts: PartStore | None = None) -> RowResult:
    """Row 7 (see the module docstring)."""
    t0 = time.perf_counter()
    parts = parts or PartStore()
    P = _problem(s, seed)
    points = [_point(s, P, k, x, seed, parts, progress) for k, x in enumerate(s.barrier_over_t)]
    comb = {m: combine_points([p["predictions"][m] for p in points]) for m in ("entropic_mfpt", "eyring_kramers")}
    paper = _paper_temperature(s, P, points)
    paper["check"] = _paper_check(s, P, {"theory": paper["temperature_theory"],
                                         "measured": paper["temperature_measured"]}, seed, parts, progress)
    head = points[-1]
    return RowResult(
        id=ROW_IDS[7], row=7, dynamics="sgld_full_batch",
        parameters={"depth": s.depth, "width": s.width, "sv_empirical": P["eta"].tolist(), "beta": s.beta,
                    "n_train": s.n_train, "lr": s.lr, "barrier_1d": P["target"].barrier,
                    "lambda_target": P["target"].lambda_target, "barrier_over_t": list(s.barrier_over_t),
                    "max_time": s.max_time, "paper_temperature": paper},
        prediction={"method": "entropic_mfpt", "value": head["prediction"], "unit": "SDE time", "available": True,
                    "status": head["prediction_status"]},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": comb["entropic_mfpt"],
                     "combined_by_prediction": comb},
        ratio=head["ratio"], verdict=combined_verdict(comb["entropic_mfpt"]), points=points,
        seeds=[p["seed"] for p in points], n_seeds=s.replicas * len(points),
        steps=int(sum(p["sgd_steps"] for p in points) + sum(c["sgd_steps"] for c in paper["check"])),
        wall_seconds=time.perf_counter() - t0, data={},
    )
