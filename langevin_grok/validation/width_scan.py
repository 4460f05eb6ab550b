"""Width scan: how hidden-layer symmetry entropy erodes the escape barrier (issue 10, docs/theory.md section 1).

One mode (p = 1, eta, beta) at fixed dE/T of the 1-D barrier, forward escape from the trivial state, for
several hidden widths w: weight-space Langevin (engine, singular-value event) against the entropic MFPT, the
orbit Eyring-Kramers formula and the 1-D exact MFPT (which does not depend on w). w = 1 is the scalar chain.
Numbers only; the figure is :mod:`langevin_grok.report.figure_width`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._core.seeds import child_seed
from .results import CONFIDENCE, compare_time

__all__ = ["WidthScanConfig", "WIDTH_SCAN_PRESETS", "width_scan"]


@dataclass(frozen=True)
class WidthScanConfig:
    """Settings of :func:`width_scan` (``cap_factor`` x the largest prediction caps each path, at most
    ``max_time``)."""

    depth: int = 3
    sv: float = 0.8
    beta: float = 0.3
    barrier_over_t: float = 8.0
    widths: tuple = (1, 2, 3, 5, 10)
    n_paths: int = 64
    dt: float = 0.01
    cap_factor: float = 30.0
    max_time: float = 2e5


WIDTH_SCAN_PRESETS = {
    "full": WidthScanConfig(n_paths=200),
    "quick": WidthScanConfig(barrier_over_t=6.0, n_paths=48),
    "tiny": WidthScanConfig(widths=(2, 3), n_paths=6, barrier_over_t=4.0),
}


def _one_width(cfg: WidthScanConfig, w: int, T: float, seed: int, progress: bool) -> dict:
    from ..landscape.network import DeepLinearNetwork
    from ..theory.quadrature import exact_mfpt_1d
    from ..theory.network_prediction import network_escape_prediction
    from ..theory.stats import exponential_mle
    from .row_network import network_ensemble

    pr = network_escape_prediction(cfg.depth, w, [cfg.sv], cfg.beta, T, start=("trivial",))
    ref = exact_mfpt_1d(cfg.depth, cfg.sv, cfg.beta, T, "forward").tau
    preds = {"entropic_mfpt": (pr.entropic_mfpt, pr.entropic_mfpt_status),
             "eyring_kramers": (pr.eyring_kramers, pr.eyring_kramers_status), "exact_mfpt_1d": (ref, "reference")}
    cap = min(cfg.max_time, cfg.cap_factor * max(v for v, _ in preds.values() if v is not None))
    net = DeepLinearNetwork.from_singular_values(cfg.depth, w, 1, [cfg.sv], cfg.beta)
    sim = network_ensemble(net, T, cfg.n_paths, cfg.dt, cap, seed, start_modes=("trivial",), escape_mode=0,
                           progress=progress)
    est = exponential_mle(np.array(sim["times"]), np.array(sim["escaped"], dtype=bool), confidence=CONFIDENCE)
    return {"width": w, "seed": seed, "measured": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high,
            "n_escaped": est.n_events, "n_paths": cfg.n_paths, "cap_time": sim["cap_time"],
            "path_steps": sim["path_steps"], "zero_modes_start": pr.zero_modes_start,
            "zero_modes_saddle": pr.zero_modes_saddle, "free_energy_barrier": pr.free_energy_barrier,
            "crossover_temperature": pr.crossover_temperature,
            "predictions": {m: {"value": v, "status": st, **compare_time(v, est)} for m, (v, st) in preds.items()}}


def width_scan(cfg: WidthScanConfig, seed: int, progress: bool = False) -> dict:
    """Simulation and theories at each width of ``cfg`` (SDE time). Returns a JSON-ready dict."""
    from ..landscape.escape import escape_target

    tgt = escape_target(cfg.depth, cfg.sv, cfg.beta, "forward")
    T = tgt.barrier / cfg.barrier_over_t
    points = [_one_width(cfg, w, T, child_seed(seed, 7, w), progress) for w in cfg.widths]
    return {"config": asdict(cfg), "temperature": T, "barrier_1d": tgt.barrier, "points": points}
