"""The reference integrator: one path through the same :class:`~langevin_grok.langevin.models.Model` with sdeint.

:func:`simulate_reference` integrates ``dX = -grad U dt + sqrt(2T) dW`` with ``sdeint.itoEuler`` or
``sdeint.itoSRI2`` (orders in :mod:`langevin_grok.langevin.integrators`) and the model's numpy gradient, stopping
at the first event, for cross-checks of the compiled engine (:mod:`langevin_grok.langevin.engine`). Events may be
plain Python functions here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._core.checks import InputError, check_choice, check_int, check_positive
from .engine import _check_model, _initial_states, path_keys
from .events import Event
from .models import Model

__all__ = ["ReferencePath", "simulate_reference"]


@dataclass(frozen=True, eq=False)
class ReferencePath:
    """One path from :func:`simulate_reference`.

    Attributes
    ----------
    t : ndarray, shape (n,)
        Time grid up to the stop (inclusive).
    x : ndarray, shape (n, dim)
        The path on that grid.
    time : float
        First-passage time (linear interpolation on the grid, as the kernel does without the
        bridge) or the censoring time.
    event : int
        Index of the event that fired, -1 for none.
    escaped : bool
    method : str
    seed : int or None
    """

    t: np.ndarray
    x: np.ndarray
    time: float
    event: int
    escaped: bool
    method: str
    seed: int | None

    def to_dict(self) -> dict:
        return {"time": self.time, "event": self.event, "escaped": self.escaped, "method": self.method,
                "seed": self.seed, "n_steps": len(self.t) - 1}


def _first_crossing(events, t, xs, p, gprev):
    """Scan a grid block for the first event crossing; return (time, index) or (None, -1)."""
    best = (None, -1)
    for j, e in enumerate(events):
        gs = np.array([e(tt, xx, p) for tt, xx in zip(t, xs)])
        g0 = np.concatenate([[gprev[j]], gs[:-1]])
        up = (g0 < 0) & (gs >= 0)
        down = (g0 > 0) & (gs <= 0)
        hit = (up | down) if e.direction == 0 else (up if e.direction > 0 else down)
        idx = np.flatnonzero(hit)
        if idx.size:
            k = idx[0]
            dt = t[1] - t[0] if len(t) > 1 else 0.0
            tc = t[k] - dt + dt * g0[k] / (g0[k] - gs[k])
            if best[0] is None or tc < best[0]:
                best = (tc, j, k)
        gprev[j] = gs[-1]
    return best


def simulate_reference(
    model: Model,
    temperature: float,
    dt: float,
    x0,
    events: Sequence[Event] = (),
    *,
    n_steps: int = 100_000,
    seed: np.random.Generator | int | None = None,
    method: str = "itoEuler",
    block: int = 4096,
) -> ReferencePath:
    """One path with sdeint through the same model definition, stopped at the first event.

    Parameters
    ----------
    model : Model
        Its numpy ``drift`` is the sdeint ``f(x, t)``; ``G(x, t) = sqrt(2T) I``.
    temperature, dt : float
    x0 : array_like, shape (dim,)
    events : sequence of Event
        Any events (Python-only ones too); detection on the returned grid.
    n_steps : int
        Step cap.
    seed : Generator, int or None
        The Brownian increments are drawn from this generator (``dW`` passed to sdeint), so a seed
        reproduces the path.
    method : {"itoEuler", "itoSRI2"}
    block : int
        Largest number of steps per sdeint call (blocks grow from 256 to this); the integration
        restarts from the last point of each block. With ``itoEuler`` the path does not depend on it.
    """
    import sdeint

    model = _check_model(model)
    T = check_positive("temperature", temperature)
    dt = check_positive("dt", dt)
    n_steps = check_int("n_steps", n_steps, minimum=1)
    block = check_int("block", block, minimum=1)
    method = check_choice("method", method, ("itoEuler", "itoSRI2"))
    if isinstance(seed, np.random.Generator):
        gen, seed_int = seed, None
    else:
        seed_int, _ = path_keys(seed, 1)
        gen = np.random.default_rng(seed_int)
    x = _initial_states(x0, model, 1)[0]
    d = model.dim
    amp = math.sqrt(2.0 * T)
    eye = np.eye(d) * amp
    p = model.params
    events = tuple(events)
    for i, e in enumerate(events):
        if not isinstance(e, Event):
            raise InputError(f"events[{i}] must be an Event, got {e!r}")

    def f(y, t):
        return model.drift(t, y).reshape(d)

    def G(y, t):
        return eye

    integrator = getattr(sdeint, method)
    gprev = [e(0.0, x, p) for e in events]
    ts, xs = [np.array([0.0])], [x[None, :]]
    done = 0
    hit = (None, -1)
    size = min(256, block)  # grow the blocks: early stops do not pay for a long block
    while done < n_steps:
        m = min(size, n_steps - done)
        size = min(2 * size, block)
        tspan = (done + np.arange(m + 1)) * dt
        dW = gen.normal(0.0, math.sqrt(dt), (m, d))
        if method == "itoEuler":
            y = integrator(f, G, x, tspan, dW=dW)
        else:
            y = integrator(f, G, x, tspan, dW=dW, generator=gen)
        hit = _first_crossing(events, tspan[1:], y[1:], p, gprev) if events else (None, -1)
        if hit[0] is not None:
            k = hit[2]
            ts.append(tspan[1:k + 2])
            xs.append(y[1:k + 2])
            done += k + 1
            break
        ts.append(tspan[1:])
        xs.append(y[1:])
        x = y[-1]
        done += m
    t_all = np.concatenate(ts)
    x_all = np.concatenate(xs)
    if hit[0] is not None:
        return ReferencePath(t_all, x_all, float(hit[0]), int(hit[1]), True, method, seed_int)
    return ReferencePath(t_all, x_all, float(done * dt), -1, False, method, seed_int)
