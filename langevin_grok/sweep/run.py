"""Running a sweep: executors (in-process, local processes, dask.distributed) and the write loop.

Every executor runs the same worker function, :func:`execute_task`, on ``(function, params,
seed)`` and hands its outcome back to the parent, which writes it to the store as soon as it
arrives (``as_completed``). Results depend only on (function, params, seed), never on the executor,
the number of workers or the order of completion.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from .._core.checks import InputError, check_int
from .._core.errors import Terminated
from .config import SweepConfig, Task, load_config
from .store import SweepStore, utc_now

__all__ = ["SweepSummary", "run_sweep", "plan", "load_results", "results_array", "execute_task", "default_store_path"]


def execute_task(function, params: dict, seed: int) -> dict:
    """Run one task and time it (in whatever process the executor chose).

    An exception becomes ``{"ok": False, "error": traceback}`` so that one failing task does not
    stop the sweep; KeyboardInterrupt and SystemExit propagate.
    """
    started = utc_now()
    t0 = time.perf_counter()
    try:
        result = function(dict(params), int(seed))
        ok, error = True, None
    except Exception:  # noqa: BLE001 - recorded in the store with its traceback
        result, ok, error = None, False, traceback.format_exc()
    return {"ok": ok, "result": result, "error": error, "wall_time": time.perf_counter() - t0,
            "host": socket.gethostname(), "pid": os.getpid(), "started_at": started, "finished_at": utc_now()}


# ---------------------------------------------------------------------------------- executors
def _watch_parent() -> None:
    """Worker initializer: exit when the parent dies (kill -9 leaves orphans otherwise).

    A worker whose parent (the sweep process) died is re-parented, so its parent pid changes.
    """
    parent_pid = os.getppid()
    # Ctrl-C reaches the whole process group: the parent stops the workers itself (and marks the run
    # interrupted), so a worker must not die half-way with a KeyboardInterrupt traceback of its own.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def loop():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=loop, name="langevin-grok-parent-watch", daemon=True).start()


def _mp_context():
    """The ``spawn`` start method: never plain fork.

    Forking a process that already runs threads (numba's parallel threading layer after an
    in-process simulation, a dask client, tqdm's monitor) can deadlock or abort the child, so
    workers start as fresh interpreters. They are children of the sweep process, so they notice
    its death (:func:`_watch_parent`); a forkserver would keep them alive as its own children.
    Task functions are passed by reference: they must be importable module-level functions, and
    scripts that call :func:`run_sweep` need the usual ``if __name__ == "__main__":`` guard.
    """
    import multiprocessing as mp

    return mp.get_context("spawn")


def _run_serial(function, tasks: list[Task]) -> Iterator[tuple[Task, dict]]:
    for t in tasks:
        yield t, execute_task(function, t.params, t.seed)


def _run_processes(function, tasks: list[Task], workers: int) -> Iterator[tuple[Task, dict]]:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    ex = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(), initializer=_watch_parent)
    finished = False
    try:
        futures = {ex.submit(execute_task, function, t.params, t.seed): t for t in tasks}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
        finished = True
    finally:
        if not finished:
            # interrupted: results of tasks in flight would not be written anyway, so stop them
            # instead of waiting (shutdown would join the workers)
            for proc in list((getattr(ex, "_processes", None) or {}).values()):
                proc.terminate()
        ex.shutdown(wait=True, cancel_futures=True)


def _connect(scheduler):
    """``(client, owned)`` for a scheduler address or an existing ``distributed.Client``."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - dask is an optional dependency
        raise InputError("--scheduler needs dask.distributed: pip install 'langevin-grok[dask]'") from None
    if isinstance(scheduler, Client):
        return scheduler, False
    if not isinstance(scheduler, str):
        raise InputError(f"scheduler must be an address string or a distributed.Client, got {scheduler!r}")
    if not scheduler.strip():
        raise InputError("scheduler must be a non-empty address such as tcp://127.0.0.1:8786")
    try:
        return Client(scheduler, timeout="30s"), True
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"scheduler: cannot connect to {scheduler!r} ({exc})") from None


def _run_dask(function, tasks: list[Task], client) -> Iterator[tuple[Task, dict]]:
    from distributed import as_completed

    futures = {}
    try:
        for t in tasks:
            # the task key makes the dask key: a duplicate submission is the same dask task
            fut = client.submit(execute_task, function, t.params, t.seed, key=f"langevin-grok-{t.key}", pure=False)
            futures[fut] = t
        for fut in as_completed(futures):
            yield futures[fut], fut.result()
    finally:
        client.cancel(list(futures))


# ---------------------------------------------------------------------------------- API
@dataclass(frozen=True)
class SweepSummary:
    """What one :func:`run_sweep` call did.

    Attributes
    ----------
    name, kind : str
    store : str
        Path of the SQLite store.
    executor : str
        ``"serial"``, ``"processes(N)"`` or ``"dask(ADDRESS)"``.
    n_tasks : int
        Tasks in the configuration.
    n_skipped : int
        Already done in the store before this call.
    n_run : int
        Tasks run (and written) by this call.
    n_done, n_failed : int
        Outcome of the tasks run by this call.
    n_done_total : int
        Tasks of this configuration done in the store after this call.
    wall_time : float
        Seconds.
    run_id : int or None
        Row of the store's ``runs`` table (None when there was nothing to run).
    ran_keys, failed_keys : tuple of str
    """

    name: str
    kind: str
    store: str
    executor: str
    n_tasks: int
    n_skipped: int
    n_run: int
    n_done: int
    n_failed: int
    n_done_total: int
    wall_time: float
    run_id: int | None
    ran_keys: tuple
    failed_keys: tuple

    @property
    def complete(self) -> bool:
        return self.n_done_total == self.n_tasks

    def to_dict(self) -> dict:
        d = asdict(self)
        d["ran_keys"], d["failed_keys"] = list(self.ran_keys), list(self.failed_keys)
        d["complete"] = self.complete
        return d


def default_store_path(cfg: SweepConfig) -> Path:
    """The config's ``store`` if set, else ``<name>.sqlite`` in the current folder."""
    return cfg.store if cfg.store is not None else Path(f"{cfg.name}.sqlite")


def _config(config_or_path) -> SweepConfig:
    return config_or_path if isinstance(config_or_path, SweepConfig) else load_config(config_or_path)


def plan(config_or_path, store=None) -> list[tuple[Task, bool]]:
    """Tasks of a sweep and whether each is already done in the store (the store is not created)."""
    cfg = _config(config_or_path)
    path = Path(store) if store is not None else default_store_path(cfg)
    done = set()
    if path.exists():
        with SweepStore(path, create=False) as st:
            done = st.done_keys(t.key for t in cfg.tasks)
    return [(t, t.key in done) for t in cfg.tasks]


def run_sweep(config_or_path, store=None, workers: int | None = None, scheduler=None,
              progress: bool = True) -> SweepSummary:
    """Run every task of a sweep that is not yet done in the store.

    Parameters
    ----------
    config_or_path : str, PathLike, dict or SweepConfig
        The configuration (validated completely before anything is written).
    store : str or PathLike, optional
        SQLite file; default :func:`default_store_path`.
    workers : int, optional
        Local worker processes (default: ``os.cpu_count()``); 1 runs the tasks in this process.
        Ignored with ``scheduler``.
    scheduler : str or distributed.Client, optional
        Address of a dask.distributed scheduler (``"tcp://host:8786"``) or a Client: run the tasks
        on that cluster (its workers must be able to import langevin_grok).
    progress : bool
        Show a tqdm bar (with estimated time left) on stderr.

    Returns
    -------
    SweepSummary

    Notes
    -----
    Only this process writes to the store, one transaction per finished task, so an interrupted
    sweep (Ctrl-C, ``kill -9``, a lost node) loses only the tasks in flight; rerunning the same
    call computes exactly the tasks that are missing.
    """
    t0 = time.perf_counter()
    cfg = _config(config_or_path)
    tk = cfg.task_kind
    client, own_client = None, False
    if scheduler is None:
        workers = (os.cpu_count() or 1) if workers is None else check_int("workers", workers, minimum=1)
        executor = "serial" if workers == 1 else f"processes({workers})"
    else:
        # connect before touching the store: an unreachable scheduler leaves nothing behind
        client, own_client = _connect(scheduler)
        executor = f"dask({client.scheduler.address})"
    path = Path(store) if store is not None else default_store_path(cfg)
    try:
        return _run(cfg, tk, path, executor, workers, client, progress, t0)
    finally:
        if own_client:
            client.close()


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (a scheduler, ``timeout``) ends the sweep like Ctrl-C: the run is marked interrupted, the pool is
    shut down and no semaphore leaks. Installed only in the main thread and only over the default handler."""
    try:
        installed = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL and \
            signal.signal(signal.SIGTERM, _raise_terminated) is not None
    except ValueError:  # not the main thread
        installed = False
    try:
        yield
    finally:
        if installed:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _run(cfg, tk, path, executor, workers, client, progress, t0) -> SweepSummary:
    with _sigterm_as_interrupt():
        return _run_store(cfg, tk, path, executor, workers, client, progress, t0)


def _run_store(cfg, tk, path, executor, workers, client, progress, t0) -> SweepSummary:
    with SweepStore(path) as st:
        done = st.done_keys(t.key for t in cfg.tasks)
        todo = [t for t in cfg.tasks if t.key not in done]
        ran, failed = [], []
        run_id = None
        if todo:
            run_id = st.start_run(cfg.name, cfg.kind, cfg.text, cfg.source, executor, len(cfg.tasks), len(todo))
            if client is not None:
                stream = _run_dask(tk.function, todo, client)
            elif workers == 1 or len(todo) == 1:
                stream = _run_serial(tk.function, todo)
            else:
                stream = _run_processes(tk.function, todo, min(workers, len(todo)))
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(todo), desc=cfg.name, unit="task", file=sys.stderr, dynamic_ncols=True)
            status = "interrupted"
            try:
                for task, outcome in stream:
                    s = st.record(task, cfg.name, tk.version, outcome, run_id)
                    ran.append(task.key)
                    if s != "done":
                        failed.append(task.key)
                    if bar is not None:
                        bar.update(1)
                        if failed:
                            bar.set_postfix(failed=len(failed))
                status = "finished"
            finally:
                stream.close()
                if bar is not None:
                    bar.close()
                st.finish_run(run_id, len(ran) - len(failed), len(failed), status)
        n_done_total = len(st.done_keys(t.key for t in cfg.tasks))
    return SweepSummary(
        name=cfg.name, kind=cfg.kind, store=str(path), executor=executor, n_tasks=len(cfg.tasks),
        n_skipped=len(done), n_run=len(ran), n_done=len(ran) - len(failed), n_failed=len(failed),
        n_done_total=n_done_total, wall_time=time.perf_counter() - t0, run_id=run_id,
        ran_keys=tuple(ran), failed_keys=tuple(failed),
    )


def load_results(store, config=None, kind: str | None = None, sweep: str | None = None,
                 status: str | None = "done", as_array: bool = False):
    """Results from a store.

    Parameters
    ----------
    store : str or PathLike
        An existing sweep store.
    config : str, PathLike, dict or SweepConfig, optional
        Only the tasks of this configuration, in its task order.
    kind, sweep : str, optional
        Filters on the task kind and the sweep name that first stored each task.
    status : {"done", "failed", None}
        None returns every row.
    as_array : bool
        Return :func:`results_array` of the rows instead of the list.

    Returns
    -------
    list of dict
        One dict per task: ``key``, ``sweep``, ``kind``, ``params`` (dict), ``replica``, ``seed``,
        ``status``, ``result`` (dict), ``error``, ``wall_time`` (s), ``host``, ``pid``,
        ``started_at``, ``finished_at``, ``package_version``, ``run_id``.
    """
    keys = None if config is None else [t.key for t in _config(config).tasks]
    with SweepStore(store, create=False) as st:
        rows = st.rows(keys=keys, kind=kind, sweep=sweep, status=status)
    return results_array(rows) if as_array else rows


def results_array(rows: Iterable[dict]):
    """Flatten rows into a numpy structured array: one field per scalar parameter and result.

    Fields: ``seed``, ``replica``, ``wall_time``, then every parameter and every result entry
    whose values are scalars (bool, int, float or str) in all rows (nested dicts are flattened with
    dotted names, ``"kramers_1d.tau"``); int/float fields with missing
    values (None) become float64 with NaN; list- and dict-valued entries are left out (read them
    from :func:`load_results`). A result field that clashes with a parameter name gets the prefix
    ``result_``.
    """
    import numpy as np

    rows = list(rows)
    cols: dict[str, list] = {"seed": [r["seed"] for r in rows], "replica": [r["replica"] for r in rows],
                             "wall_time": [r["wall_time"] for r in rows]}

    def flat(d, prefix=""):
        out = {}
        for k, v in (d or {}).items():
            if isinstance(v, dict):
                out.update(flat(v, f"{prefix}{k}."))
            else:
                out[f"{prefix}{k}"] = v
        return out

    def gather(source: str, prefix_on_clash: str):
        flats = [flat(r[source]) for r in rows]
        names = []
        for f in flats:
            for k in f:
                if k not in names:
                    names.append(k)
        for k in names:
            vals = [f.get(k) for f in flats]
            name = f"{prefix_on_clash}{k}" if k in cols else k
            cols[name] = vals

    gather("params", "param_")
    gather("result", "result_")
    fields, data = [], []
    for name, vals in cols.items():
        present = [v for v in vals if v is not None]
        if present and all(isinstance(v, bool) for v in present) and len(present) == len(vals):
            fields.append((name, np.bool_))
        elif present and all(isinstance(v, int) and not isinstance(v, bool) for v in present) \
                and len(present) == len(vals) and all(-(2**63) <= v < 2**63 for v in present):
            fields.append((name, np.int64))
        elif present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
            fields.append((name, np.float64))
            vals = [np.nan if v is None else float(v) for v in vals]
        elif present and all(isinstance(v, str) for v in present):
            width = max(1, *(len(v) for v in present))
            fields.append((name, f"U{width}"))
            vals = ["" if v is None else v for v in vals]
        elif not present and vals:
            continue  # all None: nothing to store
        elif not vals:
            fields.append((name, np.float64))
        else:
            continue  # lists, dicts, mixed types
        data.append(vals)
    arr = np.empty(len(rows), dtype=fields)
    for (name, _), vals in zip(fields, data):
        arr[name] = vals
    return arr
