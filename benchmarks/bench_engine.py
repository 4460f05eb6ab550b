"""Path-steps per second of the Langevin ensemble engine against sdeint and a vectorised numpy loop.

Same 1-D problem for all three: the arc-length model of one mode (L = 3, eta = 0.8, beta = 0.32,
default forward escape event), T = 0.005 (dE/T ~ 5.7, so almost no path stops during the run and all
do the same work), dt = 0.01. Each contender runs a fixed number of Euler-Maruyama steps with the
event checked every step; the engine also applies its Brownian-bridge test. Medians over repeats.

    python benchmarks/bench_engine.py [--repeats 5] [--paths 4000] [--steps 20000] [--json]

Also prints the raw normal-generation rate of the machine (numpy ``Generator.standard_normal``)
and of the engine's own per-path generator, since a 1-D Euler-Maruyama step is close to one normal.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time

import numba
import numpy as np
import sdeint

from langevin_grok.langevin.engine import simulate_ensemble, standard_normals
from langevin_grok.langevin.events import escape_setup
from langevin_grok.landscape.modes import arc_force
from langevin_grok.langevin.models import arc_model

DEPTH, ETA, BETA, T, DT = 3, 0.8, 0.32, 0.005, 0.01


def bench_engine(model, setup, n_paths, n_steps, seed):
    c0 = time.process_time()
    res = simulate_ensemble(model, T, n_paths, DT, setup.x0, setup.events, max_steps=n_steps, seed=seed)
    return res.path_steps, res.wall_seconds, time.process_time() - c0


def bench_numpy(model, setup, n_paths, n_steps, seed):
    """Plain vectorised Euler-Maruyama: all paths in one array, event mask updated every step."""
    rng = np.random.default_rng(seed)
    p = model.params
    rb = setup.target.r_target
    x = np.full(n_paths, float(setup.x0[0]))
    alive = np.ones(n_paths, dtype=bool)
    sig = math.sqrt(2 * T * DT)
    steps = 0
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(n_steps):
        x += arc_force(0.0, x, p) * DT + sig * rng.standard_normal(n_paths)
        steps += int(alive.sum())
        alive &= x < rb
    wall = time.perf_counter() - t0
    return steps, wall, time.process_time() - c0


def bench_sdeint(model, setup, n_steps, seed):
    """sdeint.itoEuler on one path through the same model definition (its numpy drift)."""
    rng = np.random.default_rng(seed)
    amp = np.array([[math.sqrt(2 * T)]])
    tspan = np.arange(n_steps + 1) * DT
    c0 = time.process_time()
    t0 = time.perf_counter()
    y = sdeint.itoEuler(lambda x, t: model.drift(t, x), lambda x, t: amp, setup.x0, tspan, generator=rng)
    # first-passage detection on the returned grid (same event)
    np.flatnonzero(y[:, 0] >= setup.target.r_target)
    wall = time.perf_counter() - t0
    return n_steps, wall, time.process_time() - c0


def rate(fn, repeats):
    """Median path-steps per wall second and per CPU second (all threads) over repeats."""
    wall_rates, cpu_rates = [], []
    for r in range(repeats):
        steps, wall, cpu = fn(r)
        wall_rates.append(steps / wall)
        cpu_rates.append(steps / cpu)
    return statistics.median(wall_rates), statistics.median(cpu_rates)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="repeats per contender (median reported)")
    ap.add_argument("--paths", type=int, default=4000, help="ensemble size for engine and numpy")
    ap.add_argument("--steps", type=int, default=20000, help="steps per path for the engine")
    ap.add_argument("--numpy-steps", type=int, default=2000, help="steps per path for the numpy loop")
    ap.add_argument("--sdeint-steps", type=int, default=20000, help="steps of the single sdeint path")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    model = arc_model(DEPTH, ETA, BETA)
    setup = escape_setup(model, "forward")
    bench_engine(model, setup, 8, 10, 0)  # compile / load the numba cache outside the timing

    engine, engine_cpu = rate(lambda r: bench_engine(model, setup, args.paths, args.steps, 100 + r), args.repeats)
    npy, npy_cpu = rate(lambda r: bench_numpy(model, setup, args.paths, args.numpy_steps, 200 + r), args.repeats)
    sde, sde_cpu = rate(lambda r: bench_sdeint(model, setup, args.sdeint_steps, 300 + r), args.repeats)

    gen = np.random.default_rng(0)
    normals = []
    own = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        gen.standard_normal(10_000_000)
        normals.append(1e7 / (time.perf_counter() - t0))
        t0 = time.perf_counter()
        standard_normals(r + 1, 10_000_000)
        own.append(1e7 / (time.perf_counter() - t0))
    out = {
        "problem": {"model": "arc", "depth": DEPTH, "sv": ETA, "beta": BETA, "temperature": T, "dt": DT},
        "threads": numba.get_num_threads(),
        "engine_path_steps_per_s": engine,
        "numpy_path_steps_per_s": npy,
        "sdeint_path_steps_per_s": sde,
        "engine_over_sdeint": engine / sde,
        "engine_over_numpy": engine / npy,
        "engine_path_steps_per_cpu_s": engine_cpu,
        "numpy_path_steps_per_cpu_s": npy_cpu,
        "sdeint_path_steps_per_cpu_s": sde_cpu,
        "load_average_1min": os.getloadavg()[0],
        "numpy_normals_per_s_1thread": statistics.median(normals),
        "engine_normals_per_s_1thread": statistics.median(own),
        "engine_over_numpy_normal_rate": engine / statistics.median(normals),
        "repeats": args.repeats,
    }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(f"1-D arc (L={DEPTH}, eta={ETA}, beta={BETA}), T={T}, dt={DT}; numba threads: {out['threads']}; "
          f"medians of {args.repeats} repeats")
    print(f"  engine (numba, {out['threads']} threads) : {engine:12.4g} path-steps/s")
    print(f"  numpy vectorised loop      : {npy:12.4g} path-steps/s")
    print(f"  sdeint.itoEuler (1 path)   : {sde:12.4g} path-steps/s")
    print(f"  ratio engine / sdeint      : {engine / sde:10.1f}x   (target >= 500x)")
    print(f"  ratio engine / numpy       : {engine / npy:10.1f}x   (target >= 5x)")
    print(f"  numpy standard_normal      : {out['numpy_normals_per_s_1thread']:12.4g} normals/s (1 thread)")
    print(f"  engine per-path generator  : {out['engine_normals_per_s_1thread']:12.4g} normals/s (1 thread)")
    print(f"  per CPU-second (all threads): engine {engine_cpu:.4g}, numpy {npy_cpu:.4g}, sdeint {sde_cpu:.4g} "
          f"path-steps/s; load average {out['load_average_1min']:.2f} (other processes share the cores)")
    print(f"  engine steps / numpy normals: {out['engine_over_numpy_normal_rate']:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
