"""Registry of sweep task kinds: ``register_task(kind, function, schema)``.

A task kind is a module-level function ``function(params: dict, seed: int) -> dict`` returning
JSON-serialisable results, plus the schema of ``params`` (see :mod:`.schema`). Functions must be
importable by their module and name, because local worker processes and dask workers receive them
by reference.

Kinds of other layers are wired lazily: the first lookup of ``"simulate"``, ``"kramers"`` or
``"sgd"`` imports :mod:`langevin_grok.langevin.engine`, :mod:`langevin_grok.theory.kramers` or
:mod:`langevin_grok.sgd.trainer` and registers that module's ``sweep_task(params, seed)`` with its
``SWEEP_SCHEMA`` (optional: ``SWEEP_STOCHASTIC`` (default True), ``SWEEP_VERSION`` (default "1"),
``SWEEP_CHECK(params)`` raising InputError for combinations of values, ``SWEEP_HELP``). A module
without the hook falls back on the adapter of the same name in :mod:`.adapters` (if any).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._core.checks import InputError
from .schema import Param, as_schema

__all__ = ["TaskKind", "register_task", "get_task", "list_kinds", "LAZY_KINDS"]


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

# kind -> module providing sweep_task / SWEEP_SCHEMA; imported on first use.
LAZY_KINDS = {
    "simulate": "langevin_grok.langevin.engine",
    "kramers": "langevin_grok.theory.kramers",
    "sgd": "langevin_grok.sgd.trainer",
}

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


def _load_lazy(kind: str) -> TaskKind | None:
    """Import the module behind a lazy kind; None if it does not exist or has no sweep hook."""
    modname = LAZY_KINDS[kind]
    try:
        mod = importlib.import_module(modname)
    except ModuleNotFoundError as exc:
        if exc.name == modname:
            return None
        raise
    func = getattr(mod, "sweep_task", None)
    schema = getattr(mod, "SWEEP_SCHEMA", None)
    if func is None or schema is None:
        # no hook in the layer's module: fall back on the adapter built from its public API
        from .adapters import ADAPTERS

        return ADAPTERS[kind]() if kind in ADAPTERS else None
    return register_task(
        kind,
        func,
        schema,
        stochastic=getattr(mod, "SWEEP_STOCHASTIC", True),
        version=getattr(mod, "SWEEP_VERSION", "1"),
        check=getattr(mod, "SWEEP_CHECK", None),
        help=getattr(mod, "SWEEP_HELP", (mod.__doc__ or "").strip().splitlines()[0] if mod.__doc__ else ""),
        replace=True,
    )


def get_task(kind: str) -> TaskKind:
    """The registered kind ``kind`` (importing its module if it is a lazy kind).

    Raises
    ------
    InputError
        ``sweep.kind`` is not a known or available kind.
    """
    _load_builtins()
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    if kind in LAZY_KINDS:
        tk = _load_lazy(kind)
        if tk is not None:
            return tk
        raise InputError(
            f"sweep.kind {kind!r} is not available: {LAZY_KINDS[kind]} does not exist yet or defines no "
            "sweep_task/SWEEP_SCHEMA"
        )
    raise InputError(
        f"sweep.kind must be one of {', '.join(list_kinds(include_lazy=False))} (or, when their layers "
        f"provide them, {', '.join(k for k in LAZY_KINDS if k not in _REGISTRY)}), got {kind!r}"
    )


def list_kinds(include_lazy: bool = True) -> list[str]:
    """Names of the available kinds.

    With ``include_lazy`` the lazy kinds' modules are imported; a kind whose module is missing or
    fails to import is left out (``get_task(kind)`` shows the error).
    """
    _load_builtins()
    if include_lazy:
        for kind in LAZY_KINDS:
            if kind not in _REGISTRY:
                try:
                    _load_lazy(kind)
                except Exception:  # noqa: BLE001 - a broken layer must not hide the others
                    pass
    return sorted(_REGISTRY)
