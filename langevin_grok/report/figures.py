"""Figure runner: the seed paper's figures (and a few beyond it) from the toolkit, and REPRODUCTION.md.

A figure is one function registered in :mod:`~langevin_grok.report.registry` (see there). :func:`run_figures`
runs the registered figures with one preset (``quick``, ``full`` or ``tiny``), writes ``<name>.json`` (the figure's
record: result plus the command, date, seeds and versions of the run that made it) next to the images, and
rebuilds ``REPRODUCTION.md`` in the output directory from all records there
(:func:`langevin_grok.report.reproduction.build_report`). Only figures that exist are registered: there
are no placeholders.

The figures live in :mod:`~langevin_grok.report.figures_theory` (``fig2a``, ``fig4``, ``depth``),
:mod:`~langevin_grok.report.paper_traps` (``fig1a``, ``fig1b``), :mod:`~langevin_grok.report.paper_arrhenius`
(``fig2b``) and :mod:`~langevin_grok.report.paper_sweep` (``fig3``, ``escape_dist``); :func:`load_figures` imports
them so they register (:mod:`~langevin_grok.report.registry`). A new figure goes in one of these modules (or a new
one added to :data:`FIGURE_MODULES`).

Adding a simulation figure: compute with the numerics modules, draw with the matching
:mod:`langevin_grok.report.plotting` function (``plot_mse_curves`` for Fig. 1(a), ``plot_grokking_curve``
for Fig. 1(b), ``plot_arrhenius`` for Fig. 2(b), ``plot_hysteresis`` for Fig. 3,
``plot_escape_distribution`` / ``plot_survival`` for escape-time laws), and return the rows for the
paper's claims it evaluates, with the keys of :data:`langevin_grok.report.reproduction.PAPER_CLAIMS`
(``fig1a_tau_random``, ``fig1a_tau_rank1``, ``fig1a_tau_trivial``, ``fig1b_escape``, ``fig2b_R2``,
``fig2b_dE_eff``, ``fig3_drops``) so the report places them and stops listing them as not evaluated;
:func:`langevin_grok.report.reproduction.judge` turns a confidence interval into a status. Record the
dynamics that produced each number (plain SGD or injected noise) in the row's text.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .._core.checks import check_choice, check_int
from .._core.provenance import environment
from .registry import (REPORT_NAME, FigureResult, FigureSpec, figure_seed, finish, get_figure, register_figure,
                       registered_figures)
from .reproduction import build_report, jsonable

__all__ = ["FIGURE_MODULES", "RunSummary", "load_figures", "run_figures", "FigureResult", "FigureSpec",
           "register_figure", "registered_figures", "get_figure", "figure_seed", "finish"]

# modules whose import registers figures, in the report's order
PRESETS = ("tiny", "quick", "full")
FIGURE_MODULES = ("figures_theory", "paper_traps", "paper_arrhenius", "paper_sweep", "figure_width")


def load_figures() -> None:
    """Import every figure module so that its figures are registered (idempotent)."""
    for name in FIGURE_MODULES:
        importlib.import_module(f"{__package__}.{name}")


@dataclass(frozen=True)
class RunSummary:
    """Outcome of :func:`run_figures`: results of the figures that ran, failures, report paths."""

    results: tuple[FigureResult, ...]
    failures: dict
    report_paths: tuple[str, ...]
    command: str
    root_seed: int
    quick: bool

    @property
    def ok(self) -> bool:
        return not self.failures


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _default_command(names, quick, out_dir, root_seed) -> str:
    cmd = f"langevin-grok figures {'--quick' if quick else '--full'} --seed {root_seed} --out {out_dir}"
    if names is not None:
        cmd += " --only " + " ".join(names)
    return cmd


def run_figures(names: Sequence[str] | None = None, *, out_dir, quick: bool = True, seed: int = 0,
                command: str | None = None, report: bool = True, extra_report_dirs: Sequence = (),
                progress: bool = False, preset: str | None = None) -> RunSummary:
    """Run registered figures, write their files and records, and (re)build ``REPRODUCTION.md``.

    Parameters
    ----------
    names : figures to run (default: all registered, in order).
    out_dir : directory for ``<name>.png``, ``<name>.pdf``, ``<name>.json`` and the report.
    quick : quick protocols (True) or the paper's full ones.
    seed : root seed (int >= 0); figure seeds come from :func:`figure_seed`.
    command : the command line to record (default: the equivalent ``langevin-grok figures`` call).
    report : write ``out_dir/REPRODUCTION.md`` from every record in ``out_dir`` of a registered figure.
    extra_report_dirs : more directories that receive a copy of the report (e.g. ``paper_figs``).
    progress : show a tqdm progress bar on stderr.
    preset : ``"tiny"``, ``"quick"`` or ``"full"`` (default: from ``quick``); ``"tiny"`` runs in seconds.

    Returns
    -------
    RunSummary
        A figure that raises (or returns numbers that are not JSON-able) is recorded in ``failures``
        (name -> one-line message; the traceback goes to ``<name>.error.txt``) and the others still
        run; its old record and images, if any, are removed so nothing stale is left beside the report.
    """
    root_seed = check_int("seed", seed, minimum=0)
    load_figures()
    preset = ("quick" if quick else "full") if preset is None else check_choice("preset", preset, PRESETS)
    specs = registered_figures() if names is None else tuple(get_figure(n) for n in names)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    command = command or _default_command(names, quick, out_dir, root_seed)
    date = _now()
    env = environment()
    run_info = {"command": command, "date": date, "quick": bool(quick), "root_seed": root_seed, "env": env}
    results, failures = [], {}
    iterator = specs
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(specs, desc="figures", unit="fig")
    for spec in iterator:
        fseed = figure_seed(root_seed, spec.name)
        t0 = time.perf_counter()
        record_path = out / f"{spec.name}.json"
        before = _snapshot(out, spec.name)
        try:
            res = spec.func(preset=preset, out_dir=out, seed=fseed, progress=bool(progress))
            if not isinstance(res, FigureResult):
                raise TypeError(f"figure {spec.name!r} returned {type(res).__name__}, not a FigureResult")
            res = replace(res, seed=fseed, quick=bool(quick), elapsed_s=time.perf_counter() - t0)
            rec = res.to_dict()
            rec["run"] = jsonable(run_info)
            text = json.dumps(rec, indent=1, allow_nan=False) + "\n"
        except Exception as exc:  # a failing figure must not hide the others; it is reported
            failures[spec.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
            # no stale record or image may survive next to the failure, but a user's own files are kept
            _remove_own_files(out, spec.name, before)
            (out / f"{spec.name}.error.txt").write_text(traceback.format_exc())
            continue
        results.append(res)
        record_path.write_text(text)
        (out / f"{spec.name}.error.txt").unlink(missing_ok=True)
    report_paths: list[str] = []
    if report:
        text = build_report(_load_records(out), command=command, date=date, quick=quick, root_seed=root_seed,
                            env=env, failures=failures, registered=[s.name for s in registered_figures()])
        for d in (out, *extra_report_dirs):
            d = Path(d)
            d.mkdir(parents=True, exist_ok=True)
            p = d / REPORT_NAME
            p.write_text(text)
            report_paths.append(str(p))
    return RunSummary(tuple(results), failures, tuple(report_paths), command, root_seed, bool(quick))


def _snapshot(out: Path, name: str) -> dict:
    """``ext -> (mtime_ns, size)`` of ``<name>.json/png/pdf`` before a figure runs (absent files left out)."""
    snap = {}
    for ext in ("json", "png", "pdf"):
        try:
            st = (out / f"{name}.{ext}").stat()
            snap[ext] = (st.st_mtime_ns, st.st_size)
        except OSError:
            continue
    snap["own_record"] = _is_own_record(out / f"{name}.json", name)
    return snap


def _is_own_record(path: Path, name: str) -> bool:
    """True if ``path`` is a figure record of this package for ``name`` (a JSON object with that "name")."""
    try:
        rec = json.loads(path.read_text())
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(rec, dict) and rec.get("name") == name


def _remove_own_files(out: Path, name: str, before: dict) -> None:
    """After a failed figure: remove ``<name>.json/png/pdf`` that this run wrote (new or changed since
    ``before``), the record if it is the package's own, and the old images of such a record; never other files."""
    own_record = before.get("own_record", False) or _is_own_record(out / f"{name}.json", name)
    for ext in ("json", "png", "pdf"):
        p = out / f"{name}.{ext}"
        try:
            st = p.stat()
        except OSError:
            continue
        written_now = before.get(ext) != (st.st_mtime_ns, st.st_size)
        if written_now or own_record:
            p.unlink(missing_ok=True)


def _load_records(out: Path) -> list[dict]:
    """Records of registered figures found in ``out``, in registry order."""
    load_figures()
    recs = []
    for spec in registered_figures():
        p = out / f"{spec.name}.json"
        if p.exists():
            try:
                rec = json.loads(p.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                continue
            if isinstance(rec, dict) and rec.get("name") == spec.name:  # only the package's own records
                recs.append(rec)
    return recs


load_figures()  # register every figure when the runner is imported (the figure modules import only the registry)
