"""
A sweep on a local Dask cluster, and its analysis
=================================================

A sweep evaluates a registered task kind over a grid of parameters and seeds and writes every finished
task to an SQLite store at once, so a rerun skips what is done (:mod:`langevin_grok.sweep`). Here the
``simulate`` kind (an escape ensemble of :func:`langevin_grok.simulate_ensemble` on the 1-D arc) runs over
four temperatures x two seeds on a local ``dask.distributed`` cluster of two in-process workers; the
deterministic ``kramers`` kind over the same temperatures gives the predictions. Then
:func:`langevin_grok.summarise_sweep` pools the replicas of each grid point into one censored
exponential MLE, puts the predictions beside it and fits ln tau against 1/T, and
:mod:`langevin_grok.report.sweep_report` writes the report and its Arrhenius figure.

The same sweep from the command line is
``langevin-grok sweep CONFIG.toml --scheduler tcp://HOST:8786`` (or ``--workers N`` for local processes).
"""

import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
from distributed import Client, LocalCluster

import langevin_grok as lg
from langevin_grok.report import sweep_report

fixed = {"depth": 3, "sv": 0.8, "beta": 0.32, "direction": "forward"}
temperatures = [0.006, 0.008, 0.011, 0.015]
simulate = {
    "sweep": {"kind": "simulate", "name": "gallery-simulate", "seeds": 2, "base_seed": 20260601},
    "grid": {"temperature": temperatures},
    "fixed": {**fixed, "model": "arc", "dt": 0.01, "paths": 150, "max_time": 1e5, "threads": 1},
}
kramers = {
    "sweep": {"kind": "kramers", "name": "gallery-kramers"},
    "grid": {"temperature": temperatures},
    "fixed": fixed,
}

work = Path(tempfile.mkdtemp(prefix="lg-gallery-sweep-"))
with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster, \
        Client(cluster) as client:
    summary = lg.run_sweep(simulate, store=work / "simulate.sqlite", scheduler=client, progress=False)
print(f"{summary.executor}: {summary.n_done} of {summary.n_tasks} tasks done in {summary.wall_time:.1f} s")

# A rerun finds every task in the store and runs nothing:
again = lg.run_sweep(simulate, store=work / "simulate.sqlite", workers=1, progress=False)
print(f"rerun: {again.n_skipped} skipped, {again.n_run} run")

lg.run_sweep(kramers, store=work / "kramers.sqlite", workers=1, progress=False)

# %%
# Pooled estimates beside the exact MFPT and the Arrhenius fit. (The kramers kind also carries
# ``eyring_kramers_chain``, the prediction for the scalar chain in its L-dimensional weight space, a
# different model from the arc simulated here: the report shows it, and it is not expected to agree.)
analysis = lg.summarise_sweep(work / "simulate.sqlite", theory=work / "kramers.sqlite")
for g in analysis.groups:
    exact = next(p for p in g.predictions if p.name == "exact_mfpt_1d")
    print(f"T = {g.params['temperature']:.3f}: tau = {g.estimate.mean:8.1f} "
          f"(95% CI {g.estimate.ci_low:.1f} .. {g.estimate.ci_high:.1f}, {g.n_events} escapes), "
          f"exact {exact.tau:8.1f}, ratio {exact.ratio:.3f}, {exact.verdict.value}")
for s in analysis.series:
    if s.fit is not None:
        print(f"Arrhenius slope {s.fit.slope:.5f} +- {s.fit.slope_se:.5f} (landscape barrier {s.barrier:.5f})")

# %%
# The report layer's text and figure (written to files; the figure is shown here).
print(sweep_report.render_text(analysis))
names = sweep_report.make_figure(analysis, work)
fig, ax = plt.subplots(figsize=(7, 5))
ax.imshow(mpimg.imread(work / names[0]))
ax.set_axis_off()
