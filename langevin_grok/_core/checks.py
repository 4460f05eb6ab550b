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
    "check_one_sv",
    "check_magnitude",
    "check_memory",
    "available_memory",
    "check_count",
    "MAX_DEPTH",
    "MIN_SCALE",
    "MAX_SCALE",
]

# Caps on legal-but-extreme values, so that they end in an InputError before numpy/numba see them.
MAX_DEPTH = 10_000  # depth L: the per-mode landscape and 1-D Kramers were checked to L = 1e4 (tau ~ 1e217)
MIN_SCALE = 1e-300  # smallest temperature, time step, singular value ... (subnormals break the kernels)
MAX_SCALE = 1e300  # largest such scale (its square must stay finite)
MIN_SV = 1e-100  # smallest singular value: eta**(L/(L-2)) ... underflow below (beta = 0 misread at 1e-300)
MEMORY_FRACTION = 0.8  # check_memory refuses work needing more than this share of the available memory


def _fmt(value) -> str:
    if isinstance(value, np.ndarray):
        return np.array2string(value, threshold=8)
    return repr(value)


def check_finite(name: str, value) -> float:
    """Return ``value`` as a float; reject non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise InputError(f"{name} must be a real number, got {_fmt(value)}")
    try:
        x = float(value)
    except OverflowError:  # an int beyond float64
        raise InputError(f"{name} must be finite, got {_fmt(value)}") from None
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


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (an integral float such as 3.0 is accepted), optionally in ``[minimum, maximum]``."""
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
    if maximum is not None and n > maximum:
        raise InputError(f"{name} must be an integer <= {maximum}, got {_fmt(value)}")
    return n


def check_count(name: str, value, minimum: int = 1, maximum: int = 10**9) -> int:
    """A count of things to allocate or loop over (paths, epochs, eigenvalues): an integer in ``[minimum, maximum]``."""
    return check_int(name, value, minimum=minimum, maximum=maximum)


def check_magnitude(name: str, value, allow_zero: bool = False) -> float:
    """A positive scale (temperature, time step, ...) within [MIN_SCALE, MAX_SCALE] (or exactly 0 if allowed).

    Subnormal or astronomically large values pass :func:`check_positive` but make the numerics fail
    (a SystemError from the numba kernel at T < 1e-300, overflow of squares); they are refused here.
    """
    x = check_nonnegative(name, value) if allow_zero else check_positive(name, value)
    if x == 0.0:
        return x
    if x < MIN_SCALE or x > MAX_SCALE:
        raise InputError(f"{name} must be in [{MIN_SCALE:g}, {MAX_SCALE:g}]{' or 0' if allow_zero else ''}, "
                         f"got {_fmt(value)}")
    return x


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable; None where unknown)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.3g} GiB"


def check_memory(name: str, n_bytes, what: str = "") -> int:
    """Refuse work whose estimated memory ``n_bytes`` exceeds 80% of the available memory.

    ``name`` names the argument(s) that set the size (``"width"``, ``"paths"``); the message gives the
    estimate and what is available. Where the available memory is unknown only sizes beyond 2**62 bytes
    are refused.
    """
    need = float(n_bytes)
    avail = available_memory()
    limit = 2.0**62 if avail is None else MEMORY_FRACTION * avail
    if not math.isfinite(need) or need > limit:
        have = "unknown" if avail is None else _gib(avail)
        raise InputError(f"{name}: {what + ' ' if what else ''}needs about {_gib(need)} of memory, "
                         f"more than {MEMORY_FRACTION:.0%} of the {have} available")
    return int(need)


def check_depth(depth, minimum: int = 2, maximum: int = MAX_DEPTH) -> int:
    """Network depth L: an integer in [2, MAX_DEPTH] (number of weight matrices)."""
    return check_int("depth", depth, minimum=minimum, maximum=maximum)


def check_beta(beta, name: str = "beta") -> float:
    """L2 strength: finite, >= 0 and <= MAX_SCALE (subnormal values are legal: the landscape handles them)."""
    x = check_nonnegative(name, beta)
    if x > MAX_SCALE:
        raise InputError(f"{name} must be <= {MAX_SCALE:g}, got {_fmt(beta)}")
    return x


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
        if x < MIN_SV:
            raise InputError(f"{name} values must be >= {MIN_SV:g} (smaller ones underflow), got {_fmt(v)}")
        if upper is not None and x >= upper:
            raise InputError(f"{name} values must be < {upper:g}, got {_fmt(v)}")
        out[i] = x
    return out


def check_one_sv(sv, name: str = "sv", upper: float | None = 1.0) -> float:
    """One singular value (a number or a length-1 sequence), checked as :func:`check_sv`.

    For per-mode functions: several values raise instead of being silently reduced to the first.
    """
    eta = check_sv(sv, name, upper=upper)
    if eta.size != 1:
        raise InputError(f"{name} must be one singular value (this function is per mode), got {_fmt(sv)}")
    return float(eta[0])


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
