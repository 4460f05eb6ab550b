"""``langevin-grok simulate``: an ensemble of overdamped Langevin escapes and its mean escape time."""

from __future__ import annotations

import math
import sys

import numpy as np

from .._core.checks import InputError, check_choice, check_int
from ._common import add_escape_mode_arguments, finite_float, format_table, print_json

MODELS = ("arc", "chain", "network")
METHODS = ("ensemble", "ams")


def register(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate Langevin escapes of one mode and estimate the mean escape time",
        description=(
            "Euler-Maruyama ensemble of dX = -grad U dt + sqrt(2T) dW (SDE time units, t = lr x SGD steps) "
            "for one mode: the 1-D arc length (--model arc), the scalar chain w = p = 1 in its L-dimensional "
            "weight space (--model chain), or the deep linear network of --width hidden units and p = number of "
            "--sv values in its full weight space (--model network; start --start, default every mode trivial "
            "except learned-only ones, the first trivial mode escapes; event: that mode's singular value of the "
            "end-to-end map, a rank change). Each path starts at one minimum and stops when lambda crosses the "
            "midpoint between lambda_saddle and the other minimum's lambda (forward: (lambda_sad + "
            "lambda_min)/2 from lambda = 0; reverse: lambda_sad/2 from lambda_min), or is censored at the cap. "
            "Mean escape time: exponential MLE with right censoring and its confidence interval."
        ),
    )
    p.add_argument("--model", default="arc",
                   help="arc (1-D reduced coordinate, default), chain (scalar chain) or network (--width)")
    add_escape_mode_arguments(p, several_sv=True)
    p.add_argument("--width", "-w", type=finite_float, default=None,
                   help="hidden width W (integer >= 1; units) of --model network")
    p.add_argument("--start", default=None,
                   help="--model network: start state, comma-separated trivial/learned per mode (e.g. learned,trivial "
                        "for the paper's rank-1 trap)")
    p.add_argument("--temperature", "-T", type=finite_float, default=None,
                   help="noise temperature T > 0 (loss units); or give --lr, --batch and --noise")
    p.add_argument("--lr", type=finite_float, default=None,
                   help="SGD learning rate (> 0; SDE time per SGD step) for T = lr c / (2B)")
    p.add_argument("--batch", type=finite_float, default=None, help="SGD batch size B (integer >= 1; samples)")
    p.add_argument("--noise", type=finite_float, default=None,
                   help="per-sample gradient variance c along the escape direction (>= 0; squared loss units)")
    p.add_argument("--n-train", type=finite_float, default=None,
                   help="training-set size N (samples): applies the without-replacement factor (N-B)/(N-1) to T")
    p.add_argument("--paths", type=finite_float, default=None,
                   help="number of independent paths (integer >= 1; default 1000); with --method ams the "
                        "replicas per AMS run (integer >= 2; default 100)")
    p.add_argument("--method", default="ensemble",
                   help="ensemble (brute-force paths, default) or ams (adaptive multilevel splitting for high "
                        "barriers: p = P(escape before return | left the well) and tau from the loop decomposition)")
    p.add_argument("--runs", type=finite_float, default=20,
                   help="independent AMS runs for the error bar (integer >= 2; default 20; --method ams only)")
    p.add_argument("--dt", type=finite_float, default=0.005, help="Euler-Maruyama time step (> 0; SDE time units)")
    p.add_argument("--seed", type=finite_float, default=None,
                   help="integer seed >= 0 of the per-path random streams (default: fresh entropy, reported)")
    p.add_argument("--direction", default="forward",
                   help="forward (trivial -> learned, default) or reverse (learned -> trivial)")
    p.add_argument("--max-time", type=finite_float, default=None,
                   help="censoring time per path (> 0; SDE time units); default 1e6 steps x dt")
    p.add_argument("--max-steps", type=finite_float, default=1_000_000,
                   help="step cap per path (integer >= 1; default 1e6)")
    p.add_argument("--no-bridge", action="store_true",
                   help="naive stopping on the time grid (no Brownian-bridge crossing correction)")
    p.add_argument("--confidence", type=finite_float, default=0.95,
                   help="two-sided coverage of the confidence interval (in (0, 1); default 0.95)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar or compile notice (default: shown when stderr is a terminal)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def compute(model="arc", depth=3, sv=0.8, beta=0.3, temperature=None, *, lr=None, batch=None, noise=None,
            n_train=None, paths=None, dt=0.005, seed=None, direction="forward", max_time=None,
            max_steps=1_000_000, bridge=True, confidence=0.95, progress=None, method="ensemble",
            runs=20, width=None, start=None) -> dict:
    """Run the command's simulation and return the JSON contract as a dict."""
    from ..langevin.engine import resolve_temperature, simulate_ensemble
    from ..langevin.events import escape_setup
    from ..langevin.models import arc_model, chain_model
    from ..theory.stats import exponential_mle

    from .._core.checks import check_count, check_magnitude, check_memory

    model = check_choice("model", model, MODELS)
    method = check_choice("method", method, METHODS)
    # sizes and scales before any allocation or kernel call (extreme but legal values must not reach numba)
    paths = None if paths is None else check_count("paths", paths, maximum=10**8)
    max_steps = check_count("max_steps", max_steps, maximum=10**12)
    dt = check_magnitude("dt", dt)
    max_time = None if max_time is None else check_magnitude("max_time", max_time)
    if temperature is not None:
        temperature = check_magnitude("temperature", temperature)
    if not (isinstance(confidence, (int, float)) and 1e-6 <= float(confidence) <= 1 - 1e-6):
        raise InputError(f"confidence must be in [1e-06, 0.999999], got {confidence!r}")
    width = None if width is None else check_count("width", width, maximum=10**5)
    if paths is not None:
        check_memory("paths", 8.0 * paths * (width or 1) ** 2 * 4, "per-path states and results")
    direction = check_choice("direction", direction, ("forward", "reverse"))
    batch = None if batch is None else check_int("batch", batch, minimum=1)
    n_train = None if n_train is None else check_int("n_train", n_train, minimum=1)
    seed = None if seed is None else check_int("seed", seed, minimum=0)
    T = resolve_temperature(temperature, lr=lr, batch=batch, noise=noise, n_train=n_train)
    extra = {}
    if model == "network":
        m, setup, extra = _network_setup(depth, width, sv, beta, start, direction)
    else:
        if width is not None or start is not None:
            raise InputError(f"--width and --start apply to --model network only, got --model {model}")
        sv = _one_sv(sv)
        m = (arc_model if model == "arc" else chain_model)(depth, sv, beta)
        setup = escape_setup(m, direction)
    if method == "ams":
        return _compute_ams(m, setup, T, paths, runs, dt, seed, max_time, max_steps, bridge, confidence, lr)
    paths = 1000 if paths is None else paths
    warnings = _check_step(m, setup.target, T, dt)
    if max_time is None and model != "network":
        # default cap from the prediction (30 x the exact 1-D MFPT; the chain's is within a few x of it), so that a
        # run is neither cut short nor left to run for ever; max_steps still bounds it
        from ..theory.quadrature import exact_mfpt_1d

        tau = exact_mfpt_1d(m.depth, m.sv, m.beta, T, direction).tau
        max_time = min(30.0 * tau, max_steps * dt) if math.isfinite(tau) else None
    res = simulate_ensemble(m, T, paths, dt, setup.x0, setup.events, max_steps=max_steps, max_time=max_time,
                            seed=seed, bridge=bridge, progress=progress)
    if res.n_paths - res.n_escaped > CENSORED_WARNING * res.n_paths:
        warnings.append("censored")
    est = exponential_mle(res.times, res.escaped, confidence=confidence)
    tgt = setup.target
    out = {
        "model": model,
        "depth": tgt.depth,
        "sv": tgt.sv,
        "beta": tgt.beta,
        "direction": direction,
        "temperature": T,
        "barrier": tgt.barrier,
        "barrier_over_t": tgt.barrier / T,
        "lambda_start": tgt.lambda_start,
        "lambda_target": tgt.lambda_target,
        "mean_escape_time": est.mean,
        "ci_low": est.ci_low,
        "ci_high": est.ci_high,
        "confidence": est.confidence,
        "n_paths": res.n_paths,
        "n_escaped": res.n_escaped,
        "n_censored": res.n_paths - res.n_escaped,
        "censor_time": res.cap_time,
        "path_steps": res.path_steps,
        "wall_seconds": res.wall_seconds,
        "path_steps_per_second": res.path_steps / res.wall_seconds if res.wall_seconds > 0 else None,
        "dt": res.dt,
        "bridge": res.bridge,
        "seed": res.seed,
        "time_unit": "sde",
        "method": "ensemble",
        "warnings": warnings,
        **extra,
    }
    if lr is not None:
        out["mean_escape_steps"] = est.mean / lr
        out["lr"] = lr
    return out


CENSORED_WARNING = 0.2  # warn when more than this fraction of the paths is censored at the cap
STEP_LIMITS = (0.1, 1.0)  # dt x the stiffest curvature: warn above the first, refuse above the second


def _check_step(m, tgt, T: float, dt: float) -> list:
    """dt against the stiffest curvature of the escape path and the barrier's resolution (warning codes)."""
    k = max(abs(tgt.curvature_start), abs(tgt.curvature_saddle))
    if m.kind == "network":
        k = max(k, float(np.max(np.abs(m.extra["net"].hessian(np.zeros(m.dim)).diagonal()))), m.beta)
    if dt * k > STEP_LIMITS[1]:
        raise InputError(f"dt must resolve the curvature: dt x max|U''| = {dt * k:.3g} > {STEP_LIMITS[1]:g}, "
                         f"got dt = {dt!r} (use dt < {STEP_LIMITS[1] / k:.3g})")
    out = []
    if dt * k > STEP_LIMITS[0]:
        out.append("dt_coarse_for_curvature")
    # one step's noise, sqrt(2 T dt), must be small against the distance from start to the escape level
    dist = abs(tgt.r_target - tgt.r_start)
    if math.sqrt(2.0 * T * dt) > 0.1 * dist:
        out.append("dt_coarse_for_barrier")
    return out


def _one_sv(sv):
    if isinstance(sv, (list, tuple)):
        if len(sv) != 1:
            raise InputError(f"--sv takes one value without --model network, got {len(sv)}: {list(sv)}")
        return sv[0]
    return sv


def _network_setup(depth, width, sv, beta, start, direction):
    """Model and escape setup of ``--model network`` (start state and escaping mode as ``kramers --width``)."""
    from .._core.checks import check_depth, check_sv
    from ..landscape.network import DeepLinearNetwork
    from ..langevin.events import network_escape_setup
    from ..langevin.models import network_model
    from ..theory.network_prediction import default_start

    if width is None:
        raise InputError("--model network needs --width")
    if direction != "forward":
        raise InputError(f"--model network simulates forward escapes from --start, got --direction {direction}")
    L = check_depth(depth, minimum=3)
    w = check_int("width", width, minimum=1)
    etas = check_sv(list(sv) if isinstance(sv, (list, tuple)) else [sv])
    if np.any(np.diff(etas) >= 0):
        raise InputError(f"sv must be distinct and in descending order for --model network, got {etas.tolist()}")
    modes = list(default_start(L, etas, beta)) if start is None else [x.strip() for x in str(start).split(",")]
    if len(modes) != etas.size or any(x not in ("trivial", "learned") for x in modes):
        raise InputError(f"start must list trivial/learned for each of the {etas.size} modes, got {start!r}")
    if "trivial" not in modes:
        raise InputError(f"start must have a trivial mode to escape, got {start!r}")
    if w < sum(x == "learned" for x in modes) + 1:
        raise InputError(f"width = {w} cannot hold the learned modes of start {modes} plus the escaping one")
    e = modes.index("trivial")
    net = DeepLinearNetwork.from_singular_values(L, w, etas.size, etas.tolist(), beta)
    setup = network_escape_setup(net, modes, e, "forward", event="sv")
    return network_model(net), setup, {"width": w, "dim": int(etas.size), "start_modes": modes, "escaping_mode": e,
                                       "escape_event": "singular_value", "n_params": net.n_params}


def _compute_ams(m, setup, T, paths, runs, dt, seed, max_time, max_steps, bridge, confidence, lr) -> dict:
    """``--method ams``: :func:`langevin_grok.langevin.ams.simulate_ams` on the default escape problem."""
    from ..langevin.ams import simulate_ams

    if max_time is not None:
        raise InputError("max_time does not apply to --method ams (use --max-steps per piece of path)")
    res = simulate_ams(m, T, n_replicas=100 if paths is None else check_int("paths", paths, minimum=2),
                       n_runs=check_int("runs", runs, minimum=2), dt=dt, seed=seed, x0=setup.x0,
                       events=setup.events, max_steps=max_steps, bridge=bridge, confidence=confidence)
    tgt = setup.target
    out = {
        "model": m.kind, "depth": tgt.depth, "sv": tgt.sv, "beta": tgt.beta, "direction": setup.direction,
        "temperature": T, "barrier": tgt.barrier, "barrier_over_t": tgt.barrier / T,
        "lambda_start": tgt.lambda_start, "lambda_target": tgt.lambda_target, "method": "ams",
        "mean_escape_time": res.mean_escape_time, "ci_low": res.ci_low, "ci_high": res.ci_high,
        "confidence": res.confidence, "probability": res.probability, "probability_se": res.probability_se,
        "levels": res.levels, "level_a": res.level_a, "level_sigma": res.level_sigma, "t_entry": res.t_entry,
        "t_loop": res.t_loop, "t_reactive": res.t_reactive, "n_paths": res.n_replicas, "n_runs": res.n_runs,
        "n_censored": res.n_censored, "path_steps": res.path_steps, "wall_seconds": res.wall_seconds,
        "dt": res.dt, "bridge": res.bridge, "seed": res.seed, "status": res.status, "reason": res.reason,
        "time_unit": "sde",
    }
    if lr is not None:
        out["mean_escape_steps"] = res.mean_escape_time / lr
        out["lr"] = lr
    return out


def run(args) -> int:
    if args.paths is not None and not float(args.paths).is_integer():
        raise InputError(f"paths must be an integer >= 1, got {args.paths!r}")
    out = compute(
        args.model, args.depth, args.sv, args.beta, args.temperature, lr=args.lr, batch=args.batch,
        noise=args.noise, n_train=args.n_train, paths=args.paths, dt=args.dt, seed=args.seed,
        direction=args.direction, max_time=args.max_time, max_steps=args.max_steps, bridge=not args.no_bridge,
        confidence=args.confidence, progress=False if args.no_progress else None, method=args.method, runs=args.runs, width=args.width,
        start=args.start,
    )
    if args.json:
        print_json(out)
        return 0
    keys = ("model", "depth", "sv", "beta", "direction", "temperature", "barrier_over_t", "mean_escape_time",
            "ci_low", "ci_high", "n_paths", "n_escaped", "path_steps", "wall_seconds")
    if out["method"] == "ams":
        keys = keys[:10] + ("probability", "levels", "n_paths", "n_runs", "path_steps", "wall_seconds", "status")
    print(format_table(["quantity", "value"], [[k, out[k]] for k in keys + ("dt", "censor_time")
                                                   if k in out]))
    for code in out.get("warnings", ()):
        print(f"warning: {_WARNINGS[code]}", file=sys.stderr)
    return 0


_WARNINGS = {
    "dt_coarse_for_curvature": f"dt x max|U''| > {STEP_LIMITS[0]:g}: the time step is coarse for the well; "
                               "check convergence with a smaller --dt",
    "dt_coarse_for_barrier": "one step's noise sqrt(2 T dt) exceeds a tenth of the distance to the escape level: "
                             "the crossing is poorly resolved; use a smaller --dt",
    "censored": f"more than {CENSORED_WARNING:.0%} of the paths reached the cap (--max-time) without escaping: the "
                "mean is dominated by censoring; raise --max-time",
}
