"""langevin-grok: stochastic dynamics of learning in L2-regularised deep linear networks.

One concept per module; the main names are re-exported here (lazily, so ``import langevin_grok``
stays cheap and does not load numba, sympy, dask or matplotlib until they are used):

- :mod:`~langevin_grok.landscape.modes`: per-mode numerics (spinodal, coexistence, roots, barriers).
- :mod:`~langevin_grok.landscape.symbolic`: the sympy derivations that verify them, lambdified.
- :mod:`~langevin_grok.landscape.network`: weight-space loss, gradient, Hessian, embedded stationary points.
- :mod:`~langevin_grok.langevin.models`, :mod:`~langevin_grok.langevin.events`, :mod:`~langevin_grok.langevin.engine`: the
  compiled overdamped-Langevin ensemble engine with first-passage stopping (sdeint as reference).
- :mod:`~langevin_grok.theory.kramers`, :mod:`~langevin_grok.theory.stats`: escape-time theory and statistics.
- :mod:`~langevin_grok._core.units`: T = lr c / (2B) and time-unit conversions.
- :mod:`~langevin_grok.sgd.data`, :mod:`~langevin_grok.sgd.trainer`, :mod:`~langevin_grok.sgd.noise`: mini-batch SGD
  ensembles on real data and measured gradient noise.
- :mod:`~langevin_grok.validation`, :mod:`~langevin_grok.sweep`: the main job and resumable sweeps.
- :mod:`~langevin_grok.report.plotting`, :mod:`~langevin_grok.report.figures`: every figure (matplotlib lives only there).

The submodule ``langevin_grok.landscape.modes`` is not shadowed: the per-mode summary for several
singular values is ``langevin_grok.landscape.modes.landscape``.
"""

from __future__ import annotations

import importlib

from ._core.version import __version__  # noqa: E402,F401

from ._core.checks import InputError  # noqa: E402  (cheap, used everywhere)

# name -> submodule it comes from
_EXPORTS = {
    # landscape
    "ModeLandscape": "landscape.modes", "mode_landscape": "landscape.modes", "beta_c": "landscape.modes",
    "beta_star": "landscape.modes", "lambda_c": "landscape.modes", "lambda_star": "landscape.modes",
    "ell": "landscape.modes", "u": "landscape.modes",
    # network
    "DeepLinearNetwork": "landscape.network", "StationaryPoint": "landscape.stationary", "stationary_point": "landscape.stationary",
    "stationary_points": "landscape.stationary", "hessian_spectrum": "landscape.stationary",
    # temperature
    "sgd_temperature": "_core.units",
    # engine
    "simulate_ensemble": "langevin.engine", "simulate_ams": "langevin.ams", "AMSResult": "langevin.ams",
    "custom_model": "langevin.custom", "user_event": "langevin.custom", "simulate_reference": "langevin.reference", "EscapeResult": "langevin.engine",
    "arc_model": "langevin.models", "chain_model": "langevin.models", "network_model": "langevin.models",
    "Event": "langevin.events", "escape_events": "langevin.events",
    # theory and statistics
    "escape_target": "landscape.escape", "kramers_1d": "theory.kramers", "exact_mfpt_1d": "theory.quadrature", "mfpt_1d": "theory.quadrature",
    "eyring_kramers": "theory.kramers", "eyring_kramers_chain": "theory.kramers", "ZeroModeError": "theory.kramers",
    "exponential_mle": "theory.stats", "arrhenius_fit": "theory.stats",
    "eyring_kramers_orbit": "theory.orbits", "network_escape_prediction": "theory.network_prediction",
    "crossover_temperature": "theory.orbits", "entropic_mfpt": "theory.orbits_entropic",
    "with_replacement_model": "sgd.noise_models", "shuffled_epoch_model": "sgd.noise_models",
    "permutation_temperature": "sgd.noise_models", "equipartition_temperature": "sgd.temperature_estimators",
    "displacement_temperature": "sgd.temperature_estimators",
    "mfpt_state_dependent": "sgd.path_noise", "normal_lyapunov": "sgd.path_noise",
    "mfpt_discrete_chain": "sgd.path_noise", "line_noise": "sgd.line_sgd", "line_sgd_escape": "sgd.line_sgd",
    "mfpt_line_sgd": "sgd.line_sgd", "mfpt_grid": "theory.mfpt_grid", "escape_plane": "sgd.escape_plane",
    "plane_mfpt": "sgd.escape_plane", "plane_sgd_escape": "sgd.escape_plane",
    "end_to_end_fields": "sgd.end_to_end", "end_to_end_escape": "sgd.end_to_end",
    "Status": "_core.errors", "Validity": "_core.errors", "Verdict": "_core.errors",
    # SGD
    "make_dataset": "sgd.data", "train": "sgd.trainer", "run_protocol": "sgd.protocol", "quasi_static_sweep": "sgd.trainer",
    "gradient_noise": "sgd.noise",
    # validation, sweeps
    "run_validation": "validation", "run_sweep": "sweep", "load_results": "sweep",
    "summarise_sweep": "sweep.analysis",
}

__all__ = ["__version__", "InputError", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'langevin_grok' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
