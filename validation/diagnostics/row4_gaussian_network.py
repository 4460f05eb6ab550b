"""Row-4 diagnostic: network SGD with its batch noise replaced by a Gaussian of the same state-dependent covariance.

Separates the network part of row 4's disagreement into what a Gaussian diffusion in weight space already does
and what needs the noise's higher cumulants. Problem: validation row 4's point at beta fraction 0.5, lr = 0.3,
B = 40, independent batches, from the canonical learned state of the w = 2 network (bit-identical to w = 10 for
real SGD: the unused units never move; tests/test_line_sgd.py). Each step of each replica:
theta <- theta - lr grad L(theta) + lr (C(theta)/B)^(1/2) xi, with C the per-sample gradient covariance (1/N) at
theta (sgd.noise.per_sample_grads), xi standard normal; escape read every epoch (ceil(N/B) steps) on the same
empirical mode amplitude as row 4. Prints the censoring-aware MLE of tau with its 95 % interval (compare with
row 4's network SGD, line SGD and chain numbers for the same point in results.json), and beside it the
Gaussian predictions of row 4 for the same point: the 1-D discrete chain with T(r) and the same times the
escape plane's transverse factor (``plane_chain``; docs/theory.md, "The escape plane").

Usage: python validation/diagnostics/row4_gaussian_network.py [--replicas 64] [--max-time 30000] [--seed 0]
       [--batch 40] [--fraction 0.5] [--lr 0.3]
       [--restrict none|noise|plane]
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np

from langevin_grok.sgd.noise import per_sample_grads
from langevin_grok.theory.stats import exponential_mle
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd_reverse import _setups, path_predictions


def gaussian_network_escapes(P, width, lr, B, replicas, max_time, seed, restrict="none"):
    from langevin_grok.sgd.escape import rule_event

    data, rule, beta = P["data"], P["rule"], P["beta"]
    X, Y, N = data.x_train, data.y_train, data.n_train
    L = rule.amplitude_depth
    m = -(-N // B)
    event = rule_event(rule, data, L, width)
    basis = P["plane"].basis
    rng = np.random.default_rng(seed)
    th = np.repeat(P["start"].theta[None, :], replicas, axis=0)
    first = np.full(replicas, -1)
    epochs = int(math.ceil(max_time / (lr * m)))
    for ep in range(epochs):
        live = np.flatnonzero(first < 0)
        if live.size == 0:
            break
        for _ in range(m):
            for i in live:
                G = per_sample_grads(th[i], X, Y, L, width)
                gbar = G.mean(axis=0)
                # (C/B)^(1/2) xi without forming C: (G - gbar)^T z / sqrt(N B), z ~ N(0, I_N), has covariance C/B
                kick = (G - gbar).T @ rng.standard_normal(N) / math.sqrt(N * B)
                step = gbar + beta * th[i]
                if restrict != "none":  # the noise (and with "plane" the gradient too) projected on the plane
                    kick = basis @ (basis.T @ kick)
                if restrict == "plane":
                    step = basis @ (basis.T @ step)
                th[i] = th[i] - lr * step + lr * kick
        first[live[event(th[live])]] = ep + 1  # the empirical mode projections, as the trainer records
    obs = first > 0
    t = np.where(obs, first, epochs) * m * lr
    return exponential_mle(t.astype(float), obs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--max-time", type=float, default=30000.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--fraction", type=float, default=0.5, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--lr", type=float, default=None, help="learning rate (default: row 4's)")
    ap.add_argument("--restrict", choices=("none", "noise", "plane"), default="none",
                    help="none: the network; noise: the noise projected on the escape plane; plane: the escape "
                         "plane's own dynamics (gradient and noise projected, the state stays in the plane)")
    a = ap.parse_args()
    s = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    if a.lr is not None:
        s = dataclasses.replace(s, lr=a.lr)
    P = _setups(s, 0)[float(a.fraction)]
    path, _ = path_predictions(P, s.depth, s.width, s.lr, a.batch)
    chain, plane = path["discrete_chain"], path["plane"]
    print(f"Gaussian predictions: 1-D discrete chain {chain.tau:.4g}; times the plane's transverse factor "
          f"{plane.transverse_factor:.4f} ({plane.status.value}, two-grid error {plane.rel_error:.2g}): "
          f"{chain.tau * plane.transverse_factor:.4g}", flush=True)
    est = gaussian_network_escapes(P, 2, s.lr, a.batch, a.replicas, a.max_time, a.seed, a.restrict)
    print(f"Gaussian network SGD (restrict {a.restrict}; w = 2, beta fraction {a.fraction}, lr {s.lr}, B {a.batch}, "
          f"{a.replicas} replicas, seed {a.seed}): tau = {est.mean:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}] "
          f"SDE time, {est.n_events} "
          f"escaped; measured / plane_chain = {est.mean / (chain.tau * plane.transverse_factor):.3f}")


if __name__ == "__main__":
    main()
