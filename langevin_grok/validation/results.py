"""Typed results of the validation layer and the statistics of one comparison (numbers only, no English).

A :class:`RowResult` holds what one comparison computed: codes (``id``, ``dynamics``, ``verdict``), the
settings actually used, the per-point numbers and the per-path data for figures. The report layer
(:mod:`langevin_grok.report.validation`) turns it into tables, text and figures.

Statistics: mean escape times are censoring-aware exponential MLEs with likelihood-ratio 95 % intervals
(:func:`langevin_grok.theory.stats.exponential_mle`). A point agrees when the prediction lies inside the
interval; the distance is ``k`` half-widths in ln tau (``k <= 1`` inside). A row with several points is
judged by ``X^2 = sum z_i^2``, ``z_i = ln(tau_hat_i / tau_pred_i) / sigma_i`` (``sigma_i`` from the interval),
chi-square with one degree of freedom per point; the row agrees when ``P(chi2 >= X^2) >= ROW_ALPHA``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from .._core.errors import Verdict
from .._core.jsonable import jsonable
from .config import ValidationConfig

__all__ = ["ROW_ALPHA", "CONFIDENCE", "RowResult", "ValidationReport", "compare_time", "combine_points",
           "combined_verdict", "time_point"]

# Agreement level of a row with several points (combined chi-square p-value).
ROW_ALPHA = 0.05
CONFIDENCE = 0.95


@dataclass(frozen=True)
class RowResult:
    """One comparison (one row of the table).

    Attributes
    ----------
    id : str
        Stable row id (``config.ROW_IDS``), e.g. ``"arc_1d"``.
    row : int
        Position 1..6 in the table.
    dynamics : str
        Code of the dynamics that produced the measured numbers (``"langevin_arc"``, ``"sgd_shuffled"``, ...).
    parameters : dict
        Physical and numerical settings actually used.
    prediction : dict
        Row-level headline prediction: ``{"method", "value", "unit", "available", ...}``.
    measurement : dict
        Row-level headline measurement: ``{"quantity", "value", "ci_low", "ci_high", "unit", ...}``.
    ratio : float or None
        measurement / prediction (or / reference, for rows without a prediction).
    verdict : Verdict
    points : list of dict
        Per-temperature (per-setting) numbers; every point has ``dE_over_T``, ``prediction``, ``measured``,
        ``ci_low``, ``ci_high`` and ``noise_model``.
    seeds : list of int
        Integer seeds of every ensemble of the row.
    n_seeds : int
        Number of independent paths/replicas in total.
    steps : int
        Total integration steps (Euler-Maruyama path steps or SGD replica steps).
    wall_seconds : float
    data : dict
        Per-path arrays for the figures (escape/censoring times and flags), JSON lists.
    """

    id: str
    row: int
    dynamics: str
    parameters: dict
    prediction: dict
    measurement: dict
    ratio: float | None
    verdict: Verdict
    points: list
    seeds: list
    n_seeds: int
    steps: int
    wall_seconds: float
    data: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "verdict", Verdict(self.verdict))

    def to_dict(self, data: bool = True) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        if not data:
            d.pop("data")
        return jsonable(d)


@dataclass(frozen=True)
class ValidationReport:
    """All rows of one run, with provenance."""

    config: ValidationConfig
    rows: tuple
    out_dir: str | None
    wall_seconds: float
    command: str
    environment: dict
    started: str
    reused_rows: tuple = ()
    figures: tuple = ()

    def to_dict(self) -> dict:
        return jsonable({
            "command": self.command, "mode": self.config.mode, "seed": self.config.seed,
            "started": self.started, "wall_seconds": self.wall_seconds, "out_dir": self.out_dir,
            "environment": self.environment, "config": self.config.to_dict(),
            "reused_rows": list(self.reused_rows), "figures": list(self.figures),
            "rows": [r.to_dict(data=False) for r in self.rows],
        })


def compare_time(pred: float, est, pred_log_sigma: float | None = None) -> dict:
    """Compare a predicted mean time with an :class:`~langevin_grok.theory.stats.EscapeTimeEstimate`.

    Returns ``ratio`` (measured / predicted), ``within`` (prediction inside the interval),
    ``half_widths`` (``|ln(pred / tau_hat)|`` over the half-width of the interval in ln tau on the
    prediction's side; <= 1 inside) and ``z`` (``ln(tau_hat / pred) / sigma``, ``sigma`` the
    delta-method standard error of ln tau from the interval), ``None`` where undefined. A prediction with its
    own statistical error (a Monte Carlo estimate; ``pred_log_sigma``, the standard error of its ln) widens both:
    ``sigma`` becomes ``sqrt(sigma^2 + pred_log_sigma^2)`` and ``within`` means ``|z|`` below the interval's
    normal quantile, ``half_widths = |z|`` over that quantile.
    """
    from scipy import stats as sps

    from ..theory.stats import log_sigma_from_ci

    out = {"ratio": None, "within": None, "half_widths": None, "z": None}
    if pred is None or not (math.isfinite(pred) and pred > 0):
        return out
    lo, hi, m = est.ci_low, est.ci_high, est.mean
    out["within"] = bool(lo <= pred <= hi)
    if not math.isfinite(m):
        return out  # no escapes: only a lower bound
    out["ratio"] = m / pred
    d = math.log(pred / m)
    side = math.log(hi / m) if d > 0 else math.log(m / lo)
    out["half_widths"] = abs(d) / side if side > 0 else None
    if math.isfinite(hi) and lo > 0:
        sigma = float(log_sigma_from_ci(lo, hi, est.confidence))
        if pred_log_sigma is not None and math.isfinite(pred_log_sigma):
            sigma = math.hypot(sigma, pred_log_sigma)
            q = float(sps.norm.ppf(0.5 + est.confidence / 2))
            out["within"] = bool(abs(d) / sigma <= q)
            out["half_widths"] = abs(d) / sigma / q
        out["z"] = -d / sigma
    return out


def combine_points(points: list, key: str = "z") -> dict:
    """Combined chi-square of the per-point ``z`` values: ``{"chi2", "dof", "pvalue", "agrees"}``."""
    from scipy import stats as sps

    zs = [p[key] for p in points if p.get(key) is not None]
    if not zs:
        return {"chi2": None, "dof": 0, "pvalue": None, "agrees": None}
    chi2 = float(np.sum(np.square(zs)))
    pval = float(sps.chi2.sf(chi2, len(zs)))
    return {"chi2": chi2, "dof": len(zs), "pvalue": pval, "agrees": bool(pval >= ROW_ALPHA)}


def combined_verdict(comb: dict) -> Verdict:
    """The verdict of a combined chi-square (``no_data`` when no point had a usable interval)."""
    if comb["agrees"] is None:
        return Verdict.NO_DATA
    return Verdict.AGREES if comb["agrees"] else Verdict.DISAGREES


def time_point(dE_over_T: float, prediction, est, noise_model: str, **extra) -> dict:
    """The common keys of one escape-time point (``measured`` is the censored MLE of the mean)."""
    out = {"dE_over_T": float(dE_over_T), "prediction": prediction, "measured": est.mean, "mean": est.mean,
           "ci_low": est.ci_low, "ci_high": est.ci_high, "n_escaped": est.n_events, "n_censored": est.n_censored,
           "noise_model": noise_model}
    out.update(extra)
    return out
