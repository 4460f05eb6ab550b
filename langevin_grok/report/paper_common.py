"""What the paper-figure modules share: the paper's network and data, seed streams, and claim helpers.

Every paper figure is three steps that its registered function composes: ``<fig>_compute(cfg, seed=...)``
runs the protocol and returns a :class:`FigureData` (numbers only: no matplotlib, no prose), ``<fig>_draw(cfg,
data)`` returns the matplotlib figure, and ``<fig>_claims(cfg, numbers, ...)`` returns the reproduction rows and
the caption from the numbers alone. Every interval a figure draws is the one its rows quote (95 %
likelihood-ratio intervals of the censored exponential MLE for escape times, 95 % confidence intervals for
fitted slopes) and is labelled with its coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .reproduction import CONTRADICTED, NOT_REPRODUCED, PAPER_CLAIMS, Claim, judge

__all__ = ["DEPTH", "WIDTH", "SV", "FigureData"]

# The paper's network and data (docs/theory.md, "The seed paper").
DEPTH, WIDTH, SV = 3, 10, (0.9, 0.8)


def _ss(seed: int, k: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(int(seed), spawn_key=(k,))


def _fmt_tau(m: dict, unit: str = "epochs") -> str:
    if m["n_events"] == 0:
        return (f"no escape in {m['n_paths']} runs (all censored at {m['total_time'] / m['n_paths']:.4g} {unit}); "
                f"tau > {m['ci_low']:.3g} {unit} (95 % LR lower bound, exponential law)")
    return (f"tau = {m['mean']:.3g} {unit} (95 % CI {m['ci_low']:.3g}..{m['ci_high'] or math.inf:.3g}; "
            f"{m['n_events']} escapes, {m['n_censored']} censored)")


def _tau_status(m: dict, paper_lo: float, paper_hi: float) -> str:
    """judge() for a censoring-aware tau: with no escape a finite-time claim is never 'reproduced';
    it is 'contradicted' only if the lower bound already exceeds the paper's range."""
    if m["n_events"] == 0:
        return CONTRADICTED if m["ci_low"] > paper_hi else NOT_REPRODUCED
    hi = m["ci_high"] if m["ci_high"] is not None else math.inf
    return judge(paper_lo, paper_hi, m["ci_low"], hi)


def _claim(key: str, **kw) -> Claim:
    pc = PAPER_CLAIMS[key]
    return Claim(key=key, claim=pc.claim, paper=pc.paper_value, **kw)


@dataclass(frozen=True)
class FigureData:
    """What a paper figure's compute step returns, for its draw and claims steps.

    Attributes
    ----------
    numbers : the record's numbers (JSON-able; the claims and caption are made from these alone).
    arrays : the arrays only the drawing needs (curves over epochs or beta; not written to the record).
    """

    numbers: dict
    arrays: dict = field(default_factory=dict)
