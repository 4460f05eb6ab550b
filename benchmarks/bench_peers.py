"""Path-steps per second: the compiled engine against sdeint, a vectorised numpy Euler-Maruyama and (if
installed) JAX jit+vmap, on the 1-D arc and the 140-dimensional deep linear network (L=3, w=10, p=2).

Every contender runs a fixed number of Euler-Maruyama steps of dX = -grad U dt + sqrt(2T) dW with no
stopping event (all paths do the same work). Medians over repeats; the ratios are engine / contender.

    python benchmarks/bench_peers.py [--repeats 3] [--json]
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

from langevin_grok.langevin.engine import simulate_ensemble
from langevin_grok.landscape.modes import arc_force
from langevin_grok.langevin.models import arc_model, network_model
from langevin_grok.landscape.network import DeepLinearNetwork, grad_fn

T, DT = 0.005, 0.01


def problems():
    arc = arc_model(3, 0.8, 0.32)
    net = DeepLinearNetwork.from_singular_values(3, 10, 2, [0.8, 0.5], 0.1, rng=0)
    netm = network_model(net)
    x_net = 0.1 * np.random.default_rng(1).standard_normal(netm.dim)
    return {"arc": (arc, np.zeros(1)), "network": (netm, x_net)}


def net_grad_batch(X, p):
    """Batched gradient of the L = 3 network loss (rows of X), by matmul; checked against grad_fn."""
    w, d, beta = int(p[1]), int(p[2]), p[3]
    sxx = p[4:4 + d * d].reshape(d, d)
    syx = p[4 + d * d:4 + 2 * d * d].reshape(d, d)
    n = X.shape[0]
    W1 = X[:, :w * d].reshape(n, w, d)
    W2 = X[:, w * d:w * d + w * w].reshape(n, w, w)
    W3 = X[:, w * d + w * w:].reshape(n, d, w)
    W21 = W2 @ W1
    W32 = W3 @ W2
    E = (W3 @ W21) @ sxx - syx
    g1 = np.swapaxes(W32, 1, 2) @ E
    g2 = np.swapaxes(W3, 1, 2) @ E @ np.swapaxes(W1, 1, 2)
    g3 = E @ np.swapaxes(W21, 1, 2)
    return np.concatenate([g1.reshape(n, -1), g2.reshape(n, -1), g3.reshape(n, -1)], axis=1) + beta * X


def run_engine(model, x0, n, steps, seed):
    res = simulate_ensemble(model, T, n, DT, x0, (), max_steps=steps, seed=seed)
    return res.path_steps, res.wall_seconds


def run_numpy(model, x0, n, steps, seed):
    rng = np.random.default_rng(seed)
    X = np.tile(x0, (n, 1))
    p = model.params
    sig = math.sqrt(2 * T * DT)
    t0 = time.perf_counter()
    for _ in range(steps):
        g = -arc_force(0.0, X, p) if model.kind == "arc" else net_grad_batch(X, p)
        X += -g * DT + sig * rng.standard_normal(X.shape)
    return n * steps, time.perf_counter() - t0


def run_sdeint(model, x0, n, steps, seed):
    amp = math.sqrt(2 * T) * np.eye(model.dim)
    tspan = np.arange(steps + 1) * DT
    t0 = time.perf_counter()
    sdeint.itoEuler(lambda x, t: model.drift(t, x), lambda x, t: amp, x0, tspan,
                    generator=np.random.default_rng(seed))
    return steps, time.perf_counter() - t0


def jax_runner():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)

    def run(model, x0, n, steps, seed):
        p = np.asarray(model.params)
        if model.kind == "arc":
            L, eta, beta = int(p[0]), p[1], p[2]

            def grad(x):
                a = x / math.sqrt(L)
                return (L / math.sqrt(L)) * (a ** (2 * L - 1) - eta * a ** (L - 1) + beta * a)
        else:
            def grad(x):
                return jax.grad(lambda th: _jax_net_loss(th, p))(x)
        sig = math.sqrt(2 * T * DT)

        def one(x, key):
            def body(c, k):
                return c - grad(c) * DT + sig * jax.random.normal(k, c.shape), None
            return jax.lax.scan(body, x, jax.random.split(key, steps))[0]

        f = jax.jit(jax.vmap(one))
        X = jnp.tile(jnp.asarray(x0), (n, 1))
        keys = jax.random.split(jax.random.PRNGKey(seed), n)
        f(X, keys).block_until_ready()  # compile
        t0 = time.perf_counter()
        f(X, keys).block_until_ready()
        return n * steps, time.perf_counter() - t0

    return run


def _jax_net_loss(th, p):
    import jax.numpy as jnp
    w, d, beta = int(p[1]), int(p[2]), p[3]
    sxx = p[4:4 + d * d].reshape(d, d)
    syx = p[4 + d * d:4 + 2 * d * d].reshape(d, d)
    W1 = th[:w * d].reshape(w, d)
    W2 = th[w * d:w * d + w * w].reshape(w, w)
    W3 = th[w * d + w * w:].reshape(d, w)
    W = W3 @ W2 @ W1
    return 0.5 * jnp.trace(W @ sxx @ W.T) - jnp.trace(W @ syx.T) + 0.5 * beta * jnp.sum(th * th)


SIZES = {"arc": dict(engine=(4000, 20000), numpy=(4000, 2000), sdeint=(1, 20000), jax=(4000, 2000)),
         "network": dict(engine=(256, 2000), numpy=(256, 500), sdeint=(1, 2000), jax=(256, 500))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3, help="repeats per contender (median reported)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    probs = problems()
    m, _ = probs["network"]
    X = np.random.default_rng(2).standard_normal((3, m.dim))
    assert np.allclose(net_grad_batch(X, m.params), [grad_fn(0, xx, m.params) for xx in X], rtol=1e-10, atol=1e-12)
    jr = jax_runner()
    runners = {"engine": run_engine, "numpy": run_numpy, "sdeint": run_sdeint}
    if jr is not None:
        runners["jax"] = jr
    out = {"threads": numba.get_num_threads(), "load_average_1min": os.getloadavg()[0], "repeats": args.repeats,
           "jax": jr is not None, "temperature": T, "dt": DT}
    for name, (model, x0) in probs.items():
        run_engine(model, x0, 4, 4, 0)  # compile / load the cache
        rates = {}
        for who, fn in runners.items():
            n, steps = SIZES[name][who]
            rs = []
            for r in range(args.repeats):
                ps, wall = fn(model, x0, n, steps, 10 + r)
                rs.append(ps / wall)
            rates[who] = statistics.median(rs)
        out[name] = {"dim": model.dim, "path_steps_per_s": rates,
                     "engine_over": {k: rates["engine"] / v for k, v in rates.items() if k != "engine"}}
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(f"T={T}, dt={DT}; numba threads {out['threads']}; load average {out['load_average_1min']:.2f}; "
          f"medians of {args.repeats} repeats")
    if jr is None:
        print("jax not installed")
    for name in probs:
        o = out[name]
        print(f"{name} (dim {o['dim']}):")
        for who, v in o["path_steps_per_s"].items():
            ratio = "" if who == "engine" else f"   engine / {who} = {o['engine_over'][who]:.1f}x"
            print(f"  {who:7s} {v:12.4g} path-steps/s{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
