"""Registry of sweep task kinds: ``register_task(kind, function, schema)``.

A task kind is a module-level function ``function(params: dict, seed: int) -> dict`` returning
JSON-serialisable results, plus the schema of ``params`` (see :mod:`.schema`). Functions must be
importable by their module and name, because local worker processes and dask workers receive them
by reference.

The built-in kinds (:mod:`.kinds`: ``landscape``, ``kramers``, ``simulate``, ``sgd``) are registered on the
first lookup; each task function imports its layer when it runs. A new kind is one ``register_task`` call
(in :mod:`.kinds` for the package's own experiments).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._core.checks import InputError
from .schema import Param, as_schema

__all__ = ["TaskKind", "register_task", "get_task", "list_kinds"]


@dataclass(frozen=True)
class TaskKind:
    """A registered task kind.

    Attributes
    ----------
    kind : str
        Name used in ``[sweep] kind``.
    function : callable
        ``function(params, seed) -> dict`` (JSON-serialisable values).
    schema : dict of str -> Param
    stochastic : bool
        False for deterministic kinds: their sweeps must use ``seeds = 1``.
    version : str
        Part of every task key: bump it when the function's output changes, so a rerun
        recomputes instead of mixing old and new results.
    check : callable or None
        ``check(params)`` for constraints between parameters; raises InputError naming a key.
    help : str
    """

    kind: str
    function: Callable
    schema: dict
    stochastic: bool = True
    version: str = "1"
    check: Callable | None = None
    help: str = ""


_REGISTRY: dict[str, TaskKind] = {}


_BUILTIN_MODULE = "langevin_grok.sweep.kinds"


def register_task(
    kind: str,
    function: Callable,
    schema: Mapping[str, Param | dict],
    *,
    stochastic: bool = True,
    version: str = "1",
    check: Callable | None = None,
    help: str = "",
    replace: bool = False,
) -> TaskKind:
    """Register ``function(params, seed) -> dict`` as task kind ``kind``.

    Parameters
    ----------
    kind : str
        Name used in the ``[sweep]`` table.
    function : callable
        Module-level function (workers import it by name).
    schema : mapping of str -> Param or dict
        Every parameter the function reads; configurations may set nothing else.
    stochastic, version, check, help
        See :class:`TaskKind`.
    replace : bool
        Allow re-registering an existing kind (otherwise ValueError).
    """
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"kind must be a non-empty string, got {kind!r}")
    if not callable(function):
        raise ValueError(f"function must be callable, got {function!r}")
    if kind in _REGISTRY and not replace:
        raise ValueError(f"task kind {kind!r} is already registered")
    tk = TaskKind(kind, function, as_schema(schema), bool(stochastic), str(version), check, help)
    _REGISTRY[kind] = tk
    return tk


def _load_builtins() -> None:
    importlib.import_module(_BUILTIN_MODULE)




def get_task(kind: str) -> TaskKind:
    """The registered kind ``kind``.

    Raises
    ------
    InputError
        ``sweep.kind`` is not a registered kind.
    """
    _load_builtins()
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    raise InputError(f"sweep.kind must be one of {', '.join(list_kinds())}, got {kind!r}")


def list_kinds() -> list[str]:
    """Names of the registered kinds."""
    _load_builtins()
    return sorted(_REGISTRY)
