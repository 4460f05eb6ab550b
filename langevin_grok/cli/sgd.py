"""``langevin-grok sgd``: an ensemble of mini-batch SGD runs, escape epochs and the measured noise."""

from __future__ import annotations

import os

import numpy as np

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
            "trained weights (the checkpoint state, or the final state for random init) along the escape "
            "direction of the relevant saddle, rotated into the trained weights' hidden-layer frame, with the "
            "temperature T = lr c/(2B). The work is done by langevin_grok.sgd.trainer.run_protocol."
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
    p.add_argument("--seeds", type=int, default=10, help="number of replicas M (replicas, default 10)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the replicas' streams (init, batches, injected noise); also of the data unless "
                        "--data-seed is given (integer >= 0, default 0)")
    p.add_argument("--data-seed", type=int, default=None,
                   help="seed of the training/test sets, so that --seed varies only the SGD randomness "
                        "(integer >= 0, default: --seed)")
    p.add_argument("--init", choices=("random", "checkpoint"), default="random",
                   help="random: N(0,1)/sqrt(w) in every layer; checkpoint: random, then trained to convergence "
                        "at --init-beta")
    p.add_argument("--init-beta", type=finite_float, default=None,
                   help="weight decay of the checkpoint training (loss units; required with --init checkpoint)")
    p.add_argument("--init-max-epochs", type=int, default=20000,
                   help="cap on the checkpoint training (epochs, default 20000)")
    p.add_argument("--converge-tol", type=finite_float, default=1e-4,
                   help="checkpoint convergence: relative change of the windowed mean training loss "
                        "(dimensionless, default 1e-4)")
    p.add_argument("--converge-window", type=int, default=200,
                   help="checkpoint convergence window (epochs, default 200)")
    p.add_argument("--noise-temperature", type=finite_float, default=0.0,
                   help="injected Gaussian noise temperature T >= 0 (loss units; theta += sqrt(2 T lr) xi per step)")
    p.add_argument("--replacement", action="store_true",
                   help="draw batches with replacement (default: shuffled epochs)")
    p.add_argument("--n-train", type=int, default=512, help="training samples N (samples, default 512)")
    p.add_argument("--n-test", type=int, default=512,
                   help="test samples, drawn independently of the training set (samples, default 512)")
    p.add_argument("--n-pool", type=int, default=None,
                   help="sparse sub-sampling: draw a pool of this many samples and train on --n-train of them "
                        "chosen at random (samples, >= --n-train; the paper's Fig. 1(b) uses --n-pool 5000 "
                        "--n-train 25 --n-test 10000; default: no pool)")
    p.add_argument("--record-every", type=int, default=1, help="observable cadence (epochs, default 1)")
    p.add_argument("--criterion", choices=_CRITERIA, default="test_mse",
                   help="escape criterion: test MSE past the plateau/final midpoint (paper), a projected singular "
                        "value past --sv-threshold, or a mode amplitude past the saddle/minimum midpoint")
    p.add_argument("--escape-mode", type=int, default=None,
                   help="mode index (integer >= 0, 0-based; dimensionless) for the singular_value/mode_amplitude criteria and the escape "
                        "direction (default: chosen from the landscape, see noise.relevant_saddle)")
    p.add_argument("--sv-threshold", type=finite_float, default=1e-3,
                   help="threshold of the singular_value criterion (dimensionless, default 1e-3 as the paper)")
    p.add_argument("--min-change", type=finite_float, default=1e-2,
                   help="test_mse criterion: a replica whose final MSE is within this of its plateau is censored "
                        "(MSE units, default 1e-2)")
    p.add_argument("--no-early-stop", action="store_true",
                   help="run all --epochs even when every replica has escaped or diverged (early stopping applies "
                        "to the singular_value and mode_amplitude criteria; test_mse always runs all epochs)")
    p.add_argument("--out", default=None, help="directory for curves.npz and summary.json")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..sgd.trainer import run_protocol

    r = run_protocol(
        depth=args.depth, width=args.width, sv=args.sv, beta=args.beta, lr=args.lr, batch=args.batch,
        epochs=args.epochs, n_replicas=args.seeds, seed=args.seed, data_seed=args.data_seed, init=args.init,
        init_beta=args.init_beta, init_max_epochs=args.init_max_epochs, converge_tol=args.converge_tol,
        converge_window=args.converge_window, noise_temperature=args.noise_temperature,
        replacement=args.replacement, n_train=args.n_train, n_test=args.n_test, n_pool=args.n_pool,
        record_every=args.record_every, criterion=args.criterion, escape_mode=args.escape_mode,
        sv_threshold=args.sv_threshold, min_change=args.min_change, early_stop=not args.no_early_stop,
        progress=not args.no_progress)
    summary = r.to_dict()
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        np.savez_compressed(os.path.join(args.out, "curves.npz"), **r.curves())
        with open(os.path.join(args.out, "summary.json"), "w") as fh:
            print_json(summary, fh)
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
        ["T_eff along escape direction", summary["temperature_eff"]],
        ["T_iso = lr trC/(2BD)", summary.get("temperature_iso")],
    ]
    print(format_table(["quantity", "value"], rows))
    if summary.get("noise_note"):
        print(f"note: {summary['noise_note']}")
    return 0
