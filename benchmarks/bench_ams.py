"""AMS against brute force at equal relative error on the 1-D arc (L=3, eta=0.8, beta=0.3), dE/T = 10, 15.

Equal error: the brute-force exponential MLE with N escapes has se(ln tau) ~ 1/sqrt(N), so reaching the
AMS run's se(ln tau) = s takes N = 1/s^2 escapes, i.e. (path-steps per escape) / s^2 path-steps. At dE/T = 10
the path-steps per escape and the engine's path-steps/s are measured (a brute-force ensemble); at dE/T = 15
(one escape ~ 1e10 steps) they are extrapolated from the exact MFPT (tau/dt per escape) and the rate measured
at dE/T = 10. Costs in path-steps and wall seconds; ratio = brute force / AMS.

    python benchmarks/bench_ams.py [--replicas 100] [--runs 20] [--bf-paths 32] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numba
from scipy import stats

from langevin_grok.langevin.ams import simulate_ams
from langevin_grok.langevin.engine import simulate_ensemble
from langevin_grok.langevin.events import escape_setup
from langevin_grok.landscape.escape import escape_target
from langevin_grok.theory.kramers import exact_mfpt_1d
from langevin_grok.langevin.models import arc_model
from langevin_grok.theory.stats import exponential_mle

ARC, DT = (3, 0.8, 0.3), 0.01


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicas", type=int, default=100, help="AMS replicas per run")
    ap.add_argument("--runs", type=int, default=20, help="independent AMS runs")
    ap.add_argument("--bf-paths", type=int, default=32, help="brute-force paths at dE/T = 10")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    m = arc_model(*ARC)
    tgt = escape_target(*ARC)
    setup = escape_setup(m)
    simulate_ams(m, tgt.barrier / 6, n_replicas=8, n_runs=2, dt=DT, seed=0, n_loops=64)  # compile
    out = {"threads": numba.get_num_threads(), "load_average_1min": os.getloadavg()[0], "dt": DT, "rows": []}
    bf_rate = None
    for ratio in (10.0, 15.0):
        T = tgt.barrier / ratio
        exact = exact_mfpt_1d(*ARC, T).tau
        a = simulate_ams(m, T, n_replicas=args.replicas, n_runs=args.runs, dt=DT, seed=1)
        s = math.log(a.ci_high / a.ci_low) / (2 * stats.t.ppf(0.975, args.runs - 1))
        row = {"barrier_over_t": ratio, "exact_tau": exact, "ams_tau": a.mean_escape_time, "ams_ci": [a.ci_low, a.ci_high],
               "ams_over_exact": a.mean_escape_time / exact, "ams_se_log_tau": s, "ams_path_steps": a.path_steps,
               "ams_wall_s": a.wall_seconds}
        if ratio == 10.0:
            bf = simulate_ensemble(m, T, args.bf_paths, DT, setup.x0, setup.events, seed=2,
                                   max_steps=int(4 * exact / DT))
            e = exponential_mle(bf.times, bf.escaped)
            bf_rate = bf.path_steps / bf.wall_seconds
            per_escape = bf.path_steps / max(bf.n_escaped, 1)
            row.update(bf_tau=e.mean, bf_ci=[e.ci_low, e.ci_high], bf_escapes=bf.n_escaped,
                       bf_path_steps_measured=bf.path_steps, bf_wall_measured=bf.wall_seconds, bf_measured=True)
        else:
            per_escape = exact / DT
            row.update(bf_measured=False)
        row["bf_path_steps_equal_error"] = per_escape / s**2
        row["bf_wall_s_equal_error"] = row["bf_path_steps_equal_error"] / bf_rate
        row["ratio_path_steps"] = row["bf_path_steps_equal_error"] / a.path_steps
        row["ratio_wall"] = row["bf_wall_s_equal_error"] / a.wall_seconds
        out["rows"].append(row)
    out["bf_path_steps_per_s"] = bf_rate
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(f"arc L=3 eta=0.8 beta=0.3, dt={DT}, AMS {args.replicas} replicas x {args.runs} runs; numba threads "
          f"{out['threads']}, load average {out['load_average_1min']:.2f}; engine {bf_rate:.3g} path-steps/s")
    for r in out["rows"]:
        src = "measured" if r["bf_measured"] else "extrapolated from exact tau"
        print(f"dE/T={r['barrier_over_t']:g}: exact tau {r['exact_tau']:.4g}; AMS {r['ams_tau']:.4g} "
              f"[{r['ams_ci'][0]:.4g}, {r['ams_ci'][1]:.4g}] (ratio {r['ams_over_exact']:.3f}), se(ln tau) "
              f"{r['ams_se_log_tau']:.3f}, {r['ams_path_steps']:.3g} path-steps, {r['ams_wall_s']:.1f} s")
        if r["bf_measured"]:
            print(f"  brute force measured: tau {r['bf_tau']:.4g} [{r['bf_ci'][0]:.4g}, {r['bf_ci'][1]:.4g}], "
                  f"{r['bf_escapes']} escapes, {r['bf_path_steps_measured']:.3g} path-steps, "
                  f"{r['bf_wall_measured']:.1f} s")
        print(f"  brute force at equal error ({src}): {r['bf_path_steps_equal_error']:.3g} path-steps, "
              f"{r['bf_wall_s_equal_error']:.3g} s -> ratio {r['ratio_path_steps']:.3g}x in path-steps, "
              f"{r['ratio_wall']:.3g}x in wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
