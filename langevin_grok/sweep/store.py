"""The sweep store: an embedded SQLite database (stdlib :mod:`sqlite3`, WAL journal).

Only the parent process of a sweep writes. Each finished task is one transaction (an upsert on the
task's unique key), committed the moment its result arrives, so ``kill -9`` loses at most the
tasks in flight: they were never written, and a rerun computes them. A task that raised is stored
with status ``"failed"`` and its traceback; a rerun retries it. A ``"done"`` row is never
overwritten, so no task is ever stored twice, even when two sweeps share a store.

Tables: ``tasks`` (one row per finished task: key, sweep, kind, kind_version, params JSON, replica,
seed, status, result JSON, error, wall_time [s], host, pid of the process that ran it, started_at,
finished_at (UTC ISO 8601), package_version, run_id), ``runs`` (one row per invocation: the
configuration, executor, counts, timestamps) and ``meta`` (schema version).
Result JSON keeps non-finite floats (``Infinity``/``NaN``, which Python's json reads back).
Keep the store on a local disk: SQLite's WAL mode needs shared memory, which network file systems
(NFS) do not provide reliably.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .. import __version__
from .._core.checks import InputError

__all__ = ["SweepStore", "SCHEMA_VERSION", "utc_now", "to_json"]

SCHEMA_VERSION = "1"

_DDL = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY AUTOINCREMENT,
    sweep TEXT NOT NULL, kind TEXT NOT NULL, config TEXT NOT NULL, source TEXT,
    executor TEXT NOT NULL, n_tasks INTEGER NOT NULL, n_todo INTEGER NOT NULL,
    n_done INTEGER, n_failed INTEGER, status TEXT NOT NULL,
    host TEXT NOT NULL, pid INTEGER NOT NULL, package_version TEXT NOT NULL,
    started_at TEXT NOT NULL, finished_at TEXT
);
CREATE TABLE IF NOT EXISTS tasks (
    key TEXT PRIMARY KEY NOT NULL,
    sweep TEXT NOT NULL, kind TEXT NOT NULL, kind_version TEXT NOT NULL,
    params TEXT NOT NULL, replica INTEGER NOT NULL, seed INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    result TEXT, error TEXT, wall_time REAL,
    host TEXT, pid INTEGER, started_at TEXT, finished_at TEXT,
    package_version TEXT NOT NULL, run_id INTEGER REFERENCES runs(run_id)
);
CREATE INDEX IF NOT EXISTS tasks_kind ON tasks(kind);
"""


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def to_json(obj) -> str:
    """JSON text of a task result (numpy values and objects with ``to_dict`` are converted)."""
    return json.dumps(obj, default=_default, sort_keys=True, separators=(",", ":"), allow_nan=True)


def _check_identity(path: Path) -> None:
    """InputError unless ``path`` is empty or a langevin-grok sweep database of this schema (opened read-only)."""
    if path.stat().st_size == 0:
        return
    try:
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=60.0)
    except sqlite3.Error as exc:
        raise InputError(f"store {str(path)!r} cannot be opened ({exc})") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return
        if not {"meta", "runs", "tasks"} <= tables:
            raise InputError(f"store {str(path)!r} is an SQLite file but not a langevin-grok sweep database")
        row = conn.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"store {str(path)!r} is not a langevin-grok sweep database ({exc})") from None
    finally:
        conn.close()
    if row is None or row[0] != SCHEMA_VERSION:
        raise InputError(f"store {str(path)!r} has schema version {None if row is None else row[0]}, "
                         f"this langevin-grok writes {SCHEMA_VERSION}")


class SweepStore:
    """A sweep database at ``path`` (created with its tables if absent, unless ``create=False``).

    Parameters
    ----------
    path : str or PathLike
    create : bool
        If False and the file does not exist, raise InputError instead of creating it.
    """

    def __init__(self, path, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise InputError(f"store not found: {str(self.path)!r}")
        if self.path.exists() and self.path.is_dir():
            raise InputError(f"store must be a file path, got the folder {str(self.path)!r}")
        if self.path.exists():
            _check_identity(self.path)  # read-only: a foreign database is refused before anything is written
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, one transaction per task.
        self.conn = sqlite3.connect(str(self.path), timeout=60.0, isolation_level=None)
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=FULL")
            self.conn.execute("PRAGMA busy_timeout=60000")
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise InputError(f"store {str(self.path)!r} is not a langevin-grok sweep database ({exc})") from None

    def _init_schema(self) -> None:
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise InputError(f"store {str(self.path)!r} is an SQLite file but not a langevin-grok sweep database")
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            for stmt in filter(None, (s.strip() for s in _DDL.split(";"))):
                self.conn.execute(stmt)
            row = self.conn.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
            if row is None:
                self.conn.execute("INSERT INTO meta(name, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                raise InputError(
                    f"store {str(self.path)!r} has schema version {row[0]}, this langevin-grok writes {SCHEMA_VERSION}"
                )
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ context manager
    def close(self) -> None:
        self.conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ------------------------------------------------------------------ queries
    def done_keys(self, keys=None) -> set[str]:
        """Keys with status ``"done"`` (restricted to ``keys`` if given)."""
        rows = self.conn.execute("SELECT key FROM tasks WHERE status='done'")
        done = {r[0] for r in rows}
        return done if keys is None else done & set(keys)

    def count(self, status: str | None = None) -> int:
        if status is None:
            return self.conn.execute("SELECT COUNT(*) FROM tasks").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM tasks WHERE status=?", (status,)).fetchone()[0]

    def rows(self, keys=None, kind: str | None = None, sweep: str | None = None,
             status: str | None = "done") -> list[dict]:
        """Stored tasks as dicts (params and result parsed from JSON), filtered as asked.

        With ``keys``, rows come in the order of ``keys`` (missing keys are skipped);
        otherwise in the order they were written.
        """
        where, args = [], []
        for col, val in (("kind", kind), ("sweep", sweep), ("status", status)):
            if val is not None:
                where.append(f"{col}=?")
                args.append(val)
        sql = "SELECT * FROM tasks" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY rowid"
        cur = self.conn.execute(sql, args)
        names = [d[0] for d in cur.description]
        out = []
        for r in cur:
            d = dict(zip(names, r))
            d["params"] = json.loads(d["params"])
            d["result"] = None if d["result"] is None else json.loads(d["result"])
            out.append(d)
        if keys is not None:
            by_key = {d["key"]: d for d in out}
            out = [by_key[k] for k in keys if k in by_key]
        return out

    def runs(self) -> list[dict]:
        cur = self.conn.execute("SELECT * FROM runs ORDER BY run_id")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur]

    # ------------------------------------------------------------------ writes (parent only)
    def _tx(self, sql: str, args) -> sqlite3.Cursor:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            cur = self.conn.execute(sql, args)
            self.conn.execute("COMMIT")
            return cur
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise

    def start_run(self, sweep: str, kind: str, config: str, source: str, executor: str,
                  n_tasks: int, n_todo: int) -> int:
        cur = self._tx(
            "INSERT INTO runs(sweep, kind, config, source, executor, n_tasks, n_todo, status, host, pid, "
            "package_version, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
            (sweep, kind, config, source, executor, n_tasks, n_todo, socket.gethostname(), os.getpid(),
             __version__, utc_now()),
        )
        return int(cur.lastrowid)

    def finish_run(self, run_id: int, n_done: int, n_failed: int, status: str) -> None:
        self._tx("UPDATE runs SET n_done=?, n_failed=?, status=?, finished_at=? WHERE run_id=?",
                 (n_done, n_failed, status, utc_now(), run_id))

    def record(self, task, sweep: str, kind_version: str, outcome: dict, run_id: int | None) -> str:
        """Write one finished task in its own transaction; return the stored status.

        ``outcome`` is what the worker returned: ``ok``, ``result`` or ``error``, ``wall_time``,
        ``host``, ``pid``, ``started_at``, ``finished_at``. A result that is not JSON-serialisable
        is stored as a failure. An existing ``"done"`` row is left untouched.
        """
        status, result, error = "failed", None, outcome.get("error")
        if outcome.get("ok"):
            try:
                result = to_json(outcome["result"])
                status, error = "done", None
            except (TypeError, ValueError) as exc:
                error = f"result is not JSON-serialisable: {exc}"
        self._tx(
            "INSERT INTO tasks(key, sweep, kind, kind_version, params, replica, seed, status, result, error, "
            "wall_time, host, pid, started_at, finished_at, package_version, run_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET status=excluded.status, result=excluded.result, error=excluded.error, "
            "wall_time=excluded.wall_time, host=excluded.host, pid=excluded.pid, started_at=excluded.started_at, "
            "finished_at=excluded.finished_at, package_version=excluded.package_version, run_id=excluded.run_id "
            "WHERE tasks.status <> 'done'",
            (task.key, sweep, task.kind, kind_version, to_json(task.params), task.replica, task.seed, status,
             result, error, outcome.get("wall_time"), outcome.get("host"), outcome.get("pid"),
             outcome.get("started_at"), outcome.get("finished_at"), __version__, run_id),
        )
        return status
