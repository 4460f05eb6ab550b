"""Built-in sweep task kinds that need only the landscape layer.

- ``landscape``: :func:`langevin_grok.landscape.modes.mode_landscape` at one (depth, sv, beta);
  deterministic.
- ``reference_arc_escape``: a REFERENCE/TEST kind. Plain Euler-Maruyama on the 1-D arc potential
  U(r) = u(r / sqrt(L)) (force :func:`langevin_grok.landscape.modes.arc_force`) with the default escape
  event of :func:`langevin_grok.landscape.escape.escape_target`, without the
  Brownian-bridge crossing correction, so its escape times are biased up by O(sqrt(dt)). It exists
  so that the sweep machinery (seeds, stores, executors) can be tested with a seeded random task of
  controllable cost (about ``t_max / dt`` vectorised steps). Scientific escape-time sweeps use the
  ``simulate`` kind of :mod:`langevin_grok.langevin.engine`.
"""

from __future__ import annotations

import math

import numpy as np

from ..landscape.modes import arc_force, mode_landscape
from .registry import register_task
from .schema import Param

__all__ = ["landscape_task", "reference_arc_escape_task"]

_DEPTH = Param("int", min=2, help="number of weight matrices L (dimensionless)")
_SV = Param("float", min=0.0, max=1.0, min_exclusive=True, max_exclusive=True,
            help="singular value eta of Sigma_yx (dimensionless)")
_BETA = Param("float", min=0.0, help="L2 strength beta (loss units per squared weight)")


def landscape_task(params: dict, seed: int) -> dict:
    """Sweep task: ``mode_landscape(depth, sv, beta).to_dict()`` (``seed`` is unused)."""
    return mode_landscape(params["depth"], params["sv"], params["beta"]).to_dict()


# Normal draws are made in blocks of this many steps; fixed so results never depend on it.
_BLOCK = 512


def reference_arc_escape_task(params: dict, seed: int) -> dict:
    """Sweep task (reference/test only): naive Euler-Maruyama escape on the 1-D arc.

    Starts ``paths`` independent paths at the starting minimum of the default escape event
    (:func:`langevin_grok.landscape.escape.escape_target` in ``direction``) and stops each one at its first
    step on the far side of the event, or at ``t_max``.

    Returns
    -------
    dict
        ``n_paths``, ``n_escaped``, ``times`` (escape times of escaped paths, SDE time units,
        in path order), ``exposure`` (total time at risk, sum of min(time, steps * dt)),
        ``n_steps`` (steps taken), ``dt``, ``seed``.
    """
    from ..landscape.escape import escape_target

    L, eta, beta = params["depth"], params["sv"], params["beta"]
    T, dt, n_paths, t_max = params["temperature"], params["dt"], params["paths"], params["t_max"]
    tgt = escape_target(L, eta, beta, params["direction"])
    p = np.array([L, eta, beta], dtype=float)
    rng = np.random.default_rng(seed)
    r = np.full(n_paths, tgt.r_start)
    alive = np.ones(n_paths, dtype=bool)
    t_hit = np.full(n_paths, np.inf)
    n_steps = int(math.ceil(t_max / dt))
    amp = math.sqrt(2.0 * T * dt)
    step = 0
    while step < n_steps and alive.any():
        dw = rng.standard_normal((min(_BLOCK, n_steps - step), n_paths))
        for row in dw:
            step += 1
            # escaped paths keep moving but are ignored: the draws never depend on who escaped
            r = r + arc_force(0.0, r, p) * dt + amp * row
            new = (tgt.arc_signed_distance(r) >= 0.0) & alive
            if new.any():
                t_hit[new] = step * dt
                alive &= ~new
            if step >= n_steps or not alive.any():
                break
    escaped = np.isfinite(t_hit)
    return {
        "n_paths": n_paths,
        "n_escaped": int(escaped.sum()),
        "times": t_hit[escaped].tolist(),
        "exposure": float(np.minimum(t_hit, step * dt).sum()),
        "n_steps": step,
        "dt": dt,
        "seed": int(seed),
    }


def _check_arc(params: dict) -> None:
    from ..landscape.escape import escape_target

    escape_target(params["depth"], params["sv"], params["beta"], params["direction"])  # InputError naming beta


register_task(
    "landscape",
    landscape_task,
    {"depth": _DEPTH, "sv": _SV, "beta": _BETA},
    stochastic=False,
    help="per-mode landscape (roots, barriers, phases) from langevin_grok.landscape.modes.mode_landscape",
    replace=True,
)

register_task(
    "reference_arc_escape",
    reference_arc_escape_task,
    {
        "depth": _DEPTH,
        "sv": _SV,
        "beta": _BETA,
        "temperature": Param("float", min=0.0, min_exclusive=True, help="noise temperature T (loss units)"),
        "dt": Param("float", default=1e-3, min=0.0, min_exclusive=True, help="time step (SDE time)"),
        "paths": Param("int", default=64, min=1, help="number of independent paths"),
        "t_max": Param("float", min=0.0, min_exclusive=True, help="run length per path (SDE time)"),
        "direction": Param("str", default="forward", choices=("forward", "reverse"),
                           help="forward: trivial -> learned; reverse: learned -> trivial"),
    },
    check=_check_arc,
    help="REFERENCE/TEST ONLY: naive Euler-Maruyama escape on the 1-D arc (no crossing correction)",
    replace=True,
)
