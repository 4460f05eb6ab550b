"""Effective temperatures read off samples of any dynamics: equipartition and displacements.

They assume no protocol (any SGD batch protocol, SGLD, Langevin) and so check the noise models of
:mod:`langevin_grok.sgd.noise_models` from the dynamics itself. Both keep only two moments of the noise; what that
leaves out for escapes is in docs/theory.md ("Weight space, noise and time"; section 2, "Shuffled epochs").
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .._core.checks import InputError, check_finite, check_positive
from .._core.errors import Validity
from .noise_models import NoiseModelName, _clean

__all__ = ["EffectiveTemperature", "equipartition_temperature", "DisplacementTemperature", "displacement_temperature"]


def _as_samples(samples) -> np.ndarray:
    try:
        x = np.asarray(samples, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"samples must be a numeric (n_paths, n_times) array, got {type(samples).__name__}") from None
    return x[None, :] if x.ndim == 1 else x


@dataclass(frozen=True)
class EffectiveTemperature:
    """Temperature measured from samples of the dynamics in a well (equipartition).

    Attributes
    ----------
    temperature : the estimate; std_error : from the spread of per-path estimates (independent paths).
    n_paths, n_samples : sample array shape; x_ref : centre used (sample mean or the given minimum).
    """
    noise_model: NoiseModelName
    temperature: float
    std_error: float | None
    n_paths: int
    n_samples: int
    x_ref: float
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def equipartition_temperature(samples, *, curvature: float | None = None, grad_u=None, x_min: float | None = None,
                              params=()) -> EffectiveTemperature:
    """Effective temperature of any dynamics from its stationary samples in a well.

    Quadratic (give ``curvature`` h): ``T = h Var(x)``, exact for a Gaussian stationary law of
    ``exp(-h x^2 / (2T))``. Virial (give ``grad_u`` and ``x_min``): ``T = <(x - x_min) U'(x)>``, exact for the
    Boltzmann density ``exp(-U/T)`` of any confining U (integration by parts). Neither assumes the
    protocol; both define T as the temperature of the Boltzmann law with the observed spread.

    Parameters
    ----------
    samples : (n_paths, n_samples) or (n_samples,) array of the coordinate; rows must be independent
        paths for the standard error (the per-path means of the statistic; None with one path).
    """
    x = _as_samples(samples)
    if x.ndim != 2 or x.size < 2 or not np.all(np.isfinite(x)):
        raise InputError(f"samples must be a finite (n_paths, n_samples) array with >= 2 values, got {x.shape}")
    if (curvature is None) == (grad_u is None):
        raise InputError("give exactly one of curvature (quadratic) or grad_u with x_min (virial)")
    if curvature is not None:
        h = check_positive("curvature", curvature)
        ref = float(x.mean()) if x_min is None else check_finite("x_min", x_min)
        stat = h * (x - ref) ** 2
        name = NoiseModelName.EQUIPARTITION_QUADRATIC
    else:
        if x_min is None:
            raise InputError("the virial estimator needs x_min (the minimum of U)")
        ref = check_finite("x_min", x_min)
        stat = (x - ref) * np.asarray(grad_u(0.0, x.ravel(), np.asarray(params, float)), float).reshape(x.shape)
        name = NoiseModelName.EQUIPARTITION_VIRIAL
    per_path = stat.mean(axis=1)
    se = float(per_path.std(ddof=1) / math.sqrt(x.shape[0])) if x.shape[0] > 1 else None
    T = float(stat.mean())
    status, reason = (Validity.VALID, "ok") if T > 0 else (Validity.NOT_APPLICABLE, "non_positive")
    return EffectiveTemperature(name, T, se, x.shape[0], x.shape[1], ref, status, reason)


@dataclass(frozen=True)
class DisplacementTemperature:
    """Temperature measured from the displacements of the dynamics over a fixed interval.

    Attributes
    ----------
    temperature : the estimate; std_error : from the spread of per-path estimates (independent paths).
    interval : SDE time between successive samples; relaxation_rate : the h of the Ornstein-Uhlenbeck
        reading (given, or fitted from the lag-1 autocorrelation; None for the Euler reading).
    n_paths, n_steps : paths (with at least one displacement) and displacements in all.
    status / reason: ``valid``/``ok``; ``marginal``/``long_interval`` (Euler reading with interval |U''| > 0.1);
        ``not_applicable``/``long_interval`` (above 1), ``no_relaxation`` (fitted autocorrelation outside (0, 1)),
        ``non_positive``.
    """
    noise_model: NoiseModelName
    temperature: float
    std_error: float | None
    interval: float
    relaxation_rate: float | None
    n_paths: int
    n_steps: int
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def displacement_temperature(samples, interval: float, *, grad_u=None, params=(), curvature: float | None = None,
                             x_min: float | None = None) -> DisplacementTemperature:
    """Effective temperature of any dynamics from its displacements over ``interval`` (SDE time).

    ``samples[:, j]`` is the coordinate at time ``j * interval`` (e.g. every k epochs: interval = k m lr); NaN
    marks a missing sample (e.g. after a path escaped), and only displacements with both ends present count. The
    residual of each displacement after its deterministic part defines the diffusion, ``Var = 2 T interval``
    for small intervals; three readings (docs/theory.md, "Weight space, noise and time"; section 2):

    - ``grad_u`` (Euler, anywhere, in or out of a well): ``d = x_{j+1} - x_j + interval U'(x_j)``,
      ``T = Var(d) / (2 interval)``. For one SGD step (interval = lr) it is exact: ``d = lr eps``, so it
      returns ``lr c/(2B)``. Status marginal when ``interval max|U''| > 0.1``, not_applicable above 1.
    - ``curvature`` h (Ornstein-Uhlenbeck, any interval, in a well; ``x_min`` the minimum, default the sample
      mean): ``d = (x_{j+1} - x_min) - e^{-h interval} (x_j - x_min)``, ``T = h Var(d) / (1 - e^{-2 h interval})``.
    - neither (fitted relaxation): a = lag-1 regression coefficient of the samples about their mean,
      ``h_fit = -ln(a) / interval``, ``T = h_fit Var(d) / (1 - a^2)`` (the OU process with the measured
      autocorrelation and spread). For discrete-time dynamics sampled every n steps of size lr in a quadratic
      well, a = (1 - lr h)^n and so h_fit = -ln(1 - lr h)/lr, not h.

    Unlike :func:`equipartition_temperature`, the first reading needs no stationary state, and the other two
    read the temperature off the relaxation rather than off a curvature. Every reading keeps only the first two
    moments; for what they do not say about escape, see docs/theory.md, "Shuffled epochs".
    """
    x = _as_samples(samples)
    if x.ndim != 2 or x.shape[1] < 3 or np.any(np.isinf(x)) or np.isnan(x).all():
        raise InputError(f"samples must be a finite (n_paths, n_times) array with >= 3 times (NaN marks a missing "
                         f"sample), got shape {x.shape}")
    dt = check_positive("interval", interval)
    pair = np.isfinite(x[:, :-1]) & np.isfinite(x[:, 1:])  # displacements with both ends present
    rows = pair.any(axis=1)
    if pair.sum() < 3:
        raise InputError(f"samples must hold at least 3 displacements with both ends present, got {int(pair.sum())}")
    x, pair = x[rows], pair[rows]
    if grad_u is not None and curvature is not None:
        raise InputError("give grad_u (Euler) or curvature (Ornstein-Uhlenbeck), not both")
    status, reason, h = Validity.VALID, "ok", None
    a0, a1 = np.where(pair, x[:, :-1], 0.0), np.where(pair, x[:, 1:], 0.0)
    if grad_u is not None:
        g = np.asarray(grad_u(0.0, a0.ravel(), np.asarray(params, float)), float).reshape(a0.shape)
        d = a1 - a0 + dt * g
        stat, name = d ** 2 / (2.0 * dt), NoiseModelName.DISPLACEMENT_EULER
        xs = np.linspace(float(np.nanmin(x)), float(np.nanmax(x)), 201)
        gs = np.asarray(grad_u(0.0, xs, np.asarray(params, float)), float) * np.ones_like(xs)
        stiff = dt * float(np.max(np.abs(np.gradient(gs, xs)))) if xs[-1] > xs[0] else 0.0
        if stiff > 1.0:
            status, reason = Validity.NOT_APPLICABLE, "long_interval"
        elif stiff > 0.1:
            status, reason = Validity.MARGINAL, "long_interval"
    else:
        ref = float(np.nanmean(x)) if x_min is None else check_finite("x_min", x_min)
        u0, u1 = np.where(pair, a0 - ref, 0.0), np.where(pair, a1 - ref, 0.0)
        if curvature is not None:
            h = check_positive("curvature", curvature)
            a = math.exp(-h * dt)
            name = NoiseModelName.DISPLACEMENT_OU
        else:
            a = float(np.sum(u0 * u1) / np.sum(u0 * u0))
            if not 0.0 < a < 1.0:
                return DisplacementTemperature(NoiseModelName.DISPLACEMENT_AR1, math.nan, None, dt, None, x.shape[0],
                                               int(pair.sum()), Validity.NOT_APPLICABLE, "no_relaxation")
            h = -math.log(a) / dt
            name = NoiseModelName.DISPLACEMENT_AR1
        d = u1 - a * u0
        stat = h * d ** 2 / (1.0 - a * a)
    stat = np.where(pair, stat, 0.0)
    counts = pair.sum(axis=1)
    T = float(stat.sum() / counts.sum())
    # standard error from the spread of the per-path estimates, weighted by their displacement counts
    per_path = stat.sum(axis=1) / counts
    w = counts / counts.sum()
    se = (float(math.sqrt(np.sum(w ** 2 * (per_path - T) ** 2) * x.shape[0] / (x.shape[0] - 1)))
          if x.shape[0] > 1 else None)
    if not T > 0:
        status, reason = Validity.NOT_APPLICABLE, "non_positive"
    return DisplacementTemperature(name, T, se, dt, h, x.shape[0], int(pair.sum()), status, reason)
