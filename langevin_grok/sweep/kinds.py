"""The built-in sweep task kinds, one per experiment the package offers (each imports its layer on first use).

- ``landscape`` (deterministic): :func:`langevin_grok.landscape.modes.mode_landscape` at one (depth, sv, beta).
- ``kramers`` (deterministic): 1-D Kramers time, exact 1-D mean first-passage time and the scalar-chain
  Eyring-Kramers time of one mode's default escape event.
- ``simulate``: :func:`langevin_grok.langevin.engine.simulate_ensemble` on the ``arc`` or ``chain`` model with
  its default escape event; the per-path escape/censoring times are part of the result.
- ``sgd``: :func:`langevin_grok.sgd.protocol.run_protocol`, schema :data:`langevin_grok.sgd.protocol.SWEEP_SCHEMA`
  (derived from the protocol's one parameter table).

Task functions are module-level (local worker processes and dask workers import them by name).
"""

from __future__ import annotations

from .registry import register_task
from .schema import Param

__all__ = ["landscape_task", "kramers_task", "simulate_task"]

_DEPTH3 = Param("int", min=3, help="number of weight matrices L (>= 3 for a barrier; dimensionless)")
_SV = Param("float", min=0.0, max=1.0, min_exclusive=True, max_exclusive=True,
            help="singular value eta of Sigma_yx (dimensionless)")
_BETA = Param("float", min=0.0, min_exclusive=True, help="L2 strength beta, in (0, beta_c) (loss units per squared weight)")
_TEMP = Param("float", min=0.0, min_exclusive=True, help="noise temperature T (loss units)")
_DIRECTION = Param("str", default="forward", choices=("forward", "reverse"),
                   help="forward: trivial -> learned; reverse: learned -> trivial")


_DEPTH = Param("int", min=2, help="number of weight matrices L (dimensionless)")
_BETA0 = Param("float", min=0.0, help="L2 strength beta (loss units per squared weight)")


def _check_barrier(params: dict) -> None:
    from ..landscape.escape import escape_target

    escape_target(params["depth"], params["sv"], params["beta"], params["direction"])  # InputError naming beta


def landscape_task(params: dict, seed: int) -> dict:
    """Sweep task: ``mode_landscape(depth, sv, beta).to_dict()`` (``seed`` is unused)."""
    from ..landscape.modes import mode_landscape

    return mode_landscape(params["depth"], params["sv"], params["beta"]).to_dict()


def kramers_task(params: dict, seed: int) -> dict:
    """Sweep task: ``{"kramers_1d": ..., "exact_mfpt_1d": ..., "eyring_kramers_chain": ...}`` (to_dict
    of each, SDE time units); ``seed`` is unused."""
    from ..theory.kramers import eyring_kramers_chain, kramers_1d
    from ..theory.quadrature import exact_mfpt_1d

    args = (params["depth"], params["sv"], params["beta"], params["temperature"], params["direction"])
    return {
        "kramers_1d": kramers_1d(*args).to_dict(),
        "exact_mfpt_1d": exact_mfpt_1d(*args).to_dict(),
        "eyring_kramers_chain": eyring_kramers_chain(*args).to_dict(),
    }


def simulate_task(params: dict, seed: int) -> dict:
    """Sweep task: an escape ensemble of :func:`langevin_grok.langevin.engine.simulate_ensemble`.

    Returns ``EscapeResult.to_dict(arrays=True)`` without ``wall_seconds`` (the store records the
    task's wall time; results must depend only on params and seed), plus ``mean_time_escaped``.
    """
    from ..langevin.engine import simulate_ensemble
    from ..langevin.models import arc_model, chain_model

    make = {"arc": arc_model, "chain": chain_model}[params["model"]]
    model = make(params["depth"], params["sv"], params["beta"])
    res = simulate_ensemble(
        model, params["temperature"], params["paths"], params["dt"], direction=params["direction"],
        max_time=params["max_time"], seed=int(seed), bridge=params["bridge"], n_threads=params["threads"],
    )
    out = res.to_dict(arrays=True)
    out.pop("wall_seconds", None)
    n_esc = res.n_escaped
    out["mean_time_escaped"] = float(res.times[res.escaped].mean()) if n_esc else None
    return out


def _register_builtins() -> None:
    from ..sgd import protocol

    register_task("landscape", landscape_task, {"depth": _DEPTH, "sv": _SV, "beta": _BETA0}, stochastic=False,
                  help="per-mode landscape (roots, barriers, phases) from langevin_grok.landscape.modes.mode_landscape",
                  replace=True)
    register_task(
        "kramers", kramers_task,
        {"depth": _DEPTH3, "sv": _SV, "beta": _BETA, "temperature": _TEMP, "direction": _DIRECTION},
        stochastic=False, check=_check_barrier, replace=True,
        help="escape-time theory of one mode: 1-D Kramers, exact 1-D MFPT, scalar-chain Eyring-Kramers")
    register_task(
        "simulate", simulate_task,
        {
            "model": Param("str", default="arc", choices=("arc", "chain"),
                           help="arc: 1-D reduced coordinate; chain: scalar chain in its L-dim weight space"),
            "depth": _DEPTH3, "sv": _SV, "beta": _BETA, "temperature": _TEMP, "direction": _DIRECTION,
            "dt": Param("float", default=1e-3, min=0.0, min_exclusive=True, help="Euler-Maruyama step (SDE time)"),
            "paths": Param("int", default=100, min=1, help="independent paths per task"),
            "max_time": Param("float", min=0.0, min_exclusive=True, help="censoring time per path (SDE time)"),
            "bridge": Param("bool", default=True, help="Brownian-bridge crossing correction"),
            "threads": Param("int", default=1, min=1,
                             help="numba threads per task (results do not depend on it; keep 1 with many workers)"),
        },
        check=_check_barrier, replace=True,
        help="Langevin escape ensemble (langevin_grok.langevin.engine.simulate_ensemble, default escape event)")
    register_task("sgd", protocol.sweep_task, protocol.SWEEP_SCHEMA, version=protocol.SWEEP_VERSION,
                  check=protocol.SWEEP_CHECK, help=protocol.SWEEP_HELP, replace=True)


_register_builtins()
