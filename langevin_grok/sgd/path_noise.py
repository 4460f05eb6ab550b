"""State-dependent gradient noise of real SGD: escape with a temperature that varies along the path, and the
stability of invariant (rank-deficient) sets.

- :func:`mfpt_state_dependent`: exact 1-D mean first-passage time of ``dx = -U' dt + sqrt(2 T(x)) dW`` (Ito).
- :func:`mfpt_discrete_chain`: exact mean first-passage time of the discrete-time SGD chain with step lr and
  the same T(x) (Nystrom solve of the first-passage integral equation).
- :func:`escape_path_noise`: c_e(x) = e^T C e at points along an escape path of the network, so that an SGD
  prediction uses the noise along the path, ``T(x) = lr c_e(x) / (2B)``, not only at the start.
- :func:`normal_lyapunov`: top Lyapunov exponent of SGD in the normal space of a rank-deficient state
  (dead hidden units), and the verdict whether the invariant set attracts.

docs/theory.md, section "2. Gradient noise of real SGD" (with replacement; invariant sets).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
from scipy.integrate import cumulative_simpson
from scipy.interpolate import PchipInterpolator

from .._core.checks import InputError, check_finite, check_int, check_positive, check_rng
from .noise import gradient_noise
from .noise_models import Validity, _check_protocol, _clean

__all__ = ["StateMFPTResult", "mfpt_state_dependent", "ChainMFPTResult", "mfpt_discrete_chain", "PathNoise",
           "escape_path_noise", "TrapLyapunov",
           "normal_lyapunov"]


# --------------------------------------------------------------------------- state-dependent temperature
@dataclass(frozen=True)
class StateMFPTResult:
    """Exact 1-D mean first-passage time with a state-dependent temperature.

    Attributes
    ----------
    tau, log_tau : mean first-passage time (SDE time; inf if beyond float64) and its log.
    x0, target, reflect : start, absorbing and reflecting points.
    rel_error : change between the last two grid refinements (relative); n_grid : points of the final grid.
    t_min, t_max : range of T(x) on [a, b]. status / reason: ``zero_temperature`` (T <= 0 somewhere on
    [a, b]: the process cannot pass there, tau infinite or undefined), ``not_converged``.
    """
    tau: float
    log_tau: float
    x0: float
    target: float
    reflect: float
    rel_error: float
    n_grid: int
    t_min: float
    t_max: float
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def _temperature_fn(temperature, params):
    if callable(temperature):
        return lambda x: np.asarray(temperature(0.0, x, params), dtype=float) * np.ones_like(x)
    try:
        xs, ts = (np.asarray(v, dtype=float).ravel() for v in temperature)
    except (TypeError, ValueError):
        raise InputError("temperature must be a callable T(t, x, p) or a pair (x_nodes, T_nodes)") from None
    if xs.size < 2 or xs.shape != ts.shape or np.any(np.diff(xs) <= 0) or not np.all(np.isfinite(ts)):
        raise InputError(f"temperature nodes must be finite, >= 2, with increasing x, got {xs.size} nodes")
    f = PchipInterpolator(xs, ts, extrapolate=False)  # stays within neighbouring node values

    def T(x):
        if np.min(x) < xs[0] - 1e-12 * abs(xs[0]) or np.max(x) > xs[-1] + 1e-12 * abs(xs[-1]):
            raise InputError(f"temperature nodes [{xs[0]:g}, {xs[-1]:g}] do not cover the interval")
        return f(np.clip(x, xs[0], xs[-1]))
    return T


def _log_mfpt_grid(gu, Tf, a, x0, b, n):
    """log tau on a grid of about n points, Simpson cumulative integrals in shifted exponents (a < x0 < b)."""
    n1 = max(int(n * (x0 - a) / (b - a)) | 1, 3)
    n2 = max(int(n * (b - x0) / (b - a)) | 1, 3)
    y = np.concatenate([np.linspace(a, x0, n1), np.linspace(x0, b, n2)[1:]])
    T = Tf(y)
    if not np.all(T > 0):
        return None, y.size, float(np.min(T)), float(np.max(T))
    phi = cumulative_simpson(gu(y) / T, x=y, initial=0.0)
    lo = phi.min()
    F = cumulative_simpson(np.exp(-(phi - lo)) / T, x=y, initial=0.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # F ~ 0 (Simpson may dip below) only next to a
        lg = phi - lo + np.log(F)
    yo, lo_out = y[n1 - 1:], lg[n1 - 1:]
    top = lo_out.max()
    val = cumulative_simpson(np.exp(lo_out - top), x=yo, initial=0.0)[-1]
    return top + math.log(val), y.size, float(T.min()), float(T.max())


def mfpt_state_dependent(grad_u, temperature, x0: float, target: float, reflect: float, params=(), *,
                         rtol: float = 1e-8, n_start: int = 2001, n_max: int = 2 ** 22) -> StateMFPTResult:
    """Exact mean first-passage time of ``dx = -U'(x) dt + sqrt(2 T(x)) dW`` (Ito) from x0 to ``target``.

    ``tau(x0) = int_{x0}^{b} dy e^{Phi(y)} int_{a}^{y} dz e^{-Phi(z)} / T(z)``, ``Phi(y) = int^y U'/T ds``,
    with b the absorbing and a the reflecting end (docs/theory.md, section "2. Gradient noise of real SGD").
    Derivation: the backward equation ``T tau'' - U' tau' = -1`` with ``tau(b) = 0``, ``tau'(a) = 0`` reads
    ``(e^{-Phi} tau')' = -e^{-Phi}/T``. For constant T this is :func:`langevin_grok.theory.quadrature.mfpt_1d`.

    Parameters
    ----------
    grad_u : callable ``U'(t, x, p)``, vectorised over x (note: the gradient, not the force).
    temperature : callable ``T(t, x, p)`` or a pair ``(x_nodes, T_nodes)`` of measured values, interpolated
        by a monotone cubic (PCHIP; between two nodes it stays between their values).
    x0, target, reflect : start, absorbing end and finite reflecting end on the other side of x0
        (either orientation).
    rtol : grid doubling stops when log tau changes by less than rtol (relative in tau).

    Notes
    -----
    Uniform grids on [a, x0] and [x0, b], cumulative Simpson integrals in exponents shifted by min Phi,
    log-sum for the outer integral (no overflow at large barriers); grid doubled from ``n_start`` until
    converged (error O(h^4)) or ``n_max`` (status ``not_converged``).
    """
    x0 = check_finite("x0", x0)
    b = check_finite("target", target)
    a = check_finite("reflect", reflect)
    if not (a <= x0 < b or b < x0 <= a):
        raise InputError(f"x0 must lie in [reflect, target) (either orientation), got x0={x0!r}, target={b!r}, "
                         f"reflect={a!r}")
    if a == x0:
        raise InputError(f"reflect must differ from x0 ({x0!r}) for the grid")
    rtol = check_positive("rtol", rtol)
    p = np.asarray(params, dtype=float)
    s = 1.0 if b > x0 else -1.0  # mirror: x -> -x keeps the Ito generator with U'(x) -> -U'(-x)
    Tf0 = _temperature_fn(temperature, p)
    gu = lambda y: s * np.asarray(grad_u(0.0, s * y, p), dtype=float) * np.ones_like(y)  # noqa: E731
    Tf = lambda y: Tf0(s * y)  # noqa: E731
    A, X0, Bn = s * a, s * x0, s * b
    n, prev, err = int(n_start), None, math.inf
    while True:
        lt, ng, tmin, tmax = _log_mfpt_grid(gu, Tf, A, X0, Bn, n)
        if lt is None:
            return StateMFPTResult(math.inf, math.inf, x0, b, a, math.nan, ng, tmin, tmax,
                                   Validity.NOT_APPLICABLE, "zero_temperature")
        if prev is not None:
            err = abs(math.expm1(lt - prev))
            if err < rtol:
                break
        if 2 * n > n_max:
            break
        prev, n = lt, 2 * n
    st, rs = (Validity.VALID, "ok") if err < rtol else (Validity.MARGINAL, "not_converged")
    tau = math.exp(lt) if lt < 709 else math.inf
    return StateMFPTResult(tau, lt, x0, b, a, err, ng, tmin, tmax, st, rs)


@dataclass(frozen=True)
class ChainMFPTResult:
    """Exact mean first-passage time of the discrete-time SGD chain on a 1-D coordinate.

    Attributes
    ----------
    tau, log_tau : mean first-passage time in SDE time (``lr`` times the mean number of steps; inf beyond
        float64) and its log. mean_steps : the mean number of steps.
    x0, target, reflect, lr : start, absorbing level, reflecting end and step size.
    rel_error : change of tau between the last two node refinements (relative); n_grid : nodes of the final
        solve. condition : 1-norm condition estimate of ``I - K`` (the linear system's loss of digits is about
        ``log10(condition)`` of float64's 16).
    max_step_curvature : ``max lr |U''|`` on the grid (the chain is a faithful model only while this is well
        below 2, where gradient descent itself is stable).
    status / reason : ``valid``/``ok``; ``marginal``/``not_converged`` (refinement limit reached) or
        ``ill_conditioned`` (condition above 1e11); ``not_applicable``/``zero_temperature`` (T <= 0 somewhere)
        or ``unstable_step`` (``lr |U''| >= 2`` on the grid).
    """
    tau: float
    log_tau: float
    mean_steps: float
    x0: float
    target: float
    reflect: float
    lr: float
    rel_error: float
    n_grid: int
    condition: float
    max_step_curvature: float
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def _panels(a: float, b: float, width: float, order: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [a, b] in panels of at most ``width``."""
    n_pan = max(int(math.ceil((b - a) / width)), 4)
    g, gw = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(a, b, n_pan + 1)
    half = 0.5 * np.diff(edges)
    return ((edges[:-1] + half)[:, None] + half[:, None] * g[None, :]).ravel(), (half[:, None] * gw[None, :]).ravel()


def nystrom_mean_steps(kernel, a: float, x0: float, b: float, width: float) -> tuple[float, int, float]:
    """Mean number of steps from x0 until a chain on [a, b] first lands beyond b (a < x0 < b).

    Solves ``n(x) = 1 + int_a^b K(x, y) n(y) dy`` by Nystrom on Gauss-Legendre panels of at most ``width``
    (:func:`_panels`, 8 nodes each); ``kernel(x, y, w)`` returns the matrix ``K(x_i, y_j) w_j`` (transition
    density times quadrature weight, including any image across a reflecting end a). Returns
    ``(n(x0), nodes, condition)``, the condition a LAPACK 1-norm estimate of ``I - K``.
    """
    from scipy.linalg import lapack, lu_factor, lu_solve

    y, w = _panels(a, b, width)
    A = np.eye(y.size) - kernel(y, y, w)
    lu = lu_factor(A)
    n = lu_solve(lu, np.ones(y.size))
    rcond, _ = lapack.dgecon(lu[0], float(np.abs(A).sum(axis=0).max()), norm="1")
    cond = 1.0 / rcond if rcond > 0 else math.inf
    return 1.0 + float((kernel(np.array([x0]), y, w) @ n)[0]), y.size, cond  # Nystrom interpolation at x0


def check_interval(x0, target, reflect, names=("x0", "target", "reflect")) -> tuple[float, float, float]:
    """Finite start, absorbing level and reflecting end with the start strictly between (either orientation);
    a one-line InputError naming the arguments otherwise."""
    n0, nt, nr = names
    x0, b, a = check_finite(n0, x0), check_finite(nt, target), check_finite(nr, reflect)
    if not (a < x0 < b or b < x0 < a):
        raise InputError(f"{n0} must lie strictly between {nr} and {nt}, got {n0}={x0!r}, {nt}={b!r}, {nr}={a!r}")
    return x0, b, a


def refine_chain_mfpt(kernel, a, x0, b, lr, sd, max_curv, *, rtol, per_sd, max_nodes, report) -> ChainMFPTResult:
    """Node doubling around :func:`nystrom_mean_steps` until tau changes by < rtol; statuses as
    :class:`ChainMFPTResult` (``report`` = the (x0, target, reflect) to record, in the caller's orientation)."""
    if max_curv >= 2.0:
        return ChainMFPTResult(math.nan, math.nan, math.nan, *report, lr, math.nan, 0, math.nan, max_curv,
                               Validity.NOT_APPLICABLE, "unstable_step")
    prev, err = None, math.inf
    while True:
        steps, n, cond = nystrom_mean_steps(kernel, a, x0, b, sd / per_sd)
        if prev is not None:
            err = abs(steps / prev - 1.0)
            if err < rtol:
                break
        if 2 * n > max_nodes:
            break
        prev, per_sd = steps, 2.0 * per_sd
    if not (steps > 0 and math.isfinite(steps)):  # the solve lost every digit (astronomical escape times)
        return ChainMFPTResult(math.nan, math.nan, math.nan, *report, lr, err, n, cond, max_curv,
                               Validity.NOT_APPLICABLE, "ill_conditioned")
    if err >= rtol:
        st, rs = Validity.MARGINAL, "not_converged"
    elif cond > 1e11:
        st, rs = Validity.MARGINAL, "ill_conditioned"
    else:
        st, rs = Validity.VALID, "ok"
    tau = lr * steps
    return ChainMFPTResult(tau, math.log(tau), steps, *report, lr, err, n, cond, max_curv, st, rs)


def mfpt_discrete_chain(grad_u, temperature, x0: float, target: float, reflect: float, params=(), *, lr: float,
                        rtol: float = 1e-4, per_sd: float = 1.0, max_nodes: int = 6000) -> ChainMFPTResult:
    """Exact mean first-passage time of the SGD chain ``x_{k+1} = x_k - lr U'(x_k) + sqrt(2 lr T(x_k)) xi_k``.

    The discrete-time model of SGD with independent batches along a 1-D escape coordinate: one step moves by
    ``-lr U'`` and adds Gaussian noise of variance ``lr^2 c(x)/B = 2 lr T(x)`` (``T = lr c/(2B)``, evaluated at
    the current point, as a batch gradient is). In a quadratic well of curvature h it is the linear model of
    :func:`langevin_grok.sgd.noise_models.with_replacement_model` with its discrete-time factor 2/(2 - lr h);
    along a path it carries that factor's generalisation (and the discrete saddle crossing) without an
    expansion in lr. As ``lr -> 0`` at fixed T(x) it tends to :func:`mfpt_state_dependent`.

    The mean number of steps n(x) to pass ``target`` solves ``n(x) = 1 + int K(x, y) n(y) dy`` over the
    interval between ``reflect`` and ``target``, K the Gaussian step density (folded at ``reflect``: a
    reflecting end, to be placed where the density is negligible, as for the continuous MFPT). Nystrom
    discretisation on Gauss-Legendre panels about one step's noise s.d. wide, nodes doubled until tau changes
    by less than ``rtol`` (:func:`nystrom_mean_steps`). Returns tau = lr n(x0) in SDE time (docs/theory.md,
    section "With replacement").

    Parameters
    ----------
    grad_u, temperature, x0, target, reflect, params : as for :func:`mfpt_state_dependent`.
    lr : the SGD step (SDE time per step).
    rtol : refinement tolerance (relative in tau). per_sd : panels per noise s.d. at the start of the
        refinement. max_nodes : node limit (dense solve; status ``not_converged`` when it stops refinement).
    """
    x0, b, a = check_interval(x0, target, reflect)
    lr = check_positive("lr", lr)
    rtol = check_positive("rtol", rtol)
    per_sd = check_positive("per_sd", per_sd)
    max_nodes = check_int("max_nodes", max_nodes, minimum=16)
    p = np.asarray(params, dtype=float)
    s = 1.0 if b > x0 else -1.0
    Tf0 = _temperature_fn(temperature, p)
    gu = lambda y: s * np.asarray(grad_u(0.0, s * y, p), dtype=float) * np.ones_like(y)  # noqa: E731
    Tf = lambda y: Tf0(s * y)  # noqa: E731
    A, X0, Bn = s * a, s * x0, s * b
    probe = np.linspace(A, Bn, 4001)
    Tp = Tf(probe)
    if not np.all(np.isfinite(Tp)):
        raise InputError(f"temperature must be finite on [{min(a, b):g}, {max(a, b):g}], got non-finite values")
    if not np.all(Tp > 0):
        return ChainMFPTResult(math.inf, math.inf, math.inf, x0, b, a, lr, math.nan, 0, math.nan, math.nan,
                               Validity.NOT_APPLICABLE, "zero_temperature")
    max_curv = float(lr * np.max(np.abs(np.gradient(gu(probe), probe))))

    def kernel(x, y, w):
        m = x - lr * gu(x)
        sd = np.sqrt(2.0 * lr * Tf(x))
        z = (y[None, :] - m[:, None]) / sd[:, None]
        zr = (2.0 * A - y[None, :] - m[:, None]) / sd[:, None]  # image across the reflecting end
        return (np.exp(-0.5 * z ** 2) + np.exp(-0.5 * zr ** 2)) * (w[None, :] / (math.sqrt(2 * math.pi) * sd[:, None]))

    return refine_chain_mfpt(kernel, A, X0, Bn, lr, math.sqrt(2.0 * lr * float(Tp.min())), max_curv, rtol=rtol,
                             per_sd=per_sd, max_nodes=max_nodes, report=(x0, b, a))


@dataclass(frozen=True)
class PathNoise:
    """Per-sample gradient noise along a straight escape path ``theta(s) = start + s (end - start)``.

    Attributes
    ----------
    s : (n,) path parameter; r : (n,) distance from the start (weight units, ``s |end - start|``).
    noise : (n,) c_e(s) = e^T C(theta(s)) e with e the unit chord; exactly_zero : (n,) structural zeros.
    direction : (D,) the unit chord e.
    temperature : (n,) ``lr c_e / (2B)`` when lr and batch were given (None otherwise): feed
        ``(r, temperature)`` to :func:`mfpt_state_dependent`.
    """
    s: np.ndarray
    r: np.ndarray
    noise: np.ndarray
    exactly_zero: np.ndarray
    direction: np.ndarray = field(repr=False)
    temperature: np.ndarray | None = None

    def to_dict(self) -> dict:
        return _clean({k: v for k, v in asdict(self).items() if k != "direction"})


def escape_path_noise(X, Y, depth: int, width: int, theta_start, theta_end, *, n_points: int = 21,
                      s_max: float = 1.0, lr: float | None = None, batch: int | None = None) -> PathNoise:
    """c_e along the straight path from ``theta_start`` (e.g. the trap) through ``theta_end`` (e.g. the saddle).

    For the population network in the canonical frame (:func:`langevin_grok.landscape.stationary.stationary_point`),
    a state and the saddle of one escaping mode differ only in that mode's per-layer amplitude a, which
    enters every layer linearly: the chord is the balanced arc of docs/theory.md ("Weight space, noise and
    time"), with arc length ``r = sqrt(L) |a - a_start|`` = the distance returned here. Noise by
    :func:`langevin_grok.sgd.noise.gradient_noise` at each point, along the chord.
    """
    t0 = np.asarray(theta_start, dtype=float).ravel()
    t1 = np.asarray(theta_end, dtype=float).ravel()
    if t0.shape != t1.shape or not np.all(np.isfinite(t0)) or not np.all(np.isfinite(t1)) or np.all(t0 == t1):
        raise InputError("theta_start and theta_end must be distinct finite vectors of one length")
    n = check_int("n_points", n_points, minimum=2)
    smax = check_positive("s_max", s_max)
    chord = t1 - t0
    length = float(np.linalg.norm(chord))
    e = chord / length
    s = np.linspace(0.0, smax, n)
    ce, zero = np.empty(n), np.empty(n, dtype=bool)
    for i, si in enumerate(s):
        g = gradient_noise(t0 + si * chord, X, Y, depth, width, direction=e, n_top=0)
        ce[i], zero[i] = g.direction_variance, g.exactly_zero
    T = None
    if (lr is None) != (batch is None):
        raise InputError("give both lr and batch (or neither) for the temperatures")
    if lr is not None:
        lr, B = _check_protocol(lr, batch)
        T = lr * ce / (2.0 * B)
    return PathNoise(s, s * length, ce, zero, e, T)


# --------------------------------------------------------------------------- invariant sets
@dataclass(frozen=True)
class TrapLyapunov:
    """Top Lyapunov exponent of SGD in the normal space of a rank-deficient state.

    Attributes
    ----------
    exponent_per_time : ``Lambda / lr``, Lambda the top exponent per SGD step (unit: 1 / SDE time);
        std_error : its error from the spread of the per-epoch growth rates (epochs treated as independent).
    weight_decay_rate : ``ln(1 - lr beta) / lr``, the exact rate of the normal directions whose every loss
        term holds at least three normal factors (only the L2 term acts on them).
    attractive : ``exponent_per_time + 3 std_error < 0`` (the invariant set attracts); status ``marginal``
        (reason ``indistinct_from_zero``) when ``|exponent| < 3 std_error``.
    n_dead_units : dead hidden units per hidden layer (tuple); n_normal : normal coordinates (all weights
        touching a dead unit); n_orbit : rank of the rotation-orbit tangents projected out (neutral).
    """
    exponent_per_time: float
    std_error: float
    weight_decay_rate: float
    attractive: bool
    lr: float
    batch: int
    replacement: bool
    n_epochs: int
    burn_epochs: int
    n_dead_units: tuple
    n_normal: int
    n_orbit: int
    seed: int | None
    status: Validity
    reason: str

    def to_dict(self) -> dict:
        return _clean(asdict(self))


def _normal_mask(Ws) -> tuple[np.ndarray, tuple]:
    masks = [np.zeros(W.shape, dtype=bool) for W in Ws]
    counts = []
    for l in range(len(Ws) - 1):  # hidden layer between Ws[l] (rows) and Ws[l + 1] (columns)
        dead = np.all(Ws[l] == 0, axis=1) & np.all(Ws[l + 1] == 0, axis=0)
        masks[l][dead, :] = True
        masks[l + 1][:, dead] = True
        counts.append(int(dead.sum()))
    return np.concatenate([m.ravel() for m in masks]), tuple(counts)


def _orbit_basis(net, theta) -> np.ndarray:
    from ..landscape.stationary import orbit_tangents
    U, S, _ = np.linalg.svd(orbit_tangents(net, theta), full_matrices=False)
    return U[:, S > 1e-10 * max(S.max(), 1e-300)]


def normal_lyapunov(theta, X, Y, depth: int, width: int, beta: float, lr: float, batch: int, *,
                    replacement: bool = False, n_epochs: int = 200, burn_epochs: int | None = None,
                    rng=None, fd_step: float = 1e-6) -> TrapLyapunov:
    """Top Lyapunov exponent of SGD along the normal space of the invariant set through ``theta``.

    ``theta`` must have dead hidden units (all incoming and outgoing weights exactly 0): every per-sample
    gradient vanishes on their weights, so SGD started there stays on the set, and a small perturbation
    in the normal coordinates evolves by ``v <- (I - lr H_{B_t}(theta_t)) v`` along the SGD trajectory
    theta_t on the set (the batch Hessian has no tangent-normal block there). Rotations of the hidden
    layers are symmetries of every batch loss, so orbit directions are neutral and mapped onto orbit
    directions; they are projected out once per epoch (the quotient growth is what decides). Lambda =
    mean log growth per step after ``burn_epochs``; ``Lambda / lr`` per unit SDE time. Hessian-vector
    products by central differences of the batch gradient (``fd_step``; the gradient is a polynomial).

    docs/theory.md, section "Invariant sets (dead units): stochastic collapse": attractive iff Lambda < 0.
    """
    from .noise_models import check_network_sgd
    from .trainer import _batch_grads, draw_epoch, pack, unpack

    L, w, beta, X, Y, lr, B, N, net, th = check_network_sgd(theta, X, Y, depth, width, beta, lr, batch)
    E = check_int("n_epochs", n_epochs, minimum=2)
    normal, dead = _normal_mask(net.unpack(th))
    if not normal.any():
        raise InputError("theta has no dead hidden unit (zero incoming and outgoing weights): no invariant set")
    m = -(-N // B)
    burn = (max(20, math.ceil(10.0 / (lr * max(beta, 1e-3) * m))) if burn_epochs is None
            else check_int("burn_epochs", burn_epochs, minimum=0))
    gen, seed = check_rng(rng)
    p = X.shape[1]
    v = np.zeros_like(th)
    v[normal] = gen.standard_normal(int(normal.sum()))
    Q = _orbit_basis(net, th)
    v -= Q @ (Q.T @ v)
    v /= np.linalg.norm(v)
    rates = []
    for ep in range(burn + E):
        idx, slices, _ = draw_epoch(gen, N, B, replacement)
        for sl in slices:
            b = idx[sl]
            ws = unpack(np.stack([th, th + fd_step * v, th - fd_step * v]), L, w, p)
            g = pack([G + beta * W for G, W in zip(_batch_grads(ws, np.broadcast_to(X[b], (3,) + X[b].shape),
                                                                np.broadcast_to(Y[b], (3,) + Y[b].shape)), ws)])
            v = v - lr * (g[1] - g[2]) / (2.0 * fd_step)
            th = th - lr * g[0]
        Q = _orbit_basis(net, th)
        v -= Q @ (Q.T @ v)
        nv = float(np.linalg.norm(v))
        v /= nv
        if ep >= burn:
            rates.append(math.log(nv) / (len(slices) * lr))
    rates = np.asarray(rates)
    lam = float(rates.mean())
    se = float(rates.std(ddof=1) / math.sqrt(rates.size))
    wd = math.log1p(-lr * beta) / lr if lr * beta < 1 else -math.inf
    status, reason = (Validity.VALID, "ok") if abs(lam) > 3 * se else (Validity.MARGINAL, "indistinct_from_zero")
    return TrapLyapunov(lam, se, wd, bool(lam + 3 * se < 0), lr, B, bool(replacement), E, burn, dead,
                        int(normal.sum()), int(Q.shape[1]), seed, status, reason)
