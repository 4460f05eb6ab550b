"""``langevin-grok sweep``: run a parameter sweep from a TOML file into an SQLite store."""

from __future__ import annotations

import argparse
import os

from .._core.checks import InputError
from ..sweep import default_store_path, get_task, list_kinds, load_config, plan, run_sweep
from ._common import check_output_file, format_table, print_json


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return n


def register(sub) -> None:
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep (TOML config) into an SQLite store; reruns skip finished tasks",
        description=(
            "Run every task of a sweep: a grid over the parameters of one task kind ([grid] lists, [fixed] "
            "scalars) times a number of seeds ([sweep] seeds, base_seed). Each finished task is written to an "
            "SQLite store at once, so an interrupted sweep loses only the tasks in flight and a rerun computes "
            "exactly the missing ones. Parameter units are those of the task kind (--list-kinds)."
        ),
    )
    p.add_argument("config", nargs="?", metavar="CONFIG.toml", help="sweep configuration file (TOML)")
    p.add_argument("--store", metavar="PATH",
                   help="SQLite store (default: [sweep] store, relative to the config's folder, else NAME.sqlite "
                        "in the current folder)")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help=f"local worker processes (count; default: all cores = {os.cpu_count()}; 1 runs in-process)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler address (e.g. tcp://10.0.0.1:8786): run the tasks on that cluster "
                        "instead of local processes")
    p.add_argument("--dry-run", action="store_true",
                   help="validate the config and list the tasks and which are already done; run nothing, write nothing")
    p.add_argument("--json", action="store_true", help="print the summary (or the dry-run task list) as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.add_argument("--list-kinds", action="store_true",
                   help="list the task kinds and their parameters (name, type, bounds, units) and exit")
    p.set_defaults(func=run)


def _list_kinds(as_json: bool) -> int:
    kinds = [get_task(k) for k in list_kinds()]
    if as_json:
        print_json({tk.kind: {"help": tk.help, "stochastic": tk.stochastic, "version": tk.version,
                              "parameters": {n: {"spec": p.describe(), "help": p.help} for n, p in tk.schema.items()}}
                    for tk in kinds})
        return 0
    for tk in kinds:
        print(f"{tk.kind}: {tk.help}{'' if tk.stochastic else ' (deterministic: seeds = 1)'}")
        for n, p in tk.schema.items():
            print(f"    {n:<12} {p.describe():<45} {p.help}")
    return 0


def run(args) -> int:
    if args.list_kinds:
        return _list_kinds(args.json)
    if args.config is None:
        raise InputError("CONFIG.toml is required (or use --list-kinds)")
    if args.workers is not None and args.scheduler is not None:
        raise InputError("--workers and --scheduler exclude each other (dask workers are set on the cluster)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise InputError("--scheduler must be an address such as tcp://127.0.0.1:8786, got ''")
    if args.store is not None and not args.store.strip():
        raise InputError("--store must be a file path, got ''")
    cfg = load_config(args.config)  # validates everything before any work
    store = args.store if args.store is not None else default_store_path(cfg)
    if not args.dry_run:  # a dry run writes nothing, so it may point at a read-only store
        check_output_file("--store" if args.store is not None else "sweep.store", store, create_parent=True)
    if args.dry_run:
        tasks = plan(cfg, store)
        if args.json:
            print_json({"name": cfg.name, "kind": cfg.kind, "store": str(store), "n_tasks": len(tasks),
                        "n_done": sum(d for _, d in tasks), "tasks": [dict(t.to_dict(), done=d) for t, d in tasks]})
            return 0
        names = list(tasks[0][0].params) if tasks else []
        varying = [n for n in names if n in cfg.grid]
        rows = [[t.index, t.key[:12], *(t.params[n] for n in varying), t.replica, t.seed, "yes" if d else "no"]
                for t, d in tasks]
        print(f"sweep {cfg.name!r}: kind {cfg.kind}, {len(tasks)} tasks, {sum(d for _, d in tasks)} done, "
              f"store {store}")
        fixed = {n: v for n, v in tasks[0][0].params.items() if n not in cfg.grid} if tasks else {}
        if fixed:
            print("fixed: " + ", ".join(f"{k}={v}" for k, v in fixed.items()))
        print(format_table(["index", "key", *varying, "replica", "seed", "done"], rows))
        return 0
    summary = run_sweep(cfg, store=store, workers=args.workers, scheduler=args.scheduler,
                        progress=not args.no_progress)
    if args.json:
        print_json(summary.to_dict())
    else:
        print(f"sweep {summary.name!r} ({summary.kind}) on {summary.executor}: {summary.n_tasks} tasks, "
              f"{summary.n_skipped} already done, {summary.n_run} run now ({summary.n_failed} failed), "
              f"{summary.n_done_total}/{summary.n_tasks} done in {summary.store}; {summary.wall_time:.2f} s")
        if summary.n_failed:
            print("failed tasks keep their traceback in the store (column 'error') and are retried by a rerun")
    return 1 if summary.n_failed else 0
