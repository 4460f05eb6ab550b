"""langevin-grok: stochastic dynamics of learning in L2-regularised deep linear networks.

One concept per module; the main names are re-exported here (lazily, so ``import langevin_grok``
stays cheap and does not load numba, sympy, dask or matplotlib until they are used):

- :mod:`~langevin_grok.landscape`: per-mode numerics (spinodal, coexistence, roots, barriers).
- :mod:`~langevin_grok.symbolic`: the sympy derivations that verify them, lambdified.
- :mod:`~langevin_grok.network`: weight-space loss, gradient, Hessian, embedded stationary points.
- :mod:`~langevin_grok.models`, :mod:`~langevin_grok.events`, :mod:`~langevin_grok.engine`: the
  compiled overdamped-Langevin ensemble engine with first-passage stopping (sdeint as reference).
- :mod:`~langevin_grok.kramers`, :mod:`~langevin_grok.stats`: escape-time theory and statistics.
- :mod:`~langevin_grok.temperature`: T = lr c / (2B) and time-unit conversions.
- :mod:`~langevin_grok.data`, :mod:`~langevin_grok.sgd`, :mod:`~langevin_grok.noise`: mini-batch SGD
  ensembles on real data and measured gradient noise.
- :mod:`~langevin_grok.validate`, :mod:`~langevin_grok.sweep`: the main job and resumable sweeps.
- :mod:`~langevin_grok.plotting`, :mod:`~langevin_grok.figures`: every figure (matplotlib lives only there).

The submodule ``langevin_grok.landscape`` is not shadowed: the per-mode summary for several
singular values is ``langevin_grok.landscape.landscape``.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from ._checks import InputError  # noqa: E402  (cheap, used everywhere)

# name -> submodule it comes from
_EXPORTS = {
    # landscape
    "ModeLandscape": "landscape", "mode_landscape": "landscape", "beta_c": "landscape",
    "beta_star": "landscape", "lambda_c": "landscape", "lambda_star": "landscape",
    "ell": "landscape", "u": "landscape",
    # network
    "DeepLinearNetwork": "network", "StationaryPoint": "network", "stationary_point": "network",
    "stationary_points": "network", "hessian_spectrum": "network",
    # temperature
    "sgd_temperature": "temperature",
    # engine
    "simulate_ensemble": "engine", "simulate_reference": "engine", "EscapeResult": "engine",
    "arc_model": "models", "chain_model": "models", "network_model": "models",
    "Event": "events", "escape_events": "events",
    # theory and statistics
    "escape_target": "kramers", "kramers_1d": "kramers", "exact_mfpt_1d": "kramers",
    "eyring_kramers": "kramers", "eyring_kramers_chain": "kramers", "ZeroModeError": "kramers",
    "exponential_mle": "stats", "arrhenius_fit": "stats",
    # SGD
    "make_dataset": "data", "train": "sgd", "run_protocol": "sgd", "quasi_static_sweep": "sgd",
    "gradient_noise": "noise",
    # validation, sweeps
    "run_validation": "validate", "run_sweep": "sweep", "load_results": "sweep",
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
