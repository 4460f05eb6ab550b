"""Overdamped Langevin ensembles with first-passage stopping.

``dX = -grad U(X) dt + sqrt(2 T) dW`` for many independent paths, integrated by Euler-Maruyama in
a numba kernel that runs paths in parallel (``prange``), stopping each path at its first event
(:mod:`langevin_grok.langevin.events`). :func:`simulate_ensemble` returns one frozen :class:`EscapeResult`.
:func:`simulate_reference` integrates a single path through the same :class:`~langevin_grok.langevin.models.Model`
with sdeint (``itoEuler`` or ``itoSRI2``) for cross-checks, and :func:`euler_maruyama_replay` runs the
compiled step on given Brownian increments (convergence tests).

Randomness
----------
Each path owns two counter-based streams (splitmix64 of a 64-bit key): one for the Gaussian
increments (ziggurat, one 64-bit output per normal in the common case), one for the
Brownian-bridge uniforms. The keys come from ``numpy.random.SeedSequence(seed).spawn(n_paths)``,
so path i gets the same numbers whatever the thread count or chunk size, and switching the bridge
correction on or off leaves the Gaussian increments unchanged (the two runs are coupled path by
path).

Notes
-----
Euler-Maruyama has strong order 1/2 in general and strong order 1 for additive noise (this SDE);
weak order 1. Naive stopping on the time grid misses excursions across the event surface between
two steps and biases first-passage times up by O(sqrt(dt)). With ``bridge=True`` (default) a step
that ends on the same side is still counted as a crossing with the Brownian-bridge probability
``exp(-d_n d_{n+1} / (T dt))`` where ``d = g / |grad g|`` is the signed distance to the (locally
linear) event surface and ``2 T dt`` the increment variance along its normal
(Mannella 1999; Gobet 2000). The result is exact for free diffusion and a flat boundary (tested).
With a drift the remaining bias is Euler-Maruyama's own weak error plus the drift's variation
within a step; on an OU first passage (barrier/T = 1) it is -8% at dt = 0.1 and -2% at
dt = 0.0125, against +35% and +13% for naive stopping, and ``tests/test_engine.py`` bounds it by
``0.3 sqrt(dt)``. A crossing seen on the grid is timed by linear interpolation of g; one inferred
from the bridge is placed mid-step.

One-dimensional models run a specialised loop with the state in a register (same streams; the
numbers agree with the general loop to rounding: ``dt`` is folded into the gradient's constants
and the noise is added off the step-to-step dependency chain, which bounds the step rate).
numba's on-disk cache is keyed on the source file of each cached function only: after editing
:mod:`~langevin_grok.langevin.models` or :mod:`~langevin_grok.langevin.events`, delete ``langevin_grok/__pycache__/*.nb*``
(the one-step test in ``tests/test_engine.py`` catches a stale kernel whose gradient differs).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numba
import numpy as np

from .._core.checks import InputError, check_choice, check_int, check_positive
from .events import Event, escape_setup, event_value, event_value_1d, pack_events
from .models import Model, grad_1d, grad_into, model_constants, work_size
from .streams import _GAMMA, _mix64, _normal, _normals_into, _uniform, path_keys, standard_normals  # noqa: F401
from .._core.units import sde_time_to_epochs, sde_time_to_steps, sgd_temperature

__all__ = [
    "EscapeResult",
    "simulate_ensemble",
    "euler_maruyama_replay",
    "resolve_temperature",
    "path_keys",
    "standard_normals",
]

# A bridge crossing probability below exp(-40) ~ 4e-18 is skipped without drawing a uniform.
_BRIDGE_CUTOFF = 40.0
# Largest recorded-path array (floats) we allocate without complaint (~800 MB).
_MAX_RECORD = 100_000_000


@numba.njit(cache=True, inline="always")
def _grid_crossing(dj, g0, g):
    """The event changed sign between two grid points, in its direction (+1 rising, -1 falling, 0 both)."""
    return (dj >= 0 and g0 < 0.0 and g >= 0.0) or (dj <= 0 and g0 > 0.0 and g <= 0.0)


@numba.njit(cache=True, inline="always")
def _entry_side(dj, g0):
    """``g0`` lies on the side the event is entered from, so a crossing between steps can end the path."""
    return dj == 0 or (dj > 0 and g0 < 0.0) or (dj < 0 and g0 > 0.0)


@numba.njit(cache=True, inline="always")
def _bridge_hit(su, expo):
    """Draw the Brownian-bridge crossing with probability ``exp(-expo)`` from the path's uniform stream;
    returns ``(hit, advanced stream state)``."""
    su += _GAMMA
    return _uniform(_mix64(su)) < math.exp(-expo), su


@numba.njit(cache=True)
def _run_path(code, p, q, x, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, key_n, key_u,
              rec_every, rec, work, grad, gprev, nprev):
    """Integrate one path in place; return ``(time, event index or -1, steps)``."""
    d = x.shape[0]
    sig = math.sqrt(2.0 * temperature * dt)
    inv_tdt = 1.0 / (temperature * dt)
    s = key_n
    su = key_u
    n_ev = ev_codes.shape[0]
    n_rec = rec.shape[0]
    for j in range(n_ev):
        g, gn = event_value(ev_codes[j], ev_specs, j, x, p, work)
        gprev[j] = g
        nprev[j] = gn
    if n_rec > 0:
        for i in range(d):
            rec[0, i] = x[i]
    for n in range(n_max):
        grad_into(code, x, p, q, grad, work)
        for i in range(d):
            z, s = _normal(s)
            x[i] += -grad[i] * dt + sig * z
        best_t = np.inf
        best_j = -1
        for j in range(n_ev):
            g, gn = event_value(ev_codes[j], ev_specs, j, x, p, work)
            g0 = gprev[j]
            dj = ev_dirs[j]
            if _grid_crossing(dj, g0, g):
                # crossed on the grid: linear interpolation of the crossing time
                tc = (n + g0 / (g0 - g)) * dt
                if tc < best_t:
                    best_t = tc
                    best_j = j
            elif bridge and g * g0 > 0.0 and _entry_side(dj, g0):
                n0 = nprev[j]
                if n0 > 0.0 and gn > 0.0:
                    expo = (g0 / n0) * (g / gn) * inv_tdt
                    if expo < _BRIDGE_CUTOFF:
                        hit, su = _bridge_hit(su, expo)
                        if hit:
                            # crossed and came back within the step; place it mid-step
                            tc = (n + 0.5) * dt
                            if tc < best_t:
                                best_t = tc
                                best_j = j
            gprev[j] = g
            nprev[j] = gn
        if best_j >= 0:
            k0 = n // rec_every + 1 if rec_every > 0 else 0
            for k in range(k0, n_rec):
                for i in range(d):
                    rec[k, i] = np.nan
            return best_t, best_j, n + 1
        if rec_every > 0 and (n + 1) % rec_every == 0:
            k = (n + 1) // rec_every
            if k < n_rec:
                for i in range(d):
                    rec[k, i] = x[i]
    return n_max * dt, -1, n_max


@numba.njit(cache=True)
def _run_path_1d(code, qdt, x, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, key_n, key_u,
                 rec_every, rec, gprev, nprev):
    """:func:`_run_path` for 1-D models with the state in a register (same streams; the numbers agree
    to rounding). ``qdt = model_constants(code, p, dt)``: :func:`grad_1d` returns ``dt * dU/dr``."""
    sig = math.sqrt(2.0 * temperature * dt)
    inv_tdt = 1.0 / (temperature * dt)
    s = key_n
    su = key_u
    n_ev = ev_codes.shape[0]
    n_rec = rec.shape[0]
    xi = x[0]
    # 1-D events have a constant |grad g|, so the bridge exponent d0 d1 / (T dt) is g0 g * scale
    # and the cut-off test needs no division.
    for j in range(n_ev):
        g, gn = event_value_1d(ev_codes[j], ev_specs, j, xi)
        gprev[j] = g
        nprev[j] = inv_tdt / (gn * gn) if gn > 0.0 else 0.0
    if n_rec > 0:
        rec[0, 0] = xi
    for n in range(n_max):
        z, s = _normal(s)
        # the step's latency is the chain x -> grad -> x; the noise is added off that chain
        xi = (xi + sig * z) - grad_1d(code, xi, qdt)
        best_t = np.inf
        best_j = -1
        for j in range(n_ev):
            g, gn = event_value_1d(ev_codes[j], ev_specs, j, xi)
            g0 = gprev[j]
            gprev[j] = g
            dj = ev_dirs[j]
            if _grid_crossing(dj, g0, g):
                tc = (n + g0 / (g0 - g)) * dt
                if tc < best_t:
                    best_t = tc
                    best_j = j
            elif bridge:
                expo = g0 * g * nprev[j]
                if 0.0 < expo < _BRIDGE_CUTOFF and _entry_side(dj, g0):
                    hit, su = _bridge_hit(su, expo)
                    if hit:
                        tc = (n + 0.5) * dt
                        if tc < best_t:
                            best_t = tc
                            best_j = j
        if best_j >= 0:
            x[0] = xi
            k0 = n // rec_every + 1 if rec_every > 0 else 0
            for k in range(k0, n_rec):
                rec[k, 0] = np.nan
            return best_t, best_j, n + 1
        if rec_every > 0 and (n + 1) % rec_every == 0:
            k = (n + 1) // rec_every
            if k < n_rec:
                rec[k, 0] = xi
    x[0] = xi
    return n_max * dt, -1, n_max


@numba.njit(cache=True, parallel=True)
def _run_ensemble(code, p, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, keys,
                  rec_every, rec, times, which, steps, wsize):
    n_paths = X.shape[0]
    d = X.shape[1]
    n_ev = ev_codes.shape[0]
    q = model_constants(code, p)
    qdt = model_constants(code, p, dt)
    for i in numba.prange(n_paths):
        work = np.empty(wsize)
        grad = np.empty(d)
        gprev = np.empty(max(n_ev, 1))
        nprev = np.empty(max(n_ev, 1))
        if d == 1:
            t, j, k = _run_path_1d(code, qdt, X[i], dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge,
                                   keys[i, 0], keys[i, 1], rec_every, rec[i], gprev, nprev)
        else:
            t, j, k = _run_path(code, p, q, X[i], dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge,
                                keys[i, 0], keys[i, 1], rec_every, rec[i], work, grad, gprev, nprev)
        times[i] = t
        which[i] = j
        steps[i] = k


@numba.njit(cache=True)
def _run_replay(code, p, X0, dt, temperature, dW, out, wsize):
    n_paths, n_steps, d = dW.shape
    amp = math.sqrt(2.0 * temperature)
    q = model_constants(code, p)
    for i in range(n_paths):
        work = np.empty(wsize)
        grad = np.empty(d)
        x = X0[i].copy()
        out[i, 0] = x
        for n in range(n_steps):
            grad_into(code, x, p, q, grad, work)
            for k in range(d):
                x[k] += -grad[k] * dt + amp * dW[i, n, k]
            out[i, n + 1] = x


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class EscapeResult:
    """Outcome of :func:`simulate_ensemble` (one entry per path in each array).

    Attributes
    ----------
    times : ndarray, shape (n_paths,), float64
        Hitting time of the first event (SDE time), or the censoring time ``cap_steps * dt``.
    event : ndarray, shape (n_paths,), int64
        Index of the event that fired, -1 for none (censored).
    escaped : ndarray, shape (n_paths,), bool
        ``event >= 0``.
    steps : ndarray, shape (n_paths,), int64
        Euler-Maruyama steps taken.
    final_x : ndarray, shape (n_paths, dim)
        State at the stop.
    seed : int
        The integer seed the per-path streams were spawned from.
    dt, temperature : float
    n_paths, cap_steps : int
        Number of paths; step cap (``min(max_steps, floor(max_time / dt))``).
    cap_time : float
        ``cap_steps * dt``.
    wall_seconds : float
    bridge : bool
        Whether the Brownian-bridge crossing correction was applied.
    event_names : tuple of str
    model : dict
        :meth:`Model.to_dict` of the model.
    paths : ndarray or None, shape (n_paths, n_record, dim)
        Thinned paths (every ``record_every`` steps, NaN after the stop), only when asked.
    path_times : ndarray or None, shape (n_record,)
    """

    times: np.ndarray
    event: np.ndarray
    escaped: np.ndarray
    steps: np.ndarray
    final_x: np.ndarray
    seed: int
    dt: float
    temperature: float
    n_paths: int
    cap_steps: int
    cap_time: float
    wall_seconds: float
    bridge: bool
    event_names: tuple
    model: dict
    paths: np.ndarray | None = None
    path_times: np.ndarray | None = None

    @property
    def status(self) -> np.ndarray:
        """``"escaped"`` or ``"censored"`` per path."""
        return np.where(self.escaped, "escaped", "censored")

    @property
    def n_escaped(self) -> int:
        return int(np.count_nonzero(self.escaped))

    @property
    def path_steps(self) -> int:
        """Total Euler-Maruyama steps over all paths."""
        return int(self.steps.sum())

    def times_in(self, unit: str = "sde", lr: float | None = None, batch: int | None = None,
                 n_train: int | None = None) -> np.ndarray:
        """Hitting/censoring times in ``"sde"`` time, SGD ``"steps"`` (needs lr) or ``"epochs"``
        (needs lr, batch, n_train); conversions from :mod:`langevin_grok._core.units`."""
        unit = check_choice("unit", unit, ("sde", "steps", "epochs"))
        if unit == "sde":
            return self.times.copy()
        if lr is None:
            raise InputError(f"lr is needed to convert times to {unit}")
        if unit == "steps":
            return sde_time_to_steps(self.times, lr)
        if batch is None or n_train is None:
            raise InputError("batch and n_train are needed to convert times to epochs")
        return sde_time_to_epochs(self.times, lr, batch, n_train)

    def to_dict(self, arrays: bool = False) -> dict:
        """JSON-ready summary; ``arrays=True`` adds the per-path arrays (not the recorded paths)."""
        out = {
            "n_paths": self.n_paths, "n_escaped": self.n_escaped, "path_steps": self.path_steps,
            "seed": self.seed, "dt": self.dt, "temperature": self.temperature, "cap_steps": self.cap_steps,
            "cap_time": self.cap_time, "wall_seconds": self.wall_seconds, "bridge": self.bridge,
            "event_names": list(self.event_names), "model": self.model,
        }
        if arrays:
            out.update(times=self.times.tolist(), event=self.event.tolist(), steps=self.steps.tolist())
        return out


def resolve_temperature(temperature: float | None = None, lr: float | None = None, batch: int | None = None,
                        noise: float | None = None, n_train: int | None = None,
                        replacement: bool = False) -> float:
    """Temperature given directly, or ``T = lr c / (2B)`` (times ``(N-B)/(N-1)``) from SGD
    hyperparameters via :func:`langevin_grok._core.units.sgd_temperature`. Exactly one way."""
    sgd = (lr, batch, noise)
    if temperature is not None:
        if any(v is not None for v in sgd):
            raise InputError("give either temperature or (lr, batch, noise), not both")
        return check_positive("temperature", temperature)
    if any(v is None for v in sgd):
        raise InputError(f"temperature missing: give temperature or all of lr, batch, noise "
                         f"(got lr={lr!r}, batch={batch!r}, noise={noise!r})")
    T = sgd_temperature(lr, batch, noise, n_train=n_train, replacement=replacement)
    if T <= 0:
        raise InputError(f"temperature must be > 0, got {T!r} from noise={noise!r}")
    return T


def _compile_notice(kernel, progress) -> None:
    """One line on stderr while numba compiles (or loads from its disk cache) a kernel not yet used in this
    process; shown where progress is shown (``progress`` True, or None on a terminal)."""
    import sys

    shown = bool(progress) if progress is not None else sys.stderr.isatty()
    if shown and not getattr(kernel, "signatures", True):
        print("compiling the Langevin kernel (first use; cached on disk for later runs) ...", file=sys.stderr,
              flush=True)


def _check_model(model) -> Model:
    if not isinstance(model, Model):
        raise InputError(f"model must be a langevin_grok.langevin.models.Model, got {model!r}")
    return model


def _ensemble_kernel(model: Model, events, kernel=None):
    """The shared kernel (default ``_run_ensemble``), or its copy compiled for a user-defined model
    or user events (:func:`langevin_grok.langevin.custom.specialise`)."""
    from .custom import specialise

    return specialise(_run_ensemble if kernel is None else kernel, model, events)


def _initial_states(x0, model: Model, n_paths: int) -> np.ndarray:
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 0 and model.dim == 1:
        x0 = x0.reshape(1)
    if x0.shape == (model.dim,):
        X = np.tile(x0, (n_paths, 1))
    elif x0.shape == (n_paths, model.dim):
        X = x0.copy()
    else:
        raise InputError(f"x0 must have shape ({model.dim},) or ({n_paths}, {model.dim}), got {x0.shape}")
    if not np.all(np.isfinite(X)):
        raise InputError("x0 must be finite")
    return np.ascontiguousarray(X)


def simulate_ensemble(
    model: Model,
    temperature: float,
    n_paths: int,
    dt: float,
    x0=None,
    events: Sequence[Event] | None = None,
    *,
    direction: str = "forward",
    max_steps: int = 10_000_000,
    max_time: float | None = None,
    seed: np.random.Generator | int | None = None,
    record_every: int | None = None,
    bridge: bool = True,
    chunk_size: int | None = None,
    n_threads: int | None = None,
    progress: bool | None = False,
) -> EscapeResult:
    """Simulate ``n_paths`` independent overdamped Langevin paths until their first event.

    Parameters
    ----------
    model : Model
        Gradient field (:mod:`langevin_grok.langevin.models`).
    temperature : float
        T > 0; the noise is ``sqrt(2 T) dW`` (use :func:`resolve_temperature` for SGD hyperparameters).
    n_paths : int
        Number of paths (>= 1).
    dt : float
        Euler-Maruyama time step (> 0, SDE time units).
    x0 : array_like, shape (dim,) or (n_paths, dim), optional
        Start state(s). With ``x0`` and ``events`` both ``None`` the default escape problem of
        :func:`langevin_grok.langevin.events.escape_setup` in ``direction`` is used.
    events : sequence of Event, optional
        Stopping events with compiled specs; an empty sequence runs every path to the cap.
    direction : {"forward", "reverse"}
        Only used for the default escape problem.
    max_steps : int
        Step cap per path (>= 1).
    max_time : float, optional
        Time cap per path; the cap is ``min(max_steps, floor(max_time / dt))`` steps.
    seed : Generator, int or None
        Root of the per-path streams (recorded in the result).
    record_every : int, optional
        Store the state every this many steps (thinned paths); default: no paths stored.
    bridge : bool
        Apply the Brownian-bridge crossing correction between steps.
    chunk_size : int, optional
        Paths per kernel call (progress granularity); does not change the result.
    n_threads : int, optional
        numba threads for this call; does not change the result.
    progress : bool or None
        tqdm bar over chunks on stderr (``None``: only on a terminal).

    Returns
    -------
    EscapeResult

    Notes
    -----
    Euler-Maruyama (strong order 1 for this additive noise). See the module notes for the
    bridge correction and the random streams.
    """
    model = _check_model(model)
    T = check_positive("temperature", temperature)
    n = check_int("n_paths", n_paths, minimum=1)
    dt = check_positive("dt", dt)
    cap = check_int("max_steps", max_steps, minimum=1)
    if max_time is not None:
        mt = check_positive("max_time", max_time)
        cap = min(cap, int(math.floor(mt / dt * (1 + 1e-12))))
        if cap < 1:
            raise InputError(f"max_time must be >= dt ({dt:g}), got {max_time!r}")
    if x0 is None and events is None:
        setup = escape_setup(model, direction)
        x0, events = setup.x0, setup.events
    elif x0 is None:
        raise InputError("x0 is required when events are given")
    events = () if events is None else tuple(events)
    X = _initial_states(x0, model, n)
    codes, dirs, specs = pack_events(events, model)
    rec_every = 0
    n_rec = 0
    if record_every is not None:
        rec_every = check_int("record_every", record_every, minimum=1)
        n_rec = cap // rec_every + 1
        if n * n_rec * model.dim > _MAX_RECORD:
            raise InputError(f"record_every={rec_every} would store {n * n_rec * model.dim} floats "
                             f"(> {_MAX_RECORD}); record less often or fewer paths")
    chunk = n if chunk_size is None else check_int("chunk_size", chunk_size, minimum=1)
    if chunk_size is None and progress is not False:
        chunk = max(256, -(-n // 50))
    seed_int, keys = path_keys(seed, n)
    times = np.empty(n)
    which = np.empty(n, dtype=np.int64)
    steps = np.empty(n, dtype=np.int64)
    rec = np.empty((n, n_rec, model.dim))
    p = np.ascontiguousarray(model.params)
    wsize = work_size(model.code, p)

    old_threads = numba.get_num_threads()
    if n_threads is not None:
        nt = check_int("n_threads", n_threads, minimum=1)
        numba.set_num_threads(min(nt, numba.config.NUMBA_NUM_THREADS))
    bar = None
    if progress is not False and n > chunk:
        from tqdm.auto import tqdm

        bar = tqdm(total=n, unit="path", disable=None if progress is None else not progress, leave=False)
    kernel = _ensemble_kernel(model, events)
    _compile_notice(kernel, progress)
    t0 = time.perf_counter()
    try:
        for a in range(0, n, chunk):
            b = min(n, a + chunk)
            kernel(model.code, p, X[a:b], dt, T, cap, codes, dirs, specs, bool(bridge), keys[a:b],
                          rec_every, rec[a:b], times[a:b], which[a:b], steps[a:b], wsize)
            if bar is not None:
                bar.update(b - a)
    finally:
        wall = time.perf_counter() - t0
        if bar is not None:
            bar.close()
        numba.set_num_threads(old_threads)
    for arr in (times, which, steps, X):
        arr.setflags(write=False)
    paths = path_times = None
    if n_rec:
        rec.setflags(write=False)
        paths = rec
        path_times = np.arange(n_rec) * (rec_every * dt)
    return EscapeResult(
        times=times, event=which, escaped=which >= 0, steps=steps, final_x=X, seed=seed_int, dt=dt,
        temperature=T, n_paths=n, cap_steps=cap, cap_time=cap * dt, wall_seconds=wall, bridge=bool(bridge),
        event_names=tuple(e.name for e in events), model=model.to_dict(), paths=paths, path_times=path_times,
    )


def euler_maruyama_replay(model: Model, temperature: float, dt: float, x0, dW) -> np.ndarray:
    """Compiled Euler-Maruyama on given Brownian increments (no events): the path-replay mode.

    Parameters
    ----------
    model : Model
    temperature, dt : float
    x0 : array_like, shape (dim,) or (n_paths, dim)
    dW : array_like, shape (n_paths, n_steps, dim)
        Brownian increments (variance ``dt`` each); ``x += -grad U dt + sqrt(2T) dW``.

    Returns
    -------
    ndarray, shape (n_paths, n_steps + 1, dim)
        The paths including the start.
    """
    model = _check_model(model)
    T = check_positive("temperature", temperature)
    dt = check_positive("dt", dt)
    dW = np.ascontiguousarray(dW, dtype=float)
    if dW.ndim != 3 or dW.shape[2] != model.dim:
        raise InputError(f"dW must have shape (n_paths, n_steps, {model.dim}), got {dW.shape}")
    X0 = _initial_states(x0, model, dW.shape[0])
    out = np.empty((dW.shape[0], dW.shape[1] + 1, model.dim))
    p = np.ascontiguousarray(model.params)
    _ensemble_kernel(model, (), _run_replay)(model.code, p, X0, dt, T, dW, out, work_size(model.code, p))
    return out


