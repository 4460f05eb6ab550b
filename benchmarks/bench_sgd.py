"""Replica-steps per second of the ensemble SGD trainer against per-seed loops.

Paper network: L = 3, w = 10, p = 2, N = 512, B = 64 (8 steps per epoch), beta = 0.32, lr = 0.08, float64.
Compared, in one run:
  ensemble  langevin_grok.sgd.trainer.train on M replicas at once (observables only at the end of the run)
  numpy     a per-seed loop over M seeds, each a plain numpy SGD loop (the same arithmetic, one replica)
  torch     a per-seed loop written the way a user would: nn.Linear(bias=False) layers, nn.MSELoss,
            torch.optim.SGD(weight_decay=beta), DataLoader-style shuffled batches (skipped if torch is absent),
            with torch's default thread count and with torch.set_num_threads(1)

Usage: python benchmarks/bench_sgd.py [--replicas 50] [--epochs 20] [--repeats 5] [--loop-seeds 5]
Prints the median replica-steps per second of each and the ratios.

Which torch number is the fair comparison: "ensemble / torch 1 thread". The ensemble trainer's numpy
products are on (M, 64, 10)-sized stacks, far below the size at which OpenBLAS starts extra threads, so
it runs on one core (check: OPENBLAS_NUM_THREADS=1 gives the same ensemble rate), and the per-seed
loops are one core each too; an equal one-core budget is the like-for-like comparison. "torch loop"
(torch's default intra-op threads, one per core) is what a user gets out of the box: on matrices this
small the extra threads mostly add synchronisation, and on a loaded machine they compete with other work.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from langevin_grok.sgd import trainer as sgd
from langevin_grok.sgd.data import make_dataset

L, W, P, N, B, BETA, LR = 3, 10, 2, 512, 64, 0.32, 0.08
STEPS = -(-N // B)


def run_ensemble(data, M, epochs, seed):
    w0 = sgd.init_random(L, W, P, M, seed)
    t = time.perf_counter()
    sgd.train(w0, data, beta=BETA, lr=LR, batch=B, epochs=epochs, seed=seed, record_every=epochs)
    return M * epochs * STEPS / (time.perf_counter() - t)


def run_numpy_loop(data, M, epochs, seed):
    rng = np.random.default_rng(seed)
    X, Y = data.x_train, data.y_train
    t = time.perf_counter()
    for _ in range(M):
        Ws = [rng.standard_normal(s) / np.sqrt(W) for s in sgd.layer_shapes(L, W, P)]
        for _ in range(epochs):
            perm = rng.permutation(N)
            for k in range(STEPS):
                b = perm[k * B:(k + 1) * B]
                hs = [X[b]]
                for Wl in Ws:
                    hs.append(hs[-1] @ Wl.T)
                g = (hs[-1] - Y[b]) / len(b)
                grads = [None] * L
                for l in reversed(range(L)):
                    grads[l] = g.T @ hs[l]
                    g = g @ Ws[l]
                for l in range(L):
                    Ws[l] -= LR * (grads[l] + BETA * Ws[l])
    return M * epochs * STEPS / (time.perf_counter() - t)


def run_torch_loop(data, M, epochs, seed, threads=None):
    import torch
    from torch import nn

    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _torch_loop(torch, nn, data, M, epochs, seed)
    finally:
        torch.set_num_threads(old_threads)


def _torch_loop(torch, nn, data, M, epochs, seed):
    X = torch.tensor(data.x_train, dtype=torch.float64)
    Y = torch.tensor(data.y_train, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    t = time.perf_counter()
    for _ in range(M):
        model = nn.Sequential(nn.Linear(P, W, bias=False), nn.Linear(W, W, bias=False),
                              nn.Linear(W, P, bias=False)).double()
        with torch.no_grad():
            for layer in model:
                layer.weight.normal_(0.0, 1.0 / W**0.5, generator=gen)
        opt = torch.optim.SGD(model.parameters(), lr=LR, weight_decay=BETA)
        loss_fn = nn.MSELoss()  # mean over samples and the p = 2 outputs = 1/(2B) sum |.|^2
        for _ in range(epochs):
            perm = torch.randperm(N, generator=gen)
            for k in range(STEPS):
                b = perm[k * B:(k + 1) * B]
                opt.zero_grad()
                loss = loss_fn(model(X[b]), Y[b])
                loss.backward()
                opt.step()
    return M * epochs * STEPS / (time.perf_counter() - t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--replicas", type=int, default=50, help="ensemble size M (default 50)")
    ap.add_argument("--epochs", type=int, default=20, help="epochs per timed run (default 20)")
    ap.add_argument("--loop-seeds", type=int, default=5, help="seeds per timed per-seed loop run (default 5)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats; the median is reported (default 5)")
    args = ap.parse_args(argv)
    data = make_dataset([0.9, 0.8], n_train=N, n_test=512, seed=0)
    run_ensemble(data, 2, 1, 0)  # warm-up
    methods = {
        "ensemble": lambda r: run_ensemble(data, args.replicas, args.epochs, r),
        "numpy loop": lambda r: run_numpy_loop(data, args.loop_seeds, args.epochs, r),
    }
    try:
        import torch
        methods["torch loop"] = lambda r: run_torch_loop(data, args.loop_seeds, args.epochs, r)
        # torch's default intra-op threads cost more than they gain on matrices this small
        methods["torch 1 thread"] = lambda r: run_torch_loop(data, args.loop_seeds, args.epochs, r, threads=1)
        torch_note = f"torch {torch.__version__}, default {torch.get_num_threads()} threads"
    except ImportError:
        torch_note = "torch not installed: torch loop skipped"
    rates = {}
    for name, fn in methods.items():
        rates[name] = statistics.median(fn(r) for r in range(args.repeats))
    print(f"L={L} w={W} p={P} N={N} B={B} float64; ensemble M={args.replicas}, per-seed loops "
          f"{args.loop_seeds} seeds; {args.epochs} epochs x {STEPS} steps; median of {args.repeats}; {torch_note}")
    print(f"{'method':>14}  {'replica-steps/s':>16}")
    for name, r in rates.items():
        print(f"{name:>14}  {r:16.0f}")
    base = rates["ensemble"]
    for name, r in rates.items():
        if name != "ensemble":
            print(f"ensemble / {name}: {base / r:.1f}x")
    if "torch 1 thread" in rates:
        print("fair comparison (equal one-core budget): ensemble / torch 1 thread; "
              "'torch loop' is torch's out-of-the-box default thread count")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
