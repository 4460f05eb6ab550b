"""Sweep configuration: TOML (or an equivalent dict) -> validated :class:`SweepConfig` -> tasks.

Layout::

    [sweep]
    kind = "simulate"               # a registered task kind (langevin-grok sweep --list-kinds)
    name = "arc-T-scan"             # optional; default: the file's stem
    seeds = 8                       # replicas per grid point (int), or an explicit list of seeds
    base_seed = 2026                # optional, default 0
    store = "arc-T-scan.sqlite"     # optional; relative to the config file's folder

    [grid]                          # lists; the tasks are their Cartesian product
    temperature = [0.004, 0.006]

    [fixed]                         # scalars (or a list for list-valued parameters such as sv)
    depth = 3

Every key is checked against the kind's schema before any work starts; errors name the key.
Per-task seeds: with ``seeds = N`` replica r of the grid point with parameters P gets
``SeedSequence(base_seed, spawn_key=(digest(P), r))`` reduced to 63 bits, so a task's seed depends
only on (base_seed, P, r): not on the executor, on the order, or on the other grid points (extending
a grid keeps the tasks already done). With ``seeds = [s0, s1, ...]`` replica r uses s_r as given.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .._core.seeds import seed_int
from .._core.checks import InputError, check_int
from .registry import TaskKind, get_task

__all__ = ["SweepConfig", "Task", "load_config", "expand_tasks", "canonical_json", "task_key", "task_seed"]

_SWEEP_KEYS = ("kind", "name", "seeds", "base_seed", "store")
_TABLES = ("sweep", "grid", "fixed")
_SEED_LIMIT = 2**63  # SQLite INTEGER is signed 64-bit
MAX_TASKS = 100_000  # a sweep with more tasks is refused before expansion (a 1e6-task dry run took 1.6 GB)
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")  # a safe file-name slug (the default store name)


def canonical_json(obj) -> str:
    """Stable JSON text (sorted keys, no spaces, exact float repr) used for keys and storage."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _digest_words(text: str, n: int = 4) -> tuple[int, ...]:
    d = hashlib.sha256(text.encode()).digest()
    return tuple(int(w) for w in np.frombuffer(d[: 4 * n], dtype="<u4"))


def task_seed(base_seed: int, params: dict, replica: int) -> int:
    """Seed of replica ``replica`` at parameters ``params`` (a 63-bit non-negative int)."""
    ss = np.random.SeedSequence(entropy=int(base_seed), spawn_key=(*_digest_words(canonical_json(params)), int(replica)))
    return seed_int(ss)


def task_key(kind: str, version: str, params: dict, seed: int) -> str:
    """Unique key of a task: a hash of kind, kind version, canonical params and seed (32 hex digits)."""
    text = canonical_json({"kind": kind, "version": version, "params": params, "seed": int(seed)})
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Task:
    """One unit of work: ``function(params, seed)``.

    Attributes
    ----------
    index : int
        Position in the expanded sweep (grid order, replicas innermost).
    kind : str
    params : dict
        Every schema parameter, in canonical types (defaults filled in).
    replica : int
    seed : int
    key : str
        :func:`task_key`; the store's primary key.
    """

    index: int
    kind: str
    params: dict
    replica: int
    seed: int
    key: str

    def to_dict(self) -> dict:
        return {"index": self.index, "kind": self.kind, "params": dict(self.params),
                "replica": self.replica, "seed": self.seed, "key": self.key}


@dataclass(frozen=True)
class SweepConfig:
    """A validated sweep configuration (see the module docstring for the TOML layout).

    Attributes
    ----------
    kind : str
    name : str
    seeds : int or tuple of int
        Number of replicas, or explicit seeds.
    base_seed : int
    store : Path or None
        Store path from the config (already resolved against the config file's folder).
    grid : dict of str -> list
        Coerced grid values, in file order (the last key varies fastest).
    fixed : dict
        Coerced fixed values.
    source : str
        Config file path, or "<dict>".
    text : str
        The configuration as canonical JSON, recorded in the store's run table.
    tasks : tuple of Task
    """

    kind: str
    name: str
    seeds: int | tuple
    base_seed: int
    store: Path | None
    grid: dict
    fixed: dict
    source: str
    text: str
    tasks: tuple = field(repr=False)

    @property
    def task_kind(self) -> TaskKind:
        return get_task(self.kind)


def _read(config_or_path) -> tuple[dict, str, Path | None]:
    if isinstance(config_or_path, Mapping):
        return dict(config_or_path), "<dict>", None
    if not isinstance(config_or_path, (str, os.PathLike)):
        raise InputError(f"config must be a path to a TOML file or a dict, got {config_or_path!r}")
    path = Path(config_or_path)
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"config file not found: {str(path)!r}") from None
    except IsADirectoryError:
        raise InputError(f"config must be a TOML file, got the folder {str(path)!r}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"config {str(path)!r} is not valid TOML: {exc}") from None
    return data, str(path), path.parent


def _seeds(value) -> int | tuple:
    if isinstance(value, list):
        if not value:
            raise InputError("sweep.seeds must be a positive integer or a non-empty list of seeds, got []")
        seeds = []
        for i, s in enumerate(value):
            n = check_int(f"sweep.seeds[{i}]", s, minimum=0)
            if n >= _SEED_LIMIT:
                raise InputError(f"sweep.seeds[{i}] must be < 2**63, got {s!r}")
            seeds.append(n)
        if len(set(seeds)) != len(seeds):
            raise InputError(f"sweep.seeds has duplicate seeds: {value!r}")
        return tuple(seeds)
    return check_int("sweep.seeds", value, minimum=1, maximum=MAX_TASKS)


def load_config(config_or_path) -> SweepConfig:
    """Read and validate a sweep configuration; expand its tasks.

    Parameters
    ----------
    config_or_path : str, PathLike or mapping
        A TOML file, or a dict with the same tables (``{"sweep": {...}, "grid": {...}, "fixed": {...}}``).

    Returns
    -------
    SweepConfig

    Raises
    ------
    InputError
        Unknown table or key, wrong type, impossible value, missing required parameter, a key in
        both [grid] and [fixed], duplicate grid values: the message names the key. Nothing is written.
    """
    data, source, folder = _read(config_or_path)
    for table in data:
        if table not in _TABLES:
            raise InputError(f"unknown table [{table}] in the config (allowed: {', '.join(_TABLES)})")
    for table in _TABLES:
        if table in data and not isinstance(data[table], Mapping):
            raise InputError(f"{table} must be a table, got {data[table]!r}")
    sweep = dict(data.get("sweep", {}))
    grid_in = dict(data.get("grid", {}))
    fixed_in = dict(data.get("fixed", {}))
    for k in sweep:
        if k not in _SWEEP_KEYS:
            raise InputError(f"unknown key sweep.{k} (allowed: {', '.join(_SWEEP_KEYS)})")
    if "kind" not in sweep:
        raise InputError("sweep.kind is required (langevin-grok sweep --list-kinds lists the kinds)")
    if not isinstance(sweep["kind"], str):
        raise InputError(f"sweep.kind must be a string, got {sweep['kind']!r}")
    tk = get_task(sweep["kind"])
    # the file's stem made safe (spaces and the like become '-'); an explicit name must already be a slug
    default_name = (re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source).stem).strip(".-_").replace("..", ".")
                    or tk.kind) if folder is not None else tk.kind
    name = sweep.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"sweep.name must be a non-empty string, got {name!r}")
    if not _NAME_RE.fullmatch(name) or name.endswith(".") or ".." in name:
        raise InputError(f"sweep.name must be a file-name slug (letters, digits, '.', '_', '-'; up to 128 characters, "
                         f"starting with a letter or digit), got {name!r}")
    seeds = _seeds(sweep.get("seeds", 1))
    n_rep = seeds if isinstance(seeds, int) else len(seeds)
    if not tk.stochastic and n_rep != 1:
        raise InputError(f"sweep.seeds must be 1 for the deterministic kind {tk.kind!r}, got {sweep['seeds']!r}")
    base_seed = check_int("sweep.base_seed", sweep.get("base_seed", 0), minimum=0)
    store = sweep.get("store")
    if store is not None:
        if not isinstance(store, str) or not store:
            raise InputError(f"sweep.store must be a file path string, got {store!r}")
        store = Path(store)
        if folder is not None and not store.is_absolute():
            store = folder / store

    schema = tk.schema
    for table, values in (("grid", grid_in), ("fixed", fixed_in)):
        for k in values:
            if k not in schema:
                raise InputError(f"unknown key {table}.{k} for kind {tk.kind!r} (parameters: {', '.join(schema)})")
    both = set(grid_in) & set(fixed_in)
    if both:
        k = sorted(both)[0]
        raise InputError(f"key {k} is set in both [grid] and [fixed]")
    fixed = {k: schema[k].coerce(f"fixed.{k}", v) for k, v in fixed_in.items()}
    grid = {}
    for k, values in grid_in.items():
        if not isinstance(values, list) or not values:
            raise InputError(f"grid.{k} must be a non-empty list of values, got {values!r}")
        coerced = [schema[k].coerce(f"grid.{k}[{i}]", v) for i, v in enumerate(values)]
        texts = [canonical_json(v) for v in coerced]
        if len(set(texts)) != len(texts):
            raise InputError(f"grid.{k} has duplicate values: {values!r}")
        grid[k] = coerced
    n_points = math.prod(len(v) for v in grid.values())
    if n_points * n_rep > MAX_TASKS:
        raise InputError(f"the sweep has {n_points * n_rep} tasks ({n_points} grid points x {n_rep} seeds), more than "
                         f"the limit {MAX_TASKS}: split it into several sweeps")
    base = {}
    for k, p in schema.items():
        if k in fixed:
            base[k] = fixed[k]
        elif k not in grid:
            if p.required:
                raise InputError(f"{k} is required by kind {tk.kind!r}: set it in [fixed] or [grid]")
            base[k] = p.default

    tasks = []
    keys = list(grid)
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = dict(base)
        params.update(zip(keys, combo))
        params = {k: params[k] for k in schema}  # schema order: stable and readable
        if tk.check is not None:
            tk.check(params)
        for r in range(n_rep):
            seed = task_seed(base_seed, params, r) if isinstance(seeds, int) else seeds[r]
            tasks.append(Task(len(tasks), tk.kind, params, r, seed, task_key(tk.kind, tk.version, params, seed)))
    text = canonical_json({"sweep": {"kind": tk.kind, "name": name, "seeds": list(seeds) if isinstance(seeds, tuple) else seeds,
                                     "base_seed": base_seed}, "grid": grid, "fixed": fixed})
    return SweepConfig(tk.kind, name, seeds, base_seed, store, grid, fixed, source, text, tuple(tasks))


def expand_tasks(config_or_path) -> tuple[Task, ...]:
    """The tasks of a configuration (validating it)."""
    cfg = config_or_path if isinstance(config_or_path, SweepConfig) else load_config(config_or_path)
    return cfg.tasks
