"""Compiled kernels of :mod:`langevin_grok.langevin.ams`: advance paths until they enter A (xi <= lo), reach
Sigma (xi >= hi) or an event (B), recording the running maximum of the reaction coordinate xi.

The step, event, bridge and random-stream rules are those of :mod:`langevin_grok.langevin.engine` (its
inlined helpers are reused); ``grad_into`` / ``grad_1d`` and ``event_value`` / ``event_value_1d``
come from :mod:`~langevin_grok.langevin.models` and :mod:`~langevin_grok.langevin.events`, and ``_xi_value`` /
``_xi_value_1d`` are the global names :func:`langevin_grok.langevin.custom.specialise` rebinds for a user
reaction coordinate.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from .engine import _BRIDGE_CUTOFF, _bridge_hit, _entry_side, _grid_crossing, _normal
from .events import event_value, event_value_1d
from .models import grad_1d, grad_into, model_constants

A_HIT, B_HIT, SIGMA_HIT, CAPPED, OVERFLOW = 0, 1, 2, 3, 4


# --------------------------------------------------------------------------- kernels
@numba.njit(cache=True, inline="always")
def _xi_value(x, p, ev_codes, ev_specs, sign, work):
    """Default reaction coordinate: the oriented signed distance of event 0."""
    g, _ = event_value(ev_codes[0], ev_specs, 0, x, p, work)
    return sign * g


@numba.njit(cache=True, inline="always")
def _xi_value_1d(r, p, ev_codes, ev_specs, sign):
    """:func:`_xi_value` at a scalar state (1-D kernel)."""
    g, _ = event_value_1d(ev_codes[0], ev_specs, 0, r)
    return sign * g


@numba.njit(cache=True)
def _xi_batch(X, p, ev_codes, ev_specs, sign, wsize):
    out = np.empty(X.shape[0])
    work = np.empty(wsize)
    for i in range(X.shape[0]):
        out[i] = _xi_value(X[i], p, ev_codes, ev_specs, sign, work)
    return out


@numba.njit(cache=True)
def _advance_one(code, p, q, x, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign, lo, hi,
                 zmax, key_n, key_u, rec_x, rec_t, rec_xi, work, grad, gprev, nprev):
    """Step ``x`` in place until xi <= lo (A), xi >= hi (Sigma), an event (B) or ``n_max`` steps.
    Records (state, time, xi) whenever xi exceeds the running maximum ``zmax`` (a B hit is a record
    with xi = inf). Returns ``(status, steps, time, n_records)``."""
    d = x.shape[0]
    sig = math.sqrt(2.0 * temperature * dt)
    inv_tdt = 1.0 / (temperature * dt)
    s = key_n
    su = key_u
    n_ev = ev_codes.shape[0]
    cap = rec_t.shape[0]
    nr = 0
    xi0 = _xi_value(x, p, ev_codes, ev_specs, sign, work)
    if xi0 > zmax and cap > 0:
        zmax = xi0
        rec_x[0, :] = x
        rec_t[0] = 0.0
        rec_xi[0] = xi0
        nr = 1
    for j in range(n_ev):
        g, gn = event_value(ev_codes[j], ev_specs, j, x, p, work)
        gprev[j] = g
        nprev[j] = gn
    for n in range(n_max):
        grad_into(code, x, p, q, grad, work)
        for i in range(d):
            z, s = _normal(s)
            x[i] += -grad[i] * dt + sig * z
        best_t = np.inf
        for j in range(n_ev):
            g, gn = event_value(ev_codes[j], ev_specs, j, x, p, work)
            g0 = gprev[j]
            dj = ev_dirs[j]
            if _grid_crossing(dj, g0, g):
                best_t = min(best_t, (n + g0 / (g0 - g)) * dt)
            elif bridge and g * g0 > 0.0 and _entry_side(dj, g0):
                n0 = nprev[j]
                if n0 > 0.0 and gn > 0.0:
                    expo = (g0 / n0) * (g / gn) * inv_tdt
                    if expo < _BRIDGE_CUTOFF:
                        hit, su = _bridge_hit(su, expo)
                        if hit:
                            best_t = min(best_t, (n + 0.5) * dt)
            gprev[j] = g
            nprev[j] = gn
        if best_t < np.inf:
            if cap > 0:
                if nr >= cap:
                    return OVERFLOW, n + 1, best_t, nr
                rec_x[nr, :] = x
                rec_t[nr] = best_t
                rec_xi[nr] = np.inf
                nr += 1
            return B_HIT, n + 1, best_t, nr
        xi = _xi_value(x, p, ev_codes, ev_specs, sign, work)
        if xi > zmax:
            zmax = xi
            if cap > 0:
                if nr >= cap:
                    return OVERFLOW, n + 1, (n + 1) * dt, nr
                rec_x[nr, :] = x
                rec_t[nr] = (n + 1) * dt
                rec_xi[nr] = xi
                nr += 1
        if xi <= lo:
            return A_HIT, n + 1, (n + 1) * dt, nr
        if xi >= hi:
            return SIGMA_HIT, n + 1, (n + 1) * dt, nr
    return CAPPED, n_max, n_max * dt, nr


@numba.njit(cache=True)
def _advance_one_1d(code, p, qdt, x, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign, lo, hi,
                    zmax, key_n, key_u, rec_x, rec_t, rec_xi, gprev, nprev):
    """:func:`_advance_one` for 1-D models with the state in a register (the engine's 1-D step:
    ``qdt = model_constants(code, p, dt)``, :func:`grad_1d` returns ``dt * dU/dr``)."""
    sig = math.sqrt(2.0 * temperature * dt)
    inv_tdt = 1.0 / (temperature * dt)
    s = key_n
    su = key_u
    n_ev = ev_codes.shape[0]
    cap = rec_t.shape[0]
    nr = 0
    xi_ = x[0]
    xi0 = _xi_value_1d(xi_, p, ev_codes, ev_specs, sign)
    if xi0 > zmax and cap > 0:
        zmax = xi0
        rec_x[0, 0] = xi_
        rec_t[0] = 0.0
        rec_xi[0] = xi0
        nr = 1
    for j in range(n_ev):
        g, gn = event_value_1d(ev_codes[j], ev_specs, j, xi_)
        gprev[j] = g
        nprev[j] = inv_tdt / (gn * gn) if gn > 0.0 else 0.0
    for n in range(n_max):
        z, s = _normal(s)
        xi_ = (xi_ + sig * z) - grad_1d(code, xi_, qdt)
        best_t = np.inf
        for j in range(n_ev):
            g, gn = event_value_1d(ev_codes[j], ev_specs, j, xi_)
            g0 = gprev[j]
            gprev[j] = g
            dj = ev_dirs[j]
            if _grid_crossing(dj, g0, g):
                best_t = min(best_t, (n + g0 / (g0 - g)) * dt)
            elif bridge:
                expo = g0 * g * nprev[j]
                if 0.0 < expo < _BRIDGE_CUTOFF and _entry_side(dj, g0):
                    hit, su = _bridge_hit(su, expo)
                    if hit:
                        best_t = min(best_t, (n + 0.5) * dt)
        if best_t < np.inf:
            x[0] = xi_
            if cap > 0:
                if nr >= cap:
                    return OVERFLOW, n + 1, best_t, nr
                rec_x[nr, 0] = xi_
                rec_t[nr] = best_t
                rec_xi[nr] = np.inf
                nr += 1
            return B_HIT, n + 1, best_t, nr
        xv = _xi_value_1d(xi_, p, ev_codes, ev_specs, sign)
        if xv > zmax:
            zmax = xv
            if cap > 0:
                if nr >= cap:
                    return OVERFLOW, n + 1, (n + 1) * dt, nr
                rec_x[nr, 0] = xi_
                rec_t[nr] = (n + 1) * dt
                rec_xi[nr] = xv
                nr += 1
        if xv <= lo:
            x[0] = xi_
            return A_HIT, n + 1, (n + 1) * dt, nr
        if xv >= hi:
            x[0] = xi_
            return SIGMA_HIT, n + 1, (n + 1) * dt, nr
    x[0] = xi_
    return CAPPED, n_max, n_max * dt, nr


@numba.njit(cache=True)
def _advance_row(i, code, p, q, qdt, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign, lo,
                 hi, zmax, keys, rec_x, rec_t, rec_xi, status, steps, times, n_rec, wsize, one_d):
    """Row ``i`` of :func:`_advance`: :func:`_advance_one_1d` (``one_d`` and dim 1) or :func:`_advance_one`."""
    d = X.shape[1]
    n_ev = ev_codes.shape[0]
    gprev = np.empty(max(n_ev, 1))
    nprev = np.empty(max(n_ev, 1))
    if d == 1 and one_d:
        st, k, t, nr = _advance_one_1d(code, p, qdt, X[i], dt, temperature, n_max, ev_codes, ev_dirs,
                                       ev_specs, bridge, sign, lo, hi, zmax[i], keys[i, 0], keys[i, 1],
                                       rec_x[i], rec_t[i], rec_xi[i], gprev, nprev)
    else:
        st, k, t, nr = _advance_one(code, p, q, X[i], dt, temperature, n_max, ev_codes, ev_dirs, ev_specs,
                                    bridge, sign, lo, hi, zmax[i], keys[i, 0], keys[i, 1], rec_x[i], rec_t[i],
                                    rec_xi[i], np.empty(wsize), np.empty(d), gprev, nprev)
    status[i] = st
    steps[i] = k
    times[i] = t
    n_rec[i] = nr


@numba.njit(cache=True, parallel=True)
def _advance(code, p, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign, lo, hi, zmax,
             keys, rec_x, rec_t, rec_xi, status, steps, times, n_rec, wsize, one_d):
    """Advance every row of ``X`` in place (:func:`_advance_row`), rows in parallel; ``zmax`` per row."""
    q = model_constants(code, p)
    qdt = model_constants(code, p, dt)
    for i in numba.prange(X.shape[0]):
        _advance_row(i, code, p, q, qdt, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign,
                     lo, hi, zmax, keys, rec_x, rec_t, rec_xi, status, steps, times, n_rec, wsize, one_d)


@numba.njit(cache=True)
def _advance_serial(code, p, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign, lo, hi, zmax,
                    keys, rec_x, rec_t, rec_xi, status, steps, times, n_rec, wsize, one_d):
    """:func:`_advance` on one thread: the AMS iterations advance a few short branches per call, where
    waking the thread pool costs more than it saves (5x slower on a loaded 2-core machine)."""
    q = model_constants(code, p)
    qdt = model_constants(code, p, dt)
    for i in range(X.shape[0]):
        _advance_row(i, code, p, q, qdt, X, dt, temperature, n_max, ev_codes, ev_dirs, ev_specs, bridge, sign,
                     lo, hi, zmax, keys, rec_x, rec_t, rec_xi, status, steps, times, n_rec, wsize, one_d)
