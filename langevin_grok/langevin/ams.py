"""Rare escapes by adaptive multilevel splitting (AMS) on the compiled Langevin engine.

:func:`simulate_ams` estimates the mean first-passage time of ``dX = -grad U dt + sqrt(2T) dW``
from a start point ``x0`` (in a metastable well) to an escape event B, for barriers where brute
force (:func:`langevin_grok.langevin.engine.simulate_ensemble`) would need ``exp(dE/T)`` steps per escape.
See ``docs/theory.md``, section "Rare events: adaptive multilevel splitting".

Sets and the MFPT decomposition
-------------------------------
A reaction coordinate ``xi(x)`` (default: the escape event's signed distance, oriented so that
``xi < 0`` before and ``xi >= 0`` on escape) defines ``A = {xi <= z_A}`` (a neighbourhood of the
start minimum) and the surface ``Sigma = {xi >= z_Sigma}`` with ``z_A < z_Sigma < 0``. A path from
``x0`` hits Sigma, then either returns to A (a failed excursion, followed by a return to Sigma) or
reaches B. With ``p = P(B before A | start on the Sigma hitting distribution)``::

    tau = E[T(x0 -> Sigma)] + (1 - p) / p * E[T_loop] + E[T_reac]

``T_loop`` = failed excursion Sigma -> A plus the return A -> Sigma, ``T_reac`` = duration of a
successful excursion Sigma -> B (Cerou, Guyader, Lelievre & Pommier 2011, eq. for the transition
time; the renewal argument counts a geometric number of failures, mean ``(1-p)/p``). The first two
times are measured by brute-force cycles from ``x0`` (which also supply the Sigma hitting points
that start the AMS replicas), ``p`` and ``E[T_reac]`` by AMS.

AMS estimator
-------------
``n`` replicas start on Sigma and run until A or B; the level of a replica is the largest xi on
its path (``+inf`` once it reached B). Each iteration takes ``Z`` = the k-th smallest level, kills
*all* ``K >= k`` replicas with level ``<= Z`` (ties included), and replaces each by a copy of a
uniformly chosen survivor up to the first time its xi exceeds Z, continued with fresh noise. The
loop stops when ``Z = +inf`` (at least ``n - k + 1`` replicas reached B) or all replicas would be
killed (extinction, estimate 0). Then ``p_hat = prod_q (1 - K_q / n) * N_B / n`` is unbiased for
the time-discretised process (Brehier, Gazeau, Goudenege, Lelievre & Rousset 2016, with ties), and
``E[T_reac]`` is the ratio ``sum w_r sum_i T_i 1_B / sum w_r N_B`` over runs. ``n_runs``
independent AMS runs give the mean of ``p_hat`` and its standard error; the interval on tau is the
delta method on ``ln tau`` (the p and T_loop errors) with a Student t quantile.

Discrete time
-------------
Paths are Euler-Maruyama steps with the engine's streams, step and event rules (grid crossing with
linear interpolation, Brownian-bridge correction for B): tau estimates the same quantity as the
brute-force engine at the same ``dt``. A and Sigma are checked on the grid only; this is no
approximation (the decomposition holds for any stopping rule used consistently). A branch point is
a grid point, so only the running-maximum records of each path (state, time, xi) are stored.

Randomness
----------
Every propagated piece of path owns a counter stream from
``SeedSequence(seed, spawn_key=(tag, run, iteration, slot))`` and the survivor choices of run r
a Generator from ``spawn_key=(SELECT, r)``: results do not depend on the thread count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numba
import numpy as np
from numba.core.registry import CPUDispatcher
from scipy import stats as _sstats

from .._core.checks import InputError, check_finite, check_int, check_positive
from .ams_kernels import A_HIT, B_HIT, CAPPED, OVERFLOW, SIGMA_HIT, _advance, _advance_serial, _xi_batch
from .engine import path_keys
from .events import Event, escape_setup, pack_events
from .models import Model, work_size

__all__ = ["AMSResult", "simulate_ams"]

_PILOT, _LOOP, _INIT, _BRANCH, _SELECT = 1, 2, 3, 4, 5


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, eq=False)
class AMSResult:
    """Outcome of :func:`simulate_ams`.

    Attributes
    ----------
    mean_escape_time : float
        ``tau = t_entry + (1 - p) / p * t_loop + t_reactive`` (SDE time; ``inf`` if p = 0).
    ci_low, ci_high : float
        Interval on tau: delta method on ``ln tau`` (errors of p and of the brute-force times),
        Student t quantile with ``n_runs - 1`` degrees of freedom.
    confidence : float
    probability : float
        Mean over runs of the AMS estimate of ``p = P(B before A | start on Sigma)``.
    probability_se : float
        Its standard error (sample standard deviation over runs / sqrt(n_runs)).
    run_probabilities : ndarray, shape (n_runs,)
        ``p_hat`` of each independent run.
    run_iterations : ndarray, shape (n_runs,), int64
        AMS iterations (levels) of each run.
    level_a, level_sigma : float
        ``z_A`` and ``z_Sigma`` in units of xi.
    t_entry, t_loop, t_reactive : float
        Mean times ``x0 -> Sigma``, failed loop ``Sigma -> A -> Sigma`` and successful excursion
        ``Sigma -> B`` (the last from the AMS replicas that reached B).
    t_entry_se, t_loop_se : float
    n_loops : int
        Brute-force excursions from Sigma in the loop phase.
    p_loops : float
        Fraction of those that reached B (a brute-force estimate of p; 0 at high barriers).
    n_replicas, n_runs, k : int
    path_steps, path_steps_ams : int
        Euler-Maruyama steps in total and in the AMS phase.
    n_censored : int
        Pieces of path stopped at ``max_steps`` before A or B (biases the estimate; status marginal).
    status : str
        ``"valid"``, ``"marginal"`` or ``"not_applicable"``.
    reason : str
        ``"ok"``, ``"few_runs"``, ``"large_error"``, ``"censored"``, ``"extinction"`` or
        ``"pilot_escaped"`` (most pilot paths reached B: not a rare event, numbers NaN; use
        :func:`langevin_grok.langevin.engine.simulate_ensemble`).
    seed : int
    dt, temperature, wall_seconds : float
    bridge : bool
    event_names : tuple of str
    model : dict
    """

    mean_escape_time: float
    ci_low: float
    ci_high: float
    confidence: float
    probability: float
    probability_se: float
    run_probabilities: np.ndarray
    run_iterations: np.ndarray
    level_a: float
    level_sigma: float
    t_entry: float
    t_loop: float
    t_reactive: float
    t_entry_se: float
    t_loop_se: float
    n_loops: int
    p_loops: float
    n_replicas: int
    n_runs: int
    k: int
    path_steps: int
    path_steps_ams: int
    n_censored: int
    status: str
    reason: str
    seed: int
    dt: float
    temperature: float
    wall_seconds: float
    bridge: bool
    event_names: tuple
    model: dict

    @property
    def levels(self) -> float:
        """Mean number of AMS iterations (levels) per run."""
        return float(np.mean(self.run_iterations))

    def to_dict(self) -> dict:
        """JSON-ready summary (non-finite floats -> None)."""
        out = {}
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                v = [None if isinstance(e, float) and not math.isfinite(e) else e for e in v.tolist()]
            elif isinstance(v, tuple):
                v = list(v)
            elif isinstance(v, float) and not math.isfinite(v):
                v = None
            out[k] = v
        out["levels"] = self.levels
        return out


# --------------------------------------------------------------------------- driver
_XI_ADAPTERS: dict = {}


def _xi_adapter(xi):
    if xi not in _XI_ADAPTERS:
        uxi = xi if isinstance(xi, CPUDispatcher) else numba.njit(xi)

        @numba.njit(inline="always")
        def _xi_user(x, p, ev_codes, ev_specs, sign, work):
            return uxi(0.0, x, p)

        @numba.njit(inline="always")
        def _xi_user_1d(r, p, ev_codes, ev_specs, sign):
            x = np.empty(1)
            x[0] = r
            return uxi(0.0, x, p)

        _XI_ADAPTERS[xi] = {"_xi_value": _xi_user, "_xi_value_1d": _xi_user_1d}
    return _XI_ADAPTERS[xi]


@dataclass
class _Ctx:
    advance: Callable
    advance_serial: Callable
    xi_batch: Callable
    code: int
    p: np.ndarray
    dt: float
    T: float
    cap: int
    codes: np.ndarray
    dirs: np.ndarray
    specs: np.ndarray
    bridge: bool
    sign: float
    wsize: int
    seed: int
    dim: int
    one_d: bool = True
    parallel_rows: int = 64
    steps: int = 0
    censored: int = 0

    def keys(self, tag: int, *rows) -> np.ndarray:
        out = np.empty((len(rows), 2), dtype=np.uint64)
        for i, r in enumerate(rows):
            out[i] = np.random.SeedSequence(self.seed, spawn_key=(tag,) + tuple(r)).generate_state(2, np.uint64)
        return out

    def run(self, X, lo, hi, zmax, keys, rec_cap=0, n_max=None):
        """Advance the rows of X in place; returns status, times and per-row records (or None)."""
        m = X.shape[0]
        X0 = X.copy()
        cap = max(int(rec_cap), 0)
        todo = np.arange(m)
        status = np.empty(m, dtype=np.int64)
        times = np.empty(m)
        recs = [None] * m
        n_max = self.cap if n_max is None else n_max
        while todo.size:
            Xs = np.ascontiguousarray(X0[todo])
            st = np.empty(todo.size, dtype=np.int64)
            sp = np.empty(todo.size, dtype=np.int64)
            tm = np.empty(todo.size)
            nr = np.empty(todo.size, dtype=np.int64)
            rx = np.empty((todo.size, cap, self.dim))
            rt = np.empty((todo.size, cap))
            rxi = np.empty((todo.size, cap))
            fn = self.advance if todo.size >= self.parallel_rows else self.advance_serial
            fn(self.code, self.p, Xs, self.dt, self.T, n_max, self.codes, self.dirs, self.specs,
                         self.bridge, self.sign, lo, hi, np.ascontiguousarray(zmax[todo], dtype=float),
                         keys[todo], rx, rt, rxi, st, sp, tm, nr, self.wsize, self.one_d)
            over = st == OVERFLOW
            for a, i in enumerate(todo):
                if over[a]:
                    continue
                self.steps += int(sp[a])
                status[i], times[i] = st[a], tm[a]
                X[i] = Xs[a]
                if cap:
                    recs[i] = (rx[a, :nr[a]].copy(), rt[a, :nr[a]].copy(), rxi[a, :nr[a]].copy())
            self.censored += int(np.count_nonzero(st == CAPPED))
            todo = todo[over]
            cap *= 16  # rerun the overflowing rows from their start with the same streams
        return status, times, recs


def _pilot_levels(ctx: _Ctx, x0, n_pilot: int, pilot_steps: int) -> tuple[float, float]:
    """``(z_A, z_Sigma)``: median and 90% quantile of xi after ``pilot_steps`` steps from x0."""
    X = np.tile(x0, (n_pilot, 1))
    keys = ctx.keys(_PILOT, *[(i,) for i in range(n_pilot)])
    st, _, _ = ctx.run(X, -np.inf, np.inf, np.full(n_pilot, np.inf), keys, 0, n_max=pilot_steps)
    ctx.censored -= int(np.count_nonzero(st == CAPPED))  # the pilot is meant to stop at its cap
    keep = st == CAPPED
    if np.count_nonzero(keep) < n_pilot // 2:
        return math.nan, math.nan  # most pilot paths escaped: not a rare event at this temperature
    xi = ctx.xi_batch(np.ascontiguousarray(X[keep]), ctx.p, ctx.codes, ctx.specs, ctx.sign, ctx.wsize)
    return float(np.quantile(xi, 0.5)), float(np.quantile(xi, 0.9))


def _loops(ctx: _Ctx, x0, z_a, z_s, n_loops: int) -> dict:
    """Brute-force cycles from x0: x0 -> Sigma, then Sigma -> A or B, then A -> Sigma, ...

    ``n_loops`` excursions from Sigma in ``min(64, n_loops // 8)`` parallel chains (at least 8
    cycles each); a chain that reaches B (or is censored) restarts at x0."""
    n_ch = max(1, min(64, n_loops // 8))
    n_cyc = -(-n_loops // n_ch)
    X = np.tile(x0, (n_ch, 1))
    from_x0 = np.ones(n_ch, dtype=bool)
    t_entry, t_ret, t_fail, pool, pool0 = [], [], [], [], []
    n_b = n_a = 0
    inf = np.full(n_ch, np.inf)
    for c in range(n_cyc):
        st, tm, _ = ctx.run(X, -np.inf, z_s, inf, ctx.keys(_LOOP, *[(i, c, 0) for i in range(n_ch)]))
        ok = st == SIGMA_HIT
        t_entry += tm[ok & from_x0].tolist()
        t_ret += tm[ok & ~from_x0].tolist()
        pool.append(X[ok & ~from_x0].copy())
        pool0.append(X[ok & from_x0].copy())
        idx = np.flatnonzero(ok)
        Xs = np.ascontiguousarray(X[idx])
        st2, tm2, _ = ctx.run(Xs, z_a, np.inf, inf[idx], ctx.keys(_LOOP, *[(i, c, 1) for i in idx]))
        X[idx] = Xs
        t_fail += tm2[st2 == A_HIT].tolist()
        n_a += int(np.count_nonzero(st2 == A_HIT))
        n_b += int(np.count_nonzero(st2 == B_HIT))
        reset = ~ok
        reset[idx[st2 != A_HIT]] = True
        X[reset] = x0
        from_x0 = reset
    pool = np.concatenate(pool)
    if len(pool) < 2:  # hitting points after a return from A are the stationary ones; else first entries
        pool = np.concatenate([pool, *pool0])
    if min(len(t_entry), len(t_ret), len(t_fail), len(pool)) < 2:
        raise InputError(f"n_loops={n_loops} gave too few complete loops (need >= 2 of each part)")
    return {"t_entry": np.array(t_entry), "t_return": np.array(t_ret), "t_fail": np.array(t_fail),
            "pool": pool, "n_a": n_a, "n_b": n_b}


def _ams_runs(ctx: _Ctx, pool: np.ndarray, z_a: float, n: int, n_runs: int, k: int, rec_cap: int) -> dict:
    """``n_runs`` independent AMS runs of ``n`` replicas in lockstep (one kernel call per iteration
    for the branches of all active runs); see the module notes for the estimator."""
    gens = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(ctx.seed, spawn_key=(_SELECT, r))))
            for r in range(n_runs)]
    starts = np.concatenate([pool[g.integers(0, len(pool), n)] for g in gens])
    keys = ctx.keys(_INIT, *[(r, i) for r in range(n_runs) for i in range(n)])
    _, _, recs0 = ctx.run(starts, z_a, np.inf, np.full(n * n_runs, -np.inf), keys, rec_cap)
    recs = [recs0[r * n:(r + 1) * n] for r in range(n_runs)]
    levels = [np.array([rc[2][-1] for rc in recs[r]]) for r in range(n_runs)]
    log_w = np.zeros(n_runs)
    iters = np.zeros(n_runs, dtype=np.int64)
    active = np.ones(n_runs, dtype=bool)
    extinct = np.zeros(n_runs, dtype=bool)
    while active.any():
        jobs = []  # (run, replica, parent record prefix)
        for r in np.flatnonzero(active):
            lv = levels[r]
            z = np.partition(lv, k - 1)[k - 1]
            if z == np.inf:
                active[r] = False
                continue
            killed = np.flatnonzero(lv <= z)
            if killed.size == n:
                extinct[r] = True
                active[r] = False
                continue
            log_w[r] += math.log1p(-killed.size / n)
            surv = np.flatnonzero(lv > z)
            parents = surv[gens[r].integers(0, surv.size, killed.size)]
            new = {}
            for i, par in zip(killed, parents):
                rx, rt, rxi = recs[r][par]
                m = int(np.searchsorted(rxi, z, side="right"))  # first record with xi > z
                new[i] = (rx[:m + 1], rt[:m + 1], rxi[:m + 1])
                if rxi[m] < np.inf:
                    jobs.append((r, int(i), int(iters[r])))
            for i, rc in new.items():
                recs[r][i] = rc
                levels[r][i] = rc[2][-1]
            iters[r] += 1
        if not jobs:
            continue
        X = np.array([recs[r][i][0][-1] for r, i, _ in jobs])
        zmax = np.array([recs[r][i][2][-1] for r, i, _ in jobs])
        keys = ctx.keys(_BRANCH, *[(r, it, i) for r, i, it in jobs])
        _, _, out = ctx.run(X, z_a, np.inf, zmax, keys, rec_cap)
        for (r, i, _), (cx, ct, cxi) in zip(jobs, out):
            rx, rt, rxi = recs[r][i]
            recs[r][i] = (np.concatenate([rx, cx]), np.concatenate([rt, ct + rt[-1]]), np.concatenate([rxi, cxi]))
            if cxi.size:
                levels[r][i] = cxi[-1]
    p_run = np.zeros(n_runs)
    t_sum = 0.0
    w_sum = 0.0
    for r in range(n_runs):
        hit = levels[r] == np.inf
        w = 0.0 if extinct[r] else math.exp(log_w[r]) / n
        p_run[r] = w * np.count_nonzero(hit)
        t_sum += w * sum(recs[r][i][1][-1] for i in np.flatnonzero(hit))
        w_sum += p_run[r]
    return {"p": p_run, "iters": iters, "t_reac": t_sum / w_sum if w_sum > 0 else math.nan}


def _setup(model, x0, events, direction):
    if not isinstance(model, Model):
        raise InputError(f"model must be a langevin_grok.langevin.models.Model, got {model!r}")
    if x0 is None and events is None:
        setup = escape_setup(model, direction)
        x0, events = setup.x0, setup.events
    elif x0 is None or events is None:
        raise InputError("give both x0 and events, or neither (default escape problem)")
    events = tuple(events)
    if not events:
        raise InputError("events must hold at least one event (B)")
    x0 = np.asarray(x0, dtype=float).reshape(-1)
    if x0.shape != (model.dim,) or not np.all(np.isfinite(x0)):
        raise InputError(f"x0 must be a finite array of shape ({model.dim},), got {np.shape(x0)}")
    return x0, events


def _orientation(event: Event, x0, p) -> float:
    if event.direction != 0:
        return float(event.direction)
    g = event(0.0, x0, p)
    if g == 0:
        raise InputError("x0 lies on the event surface")
    return -math.copysign(1.0, g)


def simulate_ams(
    model: Model,
    temperature: float,
    *,
    n_replicas: int,
    n_runs: int,
    dt: float,
    seed: np.random.Generator | int | None = None,
    reaction_coordinate: Callable | None = None,
    x0=None,
    events: Sequence[Event] | None = None,
    direction: str = "forward",
    k: int = 1,
    level_a: float | None = None,
    level_sigma: float | None = None,
    n_loops: int = 1000,
    pilot_paths: int = 256,
    pilot_steps: int = 4000,
    max_steps: int = 10_000_000,
    bridge: bool = True,
    record_capacity: int = 1024,
    n_threads: int | None = None,
    confidence: float = 0.95,
) -> AMSResult:
    """Mean first-passage time to a rare event by adaptive multilevel splitting.

    Parameters
    ----------
    model : Model
        Any engine model, including :func:`langevin_grok.langevin.custom.custom_model`.
    temperature : float
        T > 0 (noise ``sqrt(2T) dW``).
    n_replicas : int
        AMS replicas per run (>= 2; more than ``k``).
    n_runs : int
        Independent AMS runs (>= 2): the error bar is their spread.
    dt : float
        Euler-Maruyama step (SDE time units).
    seed : Generator, int or None
        Root of every stream (recorded).
    reaction_coordinate : callable, optional
        ``xi(t, x, p) -> float`` (numba-compilable; ``t = 0.0`` is passed), increasing towards B;
        default: the oriented signed distance of ``events[0]``. B itself is always the event(s).
    x0, events : optional
        Start state ``(dim,)`` and escape events; both ``None``: :func:`langevin_grok.langevin.events.escape_setup`
        in ``direction``.
    direction : {"forward", "reverse"}
    k : int
        Replicas killed per iteration (at least; ties are all killed).
    level_a, level_sigma : float, optional
        ``z_A < z_Sigma < 0`` in units of xi; default: median and 90% quantile of xi over
        ``pilot_paths`` paths after ``pilot_steps`` steps from x0.
    n_loops : int
        Brute-force excursions from Sigma for ``t_loop`` and the AMS start points.
    max_steps : int
        Step cap of every piece of path (censoring is counted and flags the result).
    bridge : bool
        Brownian-bridge crossing correction for B (as the engine).
    record_capacity : int
        Initial size of the per-path record buffers (grown as needed; no effect on results).
    n_threads : int, optional
        numba threads; does not change the result.
    confidence : float

    Returns
    -------
    AMSResult

    Notes
    -----
    ``tau = t_entry + (1 - p)/p t_loop + t_reactive`` (Cerou, Guyader, Lelievre & Pommier 2011) with
    the AMS estimator of p (Cerou & Guyader 2007; unbiased with ties: Brehier et al. 2016); see the
    module notes and ``docs/theory.md``, section "Rare events: adaptive multilevel splitting".
    """
    T = check_positive("temperature", temperature)
    n = check_int("n_replicas", n_replicas, minimum=2)
    R = check_int("n_runs", n_runs, minimum=2)
    dt = check_positive("dt", dt)
    k = check_int("k", k, minimum=1)
    if k >= n:
        raise InputError(f"k must be < n_replicas = {n}, got {k}")
    n_loops = check_int("n_loops", n_loops, minimum=2)
    pilot_paths = check_int("pilot_paths", pilot_paths, minimum=2)
    pilot_steps = check_int("pilot_steps", pilot_steps, minimum=1)
    cap = check_int("max_steps", max_steps, minimum=1)
    rec_cap = check_int("record_capacity", record_capacity, minimum=1)
    conf = check_positive("confidence", confidence)
    if conf >= 1:
        raise InputError(f"confidence must lie in (0, 1), got {confidence!r}")
    x0, events = _setup(model, x0, events, direction)
    codes, dirs, specs = pack_events(events, model)
    p = np.ascontiguousarray(model.params)
    sign = _orientation(events[0], x0, p) if reaction_coordinate is None else 1.0
    extra = None
    if reaction_coordinate is not None:
        if not callable(reaction_coordinate):
            raise InputError(f"reaction_coordinate must be callable, got {reaction_coordinate!r}")
        extra = _xi_adapter(reaction_coordinate)
    from .custom import specialise

    ctx = _Ctx(specialise(_advance, model, events, extra), specialise(_advance_serial, model, events, extra),
               specialise(_xi_batch, model, events, extra),
               model.code, p, dt, T, cap, codes, dirs, specs, bool(bridge), sign, work_size(model.code, p),
               path_keys(seed, 1)[0], model.dim)
    old = numba.get_num_threads()
    if n_threads is not None:
        numba.set_num_threads(min(check_int("n_threads", n_threads, minimum=1), numba.config.NUMBA_NUM_THREADS))
    t0 = time.perf_counter()
    try:
        if level_a is None or level_sigma is None:
            za, zs = _pilot_levels(ctx, x0, pilot_paths, pilot_steps)
            za = za if level_a is None else check_finite("level_a", level_a)
            zs = zs if level_sigma is None else check_finite("level_sigma", level_sigma)
            if math.isnan(za) or math.isnan(zs):
                return _not_rare(n, R, k, ctx, conf, time.perf_counter() - t0, events, model, bool(bridge))
        else:
            za, zs = check_finite("level_a", level_a), check_finite("level_sigma", level_sigma)
        if not za < zs < 0:
            raise InputError(f"levels must satisfy level_a < level_sigma < 0, got {za!r}, {zs!r}")
        loops = _loops(ctx, x0, za, zs, n_loops)
        steps_bf = ctx.steps
        ams = _ams_runs(ctx, loops["pool"], za, n, R, k, rec_cap)
    finally:
        wall = time.perf_counter() - t0
        numba.set_num_threads(old)
    return _result(ams, loops, za, zs, n, R, k, ctx, steps_bf, conf, wall, events, model, bool(bridge))


def _not_rare(n, R, k, ctx, conf, wall, events, model, bridge) -> AMSResult:
    """Result when most pilot paths escaped: brute force is the method (status not_applicable)."""
    nan = math.nan
    return AMSResult(
        mean_escape_time=nan, ci_low=nan, ci_high=nan, confidence=conf, probability=nan, probability_se=nan,
        run_probabilities=np.full(R, nan), run_iterations=np.zeros(R, dtype=np.int64), level_a=nan,
        level_sigma=nan, t_entry=nan, t_loop=nan, t_reactive=nan, t_entry_se=nan, t_loop_se=nan, n_loops=0,
        p_loops=nan, n_replicas=n, n_runs=R, k=k, path_steps=ctx.steps, path_steps_ams=0, n_censored=0,
        status="not_applicable", reason="pilot_escaped", seed=ctx.seed, dt=ctx.dt, temperature=ctx.T,
        wall_seconds=wall, bridge=bridge, event_names=tuple(e.name for e in events), model=model.to_dict(),
    )


def _mean_se(a: np.ndarray) -> tuple[float, float]:
    return float(np.mean(a)), float(np.std(a, ddof=1) / math.sqrt(a.size))


def _result(ams, loops, za, zs, n, R, k, ctx, steps_bf, conf, wall, events, model, bridge) -> AMSResult:
    pr = ams["p"]
    p_bar, p_se = _mean_se(pr)
    t_e, se_e = _mean_se(loops["t_entry"])
    t_f, se_f = _mean_se(loops["t_fail"])
    t_r, se_r = _mean_se(loops["t_return"])
    t_loop, se_loop = t_f + t_r, math.hypot(se_f, se_r)
    t_reac = ams["t_reac"]
    status, reason = "valid", "ok"
    if p_bar == 0:
        tau = lo = hi = math.inf
        status, reason = "not_applicable", "extinction"
    else:
        tau = t_e + (1 - p_bar) / p_bar * t_loop + t_reac
        s_ln = math.sqrt((t_loop / p_bar**2 * p_se) ** 2 + ((1 - p_bar) / p_bar * se_loop) ** 2 + se_e**2) / tau
        q = float(_sstats.t.ppf(0.5 * (1 + conf), R - 1))
        lo, hi = tau * math.exp(-q * s_ln), tau * math.exp(q * s_ln)
        if ctx.censored:
            status, reason = "marginal", "censored"
        elif R < 10:
            status, reason = "marginal", "few_runs"
        elif s_ln > 0.5:
            status, reason = "marginal", "large_error"
    n_exc = loops["n_a"] + loops["n_b"]
    return AMSResult(
        mean_escape_time=tau, ci_low=lo, ci_high=hi, confidence=conf, probability=p_bar, probability_se=p_se,
        run_probabilities=pr, run_iterations=ams["iters"], level_a=za, level_sigma=zs, t_entry=t_e,
        t_loop=t_loop, t_reactive=t_reac, t_entry_se=se_e, t_loop_se=se_loop, n_loops=n_exc,
        p_loops=loops["n_b"] / n_exc if n_exc else math.nan, n_replicas=n, n_runs=R, k=k,
        path_steps=ctx.steps, path_steps_ams=ctx.steps - steps_bf, n_censored=ctx.censored, status=status,
        reason=reason, seed=ctx.seed, dt=ctx.dt, temperature=ctx.T, wall_seconds=wall, bridge=bridge,
        event_names=tuple(e.name for e in events), model=model.to_dict(),
    )
