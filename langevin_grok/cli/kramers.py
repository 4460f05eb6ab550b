"""``langevin-grok kramers``: predicted mean escape times of one mode (1-D Kramers, exact 1-D MFPT,
weight-space Eyring-Kramers of the scalar chain)."""

from __future__ import annotations

import math

from .._core.checks import InputError, check_choice
from ..landscape.escape import DIRECTIONS, escape_target
from ..theory.kramers import eyring_kramers_chain, kramers_1d
from ..theory.quadrature import exact_mfpt_1d
from ._common import add_escape_mode_arguments, finite_float, format_table, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "kramers",
        help="predicted mean escape times: 1-D Kramers, exact 1-D MFPT, Eyring-Kramers",
        description=(
            "Mean escape time of one mode over its barrier in SDE time units (t = lr x SGD steps), for "
            "overdamped Langevin dynamics at temperature T: 1-D Kramers along the balanced arc length, "
            "the exact 1-D mean first-passage time by quadrature, and weight-space Eyring-Kramers for "
            "the scalar chain (width = dim = 1) of the same depth. Escape event: lambda crosses the "
            "midpoint between lambda_saddle and the target minimum's lambda (forward: (lambda_sad + "
            "lambda_min)/2 from lambda = 0; reverse: lambda_sad/2 from lambda_min)."
        ),
    )
    add_escape_mode_arguments(p, several_sv=True)
    p.add_argument("--temperature", "-T", type=finite_float, required=True,
                   help="noise temperature T > 0 (loss units; T = lr c / (2B) for SGD)")
    p.add_argument("--direction", default="forward",
                   help="forward (trivial -> learned, default) or reverse (learned -> trivial)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    # --width: the deep linear network of that hidden width (hidden-layer orbit theory, langevin_grok.theory.orbits)
    p.add_argument("--width", "-w", type=int, default=None,
                   help="hidden width W (integer >= 1): predict for the L-layer network of that width (orbit "
                        "Eyring-Kramers and entropic MFPT, docs/theory.md section 1) instead of one mode")
    p.add_argument("--start", default=None,
                   help="with --width: start state, comma-separated trivial/learned per mode (default: every mode "
                        "trivial except learned-only ones); the first trivial mode escapes")
    p.set_defaults(func=run)


def _scales(beta, temperature) -> None:
    """beta and T within the range where the float64 numerics hold (refuse subnormal / astronomic values)."""
    from .._core.checks import check_magnitude

    check_magnitude("beta", beta)
    check_magnitude("temperature", temperature)


def compute(depth, sv, beta, temperature, direction="forward") -> dict:
    """All numbers of the command as one dict (the JSON contract)."""
    _scales(beta, temperature)
    direction = check_choice("direction", direction, DIRECTIONS)
    tgt = escape_target(depth, sv, beta, direction)
    k = kramers_1d(depth, sv, beta, temperature, direction)
    ex = exact_mfpt_1d(depth, sv, beta, temperature, direction)
    ek = eyring_kramers_chain(depth, sv, beta, temperature, direction)
    return {
        "depth": tgt.depth,
        "sv": tgt.sv,
        "beta": tgt.beta,
        "temperature": k.temperature,
        "direction": direction,
        "barrier": tgt.barrier,
        "barrier_over_t": k.barrier_over_t,
        "kramers_1d": k.tau,
        "exact_mfpt_1d": ex.tau,
        "eyring_kramers": ek.tau,
        "n_saddles": ek.n_saddles,
        "log_kramers_1d": k.log_tau,
        "log_exact_mfpt_1d": ex.log_tau,
        "log_eyring_kramers": ek.log_tau,
        "ratio_kramers_1d_to_exact": math.exp(k.log_tau - ex.log_tau),
        "ratio_eyring_kramers_to_kramers_1d": math.exp(ek.log_tau - k.log_tau),
        "ratio_eyring_kramers_to_exact": math.exp(ek.log_tau - ex.log_tau),
        "kramers_1d_prefactor": k.prefactor,
        "eyring_kramers_prefactor": ek.prefactor,
        "arc_routes": tgt.arc_routes,
        "mu_1": ek.mu_1,
        "exact_rel_error": ex.rel_error,
        "lambda_start": tgt.lambda_start,
        "lambda_saddle": tgt.lambda_saddle,
        "lambda_target": tgt.lambda_target,
        "r_start": tgt.r_start,
        "r_saddle": tgt.r_saddle,
        "r_target": tgt.r_target,
    }


def compute_width(depth, width, sv, beta, temperature, start=None) -> dict:
    """The ``--width`` numbers as one dict (:func:`langevin_grok.theory.network_prediction.network_escape_prediction`)."""
    from .._core.checks import check_count, check_memory
    from ..theory.network_prediction import network_escape_prediction

    _scales(beta, temperature)
    w = check_count("width", width, maximum=10**5)
    p = len(sv) if isinstance(sv, (list, tuple)) else 1
    D = 2 * w * p + max(int(depth) - 2, 0) * w * w if isinstance(depth, (int, float)) and depth < 1e4 else float("inf")
    check_memory("width", 8.0 * D * D * 6, "the weight-space Hessians")
    if isinstance(start, str):
        start = [s.strip() for s in start.split(",")]
    return network_escape_prediction(depth, width, sv, beta, temperature, start=start).to_dict()


def _run_width(args) -> int:
    if args.direction != "forward":
        raise InputError(f"--direction must be forward with --width, got {args.direction!r}")
    out = compute_width(args.depth, args.width, args.sv, args.beta, args.temperature, args.start)
    if args.json:
        print_json(out)
        return 0
    print(f"depth L = {out['depth']}, width w = {out['width']}, beta = {out['beta']:g}, T = {out['temperature']:g}; "
          f"start {','.join(out['start_modes'])} -> saddle {','.join(out['saddle_modes'])} (mode {out['escaping_mode']})")
    print(f"barrier dE = {out['barrier']:.6g} (dE/T = {out['barrier_over_t']:.4g}); zero modes {out['zero_modes_start']} "
          f"-> {out['zero_modes_saddle']}; ln(Vol_s/Vol_m) = {out['log_orbit_volume_ratio']:.4g}; free-energy barrier "
          f"{out['free_energy_barrier']:.4g}; crossover T (F = 3T) = {out['crossover_temperature']}")
    rows = [["eyring_kramers (orbit)", out["eyring_kramers"], out["eyring_kramers_status"], out["eyring_kramers_reason"]],
            ["entropic_mfpt", out["entropic_mfpt"], out["entropic_mfpt_status"], out["entropic_mfpt_reason"]],
            [f"prediction ({out['prediction_method']})", out["prediction"], "", ""]]
    print(format_table(["estimate", "tau (SDE time)", "status", "reason"], rows))
    return 0


def run(args) -> int:
    if getattr(args, "width", None) is not None:
        return _run_width(args)
    if args.start is not None:
        raise InputError("--start needs --width")
    if len(args.sv) != 1:
        raise InputError(f"--sv takes one value without --width, got {len(args.sv)}: {args.sv}")
    args.sv = args.sv[0]
    out = compute(args.depth, args.sv, args.beta, args.temperature, args.direction)
    if args.json:
        print_json(out)
        return 0
    print(f"depth L = {out['depth']}, sv = {out['sv']:g}, beta = {out['beta']:g}, T = {out['temperature']:g}, "
          f"{out['direction']} escape")
    print(f"barrier dE = {out['barrier']:.6g} (dE/T = {out['barrier_over_t']:.4g}); event lambda: "
          f"{out['lambda_start']:.6g} -> {out['lambda_target']:.6g} (saddle {out['lambda_saddle']:.6g}), "
          f"arc r: {out['r_start']:.6g} -> {out['r_target']:.6g}")
    rows = [
        ["kramers_1d", out["kramers_1d"], out["log_kramers_1d"], out["ratio_kramers_1d_to_exact"]],
        ["exact_mfpt_1d", out["exact_mfpt_1d"], out["log_exact_mfpt_1d"], 1.0],
        [f"eyring_kramers (chain, n_saddles = {out['n_saddles']})", out["eyring_kramers"],
         out["log_eyring_kramers"], out["ratio_eyring_kramers_to_exact"]],
    ]
    print(format_table(["estimate", "tau (SDE time)", "ln tau", "ratio to exact_mfpt_1d"], rows))
    return 0
