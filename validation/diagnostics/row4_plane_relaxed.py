"""Row-4 diagnostic: the escape plane with the noiseless imbalance directions relaxed instead of held at zero.

The escape plane (langevin_grok.sgd.escape_plane) holds every direction outside the chord e and the soft noisy
direction f at zero. The directions that get no batch noise at the saddle are the hidden-layer rotations (zero
modes: the loss does not change along them) and the imbalance directions (Hessian 2 beta). This script moves
the latter to their conditional minimum of the loss at each plane point (damped Newton on the imbalance
subspace, continued outwards from y = 0, where the chord is stationary), evaluates the drift and the batch-noise
covariance along (e, f) and the escape variable there, interpolates them by bicubic splines from a coarse grid,
and solves the same backward equation (theory.mfpt_grid) as plane_mfpt. It prints both MFPTs (continuous time).

Usage: python validation/diagnostics/row4_plane_relaxed.py [--fraction 0.5] [--batch 40] [--n 41]
"""

from __future__ import annotations

import argparse

import numpy as np

from langevin_grok.sgd import trainer
from langevin_grok.sgd.data import empirical_cross_svd
from langevin_grok.sgd.escape_plane import noisy_subspace, plane_mfpt
from langevin_grok.sgd.noise import per_sample_grads
from langevin_grok.theory.mfpt_grid import mfpt_grid
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd_reverse import _setups


def main():
    from scipy.interpolate import RectBivariateSpline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.5, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--batch", type=int, default=40)
    ap.add_argument("--n", type=int, default=41, help="coarse grid per axis for the relaxed fields")
    a = ap.parse_args()
    s = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    P = _setups(s, 0)[float(a.fraction)]
    pl, net, sa = P["plane"], P["net"], P["saddle"]
    X, Y, lr, B = P["data"].x_train, P["data"].y_train, s.lr, a.batch
    k = lr / (2 * B)
    e, f, t0 = pl.basis[:, 0], pl.basis[:, 1], pl.theta_start
    R = noisy_subspace(sa.theta, X, Y, 3, 2)
    _, V = np.linalg.eigh(np.eye(R.shape[0]) - R @ R.T)
    Rn = V[:, -(R.shape[0] - R.shape[1]):]  # the noiseless complement at the saddle
    hn, Wn = np.linalg.eigh(Rn.T @ net.hessian(sa.theta) @ Rn)
    Q = (Rn @ Wn)[:, np.abs(hn) > 1e-6]  # without the rotation zero modes: the imbalance directions
    tgt, ln = P["line_target"], pl.length
    flat = plane_mfpt(pl, P["event"], lr, B, tgt, -ln)
    xs = np.linspace(-ln, tgt + 0.1 * ln, a.n)
    ys = np.linspace(-flat.y_halfwidth, flat.y_halfwidth, a.n)
    ue, _, vte = empirical_cross_svd(P["data"], "train")
    F = {key: np.zeros((a.n, a.n)) for key in ("bx", "by", "dxx", "dxy", "dyy", "lam")}
    dz = np.zeros((a.n, a.n))

    def relax(x, y, z):
        for _ in range(60):
            th = t0 + x * e + y * f + Q @ z
            w, U = np.linalg.eigh(Q.T @ net.hessian(th) @ Q)
            step = U @ (np.where(w > 1e-6, 1 / np.maximum(w, 1e-6), 0.0) * (U.T @ (Q.T @ net.grad(th))))
            nrm = np.linalg.norm(step)
            z = z - (step * min(1.0, 0.02 / nrm) if nrm > 0 else step)
            if nrm < 1e-12:
                break
        return z

    def fill(i, j, z):
        th = t0 + xs[i] * e + ys[j] * f + Q @ z
        G = per_sample_grads(th, X, Y, 3, 2)
        g, Gc = G.mean(0) + P["beta"] * th, G - G.mean(0)
        C = Gc.T @ Gc / len(G)
        F["bx"][i, j], F["by"][i, j] = -g @ e, -g @ f
        F["dxx"][i, j], F["dxy"][i, j], F["dyy"][i, j] = k * e @ C @ e, k * e @ C @ f, k * f @ C @ f
        M = trainer.end_to_end(trainer.unpack(th[None], 3, 2, X.shape[1]))
        F["lam"][i, j] = np.einsum("ji,mjk,ki->mi", ue, M, vte.T)[0, P["rule"].mode]
        dz[i, j] = np.linalg.norm(z)

    j0 = a.n // 2
    for i, x in enumerate(xs):
        z0 = relax(x, ys[j0], np.zeros(Q.shape[1]))
        fill(i, j0, z0)
        for js in (range(j0 + 1, a.n), range(j0 - 1, -1, -1)):
            z = z0.copy()
            for j in js:
                z = relax(x, ys[j], z)
                fill(i, j, z)
    sp = {key: RectBivariateSpline(xs, ys, v) for key, v in F.items()}

    def field(Xg, Yg):
        ev = lambda key: sp[key].ev(Xg.ravel(), Yg.ravel()).reshape(Xg.shape)  # noqa: E731
        return [ev("bx"), ev("by")], [[ev("dxx"), ev("dxy")], [ev("dxy"), ev("dyy")]]
    lt = P["rule"].details["lambda_target"]
    r = mfpt_grid(field, lambda Xg, Yg: sp["lam"].ev(Xg.ravel(), Yg.ravel()).reshape(Xg.shape) < lt, [0.0, 0.0],
                  [(-ln, tgt + 0.1 * ln), (-flat.y_halfwidth, flat.y_halfwidth)], 121)
    print(f"imbalance directions: {Q.shape[1]} (curvatures {np.round(hn[np.abs(hn) > 1e-6], 4)}); largest "
          f"relaxation |z| on the box {dz.max():.3g}, at one thermal width of the saddle "
          f"{dz[np.argmin(np.abs(xs - ln)), np.argmin(np.abs(ys - flat.y_halfwidth / 7))]:.2g}")
    print(f"plane MFPT, flat: {flat.tau_plane:.5g}; imbalance relaxed: {r.tau:.5g} ({r.status.value}, two-grid "
          f"error {r.rel_error:.2g}); relative change {r.tau / flat.tau_plane - 1:+.2%}")


if __name__ == "__main__":
    main()
