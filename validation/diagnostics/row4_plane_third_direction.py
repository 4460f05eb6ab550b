"""Row-4 diagnostic: does the escape plane miss a noisy direction? The same diffusion in three flat coordinates.

The escape plane (langevin_grok.sgd.escape_plane) keeps the chord e and the softest transverse noisy direction f
of the saddle. The batch noise of the paper network's rank-2 subnetwork spans p^2 = 4 directions; the other two
are the first mode's amplitude (its Hessian eigenvalue is the same at the minimum and the saddle: decoupled)
and a stiffer mixing direction g (1.7-1.9) into which f rotates between the minimum and the saddle (overlap of
the softest directions 0.957). This script solves the backward equation (theory.mfpt_grid) in the coordinates
(e, f) and (e, f, g) with the exact polynomial drift and diffusion of SGD with independent batches in each, and
prints both MFPTs (continuous time) for one row-4 point (w = 2, bit-identical to w = 10 for SGD).

Usage: python validation/diagnostics/row4_plane_third_direction.py [--fraction 0.5] [--batch 40]
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from langevin_grok.sgd.escape_plane import flat_polynomials, monomials, noisy_subspace
from langevin_grok.sgd.noise import per_sample_grads
from langevin_grok.theory.mfpt_grid import mfpt_grid
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd_reverse import _setups


def flat_fields(P, basis, lr, B):
    """Exact polynomial drift and diffusion of the SGD diffusion in the flat coordinates ``basis`` (D, d)."""
    X, Y, d = P["data"].x_train, P["data"].y_train, basis.shape[1]
    coef, expo, resid = flat_polynomials(X, Y, 3, 2, P["beta"], P["start"].theta, basis, P["plane"].length,
                                         n_per_axis=7)
    mean = coef.mean(1)
    dev = coef - mean[:, None, :]
    M = np.einsum("kna,lnb->abkl", dev, dev) / X.shape[0]
    k = lr / (2 * B)

    def field(*xs):
        sh = xs[0].shape
        Vg = monomials(xs, expo)
        b = [-(Vg @ mean[:, a]).reshape(sh) for a in range(d)]
        D = [[k * np.einsum("ik,kl,il->i", Vg, M[a, c], Vg).reshape(sh) for c in range(d)] for a in range(d)]
        return b, D
    return field, resid


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.5, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--batch", type=int, default=40)
    a = ap.parse_args()
    s = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    P = _setups(s, 0)[float(a.fraction)]
    net, sa, st, pl = P["net"], P["saddle"], P["start"], P["plane"]
    X, Y = P["data"].x_train, P["data"].y_train
    G = per_sample_grads(sa.theta, X, Y, 3, 2)
    G = G - G.mean(0)
    R = noisy_subspace(sa.theta, X, Y, 3, 2)
    h, W = np.linalg.eigh(R.T @ net.hessian(sa.theta) @ R)
    e, f = pl.basis[:, 0], pl.basis[:, 1]
    g = (R @ W)[:, int(np.argmax(h))]  # the stiffest noisy direction: the mixing partner of f
    g = g - (g @ e) * e - (g @ f) * f
    g /= np.linalg.norm(g)
    G0 = per_sample_grads(st.theta, X, Y, 3, 2)
    G0 = G0 - G0.mean(0)
    R0 = noisy_subspace(st.theta, X, Y, 3, 2)
    h0 = np.linalg.eigvalsh(R0.T @ net.hessian(st.theta) @ R0)
    iso = math.sqrt(np.prod(np.delete(h, 0)) / np.prod(np.delete(h0, np.argmin(np.abs(h0 - P["curvature_e"])))))
    k = s.lr / (2 * a.batch)
    wid = [math.sqrt(k * float(f @ (G_.T @ G_ / X.shape[0]) @ f) / hf)
           for G_, hf in ((G0, pl.curvature_f_start), (G, pl.curvature_f_saddle))]
    print(f"noisy-subspace Hessian eigenvalues: minimum {np.round(h0, 4)}, saddle {np.round(h, 4)}; isotropic "
          f"Eyring-Kramers transverse factor {iso:.3f}; thermal width along f {wid[0]:.4f} -> {wid[1]:.4f} "
          f"({wid[1] / wid[0]:.2f}-fold); g: {g @ net.hessian(sa.theta) @ g:.4f} at the saddle, "
          f"{g @ net.hessian(st.theta) @ g:.4f} at the minimum")
    tgt, ln = P["line_target"], pl.length
    box = [(-ln, tgt + 0.1 * ln)]
    absorb = lambda *xs: np.asarray(P["event"](st.theta[None, :] + np.stack([x.ravel() for x in xs], 1)  # noqa: E731
                                               @ np.stack([e, f, g][:len(xs)], 1).T)).reshape(xs[0].shape)
    covs = [(lambda c: c.T @ c / X.shape[0])(Gp) for Gp in (G0, G)]  # C at the minimum and the saddle

    def sd(v):  # the larger thermal width along v (minimum or saddle)
        return max(math.sqrt(k * float(v @ C @ v) / float(v @ net.hessian(q.theta) @ v))
                   for C, q in zip(covs, (st, sa)))
    for d, n in ((2, 121), (3, (41, 31, 15))):
        basis = np.stack([e, f, g][:d], 1)
        field, resid = flat_fields(P, basis, s.lr, a.batch)
        ranges = box + [(-7 * sd(v), 7 * sd(v)) for v in (f, g)[:d - 1]]
        r = mfpt_grid(field, absorb, [0.0] * d, ranges, n, refine=2.0 if d == 2 else 1.5)
        print(f"{d}-D ({'e, f' if d == 2 else 'e, f, g'}): tau = {r.tau:.5g} (coarse grid {r.tau_coarse:.5g}, "
              f"{r.status.value}, fine grid {r.shape}; fit residual {resid:.1e})", flush=True)


if __name__ == "__main__":
    main()
