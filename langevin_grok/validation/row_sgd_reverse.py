"""Row 4: plain-SGD reverse transition of the paper network inside the Kramers regime, per batch protocol.

Reverse escape (learned -> trivial) of the second mode on a finite, whitened training set at two or more beta
between beta* and beta_c (:func:`langevin_grok.sgd.reverse.reverse_problem`), the package's one escape event
on the empirical mode amplitude. Two batch protocols, each against its own noise model (``docs/theory.md``,
section 2):

- independent batches (with replacement): T = lr c_e / (2B) with the discrete-time factor. Predictions: the
  escape time of the balanced network's SGD chain in its end-to-end map W with Gaussian batch moments of the
  data's mean and covariance (:func:`langevin_grok.sgd.end_to_end.balanced_sgd_escape`: the network's own step
  from a balanced state, discrete time, the noisy directions turning with W; the noise model in the exact 4-D
  geometry, by Monte Carlo, its standard error in the comparison) times the exact 1-D non-Gaussian factor
  ``batch_chain / discrete_chain`` (``balanced_chain``, recommended); the exact mean first-passage time of the
  chain whose step is the exact batch mean of the data's per-sample gradients along the escape line
  (``batch_chain``: the 1-D theory with the real, skewed noise; it predicts line SGD) times the transverse factor
  tau_e2e / tau_line of the balanced network's end-to-end SDE (:mod:`langevin_grok.sgd.end_to_end`, continuous
  time, compiled Euler-Maruyama on the row's event; tau_line the chord's exact continuous 1-D MFPT with the same
  fields) (``e2e_batch_chain``, recommended before the balanced chain existed); the same chain times the escape
  plane's transverse factor (:func:`langevin_grok.sgd.escape_plane.plane_mfpt`: the chord plus the softest
  transverse noisy direction in a flat chart) (``plane_batch_chain``); the Gaussian
  discrete-time SGD chain on the arc with the state-dependent T(r) = lr c_e(r) / (2B) measured along the escape
  path (``discrete_chain``) and the same times the plane factor (``plane_chain``: Gaussian noise in the plane);
  the chain's continuous-time limit (``state_dependent``, the exact 1-D MFPT with T(r)); the exact 1-D MFPT at
  the start's T (``constant_t``); and ``batch_chain`` alone;
- shuffled epochs (the paper's protocol): the equipartition temperatures of the exact linear model
  (:func:`langevin_grok.sgd.noise_models.shuffled_epoch_model`) with the start's c_e and curvature, at epoch
  boundaries (``shuffled_boundary``, recommended: the epoch-level temperature) and averaged over the steps of
  an epoch (``shuffled_epoch_mean``), each inserted in the exact 1-D MFPT.

Every point sits at dE/T >= 3 of its protocol's recommended noise model; each prediction has its own verdict
(they can disagree). The recommended shuffled-epoch prediction was fixed before the row was run with it. The
recommended with-replacement prediction was changed three times after runs of this row were known: to
``plane_batch_chain`` once its two parts had been measured, to ``e2e_batch_chain`` once a diagnostic had found
the network faster than its plane (``validation/diagnostics/row4_end_to_end.py``) and the end-to-end SDE had been
derived and verified, and to ``balanced_chain`` once the balanced chain had shown that the SDE's continuous time
misstates the transverse directions (checked against the balanced chain with the data's batches, not against the
network); none has a parameter fitted to the row (docs/theory.md, section "With replacement"). The Monte Carlo
parts' path counts are fixed multiples of the replicas (end-to-end SDE 4 x, balanced chains 8 x) and the SDE's
step is fixed by the drift's curvature, not by the row.

Beside each point, references that are simulations, not predictions: SGD on the escape line with the data's
real per-sample gradients and the same batch protocol (:func:`langevin_grok.sgd.line_sgd.line_sgd_escape`).
It splits a disagreement into its 1-D part (line SGD against the prediction: the noise model) and its
network part (network SGD against line SGD: the 1-D reduction). With independent batches also SGD on the
escape plane (:func:`langevin_grok.sgd.escape_plane.plane_sgd_escape`): the plane prediction against it is the
plane theory's own error, the network against it what the plane leaves out; and the balanced chain with the
data's own batches (``balanced_sgd``): the recommended prediction against it is its non-Gaussian factorisation's
error, the network against it what the balanced 4-D reduction leaves out.
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

__all__ = ["run_sgd_reverse", "path_predictions"]


def path_predictions(P: dict, depth: int, width: int, lr: float, batch: int, n_points: int = 25):
    """Exact 1-D MFPTs on the arc with T(r) = lr c_e(r) / (2B) measured along the escape path (reverse escape):
    the discrete-time SGD chain (:func:`langevin_grok.sgd.path_noise.mfpt_discrete_chain`) and its continuous
    limit (:func:`langevin_grok.sgd.path_noise.mfpt_state_dependent`); and, when ``P`` holds the escape line's
    per-sample gradients (``P["line"]``, ``P["line_target"]``), the chain with the exact batch-mean step
    (:func:`langevin_grok.sgd.line_sgd.mfpt_line_sgd`, key ``batch_chain``; line coordinate = distance from the
    start, r_min - r).

    The balanced path from the learned minimum through the saddle is a straight chord in weight space with
    arc length r = sqrt(L) a (docs/theory.md, "Weight space, noise and time"); c_e is measured along it out to
    the escape level, and held at its start value beyond the minimum, where a reflecting end sits at the
    first r with U(r) - U(r_min) >= 30 T (stationary weight e^-30; the arc stiffens fast beyond the minimum,
    and further out lr |U''| > 2, where the chain would be unstable but SGD never goes).
    """
    from ..landscape.modes import arc_force, arc_potential
    from ..sgd.path_noise import escape_path_noise, mfpt_discrete_chain, mfpt_state_dependent

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
    p = (float(L), float(P["eta"]), float(P["beta"]))
    beyond = r_min + np.linspace(0.0, 1.0, 20001)[1:] * r_min  # the far side of the learned minimum
    rise = (arc_potential(0.0, beyond, p) - arc_potential(0.0, r_min, p)) / T[0]
    r_ref = float(beyond[np.argmax(rise >= 30.0)]) if np.any(rise >= 30.0) else 2.0 * r_min
    nodes, vals = np.append(r[::-1], r_ref), np.append(T[::-1], T[0])
    grad = lambda t, x, q: -arc_force(t, x, q)  # noqa: E731
    cont = mfpt_state_dependent(grad, (nodes, vals), r_min, r_tgt, r_ref, p)
    chain = mfpt_discrete_chain(grad, (nodes, vals), r_min, r_tgt, r_ref, p, lr=lr)
    out = {"state_dependent": cont, "discrete_chain": chain}
    if "line" in P:  # the exact batch-mean step on the line (line coordinate: distance from the start)
        from ..sgd.line_sgd import mfpt_line_sgd
        out["batch_chain"] = mfpt_line_sgd(P["line"], lr, batch, r_target=P["line_target"],
                                           r_reflect=-(r_ref - r_min))
    if "plane" in P:  # the transverse factor of the escape plane (same reflecting end)
        from ..sgd.escape_plane import plane_mfpt
        out["plane"] = plane_mfpt(P["plane"], P["event"], lr, batch, P["line_target"], -(r_ref - r_min))
    return out, {
        "r": r.tolist(), "temperature": T.tolist(), "c_e": np.asarray(pn.noise).tolist(), "reflect": r_ref}


def _entry(res) -> dict:
    st = getattr(res, "status", "valid")
    return {"value": res.tau if math.isfinite(res.tau) else None, "log_tau": res.log_tau,
            "status": str(getattr(st, "value", st))}


def _scaled(res, plane) -> dict:
    """A 1-D chain MFPT times the escape plane's transverse factor (status: the worse of the two)."""
    e = _entry(res)
    fac = plane.transverse_factor
    e["value"] = e["value"] * fac if e["value"] is not None and math.isfinite(fac) else None
    ok = e["log_tau"] is not None and math.isfinite(fac) and fac > 0
    e["log_tau"] = e["log_tau"] + math.log(fac) if ok else None
    e["transverse_factor"] = fac if math.isfinite(fac) else None
    e["plane"] = plane.to_dict()
    order = ("valid", "marginal", "not_applicable")
    ps = str(plane.status.value)
    if order.index(ps) > order.index(e["status"]):
        e["status"] = ps
    return e


def _predictions(P: dict, s: SGDReverseSettings, B: int, replacement: bool,
                 e2e: dict | None = None, balanced: dict | None = None) -> tuple[dict, float, str]:
    """Predictions of one point (value, status) and the temperature and noise model that set dE/T; ``e2e``: the
    end-to-end simulation of the point (:func:`_e2e_reference`, independent batches); ``balanced``: the balanced
    network's Gaussian chain (:func:`_balanced_reference`)."""
    from .._core.units import sgd_temperature
    from ..sgd.noise_models import shuffled_epoch_model
    from ..theory.quadrature import exact_mfpt_1d

    eta, beta, c_e = P["eta"], P["beta"], P["c_e"]
    if replacement:
        T = sgd_temperature(s.lr, B, c_e, replacement=True)
        path, _ = path_predictions(P, s.depth, s.width, s.lr, B)
        pl = path["plane"]
        preds = {"balanced_chain": _balanced_scaled(path["batch_chain"], path["discrete_chain"], balanced),
                 "e2e_batch_chain": _e2e_scaled(path["batch_chain"], pl, e2e),
                 "plane_batch_chain": _scaled(path["batch_chain"], pl),
                 "plane_chain": _scaled(path["discrete_chain"], pl),
                 "discrete_chain": _entry(path["discrete_chain"]),
                 "batch_chain": _entry(path["batch_chain"]),
                 "state_dependent": _entry(path["state_dependent"]),
                 "constant_t": _entry(exact_mfpt_1d(s.depth, eta, beta, T, "reverse"))}
        return preds, T, "with_replacement"
    sh = shuffled_epoch_model(s.lr, B, s.n_train, c_e, float(P["curvature_e"]))
    T = float(sh.temperature_boundary)
    preds = {}
    for key, temp in (("shuffled_boundary", T), ("shuffled_epoch_mean", float(sh.temperature_epoch_mean))):
        e = _entry(exact_mfpt_1d(s.depth, eta, beta, temp, "reverse"))
        e.update(status=str(sh.status.value), temperature=temp, dE_over_T=P["ml"].barrier_reverse / temp)
        preds[key] = e
    return preds, T, "shuffled_epochs_boundary"


HEAD = {True: "balanced_chain", False: "shuffled_boundary"}
METHODS = {True: ("balanced_chain", "e2e_batch_chain", "plane_batch_chain", "plane_chain", "discrete_chain",
                  "batch_chain", "state_dependent", "constant_t"),
           False: ("shuffled_boundary", "shuffled_epoch_mean")}


def _temperature_check(measured: dict | None, T: float, lr: float, h: float, replacement: bool) -> dict | None:
    """The run's own temperature of the escape coordinate (fitted relaxation, read at epoch boundaries) beside
    what the point's noise model implies for that reading in a quadratic well of curvature h along e.

    The model's stationary variance is V = (T/h) 2/(2 - lr h) with independent batches (the discrete-time factor)
    and V = T_boundary/h at the epoch boundaries of shuffled epochs; its relaxation rate, read every n steps, is
    -ln(1 - lr h)/lr; the fitted temperature is their product. Reported: the three model values and the
    measured/model ratios of temperature, variance (T/rate) and rate. docs/theory.md, section 2."""
    if measured is None or measured.get("relaxation_rate") is None or not 0.0 < lr * h < 1.0:
        return measured
    rate = -math.log1p(-lr * h) / lr
    var = T / h * (2.0 / (2.0 - lr * h) if replacement else 1.0)
    Tm, rm = measured["temperature"], measured["relaxation_rate"]
    return {**measured, "model": var * rate, "variance_model": var, "relaxation_rate_model": rate,
            "measured_over_model": Tm / (var * rate), "variance_over_model": Tm / rm / var,
            "relaxation_rate_over_model": rm / rate}


def _setups(s: SGDReverseSettings, seed: int) -> dict:
    """One problem per beta fraction of the points (one data set), with the curvature along e and the
    per-sample gradients along the escape line."""
    from ..sgd.escape import rule_event
    from ..sgd.escape_plane import escape_plane
    from ..sgd.line_sgd import line_noise

    out = {}
    for f in sorted({float(f) for f, _ in tuple(s.with_replacement) + tuple(s.shuffled)}, reverse=True):
        P = _reverse_setup(s, seed, f)
        P["curvature_e"] = float(P["e"] @ P["net"].hessian(P["start"].theta) @ P["e"])  # h along e
        P["line"] = line_noise(P["data"].x_train, P["data"].y_train, s.depth, s.width, P["beta"],
                               P["start"].theta, P["saddle"].theta)
        a_min, a_sad = float(P["start"].amplitudes[1]), float(P["saddle"].amplitudes[1])
        a_tgt = float(P["rule"].details["lambda_target"]) ** (1.0 / s.depth)
        P["line_target"] = (a_min - a_tgt) / (a_min - a_sad) * P["line"].length  # the escape level on the line
        P["plane"] = escape_plane(P["data"].x_train, P["data"].y_train, s.depth, s.width, P["beta"],
                                  P["start"].theta, P["saddle"].theta)
        P["event"] = rule_event(P["rule"], P["data"], s.depth, s.width)
        out[f] = P
    return out


def _reference_summary(sim: dict, reps: int, seed: int) -> tuple:
    """Censoring-aware MLE of a reference simulation's escape times and its JSON summary (shared by the line and
    plane references)."""
    from ..theory.stats import exponential_mle

    est = exponential_mle(np.asarray(sim["t_sde"], float), np.asarray(sim["observed"], bool), confidence=CONFIDENCE)
    fin = lambda v: v is not None and math.isfinite(v)  # noqa: E731
    return est, fin, {"mean": est.mean if fin(est.mean) else None, "ci_low": est.ci_low,
                      "ci_high": est.ci_high if fin(est.ci_high) else None, "n_escaped": est.n_events,
                      "n_paths": reps, "seed": seed, "n_diverged": sim.get("n_diverged", 0)}


def _line_reference(P: dict, s: SGDReverseSettings, B: int, replacement: bool, reps: int, epochs: int, seed: int,
                    cache, key: int, est_network, prediction, batch_chain=None) -> dict:
    """SGD on the escape line (real per-sample gradients, same protocol, replicas and run length), and with
    independent batches the exact batch-chain MFPT against it (``batch_chain``: ratio, within, half_widths, z)."""
    from ..sgd.line_sgd import line_sgd_escape

    def run():
        r = line_sgd_escape(P["line"], s.lr, B, r_target=P["line_target"], n_paths=reps, max_epochs=int(epochs),
                            replacement=replacement, seed=seed)
        return {"t_sde": r.t_sde.tolist(), "observed": r.observed.tolist(), "n_diverged": r.n_diverged}

    est, fin, out = _reference_summary(cache.cached(key, run), reps, seed)
    return {**out,
            "line_over_prediction": est.mean / prediction if fin(est.mean) and prediction else None,
            "network_over_line": (est_network.mean / est.mean if fin(est.mean) and fin(est_network.mean) else None),
            "batch_chain": None if batch_chain is None else compare_time(batch_chain, est)}


def _plane_reference(P: dict, s: SGDReverseSettings, B: int, reps: int, epochs: int, seed: int, cache, key: int,
                     est_network, prediction) -> dict:
    """SGD on the escape plane with the real per-sample gradients (independent batches, same replicas and run
    length; a simulation): against the recommended prediction (``plane_over_prediction``, and ``compare``:
    ratio, within, half_widths, z) and the network against it (``network_over_plane``)."""
    from ..sgd.escape_plane import plane_sgd_escape

    def run():
        r = plane_sgd_escape(P["plane"], P["event"], s.lr, B, n_paths=reps, max_epochs=int(epochs), seed=seed)
        return {"t_sde": r["t_sde"].tolist(), "observed": r["observed"].tolist(), "n_diverged": r["n_diverged"]}

    est, fin, out = _reference_summary(cache.cached(key, run), reps, seed)
    return {**out, "plane_over_prediction": est.mean / prediction if fin(est.mean) and prediction else None,
            "network_over_plane": (est_network.mean / est.mean if fin(est.mean) and fin(est_network.mean)
                                   else None),
            "compare": None if prediction is None else compare_time(prediction, est)}


def _e2e_reference(P: dict, s: SGDReverseSettings, B: int, seed: int, cache, key: int) -> dict | None:
    """The end-to-end diffusion's escape time from the point's start (Euler-Maruyama, compiled,
    :func:`langevin_grok.sgd.end_to_end.end_to_end_escape`), on the row's event, censored at the row's run length;
    the step is ``e2e_dt_curvature`` over the drift's largest curvature at the start."""
    if s.e2e_paths <= 0:
        return None
    from ..sgd.end_to_end import data_moments, drift_curvature, end_to_end_escape
    from ..sgd.escape import rule_projection
    from ..sgd.trainer import end_to_end, unpack
    from ..theory.stats import exponential_mle

    def run():
        data = P["data"]
        p = data.x_train.shape[1]
        W0 = end_to_end(unpack(P["start"].theta[None], s.depth, s.width, p))[0]
        args = (W0, data.x_train, data.y_train, s.depth, P["beta"], s.lr, B, rule_projection(P["rule"], data))
        dt = s.e2e_dt_curvature / drift_curvature(W0, data_moments(data.x_train, data.y_train), s.depth, P["beta"],
                                                  s.lr, B)
        t0 = time.perf_counter()
        r = end_to_end_escape(*args, n_paths=s.e2e_paths, t_max=s.max_time, dt=dt, seed=seed)
        est = exponential_mle(r["t_sde"], r["observed"], confidence=CONFIDENCE)
        return {"tau": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n_escaped": est.n_events,
                "n_paths": s.e2e_paths, "n_diverged": r["n_diverged"], "n_lost_rank": r["n_lost_rank"],
                "dt": r["dt"], "dt_curvature": r["dt_curvature"], "seed": r["seed"], "status": r["status"].value,
                "reason": r["reason"], "wall_seconds": time.perf_counter() - t0}
    return cache.cached(key, run)


def _e2e_scaled(res, plane, e2e: dict | None) -> dict:
    """A 1-D chain MFPT times the end-to-end diffusion's transverse factor tau_e2e / tau_line (tau_line: the
    chord's continuous 1-D MFPT with the same fields, the denominator of the plane's factor), with the Monte Carlo
    error of tau_e2e as the prediction's own (``log_sigma``)."""
    from ..theory.stats import log_sigma_from_ci

    e = _entry(res)
    e.update(transverse_factor=None, log_sigma=None, e2e=e2e)
    ok = (e2e is not None and e["value"] is not None and math.isfinite(e2e["tau"]) and e2e["n_escaped"] > 0
          and math.isfinite(plane.tau_line) and plane.tau_line > 0)
    if not ok:
        e.update(value=None, log_tau=None, status="not_applicable")
        return e
    fac = e2e["tau"] / plane.tau_line
    e["value"] *= fac
    e["log_tau"] = e["log_tau"] + math.log(fac) if e["log_tau"] is not None else None
    e["transverse_factor"] = fac
    e["log_sigma"] = (float(log_sigma_from_ci(e2e["ci_low"], e2e["ci_high"], CONFIDENCE))
                      if math.isfinite(e2e["ci_high"]) else None)
    order = ("valid", "marginal", "not_applicable")
    worst = max((e["status"], e2e["status"], str(plane.status.value)), key=order.index)
    e["status"] = worst
    return e


def _balanced_reference(P: dict, s: SGDReverseSettings, B: int, noise: str, seed: int, cache, key: int) -> dict | None:
    """Balanced-network SGD in the end-to-end map from the point's start, on the row's event read every epoch,
    censored at the row's run length (:func:`langevin_grok.sgd.end_to_end.balanced_sgd_escape`, independent
    batches, ``balanced_paths`` paths): ``noise="gaussian"`` the noise model's 4-D chain (Gaussian batch
    gradients with the data's mean and covariance, discrete time), ``"batches"`` the data's own batches (the
    reduction's ground truth). A Monte Carlo estimate with its censoring-aware interval."""
    if s.balanced_paths <= 0:
        return None
    from ..sgd.end_to_end import balanced_sgd_escape
    from ..sgd.escape import rule_projection
    from ..sgd.trainer import end_to_end, unpack
    from ..theory.stats import exponential_mle

    def run():
        data = P["data"]
        p = data.x_train.shape[1]
        W0 = end_to_end(unpack(P["start"].theta[None], s.depth, s.width, p))[0]
        m = -(-data.n_train // B)
        t0 = time.perf_counter()
        r = balanced_sgd_escape(W0, data.x_train, data.y_train, s.depth, P["beta"], s.lr, B,
                                rule_projection(P["rule"], data), n_paths=s.balanced_paths,
                                max_epochs=int(math.ceil(s.max_time / (m * s.lr))), seed=seed, noise=noise)
        est = exponential_mle(r["t_sde"], r["observed"], confidence=CONFIDENCE)
        return {"tau": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n_escaped": est.n_events,
                "n_paths": s.balanced_paths, "n_diverged": r["n_diverged"], "noise": noise,
                "step_curvature": r["step_curvature"], "seed": r["seed"], "status": r["status"].value,
                "reason": r["reason"], "wall_seconds": time.perf_counter() - t0}
    return cache.cached(key, run)


def _balanced_scaled(batch, gauss_chain, bal: dict | None) -> dict:
    """The balanced network's Gaussian chain (4-D, Monte Carlo) times the exact 1-D non-Gaussian factor
    ``batch_chain / discrete_chain`` (the data's batch-mean step against the Gaussian step of the same variance,
    both exact chains along the chord): ``balanced_chain``, with the Monte Carlo error of the 4-D chain as the
    prediction's own (``log_sigma``)."""
    from ..theory.stats import log_sigma_from_ci

    e = _entry(batch)
    e.update(non_gaussian_factor=None, log_sigma=None, balanced_gaussian=bal)
    g = _entry(gauss_chain)
    ok = (bal is not None and e["value"] is not None and g["value"] is not None and g["value"] > 0
          and math.isfinite(bal["tau"]) and bal["n_escaped"] > 0)
    if not ok:
        e.update(value=None, log_tau=None, status="not_applicable")
        return e
    fac = e["value"] / g["value"]
    e.update(value=bal["tau"] * fac, log_tau=math.log(bal["tau"] * fac), non_gaussian_factor=fac)
    e["log_sigma"] = (float(log_sigma_from_ci(bal["ci_low"], bal["ci_high"], CONFIDENCE))
                      if math.isfinite(bal["ci_high"]) else None)
    order = ("valid", "marginal", "not_applicable")
    e["status"] = max((e["status"], g["status"], bal["status"]), key=order.index)
    return e


def _balanced_sgd_summary(bal: dict | None, est_network, prediction) -> dict | None:
    """The data's batches on the balanced chain (a simulation): the recommended prediction against it
    (``prediction_over_balanced``: the theory's own error, its non-Gaussian factorisation) and the network
    against it (``network_over_balanced``: what the balanced 4-D reduction leaves out)."""
    if bal is None:
        return None
    ok = math.isfinite(bal["tau"]) and bal["n_escaped"] > 0
    fin = est_network.mean is not None and math.isfinite(est_network.mean)
    return {**bal, "prediction_over_balanced": prediction / bal["tau"] if ok and prediction else None,
            "network_over_balanced": est_network.mean / bal["tau"] if ok and fin else None}


def _protocol_points(s, setups, seed, cache, progress, replacement: bool) -> list:
    from ..theory.stats import exponential_mle

    points = []
    spec = s.with_replacement if replacement else s.shuffled
    base = 1 if replacement else 50
    for k, (frac, B) in enumerate(spec):
        P = setups[float(frac)]
        B = int(B)
        barrier = P["ml"].barrier_reverse
        e2e = (_e2e_reference(P, s, B, child_seed(seed, 4, 400 + base + k), cache, 400 + base + k)
               if replacement else None)
        bal = ({nz: _balanced_reference(P, s, B, nz, child_seed(seed, 4, key + base + k), cache, key + base + k)
                for nz, key in (("gaussian", 500), ("batches", 600))} if replacement else {})
        preds, T, model = _predictions(P, s, B, replacement, e2e, bal.get("gaussian"))
        sd = child_seed(seed, 4, base + k)
        reps = s.replicas if replacement else s.shuffled_replicas
        sim = cache.cached(base + k, lambda P=P, B=B, sd=sd, reps=reps: reverse_escape_ensemble(
            P["data"], P["start"].theta, width=s.width, beta=P["beta"], lr=s.lr, batch=B,
            max_time=s.max_time if replacement else s.shuffled_max_time,
            replicas=reps, seed=sd, rule=P["rule"], replacement=replacement, progress=progress))
        est = exponential_mle(np.asarray(sim["t_sde"], float), np.asarray(sim["observed"], bool),
                              confidence=CONFIDENCE)
        for v in preds.values():
            v.update(compare_time(v["value"], est, v.get("log_sigma")))
        head = preds[HEAD[replacement]]
        tm = _temperature_check(sim.get("temperature_measured"), T, s.lr, P["curvature_e"], replacement)
        line = _line_reference(P, s, B, replacement, reps, sim["epochs"], child_seed(seed, 4, 200 + base + k),
                               cache, 200 + base + k, est,
                               preds["discrete_chain"]["value"] if replacement else head["value"],
                               preds["batch_chain"]["value"] if replacement else None)
        plane = (_plane_reference(P, s, B, reps, sim["epochs"], child_seed(seed, 4, 300 + base + k), cache,
                                  300 + base + k, est, preds["plane_batch_chain"]["value"]) if replacement else None)
        balanced = (_balanced_sgd_summary(bal.get("batches"), est, head["value"]) if replacement else None)
        points.append(time_point(
            barrier / T, head["value"], est, model, predictions=preds, fraction=float(frac), beta=P["beta"],
            barrier_reverse=barrier, c_e_start=P["c_e"], curvature_e=P["curvature_e"], batch=B, lr=s.lr,
            T_eff=T, inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T, n_replicas=reps, seed=sd,
            epochs=sim["epochs"], n_diverged=sim["n_diverged"], sgd_steps=sim["sgd_steps"],
            replacement=replacement, lambda_min=P["ml"].lambda_min,
            lambda_median_before_escape=sim.get("lambda_median_before_escape"), ratio=head["ratio"],
            within=head["within"], half_widths=head["half_widths"], z=head["z"], line_sgd=line, plane_sgd=plane,
            balanced_sgd=balanced,
            temperature_measured=tm))
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
    setups = _setups(s, seed)
    wr = _protocol_points(s, setups, seed, cache, progress, replacement=True)
    sh = _protocol_points(s, setups, seed, cache, progress, replacement=False)
    points = wr + sh
    comb = {"with_replacement": {m: combine_points([p["predictions"][m] for p in wr]) for m in METHODS[True]},
            "shuffled_epochs": {m: combine_points([p["predictions"][m] for p in sh]) for m in METHODS[False]}}
    verdicts = {"with_replacement": _verdict(wr, "balanced_chain", comb["with_replacement"]["balanced_chain"]),
                "with_replacement_e2e_sde": _verdict(wr, "e2e_batch_chain",
                                                     comb["with_replacement"]["e2e_batch_chain"]),
                "with_replacement_plane": _verdict(wr, "plane_batch_chain",
                                                   comb["with_replacement"]["plane_batch_chain"]),
                "with_replacement_plane_gaussian": _verdict(wr, "plane_chain", comb["with_replacement"]["plane_chain"]),
                "with_replacement_discrete_chain": _verdict(wr, "discrete_chain",
                                                            comb["with_replacement"]["discrete_chain"]),
                "with_replacement_continuous": _verdict(wr, "state_dependent",
                                                        comb["with_replacement"]["state_dependent"]),
                "with_replacement_batch_chain": _verdict(wr, "batch_chain", comb["with_replacement"]["batch_chain"]),
                "with_replacement_constant_t": _verdict(wr, "constant_t", comb["with_replacement"]["constant_t"]),
                "shuffled_epochs": _verdict(sh, "shuffled_boundary", comb["shuffled_epochs"]["shuffled_boundary"]),
                "shuffled_epochs_epoch_mean": _verdict(sh, "shuffled_epoch_mean",
                                                       comb["shuffled_epochs"]["shuffled_epoch_mean"])}
    P0 = next(iter(setups.values()))  # data-level keys: one data set for every beta
    head = wr[-1] if wr else sh[-1]
    betas = {str(f): {"beta": P["beta"], "barrier_reverse": P["ml"].barrier_reverse, "lambda_min": P["ml"].lambda_min,
                      "c_e_start": P["c_e"], "c_e_saddle": P["c_sad"], "curvature_e": P["curvature_e"],
                      "trace_start": P["trace_start"], "lambda_target": P["rule"].details["lambda_target"],
                      "max_hessian_eigenvalue": P["curv_max"], "line_length": P["line"].length,
                      "line_target": P["line_target"], "line_fit_residual": P["line"].fit_residual,
                      "noise_skewness_start": P["line"].skewness_start,
                      "noise_excess_kurtosis_start": P["line"].excess_kurtosis_start,
                      "plane": P["plane"].to_dict()} for f, P in setups.items()}
    return RowResult(
        id=ROW_IDS[4], row=4, dynamics="sgd_with_replacement",
        parameters={"depth": s.depth, "width": s.width, "sv_population": list(s.sv), "n_params": P0["net"].n_params,
                    "sv_empirical": P0["sv_emp"].tolist(), "n_train": s.n_train, "data_seed": P0["data_seed"],
                    "whitened": True, "beta_star": P0["beta_star"], "beta_c": P0["beta_c"], "lr": s.lr,
                    "with_replacement": [list(x) for x in s.with_replacement],
                    "shuffled": [list(x) for x in s.shuffled], "betas": betas,
                    "start_modes": list(P0["start_modes"]), "saddle_modes": list(P0["saddle_modes"]),
                    "max_time": s.max_time, "shuffled_max_time": s.shuffled_max_time},
        prediction={"method": "balanced_chain_mfpt", "value": head["prediction"], "unit": "SDE time",
                    "available": True, "dE_over_T": head["dE_over_T"]},
        measurement={"quantity": "mean_escape_time", "value": head["mean"], "ci_low": head["ci_low"],
                     "ci_high": head["ci_high"], "unit": "SDE time", "combined": comb, "verdicts": verdicts},
        ratio=head["ratio"], verdict=verdicts["with_replacement"], points=points,
        seeds=[p["seed"] for p in points], n_seeds=sum(p["n_replicas"] for p in points),
        steps=int(sum(p["sgd_steps"] for p in points)), wall_seconds=time.perf_counter() - t0,
        data={"times": [], "escaped": []},
    )
