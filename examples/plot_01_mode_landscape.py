"""
Landscape and phase diagram of one mode
=======================================

For one learnable feature (a singular value ``eta`` of the data's input-output covariance) the loss of
an L2-regularised deep linear network of depth L, restricted to the balanced path, is the per-mode loss
``ell(lambda) = 1/2 (lambda - eta)^2 + (L beta / 2) |lambda|^(2/L)`` of the end-to-end singular value
lambda (docs/theory.md). For L >= 3 it has a trivial minimum at lambda = 0 and, for beta below the
spinodal ``beta_c``, a learned minimum separated from it by a saddle; below the coexistence point
``beta*`` the learned minimum is the deeper one.

This example draws ``ell`` at a few beta and the bifurcation diagram of the stationary points over
beta, using :func:`langevin_grok.mode_landscape`, :func:`langevin_grok.beta_c` and
:func:`langevin_grok.beta_star`.
"""

import matplotlib.pyplot as plt
import numpy as np

import langevin_grok as lg

L, eta = 3, 0.8
bc, bs = lg.beta_c(L, eta), lg.beta_star(L, eta)
print(f"L = {L}, eta = {eta}: beta_c = {bc:.5f} (spinodal), beta* = {bs:.5f} (coexistence)")

# %%
# One point of the phase diagram: the worked example of docs/theory.md.
m = lg.mode_landscape(L, eta, 0.32)
print(f"beta = 0.32: phase {m.phase}, global phase {m.global_phase}")
print(f"  lambda_saddle = {m.lambda_saddle:.6f}, lambda_min = {m.lambda_min:.6f}")
print(f"  forward barrier = {m.barrier_forward:.6f}, reverse barrier = {m.barrier_reverse:.6f}")

# %%
# The loss ``ell(lambda) - ell(0)`` at beta below beta*, between beta* and beta_c, and above beta_c.
lam = np.linspace(0.0, 0.9, 400)
fig, ax = plt.subplots(figsize=(6, 4))
for beta in (0.27, bs, 0.32, bc, 0.38):
    ax.plot(lam, lg.ell(lam, L, eta, beta) - lg.ell(0.0, L, eta, beta), label=f"beta = {beta:.4f}")
ax.axhline(0.0, color="k", lw=0.5)
ax.set_xlabel("end-to-end singular value lambda")
ax.set_ylabel("ell(lambda) - ell(0)  [loss units]")
ax.set_ylim(-0.06, 0.06)
ax.legend(fontsize=8)
ax.set_title(f"per-mode loss, L = {L}, eta = {eta}")

# %%
# Bifurcation diagram: the saddle and the learned minimum exist for 0 < beta < beta_c and merge in a fold
# at beta_c; the barriers vanish there.
betas = np.linspace(0.005, 0.999 * bc, 200)
ms = [lg.mode_landscape(L, eta, b) for b in betas]
sad = np.array([x.lambda_saddle for x in ms], dtype=float)
mn = np.array([x.lambda_min for x in ms], dtype=float)
fwd = np.array([x.barrier_forward for x in ms], dtype=float)
rev = np.array([x.barrier_reverse for x in ms], dtype=float)

fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
a1.plot(betas, mn, label="learned minimum")
a1.plot(betas, sad, "--", label="saddle")
a1.plot(betas, 0 * betas, label="trivial minimum")
for b, name in ((bc, "beta_c"), (bs, "beta*")):
    a1.axvline(b, color="gray", lw=0.8, ls=":")
    a1.text(b, 0.85, name, rotation=90, va="top", ha="right", fontsize=8)
a1.set_xlabel("beta")
a1.set_ylabel("lambda")
a1.legend(fontsize=8)
a2.plot(betas, fwd, label="forward (trivial -> learned)")
a2.plot(betas, rev, label="reverse (learned -> trivial)")
a2.axvline(bs, color="gray", lw=0.8, ls=":")
a2.set_xlabel("beta")
a2.set_ylabel("barrier [loss units]")
a2.legend(fontsize=8)
fig.tight_layout()

# %%
# At the coexistence point the two barriers are equal (both minima equally deep):
mc = lg.mode_landscape(L, eta, bs)
print(f"beta = beta*: barrier_forward = {mc.barrier_forward:.6g}, barrier_reverse = {mc.barrier_reverse:.6g}")
