"""Input validation shared by every entry point.

Each check raises :class:`InputError` (a ``ValueError``) whose one-line message names the
argument and the value received. The command line turns it into a message and exit status 2.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from .errors import InputError

__all__ = [
    "check_rng",
    "InputError",
    "check_depth",
    "check_beta",
    "check_sv",
    "check_finite",
    "check_positive",
    "check_nonnegative",
    "check_int",
    "check_choice",
]


def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=8)
    return repr(value)


def check_finite(name: str, value) -> float:
    """Return ``value`` as a float; reject non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InputError(f"{name} must be a real number, got {_fmt(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise InputError(f"{name} must be finite, got {_fmt(value)}")
    return x


def check_positive(name: str, value) -> float:
    """Finite and strictly positive."""
    x = check_finite(name, value)
    if x <= 0:
        raise InputError(f"{name} must be > 0, got {_fmt(value)}")
    return x


def check_nonnegative(name: str, value) -> float:
    """Finite and >= 0."""
    x = check_finite(name, value)
    if x < 0:
        raise InputError(f"{name} must be >= 0, got {_fmt(value)}")
    return x


def check_int(name: str, value, minimum: int | None = None) -> int:
    """An integer (an integral float such as 3.0 is accepted), optionally >= ``minimum``."""
    if isinstance(value, bool):
        raise InputError(f"{name} must be an integer, got {_fmt(value)}")
    if isinstance(value, (numbers.Integral, np.integer)):
        n = int(value)
    elif isinstance(value, (numbers.Real, np.floating)) and math.isfinite(float(value)) and float(value).is_integer():
        n = int(value)
    else:
        raise InputError(f"{name} must be an integer, got {_fmt(value)}")
    if minimum is not None and n < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}, got {_fmt(value)}")
    return n


def check_depth(depth, minimum: int = 2) -> int:
    """Network depth L: an integer >= 2 (number of weight matrices)."""
    return check_int("depth", depth, minimum=minimum)


def check_beta(beta, name: str = "beta") -> float:
    """L2 strength: finite and >= 0."""
    return check_nonnegative(name, beta)


def check_sv(sv, name: str = "sv", upper: float | None = 1.0) -> np.ndarray:
    """Singular values of Sigma_yx: a non-empty 1-D array, each finite, > 0 and (by default) < 1.

    A scalar gives a length-1 array. ``upper=None`` drops the upper bound (data models with
    Sigma_xx = I and unit output variance need eta < 1 for a valid joint covariance).
    """
    if isinstance(sv, (numbers.Real, np.floating, np.integer)) and not isinstance(sv, bool):
        values = [sv]
    elif isinstance(sv, Iterable) and not isinstance(sv, (str, bytes)):
        values = list(np.asarray(sv, dtype=object).ravel()) if isinstance(sv, np.ndarray) else list(sv)
    else:
        raise InputError(f"{name} must be a number or a list of numbers, got {_fmt(sv)}")
    if not values:
        raise InputError(f"{name} must hold at least one singular value, got {_fmt(sv)}")
    out = np.empty(len(values))
    for i, v in enumerate(values):
        x = check_finite(name, v)
        if x <= 0:
            raise InputError(f"{name} values must be > 0, got {_fmt(v)}")
        if upper is not None and x >= upper:
            raise InputError(f"{name} values must be < {upper:g}, got {_fmt(v)}")
        out[i] = x
    return out


def check_choice(name: str, value, choices: Iterable[str]) -> str:
    """One of a fixed set of strings."""
    choices = tuple(choices)
    if value not in choices:
        raise InputError(f"{name} must be one of {', '.join(choices)}, got {_fmt(value)}")
    return value


def check_rng(rng, name: str = "rng") -> tuple[np.random.Generator, int | None]:
    """``Generator | int | None`` -> ``(generator, recorded seed or None)``; global state is never touched.

    An integer seed (>= 0) is returned so results can record it; a Generator or ``None`` (fresh OS
    entropy) records ``None``.
    """
    if isinstance(rng, np.random.Generator):
        return rng, None
    if rng is None:
        return np.random.default_rng(), None
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, bool):
        if int(rng) < 0:
            raise InputError(f"{name} must be >= 0 as an integer seed, got {_fmt(rng)}")
        return np.random.default_rng(int(rng)), int(rng)
    raise InputError(f"{name} must be a numpy Generator, an integer seed or None, got {_fmt(rng)}")
