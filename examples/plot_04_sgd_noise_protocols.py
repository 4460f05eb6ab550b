"""
SGD noise under the two batch protocols
=======================================

Mini-batch SGD in a quadratic well of curvature h, one coordinate:
``x_{k+1} = (1 - lr h) x_k - lr eps_k`` with eps_k the batch mean of the per-sample gradient deviations
(per-sample variance c). The Langevin temperature of independent batches is ``T = lr c / (2B)``
(docs/theory.md, section "2. Gradient noise of real SGD").

- Batches drawn **with replacement** (:func:`langevin_grok.with_replacement_model`): the stationary
  variance is ``(T/h) 2/(2 - lr h)``, i.e. the Langevin value up to a discretisation factor.
- **Shuffled epochs** (:func:`langevin_grok.shuffled_epoch_model`, the usual ``DataLoader(shuffle=True)``):
  the batch noise of one epoch sums to zero, and at epoch boundaries the variance is smaller than the
  Langevin value by a factor of order ``(lr h)^2 m (m+1) / 12`` (m batches per epoch).

Both models are then checked against a direct simulation of 1-D SGD on a finite data set
(:func:`langevin_grok.sgd.noise_models.simulate_sgd_1d`).
"""

import matplotlib.pyplot as plt
import numpy as np

import langevin_grok as lg
from langevin_grok.sgd.noise_models import simulate_sgd_1d

B, N, c, h = 16, 256, 0.6, 0.5

# %%
# Stationary variance over the Langevin value ``T/h`` across lr h.
lrs = np.geomspace(0.01, 1.5, 40) / h
wr = [lg.with_replacement_model(float(lr), B, c, h) for lr in lrs]
sh = [lg.shuffled_epoch_model(float(lr), B, N, c, h) for lr in lrs]
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(lrs * h, [m.ratio for m in wr], label="with replacement")
ax.loglog(lrs * h, [m.ratio_boundary for m in sh], label="shuffled, at epoch boundaries (exact)")
ax.loglog(lrs * h, [m.ratio_epoch_mean for m in sh], label="shuffled, mean over an epoch (exact)")
ax.loglog(lrs * h, [m.temperature_leading / (h * m.var_sde) for m in sh], ":",
          label="shuffled, leading order in lr h")
ax.set_xlabel("lr h")
ax.set_ylabel("stationary variance / (T/h)")
ax.set_title(f"B = {B}, N = {N} ({N // B} batches per epoch)")
ax.legend(fontsize=8)

# %%
# Direct simulation at one learning rate: 2000 independent 1-D SGD paths on a fixed data set of N
# per-sample gradient offsets z_n (centred; per-sample variance c), started at the minimum, run 300
# epochs; the variance is taken over paths and the last 200 epochs (x at epoch boundaries).
lr = 0.2
rng = np.random.default_rng(5)
z = rng.standard_normal(N)
z = (z - z.mean()) / z.std() * np.sqrt(c)  # exactly variance c (1/N convention)


def grad_u(t, x, p):
    return h * x


for replacement, model in ((True, lg.with_replacement_model(lr, B, c, h)),
                           (False, lg.shuffled_epoch_model(lr, B, N, c, h))):
    x = simulate_sgd_1d(grad_u, z, lr, B, n_epochs=300, n_paths=2000, replacement=replacement, rng=11)
    v = x[:, 100:].var()
    pred = model.stationary_variance if replacement else model.var_boundary
    name = "with replacement" if replacement else "shuffled epochs"
    print(f"{name:17s}: simulated variance {v:.4g}, model {pred:.4g} (ratio {v / pred:.3f}); "
          f"Langevin T/h = {lr * c / (2 * B * h):.4g}")
