"""Cost of the row-4 references: the discrete-chain MFPT against its continuous limit, the escape plane's MFPT, and
SGD on the escape line and plane against network SGD, measured in the same run.

Problem: validation row 4's (paper network L = 3, w = 10, whitened N = 512, eta = (0.9, 0.8) population, data
seed from validation seed 0; beta at fraction 0.5 of the way from beta* to beta_c; lr = 0.3, B = 40, with
replacement). Prints medians over ``--repeats`` runs (after one warm-up call, so numba compilation is not
timed) and the ratios:

- ``mfpt_discrete_chain`` / ``mfpt_state_dependent`` wall time on the measured T(r) of the path, and
  ``mfpt_line_sgd`` (the exact batch-mean step) / ``mfpt_discrete_chain``;
- ``plane_mfpt`` (the escape plane's 2-D MFPT and its chord's, two grids) / ``mfpt_discrete_chain``;
- line SGD path-steps/s (real per-sample gradients and Gaussian variant) and plane SGD path-steps/s
  (``plane_sgd_escape``) / network SGD replica-steps/s (``sgd.trainer.train``, same protocol, 64 replicas,
  ``--epochs`` epochs, no early stop);
- the end-to-end diffusion's Euler-Maruyama (``end_to_end_escape``) compiled against its numpy reference, and
  both in SDE time per second against network SGD;
- the balanced network's chain in its end-to-end map (``balanced_sgd_escape``, the data's batches and Gaussian
  moments) against network SGD (same steps) and against the Euler-Maruyama kernel in SDE time per second.

Usage: python benchmarks/bench_line_sgd.py [--repeats 5] [--epochs 200]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from langevin_grok.sgd import trainer
from langevin_grok.sgd.line_sgd import line_noise, line_sgd_escape
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd import _reverse_setup
from langevin_grok.validation.row_sgd_reverse import path_predictions


def median_time(fn, repeats):
    fn()  # warm-up (compilation, caches)
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=200)
    a = ap.parse_args()
    s = SGDReverseSettings()
    P = _reverse_setup(s, 0, 0.5)
    P["curvature_e"] = float(P["e"] @ P["net"].hessian(P["start"].theta) @ P["e"])
    lr, B, R = s.lr, 40, 64

    # 1. the two MFPTs on the same measured T(r) (path_predictions computes both; time each by itself)
    from langevin_grok.landscape.modes import arc_force
    from langevin_grok.sgd.path_noise import mfpt_discrete_chain, mfpt_state_dependent

    res, info = path_predictions(P, s.depth, s.width, lr, B)
    L = s.depth
    a_min = float(P["start"].amplitudes[1])
    r_min = math.sqrt(L) * a_min
    r_tgt = math.sqrt(L) * float(P["rule"].details["lambda_target"]) ** (1 / L)
    nodes = np.append(np.asarray(info["r"])[::-1], info["reflect"])
    vals = np.append(np.asarray(info["temperature"])[::-1], info["temperature"][0])
    p = (float(L), float(P["eta"]), float(P["beta"]))
    grad = lambda t, x, q: -arc_force(t, x, q)  # noqa: E731
    t_cont = median_time(lambda: mfpt_state_dependent(grad, (nodes, vals), r_min, r_tgt, info["reflect"], p), a.repeats)
    t_chain = median_time(lambda: mfpt_discrete_chain(grad, (nodes, vals), r_min, r_tgt, info["reflect"], p, lr=lr),
                          a.repeats)
    from langevin_grok.sgd.line_sgd import line_noise as _ln, mfpt_line_sgd

    ln0 = _ln(P["data"].x_train, P["data"].y_train, L, s.width, P["beta"], P["start"].theta, P["saddle"].theta)
    a_tgt = float(P["rule"].details["lambda_target"]) ** (1 / L)
    tgt = (a_min - a_tgt) / (a_min - float(P["saddle"].amplitudes[1])) * ln0.length
    bc = lambda: mfpt_line_sgd(ln0, lr, B, r_target=tgt, r_reflect=-(info["reflect"] - r_min))  # noqa: E731
    t_batch = median_time(bc, a.repeats)
    print(f"exact MFPT on the path (lr {lr}, B {B}): batch-mean chain {t_batch * 1e3:.1f} ms (tau "
          f"{bc().tau:.4g}); batch chain / Gaussian chain time {t_batch / t_chain:.3g}")
    print(f"exact MFPT on the path (lr {lr}, B {B}): continuous {t_cont * 1e3:.1f} ms (tau "
          f"{res['state_dependent'].tau:.4g}), discrete chain {t_chain * 1e3:.1f} ms (tau "
          f"{res['discrete_chain'].tau:.4g}, {res['discrete_chain'].n_grid} nodes); chain / continuous time "
          f"{t_chain / t_cont:.3g}")

    from langevin_grok.sgd.escape import rule_event
    from langevin_grok.sgd.escape_plane import escape_plane, plane_mfpt, plane_sgd_escape

    plane = escape_plane(P["data"].x_train, P["data"].y_train, L, s.width, P["beta"], P["start"].theta,
                         P["saddle"].theta)
    event = rule_event(P["rule"], P["data"], L, s.width)
    pm = lambda: plane_mfpt(plane, event, lr, B, tgt, -(info["reflect"] - r_min))  # noqa: E731
    t_plane = median_time(pm, max(1, a.repeats // 2))
    print(f"escape plane (lr {lr}, B {B}): plane_mfpt {t_plane * 1e3:.0f} ms (transverse factor "
          f"{pm().transverse_factor:.4g}); plane / Gaussian chain time {t_plane / t_chain:.3g}")

    # 2. SGD on the line against network SGD, same protocol and replicas, fixed epochs (target out of reach)
    X, Y = P["data"].x_train, P["data"].y_train
    line = line_noise(X, Y, L, s.width, P["beta"], P["start"].theta, P["saddle"].theta)
    m = -(-X.shape[0] // B)
    steps = a.epochs * m * R
    kw = dict(r_target=1e6, n_paths=R, max_epochs=a.epochs, replacement=True, seed=0)
    t_line = median_time(lambda: line_sgd_escape(line, lr, B, **kw), a.repeats)
    t_gauss = median_time(lambda: line_sgd_escape(line, lr, B, gaussian=True, **kw), a.repeats)
    never = lambda th: np.zeros(len(th), dtype=bool)  # noqa: E731
    t_plane_sgd = median_time(lambda: plane_sgd_escape(plane, never, lr, B, n_paths=R, max_epochs=a.epochs, seed=0),
                              a.repeats)
    ws = trainer.unpack(np.repeat(P["start"].theta[None, :], R, axis=0), L, s.width, X.shape[1])
    t_net = median_time(lambda: trainer.train(ws, P["data"], beta=P["beta"], lr=lr, batch=B, epochs=a.epochs,
                                              seed=0, replacement=True), max(1, a.repeats // 2))
    print(f"{R} replicas x {a.epochs} epochs x {m} steps, B {B}, with replacement (steps/s, median):")
    for name, t in (("line SGD, real per-sample gradients", t_line), ("line SGD, Gaussian variant", t_gauss),
                    ("plane SGD, real per-sample gradients", t_plane_sgd),
                    ("network SGD (sgd.trainer.train)", t_net)):
        print(f"  {name:38s} {steps / t:12.4g} steps/s  ({t:.3f} s)")
    print(f"  line / network speed: {t_net / t_line:.3g} (real), {t_net / t_gauss:.3g} (Gaussian); plane / network "
          f"{t_net / t_plane_sgd:.3g}")

    # 3. the end-to-end diffusion (Euler-Maruyama, dt 0.05), compiled and numpy reference, against network SGD, in
    #    SDE time simulated per second (an event that never fires: every path runs n_em steps)
    from langevin_grok.sgd.end_to_end import end_to_end_escape

    W0 = trainer.end_to_end(trainer.unpack(P["start"].theta[None, :], L, s.width, X.shape[1]))[0]
    n_em = 2000
    never_w = (np.zeros(X.shape[1]), np.zeros(X.shape[1]), -1.0)  # u^T W v = 0 > -1: never
    end_to_end_escape(W0, X, Y, L, P["beta"], lr, B, never_w, n_paths=2, t_max=0.1, dt=0.05, seed=0)  # compile
    t_em = median_time(lambda: end_to_end_escape(W0, X, Y, L, P["beta"], lr, B, never_w, n_paths=R,
                                                 t_max=n_em * 0.05, dt=0.05, seed=0), a.repeats)
    t_ref = median_time(lambda: end_to_end_escape(W0, X, Y, L, P["beta"], lr, B, never_w, n_paths=R,
                                                  t_max=n_em * 0.05, dt=0.05, seed=0, method="reference"),
                        max(1, a.repeats // 2))
    sde_em, sde_ref, sde_net = R * n_em * 0.05 / t_em, R * n_em * 0.05 / t_ref, steps * lr / t_net
    print(f"end-to-end diffusion, {R} paths x {n_em} Euler-Maruyama steps (dt 0.05), SDE time/s (median):")
    print(f"  compiled  {R * n_em / t_em:10.4g} path-steps/s, {sde_em:10.4g} SDE time/s")
    print(f"  reference {R * n_em / t_ref:10.4g} path-steps/s, {sde_ref:10.4g} SDE time/s")
    print(f"  compiled / reference {t_ref / t_em:.3g}; against network SGD's {sde_net:.4g} SDE time/s: compiled "
          f"{sde_em / sde_net:.3g}, reference {sde_ref / sde_net:.3g}")

    # 4. the balanced network's chain in its end-to-end map (sgd.end_to_end.balanced_sgd_escape), the data's
    #    batches and the Gaussian moments, same protocol and length as network SGD
    from langevin_grok.sgd.end_to_end import balanced_sgd_escape

    bal = {nz: median_time(lambda nz=nz: balanced_sgd_escape(W0, X, Y, L, P["beta"], lr, B, never_w, n_paths=R,
                                                            max_epochs=a.epochs, seed=0, noise=nz), a.repeats)
           for nz in ("batches", "gaussian")}
    print(f"balanced chain, {R} paths x {a.epochs} epochs x {m} steps (steps/s, median):")
    for nz, t in bal.items():
        print(f"  {nz:9s} {steps / t:10.4g} path-steps/s, {steps * lr / t:10.4g} SDE time/s; / network SGD "
              f"{t_net / t:.3g}, / end-to-end Euler-Maruyama (SDE time) {steps * lr / t / sde_em:.3g}")

if __name__ == "__main__":
    main()
