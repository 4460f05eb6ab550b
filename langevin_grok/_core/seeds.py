"""The seed policy: every random stream derives from a recorded root seed through a SeedSequence.

- :func:`as_seed_sequence` turns ``Generator | SeedSequence | int | None`` into a SeedSequence (global state
  is never touched);
- :func:`child_seed` gives the integer seed of one ensemble at a path of integer keys below a root seed (the
  validation rows and the figures use it; integers are recorded in every result and report);
- :func:`name_key` turns a name into a stable integer key, so adding or skipping a figure or a row does not
  change any other's random numbers;
- :func:`seed_int` reads a 63-bit non-negative integer off a SeedSequence.

Per-path streams inside the engines come from ``SeedSequence.spawn`` of the recorded seed, so a result does
not depend on thread count or chunk size.
"""

from __future__ import annotations

import zlib

import numpy as np

from .errors import InputError

__all__ = ["as_seed_sequence", "child_seed", "name_key", "seed_int"]


def seed_int(ss: np.random.SeedSequence) -> int:
    """A 63-bit non-negative integer drawn from ``ss`` (deterministic)."""
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


def child_seed(root: int, *path: int) -> int:
    """Integer seed of one ensemble: a deterministic child of ``root`` at the key path ``path``."""
    return seed_int(np.random.SeedSequence([int(root), *(int(k) for k in path)]))


def name_key(name: str) -> int:
    """A stable integer key for a name (CRC-32 of its UTF-8 bytes)."""
    return zlib.crc32(name.encode("utf-8"))


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """A :class:`numpy.random.SeedSequence` from ``Generator | SeedSequence | int | None``.

    ``None`` draws fresh OS entropy (recorded in ``.entropy``); a Generator contributes one
    64-bit draw, so the caller's stream advances but global state is never touched.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(int(seed.integers(0, 2**63)))
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed < 0:
            raise InputError(f"seed must be >= 0, got {seed!r}")
        return np.random.SeedSequence(int(seed))
    raise InputError(f"seed must be a numpy Generator, an int >= 0 or None, got {seed!r}")
