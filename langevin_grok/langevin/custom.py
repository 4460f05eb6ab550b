"""User-defined models and events for the compiled Langevin kernels.

:func:`custom_model` turns two plain Python functions ``potential(t, x, p)`` and ``grad(t, x, p)``
(``x`` a float64 array of shape ``(dim,)``, ``p`` a float64 array) into a
:class:`~langevin_grok.langevin.models.Model` that runs in :func:`langevin_grok.langevin.engine.simulate_ensemble`,
:func:`langevin_grok.langevin.ams.simulate_ams` and :func:`langevin_grok.langevin.reference.simulate_reference`.
:func:`user_event` makes a stopping event from a user signed-distance function.

How the compiled kernels call user code
---------------------------------------
The shared kernels dispatch on an integer model code (:func:`langevin_grok.langevin.models.grad_into`) and
an integer event code (:func:`langevin_grok.langevin.events.event_value`), and a user function is not one
of those. :func:`specialise` compiles a *copy* of a kernel from the same Python source with those
global names rebound to small jitted adapters that call the user functions (numba freezes a jitted
global into the compiled code, so the call is direct and can be inlined); every kernel the copy
calls that itself reaches a rebound name is copied the same way. The shared kernels and their
on-disk cache are untouched, and the copy runs the identical step, event, bridge and random-stream
code (tested: a custom quadratic reproduces the built-in quadratic model bit for bit). The copies
are compiled in memory once per (kernel, user functions) and kept for the session (no disk cache:
the first call of a new custom model compiles its kernels, measured 10-30 s for
``simulate_ams`` on a loaded 2-core machine; later calls reuse them).

Time dependence
---------------
The kernels integrate time-homogeneous dynamics: the user functions receive ``t = 0.0`` inside
the compiled kernels (``simulate_reference`` passes the grid time). Escape problems and the
mean first-passage formulas assume a time-independent potential anyway.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np
from numba.core.registry import CPUDispatcher

from .._core.checks import InputError, check_int
from .events import Event
from .models import Model

__all__ = ["CUSTOM", "USER_EVENT", "CustomModel", "UserEvent", "custom_model", "user_event", "specialise"]

CUSTOM = 100  # model code of user-defined models (never dispatched on by the shared kernels)
USER_EVENT = 100  # event code of user event functions (custom kernels only)


_JITTED: dict = {}


def _jit(f, name: str):
    """The jitted ``f`` (one dispatcher per Python function, so kernels specialised for it are reused)."""
    if isinstance(f, CPUDispatcher):
        return f
    if not callable(f):
        raise InputError(f"{name} must be a callable, got {f!r}")
    if f not in _JITTED:
        _JITTED[f] = numba.njit(f)
    return _JITTED[f]


@dataclass(frozen=True, eq=False)
class CustomModel(Model):
    """A :class:`~langevin_grok.langevin.models.Model` with user potential and gradient (see :func:`custom_model`).

    Attributes
    ----------
    potential_fn, grad_fn : numba dispatchers
        The jitted user functions ``f(t, x, p)`` (besides the attributes of Model).
    """

    potential_fn: Callable | None = None
    grad_fn: Callable | None = None

    def potential(self, t, x):
        """``U(x)``; ``x`` of shape ``(dim,)`` gives a float, ``(n, dim)`` an array of shape ``(n,)``."""
        x = np.asarray(x, dtype=float)
        if x.ndim == 1 and x.shape[0] == self.dim:
            return float(self.potential_fn(float(t), np.ascontiguousarray(x), self.params))
        X = np.ascontiguousarray(x.reshape(-1, self.dim))
        return _pot_rows(self.potential_fn, float(t), X, self.params).reshape(x.shape[:-1])

    def grad(self, t, x):
        """``grad U(x)``, shape of ``x`` (``(dim,)`` or ``(n, dim)``)."""
        x = np.asarray(x, dtype=float)
        X = np.ascontiguousarray(x.reshape(-1, self.dim))
        return _grad_rows(self.grad_fn, float(t), X, self.params).reshape(x.shape)

    def potential_1d(self, t, y, p=None):
        """Vectorised ``U`` of a 1-D model over ``y`` of shape ``(n,)``, in the calling convention of
        :func:`langevin_grok.theory.quadrature.mfpt_1d` (``mfpt_1d(model.potential_1d, x0, b, T, model.params)``)."""
        if self.dim != 1:
            raise InputError(f"potential_1d needs a 1-D model, got dim {self.dim}")
        y = np.ascontiguousarray(np.asarray(y, dtype=float).reshape(-1, 1))
        return _pot_rows(self.potential_fn, float(t), y, self.params if p is None else np.asarray(p, float))

    def compiled_grad(self, x) -> np.ndarray:
        """``grad U(x)`` through the adapter the compiled kernels call."""
        x = np.ascontiguousarray(x, dtype=float).reshape(self.dim)
        out = np.empty(self.dim)
        _adapters(self.grad_fn)[0](self.code, x, self.params, self.params, out, np.empty(1))
        return out


@numba.njit
def _pot_rows(f, t, X, p):
    out = np.empty(X.shape[0])
    for i in range(X.shape[0]):
        out[i] = f(t, X[i], p)
    return out


@numba.njit
def _grad_rows(f, t, X, p):
    out = np.empty_like(X)
    for i in range(X.shape[0]):
        g = f(t, X[i], p)
        for k in range(X.shape[1]):
            out[i, k] = g[k]
    return out


def custom_model(potential: Callable, grad: Callable, dim: int, params=(), name: str = "custom") -> CustomModel:
    """A user-defined gradient field for the compiled engine.

    Parameters
    ----------
    potential, grad : callable
        ``potential(t, x, p) -> float`` and ``grad(t, x, p) -> ndarray (dim,)``, plain Python that
        numba can compile (``nopython`` mode) or already-jitted functions; ``x`` is a float64 array
        of shape ``(dim,)``, ``p`` a float64 array (the ``params``). ``t`` is ``0.0`` inside the
        compiled kernels (time-homogeneous dynamics).
    dim : int
        State dimension (>= 1).
    params : sequence of float
        Parameter vector ``p``.
    name : str
        Label stored in :meth:`Model.to_dict`.

    Returns
    -------
    CustomModel
        ``kind = "custom"``; runs in ``simulate_ensemble``, ``simulate_ams`` and
        ``simulate_reference``; for ``dim = 1`` :meth:`CustomModel.potential_1d` feeds
        :func:`langevin_grok.theory.quadrature.mfpt_1d`.

    Notes
    -----
    Both functions are compiled and checked once here at a zero state (finite values, gradient of
    shape ``(dim,)``); the gradient is not checked against the potential (``tests/test_custom_model.py``
    does that for its own models by finite differences).
    """
    d = check_int("dim", dim, minimum=1)
    p = np.ascontiguousarray(np.asarray(params, dtype=np.float64).ravel())
    p.setflags(write=False)
    pot = _jit(potential, "potential")
    grd = _jit(grad, "grad")
    x = np.zeros(d)
    try:
        u = float(pot(0.0, x, p))
        g = np.asarray(grd(0.0, x, p), dtype=float)
    except Exception as exc:  # numba typing errors are not InputErrors; name the argument
        raise InputError(f"potential/grad do not compile or run on x of shape ({d},): "
                         f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if g.shape != (d,):
        raise InputError(f"grad must return an array of shape ({d},), got shape {g.shape}")
    if not (np.isfinite(u) and np.all(np.isfinite(g))):
        raise InputError("potential and grad must be finite at x = 0")
    return CustomModel("custom", CUSTOM, d, p, extra={"name": str(name)}, potential_fn=pot, grad_fn=grd)


# --------------------------------------------------------------------------- user events
@dataclass(frozen=True, eq=False)
class UserEvent(Event):
    """An :class:`~langevin_grok.langevin.events.Event` from a user signed-distance function (custom kernels).

    ``g_fn`` and ``grad_norm_fn`` are the jitted ``g(t, x, p)`` and ``|grad g|(t, x, p)`` (``None``:
    no Brownian-bridge correction for this event)."""

    g_fn: Callable | None = None
    grad_norm_fn: Callable | None = None


def user_event(g: Callable, direction: int, grad_norm: Callable | None = None, name: str = "user") -> UserEvent:
    """Stopping event from a user function ``g(t, x, p)`` (numba-compilable, float result).

    Parameters
    ----------
    g : callable
        Signed distance: the path stops when g crosses zero in ``direction`` (+1 rising, -1 falling,
        0 either).
    direction : int
    grad_norm : callable, optional
        ``|grad g|(t, x, p)``, used by the bridge crossing correction (``g / |grad g|`` is the
        distance to the surface). Without it, and always in the 1-D kernels (which need a constant
        ``|grad g|``), the event is detected on the time grid only.
    name : str

    Notes
    -----
    Runs in every kernel for any model (the kernel is specialised for the user functions, see the
    module notes); threshold events on one coordinate need no user code
    (:func:`langevin_grok.langevin.events.coordinate_event`).
    """
    gj = _jit(g, "g")
    gn = None if grad_norm is None else _jit(grad_norm, "grad_norm")
    return UserEvent(gj, int(direction), str(name), USER_EVENT, np.array([0.0]), g_fn=gj, grad_norm_fn=gn)


# --------------------------------------------------------------------------- kernel specialisation
_ADAPTERS: dict = {}
_SPECIAL: dict = {}
_EVENTS: dict = {}
_MEMO: dict = {}


def _adapters(ugrad):
    """Jitted ``(grad_into, grad_1d, model_constants)`` replacements that call ``ugrad``."""
    if ugrad not in _ADAPTERS:
        @numba.njit(inline="always")
        def grad_into(code, x, p, q, out, work):
            g = ugrad(0.0, x, p)
            for i in range(x.shape[0]):
                out[i] = g[i]

        @numba.njit(inline="always")
        def grad_1d(code, r, q):
            # q = (scale, p...): scale * dU/dr, as the built-in grad_1d
            x = np.empty(1)
            x[0] = r
            return q[0] * ugrad(0.0, x, q[1:])[0]

        @numba.njit
        def model_constants(code, p, scale=1.0):
            q = np.empty(p.shape[0] + 1)
            q[0] = scale
            q[1:] = p
            return q

        _ADAPTERS[ugrad] = (grad_into, grad_1d, model_constants)
    return _ADAPTERS[ugrad]


def _event_adapters(base_value, base_value_1d, user: tuple, params: np.ndarray):
    """``event_value``/``event_value_1d`` that evaluate the user event at event index ``j`` and fall
    back to the built-in functions for the other indices; ``user = ((j, g, grad_norm), ...)``.
    ``event_value_1d`` has no ``p`` argument, so the model's ``params`` are frozen into it."""
    key = (id(base_value), id(base_value_1d), tuple((j, id(g), id(gn)) for j, g, gn in user), params.tobytes())
    if key not in _EVENTS:
        ev, ev1 = base_value, base_value_1d
        for j0, g, gn in user:
            ev, ev1 = _chain_event(ev, ev1, j0, g, gn, params)
        _EVENTS[key] = (ev, ev1, user)
    return _EVENTS[key][:2]


def _chain_event(prev, prev1, j0, g, gn, params):
    pp = np.array(params, dtype=np.float64)
    if gn is None:
        @numba.njit(inline="always")
        def norm(t, x, p):
            return 0.0
    else:
        norm = gn

    @numba.njit(inline="always")
    def ev(code, specs, j, x, p, work):
        if j == j0:
            return g(0.0, x, p), norm(0.0, x, p)
        return prev(code, specs, j, x, p, work)

    @numba.njit(inline="always")
    def ev1(code, specs, j, r):
        if j == j0:
            x = np.empty(1)
            x[0] = r
            # the 1-D kernel needs a constant |grad g|: user 1-D events are grid-detected only
            return g(0.0, x, pp), 0.0
        return prev1(code, specs, j, r)

    return ev, ev1


def _reaches(func, names: set, seen: dict) -> bool:
    """Whether the jitted ``func`` references (transitively) one of the global ``names``."""
    key = id(func)
    if key in seen:
        return seen[key]
    seen[key] = False
    py = func.py_func
    glb = py.__globals__
    hit = False
    for nm in py.__code__.co_names:
        if nm in names:
            hit = True
        else:
            obj = glb.get(nm)
            if isinstance(obj, CPUDispatcher) and _reaches(obj, names, seen):
                hit = True
    seen[key] = hit
    return hit


def _copy(func, overrides: dict, memo: dict, seen: dict):
    if id(func) in memo:
        return memo[id(func)]
    py = func.py_func
    glb = dict(py.__globals__)
    glb.update(overrides)
    for nm in py.__code__.co_names:
        obj = py.__globals__.get(nm)
        if nm not in overrides and isinstance(obj, CPUDispatcher) and _reaches(obj, set(overrides), seen):
            glb[nm] = _copy(obj, overrides, memo, seen)
    new = types.FunctionType(py.__code__, glb, py.__name__, py.__defaults__, py.__closure__)
    opts = {k: v for k, v in func.targetoptions.items() if k in ("parallel", "fastmath", "inline", "boundscheck")}
    out = numba.njit(**opts)(new)
    memo[id(func)] = out
    return out


def specialise(kernel, model: Model, events=(), extra: dict | None = None):
    """``kernel`` itself, or a copy compiled for the user functions of ``model``, ``events`` and ``extra``.

    Parameters
    ----------
    kernel : numba dispatcher
        A shared kernel (e.g. ``langevin_grok.langevin.engine._run_ensemble``).
    model : Model
        A :class:`CustomModel` rebinds ``grad_into``, ``grad_1d`` and ``model_constants``.
    events : sequence of Event
        :class:`UserEvent` entries rebind ``event_value`` and ``event_value_1d``.
    extra : dict, optional
        Further ``{global name: jitted function}`` rebindings (e.g. a user reaction coordinate).
    """
    overrides = dict(extra or {})
    ufns = []
    if isinstance(model, CustomModel):
        gi, g1, mc = _adapters(model.grad_fn)
        overrides.update(grad_into=gi, grad_1d=g1, model_constants=mc)
    user = tuple((j, e.g_fn, e.grad_norm_fn) for j, e in enumerate(events) if isinstance(e, UserEvent))
    if user:
        glb = kernel.py_func.__globals__
        from .events import event_value, event_value_1d

        ev, ev1 = _event_adapters(glb.get("event_value", event_value), glb.get("event_value_1d", event_value_1d),
                                  user, np.asarray(model.params, dtype=np.float64))
        overrides.update(event_value=ev, event_value_1d=ev1)
        ufns = [u[1:] for u in user]
    if not overrides:
        return kernel
    okey = tuple(sorted((k, id(v)) for k, v in overrides.items()))
    key = (id(kernel), okey)
    if key not in _SPECIAL:
        # kernels specialised for the same functions share their copied callees (compiled once);
        # keep the user functions alive with the copy (the keys hold ids only)
        memo = _MEMO.setdefault(okey, {})
        _SPECIAL[key] = (_copy(kernel, overrides, memo, {}), overrides, ufns)
    return _SPECIAL[key][0]
