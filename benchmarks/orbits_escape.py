"""Prediction vs weight-space Langevin simulation for the hidden-layer orbit theory (langevin_grok.theory.orbits).

Usage: PYTHONPATH=. python benchmarks/orbits_escape.py WIDTH START F[,F...] N_PATHS [DT] [EVENT]

START is e.g. ``learned,trivial`` (the rank-1 trap of the paper network, L = 3, eta = (0.9, 0.8),
beta = 0.32); F = dE/T. EVENT:
  ``mode``  the package's mode event (u_i^T W v_i >= lambda_target, network_mode_event, bridge-corrected);
  ``sv``    the i-th singular value of W = W_3 W_2 W_1 reaching lambda_target, monitored every 10 steps
            (windows of 2000 steps without events, restarted from the end state; a fresh seed per window).
Prints one line per F: prediction (orbit formula, entropic MFPT), simulated mean escape time (censored
exponential MLE, 95% CI), and the ratios.
"""

from __future__ import annotations

import math
import sys
import time

import numpy as np

from langevin_grok.langevin.engine import simulate_ensemble
from langevin_grok.langevin.events import escape_setup
from langevin_grok.landscape.escape import escape_target
from langevin_grok.langevin.models import network_model
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point
from langevin_grok.theory.orbits import eyring_kramers_orbit
from langevin_grok.theory.orbits_entropic import entropic_mfpt
from langevin_grok.theory.stats import exponential_mle

ETA, BETA = (0.9, 0.8), 0.32


def sv_escape(net, model, x0, e, level, T, n, dt, seed, max_windows=2000, window=2000, every=10):
    """First time sigma_e(W) >= level, monitored every ``every`` steps; censored after max_windows."""
    X = np.tile(x0, (n, 1))
    times = np.full(n, math.inf)
    alive = np.arange(n)
    for k in range(max_windows):
        res = simulate_ensemble(model, T, alive.size, dt, x0=X[alive], events=(), max_steps=window,
                                seed=seed * 100003 + k, record_every=every, n_threads=1)
        P = res.paths[:, 1:, :]  # states after every `every` steps
        Ws = [P[..., :net.width * 2].reshape(alive.size, -1, net.width, 2)]
        o = net.width * 2
        for r, c in net.shapes[1:]:
            Ws.append(P[..., o:o + r * c].reshape(alive.size, -1, r, c))
            o += r * c
        W = Ws[0]
        for Wl in Ws[1:]:
            W = Wl @ W
        s = np.linalg.svd(W, compute_uv=False)[..., e]
        hit = s >= level
        first = np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
        done = first >= 0
        times[alive[done]] = k * window * dt + (first[done] + 1) * every * dt
        X[alive] = res.final_x
        alive = alive[~done]
        if alive.size == 0:
            break
    cap = max_windows * window * dt
    escaped = np.isfinite(times)
    return np.where(escaped, times, cap), escaped


def main(argv):
    w, start, fs, n = int(argv[0]), tuple(argv[1].split(",")), [float(x) for x in argv[2].split(",")], int(argv[3])
    dt = float(argv[4]) if len(argv) > 4 else 0.01
    kind = argv[5] if len(argv) > 5 else "mode"
    net = DeepLinearNetwork.from_singular_values(3, w, 2, list(ETA), BETA)
    e = start.index("trivial")
    sad = tuple("saddle" if i == e else m for i, m in enumerate(start))
    x0 = np.asarray(stationary_point(net, start).theta)
    model = network_model(net)
    tgt = escape_target(3, ETA[e], BETA)
    for f in fs:
        T = tgt.barrier / f
        ent, ek = entropic_mfpt(net, start, T), eyring_kramers_orbit(net, start, sad, T)
        t0 = time.time()
        if kind == "mode":
            ev = escape_setup(model, "forward", mode_index=e).events
            res = simulate_ensemble(model, T, n, dt, x0=x0, events=ev, seed=1, n_threads=1)
            times, escaped = res.times, res.escaped
        else:
            times, escaped = sv_escape(net, model, x0, e, tgt.lambda_target, T, n, dt, seed=1)
        est = exponential_mle(times, escaped)
        print(f"w={w} start={','.join(start)} event={kind} dE/T={f:g} T={T:.5g} dt={dt:g} "
              f"sim={est.mean:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}] n_esc={est.n_events}/{n} "
              f"entropic={ent.tau:.4g} ({ent.status}/{ent.reason}, F/T={ent.free_energy_barrier / T:.3g}) "
              f"orbit_EK={ek.tau:.4g} ({ek.status}/{ek.reason}) ent/sim={ent.tau / est.mean:.3g} "
              f"EK/sim={ek.tau / est.mean:.3g} wall={time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
