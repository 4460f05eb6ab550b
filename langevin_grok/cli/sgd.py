"""``langevin-grok sgd``: an ensemble of mini-batch SGD runs, escape epochs and the measured noise."""

from __future__ import annotations

import os

import numpy as np

from ._common import check_output_dir, finite_float, format_table, print_json



def _range_text(spec: dict) -> str:
    lo, hi = spec.get("min"), spec.get("max")
    kind = {"int": "integer", "float": "number", "floats": "each a number"}.get(spec["type"], "")
    parts = []
    if lo is not None:
        parts.append(f"{'>' if spec.get('min_exclusive') else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if spec.get('max_exclusive') else '<='} {hi:g}")
    return f" [{kind} {' and '.join(parts)}]" if parts else (f" [{kind}]" if kind else "")


def add_protocol_options(p) -> None:
    """One option per entry of :data:`langevin_grok.sgd.protocol.PROTOCOL_PARAMS` (the single source)."""
    from ..sgd.protocol import PROTOCOL_PARAMS

    for name, spec in PROTOCOL_PARAMS.items():
        flag = "--" + name.replace("_", "-")
        required = "default" not in spec
        default = spec.get("default")
        tail = "" if required or default is None else f" (default {default})"
        help_ = spec["help"] + _range_text(spec) + tail
        if spec["type"] == "bool":
            if default:
                p.add_argument("--no-" + name.replace("_", "-"), dest=name, action="store_false",
                               help=f"turn off: {help_}")
            else:
                p.add_argument(flag, dest=name, action="store_true", help=help_)
            continue
        kw = {"int": {"type": int}, "float": {"type": finite_float}, "floats": {"type": finite_float, "nargs": "+"},
              "str": {"choices": spec.get("choices")}}[spec["type"]]
        p.add_argument(flag, *spec.get("cli", ()), dest=name, required=required, default=default, help=help_, **kw)


_WARNINGS = {
    "no_barrier": "mode {mode} of the training set (empirical sv {sv:.4g}) has no barrier at beta = {beta:g}: "
                  "nothing to escape.",
    "mode_learned": "mode {mode} is already learned at the start (empirical landscape): a forward escape cannot "
                    "happen.",
    "mode_trivial": "mode {mode} is trivial at the start (empirical landscape): a reverse escape cannot happen.",
    "start_is_global_minimum": "the start is the global minimum of mode {mode} at beta = {beta:g} (empirical "
                               "beta* = {bstar:.4g}): leaving it is not a metastable escape.",
    "checkpoint_differs_from_population": "the checkpoint at init_beta = {ib:g} is {emp} on this training set "
                                          "(empirical sv {svs}), not the {pop} state the population landscape "
                                          "predicts: it is not the trap the population numbers describe.",
}


def _warning_args(r) -> dict:
    d, st = r.diagnosis, r.settings
    m = r.criterion_mode
    return {"mode": m, "sv": d["empirical_sv"][m], "beta": st["beta"], "bstar": d["empirical_beta_star"][m] or 0.0,
            "ib": st.get("init_beta") or 0.0, "emp": ",".join(d.get("checkpoint_state_empirical") or []),
            "pop": ",".join(d.get("checkpoint_state_population") or []),
            "svs": " ".join(f"{x:.4g}" for x in d["empirical_sv"])}


def register(sub) -> None:
    p = sub.add_parser(
        "sgd",
        help="train an ensemble of deep linear networks by mini-batch SGD and detect escapes",
        description=(
            "Mini-batch SGD (weight decay beta, shuffled epochs) of M independent replicas of a deep linear "
            "network on Gaussian teacher data (the seed paper's protocol), all replicas in one vectorised "
            "computation. Reports per-replica escape epochs (null = censored), final rank and MSE "
            "(torch MSELoss: mean over samples and outputs), and the per-sample gradient noise at the "
            "trained weights (the checkpoint state, or the final state for random init) along the escape "
            "direction of the relevant saddle, rotated into the trained weights' hidden-layer frame, with the "
            "temperature T = lr c/(2B). The work is done by langevin_grok.sgd.trainer.run_protocol."
        ),
    )
    add_protocol_options(p)
    p.add_argument("--out", default=None, help="directory for curves.npz and summary.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _write(out, r) -> None:
    os.makedirs(out, exist_ok=True)
    np.savez_compressed(os.path.join(out, "curves.npz"), **r.curves())
    with open(os.path.join(out, "summary.json"), "w") as fh:
        print_json(r.to_dict(), fh)


def run(args) -> int:
    from ..sgd.protocol import ProtocolInterrupted, run_protocol

    from ..sgd.protocol import PROTOCOL_PARAMS

    out = None if args.out is None else check_output_dir("--out", args.out, create=True)  # before training, not after
    try:
        r = run_protocol(**{k: getattr(args, k) for k in PROTOCOL_PARAMS}, progress=not args.no_progress)
    except ProtocolInterrupted as exc:
        # the command line prints one line: "interrupted; <kept>" (langevin_grok.cli.main)
        cause = exc.cause
        if out is not None and exc.partial is not None:
            _write(out, exc.partial)
            cause.kept = (f"partial curves.npz and summary.json (interrupted: true, {exc.partial.epochs_run} epochs) "
                          f"kept in {out}")
        elif out is not None:
            cause.kept = "stopped before the run at beta started: nothing to keep"
        raise cause from None
    summary = r.to_dict()
    if out is not None:
        _write(out, r)
    if args.json:
        print_json(summary)
        return 0
    res, esc = r.train, r.escape
    live = ~res.diverged
    ep = [e for e in esc.epochs if e is not None]
    res_rel = [x for x in (summary.get("alignment_relative_residual") or []) if x is not None]
    rows = [
        ["dynamics", summary["dynamics"]],
        ["replicas (live / diverged)", f"{int(live.sum())} / {esc.n_diverged}"],
        [f"escaped ({esc.criterion})", f"{esc.n_escaped} (censored {esc.n_censored} at epoch {res.epochs_run})"],
        ["median escape epoch", float(np.median(ep)) if ep else None],
        ["early stop", "stopped: all escaped or diverged" if r.stopped_early
         else ("on" if r.early_stop_applied else "off")],
        ["final rank (counts)",
         " ".join(f"{k}:{c}" for k, c in zip(*np.unique(res.eff_rank[-1][live], return_counts=True)))],
        ["final train MSE (mean)", float(np.nanmean(res.train_mse[-1])) if live.any() else None],
        ["final test MSE (mean)", float(np.nanmean(res.test_mse[-1])) if live.any() else None],
        ["noise state", ",".join(summary.get("noise_state") or [])],
        ["noise measured at", summary.get("noise_measured_at")],
        ["tr C (median)", summary["noise_trace"]],
        ["c_e on escape direction (median)", summary["noise_escape_direction"]],
        ["c_e at the ideal point", summary.get("noise_escape_direction_ideal")],
        ["alignment residual / |theta| (max)", max(res_rel) if res_rel else None],
        [f"T_eff along escape direction ({summary.get('temperature_noise_model')})", summary["temperature_eff"]],
        [f"T_iso = lr trC/(2BD) ({summary.get('temperature_noise_model')})", summary.get("temperature_iso")],
        *([[f"T at epoch boundaries ({summary['temperature_shuffled_noise_model']})",
            summary["temperature_shuffled_boundary"]],
           [f"T epoch mean ({summary['temperature_shuffled_noise_model']})",
            summary["temperature_shuffled_epoch_mean"]]]
          if summary.get("temperature_shuffled_boundary") is not None else []),
    ]
    d = r.diagnosis
    rows += [
        ["empirical sv of the training set", " ".join(f"{x:.4g}" for x in d["empirical_sv"])],
        ["empirical beta_c / beta*", " ".join("-" if a is None else f"{a:.4g}/{b:.4g}"
                                              for a, b in zip(d["empirical_beta_c"], d["empirical_beta_star"]))],
        ["start state (empirical landscape)", ",".join(d["start_state"])],
        ["start is a trap", d["start_is_trap"]],
        ["tau (SDE time, 95% CI)", f"{d['tau_sde']} [{d['tau_sde_ci'][0]}, {d['tau_sde_ci'][1]}]"
         if d.get("tau_sde_ci") else None],
        ["normal Lyapunov exponent (1/SDE time)", d.get("lyapunov_exponent")],
        ["attractive", d.get("attractive")],
    ]
    print(format_table(["quantity", "value"], rows))
    for code in d.get("start_warnings", ()):
        print(f"warning: {_WARNINGS[code].format(**_warning_args(r))}")
    if summary.get("noise_note"):
        print(f"note: {summary['noise_note']}")
    return 0
