"""Stopping events for first-passage simulations.

An :class:`Event` wraps a signed-distance function ``g(t, x, p)`` (package calling convention) and
a direction, as in scipy's ``solve_ivp``: ``+1`` fires when g crosses zero rising (from ``g < 0`` to
``g >= 0``), ``-1`` falling (from ``g > 0`` to ``g <= 0``), ``0`` either way. A path stops at its
first event.

The compiled ensemble kernel cannot call arbitrary Python functions, so every event built here
also carries a compiled *spec* (an integer ``code`` and a float parameter vector) that the kernel
evaluates with :func:`event_value` -- the same function as ``g`` and its gradient norm. Events made
from a bare Python ``g`` (``Event(g, direction)``) work with the sdeint reference integrator only.

Kinds with a compiled spec
--------------------------
``linear``         ``g = a . x - c``
``abs_coordinate`` ``g = |x_k| - c``
``chain_product``  ``g = prod_l x_l - c`` (end-to-end value of the scalar chain)
``network_mode``   ``g = u^T (W_L ... W_1) v - c`` (end-to-end value along one fixed mode)
``network_sv``     ``g = sigma_k(W_L ... W_1) - c``, the k-th singular value itself (a rank change, not a rotation)

The singular-value event cannot fire when the learned mode's singular vectors rotate toward the fixed mode,
which also moves ``u^T W v`` (docs/theory.md, section 1).

Default escape events (:func:`escape_setup`) follow issue 3 through
:func:`langevin_grok.landscape.escape.escape_target`: forward (trivial -> learned) stops when lambda reaches
``(lambda_sad + lambda_min) / 2`` starting at lambda = 0; reverse (learned -> trivial) stops when
lambda falls to ``lambda_sad / 2`` starting at the learned minimum.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from typing import TYPE_CHECKING

from .._core.checks import InputError, check_choice, check_finite, check_int
from .models import CHAIN, NETWORK, Model, network_product, network_products

if TYPE_CHECKING:
    from ..landscape.escape import EscapeTarget

__all__ = [
    "Event",
    "EscapeSetup",
    "linear_event",
    "coordinate_event",
    "abs_coordinate_event",
    "chain_product_event",
    "network_mode_event",
    "network_sv_event",
    "escape_setup",
    "network_escape_setup",
    "escape_events",
    "event_value",
    "event_value_1d",
    "pack_events",
]

LINEAR, ABS_COORDINATE, CHAIN_PRODUCT, NETWORK_MODE, NETWORK_SV = 0, 1, 2, 3, 4
DIRECTIONS = (-1, 0, 1)


@dataclass(frozen=True, eq=False)
class Event:
    """A stopping condition: signed distance ``g(t, x, p)`` and crossing direction.

    Attributes
    ----------
    g : callable
        ``g(t, x, p) -> float`` (numpy), ``x`` of shape ``(dim,)``; ``p`` is the model's parameter
        vector.
    direction : int
        ``+1`` rising, ``-1`` falling, ``0`` both.
    name : str
        Label used in results.
    code : int or None
        Compiled kind (``None``: Python-only, usable with the sdeint reference integrator only).
    spec : ndarray or None
        Float parameters of the compiled kind.
    """

    g: Callable
    direction: int = 0
    name: str = "event"
    code: int | None = None
    spec: np.ndarray | None = None

    def __post_init__(self):
        if self.direction not in DIRECTIONS:
            raise InputError(f"direction must be -1, 0 or +1, got {self.direction!r}")
        if not callable(self.g):
            raise InputError(f"g must be callable, got {self.g!r}")

    def __call__(self, t, x, p):
        return float(self.g(t, x, p))

    @property
    def compiled(self) -> bool:
        """True if the ensemble kernel can evaluate this event."""
        return self.code is not None


def _spec(a) -> np.ndarray:
    a = np.ascontiguousarray(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def linear_event(a, level: float, direction: int = 0, name: str = "linear") -> Event:
    """``g = a . x - level`` (a of shape ``(dim,)``)."""
    a = np.asarray(a, dtype=float).ravel()
    c = check_finite("level", level)
    spec = _spec(np.concatenate([[c], a]))
    return Event(lambda t, x, p: float(np.dot(a, np.ravel(x))) - c, direction, name, LINEAR, spec)


def coordinate_event(index: int, level: float, dim: int, direction: int = 0,
                     name: str = "coordinate") -> Event:
    """``g = x[index] - level``."""
    a = np.zeros(dim)
    a[index] = 1.0
    return linear_event(a, level, direction, name)


def abs_coordinate_event(index: int, level: float, direction: int = 0, name: str = "abs_coordinate") -> Event:
    """``g = |x[index]| - level``."""
    c = check_finite("level", level)
    k = int(index)
    return Event(lambda t, x, p: abs(float(np.ravel(x)[k])) - c, direction, name, ABS_COORDINATE,
                 _spec([c, k]))


def chain_product_event(level: float, direction: int = 0, name: str = "chain_product") -> Event:
    """``g = prod_l x_l - level`` (scalar chain end-to-end value)."""
    c = check_finite("level", level)
    return Event(lambda t, x, p: float(np.prod(x)) - c, direction, name, CHAIN_PRODUCT, _spec([c]))


def network_mode_event(u, v, level: float, direction: int = 0, name: str = "network_mode") -> Event:
    """``g = u^T W v - level`` with ``W = W_L ... W_1`` of the network model."""
    u = np.asarray(u, dtype=float).ravel()
    v = np.asarray(v, dtype=float).ravel()
    c = check_finite("level", level)
    spec = _spec(np.concatenate([[c], u, v]))
    return Event(lambda t, x, p: float(u @ network_product(x, p) @ v) - c, direction, name, NETWORK_MODE, spec)


def network_sv_event(index: int, level: float, direction: int = 0, name: str = "network_sv") -> Event:
    """Event on one singular value of the network's end-to-end map.

    ``g = sigma_index(W) - level`` with ``sigma_index`` the ``index``-th singular value (0-based, descending)
    of ``W = W_L ... W_1``.
    """
    k = check_int("index", index, minimum=0)
    c = check_finite("level", level)

    def g(t, x, p):
        return float(np.linalg.svd(network_product(x, p), compute_uv=False)[k]) - c

    return Event(g, direction, name, NETWORK_SV, _spec(np.array([c, float(k)])))


# --------------------------------------------------------------------------- compiled evaluation
@numba.njit(cache=True, inline="always")
def _bilinear_grad_norm2(pre, suf, L, w, d, u, v):
    """``|grad_theta (u^T W v)|^2 = sum_l |S_l^T u|^2 |P_l v|^2`` for fixed vectors u, v (length d)."""
    n2 = 0.0
    for l in range(L):
        r = d if l == L - 1 else w
        cc = d if l == 0 else w
        a2 = 0.0
        for i in range(r):
            s = 0.0
            for k in range(d):
                s += suf[l, k, i] * u[k]
            a2 += s * s
        b2 = 0.0
        for i in range(cc):
            s = 0.0
            for k in range(d):
                s += pre[l, i, k] * v[k]
            b2 += s * s
        n2 += a2 * b2
    return n2


@numba.njit(cache=True, inline="always")
def _eigvec2(m00, m01, m11, lam, fallback):
    """Unit eigenvector of the symmetric 2x2 [[m00, m01], [m01, m11]] for eigenvalue ``lam``."""
    x0, x1 = m01, lam - m00
    y0, y1 = lam - m11, m01
    nx, ny = x0 * x0 + x1 * x1, y0 * y0 + y1 * y1
    if nx >= ny and nx > 0.0:
        s = 1.0 / math.sqrt(nx)
        return x0 * s, x1 * s
    if ny > 0.0:
        s = 1.0 / math.sqrt(ny)
        return y0 * s, y1 * s
    return (1.0, 0.0) if fallback == 0 else (0.0, 1.0)


@numba.njit(cache=True)
def _sv_event(c, k, x, p, work):
    """``(sigma_k(W) - c, |grad sigma_k|)``: closed form for d = 2, LAPACK otherwise."""
    L, w, d = int(p[0]), int(p[1]), int(p[2])
    pre, suf, W = network_products(x, p, work)
    u = np.zeros(d)
    v = np.zeros(d)
    if d == 2:
        a, b, cc, dd = W[0, 0], W[0, 1], W[1, 0], W[1, 1]
        F = a * a + b * b + cc * cc + dd * dd
        D = a * dd - b * cc
        disc = math.sqrt(max(F * F - 4.0 * D * D, 0.0))
        lam = 0.5 * (F + disc) if k == 0 else max(0.5 * (F - disc), 0.0)
        sig = math.sqrt(lam)
        v[0], v[1] = _eigvec2(a * a + cc * cc, a * b + cc * dd, b * b + dd * dd, lam, k)
        u[0], u[1] = _eigvec2(a * a + b * b, a * cc + b * dd, cc * cc + dd * dd, lam, k)
    else:
        U, S, Vt = np.linalg.svd(np.ascontiguousarray(W))
        sig = S[k]
        for i in range(d):
            u[i] = U[i, k]
            v[i] = Vt[k, i]
    return sig - c, math.sqrt(_bilinear_grad_norm2(pre, suf, L, w, d, u, v))



@numba.njit(cache=True, inline="always")
def event_value(code, specs, j, x, p, work):
    """Compiled ``(g, |grad g|)`` of event ``j`` (row ``j`` of ``specs``) at ``x``; ``work`` as for
    the model's gradient."""
    c = specs[j, 0]
    if code == 0:
        g = -c
        n2 = 0.0
        for i in range(x.shape[0]):
            g += specs[j, 1 + i] * x[i]
            n2 += specs[j, 1 + i] * specs[j, 1 + i]
        return g, math.sqrt(n2)
    if code == 1:
        return abs(x[int(specs[j, 1])]) - c, 1.0
    if code == 2:
        L = x.shape[0]
        # |grad prod|^2 = sum_l prod_{k != l} x_k^2, via suffix products (no division)
        work[L] = 1.0
        for l in range(L - 1, -1, -1):
            work[l] = work[l + 1] * x[l]
        pre = 1.0
        n2 = 0.0
        for l in range(L):
            q = pre * work[l + 1]
            n2 += q * q
            pre *= x[l]
        return work[0] - c, math.sqrt(n2)
    if code == 4:
        return _sv_event(c, int(specs[j, 1]), x, p, work)
    # network mode: g = u^T W v - c; grad wrt W_l = S_l^T u v^T P_l^T, so
    # |grad g|^2 = sum_l |S_l^T u|^2 |P_l v|^2
    L = int(p[0])
    w = int(p[1])
    d = int(p[2])
    pre, suf, W = network_products(x, p, work)
    g = -c
    for i in range(d):
        for jj in range(d):
            g += specs[j, 1 + i] * W[i, jj] * specs[j, 1 + d + jj]
    return g, math.sqrt(_bilinear_grad_norm2(pre, suf, L, w, d, specs[j, 1:1 + d], specs[j, 1 + d:1 + 2 * d]))


@numba.njit(cache=True, inline="always")
def event_value_1d(code, specs, j, r):
    """:func:`event_value` for a scalar state (linear and abs-coordinate events only)."""
    if code == 0:
        return specs[j, 1] * r - specs[j, 0], abs(specs[j, 1])
    return abs(r) - specs[j, 0], 1.0


def pack_events(events, model: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(codes, directions, specs)`` arrays for the kernel; rejects Python-only events."""
    events = tuple(events)
    codes = np.empty(len(events), dtype=np.int64)
    dirs = np.empty(len(events), dtype=np.int64)
    width = max([len(e.spec) for e in events if e.spec is not None], default=1)
    specs = np.zeros((len(events), width))
    for i, e in enumerate(events):
        if not isinstance(e, Event):
            raise InputError(f"events[{i}] must be an Event, got {e!r}")
        if not e.compiled:
            raise InputError(f"events[{i}] ({e.name!r}) has no compiled spec; the ensemble kernel needs an "
                             "event built by linear_event, abs_coordinate_event, chain_product_event, "
                             "network_mode_event or network_sv_event (Python-only events work with "
                             "simulate_reference)")
        if e.code == LINEAR and len(e.spec) != 1 + model.dim:
            raise InputError(f"events[{i}] ({e.name!r}) is linear in {len(e.spec) - 1} coordinates, "
                             f"the model has dim {model.dim}")
        if e.code == ABS_COORDINATE and not 0 <= int(e.spec[1]) < model.dim:
            raise InputError(f"events[{i}] ({e.name!r}) index {int(e.spec[1])} out of range for dim {model.dim}")
        if e.code == CHAIN_PRODUCT and model.code != CHAIN:
            raise InputError(f"events[{i}] ({e.name!r}) needs the chain model, got {model.kind!r}")
        if e.code == NETWORK_MODE:
            if model.code != NETWORK:
                raise InputError(f"events[{i}] ({e.name!r}) needs the network model, got {model.kind!r}")
            d = model.extra["dim"]
            if len(e.spec) != 1 + 2 * d:
                raise InputError(f"events[{i}] ({e.name!r}) has vectors of length {(len(e.spec) - 1) // 2}, "
                                 f"the network has dim {d}")
        if e.code == NETWORK_SV:
            if model.code != NETWORK:
                raise InputError(f"events[{i}] ({e.name!r}) needs the network model, got {model.kind!r}")
            if int(e.spec[1]) >= model.extra["dim"]:
                raise InputError(f"events[{i}] ({e.name!r}) index {int(e.spec[1])} out of range for dim "
                                 f"{model.extra['dim']}")
        codes[i] = e.code
        dirs[i] = e.direction
        specs[i, :len(e.spec)] = e.spec
    return codes, dirs, specs


# --------------------------------------------------------------------------- default escape events
@dataclass(frozen=True)
class EscapeSetup:
    """Default start point and stopping event of one escape problem.

    Attributes
    ----------
    x0 : ndarray, shape (dim,)
        Start state (trivial point for forward, learned minimum for reverse).
    events : tuple of Event
        One stopping event.
    target : langevin_grok.landscape.escape.EscapeTarget
        The shared definition of the event (lambda levels, arc lengths, barrier).
    direction : str
    """

    x0: np.ndarray
    events: tuple
    target: EscapeTarget
    direction: str

    def to_dict(self) -> dict:
        return {"x0": self.x0.tolist(), "direction": self.direction, "events": [e.name for e in self.events],
                "target": self.target.to_dict()}


def escape_setup(model: Model, direction: str = "forward", mode_index: int = 0) -> EscapeSetup:
    """Default start point and escape event for ``model`` (issue 3's midpoint convention).

    The levels come from :func:`langevin_grok.landscape.escape.escape_target` (the definition the theory
    uses): forward (trivial -> learned) starts at lambda = 0 and stops when lambda rises to
    ``(lambda_sad + lambda_min) / 2``; reverse starts at the learned minimum and stops when lambda
    falls to ``lambda_sad / 2``. Raises :class:`InputError` if there is no barrier that way.

    Parameters
    ----------
    model : Model
        ``arc``, ``chain`` or ``network``. For the network, lambda is ``u_i^T (W_L...W_1) v_i`` with
        ``u_i, v_i`` the singular vectors of ``Sigma_yx`` of mode ``mode_index`` (descending order);
        the per-mode landscape needs ``Sigma_xx = I``.
    direction : {"forward", "reverse"}
    mode_index : int
        Network only: which singular value escapes.

    Notes
    -----
    On the arc ``lambda = (r / sqrt(L))^L``. For even L, lambda is even in r and both signs of r
    are learned minima, so the forward event is ``|r| >= r_b``; for odd L it is ``r >= r_b``. The
    reverse event starts at ``r_min > 0`` and is ``r <= r_b`` for every L (a continuous path from
    ``r_min`` reaches ``r_b`` before any negative r).
    The reverse start of the chain is ``w_l = a_min`` for every l; of the network it is
    :func:`langevin_grok.landscape.stationary.stationary_point` with this mode learned and the others trivial.
    """
    from ..landscape import stationary as network  # imported here: keeps import time low for the kernel users
    from ..landscape.escape import escape_target

    direction = check_choice("direction", direction, ("forward", "reverse"))
    if not isinstance(model, Model) or model.kind not in ("arc", "chain", "network"):
        raise InputError(f"model must be an arc, chain or network Model, got {model!r}")
    L = model.depth
    if model.kind == "network":
        net = model.extra["net"]
        d = net.dim
        if not np.allclose(net.sigma_xx, np.eye(d), rtol=0, atol=1e-12):
            raise InputError("default escape events need sigma_xx = I (the per-mode landscape assumes it)")
        mode_index = check_int("mode_index", mode_index, minimum=0)
        if mode_index >= d:
            raise InputError(f"mode_index must be < dim = {d}, got {mode_index}")
        U, S, Vt = np.linalg.svd(net.sigma_yx)
        sv = float(S[mode_index])
    else:
        sv = float(model.sv)
    tgt = escape_target(L, sv, model.beta, direction)
    sense = tgt.crossing
    if model.kind == "arc":
        x0 = np.array([tgt.r_start])
        if direction == "forward" and L % 2 == 0:
            ev = abs_coordinate_event(0, tgt.r_target, +1, name="forward")
        else:
            ev = coordinate_event(0, tgt.r_target, 1, sense, name=direction)
    elif model.kind == "chain":
        x0 = np.full(L, tgt.a_start)
        ev = chain_product_event(tgt.lambda_target, sense, name=direction)
    else:
        if direction == "forward":
            x0 = np.zeros(model.dim)
        else:
            modes = ["trivial"] * d
            modes[mode_index] = "learned"
            x0 = np.array(network.stationary_point(net, modes).theta, dtype=float)
        ev = network_mode_event(U[:, mode_index], Vt[mode_index], tgt.lambda_target, sense, name=direction)
    x0.setflags(write=False)
    return EscapeSetup(x0=x0, events=(ev,), target=tgt, direction=direction)


NETWORK_EVENTS = ("sv", "mode")


def network_escape_setup(net, start_modes, escape_mode: int, direction: str = "forward",
                         event: str = "sv") -> EscapeSetup:
    """Start and escape event of mode ``escape_mode`` of a network from the stationary state ``start_modes``.

    ``event="sv"`` (default): the escaping mode's singular value of ``W = W_L ... W_1`` (its rank in the
    start's descending singular values) crosses the level of :func:`langevin_grok.landscape.escape.escape_target`;
    a rank change, so it cannot fire when the learned modes' singular vectors merely rotate. ``event="mode"``:
    the projection ``u_m^T W v_m`` on the population mode crosses the same level (fires also on a rotation of a
    learned mode toward mode m; measured: most "escapes" at w = 2 from the rank-1 trap, docs/theory.md
    section 1). The per-mode landscape needs ``Sigma_xx = I``.
    """
    from ..landscape import stationary as network  # imported here: keeps import time low for the kernel users
    from ..landscape.escape import escape_target

    direction = check_choice("direction", direction, ("forward", "reverse"))
    event = check_choice("event", event, NETWORK_EVENTS)
    d = net.dim
    escape_mode = check_int("escape_mode", escape_mode, minimum=0)
    if escape_mode >= d:
        raise InputError(f"escape_mode must be < dim = {d}, got {escape_mode}")
    if not np.allclose(net.sigma_xx, np.eye(d), rtol=0, atol=1e-12):
        raise InputError("network escape events need sigma_xx = I (the per-mode landscape assumes it)")
    start = network.stationary_point(net, list(start_modes))
    U, S, Vt = np.linalg.svd(net.sigma_yx)
    tgt = escape_target(net.depth, float(S[escape_mode]), net.beta, direction)
    if event == "mode":
        ev = network_mode_event(U[:, escape_mode], Vt[escape_mode], tgt.lambda_target, tgt.crossing, name=direction)
    else:
        lam = np.abs(np.asarray(start.amplitudes, dtype=float)) ** net.depth  # end-to-end value of each mode
        # rank of the escaping mode among the start's singular values (ties: lower mode index first)
        rank = int(sum(1 for m in range(d) if lam[m] > lam[escape_mode] or (lam[m] == lam[escape_mode]
                                                                          and m < escape_mode)))
        ev = network_sv_event(rank, tgt.lambda_target, tgt.crossing, name=direction)
    x0 = np.array(start.theta, dtype=float)
    x0.setflags(write=False)
    return EscapeSetup(x0=x0, events=(ev,), target=tgt, direction=direction)


def escape_events(model: Model, direction: str = "forward", mode_index: int = 0) -> tuple[Event, ...]:
    """The default escape event(s) of :func:`escape_setup`."""
    return escape_setup(model, direction, mode_index).events
