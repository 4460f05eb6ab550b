"""The main job's driver: run the rows, keep every finished row, hand the report to the report layer.

:func:`run_validation` returns a :class:`~langevin_grok.validation.results.ValidationReport`; the command
``langevin-grok validate`` prints its table and writes ``report.md``, ``results.json`` and figures
(rendered by :mod:`langevin_grok.report.validation`). A new row is a module with a ``run_*`` function
returning a :class:`~langevin_grok.validation.results.RowResult`, registered in :data:`ROW_RUNNERS`.
Nothing here is tuned to make a row agree: settings come from the presets, and whatever comes out is kept.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

from .._core.checks import InputError, check_int
from .._core.provenance import environment
from .cache import PartStore, atomic_write, load_row, row_hash
from .config import ROW_IDS, ValidationConfig, validation_config
from .results import ValidationReport
from .row_langevin import run_langevin_small
from .row_network import run_network
from .row_sgd import run_sgd_trap
from .row_ams import run_ams
from .row_sgd_reverse import run_sgd_reverse
from .row_sgld import run_sgld

__all__ = ["ROW_RUNNERS", "run_validation", "write_results", "default_out_dir", "check_out_dir"]

# row number -> callable(config, workers, progress, parts) -> RowResult
ROW_RUNNERS = {
    1: lambda c, w, p, parts: run_langevin_small(1, c.arc, c.seed, w, p, parts),
    2: lambda c, w, p, parts: run_langevin_small(2, c.chain, c.seed, w, p, parts),
    3: lambda c, w, p, parts: run_network(c.network, c.seed, w, p, parts),
    4: lambda c, w, p, parts: run_sgd_reverse(c.sgd_reverse, c.seed, p, parts),
    5: lambda c, w, p, parts: run_sgd_trap(c.sgd_reverse, c.sgd_trap, c.seed, p),
    6: lambda c, w, p, parts: run_ams(c.ams, c.seed, p, parts),
    7: lambda c, w, p, parts: run_sgld(c.sgld, c.seed, p, parts),
}


def default_out_dir(now: float | None = None) -> Path:
    """``runs/validate-YYYYmmdd-HHMMSS`` (UTC) under the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return Path("runs") / f"validate-{stamp}"


def check_out_dir(out) -> Path:
    """``out`` as a Path; InputError if it exists and is not a directory."""
    p = Path(out)
    if str(out) == "":
        raise InputError("out must be a directory path, got ''")
    if p.exists() and not p.is_dir():
        raise InputError(f"out must be a directory (or a new path), got an existing file: {str(out)!r}")
    return p


def _check_rows(rows) -> tuple:
    rows = tuple(check_int("rows", r, minimum=1) for r in rows)
    for r in rows:
        if r not in ROW_RUNNERS:
            raise InputError(f"rows must be in 1..{len(ROW_RUNNERS)}, got {r}")
    return rows


def _run_row(config, r: int, out: Path | None, resume: bool, workers, show: bool):
    """One row: reused from ``out`` if finished with the same settings, else computed and saved at once."""
    h = row_hash(config, r)
    path = None if out is None else out / "rows" / f"row{r}.json"
    res = load_row(path, h) if (resume and path is not None and path.exists()) else None
    if res is not None:
        return res, True
    parts_dir = None if out is None else out / "rows" / f"row{r}.parts"
    res = ROW_RUNNERS[r](config, workers, show, PartStore(parts_dir if resume else None, h))
    if path is not None:
        atomic_write(path, json.dumps({"hash": h, "result": res.to_dict()}, allow_nan=False))
        if parts_dir is not None and parts_dir.is_dir():
            shutil.rmtree(parts_dir, ignore_errors=True)  # the row file now holds everything
    return res, False


def run_validation(config: ValidationConfig | None = None, out_dir=None, *, rows=(1, 2, 3, 4, 5, 6, 7),
                   resume: bool = True, workers: int | None = None, progress: bool | None = None,
                   command: str | None = None) -> ValidationReport:
    """Run the comparisons and (if ``out_dir`` is given) write every finished row at once.

    Parameters
    ----------
    config : ValidationConfig, optional
        Default: ``validation_config("default", 0)``.
    out_dir : path, optional
        Output folder; rows go to ``out_dir/rows/rowN.json`` as soon as each finishes, then
        ``results.json`` (numbers only; :func:`langevin_grok.report.validation.write_outputs` renders
        ``report.md`` and the figures from the returned report). ``None``: nothing is written.
    rows : sequence of int
        Which rows (1..7) to run.
    resume : bool
        Reuse rows already in ``out_dir`` whose settings hash matches (default True).
    workers : int, optional
        numba threads for the Langevin kernel (results do not depend on it).
    progress : bool or None
        tqdm bars on stderr (None: only on a terminal).
    command : str, optional
        The command line, recorded in results.json.

    Returns
    -------
    ValidationReport
    """
    config = config or validation_config()
    if not isinstance(config, ValidationConfig):
        raise InputError(f"config must be a ValidationConfig, got {type(config).__name__}")
    rows = _check_rows(rows)
    if workers is not None:
        workers = check_int("workers", workers, minimum=1)
    out = None if out_dir is None else check_out_dir(out_dir)
    if out is not None:
        (out / "rows").mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.perf_counter()
    results, reused = [], []
    show = bool(progress) if progress is not None else sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), unit="row", desc="validate", file=sys.stderr)
    try:
        for r in rows:
            if bar is not None:
                bar.set_postfix_str(f"row {r}: {ROW_IDS[r]}")
            res, was_reused = _run_row(config, r, out, resume, workers, show)
            results.append(res)
            if was_reused:
                reused.append(r)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    report = ValidationReport(
        config=config, rows=tuple(results), out_dir=None if out is None else str(out),
        wall_seconds=time.perf_counter() - t0, command=command or "langevin_grok.validation.run_validation",
        environment=environment(), started=started, reused_rows=tuple(reused),
    )
    if out is not None:
        write_results(report, out)
    return report


def write_results(report: ValidationReport, out) -> None:
    """``out/results.json``: every number of the run (atomic write)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "results.json", json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
