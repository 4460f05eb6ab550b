"""Row 5 and the problem shared with row 4: the paper's network under plain mini-batch SGD (data noise only).

Row 4 (the reverse transition per batch protocol) is :mod:`langevin_grok.validation.row_sgd_reverse`.

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

import time

import numpy as np

from .._core.checks import InputError
from .._core.errors import Status, Verdict
from .._core.seeds import child_seed
from .config import ROW_IDS, SGDReverseSettings, SGDTrapSettings
from .results import CONFIDENCE, RowResult

__all__ = ["run_sgd_trap", "sgd_problem"]


def sgd_problem(s: SGDReverseSettings, seed: int, fraction: float = 0.5) -> dict:
    """Data set, beta (``fraction`` of the way from beta* to beta_c; row 5 uses the midpoint) and network of
    rows 4 and 5 (one data set for every fraction)."""
    from ..sgd.reverse import reverse_problem

    return reverse_problem(s.sv, s.n_train, s.n_test, s.depth, s.width, data_seed=child_seed(seed, 4, 0),
                           fraction=fraction)


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


def _reverse_setup(s: SGDReverseSettings, seed: int, fraction: float = 0.5) -> dict:
    """Problem, stationary points, escape direction, measured noise and the escape rule of row 4 at one beta."""
    from ..landscape.modes import mode_landscape
    from ..landscape.stationary import stationary_point
    from ..sgd import escape as sgd_escape
    from ..sgd.noise import gradient_noise, relevant_saddle

    P = sgd_problem(s, seed, fraction)
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
    from ..landscape.stationary import stationary_point
    from ..sgd import escape as sgd_escape
    from ..sgd import trainer as sgd
    from ..theory.quadrature import exact_mfpt_1d
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
