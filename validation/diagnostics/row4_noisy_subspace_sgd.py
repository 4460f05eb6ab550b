"""Row-4 diagnostic: SGD in flat coordinates of the noisy subspace, with the real or Gaussian batch noise.

The batch noise of the paper network's rank-2 subnetwork spans 4 directions (sgd.escape_plane): the chord e,
the soft mixing direction f (the escape plane), the first mode's amplitude (m1) and the stiff mixing direction
g. This script runs SGD with independent batches in flat coordinates theta = theta_start + sum_k z_k b_k over
e, f and the chosen extra directions, with the exact polynomial per-sample gradients along them (the other
directions held at zero), and reads the row's escape event on theta. ``--noise real`` draws B samples per step
(the data's real per-sample gradients); ``--noise gaussian`` replaces the batch mean's deviation by a Gaussian
of the same state-dependent covariance. With the same seed the runs for different ``--dims`` see the same
random draws (paired). Compare with row 4's network SGD for the same point (results.json) and with
``row4_gaussian_network.py``.

Usage: python validation/diagnostics/row4_noisy_subspace_sgd.py [--fraction 0.3] [--batch 24]
       [--dims none|g|m1|g,m1] [--noise real|gaussian] [--replicas 128] [--seed 7] [--max-time 30000]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from langevin_grok.sgd.escape_plane import flat_polynomials, monomials, noisy_subspace
from langevin_grok.theory.stats import exponential_mle
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd_reverse import _setups


def noisy_basis(P):
    """e, f and the saddle's other two noisy Hessian eigenvectors (m1: the one with the same curvature at the
    minimum; g: the stiffest), made orthonormal."""
    X, Y, net, sa = P["data"].x_train, P["data"].y_train, P["net"], P["saddle"]
    R = noisy_subspace(sa.theta, X, Y, 3, 2)
    h, W = np.linalg.eigh(R.T @ net.hessian(sa.theta) @ R)
    U = R @ W
    e, f = P["plane"].basis[:, 0], P["plane"].basis[:, 1]
    rest = [i for i in range(U.shape[1]) if max(abs(U[:, i] @ e), abs(U[:, i] @ f)) < 0.5]
    g = max(rest, key=lambda i: h[i])
    m1 = min(rest, key=lambda i: h[i])
    out = {"e": e, "f": f}
    for name, i in (("g", g), ("m1", m1)):
        v = U[:, i].copy()
        for b in (e, f):
            v -= (v @ b) * b
        out[name] = v / np.linalg.norm(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.3, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--dims", default="none", help="extra noisy directions beside e and f: none, g, m1 or g,m1")
    ap.add_argument("--noise", choices=("real", "gaussian"), default="real")
    ap.add_argument("--replicas", type=int, default=128)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-time", type=float, default=30000.0)
    a = ap.parse_args()
    extra = [] if a.dims == "none" else a.dims.split(",")
    if any(d not in ("g", "m1") for d in extra):
        raise SystemExit(f"--dims: expected none, g, m1 or g,m1, got {a.dims!r}")
    s = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    P = _setups(s, 0)[float(a.fraction)]
    nb = noisy_basis(P)
    Bm = np.stack([nb[k] for k in ["e", "f"] + extra], axis=1)
    d, L, lr, B = Bm.shape[1], 3, s.lr, a.batch
    X, Y, t0, ln = P["data"].x_train, P["data"].y_train, P["start"].theta, P["plane"].length
    N = X.shape[0]
    coef, expo, resid = flat_polynomials(X, Y, L, 2, P["beta"], t0, Bm, ln, n_per_axis=7)
    mean = coef.mean(1)
    dev = coef - mean[:, None, :]
    m = -(-N // B)
    rng = np.random.default_rng(a.seed)
    z = np.zeros((a.replicas, d))
    first = np.full(a.replicas, -1)
    epochs = int(math.ceil(a.max_time / (lr * m)))
    for ep in range(1, epochs + 1):
        live = np.flatnonzero(first < 0)
        if live.size == 0:
            break
        for _ in range(m):
            V = monomials(z[live].T, expo)
            if a.noise == "real":
                idx = rng.integers(0, N, size=(live.size, B))
                g = np.einsum("rk,kra->ra", V, coef[:, idx, :].mean(axis=2))
            else:
                S = np.einsum("rk,kna->rna", V, dev)
                g = V @ mean + np.einsum("rn,rna->ra", rng.standard_normal((live.size, N)), S) / math.sqrt(N * B)
            z[live] -= lr * g
        first[live[P["event"](t0[None, :] + z[live] @ Bm.T)]] = ep
    obs = first > 0
    est = exponential_mle((np.where(obs, first, epochs) * m * lr).astype(float), obs)
    print(f"flat SGD in (e, f{''.join(', ' + x for x in extra)}), {a.noise} noise, beta fraction {a.fraction}, "
          f"lr {lr}, B {B}, {a.replicas} replicas, seed {a.seed}: tau = {est.mean:.4g} [{est.ci_low:.4g}, "
          f"{est.ci_high:.4g}] SDE time, {est.n_events} escaped (fit residual {resid:.1e})")


if __name__ == "__main__":
    main()
