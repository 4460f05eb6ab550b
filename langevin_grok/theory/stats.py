"""Statistics of escape times: censored exponential MLE, KS test of the exponential law, Arrhenius fit.

An ensemble of paths gives, per path, either an escape time or a censoring time (the path was
stopped at a cap without escaping). Escape over a high barrier is a Poisson process, so escape
times are exponential with mean tau; censored paths still carry information (they survived that
long) and are used, never dropped.

Functions
---------
exponential_mle    mean escape time ``tau_hat = (total time at risk) / (number of escapes)`` with a
                   likelihood-ratio (default) or chi-square confidence interval; zero escapes give a
                   lower bound only.
ks_exponential     Kolmogorov-Smirnov test of the exponential law, censoring at a common cap allowed
                   (test of the escape times conditional on escape before the cap).
log_sigma_from_ci  delta-method standard error of ln tau from a confidence interval.
arrhenius_fit      weighted least squares of ln tau against x (1/T, or B/lr): slope dE_eff, CI, R^2.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from .._core.checks import InputError, check_choice, check_int, check_positive, check_rng

__all__ = [
    "EscapeTimeEstimate",
    "exponential_mle",
    "KSResult",
    "ks_exponential",
    "log_sigma_from_ci",
    "ArrheniusFit",
    "arrhenius_fit",
    "median_ci",
]


def _jsonable(d: dict) -> dict:
    """Non-finite floats -> None (JSON ``null``); tuples -> lists."""
    out = {}
    for k, v in d.items():
        if isinstance(v, (float, np.floating)):
            v = float(v) if math.isfinite(float(v)) else None
        elif isinstance(v, tuple):
            v = [None if isinstance(e, float) and not math.isfinite(e) else e for e in v]
        out[k] = v
    return out


def _check_confidence(confidence) -> float:
    c = check_positive("confidence", confidence)
    if not c < 1:
        raise InputError(f"confidence must lie in (0, 1), got {confidence!r}")
    return c


def _times_events(times, escaped) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise InputError(f"times must be a non-empty 1-D array, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        raise InputError("times must be finite and >= 0 (use the cap time for censored paths)")
    if escaped is None:
        e = np.ones(t.size, dtype=bool)
    else:
        e = np.asarray(escaped)
        if e.shape != t.shape:
            raise InputError(f"escaped must have the shape of times {t.shape}, got {e.shape}")
        if e.dtype != bool:
            if not np.all(np.isin(e, (0, 1))):
                raise InputError("escaped must be boolean (True = escaped, False = censored)")
            e = e.astype(bool)
    return t, e




# --------------------------------------------------------------------------- censored exponential MLE
@dataclass(frozen=True)
class EscapeTimeEstimate:
    """Mean escape time of an exponential law from right-censored paths.

    Attributes
    ----------
    mean : float
        MLE ``tau_hat = total_time / n_events`` (``inf`` when there are no events).
    ci_low, ci_high : float
        Confidence interval for tau (``ci_high = inf`` when there are no events).
    confidence : float
        Coverage the interval is built for (e.g. 0.95).
    method : str
        ``"lr"`` (likelihood ratio) or ``"chi2"`` (see :func:`exponential_mle`).
    n_paths, n_events, n_censored : int
    total_time : float
        Total time at risk: sum of escape times and censoring times.
    rate : float
        Escape rate ``n_events / total_time`` = 1 / mean.
    """

    mean: float
    ci_low: float
    ci_high: float
    confidence: float
    method: str
    n_paths: int
    n_events: int
    n_censored: int
    total_time: float
    rate: float

    def to_dict(self) -> dict:
        """Plain ``dict``; ``inf`` (no events) becomes ``None`` (JSON ``null``)."""
        return _jsonable(asdict(self))


def exponential_mle(times, escaped=None, confidence: float = 0.95, method: str = "lr") -> EscapeTimeEstimate:
    """Censoring-aware mean escape time (exponential MLE) with a confidence interval.

    Parameters
    ----------
    times : array_like, shape (n,)
        Escape time of each escaped path, censoring time (time observed without escape, e.g. the
        cap) of each censored path. Units are the caller's (SDE time, steps, epochs).
    escaped : array_like of bool, shape (n,), optional
        True where the path escaped; default all True (no censoring).
    confidence : float
        Two-sided coverage of the interval, in (0, 1).
    method : {"lr", "chi2"}
        ``"lr"``: likelihood-ratio interval, ``{tau : 2 [l(tau_hat) - l(tau)] <= chi2_1(confidence)}``
        with ``l(tau) = -d ln tau - S / tau`` (d events, S total time), in closed form through the
        Lambert W function. Approximate (asymptotic) for any censoring; coverage checked by
        simulation in the tests.
        ``"chi2"``: ``2 S / tau`` treated as chi-square. Without censoring it is exact:
        ``[2S / chi2_{(1+c)/2}(2d), 2S / chi2_{(1-c)/2}(2d)]``. With censored paths the lower end
        uses ``2d + 2`` degrees of freedom, the conservative interval for a time-terminated
        (Type I) test.

    Returns
    -------
    EscapeTimeEstimate

    Notes
    -----
    The likelihood of d escapes at times t_i and n - d survivals to c_j is
    ``tau^-d exp(-S / tau)`` with ``S = sum t_i + sum c_j``, maximised at ``tau_hat = S / d``. With
    d = 0 the likelihood increases with tau: ``mean = inf`` and only a lower bound exists,
    ``2 S / chi2_1(confidence)`` (lr) or ``2 S / chi2_{(1+c)/2}(2)`` (chi2).

    Examples
    --------
    >>> est = exponential_mle([1.0, 2.0, 3.0, 4.0], [True, True, True, False])
    >>> est.mean, est.n_events
    (3.3333333333333335, 3)
    """
    t, e = _times_events(times, escaped)
    c = _check_confidence(confidence)
    method = check_choice("method", method, ("lr", "chi2"))
    n, d = t.size, int(e.sum())
    S = float(t.sum())
    if S <= 0:
        raise InputError("times must have a positive total (total time at risk is 0)")
    mean = S / d if d else math.inf
    if method == "lr":
        q = float(special.chdtri(1, 1.0 - c))  # chi2_1 quantile at c (the special function is fast)
        if d == 0:
            lo, hi = 2 * S / q, math.inf
        else:
            # 2 d (x - 1 - ln x) = q with x = tau_hat / tau: x = -W_k(-exp(-(1 + q / 2d))), k = 0, -1
            arg = -math.exp(-(1.0 + q / (2 * d)))
            x_small = float(-special.lambertw(arg, 0).real)  # < 1 -> upper end of tau
            x_large = float(-special.lambertw(arg, -1).real)  # > 1 -> lower end
            lo, hi = mean / x_large, mean / x_small
    else:
        a = 1.0 - c
        dof_low = 2 * d + (2 if d < n else 0)
        lo = 2 * S / float(special.chdtri(dof_low, a / 2))  # chi2 quantile at 1 - a/2
        hi = 2 * S / float(special.chdtri(2 * d, 1 - a / 2)) if d else math.inf
    return EscapeTimeEstimate(
        mean=mean, ci_low=lo, ci_high=hi, confidence=c, method=method, n_paths=n, n_events=d,
        n_censored=n - d, total_time=S, rate=d / S,
    )


# --------------------------------------------------------------------------- KS test
@dataclass(frozen=True)
class KSResult:
    """Kolmogorov-Smirnov test of the exponential law.

    Attributes
    ----------
    statistic : float
        KS distance D between the escape times' empirical CDF and the (truncated) exponential CDF.
    pvalue : float
    n_used : int
        Number of escape times tested.
    tau : float
        Mean of the exponential law compared with.
    tau_estimated : bool
        True when tau was estimated from the same data.
    cap : float or None
        Common censoring time (the law is conditioned on escape before it), if any.
    method : str
        ``"exact"`` (tau given: the KS distribution holds), ``"bootstrap"`` (tau estimated;
        parametric bootstrap of the whole procedure, ``n_boot`` samples) or ``"conservative"``
        (tau estimated, plain KS p-value: too large, i.e. rejects too rarely).
    n_boot : int
    seed : int or None
        Seed of the bootstrap stream, if an integer was given.
    """

    statistic: float
    pvalue: float
    n_used: int
    tau: float
    tau_estimated: bool
    cap: float | None
    method: str
    n_boot: int
    seed: int | None

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


def _ks_stat(x: np.ndarray, tau: float, cap: float | None) -> float:
    """KS distance of sorted sample x from Exp(tau), truncated to [0, cap] if cap is given."""
    n = x.size
    F = -np.expm1(-x / tau)
    if cap is not None:
        F = F / -math.expm1(-cap / tau)
    i = np.arange(1, n + 1)
    return float(max(np.max(i / n - F), np.max(F - (i - 1) / n)))


def _ks_stat_boot(gen: np.random.Generator, n: int, tau: float, cap: float | None, n_boot: int) -> np.ndarray:
    """KS distances of ``n_boot`` parametric-bootstrap samples (n paths from Exp(tau), censored at
    cap, tau re-estimated by the censored MLE), vectorised over samples; shape (n_boot,)."""
    tb = gen.exponential(tau, size=(n_boot, n))
    eb = np.ones_like(tb, dtype=bool) if cap is None else tb <= cap
    if cap is not None:
        tb = np.minimum(tb, cap)
    m = eb.sum(axis=1)  # escapes per sample
    ok = m > 0
    tau_b = np.where(ok, tb.sum(axis=1) / np.maximum(m, 1), 1.0)
    x = np.sort(np.where(eb, tb, np.inf), axis=1)  # escaped times first, in order
    F = -np.expm1(-x / tau_b[:, None])
    if cap is not None:
        F = F / -np.expm1(-cap / tau_b)[:, None]
    i = np.arange(1, n + 1)[None, :]
    mm = np.maximum(m, 1)[:, None]
    valid = i <= m[:, None]
    d_plus = np.where(valid, i / mm - F, -np.inf).max(axis=1)
    d_minus = np.where(valid, F - (i - 1) / mm, -np.inf).max(axis=1)
    # a sample without escapes is counted as at least as extreme as the data
    return np.where(ok, np.maximum(d_plus, d_minus), np.inf)


def ks_exponential(times, escaped=None, tau: float | None = None, cap: float | None = None, *,
                   n_boot: int = 0, rng: np.random.Generator | int | None = None) -> KSResult:
    """Kolmogorov-Smirnov test that escape times are exponential.

    Parameters
    ----------
    times, escaped : see :func:`exponential_mle`.
    tau : float, optional
        Mean of the hypothesised law. Default: estimated by :func:`exponential_mle` from the same
        data (then use ``n_boot`` for a correct p-value).
    cap : float, optional
        Common censoring time. Default: the censored paths' time if there are any (they must all
        be equal), else none. Censoring at different times is not supported (InputError).
    n_boot : int
        With tau estimated: number of parametric-bootstrap samples (same n, same cap, tau re-estimated
        each time) for the p-value; 0 gives the plain KS p-value, which is conservative.
    rng : Generator | int | None
        Random stream of the bootstrap.

    Returns
    -------
    KSResult

    Notes
    -----
    Censoring at a common cap c: conditional on escape before c the escape times are iid with CDF
    ``(1 - exp(-t/tau)) / (1 - exp(-c/tau))``, so the KS test applies to them (exactly, for a given
    tau). Escape times of a diffusion are exponential only after the relaxation time inside the
    well, so a rejection at large n can be physics, not a bug.
    """
    t, e = _times_events(times, escaped)
    n_boot = check_int("n_boot", n_boot, minimum=0)
    x = np.sort(t[e])
    if x.size == 0:
        raise InputError("ks_exponential needs at least one escaped path")
    cens = t[~e]
    if cap is None and cens.size:
        cap = float(cens.max())
        if np.any(np.abs(cens - cap) > 1e-12 * max(cap, 1.0)):
            raise InputError("ks_exponential supports censoring at one common cap only; censored times differ "
                             f"({cens.min():g} .. {cens.max():g})")
    if cap is not None:
        cap = check_positive("cap", cap)
        if x[-1] > cap * (1 + 1e-12) or np.any(np.abs(cens - cap) > 1e-12 * max(cap, 1.0)):
            raise InputError(f"all escape times must be <= cap and all censored times == cap ({cap:g})")
    estimated = tau is None
    if estimated:
        tau = exponential_mle(t, e).mean
    else:
        tau = check_positive("tau", tau)
    D = _ks_stat(x, tau, cap)
    seed = None
    if not estimated:
        p, method = float(stats.kstwo.sf(D, x.size)), "exact"
    elif n_boot == 0:
        p, method = float(stats.kstwo.sf(D, x.size)), "conservative"
    else:
        gen, seed = check_rng(rng)
        count = int(np.sum(_ks_stat_boot(gen, t.size, tau, cap, n_boot) >= D))
        p, method = (count + 1) / (n_boot + 1), "bootstrap"
    return KSResult(statistic=D, pvalue=p, n_used=int(x.size), tau=float(tau), tau_estimated=estimated,
                    cap=cap, method=method, n_boot=n_boot, seed=seed)


# --------------------------------------------------------------------------- Arrhenius
def log_sigma_from_ci(ci_low, ci_high, confidence: float = 0.95) -> np.ndarray:
    """Delta-method standard error of ``ln tau`` from a confidence interval ``(ci_low, ci_high)``.

    ``sigma = (ln ci_high - ln ci_low) / (2 z)`` with ``z`` the normal quantile of the two-sided
    ``confidence`` (the interval of ``ln tau`` is close to symmetric once there are a few tens of
    escapes; for d escapes ``sigma ~ 1 / sqrt(d)``). Shapes are broadcast; returns float64 array.
    """
    c = _check_confidence(confidence)
    lo, hi = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    if np.any(~np.isfinite(lo)) or np.any(~np.isfinite(hi)) or np.any(lo <= 0) or np.any(hi <= lo):
        raise InputError("confidence intervals must be finite with 0 < ci_low < ci_high (no zero-escape points)")
    z = float(special.ndtri(0.5 + c / 2))
    return (np.log(hi) - np.log(lo)) / (2 * z)


@dataclass(frozen=True)
class ArrheniusFit:
    """``ln tau = intercept + slope * x`` by (weighted) least squares.

    With ``x = 1/T`` the slope is the effective barrier dE_eff and ``tau0 = exp(intercept)`` the
    prefactor; with ``x = B / lr`` the slope is ``2 dE_eff / c``.

    Attributes
    ----------
    slope, slope_se, slope_ci : float, float, (float, float)
    intercept, intercept_se, intercept_ci : same for the intercept.
    tau0 : float
        ``exp(intercept)``.
    r_squared : float
        Weighted coefficient of determination (1 on exact data).
    chi2 : float
        Weighted residual sum of squares (a chi-square with ``dof`` when ``sigma_log`` is absolute).
    n, dof : int
        Number of points and ``n - 2``.
    weighted : bool
    absolute_sigma : bool
        True: covariance ``(X^T W X)^-1`` with normal quantiles. False: scaled by ``chi2 / dof``
        with Student-t quantiles (``dof``).
    confidence : float
    """

    slope: float
    slope_se: float
    slope_ci: tuple[float, float]
    intercept: float
    intercept_se: float
    intercept_ci: tuple[float, float]
    tau0: float
    r_squared: float
    chi2: float
    n: int
    dof: int
    weighted: bool
    absolute_sigma: bool
    confidence: float

    def predict(self, x) -> np.ndarray:
        """``tau`` predicted at ``x``."""
        return np.exp(self.intercept + self.slope * np.asarray(x, dtype=float))

    def to_dict(self) -> dict:
        return _jsonable(asdict(self))


def arrhenius_fit(x, tau, sigma_log=None, *, confidence: float = 0.95,
                  absolute_sigma: bool = False) -> ArrheniusFit:
    """Fit ``ln tau = a + s x`` by weighted least squares.

    Parameters
    ----------
    x : array_like, shape (n,)
        Abscissa: ``1/T``, or ``B / lr`` for SGD (T = lr c / 2B), at least two distinct values.
    tau : array_like, shape (n,)
        Mean escape times (finite, > 0; drop zero-escape points or fit them separately).
    sigma_log : array_like, shape (n,), optional
        Standard errors of ``ln tau`` (e.g. :func:`log_sigma_from_ci`); weights ``1 / sigma^2``.
        Default: unweighted.
    confidence : float
        Coverage of the slope and intercept intervals.
    absolute_sigma : bool
        Treat ``sigma_log`` as absolute (as scipy's curve_fit); otherwise the covariance is
        rescaled by the reduced chi-square (which also absorbs misfit).

    Returns
    -------
    ArrheniusFit

    Raises
    ------
    InputError
        Fewer than 3 points (no error estimate), non-positive tau, or constant x.

    Examples
    --------
    >>> fit = arrhenius_fit([10, 20, 30], np.exp([1.0 + 0.5 * 10, 1.0 + 0.5 * 20, 1.0 + 0.5 * 30]))
    >>> round(fit.slope, 12), round(fit.intercept, 12), fit.r_squared
    (0.5, 1.0, 1.0)
    """
    xs = np.asarray(x, dtype=float)
    ts = np.asarray(tau, dtype=float)
    if xs.ndim != 1 or ts.shape != xs.shape:
        raise InputError(f"x and tau must be 1-D arrays of one length, got shapes {xs.shape}, {ts.shape}")
    if xs.size < 3:
        raise InputError(f"arrhenius_fit needs at least 3 points, got {xs.size}")
    if not np.all(np.isfinite(xs)):
        raise InputError("x must be finite")
    if not np.all(np.isfinite(ts)) or np.any(ts <= 0):
        raise InputError(f"tau must be finite and > 0, got {np.array2string(ts, threshold=8)}")
    if np.ptp(xs) == 0:
        raise InputError("x must take at least two distinct values")
    c = _check_confidence(confidence)
    y = np.log(ts)
    weighted = sigma_log is not None
    if weighted:
        sig = np.asarray(sigma_log, dtype=float)
        if sig.shape != xs.shape or not np.all(np.isfinite(sig)) or np.any(sig <= 0):
            raise InputError("sigma_log must be finite, > 0 and of the shape of x")
        w = 1.0 / sig**2
    else:
        w = np.ones_like(xs)
    n = xs.size
    dof = n - 2
    X = np.column_stack([np.ones(n), xs])
    A = X.T @ (w[:, None] * X)
    cov = np.linalg.inv(A)
    beta = cov @ (X.T @ (w * y))
    resid = y - X @ beta
    chi2 = float(np.sum(w * resid**2))
    ybar = float(np.sum(w * y) / np.sum(w))
    ss_tot = float(np.sum(w * (y - ybar) ** 2))
    r2 = 1.0 - chi2 / ss_tot if ss_tot > 0 else 1.0
    absolute = bool(absolute_sigma) and weighted
    if absolute:
        q = float(special.ndtri(0.5 + c / 2))
    else:
        cov = cov * (chi2 / dof)
        q = float(special.stdtrit(dof, 0.5 + c / 2))
    se = np.sqrt(np.diag(cov))
    a, s = float(beta[0]), float(beta[1])
    return ArrheniusFit(
        slope=s, slope_se=float(se[1]), slope_ci=(s - q * se[1], s + q * se[1]),
        intercept=a, intercept_se=float(se[0]), intercept_ci=(a - q * se[0], a + q * se[0]),
        tau0=math.exp(a), r_squared=r2, chi2=chi2, n=n, dof=dof, weighted=weighted,
        absolute_sigma=absolute, confidence=c,
    )


# --------------------------------------------------------------------------- median with order-statistic CI
def median_ci(epochs: list, confidence: float = 0.95) -> dict:
    """Median escape epoch with a distribution-free confidence interval (binomial order statistics).

    Censored runs (None) count as later than every escape; the median or an end of the interval that
    falls on a censored run is None. For escapes that are not a Poisson process (a deterministic
    descent), where the exponential MLE (:func:`exponential_mle`) does not apply."""
    from scipy.stats import binom

    n = len(epochs)
    t = np.sort(np.array([math.inf if e is None else e for e in epochs], dtype=float))
    a = (1.0 - confidence) / 2
    lo = int(binom.ppf(a, n, 0.5))  # order-statistic indices (0-based) with coverage >= confidence
    hi = min(n - 1, int(binom.isf(a, n, 0.5)))
    lo = max(0, lo - 1) if binom.cdf(lo, n, 0.5) > a else lo

    def val(x):
        return None if not math.isfinite(x) else float(x)

    return {"median": val(float(np.median(t))) if n else None, "ci_low": val(t[lo]), "ci_high": val(t[hi]),
            "n": n, "n_censored": int(sum(e is None for e in epochs)), "confidence": confidence}
