"""Row-4 diagnostic: why the network escapes faster than its escape plane (the end-to-end diffusion).

Two measurements for one independent-batch point of validation row 4 (w = 2 network, bit-identical to w = 10):

1. Paired SGD (``--variants``). The same batch draws (replica r uses seed + r) drive the network and its flat
   restrictions: ``line`` (the chord e), ``plane`` (e, f), ``noisy4`` (the four noisy directions at the saddle,
   flat), ``network`` (all 12 weights) and ``balanced`` (the network plus an imbalance penalty
   gamma/4 sum_l |W_{l+1}^T W_{l+1} - W_l W_l^T|^2, which vanishes with its gradient on balanced states and
   stiffens only the imbalance directions). Real per-sample gradients, compiled loop, escape read every epoch
   on the row's event; paired ratios of mean escape times with a bootstrap 95 % interval over replicas.
2. The end-to-end diffusion (``--em-paths``; langevin_grok.sgd.end_to_end): Euler-Maruyama of the balanced
   network's SDE for W = W_3 W_2 W_1 (Gaussian noise, continuous time), beside the flat plane's exact grid MFPT
   (continuous time, the same fields) and the chord's 1-D MFPT: the model's transverse factor against the
   plane's.
3. The balanced network's chain (``--balanced-paths``; balanced_sgd_escape): the network's own step on W in
   discrete time, with Gaussian batch moments (the noise model) and with the data's batches, beside the exact 1-D
   chains: validation row 4's recommended prediction and its check; with ``--shuffled`` the chain with shuffled
   epochs beside the row's shuffled-epoch predictions.

docs/theory.md, "The end-to-end diffusion", quotes its numbers.

Usage: python validation/diagnostics/row4_end_to_end.py [--fraction 0.3] [--batch 24] [--replicas 256]
       [--seed 1000] [--variants line,plane,noisy4,network] [--gamma 1.0] [--em-paths 2000] [--dt 0.05]
       [--max-time 30000] [--balanced-paths 0] [--shuffled]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from row4_noisy_subspace_sgd import noisy_basis  # noqa: E402

from langevin_grok.sgd.end_to_end import balanced_sgd_escape, end_to_end_escape  # noqa: E402
from langevin_grok.sgd.escape import rule_projection  # noqa: E402
from langevin_grok.sgd.escape_plane import plane_mfpt  # noqa: E402
from langevin_grok.sgd.trainer import end_to_end, unpack  # noqa: E402
from langevin_grok.theory.stats import exponential_mle  # noqa: E402
from langevin_grok.validation.config import SGDReverseSettings  # noqa: E402
from langevin_grok.validation.row_sgd_reverse import _setups  # noqa: E402


@numba.njit(cache=True)
def _sgd(th0, proj, X, Y, beta, gamma, lr, B, m, epochs, seed, nrep, u, v, thr):  # pragma: no cover - compiled
    """First escape epoch per replica (-1: censored) of SGD on the L = 3, w = p = 2 network, the step projected by
    ``proj`` (12 x 12), with the imbalance penalty ``gamma``."""
    N = X.shape[0]
    first = -np.ones(nrep, np.int64)
    for r in range(nrep):
        np.random.seed(seed + r)
        th = th0.copy()
        for ep in range(1, epochs + 1):
            for _ in range(m):
                W1 = th[0:4].reshape(2, 2)
                W2 = th[4:8].reshape(2, 2)
                W3 = th[8:12].reshape(2, 2)
                g1 = np.zeros((2, 2))
                g2 = np.zeros((2, 2))
                g3 = np.zeros((2, 2))
                for _b in range(B):
                    n = np.random.randint(N)
                    h1 = W1 @ X[n]
                    h2 = W2 @ h1
                    d3 = W3 @ h2 - Y[n]
                    d2 = W3.T @ d3
                    d1 = W2.T @ d2
                    g3 += np.outer(d3, h2)
                    g2 += np.outer(d2, h1)
                    g1 += np.outer(d1, X[n])
                G1 = g1 / B + beta * W1
                G2 = g2 / B + beta * W2
                G3 = g3 / B + beta * W3
                if gamma > 0.0:
                    Q1 = W2.T @ W2 - W1 @ W1.T
                    Q2 = W3.T @ W3 - W2 @ W2.T
                    G1 = G1 - gamma * (Q1 @ W1)
                    G2 = G2 + gamma * (W2 @ Q1 - Q2 @ W2)
                    G3 = G3 + gamma * (W3 @ Q2)
                g = np.concatenate((G1.ravel(), G2.ravel(), G3.ravel()))
                th = th - lr * (proj @ g)
            M = th[8:12].reshape(2, 2) @ th[4:8].reshape(2, 2) @ th[0:4].reshape(2, 2)
            a = u @ M @ v
            if not np.isfinite(a):
                break
            if a <= thr:
                first[r] = ep
                break
    return first


def _penalty_curvatures(P, gamma):
    """Curvatures of the imbalance directions at the start with and without the penalty (central differences of
    the penalty), and the penalty's largest Hessian entry on the noisy subspace (zero: it leaves the noisy
    directions alone)."""
    from langevin_grok.sgd.escape_plane import noisy_subspace

    th0, net = P["start"].theta, P["net"]
    R = noisy_subspace(th0, P["data"].x_train, P["data"].y_train, 3, 2)
    _, V = np.linalg.eigh(np.eye(th0.size) - R @ R.T)
    Rn = V[:, R.shape[1]:]
    H = net.hessian(th0)
    hn, Wn = np.linalg.eigh(Rn.T @ H @ Rn)
    Q = (Rn @ Wn)[:, np.abs(hn) > 1e-6]  # without the rotation zero modes

    def pen(th):
        W1, W2, W3 = th[:4].reshape(2, 2), th[4:8].reshape(2, 2), th[8:].reshape(2, 2)
        return gamma / 4 * (((W2.T @ W2 - W1 @ W1.T) ** 2).sum() + ((W3.T @ W3 - W2 @ W2.T) ** 2).sum())
    h, E = 1e-4, np.eye(th0.size) * 1e-4
    Hp = np.array([[(pen(th0 + E[i] + E[j]) - pen(th0 + E[i] - E[j]) - pen(th0 - E[i] + E[j])
                     + pen(th0 - E[i] - E[j])) / (4 * h * h) for j in range(th0.size)] for i in range(th0.size)])
    return np.linalg.eigvalsh(Q.T @ H @ Q), np.linalg.eigvalsh(Q.T @ (H + Hp) @ Q), float(np.abs(R.T @ Hp @ R).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.3, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--replicas", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("--variants", default="line,plane,noisy4,network",
                    help="comma list of line, plane, noisy4, network, balanced (empty: none)")
    ap.add_argument("--gamma", type=float, default=1.0, help="imbalance penalty of the 'balanced' variant")
    ap.add_argument("--em-paths", type=int, default=2000, help="paths of the end-to-end simulation (0: skip)")
    ap.add_argument("--dt", type=float, default=0.05, help="Euler-Maruyama step of the end-to-end simulation")
    ap.add_argument("--method", default="compiled", choices=("compiled", "reference"),
                    help="end-to-end simulation: compiled kernel or the numpy reference")
    ap.add_argument("--max-time", type=float, default=30000.0, help="censoring time (SDE time)")
    ap.add_argument("--balanced-paths", type=int, default=0,
                    help="paths of the balanced network's chains, Gaussian moments and the data's batches (0: skip)")
    ap.add_argument("--shuffled", action="store_true",
                    help="the balanced chain with shuffled epochs instead (the data's batches only)")
    a = ap.parse_args()
    variants = [v for v in a.variants.split(",") if v]
    bad = [v for v in variants if v not in ("line", "plane", "noisy4", "network", "balanced")]
    if bad:
        raise SystemExit(f"--variants: unknown {bad[0]!r} (expected line, plane, noisy4, network, balanced)")
    s = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    P = _setups(s, 0)[float(a.fraction)]
    rule, data, pl = P["rule"], P["data"], P["plane"]
    X, Y, lr, B = data.x_train, data.y_train, s.lr, a.batch
    um, vm, thr = rule_projection(rule, data)  # the row's event on u^T W v
    m = -(-X.shape[0] // B)
    epochs = int(math.ceil(a.max_time / (lr * m)))
    nb = noisy_basis(P)
    dims = {"line": ["e"], "plane": ["e", "f"], "noisy4": ["e", "f", "g", "m1"]}
    times = {}
    for name in variants:
        if name in dims:
            Bm = np.stack([nb[k] for k in dims[name]], axis=1)
            proj = Bm @ Bm.T
        else:
            proj = np.eye(P["start"].theta.size)
        t0 = time.time()
        first = _sgd(P["start"].theta.copy(), proj, X, Y, P["beta"], a.gamma if name == "balanced" else 0.0, lr, B,
                     m, epochs, a.seed, a.replicas, um, vm, thr)
        obs = first > 0
        t = np.where(obs, first, epochs) * m * lr
        est = exponential_mle(t.astype(float), obs)
        times[name] = t
        print(f"SGD {name} (fraction {a.fraction}, lr {lr}, B {B}, {a.replicas} replicas, seeds {a.seed}+r): "
              f"tau = {est.mean:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}], {est.n_events} escaped "
              f"({time.time() - t0:.0f} s)", flush=True)
    if "balanced" in variants:
        h0, h1, leak = _penalty_curvatures(P, a.gamma)
        print(f"  imbalance curvatures at the start: {np.round(h0, 3).tolist()} without the penalty, "
              f"{np.round(h1, 3).tolist()} with gamma {a.gamma}; penalty Hessian on the noisy subspace <= {leak:.1e}")
    rng = np.random.default_rng(0)
    names = list(times)
    for i, ni in enumerate(names):
        for nj in names[i + 1:]:
            A, C = times[ni], times[nj]
            k = rng.integers(0, A.size, (2000, A.size))
            lo, hi = np.percentile(C[k].mean(1) / A[k].mean(1), [2.5, 97.5])
            print(f"  paired {nj}/{ni} = {C.mean() / A.mean():.3f} [{lo:.3f}, {hi:.3f}] (censored runs count at "
                  f"the censoring time)")
    if a.em_paths > 0:
        flat = plane_mfpt(pl, P["event"], lr, B, P["line_target"], -pl.length)
        W0 = end_to_end(unpack(P["start"].theta[None], 3, 2, 2))[0]
        t0 = time.time()
        sim = end_to_end_escape(W0, X, Y, 3, P["beta"], lr, B, (um, vm, thr), n_paths=a.em_paths,
                                t_max=a.max_time, dt=a.dt, seed=a.seed, method=a.method)
        est = exponential_mle(sim["t_sde"], sim["observed"])
        print(f"end-to-end diffusion (Euler-Maruyama, {a.method}, dt {a.dt}, {a.em_paths} paths, seed {a.seed}): tau = "
              f"{est.mean:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}] ({est.n_events} escaped, "
              f"{time.time() - t0:.0f} s, {sim['status']}: dt x curvature {sim['dt_curvature']:.3f})"
              f"; flat plane (grid) {flat.tau_plane:.4g}, chord {flat.tau_line:.4g}: end-to-end / plane = "
              f"{est.mean / flat.tau_plane:.3f}, transverse factor {est.mean / flat.tau_line:.3f} against the "
              f"plane's {flat.transverse_factor:.3f}")
    if a.balanced_paths > 0 and a.shuffled:
        _balanced_shuffled(P, s, a, X, Y, (um, vm, thr), epochs)
    elif a.balanced_paths > 0:
        _balanced(P, s, a, X, Y, (um, vm, thr), epochs)


def _balanced(P, s, a, X, Y, event, epochs):
    """The balanced network's chain (sgd.end_to_end.balanced_sgd_escape) with Gaussian moments and with the data's
    batches, beside the exact 1-D chains: the row's recommended prediction and its factorisation check."""
    from langevin_grok.validation.row_sgd_reverse import path_predictions

    W0 = end_to_end(unpack(P["start"].theta[None], 3, 2, 2))[0]
    est = {}
    for noise in ("gaussian", "batches"):
        t0 = time.time()
        r = balanced_sgd_escape(W0, X, Y, 3, P["beta"], s.lr, a.batch, event, n_paths=a.balanced_paths,
                                max_epochs=epochs, seed=a.seed, noise=noise)
        est[noise] = exponential_mle(r["t_sde"], r["observed"])
        e = est[noise]
        print(f"balanced chain, {noise} ({a.balanced_paths} paths, seed {a.seed}): tau = {e.mean:.4g} "
              f"[{e.ci_low:.4g}, {e.ci_high:.4g}] ({e.n_events} escaped, {time.time() - t0:.0f} s)", flush=True)
    path, _ = path_predictions(P, 3, 2, s.lr, a.batch)
    bc, dc = path["batch_chain"].tau, path["discrete_chain"].tau
    pred = est["gaussian"].mean * bc / dc
    print(f"  exact 1-D chains: batch-mean {bc:.4g}, Gaussian {dc:.4g} (non-Gaussian factor {bc / dc:.3f}, 4-D: "
          f"{est['batches'].mean / est['gaussian'].mean:.3f}); prediction balanced_chain {pred:.4g}, "
          f"prediction / balanced (batches) {pred / est['batches'].mean:.3f}")


def _balanced_shuffled(P, s, a, X, Y, event, epochs):
    """The balanced chain with shuffled epochs (the data's batches), beside the row's shuffled-epoch predictions
    (the exact 1-D MFPT at the epoch-boundary and epoch-mean temperatures of the exact linear model)."""
    from langevin_grok.sgd.noise_models import shuffled_epoch_model
    from langevin_grok.theory.quadrature import exact_mfpt_1d

    W0 = end_to_end(unpack(P["start"].theta[None], 3, 2, 2))[0]
    t0 = time.time()
    r = balanced_sgd_escape(W0, X, Y, 3, P["beta"], s.lr, a.batch, event, n_paths=a.balanced_paths,
                            max_epochs=epochs, seed=a.seed, replacement=False)
    e = exponential_mle(r["t_sde"], r["observed"])
    print(f"balanced chain, shuffled epochs ({a.balanced_paths} paths, seed {a.seed}, run {a.max_time:g}): tau = "
          f"{e.mean:.4g} [{e.ci_low:.4g}, {e.ci_high:.4g}] ({e.n_events} escaped, {time.time() - t0:.0f} s)")
    sh = shuffled_epoch_model(s.lr, a.batch, s.n_train, P["c_e"], float(P["e"] @ P["net"].hessian(P["start"].theta)
                                                                       @ P["e"]))
    for name, T in (("boundary", float(sh.temperature_boundary)), ("epoch mean", float(sh.temperature_epoch_mean))):
        tau = exact_mfpt_1d(3, P["eta"], P["beta"], T, "reverse").tau
        print(f"  exact 1-D MFPT at the {name} temperature {T:.4g}: {tau:.4g} (balanced/that {e.mean / tau:.3g})")


if __name__ == "__main__":
    main()
