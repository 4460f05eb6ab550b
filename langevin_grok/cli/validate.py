"""``langevin-grok validate``: the main job -- predictions beside simulations, one row per comparison."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from .._core.checks import InputError, check_int
from ._common import check_output_dir


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="run the seven theory-vs-simulation comparisons and write report.md, results.json and figures",
        description=(
            "Puts escape-time predictions beside simulations: (1) 1-D reduced model, exact MFPT and Kramers vs "
            "Langevin; (2) scalar chain, Eyring-Kramers vs Langevin; (3) the paper's network (L=3, w=10, p=2) "
            "with injected noise T against the hidden-layer orbit theory (orbit Eyring-Kramers, entropic MFPT; "
            "1-D reference shown); (4) plain SGD, reverse transition inside the Kramers regime, independent batches "
            "and shuffled epochs each against its own noise model; (5) plain SGD from the exact rank-1 trap; "
            "(6) adaptive multilevel splitting against the exact MFPT at dE/T = 15-40 and against brute force; "
            "(7) SGLD forward from the rank-1 trap against the orbit theory, and the injected temperature at which "
            "the escape takes the paper's 5500 epochs. "
            "Each row gives the dynamics, prediction, measurement with 95% CI, ratio, seeds, steps and a "
            "verdict. Times are SDE time t = lr x (SGD steps). Default settings take about 11 minutes on 2 cores. "
            "Every finished row is saved at once under OUT/rows/; rerunning with the same --out reuses finished "
            "rows whose settings match (use --fresh to recompute)."
        ),
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small settings: under a minute on 2 cores")
    size.add_argument("--full", action="store_true",
                      help="publication-grade settings: more temperatures and paths, dt halved (about an hour "
                           "on 2 cores, estimated)")
    p.add_argument("--out", default=None,
                   help="output directory (default: a new runs/validate-YYYYmmdd-HHMMSS under the current "
                        "directory, UTC); must not be an existing file")
    p.add_argument("--seed", default="0",
                   help="root seed (integer >= 0; default 0); every ensemble's seed derives from it and is recorded")
    p.add_argument("--workers", default=None,
                   help="numba threads for the Langevin kernel of rows 1-3 (integer >= 1; default: all cores); "
                        "results do not depend on it (the SGD rows use numpy)")
    p.add_argument("--rows", default=None,
                   help="comma-separated subset of rows to run, e.g. 1,2 (default: all seven)")
    p.add_argument("--fresh", action="store_true",
                   help="recompute every row even if OUT/rows/ holds finished rows with the same settings")
    p.add_argument("--json", action="store_true",
                   help="print results.json to stdout (the table then goes to stderr)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bars or compile notice (default: shown when stderr is a terminal)")
    p.add_argument("--no-figures", action="store_true", help="do not write the figures")
    p.set_defaults(func=run)


def _int_arg(name: str, text, minimum: int) -> int:
    try:
        value = int(str(text), 10)
    except ValueError:
        raise InputError(f"{name} must be an integer >= {minimum}, got {text!r}") from None
    return check_int(name, value, minimum=minimum)


def run(args) -> int:
    from ..report.validation import format_table, write_outputs
    from ..validation import check_out_dir, default_out_dir, run_validation, validation_config

    seed = _int_arg("seed", args.seed, 0)
    workers = None if args.workers is None else _int_arg("workers", args.workers, 1)
    rows = (1, 2, 3, 4, 5, 6, 7)
    if args.rows is not None:
        parts = str(args.rows).split(",")
        if not all(x.strip().isdigit() for x in parts):  # no empty items ("1,,2"), signs or words
            raise InputError(f"--rows must be a comma-separated list of 1..7, got {args.rows!r}")
        rows = tuple(int(x) for x in parts)
        if any(r < 1 or r > 7 for r in rows):
            raise InputError(f"--rows must be a comma-separated list of 1..7, got {args.rows!r}")
        if len(set(rows)) != len(rows):
            raise InputError(f"--rows lists a row twice: {args.rows!r}")
    out = check_out_dir(check_output_dir("--out", args.out, create=True)) if args.out is not None else default_out_dir()
    mode = "quick" if args.quick else ("full" if args.full else "default")
    config = validation_config(mode, seed)
    # the equivalent command line, rebuilt from the parsed options (recorded in results.json)
    parts = ["langevin-grok", "validate"] + ([f"--{mode}"] if mode != "default" else [])
    parts += ["--out", str(out), "--seed", str(seed)]
    parts += [] if workers is None else ["--workers", str(workers)]
    parts += [] if args.rows is None else ["--rows", ",".join(map(str, rows))]
    parts += [flag for flag, on in (("--fresh", args.fresh), ("--json", args.json),
                                    ("--no-figures", args.no_figures)) if on]
    command = " ".join(shlex.quote(x) for x in parts)
    report = run_validation(config, out, rows=rows, resume=not args.fresh, workers=workers, progress=False if args.no_progress else None,
                            command=command)
    report = write_outputs(report, out, figures=not args.no_figures)
    table = format_table(report)
    stream = sys.stderr if args.json else sys.stdout
    print(table, file=stream)
    print(f"\nwall time {report.wall_seconds:.1f} s; report: {Path(out) / 'report.md'}", file=stream)
    if args.json:
        sys.stdout.write((Path(out) / "results.json").read_text())
    return 0
