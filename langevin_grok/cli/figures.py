"""``langevin-grok figures``: regenerate the seed paper's figures and the reproduction report."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .._core.checks import InputError, check_int
from ._common import check_output_dir
# matplotlib is loaded only when the subcommand runs, so `langevin-grok --help` stays fast.
REPORT_NAME = "REPRODUCTION.md"  # equals langevin_grok.report.figures.REPORT_NAME (tests/test_package.py)


def _paper_figs_dir() -> Path:
    """``paper_figs/`` of the source checkout this package runs from (InputError if there is none)."""
    d = Path(__file__).resolve().parents[2] / "paper_figs"
    if not d.is_dir():
        raise InputError(f"--paper-figs needs a source checkout with a paper_figs/ directory; {d} does not exist")
    return d


def register(sub) -> None:
    p = sub.add_parser(
        "figures",
        help="regenerate the paper's figures (PNG + PDF) and REPRODUCTION.md",
        description=(
            "Run the registered figures of Ersoy & Wiesner (2026) and the toolkit's extra figures, writing "
            "<name>.png, <name>.pdf and <name>.json (parameters, numbers, seeds, versions) per figure into "
            f"--out, and {REPORT_NAME} (the paper's claims beside the toolkit's values) built from every figure "
            "record in --out. Theory figures are exact (no randomness); simulation figures use seeds derived "
            "from --seed and the figure's name."
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--quick", dest="quick", action="store_true", default=True,
                      help="short protocols: every figure together in minutes on 2 cores (default)")
    mode.add_argument("--full", dest="quick", action="store_false",
                      help="the paper's seed counts and run lengths (long; see each figure's caption)")
    p.add_argument("--only", nargs="+", metavar="NAME", default=None,
                   help="run only these figures (names from --list); others' records in --out are kept")
    p.add_argument("--out", default="paper_figs", metavar="DIR",
                   help="output directory for figures, records and the report (default: paper_figs)")
    p.add_argument("--seed", type=int, default=0, metavar="INT",
                   help="root seed, an integer >= 0 (dimensionless; default 0)")
    p.add_argument("--paper-figs", action="store_true",
                   help=f"also write the report to the source checkout's paper_figs/{REPORT_NAME}")
    p.add_argument("--list", action="store_true", help="list the registered figures and exit")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..report.figures import get_figure, registered_figures, run_figures

    if args.list:
        for spec in registered_figures():
            print(f"{spec.name:<12} {spec.kind:<10} {spec.title}")
        return 0
    seed = check_int("--seed", args.seed, minimum=0)
    names = None
    if args.only:
        names = list(dict.fromkeys(args.only))  # keep order, drop repeats
        for n in names:
            get_figure(n)  # InputError naming the available figures
    out = check_output_dir("--out", args.out, create=True)
    extra = []
    if args.paper_figs:
        pf = _paper_figs_dir()
        if out.resolve() != pf.resolve():
            extra.append(pf)
    command = "langevin-grok figures " + shlex.join(
        [("--quick" if args.quick else "--full"), "--seed", str(seed), "--out", str(args.out)]
        + (["--only", *names] if names else []) + (["--paper-figs"] if args.paper_figs else []))
    summary = run_figures(names, out_dir=out, quick=args.quick, seed=seed, command=command,
                          extra_report_dirs=extra, progress=not args.no_progress)
    for res in summary.results:
        print(f"{res.name}: {', '.join(res.paths)} ({res.elapsed_s:.1f} s)")
    for path in summary.report_paths:
        print(f"report: {path}")
    for name, msg in summary.failures.items():
        print(f"langevin-grok figures: figure {name} failed: {msg}", file=sys.stderr)
    return 0 if summary.ok else 1
