"""langevin-grok: stochastic dynamics of learning in L2-regularised deep linear networks.

Layers (one concept per module): :mod:`~langevin_grok.landscape` (per-mode numerics),
:mod:`~langevin_grok.symbolic` (sympy derivations), :mod:`~langevin_grok.network` (weight space).
"""

__version__ = "0.1.0"

from ._checks import InputError
from .landscape import (
    ModeLandscape,
    beta_c,
    beta_star,
    ell,
    lambda_c,
    lambda_star,
    landscape,
    mode_landscape,
    u,
)

__all__ = [
    "__version__",
    "InputError",
    "ModeLandscape",
    "beta_c",
    "beta_star",
    "ell",
    "lambda_c",
    "lambda_star",
    "landscape",
    "mode_landscape",
    "u",
]
