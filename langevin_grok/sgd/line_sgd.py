"""SGD restricted to a straight line in weight space, with the data's real per-sample gradients.

A 1-D reduction of network SGD that keeps what the diffusion models drop: the distribution of the per-sample
gradients (skewed and heavy-tailed on real data) and the batch protocol (independent batches or shuffled
epochs). It separates two questions about an SGD escape prediction: is the 1-D noise model right for 1-D
SGD (this simulation against :func:`langevin_grok.sgd.path_noise.mfpt_discrete_chain`), and is the 1-D
reduction right for the network (network SGD against this simulation).

Along the line ``theta(r) = theta_start + r e`` (e the unit chord towards ``theta_end``) the per-sample
gradient along e, ``g_n(r) = e . grad l_n(theta(r)) + beta e . theta(r)``, is a polynomial of degree 2L - 1 in r
(the loss of a depth-L linear network is a polynomial of degree 2L in the weights), so its coefficients are
fitted exactly (least squares through 4L + 1 points; the residual is reported). The full-batch mean is dU/dr
along the line. One SGD step on the line is ``r <- r - lr mean_{n in batch} g_n(r)``; batches as
:func:`langevin_grok.sgd.trainer.draw_epoch` draws them (with replacement ceil(N/B) batches of B; shuffled
epochs a permutation cut into batches, the last one holding N mod B). docs/theory.md, section "With
replacement" ("SGD on the escape line"). :func:`mfpt_line_sgd` is the exact mean first-passage time of line SGD
with independent batches: the discrete chain whose step has the exact distribution of a batch mean of the
data's per-sample gradients (not a Gaussian).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numba
import numpy as np

from .._core.checks import InputError, check_finite, check_int, check_memory, check_positive
from .._core.seeds import as_seed_sequence
from .noise import per_sample_grads
from .noise_models import Validity, _check_protocol, _clean
from .path_noise import ChainMFPTResult, check_interval, refine_chain_mfpt

__all__ = ["LineNoise", "line_noise", "LineEscape", "line_sgd_escape", "mfpt_line_sgd"]


@dataclass(frozen=True)
class LineNoise:
    """Per-sample gradients along a straight line of weight space, as exact polynomials in the distance r.

    Attributes
    ----------
    coefficients : (N, 2L) ``g_n(r) = sum_k coefficients[n, k] r^k`` (increasing powers; loss plus L2 term).
    length : distance from ``theta_start`` to ``theta_end``. direction : (D,) the unit chord e.
    fit_residual : largest absolute residual of the polynomial fit at the fitting points (exact: ~1e-13).
    noise_start : ``Var_n g_n(0)``, the per-sample variance c_e at the start (1/N).
    skewness_start, excess_kurtosis_start : of the per-sample deviations ``g_n(0) - mean`` (0 and 0 for
        Gaussian noise; a batch mean of B samples has skewness / sqrt(B), excess kurtosis / B).
    beta, depth, width : the problem.
    """
    coefficients: np.ndarray = field(repr=False)
    length: float
    direction: np.ndarray = field(repr=False)
    fit_residual: float
    noise_start: float
    skewness_start: float
    excess_kurtosis_start: float
    beta: float
    depth: int
    width: int

    @property
    def mean_coefficients(self) -> np.ndarray:
        """Coefficients of the full-batch gradient dU/dr along the line."""
        return self.coefficients.mean(axis=0)

    def gradient(self, r) -> np.ndarray:
        """Full-batch gradient dU/dr at distances ``r`` along the line."""
        return np.polynomial.polynomial.polyval(np.asarray(r, dtype=float), self.mean_coefficients)

    def noise(self, r) -> np.ndarray:
        """Per-sample variance c_e(r) = Var_n g_n(r) at distances ``r`` (1/N)."""
        g = np.polynomial.polynomial.polyval(np.asarray(r, dtype=float), self.coefficients.T)  # (N,) + shape
        return np.var(g, axis=0)

    def to_dict(self) -> dict:
        return _clean({k: v for k, v in asdict(self).items() if k not in ("coefficients", "direction")})


def line_noise(X, Y, depth: int, width: int, beta: float, theta_start, theta_end) -> LineNoise:
    """Per-sample gradients along the line from ``theta_start`` through ``theta_end`` (module docstring)."""
    from scipy import stats

    from .noise_models import check_segment

    L, w, beta, X, Y, _, t0, t1 = check_segment(theta_start, theta_end, X, Y, depth, width, beta)
    chord = t1 - t0
    length = float(np.linalg.norm(chord))
    e = chord / length
    deg = 2 * L - 1
    rs = np.linspace(-1.0, 2.0, 4 * L + 1) * length
    G = np.stack([per_sample_grads(t0 + r * e, X, Y, L, w) @ e + beta * float((t0 + r * e) @ e) for r in rs])
    V = np.polynomial.polynomial.polyvander(rs, deg)
    coef, *_ = np.linalg.lstsq(V, G, rcond=None)  # (deg + 1, N)
    resid = float(np.max(np.abs(V @ coef - G)))
    z = G[np.argmin(np.abs(rs))] if np.any(rs == 0) else per_sample_grads(t0, X, Y, L, w) @ e
    z = z - z.mean()
    return LineNoise(np.ascontiguousarray(coef.T), length, e, resid, float(np.mean(z ** 2)),
                     float(stats.skew(z)), float(stats.kurtosis(z)), beta, L, w)


@dataclass(frozen=True)
class LineEscape:
    """Escapes of SGD on the line (:func:`line_sgd_escape`).

    Attributes
    ----------
    t_sde : (n_paths,) escape or censoring time, SDE time ``lr x steps`` (escape checked at epoch boundaries,
        as for the network runs). observed : (n_paths,) escaped within ``max_epochs``. epochs : escape epoch
        (``max_epochs`` when censored). n_diverged : paths whose r became non-finite (counted as censored).
    lr, batch, replacement, gaussian, r_target, max_epochs, steps_per_epoch, seed : the run.
    """
    t_sde: np.ndarray = field(repr=False)
    observed: np.ndarray = field(repr=False)
    epochs: np.ndarray = field(repr=False)
    n_diverged: int
    lr: float
    batch: int
    replacement: bool
    gaussian: bool
    r_target: float
    max_epochs: int
    steps_per_epoch: int
    seed: int | None

    def to_dict(self) -> dict:
        return _clean(asdict(self))


@numba.njit(cache=True, nogil=True)
def _epoch_end(xi, epoch, target, sign):  # pragma: no cover (compiled)
    """What an epoch boundary says of a path at ``xi``: -2 diverged, ``epoch`` escaped, -1 still in the well."""
    if not np.isfinite(xi):
        return -2
    if sign * (xi - target) >= 0.0:
        return epoch
    return -1


@numba.njit(cache=True, nogil=True)
def _line_chunk(C, idx, starts, ends, x, first, ep0, lr, target, sign):  # pragma: no cover (compiled)
    M, E = idx.shape[0], idx.shape[1]
    K = C.shape[1]
    acc = np.empty(K)
    for i in range(M):
        if first[i] != -1:
            continue
        xi = x[i]
        for e in range(E):
            for j in range(starts.size):
                for k in range(K):
                    acc[k] = 0.0
                for s in range(starts[j], ends[j]):
                    n = idx[i, e, s]
                    for k in range(K):
                        acc[k] += C[n, k]
                g = acc[K - 1]
                for k in range(K - 2, -1, -1):
                    g = g * xi + acc[k]
                xi -= lr * g / (ends[j] - starts[j])
            f = _epoch_end(xi, ep0 + e + 1, target, sign)
            if f != -1:
                first[i] = f
                break
        x[i] = xi


@numba.njit(cache=True, nogil=True)
def _gauss_chunk(cm, S, z, sizes, x, first, ep0, lr, target, sign):  # pragma: no cover (compiled)
    M, E, m = z.shape[0], z.shape[1], z.shape[2]
    K = cm.size
    pw = np.empty(K)
    for i in range(M):
        if first[i] != -1:
            continue
        xi = x[i]
        for e in range(E):
            for j in range(m):
                pw[0] = 1.0
                for k in range(1, K):
                    pw[k] = pw[k - 1] * xi
                g = 0.0
                v = 0.0
                for k in range(K):
                    g += cm[k] * pw[k]
                    for q in range(K):
                        v += pw[k] * S[k, q] * pw[q]
                xi -= lr * (g + math.sqrt(max(v, 0.0) / sizes[j]) * z[i, e, j])
            f = _epoch_end(xi, ep0 + e + 1, target, sign)
            if f != -1:
                first[i] = f
                break
        x[i] = xi


def line_sgd_escape(line: LineNoise, lr: float, batch: int, *, r_target: float, n_paths: int, max_epochs: int,
                    replacement: bool, seed=None, r_start: float = 0.0, gaussian: bool = False,
                    memory_mb: float = 64.0) -> LineEscape:
    """First epoch at which SGD on the line passes ``r_target`` (distance along the line from the start).

    ``gaussian=True`` replaces each batch mean by a Gaussian of the same state-dependent variance
    ``c_e(r)/b`` (b the batch size): the discrete chain of :func:`langevin_grok.sgd.path_noise.mfpt_discrete_chain`,
    simulated (for the shuffled protocol this drops the epoch's anticorrelations; it is meant for
    ``replacement=True``). Random draws from one numpy Generator seeded by ``seed`` (reproducible), arithmetic
    in a compiled loop over paths, in chunks of epochs of at most ``memory_mb`` of indices.
    """
    if not isinstance(line, LineNoise):
        raise InputError(f"line must be a LineNoise (from line_noise), got {type(line).__name__}")
    N = line.coefficients.shape[0]
    lr, B, N = _check_protocol(lr, batch, N)
    target = check_finite("r_target", r_target)
    x0 = check_finite("r_start", r_start)
    if target == x0:
        raise InputError(f"r_target must differ from r_start ({x0!r})")
    M = check_int("n_paths", n_paths, minimum=1)
    E = check_int("max_epochs", max_epochs, minimum=1)
    mem = check_positive("memory_mb", memory_mb)
    ss = as_seed_sequence(seed)
    gen = np.random.Generator(np.random.PCG64(ss))
    m = -(-N // B)
    per_epoch = m * B if replacement else N
    starts = np.arange(m, dtype=np.int64) * B
    ends = np.minimum(starts + B, per_epoch).astype(np.int64)
    sign = 1.0 if target > x0 else -1.0
    # one epoch of draws for every path must fit (the chunk of epochs is then sized to memory_mb)
    check_memory("n_paths", 4.0 * M * max(per_epoch, 2 * m) + 24.0 * M, "one epoch of batch draws")
    x = np.full(M, x0)
    first = np.full(M, -1, dtype=np.int64)
    chunk = max(1, min(E, int(mem * 2 ** 20 / (4 * M * max(per_epoch, m * 2)))))
    C = np.ascontiguousarray(line.coefficients)
    cm = C.mean(axis=0)
    dev = C - cm
    S = dev.T @ dev / N
    sizes = (ends - starts).astype(float)
    ep = 0
    while ep < E and np.any(first == -1):
        n = min(chunk, E - ep)
        if gaussian:
            _gauss_chunk(cm, S, gen.standard_normal((M, n, m)), sizes, x, first, ep, lr, target, sign)
        else:
            if replacement:
                idx = gen.integers(0, N, size=(M, n, per_epoch), dtype=np.int32)
            else:
                idx = gen.permuted(np.broadcast_to(np.arange(N, dtype=np.int32), (M * n, N)), axis=1).reshape(M, n, N)
            _line_chunk(C, idx, starts, ends, x, first, ep, lr, target, sign)
        ep += n
    observed = first > 0
    epochs = np.where(observed, first, E).astype(float)
    return LineEscape(epochs * m * lr, observed, epochs, int(np.sum(first == -2)), lr, B, bool(replacement),
                      bool(gaussian), target, E, m, seed if isinstance(seed, (int, np.integer)) else None)


def _batch_step_kernel(line: LineNoise, lr: float, B: int, a: float, sign: float, points_per_sd: int = 20,
                       chunk: int = 256):
    """``kernel(x, y, w)`` for :func:`langevin_grok.sgd.path_noise.nystrom_mean_steps`: the exact density of one
    step of line SGD with replacement, ``-lr`` times the mean of B independent draws of g_n(x), folded at a.

    Per start point x the N values ``u_n = -lr (g_n(x) - gbar(x)) / B`` are binned linearly onto a grid of
    spacing ``sd(u) / points_per_sd`` (mean and mass kept, variance raised by a relative 1/(6 points_per_sd^2)),
    the B-fold convolution is the B-th power of the grid's FFT, and the density is read off by linear
    interpolation. The grid spans the single-sample range plus 15 standard deviations of the sum (circular
    wrap-around beyond that carries no measurable mass). ``sign = -1`` mirrors the coordinate (x -> -x).
    """
    C = line.coefficients

    def dens(x):
        xs = sign * x
        g = np.polynomial.polynomial.polyval(xs, C.T)  # (N, len(x)) per-sample gradients
        v = sign * (-lr / B) * g  # one sample's share of the step, in the mirrored coordinate
        vbar = v.mean(axis=0)
        u = v - vbar
        sd1 = np.maximum(u.std(axis=0), 1e-300)
        delta = sd1 / points_per_sd
        half = np.abs(u).max(axis=0) + 15.0 * math.sqrt(B) * sd1
        M = int(2 ** math.ceil(math.log2(max(64.0, float(np.max(2.0 * half / delta))))))
        return vbar, u, delta, M

    def kernel(x, y, w):
        out = np.empty((x.size, y.size))
        for i0 in range(0, x.size, chunk):
            xi = x[i0:i0 + chunk]
            vbar, u, delta, M = dens(xi)
            pos = u / delta[None, :] + M // 2  # grid index (0 at -M/2 delta)
            lo = np.floor(pos).astype(np.int64)
            frac = pos - lo
            hist = np.zeros((xi.size, M))
            cols = np.broadcast_to(np.arange(xi.size)[None, :], lo.shape)
            np.add.at(hist, (cols, lo % M), 1.0 - frac)
            np.add.at(hist, (cols, (lo + 1) % M), frac)
            hist /= u.shape[0]
            F = np.fft.rfft(np.fft.ifftshift(hist, axes=1), axis=1) ** B
            f = np.fft.fftshift(np.fft.irfft(F, n=M, axis=1), axes=1) / delta[:, None]  # density of the sum
            grid0 = -(M // 2) * delta  # position of index 0
            step = xi + B * vbar  # deterministic part of the landing point
            for k in range(xi.size):
                zz = (y - step[k] - grid0[k]) / delta[k]
                zr = (2.0 * a - y - step[k] - grid0[k]) / delta[k]
                out[i0 + k] = (np.interp(zz, np.arange(M), f[k], left=0.0, right=0.0)
                               + np.interp(zr, np.arange(M), f[k], left=0.0, right=0.0)) * w
        return np.maximum(out, 0.0)  # FFT round-off leaves tiny negative densities far out

    return kernel


def mfpt_line_sgd(line: LineNoise, lr: float, batch: int, *, r_target: float, r_reflect: float, r_start: float = 0.0,
                  rtol: float = 1e-3, per_sd: float = 1.0, max_nodes: int = 6000):
    """Exact mean first-passage time (SDE time) of SGD on the line with independent batches, from ``r_start`` to
    ``r_target``, with the exact distribution of a batch mean of the data's per-sample gradients.

    The chain ``r <- r - lr mean_{n in batch} g_n(r)`` (B independent uniform draws) has the step density of
    :func:`_batch_step_kernel` (FFT of the per-sample values' histogram to the B-th power); its mean number of
    steps solves the first-passage equation of :func:`langevin_grok.sgd.path_noise.nystrom_mean_steps`, nodes
    doubled until tau changes by < ``rtol`` (default 1e-3: the binned, interpolated step density converges
    like the square of its grid spacing, about 4e-4 in relative variance). A reflecting end sits at ``r_reflect`` (beyond the start, away from
    the target, where the density is negligible). With Gaussian per-sample values it is
    :func:`langevin_grok.sgd.path_noise.mfpt_discrete_chain` with T(r) = lr c_e(r)/(2B); with the data's skewed
    values it predicts what :func:`line_sgd_escape` measures (docs/theory.md, "SGD on the escape line").
    Returns a :class:`langevin_grok.sgd.path_noise.ChainMFPTResult`.
    """
    if not isinstance(line, LineNoise):
        raise InputError(f"line must be a LineNoise (from line_noise), got {type(line).__name__}")
    lr, B, _ = _check_protocol(lr, batch, line.coefficients.shape[0])
    x0, b, a = check_interval(r_start, r_target, r_reflect, names=("r_start", "r_target", "r_reflect"))
    rtol = check_positive("rtol", rtol)
    per_sd = check_positive("per_sd", per_sd)
    max_nodes = check_int("max_nodes", max_nodes, minimum=16)
    s = 1.0 if b > x0 else -1.0
    A, X0, Bn = s * a, s * x0, s * b
    probe = np.linspace(A, Bn, 2001)
    c = line.noise(s * probe)
    if not np.all(c > 0):
        return ChainMFPTResult(math.inf, math.inf, math.inf, x0, b, a, lr, math.nan, 0, math.nan, math.nan,
                               Validity.NOT_APPLICABLE, "zero_temperature")
    gp = s * line.gradient(s * probe)
    max_curv = float(lr * np.max(np.abs(np.gradient(gp, probe))))
    sd = lr * math.sqrt(float(c.min()) / B)
    return refine_chain_mfpt(_batch_step_kernel(line, lr, B, A, s), A, X0, Bn, lr, sd, max_curv, rtol=rtol,
                             per_sd=per_sd, max_nodes=max_nodes, report=(x0, b, a))
