"""Row-4 diagnostic: network SGD, the escape plane's own SGD and the plane prediction as lr falls at fixed T.

The row's recommended prediction (the exact batch-mean chain times the escape plane's transverse factor,
``plane_batch_chain``) treats the network's directions outside the escape plane as absent. This script runs,
for one row-4 point and each lr in ``--lrs`` with the batch scaled to keep T = lr c_e/(2B) fixed:

- network SGD with independent batches (the row's own engine, sgd.reverse.reverse_escape_ensemble; w = 2,
  bit-identical to w = 10 for SGD), escape read every epoch on the row's event;
- SGD on the escape plane with the data's real per-sample gradients (the plane's exact polynomials, batches of
  B indices drawn with replacement each step; a simulation, the 2-D analogue of line SGD), the same event;
- the prediction at that lr.

It prints each with its 95 % interval (censoring-aware exponential MLE). Where the network approaches the
plane as lr falls, the gap at the row's lr is a discrete-time effect of the directions outside the plane.

Usage: python validation/diagnostics/row4_lr_scan.py [--fraction 0.3] [--batch 24] [--lrs 0.3,0.15,0.075]
       [--replicas 64] [--seed 0]
"""

from __future__ import annotations

import argparse
import dataclasses
import math

import numpy as np

from langevin_grok.sgd.reverse import reverse_escape_ensemble
from langevin_grok.theory.stats import exponential_mle
from langevin_grok.validation.config import SGDReverseSettings
from langevin_grok.validation.row_sgd_reverse import _setups, path_predictions


def plane_sgd(P, lr, B, replicas, max_time, seed):
    """SGD on the escape plane with the real per-sample gradients (independent batches)."""
    from langevin_grok.sgd.escape_plane import plane_sgd_escape

    m = -(-P["data"].n_train // B)
    r = plane_sgd_escape(P["plane"], P["event"], lr, B, n_paths=replicas,
                         max_epochs=int(math.ceil(max_time / (lr * m))), seed=seed)
    return exponential_mle(r["t_sde"].astype(float), r["observed"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fraction", type=float, default=0.3, help="beta's fraction of the way from beta* to beta_c")
    ap.add_argument("--batch", type=int, default=24, help="batch size at the first lr")
    ap.add_argument("--lrs", default="0.3,0.15,0.075")
    ap.add_argument("--replicas", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-time", type=float, default=30000.0)
    a = ap.parse_args()
    lrs = [float(v) for v in a.lrs.split(",")]
    s0 = SGDReverseSettings(width=2, with_replacement=((a.fraction, a.batch),), shuffled=())
    P = _setups(s0, 0)[float(a.fraction)]
    for k, lr in enumerate(lrs):
        B = a.batch * lr / lrs[0]
        if abs(B - round(B)) > 1e-9 or round(B) < 1:
            raise SystemExit(f"--lrs: batch {a.batch} x lr / {lrs[0]} = {B:g} is not a positive integer")
        B = int(round(B))
        s = dataclasses.replace(s0, lr=lr)
        path, _ = path_predictions(P, s.depth, s.width, lr, B)
        pred = path["batch_chain"].tau * path["plane"].transverse_factor
        net = reverse_escape_ensemble(P["data"], P["start"].theta, width=2, beta=P["beta"], lr=lr, batch=B,
                                      replicas=a.replicas, seed=a.seed + k, rule=P["rule"], max_time=a.max_time,
                                      replacement=True)
        est = exponential_mle(np.asarray(net["t_sde"], float), np.asarray(net["observed"], bool))
        ps = plane_sgd(P, lr, B, a.replicas, a.max_time, a.seed + 100 + k)
        print(f"lr {lr:g}, B {B}: network SGD {est.mean:.4g} [{est.ci_low:.4g}, {est.ci_high:.4g}] "
              f"({est.n_events}/{a.replicas}); plane SGD {ps.mean:.4g} [{ps.ci_low:.4g}, {ps.ci_high:.4g}] "
              f"({ps.n_events}/{a.replicas}); prediction {pred:.4g} (batch chain {path['batch_chain'].tau:.4g} x "
              f"factor {path['plane'].transverse_factor:.4f}); network/prediction {est.mean / pred:.3f}, "
              f"plane/prediction {ps.mean / pred:.3f}", flush=True)


if __name__ == "__main__":
    main()
