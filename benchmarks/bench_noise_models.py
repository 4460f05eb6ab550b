"""Run time of the permutation estimator of the shuffled-epoch temperature, and the numbers it gives.

Paper network: L = 3, w = 10, p = 2, eta = (0.9, 0.8), N = 512, B = 64 (8 steps per epoch), beta = 0.32.
State: the training-loss minimum with both modes learned, reached by gradient descent from the population
learned point (data seed 2; for seeds 0, 1 and 4 the training loss has no rank-2 minimum at beta = 0.32:
the empirical eta_2 is ~0.70 and GD falls to rank 1). Direction: the unstable direction of the population
saddle (learned, saddle) rotated into the state's frame (langevin_grok.sgd.noise.aligned_escape_noise).

Usage: python benchmarks/bench_noise_models.py [--perms 2000] [--repeats 5] [--seed 2] [--table]
Prints the median wall time of permutation_temperature (exact epochs plus the second-order expansion on the
same permutations) and, per lr, T_RR, T_RR / T_wr, the second-order estimate, the linear-model value and the
implied epoch-boundary equipartition temperature T_b.
``--table`` adds V_RR/V_sde at lr h = 0.02, 0.05, 0.1 for N = 512, B = 64: the exact linear result and a
Monte Carlo of SGD on a quadratic well (g_n = h x - z_n, 20000 paths, seed 2, shuffled epochs).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from langevin_grok.sgd.data import make_dataset
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point
from langevin_grok.sgd.noise import aligned_escape_noise
from langevin_grok.sgd.noise_models import permutation_temperature, shuffled_epoch_model, simulate_sgd_1d

L, W, P, N, B, BETA, SV = 3, 10, 2, 512, 64, 0.32, (0.9, 0.8)


def learned_state(seed):
    data = make_dataset(SV, N, N, seed=seed)
    X, Y = data.x_train, data.y_train
    pop = DeepLinearNetwork.from_singular_values(L, W, P, SV, BETA)
    emp = DeepLinearNetwork.from_data(X, Y, L, W, BETA)
    theta = stationary_point(pop, ("learned", "learned")).theta
    for _ in range(5000):
        theta = theta - 0.2 * emp.grad(theta)
    sv = np.linalg.svd(emp.end_to_end(theta), compute_uv=False)
    al = aligned_escape_noise(theta, X, Y, pop, ("learned", "learned"), ("learned", "saddle"))
    return X, Y, theta, al.direction, sv, float(np.linalg.norm(emp.grad(theta))), al.alignment.residual


def quadratic_table():
    z = np.random.default_rng(1).standard_normal(N)
    z -= z.mean()
    c, lr = float(np.mean(z ** 2)), 0.1
    print("\nV_RR / V_sde, N = 512, B = 64 (quadratic well, shuffled epochs)")
    print(f"{'lr h':>6} {'exact(b)':>11} {'MC(b)':>11} {'+-':>9} {'leading':>11} {'exact mean':>11} {'MC mean':>11}")
    for lr_h in (0.02, 0.05, 0.1):
        h = lr_h / lr
        mod = shuffled_epoch_model(lr, B, N, c, h)
        burn = math.ceil(10 / lr_h / 8)
        xs = simulate_sgd_1d(lambda t, x, p: h * x, z, lr, B, burn + 1, 20000, replacement=False, rng=2, record="all")
        vb, vm = np.var(xs[:, -1]), np.mean(xs[:, -9:-1] ** 2)
        se = vb / mod.var_sde * math.sqrt(2 / 20000)
        print(f"{lr_h:6.2f} {mod.ratio_boundary:11.5g} {vb / mod.var_sde:11.5g} {se:9.2g}"
              f" {mod.temperature_leading / mod.temperature_boundary * mod.ratio_boundary:11.5g}"
              f" {mod.ratio_epoch_mean:11.5g} {vm / mod.var_sde:11.5g}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--perms", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2, help="data seed")
    ap.add_argument("--table", action="store_true")
    a = ap.parse_args()
    X, Y, theta, e, sv, gnorm, resid = learned_state(a.seed)
    print(f"data seed {a.seed}: end-to-end singular values {sv.round(5).tolist()}, |grad| = {gnorm:.1e}, "
          f"alignment residual {resid:.3g}")
    times = []
    for r in range(a.repeats):
        t = time.perf_counter()
        permutation_temperature(theta, X, Y, L, W, BETA, 0.08, B, e, n_perm=a.perms, rng=r)
        times.append(time.perf_counter() - t)
    print(f"permutation_temperature, {a.perms} permutations: median {statistics.median(times):.3f} s "
          f"(min {min(times):.3f}, max {max(times):.3f}, {a.repeats} repeats)")
    print(f"{'lr':>6} {'T_RR':>11} {'+-':>9} {'T_wr':>11} {'T_RR/T_wr':>11} {'2nd order':>11} {'linear':>11} "
          f"{'T_b':>11} {'c_e':>8} {'h_e':>8}")
    for lr in (0.08, 0.02, 0.005):
        res = permutation_temperature(theta, X, Y, L, W, BETA, lr, B, e, n_perm=4000, rng=0)
        print(f"{lr:6.3f} {res.temperature:11.4g} {res.std_error:9.2g} {res.temperature_with_replacement:11.4g} "
              f"{res.ratio:11.4g} {res.temperature_second_order:11.4g} {res.temperature_linear_model:11.4g} "
              f"{res.temperature_boundary:11.4g} {res.noise_direction:8.4g} {res.curvature:8.4g}")
    if a.table:
        quadratic_table()


if __name__ == "__main__":
    main()
