"""
The paper network's escape and its symmetry entropy
===================================================

In weight space the trivial state of a deep linear network of hidden width w > 1 is not an isolated
point: the hidden-layer rotations ``O(w)^(L-1)`` leave the loss invariant, so the start state and the
saddle are orbits and their Hessians have zero modes. The isolated Eyring-Kramers formula does not apply;
the orbit form (:func:`langevin_grok.eyring_kramers_orbit`) replaces the zero-mode determinants by orbit
volumes, and the escape is governed by a free-energy barrier ``F = dU - T ln(...)`` that contains the
symmetry entropy (docs/theory.md, section "1. Hidden-layer symmetry"). Below the crossover temperature
(:func:`langevin_grok.crossover_temperature`) F exceeds 3 T and the trap is metastable.

Network of the paper: depth L = 3, data dimension p = 2, singular values (0.9, 0.8), beta = 0.32.
"""

import matplotlib.pyplot as plt
import numpy as np

import langevin_grok as lg

L, sv, beta = 3, [0.9, 0.8], 0.32

# %%
# Zero modes, orbit-volume ratio and crossover temperature per width, at T = 0.003. The start is the
# trivial state (both modes unlearned), the saddle that of the first mode (eta = 0.9).
start, saddle = ["trivial", "trivial"], ["saddle", "trivial"]
print(" w  zero modes (start, saddle)  ln(Vol_s/Vol_m)  T_x (F = 3T)   status, reason")
for w in (1, 2, 3, 10):
    net = lg.DeepLinearNetwork.from_singular_values(depth=L, width=w, dim=2, sv=sv, beta=beta)
    r = lg.eyring_kramers_orbit(net, start, saddle, 0.003)
    xo = lg.crossover_temperature(net, start, saddle)
    print(f"{w:2d}  {r.zero_modes_start:4d} {r.zero_modes_saddle:4d}                "
          f"{r.log_orbit_volume_ratio:10.3f}     {xo.temperature:.5f}     {r.status}, {r.reason}")

# %%
# The orbit Eyring-Kramers time over temperature: the wider the network, the larger the saddle orbit
# relative to the trap's and the faster the escape at the same energy barrier. Marginal predictions (a
# diagnostic past its threshold: ``reason`` says which) are drawn with open markers. Above the crossover
# temperature the free-energy barrier is below 3 T and the formula is outside its validity (for w = 10 it even
# turns negative and tau falls below any relaxation time): read only the filled points as predictions.
temps = np.array([0.0003, 0.0005, 0.0008, 0.0012, 0.002, 0.003])
fig, ax = plt.subplots(figsize=(6, 4))
for w in (1, 2, 3, 10):
    net = lg.DeepLinearNetwork.from_singular_values(depth=L, width=w, dim=2, sv=sv, beta=beta)
    res = [lg.eyring_kramers_orbit(net, start, saddle, float(T)) for T in temps]
    tau = np.array([r.tau for r in res])
    valid = np.array([r.status == "valid" for r in res])
    line, = ax.plot(1 / temps, tau, "-", label=f"w = {w}")
    ax.plot(1 / temps[valid], tau[valid], "o", color=line.get_color())
    ax.plot(1 / temps[~valid], tau[~valid], "o", mfc="none", color=line.get_color())
ax.set_yscale("log")
ax.set_xlabel("1/T")
ax.set_ylabel("orbit Eyring-Kramers tau [SDE time]")
ax.set_title("filled: valid, open: marginal")
ax.legend()

# %%
# The free-energy barrier against the energy barrier for w = 3: the symmetry entropy lowers it, and the
# crossover temperature is where ``F = 3 T``.
net3 = lg.DeepLinearNetwork.from_singular_values(depth=L, width=3, dim=2, sv=sv, beta=beta)
Ts = np.linspace(0.0005, 0.006, 30)
F = [lg.eyring_kramers_orbit(net3, start, saddle, float(T)).free_energy_barrier for T in Ts]
xo = lg.crossover_temperature(net3, start, saddle)
fig, ax = plt.subplots(figsize=(6, 4))
ax.plot(Ts, F, label="free-energy barrier F(T)")
ax.axhline(xo.barrier, color="k", lw=0.8, label="energy barrier dU")
ax.plot(Ts, 3 * Ts, ":", label="3 T")
ax.axvline(xo.temperature, color="gray", ls="--", label=f"crossover T_x = {xo.temperature:.5f}")
ax.set_xlabel("T")
ax.set_ylabel("loss units")
ax.legend(fontsize=8)

# %%
# A small weight-space check at w = 2: overdamped Langevin dynamics of all 12 weights
# (:func:`langevin_grok.network_model`), started at the trivial state, until the first mode's end-to-end
# singular value crosses the default escape target. 200 paths at a temperature where the prediction is
# flagged marginal (reason printed below): a quick look at how far a marginal prediction can be off, not a
# validation (``langevin-grok validate`` and docs/theory.md section 1 report the measured comparison).
net2 = lg.DeepLinearNetwork.from_singular_values(depth=L, width=2, dim=2, sv=sv, beta=beta)
T = 0.004
sim = lg.simulate_ensemble(lg.network_model(net2), temperature=T, n_paths=200, dt=0.005, seed=7, max_time=2e4)
est = lg.exponential_mle(sim.times, sim.escaped)
pred = lg.network_escape_prediction(L, 2, sv, beta, T)  # the one-call summary behind `kramers --width`
print(f"w = 2, T = {T}: simulated tau = {est.mean:.1f} (95% CI {est.ci_low:.1f} .. {est.ci_high:.1f}), "
      f"{pred.prediction_method} = {pred.prediction:.1f} ({pred.eyring_kramers_status}, {pred.eyring_kramers_reason})")
