"""Counter-based random streams of the compiled kernels: splitmix64 keys, uniforms and ziggurat normals.

Each path owns two streams (Gaussian increments, Brownian-bridge uniforms) from a 64-bit key; the keys come from
``numpy.random.SeedSequence(seed).spawn(n_paths)`` (:func:`path_keys`), so path i gets the same numbers whatever
the thread count or chunk size. Used by :mod:`langevin_grok.langevin.engine` and the AMS kernels.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .._core.checks import InputError, check_int

__all__ = ["path_keys", "standard_normals"]

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 2.0 ** -53


# --------------------------------------------------------------------------- per-path RNG
@numba.njit(cache=True, inline="always")
def _mix64(z):
    # splitmix64 finaliser (Steele, Lea & Flood 2014): a bijective avalanche of the counter.
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@numba.njit(cache=True, inline="always")
def _uniform(z):
    # 53 high bits -> [0, 1); through int64 (exact below 2**63) because x86-64 has no single
    # uint64 -> double instruction and the unsigned conversion costs a branch
    return float(np.int64(z >> _S11)) * _TWO_M53


def _ziggurat_tables():
    # Marsaglia & Tsang (2000) ziggurat with 256 layers and 52-bit integer comparison
    # (the layout numpy's Generator uses): x = rabs * w[i], accept at once if rabs < k[i].
    m1 = 2.0**52
    dn = tn = 3.6541528853610088
    vn = 0.00492867323399
    k = np.zeros(256, dtype=np.uint64)
    w = np.zeros(256)
    f = np.zeros(256)
    q = vn / math.exp(-0.5 * dn * dn)
    k[0] = np.uint64((dn / q) * m1)
    k[1] = 0
    w[0] = q / m1
    w[255] = dn / m1
    f[0] = 1.0
    f[255] = math.exp(-0.5 * dn * dn)
    for i in range(254, 0, -1):
        dn = math.sqrt(-2.0 * math.log(vn / dn + math.exp(-0.5 * dn * dn)))
        k[i + 1] = np.uint64((dn / tn) * m1)
        tn = dn
        f[i] = math.exp(-0.5 * dn * dn)
        w[i] = dn / m1
    return k, w, f


_ZK, _ZW, _ZF = _ziggurat_tables()
# signed copy of the acceptance bounds (all < 2**52) for the branch-free signed comparison in _normal;
# module-level arrays are frozen into the compiled code as constants
_ZK = _ZK.astype(np.int64)
_ZR = 3.6541528853610088
_ZR_INV = 1.0 / _ZR
_M8 = np.uint64(0xFF)


@numba.njit(cache=True, inline="always")
def _normal(s):
    """One standard normal from the counter stream at state ``s``; returns ``(z, new_state)``.

    One splitmix64 output per draw in the common case: bits 0-7 pick the layer, bits 11-63 read as
    a signed 53-bit integer ``j`` give sign and magnitude together (Marsaglia & Tsang's signed
    form), so the fast path has no data-dependent branch and no unsigned-to-double conversion
    (together about half the cost of the former unsigned form with a separate sign bit).
    """
    while True:
        s += _GAMMA
        r = _mix64(s)
        idx = np.int64(r & _M8)
        j = np.int64(r) >> 11  # arithmetic shift: uniform on [-2**52, 2**52)
        x = float(j) * _ZW[idx]
        if abs(j) < _ZK[idx]:
            return x, s
        if idx == 0:
            # tail beyond R (Marsaglia 1964)
            while True:
                s += _GAMMA
                xx = -_ZR_INV * math.log1p(-_uniform(_mix64(s)))
                s += _GAMMA
                yy = -math.log1p(-_uniform(_mix64(s)))
                if yy + yy > xx * xx:
                    return (-(_ZR + xx) if j < 0 else _ZR + xx), s
        else:
            # wedge: x = j w[idx] lies in layer idx; accept under the density
            s += _GAMMA
            if (_ZF[idx - 1] - _ZF[idx]) * _uniform(_mix64(s)) + _ZF[idx] < math.exp(-0.5 * x * x):
                return x, s


@numba.njit(cache=True)
def _normals_into(key, out):
    """Fill ``out`` with standard normals from the counter stream ``key`` (the kernel's generator)."""
    s = key
    for i in range(out.shape[0]):
        z, s = _normal(s)
        out[i] = z
    return out


def standard_normals(key: int, n: int) -> np.ndarray:
    """``n`` standard normals of the per-path stream ``key`` (same sequence the kernel draws)."""
    return _normals_into(np.uint64(key), np.empty(check_int("n", n, minimum=0)))


def path_keys(seed, n_paths: int) -> tuple[int, np.ndarray]:
    """``(seed_int, keys)``: the recorded integer seed and per-path keys of shape ``(n_paths, 2)``.

    ``keys[i] = SeedSequence(seed_int).spawn(n_paths)[i].generate_state(2, uint64)``: column 0
    drives the Gaussian increments, column 1 the bridge uniforms. ``seed`` may be an int, a
    ``numpy.random.Generator`` (one integer is drawn from it) or ``None`` (fresh OS entropy).
    """
    n = check_int("n_paths", n_paths, minimum=1)
    if seed is None:
        seed_int = int(np.random.SeedSequence().entropy)
    elif isinstance(seed, np.random.Generator):
        seed_int = int(seed.integers(0, 2**63 - 1))
    elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed_int = int(seed)
        if seed_int < 0:
            raise InputError(f"seed must be >= 0, got {seed!r}")
    else:
        raise InputError(f"seed must be an int, a numpy Generator or None, got {seed!r}")
    children = np.random.SeedSequence(seed_int).spawn(n)
    keys = np.empty((n, 2), dtype=np.uint64)
    for i, c in enumerate(children):
        keys[i] = c.generate_state(2, np.uint64)
    return seed_int, keys


# --------------------------------------------------------------------------- kernel
