"""``langevin-grok sweep-report``: pooled escape-time estimates, Arrhenius fits and a report of a sweep store."""

from __future__ import annotations

from pathlib import Path

from .._core.checks import InputError
from ._common import finite_float, print_json


def register(sub) -> None:
    p = sub.add_parser(
        "sweep-report",
        help="summarise a sweep store: pooled censored escape times per grid point, Arrhenius fits, report",
        description=(
            "Read a sweep's SQLite store (read-only, never modified) and pool the escape and censoring times of "
            "the replicas of each grid point into one censored exponential MLE with its confidence interval "
            "(times in SDE time). Predictions carried by the tasks (or by a theory store, --theory) are shown "
            "beside, with the ratio measured/predicted. Where the grid varies the temperature (or lr/B for the "
            "sgd kind), ln tau is fitted against 1/T (or B/lr). --out writes report.md, summary.json and "
            "arrhenius.png."
        ),
    )
    p.add_argument("store", metavar="STORE", help="SQLite store written by langevin-grok sweep")
    p.add_argument("--out", metavar="DIR", help="folder for report.md, summary.json and arrhenius.png")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON instead of the table")
    p.add_argument("--kind", help="task kind to analyse (required when the store holds several)")
    p.add_argument("--sweep", metavar="NAME", help="only tasks of the sweep of this name")
    p.add_argument("--kind-version", metavar="V",
                   help="version of the task function (required when the store holds several; never pooled)")
    p.add_argument("--theory", metavar="STORE",
                   help="a second store (e.g. of the kramers kind over the same grid) whose predictions are joined "
                        "to the grid points with the same parameters")
    p.add_argument("--confidence", type=finite_float, default=0.95,
                   help="coverage of the intervals, in (0, 1) (default 0.95)")
    p.add_argument("--method", choices=("lr", "chi2"), default="lr",
                   help="interval of the censored exponential MLE: likelihood ratio (default) or chi-square")
    p.add_argument("--no-figures", action="store_true", help="with --out: write no figure")
    p.set_defaults(func=run)


def run(args) -> int:
    from .._core.provenance import environment
    from ..report import sweep_report as rep
    from ..sweep.analysis import summarise_sweep

    if args.out is not None and Path(args.out).exists() and not Path(args.out).is_dir():
        raise InputError(f"--out must be a folder, got the file {args.out!r}")
    a = summarise_sweep(args.store, kind=args.kind, sweep=args.sweep, theory=args.theory,
                        kind_version=args.kind_version, confidence=args.confidence, method=args.method)
    env = environment()
    figs = ()
    if args.out is not None:
        paths = rep.write_report(a, args.out, provenance=env, figures=not args.no_figures)
        figs = tuple(p.name for p in paths if p.suffix == ".png")
    if args.json:
        print_json(rep.report_json(a, env, figs))
    else:
        print(rep.render_text(a), end="")
        if args.out is not None:
            print(f"wrote {', '.join(str(p) for p in paths)}")
    return 0
