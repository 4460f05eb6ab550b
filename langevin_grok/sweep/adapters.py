"""Sweep kinds of the other layers, built from their public APIs.

The registry (:mod:`.registry`) first looks for a ``sweep_task`` / ``SWEEP_SCHEMA`` hook in the
layer's own module (``langevin_grok.langevin.engine``, ``langevin_grok.theory.kramers``, ``langevin_grok.sgd.trainer``);
when a module has none, the adapter of the same name here is used. Each ``register_*`` function
imports its layer, so a missing layer only makes its kind unavailable.

- ``kramers`` (deterministic): 1-D Kramers time, exact 1-D mean first-passage time and the
  scalar-chain Eyring-Kramers time of one mode's default escape event.
- ``simulate``: :func:`langevin_grok.langevin.engine.simulate_ensemble` on the ``arc`` or ``chain`` model with
  its default escape event; the per-path escape/censoring times are part of the result.
"""

from __future__ import annotations

from .registry import TaskKind, register_task
from .schema import Param

__all__ = ["ADAPTERS", "kramers_task", "simulate_task"]

_DEPTH = Param("int", min=3, help="number of weight matrices L (>= 3 for a barrier; dimensionless)")
_SV = Param("float", min=0.0, max=1.0, min_exclusive=True, max_exclusive=True,
            help="singular value eta of Sigma_yx (dimensionless)")
_BETA = Param("float", min=0.0, min_exclusive=True, help="L2 strength beta, in (0, beta_c) (loss units per squared weight)")
_TEMP = Param("float", min=0.0, min_exclusive=True, help="noise temperature T (loss units)")
_DIRECTION = Param("str", default="forward", choices=("forward", "reverse"),
                   help="forward: trivial -> learned; reverse: learned -> trivial")


def _check_barrier(params: dict) -> None:
    from ..landscape.escape import escape_target

    escape_target(params["depth"], params["sv"], params["beta"], params["direction"])  # InputError naming beta


# ------------------------------------------------------------------------------------------ kramers
def kramers_task(params: dict, seed: int) -> dict:
    """Sweep task: ``{"kramers_1d": ..., "exact_mfpt_1d": ..., "eyring_kramers_chain": ...}`` (to_dict
    of each, SDE time units); ``seed`` is unused."""
    from ..theory.kramers import exact_mfpt_1d, eyring_kramers_chain, kramers_1d

    args = (params["depth"], params["sv"], params["beta"], params["temperature"], params["direction"])
    return {
        "kramers_1d": kramers_1d(*args).to_dict(),
        "exact_mfpt_1d": exact_mfpt_1d(*args).to_dict(),
        "eyring_kramers_chain": eyring_kramers_chain(*args).to_dict(),
    }


def register_kramers() -> TaskKind:
    import langevin_grok.theory.kramers  # noqa: F401 - the kind is unavailable without its layer

    return register_task(
        "kramers", kramers_task,
        {"depth": _DEPTH, "sv": _SV, "beta": _BETA, "temperature": _TEMP, "direction": _DIRECTION},
        stochastic=False, check=_check_barrier, replace=True,
        help="escape-time theory of one mode: 1-D Kramers, exact 1-D MFPT, scalar-chain Eyring-Kramers",
    )


# ------------------------------------------------------------------------------------------ simulate
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


def register_simulate() -> TaskKind:
    import langevin_grok.langevin.engine  # noqa: F401

    return register_task(
        "simulate", simulate_task,
        {
            "model": Param("str", default="arc", choices=("arc", "chain"),
                           help="arc: 1-D reduced coordinate; chain: scalar chain in its L-dim weight space"),
            "depth": _DEPTH, "sv": _SV, "beta": _BETA, "temperature": _TEMP, "direction": _DIRECTION,
            "dt": Param("float", default=1e-3, min=0.0, min_exclusive=True, help="Euler-Maruyama step (SDE time)"),
            "paths": Param("int", default=100, min=1, help="independent paths per task"),
            "max_time": Param("float", min=0.0, min_exclusive=True, help="censoring time per path (SDE time)"),
            "bridge": Param("bool", default=True, help="Brownian-bridge crossing correction"),
            "threads": Param("int", default=1, min=1,
                             help="numba threads per task (results do not depend on it; keep 1 with many workers)"),
        },
        check=_check_barrier, replace=True,
        help="Langevin escape ensemble (langevin_grok.langevin.engine.simulate_ensemble, default escape event)",
    )


ADAPTERS = {"kramers": register_kramers, "simulate": register_simulate}
