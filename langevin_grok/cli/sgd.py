"""``langevin-grok sgd``: an ensemble of mini-batch SGD runs, escape epochs and the measured noise."""

from __future__ import annotations

import json
import math
import os

import numpy as np

from .._checks import InputError, check_beta, check_depth, check_int, check_nonnegative, check_positive, check_sv
from ._common import finite_float, format_table, print_json

_CRITERIA = ("test_mse", "singular_value", "mode_amplitude")


def register(sub) -> None:
    p = sub.add_parser(
        "sgd",
        help="train an ensemble of deep linear networks by mini-batch SGD and detect escapes",
        description=(
            "Mini-batch SGD (weight decay beta, shuffled epochs) of M independent replicas of a deep linear "
            "network on Gaussian teacher data (the seed paper's protocol), all replicas in one vectorised "
            "computation. Reports per-replica escape epochs (null = censored), final rank and MSE "
            "(torch MSELoss: mean over samples and outputs), and the per-sample gradient noise at the "
            "canonical metastable state with the temperature T = lr c/(2B) along the escape direction."
        ),
    )
    p.add_argument("--depth", "-L", type=finite_float, required=True, help="number of weight matrices L (integer >= 2)")
    p.add_argument("--width", type=int, required=True, help="hidden width w (units)")
    p.add_argument("--sv", type=finite_float, nargs="+", required=True,
                   help="singular values eta of Sigma_yx, each in (0, 1); p = number of values (dimensionless)")
    p.add_argument("--beta", type=finite_float, required=True,
                   help="weight decay beta >= 0 during the run (loss units)")
    p.add_argument("--lr", type=finite_float, required=True, help="learning rate > 0 (SDE time per step)")
    p.add_argument("--batch", type=int, required=True, help="batch size B, 1 <= B <= n_train (samples)")
    p.add_argument("--epochs", type=int, required=True, help="epochs to train at --beta (epochs)")
    p.add_argument("--seeds", type=int, default=10, help="number of replicas M (default 10)")
    p.add_argument("--seed", type=int, default=0, help="master seed of data and replicas (default 0)")
    p.add_argument("--init", choices=("random", "checkpoint"), default="random",
                   help="random: N(0,1)/sqrt(w) in every layer; checkpoint: random, then trained to convergence "
                        "at --init-beta")
    p.add_argument("--init-beta", type=finite_float, default=None,
                   help="weight decay of the checkpoint training (loss units; required with --init checkpoint)")
    p.add_argument("--init-max-epochs", type=int, default=20000,
                   help="cap on the checkpoint training (epochs, default 20000)")
    p.add_argument("--converge-tol", type=finite_float, default=1e-4,
                   help="checkpoint convergence: relative change of the windowed mean training loss (default 1e-4)")
    p.add_argument("--converge-window", type=int, default=200,
                   help="checkpoint convergence window (epochs, default 200)")
    p.add_argument("--noise-temperature", type=finite_float, default=0.0,
                   help="injected Gaussian noise temperature T >= 0 (loss units; theta += sqrt(2 T lr) xi per step)")
    p.add_argument("--replacement", action="store_true",
                   help="draw batches with replacement (default: shuffled epochs)")
    p.add_argument("--n-train", type=int, default=512, help="training samples N (default 512)")
    p.add_argument("--n-test", type=int, default=512, help="test samples (default 512)")
    p.add_argument("--record-every", type=int, default=1, help="observable cadence (epochs, default 1)")
    p.add_argument("--criterion", choices=_CRITERIA, default="test_mse",
                   help="escape criterion: test MSE past the plateau/final midpoint (paper), a projected singular "
                        "value past --sv-threshold, or a mode amplitude past the saddle/minimum midpoint")
    p.add_argument("--escape-mode", type=int, default=None,
                   help="mode index (0-based) for the singular_value/mode_amplitude criteria and the escape "
                        "direction (default: chosen from the landscape, see noise.relevant_saddle)")
    p.add_argument("--sv-threshold", type=finite_float, default=1e-3,
                   help="threshold of the singular_value criterion (dimensionless, default 1e-3 as the paper)")
    p.add_argument("--min-change", type=finite_float, default=1e-2,
                   help="test_mse criterion: a replica whose final MSE is within this of its plateau is censored "
                        "(MSE units, default 1e-2)")
    p.add_argument("--out", default=None, help="directory for curves.npz and summary.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _validate(args):
    L = check_depth(args.depth)
    w = check_int("width", args.width, minimum=1)
    eta = check_sv(args.sv)
    beta = check_beta(args.beta)
    lr = check_positive("lr", args.lr)
    n_train = check_int("n_train", args.n_train, minimum=1)
    check_int("n_test", args.n_test, minimum=1)
    B = check_int("batch", args.batch, minimum=1)
    if B > n_train:
        raise InputError(f"batch must be <= n_train ({n_train}), got {B}")
    check_int("epochs", args.epochs, minimum=0)
    check_int("seeds", args.seeds, minimum=1)
    check_int("seed", args.seed, minimum=0)
    check_int("record_every", args.record_every, minimum=1)
    check_nonnegative("noise_temperature", args.noise_temperature)
    if args.init == "checkpoint":
        if args.init_beta is None:
            raise InputError("--init-beta is required with --init checkpoint")
        check_beta(args.init_beta, "init_beta")
        check_int("init_max_epochs", args.init_max_epochs, minimum=1)
        check_positive("converge_tol", args.converge_tol)
        check_int("converge_window", args.converge_window, minimum=1)
    if args.escape_mode is not None and not 0 <= args.escape_mode < len(eta):
        raise InputError(f"escape_mode must be in 0..{len(eta) - 1}, got {args.escape_mode}")
    return L, w, eta, beta, lr, B


def _state_modes(mode_sv: np.ndarray, tol: float) -> tuple[str, ...]:
    """Per mode: "learned" if the median projected singular value over live replicas exceeds tol."""
    med = np.nanmedian(mode_sv, axis=0) if np.isfinite(mode_sv).any() else np.zeros(mode_sv.shape[1])
    return tuple("learned" if m > tol else "trivial" for m in med)


def _noise_summary(L, w, eta, beta, lr, B, data, modes, escape_mode, replacement):
    """Noise at the canonical stationary point with the state's modes (population network at beta)."""
    from ..network import DeepLinearNetwork, stationary_point
    from ..noise import escape_direction, gradient_noise, relevant_saddle

    out = {"noise_state": list(modes), "saddle": None, "escape_mode": escape_mode, "escape_direction_kind": None,
           "noise_trace": None, "noise_escape_direction": None, "escape_noise_zero": None,
           "temperature_eff": None, "temperature_iso": None, "noise_note": None}
    net = DeepLinearNetwork.from_singular_values(L, w, len(eta), eta, beta)
    try:
        state = stationary_point(net, modes)
    except InputError as exc:
        out["noise_note"] = f"state {','.join(modes)} is not a stationary point at beta={beta:g}: {exc}"
        return out
    rel = relevant_saddle(L, eta, beta, modes)
    direction = None
    if escape_mode is not None:
        saddle = list(modes)
        saddle[escape_mode] = "saddle"
        rel = (tuple(saddle), escape_mode, "forward" if modes[escape_mode] == "trivial" else "reverse")
    if rel is not None:
        try:
            direction = escape_direction(net, rel[0])
            out.update(saddle=list(rel[0]), escape_mode=rel[1], escape_direction_kind=rel[2])
        except InputError as exc:
            out["noise_note"] = f"no escape direction: {exc}"
    gn = gradient_noise(state.theta, data.x_train, data.y_train, L, w, direction=direction, lr=lr, batch=B,
                        replacement=replacement)
    out.update(noise_trace=gn.trace, temperature_iso=gn.temperature_iso)
    if direction is not None:
        out.update(noise_escape_direction=gn.direction_variance, escape_noise_zero=gn.escape_noise_zero,
                   temperature_eff=gn.temperature_direction)
        if gn.escape_noise_zero:
            out["noise_note"] = ("zero gradient noise along the escape direction: an absorbing trap for plain SGD "
                                 "(no finite escape time follows from the noise)")
    return out


def run(args) -> int:
    from .. import sgd
    from ..data import make_dataset

    L, w, eta, beta, lr, B = _validate(args)
    progress = not args.no_progress
    data = make_dataset(eta, n_train=args.n_train, n_test=args.n_test,
                        seed=np.random.SeedSequence(args.seed, spawn_key=(0,)))
    ss = np.random.SeedSequence(args.seed, spawn_key=(1,))
    start = None
    if args.init == "random":
        w0 = sgd.init_random(L, w, len(eta), args.seeds, ss)
    else:
        start = sgd.checkpoint_init(data, depth=L, width=w, n_replicas=args.seeds, init_beta=args.init_beta, lr=lr,
                                    batch=B, seed=ss, max_epochs=args.init_max_epochs,
                                    converge_tol=args.converge_tol, converge_window=args.converge_window,
                                    progress=progress)
        w0 = start.weights
    res = sgd.train(w0, data, beta=beta, lr=lr, batch=B, epochs=args.epochs,
                    noise_temperature=args.noise_temperature, replacement=args.replacement, seed=ss, stage=2,
                    record_every=args.record_every, progress=progress)
    # the noise is measured at the start state (checkpoint) or at the state reached (random init)
    ref = start.mode_sv[-1] if start is not None else res.mode_sv[-1]
    modes = _state_modes(ref, res.rank_tol)
    noise = _noise_summary(L, w, eta, beta, lr, B, data, modes, args.escape_mode, args.replacement)
    mode = noise["escape_mode"] if noise["escape_mode"] is not None else len(eta) - 1
    if args.criterion == "test_mse":
        esc = sgd.escape_by_test_mse(res, min_change=args.min_change)
    elif args.criterion == "singular_value":
        esc = sgd.escape_by_singular_value(res, mode, args.sv_threshold,
                                           direction="up" if modes[mode] == "trivial" else "down")
    else:
        esc = sgd.escape_by_mode_amplitude(res, mode, "forward" if modes[mode] == "trivial" else "reverse")
    live = ~res.diverged
    summary = {
        "escape_epochs": list(esc.epochs), "n_escaped": esc.n_escaped, "n_seeds": res.n_replicas,
        "n_censored": esc.n_censored, "n_diverged": esc.n_diverged, "criterion": esc.criterion,
        "final_rank": [None if d else int(r) for r, d in zip(res.eff_rank[-1], res.diverged)],
        "train_mse": res.train_mse[-1].tolist(), "test_mse": res.test_mse[-1].tolist(),
        **{k: noise[k] for k in ("noise_trace", "noise_escape_direction", "temperature_eff")},
        "temperature_iso": noise["temperature_iso"], "escape_noise_zero": noise["escape_noise_zero"],
        "noise_state": noise["noise_state"], "saddle": noise["saddle"], "escape_mode": noise["escape_mode"],
        "escape_direction_kind": noise["escape_direction_kind"], "noise_note": noise["noise_note"],
        "dynamics": ("plain SGD" if args.noise_temperature == 0
                     else f"SGD + injected noise T={args.noise_temperature:g}"),
        "settings": {"depth": L, "width": w, "sv": eta.tolist(), "beta": beta, "lr": lr, "batch": B,
                     "epochs": args.epochs, "init": args.init, "init_beta": args.init_beta,
                     "noise_temperature": args.noise_temperature, "replacement": args.replacement,
                     "n_train": args.n_train, "n_test": args.n_test, "seed": args.seed,
                     "data_seed_sequence": {"entropy": data.seed, "spawn_key": list(data.spawn_key)},
                     "train_seed_sequence": {"entropy": res.seed, "spawn_key": list(res.spawn_key)},
                     "checkpoint_epochs": None if start is None else start.epochs_run,
                     "checkpoint_converged": None if start is None else int(start.converged.sum())},
    }
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        curves = res.curves()
        curves["escape_epochs"] = np.array([np.nan if e is None else e for e in esc.epochs])
        np.savez_compressed(os.path.join(args.out, "curves.npz"), **curves)
        with open(os.path.join(args.out, "summary.json"), "w") as fh:
            print_json(summary, fh)
    if args.json:
        print_json(summary)
        return 0
    ep = [e for e in esc.epochs if e is not None]
    rows = [
        ["dynamics", summary["dynamics"]],
        ["replicas (live / diverged)", f"{int(live.sum())} / {esc.n_diverged}"],
        [f"escaped ({esc.criterion})", f"{esc.n_escaped} (censored {esc.n_censored} at epoch {res.epochs_run})"],
        ["median escape epoch", float(np.median(ep)) if ep else None],
        ["final rank (counts)",
         " ".join(f"{r}:{c}" for r, c in zip(*np.unique(res.eff_rank[-1][live], return_counts=True)))],
        ["final train MSE (mean)", float(np.nanmean(res.train_mse[-1])) if live.any() else None],
        ["final test MSE (mean)", float(np.nanmean(res.test_mse[-1])) if live.any() else None],
        ["noise state", ",".join(modes)],
        ["tr C", noise["noise_trace"]],
        ["c_e on escape direction", noise["noise_escape_direction"]],
        ["T_eff along escape direction", noise["temperature_eff"]],
        ["T_iso = lr trC/(2BD)", noise["temperature_iso"]],
    ]
    print(format_table(["quantity", "value"], rows))
    if noise["noise_note"]:
        print(f"note: {noise['noise_note']}")
    return 0
