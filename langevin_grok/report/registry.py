"""The figure registry: a figure is one registered function returning a :class:`FigureResult`.

A figure is one function registered with :func:`register_figure`::

    @register_figure("fig1a", title="...", kind="simulation", order=1.1)
    def fig1a(*, preset: str, out_dir: Path, seed: int, progress: bool) -> FigureResult:
        ...                                   # run the protocol (short in quick mode), draw with plotting.*
        return finish("fig1a", fig, out_dir, params={...}, numbers={...}, claims=(Claim(...), ...))

``preset`` is ``"quick"`` (the short protocols), ``"full"`` (the paper's seed counts and lengths) or
``"tiny"`` (seconds, for tests); ``seed`` is an integer
derived from the run's root seed and the figure's name (:func:`figure_seed`), so a figure's numbers do not
depend on which other figures run or in which order; ``progress`` turns inner progress bars on.
:func:`finish` writes ``<name>.png`` and ``<name>.pdf`` and packs the parameters, numbers and
reproduction-table rows into a :class:`FigureResult`. The runner is :func:`langevin_grok.report.figures.run_figures`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

from .._core.checks import InputError, check_int
from .._core.seeds import child_seed, name_key
from . import plotting
from .reproduction import Claim, jsonable

__all__ = ["REPORT_NAME", "FigureResult", "FigureSpec", "register_figure", "registered_figures", "get_figure",
           "figure_seed", "finish"]


REPORT_NAME = "REPRODUCTION.md"


@dataclass(frozen=True)
class FigureResult:
    """What one figure wrote and the numbers it used.

    Attributes
    ----------
    name, title : registry name and human title.
    paths : files written (PNG, PDF).
    params : the parameters of the protocol (JSON-able).
    numbers : the numbers measured or computed, to be quoted by the report (JSON-able).
    claims : rows of the reproduction table this figure evaluates.
    caption : one paragraph saying what the figure shows and how it was made.
    seed : integer seed the figure received (None for figures without randomness).
    quick : whether the quick protocol ran.
    elapsed_s : wall time in seconds (filled in by the runner).
    """

    name: str
    title: str
    paths: tuple[str, ...]
    params: dict = field(default_factory=dict)
    numbers: dict = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()
    caption: str = ""
    seed: int | None = None
    quick: bool = True
    elapsed_s: float = math.nan

    def to_dict(self) -> dict:
        """JSON-ready ``dict`` (claims as dicts, NaN as None)."""
        d = asdict(self)
        d["claims"] = [c.to_dict() for c in self.claims]
        return jsonable(d)


@dataclass(frozen=True)
class FigureSpec:
    """A registered figure: name, title, kind (``"theory"`` or ``"simulation"``), order, function."""

    name: str
    title: str
    func: Callable[..., FigureResult]
    kind: str = "theory"
    order: float = 0.0


_REGISTRY: dict[str, FigureSpec] = {}


def register_figure(name: str, *, title: str, kind: str = "theory", order: float | None = None):
    """Decorator registering ``func(*, preset, out_dir, seed, progress) -> FigureResult`` under ``name``.

    ``order`` sorts the figures in listings and in the report (paper order: 1.1 for Fig. 1(a),
    2.2 for Fig. 2(b), ...); by default figures keep their registration order after the others.
    Registering a name twice is an error (it would silently replace a figure).
    """
    if not name or not name.replace("_", "").replace("-", "").isalnum():
        raise InputError(f"name must be a non-empty identifier (letters, digits, _ or -), got {name!r}")
    if kind not in ("theory", "simulation"):
        raise InputError(f"kind must be 'theory' or 'simulation', got {kind!r}")

    def deco(func):
        if name in _REGISTRY:
            raise InputError(f"name: figure {name!r} is already registered")
        _REGISTRY[name] = FigureSpec(name, title, func, kind, 100.0 + len(_REGISTRY) if order is None else order)
        return func

    return deco


def registered_figures() -> tuple[FigureSpec, ...]:
    """All registered figures, sorted by ``order``."""
    return tuple(sorted(_REGISTRY.values(), key=lambda s: s.order))


def get_figure(name: str) -> FigureSpec:
    """The registered figure ``name`` (InputError listing the available names otherwise)."""
    if name not in _REGISTRY:
        names = ", ".join(s.name for s in registered_figures())
        raise InputError(f"figure must be one of {names}, got {name!r}")
    return _REGISTRY[name]


def figure_seed(root_seed: int, name: str) -> int:
    """Seed of figure ``name`` in a run with ``root_seed``: a 63-bit integer from a SeedSequence.

    Keyed by the name (CRC-32), not by the position in the run, so adding or skipping figures does
    not change any other figure's random numbers.
    """
    return child_seed(check_int("seed", root_seed, minimum=0), name_key(name))


def finish(name: str, fig, out_dir, *, params: dict | None = None, numbers: dict | None = None,
           claims: Sequence[Claim] = (), caption: str = "", dpi: int = 150) -> FigureResult:
    """Save ``fig`` as ``out_dir/<name>.png`` and ``.pdf`` and return the figure's result.

    The title comes from the registry; each claim gets ``figure=name``.
    """
    spec = get_figure(name)
    paths = plotting.save_figure(fig, out_dir, name, dpi=dpi)
    return FigureResult(
        name=name, title=spec.title, paths=tuple(str(p) for p in paths), params=dict(params or {}),
        numbers=dict(numbers or {}), claims=tuple(replace(c, figure=name) for c in claims), caption=caption,
    )
