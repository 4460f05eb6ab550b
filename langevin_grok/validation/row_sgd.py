"""Rows 4 and 5: the paper's network under plain mini-batch SGD (data noise only).

Row 4 (``sgd_reverse``): reverse transition (learned -> trivial) of the second mode on a finite, whitened
training set; Arrhenius fit of ln tau against 1 / T_eff, T_eff from the measured gradient noise along the
escape direction; fitted barrier against the landscape's reverse barrier and against the noise-weighted
barrier of the state-dependent noise along the path. The escape event is the package's one definition
(:func:`langevin_grok.landscape.escape.escape_target`, lambda_2 < lambda_sad / 2) on the empirical singular
vectors. Diagnostics separate causes (SGLD at the same T_eff, lr refinement, batches with replacement).

Row 5 (``sgd_trap``): plain SGD from the exact rank-1 trap: measured escape-direction noise (exactly zero:
absorbing) and the observed number of escapes. Theory: ``docs/theory.md``, "Plain SGD and dead directions".
"""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from .._core.checks import InputError
from .._core.errors import Status, Verdict
from .._core.seeds import child_seed
from .cache import PartStore
from .config import ROW_IDS, SGDReverseSettings, SGDTrapSettings
from .results import CONFIDENCE, RowResult
from ..sgd.reverse import reverse_escape_ensemble

__all__ = ["run_sgd_reverse", "run_sgd_trap", "reverse_diagnostics", "sgd_problem"]


def sgd_problem(s: SGDReverseSettings, seed: int) -> dict:
    """Data set, beta (midpoint of beta*, beta_c) and network shared by rows 4 and 5."""
    from ..sgd.reverse import reverse_problem

    return reverse_problem(s.sv, s.n_train, s.n_test, s.depth, s.width, data_seed=child_seed(seed, 4, 0),
                           fraction=0.5)


def _path_noise_barrier(net, start, saddle, e, X, Y, depth, width, eta, beta, c_start, n_points: int = 33) -> dict:
    """Barrier seen by state-dependent noise: ``c_start * int_{a_sad}^{a_min} (-u'(a)) / c_e(a) da``.

    The balanced path of the escaping mode is the straight segment from ``start`` to ``saddle`` in
    weight space (both built in the same canonical frame, and every weight of the mode is proportional
    to its amplitude a), so ``theta(a)`` is exact linear interpolation. ``c_e(a) = e^T C(theta(a)) e``
    from :func:`langevin_grok.sgd.noise.gradient_noise`. For a 1-D diffusion with temperature T(r) the
    Arrhenius exponent is ``int dU / T(r)``; in units of ``1 / T_eff(start)`` that is this barrier.
    """
    from ..landscape.modes import u_prime
    from ..sgd.noise import gradient_noise

    a_min = float(start.amplitudes[1])
    a_sad = float(saddle.amplitudes[1])
    a = np.linspace(a_sad, a_min, n_points)
    frac = (a - a_min) / (a_sad - a_min)  # 0 at the start, 1 at the saddle
    d = saddle.theta - start.theta
    c = np.array([gradient_noise(start.theta + f * d, X, Y, depth, width, direction=e, n_top=0).direction_variance
                  for f in frac])
    integrand = -u_prime(a, depth, eta, beta) / c
    integral = float(np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(a)))  # trapezoid
    return {"a": a.tolist(), "c": c.tolist(), "barrier_noise_weighted": c_start * integral,
            "tangent_overlap": float(abs(e @ d) / np.linalg.norm(d))}




def _arrhenius(points: list):
    """Arrhenius fit of ln tau against ``inv_T_eff`` over the points with escapes (None if fewer than 3)."""
    from ..theory.stats import arrhenius_fit, log_sigma_from_ci

    ok = [p for p in points if p["n_escaped"] > 0 and math.isfinite(p["ci_high"]) and p["ci_low"] > 0]
    if len(ok) < 3:
        return None
    sig = log_sigma_from_ci([p["ci_low"] for p in ok], [p["ci_high"] for p in ok], CONFIDENCE)
    return arrhenius_fit([p["inv_T_eff"] for p in ok], [p["mean"] for p in ok], sig, confidence=CONFIDENCE)


def _estimate_point(sim: dict, **extra) -> dict:
    from ..theory.stats import exponential_mle

    est = exponential_mle(np.asarray(sim["t_sde"], float), np.asarray(sim["observed"], bool), confidence=CONFIDENCE)
    out = dict(extra)
    out.update(mean=est.mean, measured=est.mean, ci_low=est.ci_low, ci_high=est.ci_high, n_escaped=est.n_events,
               n_censored=est.n_censored, n_diverged=sim["n_diverged"], sgd_steps=sim["sgd_steps"],
               epochs=sim["epochs"], lambda_median_before_escape=sim.get("lambda_median_before_escape"))
    return out


def _fit_summary(fit, barrier: float) -> dict | None:
    if fit is None:
        return None
    lo, hi = fit.slope_ci
    return {"barrier": fit.slope, "ci_low": lo, "ci_high": hi, "ratio_to_landscape": fit.slope / barrier,
            "landscape_inside": bool(lo <= barrier <= hi), "log_tau0": fit.intercept, "r_squared": fit.r_squared,
            "n_points": fit.n}


def reverse_diagnostics(s: SGDReverseSettings, P: dict, rule, theta0, c_e: float, barrier: float, main_points: list,
                      seed: int, parts, progress) -> dict:
    """Separate the causes of a row-4 disagreement (each part says which dynamics produced its numbers).

    (a) Same network, data, start, event, lr and run length; full-batch gradient (B = N: every step uses the
        whole training set, no mini-batch noise) plus isotropic injected Gaussian noise of temperature
        T_eff(B) for each B of the ladder (``sgd.train(noise_temperature=...)``, SGLD). The escape is checked
        every ceil(N/B) steps, the cadence of the plain-SGD run at that B (one epoch). If its Arrhenius
        barrier matches the landscape barrier, the landscape, the event and the fit are right and the
        excess comes from the structure of the mini-batch noise.
    (b) Plain SGD at one B of the ladder with lr and B halved twice (lr/B fixed, so T_eff fixed up to the
        (N-B)/(N-1) factor, which is recomputed): does the SDE-time escape time converge as lr -> 0?

    (d) Plain SGD with batches drawn with replacement (independent batches) on the same ladder: the
        shuffled-epoch sampling of row 4 makes the noise summed over one epoch vanish at fixed weights,
        which suppresses slow noise that the white-noise T_eff counts.

    (d) always runs (cheap: with early stopping it ends once every replica escaped); (a) and (b) only with
    ``s.diagnose``.
    """
    from .._core.units import sgd_temperature

    data, beta = P["data"], P["beta"]
    N, lr = s.n_train, s.lr
    cache = parts or PartStore()
    # size cap (the --full ladder would make the full-batch SGLD runs take hours): at most 4 batch sizes of the
    # ladder (evenly spaced), 64 replicas, 3000 SDE time; the default preset is exactly this size
    ladder = sorted(s.batches)
    if len(ladder) > 4:
        ladder = [ladder[int(round(i * (len(ladder) - 1) / 3))] for i in range(4)]
    row_size = (s.replicas, s.max_time)
    s = replace(s, batches=tuple(ladder), replicas=min(s.replicas, 64), max_time=min(s.max_time, 3000.0))
    out = {"size": {"batches": list(ladder), "replicas": s.replicas, "max_time": s.max_time}}
    heavy = s.diagnose
    # (a) SGLD at the same temperatures
    pts_a = []
    for k, B in enumerate(sorted(s.batches) if heavy else ()):
        T = sgd_temperature(lr, B, c_e, n_train=N)
        sd = child_seed(seed, 4, 100 + k)
        sim = cache.cached(100 + k, lambda T=T, sd=sd: reverse_escape_ensemble(
            data, theta0, width=s.width, beta=beta, lr=lr, batch=N, max_time=s.max_time, replicas=s.replicas,
            seed=sd, rule=rule, noise_temperature=T, record_every=-(-N // B), progress=progress))
        pts_a.append(_estimate_point(sim, batch_of_T=B, T_eff=T, inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T,
                                     seed=sd, lr=lr, batch=N))
    if heavy:
        out["a_sgld"] = {"dynamics": "sgld_full_batch",
                         "points": pts_a, "fit": _fit_summary(_arrhenius(pts_a), barrier)}
    # (b) lr -> 0 at fixed lr/B (plain SGD, shuffled epochs as in row 4)
    B0 = next((b for b in ladder[len(ladder) // 2:] if b % 4 == 0), None) or next((b for b in ladder if b % 4 == 0),
                                                                             None)
    pts_b = []
    if B0 is not None and heavy:
        # reuse the row's own ensemble at (lr, B0) when it has the diagnostics' size
        base = (next((p for p in main_points if p["batch"] == B0), None)
                if row_size == (s.replicas, s.max_time) else None)
        for j in range(3):
            lr_j, B_j = lr / 2 ** j, B0 // 2 ** j
            T = sgd_temperature(lr_j, B_j, c_e, n_train=N)
            if j == 0 and base is not None:
                pt = {k: base[k] for k in ("mean", "ci_low", "ci_high", "n_escaped", "n_censored", "n_diverged",
                                           "sgd_steps", "epochs", "seed", "lambda_median_before_escape")}
                pt["reused_from_row"] = True  # the row's own ensemble at (lr, B0): not run twice
            else:
                sd = child_seed(seed, 4, 200 + j)
                sim = cache.cached(200 + j, lambda lr_j=lr_j, B_j=B_j, sd=sd: reverse_escape_ensemble(
                    data, theta0, width=s.width, beta=beta, lr=lr_j, batch=B_j, max_time=s.max_time,
                    replicas=s.replicas, seed=sd, rule=rule, progress=progress))
                pt = _estimate_point(sim, seed=sd)
            pt.update(lr=lr_j, batch=B_j, T_eff=T, inv_T_eff=1.0 / T, epoch_sde_time=lr_j * -(-N // B_j))
            pts_b.append(pt)
    if heavy:
        out["b_lr_refinement"] = {"dynamics": "sgd_shuffled_lr_refinement", "points": pts_b}
    # (d) with replacement (independent batches), same ladder
    pts_d = []
    for k, B in enumerate(sorted(s.batches)):
        T = sgd_temperature(lr, B, c_e, n_train=N, replacement=True)
        sd = child_seed(seed, 4, 300 + k)
        sim = cache.cached(300 + k, lambda B=B, sd=sd: reverse_escape_ensemble(
            data, theta0, width=s.width, beta=beta, lr=lr, batch=B, max_time=s.max_time, replicas=s.replicas,
            seed=sd, rule=rule, replacement=True, progress=progress))
        pts_d.append(_estimate_point(sim, batch=B, T_eff=T, inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T,
                                     seed=sd, lr=lr))
    out["d_with_replacement"] = {"dynamics": "sgd_with_replacement",
                                 "points": pts_d, "fit": _fit_summary(_arrhenius(pts_d), barrier)}
    return out


def _reverse_setup(s: SGDReverseSettings, seed: int) -> dict:
    """Problem, stationary points, escape direction, measured noise and the escape rule of row 4."""
    from ..landscape.modes import mode_landscape
    from ..landscape.network import stationary_point
    from ..sgd import escape as sgd_escape
    from ..sgd import trainer as sgd
    from ..sgd.noise import gradient_noise, relevant_saddle

    P = sgd_problem(s, seed)
    data, net, beta, mode = P["data"], P["net"], P["beta"], P["mode"]
    eta = float(P["sv_emp"][mode])
    start_modes = ("learned", "learned")
    rel = relevant_saddle(s.depth, P["sv_emp"], beta, start_modes)
    if rel is None or rel[1] != mode or rel[2] != "reverse":
        raise InputError(f"row 4 expects a reverse escape of mode {mode}; relevant_saddle gave {rel}")
    start, saddle = stationary_point(net, start_modes), stationary_point(net, rel[0])
    e = saddle.unstable_direction
    X, Y = data.x_train, data.y_train
    gn_start = gradient_noise(start.theta, X, Y, s.depth, s.width, direction=e)
    gn_saddle = gradient_noise(saddle.theta, X, Y, s.depth, s.width, direction=e)
    ml = mode_landscape(s.depth, eta, beta)
    c_e = gn_start.direction_variance
    P.update(eta=eta, start_modes=start_modes, saddle_modes=rel[0], start=start, saddle=saddle, e=e, ml=ml,
             c_e=c_e, c_sad=gn_saddle.direction_variance, trace_start=gn_start.trace,
             path=_path_noise_barrier(net, start, saddle, e, X, Y, s.depth, s.width, eta, beta, c_e),
             curv_max=float(start.eigenvalues[-1]),
             # the one escape event of the package (escape_target: lambda_2 < lambda_sad / 2), read on the
             # empirical singular vectors that belong to the empirical eta of the landscape
             rule=sgd_escape.mode_amplitude_rule(s.depth, eta, beta, mode, "reverse", basis="empirical"))
    return P


def _reverse_points(s: SGDReverseSettings, P: dict, seed: int, cache: PartStore, progress) -> tuple[list, dict]:
    from .._core.units import sgd_temperature
    from ..theory.kramers import kramers_1d

    points, data_out = [], {"times": [], "escaped": [], "inv_temperature": []}
    barrier, lr = P["ml"].barrier_reverse, s.lr
    for k, B in enumerate(sorted(s.batches)):
        T_eff = sgd_temperature(lr, B, P["c_e"], n_train=s.n_train)
        sd = child_seed(seed, 4, 1 + k)
        sim = cache.cached(k, lambda B=B, sd=sd: reverse_escape_ensemble(
            P["data"], P["start"].theta, width=s.width, beta=P["beta"], lr=lr, batch=B, max_time=s.max_time,
            replicas=s.replicas, seed=sd, rule=P["rule"], progress=progress))
        kr = kramers_1d(s.depth, P["eta"], P["beta"], T_eff, "reverse")
        pt = _estimate_point(sim, dE_over_T=barrier / T_eff, prediction=kr.tau,
                             noise_model="sgd_without_replacement_single_batch",
                             barrier_over_T_eff=barrier / T_eff, lr=lr, batch=B, batch_over_lr=B / lr,
                             T_eff=T_eff, inv_T_eff=1.0 / T_eff, lr_times_max_curvature=lr * P["curv_max"],
                             n_replicas=s.replicas, seed=sd, kramers_1d_at_T_eff=kr.tau)
        pt["ratio_to_kramers_1d"] = (pt["mean"] / kr.tau) if pt["n_escaped"] else None
        points.append(pt)
        data_out["times"].append(np.asarray(sim["t_sde"], dtype=float).tolist())
        data_out["escaped"].append(np.asarray(sim["observed"], dtype=bool).tolist())
        data_out["inv_temperature"].append(1.0 / T_eff)
    return points, data_out


def _barrier_verdict(fit, barrier: float, barrier_c: float) -> tuple[Verdict, dict, dict | None]:
    """Verdict of the fitted Arrhenius barrier against the landscape barrier (and the noise-weighted one)."""
    if fit is None:
        return Verdict.NO_DATA, {"quantity": "fitted_barrier", "value": None, "ci_low": None, "ci_high": None,
                                 "unit": "loss"}, None
    lo, hi = fit.slope_ci
    half = 0.5 * (hi - lo)
    corr = {"value": barrier_c, "ratio": fit.slope / barrier_c, "within": bool(lo <= barrier_c <= hi),
            "half_widths": abs(barrier_c - fit.slope) / half if half > 0 else None}
    inside = lo <= barrier <= hi
    # an interval that also holds a zero barrier cannot confirm one: inconclusive instead of "agrees"
    verdict = (Verdict.INCONCLUSIVE if lo <= 0 else Verdict.AGREES) if inside else Verdict.DISAGREES
    meas = {"quantity": "fitted_barrier", "value": fit.slope, "ci_low": lo, "ci_high": hi, "unit": "loss",
            "fit": fit.to_dict(), "half_widths": abs(barrier - fit.slope) / half if half > 0 else None,
            "landscape_inside": bool(inside)}
    return verdict, meas, corr


def _noise_along_path(path: dict, depth: int, c_e: float) -> dict:
    lam_path = np.asarray(path["a"]) ** depth
    c_path = np.asarray(path["c"])
    picks = np.unique(np.round(np.linspace(len(c_path) - 1, 0, 5)).astype(int))[::-1]
    return {"lambda": lam_path[picks].tolist(), "c_e": c_path[picks].tolist(),
            "c_e_over_start": (c_path[picks] / c_e).tolist()}


def run_sgd_reverse(s: SGDReverseSettings, seed: int, progress=False, parts: PartStore | None = None) -> RowResult:
    """Row 4 (see the module docstring)."""
    from ..theory.kramers import kramers_1d

    t0 = time.perf_counter()
    cache = parts or PartStore()
    P = _reverse_setup(s, seed)
    barrier = P["ml"].barrier_reverse
    points, data_out = _reverse_points(s, P, seed, cache, progress)
    seeds = [p["seed"] for p in points]
    n_total, steps = s.replicas * len(points), sum(p["sgd_steps"] for p in points)
    fit = _arrhenius(points)
    diag = {"c_noise_along_path": _noise_along_path(P["path"], s.depth, P["c_e"])}
    diag.update(reverse_diagnostics(s, P, P["rule"], P["start"].theta, P["c_e"], barrier, points, seed, cache,
                                    progress))
    for part in ("a_sgld", "b_lr_refinement", "d_with_replacement"):
        for q in diag.get(part, {}).get("points", ()):
            if not q.get("reused_from_row"):
                n_total += diag["size"]["replicas"]
                steps += q["sgd_steps"]
                seeds.append(q["seed"])
    kr_ref = kramers_1d(s.depth, P["eta"], P["beta"], 1.0, "reverse")
    barrier_c = P["path"]["barrier_noise_weighted"]
    verdict, meas, corr = _barrier_verdict(fit, barrier, barrier_c)
    meas["diagnostics"] = diag
    return RowResult(
        id=ROW_IDS[4], row=4, dynamics="sgd_shuffled",
        parameters={"depth": s.depth, "width": s.width, "sv_population": list(s.sv), "n_params": P["net"].n_params,
                    "sv_empirical": P["sv_emp"].tolist(), "n_train": s.n_train, "data_seed": P["data_seed"],
                    "whitened": True, "beta": P["beta"], "beta_star": P["beta_star"], "beta_c": P["beta_c"],
                    "lr": s.lr, "batches": sorted(s.batches), "start_modes": list(P["start_modes"]),
                    "saddle_modes": list(P["saddle_modes"]), "c_e_start": P["c_e"], "c_e_saddle": P["c_sad"],
                    "trace_start": P["trace_start"], "max_time": s.max_time, "diagnose": s.diagnose,
                    "lambda_target": P["rule"].details["lambda_target"], "lambda_min": P["ml"].lambda_min,
                    "max_hessian_eigenvalue": P["curv_max"], "kramers_1d_log_prefactor": math.log(kr_ref.prefactor),
                    "path_noise": P["path"]},
        prediction={"method": "landscape_barrier_reverse", "value": barrier, "unit": "loss", "available": True,
                    "noise_weighted": corr if corr is not None else {"value": barrier_c}},
        measurement=meas, ratio=None if fit is None else fit.slope / barrier, verdict=verdict, points=points,
        seeds=seeds, n_seeds=n_total, steps=int(steps), wall_seconds=time.perf_counter() - t0, data=data_out,
    )


def _trap_noise(s: SGDReverseSettings, t: SGDTrapSettings, P: dict, start, e) -> dict:
    """Escape-direction noise at the exact trap and the structural check behind "exactly zero"."""
    from ..sgd.noise import gradient_noise, per_sample_grads

    data = P["data"]
    gn = gradient_noise(start.theta, data.x_train, data.y_train, s.depth, s.width, direction=e, lr=t.lr,
                        batch=t.batch)
    # on the coordinates the escape direction really moves (|e_i| above the ~1e-16 leakage of a numerical
    # eigenvector) every per-sample gradient is exactly 0.0
    support = np.abs(e) > 1e-8 * np.abs(e).max()
    g = per_sample_grads(start.theta, data.x_train, data.y_train, s.depth, s.width)
    return {"gn": gn, "support_size": int(support.sum()), "grad_on_support": float(np.abs(g[:, support]).max()),
            "leak": float(np.linalg.norm(e[~support]))}


def run_sgd_trap(s: SGDReverseSettings, t: SGDTrapSettings, seed: int, progress=False) -> RowResult:
    """Row 5 (see the module docstring)."""
    from ..landscape.modes import mode_landscape
    from ..landscape.network import stationary_point
    from ..sgd import escape as sgd_escape
    from ..sgd import trainer as sgd
    from ..theory.kramers import exact_mfpt_1d
    from ..theory.stats import exponential_mle

    t0 = time.perf_counter()
    P = sgd_problem(s, seed)
    data, net, beta, mode = P["data"], P["net"], P["beta"], P["mode"]
    eta = float(P["sv_emp"][mode])
    start_modes, saddle_modes = ("learned", "trivial"), ("learned", "saddle")
    start, saddle = stationary_point(net, start_modes), stationary_point(net, saddle_modes)
    nz = _trap_noise(s, t, P, start, saddle.unstable_direction)
    gn = nz["gn"]
    ml = mode_landscape(s.depth, eta, beta)
    sd = child_seed(seed, 5, 0)
    ws = sgd.unpack(np.repeat(start.theta[None, :], t.replicas, axis=0), s.depth, s.width, data.dim)
    res = sgd.train(ws, data, beta=beta, lr=t.lr, batch=t.batch, epochs=t.epochs, seed=sd,
                    record_every=max(1, t.epochs // 200), progress=bool(progress))
    # the package's one escape level (escape_target), on the empirical singular vectors of the empirical eta
    esc = sgd_escape.escape_by_mode_amplitude(res, mode, "forward", sv=eta, basis="empirical")
    ep, obs = esc.times()
    steps_per_epoch = -(-s.n_train // t.batch)
    t_sde = np.asarray(ep, float) * steps_per_epoch * t.lr  # lr x steps, ceil(N/B) steps per epoch
    est = exponential_mle(t_sde, obs, confidence=CONFIDENCE)
    final_lam = np.abs(res.mode_sv_empirical[-1, :, mode])
    final_sigma2 = res.svals[-1, :, mode]  # second singular value of W: exactly rank 1 stays 0
    ref_iso = exact_mfpt_1d(s.depth, eta, beta, gn.temperature_iso, "forward") if gn.temperature_iso else None
    n_steps = int(res.epochs_run * steps_per_epoch * t.replicas)
    escaped = est.n_events
    absorbing = bool(gn.escape_noise_zero)
    verdict = (Verdict.AGREES if escaped == 0 else Verdict.DISAGREES) if absorbing else Verdict.DISAGREES
    return RowResult(
        id=ROW_IDS[5], row=5, dynamics="sgd_shuffled",
        parameters={"depth": s.depth, "width": s.width, "sv_empirical": P["sv_emp"].tolist(), "beta": beta,
                    "lr": t.lr, "batch": t.batch, "epochs": t.epochs, "n_train": s.n_train,
                    "data_seed": P["data_seed"], "start_modes": list(start_modes),
                    "saddle_modes": list(saddle_modes), "barrier_forward": ml.barrier_forward,
                    "lambda_target": esc.details["lambda_target"]},
        prediction={"method": "absorbing", "status": Status.ABSORBING if absorbing else Status.OK, "value": 0,
                    "unit": "escapes", "available": True, "noise": gn.to_dict()},
        measurement={"quantity": "escaped_replicas", "value": escaped, "of": t.replicas, "ci_low": est.ci_low,
                     "ci_high": est.ci_high, "unit": "escapes", "tau_lower_bound_sde": est.ci_low,
                     "final_abs_lambda2_max": float(final_lam.max())},
        ratio=None, verdict=verdict,
        points=[{"dE_over_T": None, "prediction": 0, "measured": escaped, "ci_low": est.ci_low,
                 "ci_high": est.ci_high, "noise_model": "sgd_data_noise",
                 "c_e": gn.direction_variance, "exactly_zero": gn.exactly_zero,
                 "support_size": nz["support_size"], "max_abs_grad_on_support": nz["grad_on_support"],
                 "eigenvector_leak_norm": nz["leak"], "final_sigma2_max": float(np.nanmax(final_sigma2)),
                 "escape_noise_zero": gn.escape_noise_zero, "trace": gn.trace,
                 "noise_direction_support": gn.direction_support, "noise_direction_leak": gn.direction_leak,
                 "T_iso": gn.temperature_iso, "T_direction": gn.temperature_direction, "n_escaped": escaped,
                 "n_replicas": t.replicas, "epochs": res.epochs_run, "seed": sd,
                 "reference_iso_exact_1d": ref_iso.tau if ref_iso else None,
                 "reference_iso_log_tau": ref_iso.log_tau if ref_iso else None}],
        seeds=[sd], n_seeds=t.replicas, steps=n_steps, wall_seconds=time.perf_counter() - t0,
        data={"times": [t_sde.tolist()], "escaped": [obs.tolist()]},
    )
