"""Parameter sweeps that never lose work: TOML configuration, SQLite store, local and dask executors.

A sweep is a task kind (a registered function ``f(params, seed) -> dict``, see :mod:`.registry`)
evaluated over a grid of parameters and seeds (:mod:`.config`). Each finished task is written to an
embedded SQLite database the moment it finishes (:mod:`.store`); a rerun skips finished tasks, so a
killed sweep loses only the tasks in flight. Tasks run in local processes or on a dask.distributed
cluster (:mod:`.run`) with identical results for the same seeds.

Examples
--------
>>> from langevin_grok.sweep import load_config
>>> cfg = load_config({"sweep": {"kind": "landscape"}, "grid": {"beta": [0.29, 0.32]},
...                    "fixed": {"depth": 3, "sv": 0.8}})
>>> [t.params["beta"] for t in cfg.tasks]
[0.29, 0.32]
"""

from .config import SweepConfig, Task, expand_tasks, load_config, task_key, task_seed
from .registry import TaskKind, get_task, list_kinds, register_task
from .run import SweepSummary, default_store_path, execute_task, load_results, plan, results_array, run_sweep
from .schema import REQUIRED, Param
from .store import SweepStore

__all__ = [
    "Param",
    "REQUIRED",
    "TaskKind",
    "register_task",
    "get_task",
    "list_kinds",
    "SweepConfig",
    "Task",
    "load_config",
    "expand_tasks",
    "task_key",
    "task_seed",
    "SweepStore",
    "SweepSummary",
    "run_sweep",
    "plan",
    "load_results",
    "results_array",
    "execute_task",
    "default_store_path",
]
