"""The main job: escape-time predictions beside simulations, with statistics and a verdict per row.

:func:`run_validation` runs five comparisons and returns a :class:`ValidationReport`; the command
``langevin-grok validate`` (:mod:`langevin_grok.cli.validate`) prints its table and writes
``report.md``, ``results.json`` and figures.

Rows
----
1. 1-D reduced model (arc length r, Langevin engine): exact MFPT (quadrature) and 1-D Kramers
   against simulation at several temperatures.
2. Scalar chain (w = p = 1) in its L-dimensional weight space (Langevin engine): Eyring-Kramers with
   its saddle count against simulation.
3. The seed paper's network (L = 3, w = 10, p = 2) with isotropic injected noise of temperature T
   (Langevin engine on the population loss) escaping the rank-1 trap: Eyring-Kramers refuses (zero
   modes), so there is no prediction; the 1-D exact MFPT is shown as a labelled reference.
4. The same network under plain mini-batch SGD (data noise only) on a finite, whitened training
   set, reverse transition (learned -> trivial) of the second mode: Arrhenius fit of ln tau against
   1 / T_eff, T_eff from the measured gradient noise along the escape direction; fitted barrier
   against the landscape's reverse barrier. The escape event is the package's one definition
   (:func:`langevin_grok.landscape.escape.escape_target`, lambda_2 < lambda_sad / 2) read on the empirical singular
   vectors. The measured noise along the escape path is always reported; with ``--full`` (or
   ``SGDReverseSettings.diagnose``) three cause-separating runs follow (SGLD at the same T_eff, lr -> 0 at
   fixed lr/B, batches with replacement), each labelled with its dynamics.
5. Plain SGD from the exact rank-1 trap (second mode exactly zero): measured escape-direction noise
   (exactly zero: absorbing) and the observed number of escapes.

Statistics
----------
Mean escape times are censoring-aware exponential MLEs with likelihood-ratio 95 % intervals
(:func:`langevin_grok.theory.stats.exponential_mle`). A point agrees when the prediction lies inside the
interval; the distance is reported as ``k`` half-widths in ln tau (``k <= 1`` inside). A row with
several points is judged by the combined statistic ``X^2 = sum z_i^2`` with
``z_i = ln(tau_hat_i / tau_pred_i) / sigma_i`` (``sigma_i`` from the interval), chi-square with one
degree of freedom per point; the row agrees when ``P(chi2 >= X^2) >= 0.05``.

Nothing here is tuned to make a row agree: settings come from the presets below (chosen by run-time
budget), and whatever comes out is reported.

Persistence
-----------
Each finished row is written at once to ``OUT/rows/rowN.json`` (atomic rename), with a hash of its
settings; a rerun with the same ``OUT`` reuses rows whose hash matches (``resume=False`` recomputes).
While a row runs, each finished ensemble (one temperature or batch size) goes to ``OUT/rows/rowN.parts/``,
so an interrupted row resumes at its first unfinished ensemble; the parts are removed once the row is
written.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import __version__
from .._core.checks import InputError, check_choice, check_int
from .._core.jsonable import jsonable

__all__ = [
    "MODES",
    "ROW_TITLES",
    "ArcSettings",
    "ChainSettings",
    "NetworkSettings",
    "SGDReverseSettings",
    "SGDTrapSettings",
    "ValidationConfig",
    "RowResult",
    "ValidationReport",
    "validation_config",
    "run_validation",
    "compare_time",
    "combine_points",
    "format_table",
    "render_report",
    "write_outputs",
    "make_figures",
    "default_out_dir",
    "check_out_dir",
]

MODES = ("test", "quick", "default", "full")
ROW_TITLES = {
    1: "1-D reduced model: exact MFPT and Kramers vs Langevin",
    2: "scalar chain in weight space: Eyring-Kramers vs Langevin",
    3: "paper network (w=10, p=2), injected noise: escape from the rank-1 trap",
    4: "paper network, plain SGD, reverse transition: Arrhenius barrier",
    5: "paper network, plain SGD, forward from the exact rank-1 trap",
}
# Agreement level of a row with several points (combined chi-square p-value).
ROW_ALPHA = 0.05
CONFIDENCE = 0.95


# --------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ArcSettings:
    """Row 1: 1-D arc model. ``barrier_over_t``: the dE/T values; paths per temperature
    ``clip(step_budget / (tau_exact / dt), min_paths, max_paths)``; cap ``cap_factor * tau_exact``."""

    depth: int = 3
    sv: float = 0.8
    beta: float = 0.32
    direction: str = "forward"
    barrier_over_t: tuple = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
    dt: float = 0.02
    max_paths: int = 400
    min_paths: int = 50
    step_budget: float = 1e8
    cap_factor: float = 20.0


@dataclass(frozen=True)
class ChainSettings(ArcSettings):
    """Row 2: scalar chain (width = dim = 1) in weight space; the fields and sizing rules of
    :class:`ArcSettings` with the Eyring-Kramers time in place of the exact MFPT."""

    barrier_over_t: tuple = (5.0, 6.0, 7.0)
    min_paths: int = 100
    step_budget: float = 6e7


@dataclass(frozen=True)
class NetworkSettings:
    """Row 3: the paper's network on the population loss, Langevin with isotropic noise T.

    Start: the rank-1 trap (mode 0 learned, mode 1 trivial, canonical frame). Event: the end-to-end
    value of mode 1, ``u_1^T W v_1``, rises through the 1-D forward target. T from ``barrier_over_t``
    with the 1-D forward barrier of mode 1. Cap: ``max_time`` (SDE time) per path.
    """

    depth: int = 3
    width: int = 10
    dim: int = 2
    sv: tuple = (0.9, 0.8)
    beta: float = 0.32
    barrier_over_t: tuple = (4.0, 6.0, 8.0)
    n_paths: int = 64
    dt: float = 0.02
    max_time: float = 2000.0


@dataclass(frozen=True)
class SGDReverseSettings:
    """Row 4: plain mini-batch SGD, reverse escape of mode 1 (learned -> trivial).

    Data: ``n_train`` samples with ``sv``, training inputs whitened (``X^T X / N = I`` exactly, so the
    full-batch loss is exactly the per-mode landscape with the empirical singular values).
    ``beta``: the midpoint between beta* and beta_c of the empirical mode-1 singular value.
    One learning rate ``lr`` and a ladder of batch sizes ``batches`` (the Arrhenius sweep in B/lr);
    T_eff = lr c_e (N-B)/(N-1) / (2B) with c_e the measured noise along the escape direction at the
    start. Each point runs ``replicas`` replicas for ``max_time`` SDE time (epochs rounded up).
    ``lr`` and ``batches`` were chosen from a pilot run so that escapes happen within the run length
    (plain-SGD escapes are far slower than T_eff and the landscape barrier suggest), not from the
    prediction and not to make the row agree.

    ``diagnose``: also run the cause-separating diagnostics of :func:`_row4_diagnostics` (on in
    ``"full"``; about 2-3 extra minutes on 2 cores): (a) full-batch gradient + isotropic injected noise
    at the same T_eff values, (b) lr halved twice at fixed lr/B, (d) batches with replacement. The
    noise along the escape path (c) is measured in every mode.
    """

    depth: int = 3
    width: int = 10
    sv: tuple = (0.9, 0.8)
    n_train: int = 512
    n_test: int = 512
    lr: float = 0.3
    batches: tuple = (12, 14, 16, 18)
    replicas: int = 64
    max_time: float = 3000.0
    diagnose: bool = False


@dataclass(frozen=True)
class SGDTrapSettings:
    """Row 5: plain SGD from the exact rank-1 trap on the data set and beta of row 4.

    ``lr``, ``batch``: the seed paper's Fig. 1(a) values; ``epochs`` run length.
    """

    lr: float = 0.08
    batch: int = 64
    replicas: int = 32
    epochs: int = 2000


@dataclass(frozen=True)
class ValidationConfig:
    """All settings of one validation run (see :func:`validation_config` for the presets)."""

    mode: str
    seed: int
    arc: ArcSettings = field(default_factory=ArcSettings)
    chain: ChainSettings = field(default_factory=ChainSettings)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    sgd_reverse: SGDReverseSettings = field(default_factory=SGDReverseSettings)
    sgd_trap: SGDTrapSettings = field(default_factory=SGDTrapSettings)

    def to_dict(self) -> dict:
        return asdict(self)

    def row_settings(self, row: int) -> dict:
        """The settings one row depends on (rows 4 and 5 share the data set and beta)."""
        if row == 1:
            return asdict(self.arc)
        if row == 2:
            return asdict(self.chain)
        if row == 3:
            return asdict(self.network)
        if row == 4:
            return asdict(self.sgd_reverse)
        return {"data": asdict(self.sgd_reverse), "trap": asdict(self.sgd_trap)}


def validation_config(mode: str = "default", seed: int = 0) -> ValidationConfig:
    """Preset settings.

    ``"default"``: a few minutes on 2 cores; ``"quick"``: under a minute; ``"full"``: more
    temperatures, paths and a smaller time step (publication grade; about an hour on 2 cores, an
    estimate from the per-step costs of the default run, not measured);
    ``"test"``: the smallest configuration the test suite runs (seconds).
    """
    mode = check_choice("mode", mode, MODES)
    seed = check_int("seed", seed, minimum=0)
    if mode == "default":
        return ValidationConfig(mode, seed)
    if mode == "quick":
        return ValidationConfig(
            mode, seed,
            arc=ArcSettings(barrier_over_t=(3.0, 4.0, 5.0), max_paths=200, min_paths=100, step_budget=4e7),
            chain=ChainSettings(barrier_over_t=(5.0,), max_paths=200, min_paths=100, step_budget=4e7),
            network=NetworkSettings(barrier_over_t=(4.0,), n_paths=24, max_time=500.0),
            sgd_reverse=SGDReverseSettings(batches=(12, 14, 16), replicas=32, max_time=800.0),
            sgd_trap=SGDTrapSettings(replicas=16, epochs=300),
        )
    if mode == "test":
        return ValidationConfig(
            mode, seed,
            arc=ArcSettings(barrier_over_t=(3.0, 4.0), max_paths=200, min_paths=200, step_budget=1e12),
            chain=ChainSettings(barrier_over_t=(5.0,), max_paths=200, min_paths=200, step_budget=1e12),
            network=NetworkSettings(barrier_over_t=(4.0,), n_paths=8, max_time=100.0),
            sgd_reverse=SGDReverseSettings(batches=(10, 12, 14), replicas=16, max_time=300.0),
            sgd_trap=SGDTrapSettings(replicas=4, epochs=20),
        )
    return ValidationConfig(
        mode, seed,
        arc=ArcSettings(barrier_over_t=(3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), dt=0.01, max_paths=1000,
                        min_paths=100, step_budget=1e9),
        chain=ChainSettings(barrier_over_t=(5.0, 6.0, 7.0, 8.0), dt=0.01, max_paths=1000, min_paths=200,
                            step_budget=1e9),
        network=NetworkSettings(barrier_over_t=(4.0, 6.0, 8.0, 10.0), n_paths=200, dt=0.01, max_time=5000.0),
        sgd_reverse=SGDReverseSettings(batches=(12, 13, 14, 15, 16, 17, 18, 19, 20), replicas=128,
                                       max_time=10000.0, diagnose=True),
        sgd_trap=SGDTrapSettings(replicas=64, epochs=20000),
    )


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class RowResult:
    """One comparison (one row of the table).

    Attributes
    ----------
    row : int
        1..5.
    title, dynamics : str
        What is compared, and which dynamics produced the measured numbers.
    parameters : dict
        Physical and numerical settings actually used.
    prediction : dict
        ``{"label", "value", "unit", "available", "note"}`` (row-level headline prediction).
    measurement : dict
        ``{"label", "value", "ci_low", "ci_high", "unit"}`` (row-level headline measurement).
    ratio : float or None
        measurement / prediction (or / reference, for rows without a prediction).
    verdict : str
        ``"agrees"``, ``"disagrees"``, ``"inconclusive"`` (row 4: the interval also holds a zero
        barrier), ``"no prediction"`` or ``"no data"``.
    verdict_text : str
        One sentence: by how much.
    points : list of dict
        Per-temperature (per-setting) numbers.
    seeds : list of int
        Integer seeds of every ensemble of the row.
    n_seeds : int
        Number of independent paths/replicas in total.
    steps : int
        Total integration steps (Euler-Maruyama path steps or SGD replica steps).
    wall_seconds : float
    paragraph : str
        What was run, the numbers and the verdict, in words (for report.md).
    data : dict
        Per-path arrays for the figures (escape/censoring times and flags), JSON lists.
    """

    row: int
    title: str
    dynamics: str
    parameters: dict
    prediction: dict
    measurement: dict
    ratio: float | None
    verdict: str
    verdict_text: str
    points: list
    seeds: list
    n_seeds: int
    steps: int
    wall_seconds: float
    paragraph: str
    data: dict = field(default_factory=dict, repr=False)

    def to_dict(self, data: bool = True) -> dict:
        d = asdict(self)
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
            "table": table_rows(self),
            "rows": [r.to_dict(data=False) for r in self.rows],
        })


# --------------------------------------------------------------------------- statistics of a comparison
def compare_time(pred: float, est) -> dict:
    """Compare a predicted mean time with an :class:`~langevin_grok.theory.stats.EscapeTimeEstimate`.

    Returns ``ratio`` (measured / predicted), ``within`` (prediction inside the interval),
    ``half_widths`` (``|ln(pred / tau_hat)|`` over the half-width of the interval in ln tau on the
    prediction's side; <= 1 inside) and ``z`` (``ln(tau_hat / pred) / sigma``, ``sigma`` the
    delta-method standard error of ln tau from the interval), ``None`` where undefined.
    """
    from ..theory.stats import log_sigma_from_ci

    out = {"ratio": None, "within": None, "half_widths": None, "z": None}
    if not (math.isfinite(pred) and pred > 0):
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


def _fmt(x, digits: int = 4) -> str:
    if x is None:
        return "-"
    x = float(x)
    if not math.isfinite(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 1e-3):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def _seed_for(root: int, *path: int) -> int:
    """Integer seed of one ensemble: a deterministic child of ``root`` (independent streams per path)."""
    return int(np.random.SeedSequence([root, *path]).generate_state(1, np.uint64)[0] >> np.uint64(1))


class _PartStore:
    """Finished ensembles of a row that is still running: ``OUT/rows/rowN.parts/pK.json`` (atomic writes),
    keyed by the row's settings hash, so an interrupted long row resumes at its first unfinished point."""

    def __init__(self, folder: Path | None, row_hash: str):
        self.folder, self.hash = folder, row_hash

    def cached(self, key: int, compute) -> dict:
        path = None if self.folder is None else self.folder / f"p{key}.json"
        if path is not None and path.exists():
            try:
                blob = json.loads(path.read_text())
                if blob.get("hash") == self.hash:
                    return blob["value"]
            except (OSError, ValueError):
                pass
        value = jsonable(compute())
        if path is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            _atomic_write(path, json.dumps({"hash": self.hash, "value": value}, allow_nan=False))
        return value


def _ensemble_summary(res, extra=None) -> dict:
    """The parts of an engine :class:`~langevin_grok.langevin.engine.EscapeResult` a row needs (JSON-ready)."""
    out = {"times": res.times.tolist(), "escaped": res.escaped.tolist(), "path_steps": res.path_steps,
           "cap_time": res.cap_time}
    out.update(extra or {})
    return out


def _point_verdict(cmp: dict) -> str:
    if cmp["within"] is None:
        return "-"
    if cmp["within"]:
        return "within CI"
    hw = cmp["half_widths"]
    return f"outside ({_fmt(hw, 3)} half-widths)" if hw is not None else "outside"


# --------------------------------------------------------------------------- rows 1 and 2: 1-D and chain
def _sized_paths(s, tau: float) -> int:
    steps_per_path = max(1.0, tau / s.dt)
    n = int(s.step_budget // steps_per_path)
    return int(min(s.max_paths, max(s.min_paths, n)))


def _row_langevin_small(row: int, s, seed: int, workers, progress, parts: _PartStore | None = None) -> RowResult:
    from ..langevin.engine import simulate_ensemble
    from ..landscape.escape import escape_target
    from ..theory.kramers import exact_mfpt_1d, eyring_kramers_chain, kramers_1d
    from ..langevin.models import arc_model, chain_model
    from ..theory.stats import exponential_mle, ks_exponential

    t0 = time.perf_counter()
    tgt = escape_target(s.depth, s.sv, s.beta, s.direction)
    model = (arc_model if row == 1 else chain_model)(s.depth, s.sv, s.beta)
    points, seeds, data = [], [], {"times": [], "escaped": [], "barrier_over_t": [], "prediction": []}
    n_total = steps = 0
    for k, x in enumerate(s.barrier_over_t):
        T = tgt.barrier / float(x)
        exact = exact_mfpt_1d(s.depth, s.sv, s.beta, T, s.direction)
        kr = kramers_1d(s.depth, s.sv, s.beta, T, s.direction)
        if row == 1:
            pred, pred_name = exact.tau, "exact MFPT (1-D quadrature)"
            extra = {"kramers": kr.tau}
        else:
            ek = eyring_kramers_chain(s.depth, s.sv, s.beta, T, s.direction)
            pred, pred_name = ek.tau, "Eyring-Kramers (weight space)"
            extra = {"n_saddles": ek.n_saddles, "exact_1d": exact.tau, "kramers_1d": kr.tau,
                     "log_det_ratio": ek.log_det_ratio, "mu_1": ek.mu_1}
        n = _sized_paths(s, pred)
        sd = _seed_for(seed, row, k)
        cap = s.cap_factor * pred
        sim = (parts or _PartStore(None, "")).cached(k, lambda: _ensemble_summary(simulate_ensemble(
            model, T, n, s.dt, direction=s.direction, max_time=cap, max_steps=int(math.ceil(cap / s.dt)) + 1,
            seed=sd, n_threads=workers, progress=progress)))
        times, escaped = np.array(sim["times"], dtype=float), np.array(sim["escaped"], dtype=bool)
        est = exponential_mle(times, escaped, confidence=CONFIDENCE)
        ks = ks_exponential(times, escaped, tau=pred) if escaped.any() else None
        cmp = compare_time(pred, est)
        pt = {"barrier_over_t": float(x), "temperature": T, "prediction": pred, "prediction_name": pred_name,
              **extra, "mean": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high,
              "n_paths": n, "n_escaped": est.n_events, "n_censored": est.n_censored,
              "cap_time": sim["cap_time"], "dt": s.dt, "path_steps": sim["path_steps"], "seed": sd,
              "ks_pvalue": None if ks is None else ks.pvalue, **cmp, "verdict": _point_verdict(cmp)}
        if row == 1:
            kc = compare_time(kr.tau, est)
            pt.update(ratio_kramers=kc["ratio"], z_kramers=kc["z"], within_kramers=kc["within"])
        else:
            ec = compare_time(exact.tau, est)
            pt.update(ratio_exact_1d=ec["ratio"], within_exact_1d=ec["within"])
        points.append(pt)
        seeds.append(sd)
        n_total += n
        steps += sim["path_steps"]
        data["times"].append(sim["times"])
        data["escaped"].append(sim["escaped"])
        data["barrier_over_t"].append(float(x))
        data["prediction"].append(pred)
    comb = combine_points(points)
    head = points[-1]  # the coldest point is the headline
    verdict = "agrees" if comb["agrees"] else ("disagrees" if comb["agrees"] is not None else "no data")
    within = sum(1 for p in points if p["within"])
    if row == 1:
        title, dyn = ROW_TITLES[1], "Langevin (engine, Euler-Maruyama + Brownian bridge) on the 1-D arc U(r)"
        kcomb = combine_points(points, "z_kramers")
        pred_label = "exact MFPT"
        extra_text = (" Kramers (asymptotic, error O(T/dE)): ratios measured/Kramers "
                      + ", ".join(_fmt(p["ratio_kramers"], 3) for p in points)
                      + f"; combined chi2 p = {_fmt(kcomb['pvalue'], 3)}.")
    else:
        title, dyn = ROW_TITLES[2], (f"Langevin (engine) in the {s.depth}-dimensional weight space of the scalar "
                                     "chain")
        kcomb = None
        pred_label = f"Eyring-Kramers (n_sad = {points[0]['n_saddles']})"
        extra_text = (" The 1-D reduction (exact MFPT) would predict "
                      + ", ".join(_fmt(p["exact_1d"]) for p in points)
                      + "; measured/1-D ratios " + ", ".join(_fmt(p["ratio_exact_1d"], 3) for p in points)
                      + f" (it misses the {points[0]['n_saddles']} saddles and the transverse curvatures).")
    vt = (f"{within}/{len(points)} points inside their 95% CI; combined chi2 = {_fmt(comb['chi2'], 3)} "
          f"(dof {comb['dof']}), p = {_fmt(comb['pvalue'], 3)}; coldest point ratio {_fmt(head['ratio'], 4)}"
          + (f", {_fmt(head['half_widths'], 3)} half-widths" if head["half_widths"] is not None else ""))
    pts_text = "; ".join(
        f"dE/T = {p['barrier_over_t']:g}: predicted {_fmt(p['prediction'])}, measured {_fmt(p['mean'])} "
        f"[{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}] ({p['n_escaped']}/{p['n_paths']} escaped), ratio "
        f"{_fmt(p['ratio'], 4)}, {p['verdict']}" for p in points)
    paragraph = (
        f"{dyn}; L = {s.depth}, eta = {s.sv:g}, beta = {s.beta:g}, {s.direction} escape (barrier "
        f"{_fmt(tgt.barrier)}), start at lambda = {_fmt(tgt.lambda_start)}, escape when lambda crosses "
        f"{_fmt(tgt.lambda_target)}; dt = {s.dt:g}, cap {s.cap_factor:g} x prediction. Prediction: {pred_label}, "
        f"SDE time units. {pts_text}.{extra_text} Verdict: {verdict} ({vt})."
    )
    return RowResult(
        row=row, title=title, dynamics=dyn,
        parameters={"depth": s.depth, "sv": s.sv, "beta": s.beta, "direction": s.direction,
                    "barrier": tgt.barrier, "lambda_target": tgt.lambda_target, "dt": s.dt,
                    "barrier_over_t": list(s.barrier_over_t), "cap_factor": s.cap_factor},
        prediction={"label": pred_label, "value": head["prediction"], "unit": "SDE time", "available": True,
                    "at": f"dE/T = {head['barrier_over_t']:g}"},
        measurement={"label": "mean escape time (censored exponential MLE)", "value": head["mean"],
                     "ci_low": head["ci_low"], "ci_high": head["ci_high"], "unit": "SDE time",
                     "combined": comb, "combined_kramers": kcomb},
        ratio=head["ratio"], verdict=verdict, verdict_text=vt, points=points, seeds=seeds, n_seeds=n_total,
        steps=int(steps), wall_seconds=time.perf_counter() - t0, paragraph=paragraph, data=data,
    )


# --------------------------------------------------------------------------- row 3: network, injected noise
def _row_network(s: NetworkSettings, seed: int, workers, progress, parts: _PartStore | None = None) -> RowResult:
    from ..langevin.engine import simulate_ensemble
    from ..langevin.events import network_mode_event
    from ..landscape.escape import escape_target
    from ..theory.kramers import ZeroModeError, exact_mfpt_1d, eyring_kramers
    from ..langevin.models import network_model
    from ..landscape.network import DeepLinearNetwork, stationary_point
    from ..theory.stats import arrhenius_fit, exponential_mle, ks_exponential, log_sigma_from_ci

    t0 = time.perf_counter()
    net = DeepLinearNetwork.from_singular_values(s.depth, s.width, s.dim, list(s.sv), s.beta)
    mode = 1  # the rank-1 trap: mode 0 learned, mode 1 trivial; mode 1 escapes forward
    start_modes = ("learned", "trivial")
    saddle_modes = ("learned", "saddle")
    start = stationary_point(net, start_modes)
    saddle = stationary_point(net, saddle_modes)
    tgt = escape_target(s.depth, s.sv[mode], s.beta, "forward")
    U, _, Vt = np.linalg.svd(net.sigma_yx)
    event = network_mode_event(U[:, mode], Vt[mode], tgt.lambda_target, +1, name="mode1_forward")
    model = network_model(net)
    points, seeds, data = [], [], {"times": [], "escaped": [], "barrier_over_t": [], "reference": []}
    n_total = steps = 0
    refusal = None
    for k, x in enumerate(s.barrier_over_t):
        T = tgt.barrier / float(x)
        try:
            ek = eyring_kramers(net, start, saddle, T, n_saddles=1)
            pred = ek.tau
        except ZeroModeError as exc:
            refusal, pred = str(exc), None
        ref = exact_mfpt_1d(s.depth, s.sv[mode], s.beta, T, "forward").tau
        sd = _seed_for(seed, 3, k)

        def run():  # called at once (below), so the loop variables are current
            res = simulate_ensemble(model, T, s.n_paths, s.dt, x0=start.theta, events=[event],
                                    max_time=s.max_time, max_steps=int(math.ceil(s.max_time / s.dt)) + 1, seed=sd,
                                    n_threads=workers, progress=progress)
            # what the escaped state looks like: singular values of W at the stop (rank 2 = mode learned)
            sv = [np.linalg.svd(net.end_to_end(th), compute_uv=False) for th in res.final_x]
            return _ensemble_summary(res, {"final_svals": sv})

        sim = (parts or _PartStore(None, "")).cached(k, run)
        times, escaped = np.array(sim["times"], dtype=float), np.array(sim["escaped"], dtype=bool)
        est = exponential_mle(times, escaped, confidence=CONFIDENCE)
        ks = ks_exponential(times, escaped) if escaped.sum() >= 2 else None
        rc = compare_time(ref, est)
        svals = np.array(sim["final_svals"], dtype=float)
        pt = {"barrier_over_t": float(x), "temperature": T, "prediction": pred, "reference_exact_1d": ref,
              "final_singular_values_median": np.median(svals, axis=0).tolist(),
              "mean": est.mean, "ci_low": est.ci_low, "ci_high": est.ci_high, "n_paths": s.n_paths,
              "n_escaped": est.n_events, "n_censored": est.n_censored, "cap_time": sim["cap_time"],
              "path_steps": sim["path_steps"], "seed": sd, "ratio_to_reference": rc["ratio"],
              "reference_within_ci": rc["within"], "thermal_energy_DT_over_2": 0.5 * net.n_params * T,
              "ks_pvalue_exponential": None if ks is None else ks.pvalue}
        points.append(pt)
        seeds.append(sd)
        n_total += s.n_paths
        steps += sim["path_steps"]
        data["times"].append(sim["times"])
        data["escaped"].append(sim["escaped"])
        data["barrier_over_t"].append(float(x))
        data["reference"].append(ref)
    head = points[-1]
    available = head["prediction"] is not None
    # apparent Arrhenius barrier of the measured times (information only: there is no prediction to test)
    apparent = None
    ok = [p for p in points if p["n_escaped"] > 0 and p["ci_high"] is not None and math.isfinite(p["ci_high"])]
    if len(ok) >= 3:
        sig = log_sigma_from_ci([p["ci_low"] for p in ok], [p["ci_high"] for p in ok], CONFIDENCE)
        fit = arrhenius_fit([1.0 / p["temperature"] for p in ok], [p["mean"] for p in ok], sig,
                            confidence=CONFIDENCE)
        apparent = {"slope": fit.slope, "ci_low": fit.slope_ci[0], "ci_high": fit.slope_ci[1],
                    "intercept": fit.intercept, "r_squared": fit.r_squared, "n": fit.n}
    dyn = (f"Langevin (engine) in the full {net.n_params}-dimensional weight space, population loss, isotropic "
           "injected noise of temperature T (no mini-batch noise)")
    if available:  # not expected for width > 1; kept so a future isolated case is judged, not hidden
        cmp = compare_time(head["prediction"], exponential_mle([1.0], [True]))
        verdict, vt = "agrees" if cmp["within"] else "disagrees", "Eyring-Kramers applied"
    else:
        verdict = "no prediction"
        vt = ("Eyring-Kramers refuses (zero modes: start has "
              f"{start.n_zero}, saddle {saddle.n_zero} Hessian zero modes from hidden-layer rotations); measured/"
              f"1-D reference = {_fmt(head['ratio_to_reference'], 3)} at dE/T = {head['barrier_over_t']:g} "
              "(reference only, not a prediction)")
    pts_text = "; ".join(
        f"dE/T = {p['barrier_over_t']:g} (T = {_fmt(p['temperature'])}): measured {_fmt(p['mean'])} "
        f"[{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}] ({p['n_escaped']}/{p['n_paths']} escaped by "
        f"{_fmt(p['cap_time'])}), 1-D reference {_fmt(p['reference_exact_1d'])}, ratio "
        f"{_fmt(p['ratio_to_reference'], 3)}, median singular values of W at the stop "
        f"{tuple(round(v, 3) for v in p['final_singular_values_median'])}, KS test of the exponential law "
        f"(tau estimated, conservative) p = {_fmt(p['ks_pvalue_exponential'], 2)}" for p in points)
    paragraph = (
        f"{dyn}. Network L = {s.depth}, w = {s.width}, p = {s.dim}, eta = {tuple(s.sv)}, beta = {s.beta:g}, "
        f"D = {net.n_params}. Start: the rank-1 trap (mode eta = {s.sv[0]:g} learned, mode eta = {s.sv[mode]:g} "
        f"exactly zero; Hessian index {start.index}, {start.n_zero} zero modes). Escape when "
        f"u_2^T W v_2 rises through {_fmt(tgt.lambda_target)} (the 1-D forward target); T set from the 1-D "
        f"forward barrier {_fmt(tgt.barrier)} of that mode; dt = {s.dt:g}. Theory: "
        + (f"Eyring-Kramers is not available: {refusal}. " if refusal else "")
        + "The 1-D exact MFPT of the mode is shown as a labelled reference, not a prediction. "
        f"{pts_text}. The thermal energy D T / 2 of the {net.n_params} weights "
        f"({_fmt(head['thermal_energy_DT_over_2'], 3)} at the coldest point) exceeds the 1-D barrier, and the "
        "saddle carries more zero modes than the trap (a larger rotation orbit), an entropic gain the 1-D "
        f"reference ignores. A small KS p-value means the times are not exponential (a delay, then a fast "
        f"roll-off): a drift-dominated escape rather than a rare activated one. "
        + ("" if apparent is None else
           f"Apparent Arrhenius barrier of the measured times (slope of ln tau against 1/T, information only): "
           f"{_fmt(apparent['slope'])} [{_fmt(apparent['ci_low'])}, {_fmt(apparent['ci_high'])}], against the "
           f"1-D barrier {_fmt(tgt.barrier)}. ")
        + f"Verdict: {verdict} ({vt})."
    )
    return RowResult(
        row=3, title=ROW_TITLES[3], dynamics=dyn,
        parameters={"depth": s.depth, "width": s.width, "dim": s.dim, "sv": list(s.sv), "beta": s.beta,
                    "n_params": net.n_params, "start_modes": list(start_modes), "saddle_modes": list(saddle_modes),
                    "start_zero_modes": start.n_zero, "saddle_zero_modes": saddle.n_zero,
                    "barrier_1d": tgt.barrier, "lambda_target": tgt.lambda_target, "dt": s.dt,
                    "max_time": s.max_time, "barrier_over_t": list(s.barrier_over_t)},
        prediction={"label": "Eyring-Kramers", "value": head["prediction"], "unit": "SDE time",
                    "available": available, "note": refusal,
                    "reference": {"label": "1-D exact MFPT (reference, not a prediction)",
                                  "value": head["reference_exact_1d"]}},
        measurement={"label": "mean escape time (censored exponential MLE)", "value": head["mean"],
                     "ci_low": head["ci_low"], "ci_high": head["ci_high"], "unit": "SDE time",
                     "apparent_barrier": apparent},
        ratio=head["ratio_to_reference"], verdict=verdict, verdict_text=vt, points=points, seeds=seeds,
        n_seeds=n_total, steps=int(steps), wall_seconds=time.perf_counter() - t0, paragraph=paragraph, data=data,
    )


# --------------------------------------------------------------------------- rows 4 and 5: plain SGD
def _sgd_problem(s: SGDReverseSettings, seed: int) -> dict:
    """Data set, beta and stationary points shared by rows 4 and 5."""
    from ..sgd.data import empirical_cross_svd, make_dataset
    from ..landscape.modes import beta_c, beta_star
    from ..landscape.network import DeepLinearNetwork

    data_seed = _seed_for(seed, 4, 0)
    data = make_dataset(list(s.sv), s.n_train, s.n_test, seed=data_seed, whiten_train=True)
    _, s_emp, _ = empirical_cross_svd(data)
    mode = 1
    b_star, b_c = beta_star(s.depth, float(s_emp[mode])), beta_c(s.depth, float(s_emp[mode]))
    beta = 0.5 * (b_star + b_c)
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, s.depth, s.width, beta)
    return {"data": data, "data_seed": data_seed, "sv_emp": s_emp, "beta": beta, "beta_star": b_star,
            "beta_c": b_c, "net": net, "mode": mode}


def _path_noise_barrier(net, start, saddle, e, X, Y, depth, width, eta, beta, c_start, n_points: int = 33) -> dict:
    """Barrier seen by state-dependent noise: ``c_start * int_{a_sad}^{a_min} (-u'(a)) / c_e(a) da``.

    The balanced path of the escaping mode is the straight segment from ``start`` to ``saddle`` in
    weight space (both built in the same canonical frame, and every weight of the mode is proportional
    to its amplitude a), so ``theta(a)`` is exact linear interpolation. ``c_e(a) = e^T C(theta(a)) e``
    from :func:`langevin_grok.sgd.noise.gradient_noise`. For a 1-D diffusion with temperature T(r) the
    Arrhenius exponent is ``int dU / T(r)``; in units of ``1 / T_eff(start)`` that is this barrier.
    """
    from ..landscape.modes import u_prime
    from ..sgd.noise import gradient_noise

    a_min = float(start.amplitudes[1])
    a_sad = float(saddle.amplitudes[1])
    a = np.linspace(a_sad, a_min, n_points)
    frac = (a - a_min) / (a_sad - a_min)  # 0 at the start, 1 at the saddle
    d = saddle.theta - start.theta
    c = np.array([gradient_noise(start.theta + f * d, X, Y, depth, width, direction=e, n_top=0).direction_variance
                  for f in frac])
    integrand = -u_prime(a, depth, eta, beta) / c
    integral = float(np.sum(0.5 * (integrand[1:] + integrand[:-1]) * np.diff(a)))  # trapezoid
    return {"a": a.tolist(), "c": c.tolist(), "barrier_noise_weighted": c_start * integral,
            "tangent_overlap": float(abs(e @ d) / np.linalg.norm(d))}


def _sgd_escape_ensemble(data, theta0, *, width, beta, lr, batch, max_time, replicas, seed, rule,
                         noise_temperature=0.0, replacement=False, record_every=1, progress=False) -> dict:
    """One SGD ensemble from ``theta0`` (all replicas) until ``max_time`` SDE time or every replica escaped by
    ``rule`` (early stop: escape epochs identical to the full run). Times in SDE units ``lr * steps``; the
    escape is checked every ``record_every`` epochs."""
    from ..sgd import trainer as sgd

    steps_per_epoch = -(-data.n_train // batch)
    epochs = int(math.ceil(max_time / (lr * steps_per_epoch)))
    ws = sgd.unpack(np.repeat(np.asarray(theta0, float)[None, :], replicas, axis=0), rule.amplitude_depth, width,
                    data.dim)
    res = sgd.train(ws, data, beta=beta, lr=lr, batch=batch, epochs=epochs, seed=seed, record_every=record_every,
                    noise_temperature=noise_temperature, replacement=replacement, progress=bool(progress),
                    stop_rule=rule)
    esc = sgd.escape_by_rule(res, rule)
    ep, obs = esc.times()
    lam = getattr(res, rule.key)[:, :, rule.mode]  # (R, M) the escape variable lambda over the run
    live = ~np.asarray(esc.diverged)
    ep = np.where(obs, ep, float(epochs))  # censored replicas ran the whole length (early stop needs all escaped)
    # SDE time = lr x steps with the steps train really takes: ceil(N/B) per epoch (the last batch holds the
    # N mod B leftover samples); temperature.epochs_to_sde_time assumes N/B and is up to 2 % short here
    return {"t_sde": np.asarray(ep, float) * steps_per_epoch * lr, "observed": obs, "epochs": epochs,
            "epochs_run": res.epochs_run, "n_diverged": esc.n_diverged,
            "sgd_steps": int(res.epochs_run * steps_per_epoch * replicas),
            # where the metastable state really sits under this noise: median of lambda over the records
            # before each replica's escape (all records for censored replicas)
            "lambda_median_before_escape": float(np.nanmedian(np.where(
                (res.epochs[:, None] < np.where(obs, ep, np.inf)[None, :]) & live[None, :], lam, np.nan)))
            if live.any() else None}


def _arrhenius(points: list):
    """Arrhenius fit of ln tau against ``inv_T_eff`` over the points with escapes (None if fewer than 3)."""
    from ..theory.stats import arrhenius_fit, log_sigma_from_ci

    ok = [p for p in points if p["n_escaped"] > 0 and math.isfinite(p["ci_high"]) and p["ci_low"] > 0]
    if len(ok) < 3:
        return None
    sig = log_sigma_from_ci([p["ci_low"] for p in ok], [p["ci_high"] for p in ok], CONFIDENCE)
    return arrhenius_fit([p["inv_T_eff"] for p in ok], [p["mean"] for p in ok], sig, confidence=CONFIDENCE)


def _estimate_point(sim: dict, **extra) -> dict:
    from ..theory.stats import exponential_mle

    est = exponential_mle(np.asarray(sim["t_sde"], float), np.asarray(sim["observed"], bool), confidence=CONFIDENCE)
    out = dict(extra)
    out.update(mean=est.mean, ci_low=est.ci_low, ci_high=est.ci_high, n_escaped=est.n_events,
               n_censored=est.n_censored, n_diverged=sim["n_diverged"], sgd_steps=sim["sgd_steps"],
               epochs=sim["epochs"], lambda_median_before_escape=sim.get("lambda_median_before_escape"))
    return out


def _fit_summary(fit, barrier: float) -> dict | None:
    if fit is None:
        return None
    lo, hi = fit.slope_ci
    return {"barrier": fit.slope, "ci_low": lo, "ci_high": hi, "ratio_to_landscape": fit.slope / barrier,
            "landscape_inside": bool(lo <= barrier <= hi), "log_tau0": fit.intercept, "r_squared": fit.r_squared,
            "n_points": fit.n}


def _row4_diagnostics(s: SGDReverseSettings, P: dict, rule, theta0, c_e: float, barrier: float, main_points: list,
                      seed: int, parts, progress) -> dict:
    """Separate the causes of a row-4 disagreement (each part says which dynamics produced its numbers).

    (a) Same network, data, start, event, lr and run length; full-batch gradient (B = N: every step uses the
        whole training set, no mini-batch noise) plus isotropic injected Gaussian noise of temperature
        T_eff(B) for each B of the ladder (``sgd.train(noise_temperature=...)``, SGLD). The escape is checked
        every ceil(N/B) steps, the cadence of the plain-SGD run at that B (one epoch). If its Arrhenius
        barrier matches the landscape barrier, the landscape, the event and the fit are right and the
        excess comes from the structure of the mini-batch noise.
    (b) Plain SGD at one B of the ladder with lr and B halved twice (lr/B fixed, so T_eff fixed up to the
        (N-B)/(N-1) factor, which is recomputed): does the SDE-time escape time converge as lr -> 0?
    (d) Plain SGD with batches drawn with replacement (independent batches) on the same ladder: the
        shuffled-epoch sampling of row 4 makes the noise summed over one epoch vanish at fixed weights,
        which suppresses slow noise that the white-noise T_eff counts.

    (d) always runs (cheap: with early stopping it ends once every replica escaped); (a) and (b) only with
    ``s.diagnose``.
    """
    from .._core.units import sgd_temperature

    data, beta = P["data"], P["beta"]
    N, lr = s.n_train, s.lr
    cache = parts or _PartStore(None, "")
    # size cap (the --full ladder would make the full-batch SGLD runs take hours): at most 4 batch sizes of the
    # ladder (evenly spaced), 64 replicas, 3000 SDE time; the default preset is exactly this size
    ladder = sorted(s.batches)
    if len(ladder) > 4:
        ladder = [ladder[int(round(i * (len(ladder) - 1) / 3))] for i in range(4)]
    row_size = (s.replicas, s.max_time)
    s = replace(s, batches=tuple(ladder), replicas=min(s.replicas, 64), max_time=min(s.max_time, 3000.0))
    out = {"size": {"batches": list(ladder), "replicas": s.replicas, "max_time": s.max_time}}
    heavy = s.diagnose
    # (a) SGLD at the same temperatures
    pts_a = []
    for k, B in enumerate(sorted(s.batches) if heavy else ()):
        T = sgd_temperature(lr, B, c_e, n_train=N)
        sd = _seed_for(seed, 4, 100 + k)
        sim = cache.cached(100 + k, lambda T=T, sd=sd: _sgd_escape_ensemble(
            data, theta0, width=s.width, beta=beta, lr=lr, batch=N, max_time=s.max_time, replicas=s.replicas,
            seed=sd, rule=rule, noise_temperature=T, record_every=-(-N // B), progress=progress))
        pts_a.append(_estimate_point(sim, batch_of_T=B, T_eff=T, inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T,
                                     seed=sd, lr=lr, batch=N))
    if heavy:
        out["a_sgld"] = {"dynamics": "full-batch gradient (B = N) + isotropic injected Gaussian noise at T_eff(B) "
                                     "(sgd.train noise_temperature), no mini-batch noise",
                         "points": pts_a, "fit": _fit_summary(_arrhenius(pts_a), barrier)}
    # (b) lr -> 0 at fixed lr/B (plain SGD, shuffled epochs as in row 4)
    B0 = next((b for b in ladder[len(ladder) // 2:] if b % 4 == 0), None) or next((b for b in ladder if b % 4 == 0),
                                                                             None)
    pts_b = []
    if B0 is not None and heavy:
        # reuse the row's own ensemble at (lr, B0) when it has the diagnostics' size
        base = (next((p for p in main_points if p["batch"] == B0), None)
                if row_size == (s.replicas, s.max_time) else None)
        for j in range(3):
            lr_j, B_j = lr / 2 ** j, B0 // 2 ** j
            T = sgd_temperature(lr_j, B_j, c_e, n_train=N)
            if j == 0 and base is not None:
                pt = {k: base[k] for k in ("mean", "ci_low", "ci_high", "n_escaped", "n_censored", "n_diverged",
                                           "sgd_steps", "epochs", "seed", "lambda_median_before_escape")}
                pt["reused_from_row"] = True  # the row's own ensemble at (lr, B0): not run twice
            else:
                sd = _seed_for(seed, 4, 200 + j)
                sim = cache.cached(200 + j, lambda lr_j=lr_j, B_j=B_j, sd=sd: _sgd_escape_ensemble(
                    data, theta0, width=s.width, beta=beta, lr=lr_j, batch=B_j, max_time=s.max_time,
                    replicas=s.replicas, seed=sd, rule=rule, progress=progress))
                pt = _estimate_point(sim, seed=sd)
            pt.update(lr=lr_j, batch=B_j, T_eff=T, inv_T_eff=1.0 / T, epoch_sde_time=lr_j * -(-N // B_j))
            pts_b.append(pt)
    if heavy:
        out["b_lr_refinement"] = {"dynamics": "plain mini-batch SGD, shuffled epochs (as row 4), lr and B halved "
                                              "together", "points": pts_b}
    # (d) with replacement (independent batches), same ladder
    pts_d = []
    for k, B in enumerate(sorted(s.batches)):
        T = sgd_temperature(lr, B, c_e, n_train=N, replacement=True)
        sd = _seed_for(seed, 4, 300 + k)
        sim = cache.cached(300 + k, lambda B=B, sd=sd: _sgd_escape_ensemble(
            data, theta0, width=s.width, beta=beta, lr=lr, batch=B, max_time=s.max_time, replicas=s.replicas,
            seed=sd, rule=rule, replacement=True, progress=progress))
        pts_d.append(_estimate_point(sim, batch=B, T_eff=T, inv_T_eff=1.0 / T, barrier_over_T_eff=barrier / T,
                                     seed=sd, lr=lr))
    out["d_with_replacement"] = {"dynamics": "plain mini-batch SGD, batches drawn with replacement (independent), "
                                             "T_eff = lr c_e / (2B) without the (N-B)/(N-1) factor",
                                 "points": pts_d, "fit": _fit_summary(_arrhenius(pts_d), barrier)}
    return out


def _row4_diag_text(diag: dict, barrier: float, c_e: float, fit, main_points=(), lam_min: float | None = None,
                    log_prefactor: float | None = None) -> str:
    """The 'why' paragraph of row 4 from :func:`_row4_diagnostics` (and the path noise, always measured)."""
    npth = diag["c_noise_along_path"]
    txt = ["Diagnostics. (c) Measured noise along the escape path (balanced path, learned minimum -> saddle): "
           + ", ".join(f"lambda_2 = {_fmt(lam, 3)}: c_e = {_fmt(c, 3)} ({_fmt(r, 3)} x start)"
                       for lam, c, r in zip(npth["lambda"], npth["c_e"], npth["c_e_over_start"]))
           + "; a noise that falls toward the saddle raises the effective barrier, by the noise-weighted line above."]
    if "a_sgld" not in diag:
        txt.append("The run-time-heavy diagnostics (a: full-batch gradient + isotropic injected noise at the same "
                   "T_eff; b: lr halved twice at fixed lr/B) run with --full (SGDReverseSettings.diagnose).")

    def fit_txt(f):
        if f is None:
            return "no fit (fewer than 3 settings with escapes)"
        return (f"barrier {_fmt(f['barrier'])} [{_fmt(f['ci_low'])}, {_fmt(f['ci_high'])}] = "
                f"{_fmt(f['ratio_to_landscape'], 3)} x landscape (landscape "
                f"{'inside' if f['landscape_inside'] else 'outside'} the CI), ln tau0 = {_fmt(f['log_tau0'], 4)}")

    def pts_txt(pts, key="batch"):
        return "; ".join(f"{key} {q.get(key)}: T = {_fmt(q['T_eff'], 3)}, {q['n_escaped']} escaped, tau = "
                         f"{_fmt(q['mean'])} [{_fmt(q['ci_low'])}, {_fmt(q['ci_high'])}], median lambda_2 before "
                         f"escape {_fmt(q.get('lambda_median_before_escape'), 3)}" for q in pts)

    a = diag.get("a_sgld")
    if a is not None:
        txt.append(f"(a) {a['dynamics']}, same start, event, lr and run length: " + pts_txt(a["points"], "batch_of_T")
                   + f"; Arrhenius {fit_txt(a['fit'])}.")
    b = diag.get("b_lr_refinement", {"points": []})
    if b["points"]:
        txt.append(f"(b) {b['dynamics']}: " + "; ".join(
            f"lr = {q['lr']:g}, B = {q['batch']} (T_eff = {_fmt(q['T_eff'], 3)}, one epoch = "
            f"{_fmt(q['epoch_sde_time'], 3)} SDE time): {q['n_escaped']} escaped, tau = {_fmt(q['mean'])} "
            f"[{_fmt(q['ci_low'])}, {_fmt(q['ci_high'])}] SDE time" for q in b["points"]) + ".")
    d = diag["d_with_replacement"]
    txt.append(f"(d) {d['dynamics']}: " + pts_txt(d["points"]) + f"; Arrhenius {fit_txt(d['fit'])}.")
    # reading, computed from the numbers above (no tuned statement)
    read = []
    main = {q["batch"]: q for q in main_points}
    rat = [main[q["batch"]]["mean"] / q["mean"] for q in d["points"]
           if q["batch"] in main and q["n_escaped"] and main[q["batch"]]["n_escaped"]]
    if d["fit"] is not None:
        inside = "inside" if d["fit"]["landscape_inside"] else "outside"
        read.append(f"with independent batches (d) the Arrhenius barrier is "
                    f"{_fmt(d['fit']['ratio_to_landscape'], 3)} x the landscape barrier (landscape {inside} its "
                    f"95% CI) and ln tau0 = {_fmt(d['fit']['log_tau0'], 3)}"
                    + (f" against the 1-D Kramers {_fmt(log_prefactor, 3)}" if log_prefactor is not None else ""))
    if rat:
        read.append(f"shuffled epochs (the row) escape {_fmt(min(rat), 3)} to {_fmt(max(rat), 3)} x more slowly than "
                    f"independent batches at the same B and lr")
    if b["points"] and len(b["points"]) > 1 and b["points"][0]["n_escaped"] and b["points"][-1]["n_escaped"]:
        q0, q1 = b["points"][0], b["points"][-1]
        overlap = q1["ci_low"] <= q0["ci_high"] and q0["ci_low"] <= q1["ci_high"]
        read.append(f"lr / {q0['lr'] / q1['lr']:g} at fixed lr/B (b) changes tau by a factor "
                    f"{_fmt(q1['mean'] / q0['mean'], 3)} (intervals {'overlap' if overlap else 'do not overlap'})")
    n_a = sum(q["n_escaped"] for q in a["points"]) if a else 0
    m_a = a["points"][0]["n_escaped"] + a["points"][0]["n_censored"] if a and a["points"] else 0
    lam_a = [q.get("lambda_median_before_escape") for q in a["points"] if q.get("lambda_median_before_escape")] if a \
        else []
    shift = ""
    if lam_a and lam_min is not None:
        shift = (f", with the metastable lambda_2 moved from lambda_min = {_fmt(lam_min, 3)} to "
                 f"{_fmt(min(lam_a), 3)}-{_fmt(max(lam_a), 3)}: at dE/T_eff ~ 1 the noise in all the other weight "
                 f"directions (variance ~ T/beta on the empty hidden units) reshapes the landscape, so isotropic "
                 f"noise at T_eff is not the small-noise limit either")
    if a:
        read.append(f"isotropic injected noise at the same T_eff (a) gave {n_a} escapes in {len(a['points'])} x "
                    f"{m_a} replicas{shift}")
    txt.append("Reading: " + "; ".join(read) + ".")
    return " ".join(txt)


def _row_sgd_reverse(s: SGDReverseSettings, seed: int, progress, parts: _PartStore | None = None) -> RowResult:
    from ..sgd import trainer as sgd
    from ..theory.kramers import kramers_1d
    from ..landscape.modes import mode_landscape
    from ..landscape.network import stationary_point
    from ..sgd.noise import gradient_noise, relevant_saddle
    from .._core.units import sgd_temperature

    t0 = time.perf_counter()
    P = _sgd_problem(s, seed)
    data, net, beta, mode = P["data"], P["net"], P["beta"], P["mode"]
    eta = float(P["sv_emp"][mode])
    start_modes = ("learned", "learned")
    rel = relevant_saddle(s.depth, P["sv_emp"], beta, start_modes)
    if rel is None or rel[1] != mode or rel[2] != "reverse":
        raise InputError(f"row 4 expects a reverse escape of mode {mode}; relevant_saddle gave {rel}")
    saddle_modes = rel[0]
    start = stationary_point(net, start_modes)
    saddle = stationary_point(net, saddle_modes)
    e = saddle.unstable_direction
    X, Y = data.x_train, data.y_train
    gn_start = gradient_noise(start.theta, X, Y, s.depth, s.width, direction=e)
    gn_saddle = gradient_noise(saddle.theta, X, Y, s.depth, s.width, direction=e)
    c_e = gn_start.direction_variance
    ml = mode_landscape(s.depth, eta, beta)
    barrier = ml.barrier_reverse
    path = _path_noise_barrier(net, start, saddle, e, X, Y, s.depth, s.width, eta, beta, c_e)
    barrier_c = path["barrier_noise_weighted"]
    curv_max = float(start.eigenvalues[-1])
    theta0 = start.theta
    # the one escape event of the package (escape.escape_target: lambda_2 < lambda_sad / 2), read on the
    # empirical singular vectors that belong to the empirical eta of the landscape
    rule = sgd.mode_amplitude_rule(s.depth, eta, beta, mode, "reverse", basis="empirical")
    points, seeds, data_out = [], [], {"times": [], "escaped": [], "inv_temperature": []}
    n_total = steps = 0
    lr = s.lr
    cache = parts or _PartStore(None, "")
    for k, B in enumerate(sorted(s.batches)):
        T_eff = sgd_temperature(lr, B, c_e, n_train=s.n_train)
        sd = _seed_for(seed, 4, 1 + k)
        sim = cache.cached(k, lambda B=B, sd=sd: _sgd_escape_ensemble(
            data, theta0, width=s.width, beta=beta, lr=lr, batch=B, max_time=s.max_time, replicas=s.replicas,
            seed=sd, rule=rule, progress=progress))
        t_sde, obs = np.array(sim["t_sde"], dtype=float), np.array(sim["observed"], dtype=bool)
        kr = kramers_1d(s.depth, eta, beta, T_eff, "reverse")
        pt = _estimate_point(sim, barrier_over_T_eff=barrier / T_eff, lr=lr, batch=B, batch_over_lr=B / lr,
                             T_eff=T_eff, inv_T_eff=1.0 / T_eff, lr_times_max_curvature=lr * curv_max,
                             n_replicas=s.replicas, seed=sd, kramers_1d_at_T_eff=kr.tau)
        pt["ratio_to_kramers_1d"] = (pt["mean"] / kr.tau) if pt["n_escaped"] else None
        points.append(pt)
        seeds.append(sd)
        n_total += s.replicas
        steps += pt["sgd_steps"]
        data_out["times"].append(t_sde.tolist())
        data_out["escaped"].append(obs.tolist())
        data_out["inv_temperature"].append(1.0 / T_eff)
    fit = _arrhenius(points)
    # (c) the measured noise along the escape path (balanced path, start -> saddle), always reported
    lam_path = np.asarray(path["a"]) ** s.depth
    c_path = np.asarray(path["c"])
    picks = np.unique(np.round(np.linspace(len(c_path) - 1, 0, 5)).astype(int))[::-1]
    noise_path = {"lambda": lam_path[picks].tolist(), "c_e": c_path[picks].tolist(),
                  "c_e_over_start": (c_path[picks] / c_e).tolist()}
    diag = {"c_noise_along_path": noise_path}
    diag.update(_row4_diagnostics(s, P, rule, theta0, c_e, barrier, points, seed, cache, progress))
    for part in ("a_sgld", "b_lr_refinement", "d_with_replacement"):
        for q in diag.get(part, {}).get("points", ()):
            if q.get("reused_from_row"):
                continue
            n_total += diag["size"]["replicas"]
            steps += q["sgd_steps"]
            seeds.append(q["seed"])
    kr_ref = kramers_1d(s.depth, eta, beta, 1.0, "reverse")
    dyn = (f"plain mini-batch SGD (sgd.train, data noise only, no injected noise; batches without replacement), "
           f"{net.n_params} weights; diagnostics (separate numbers, labelled): "
           + ("(a) full-batch gradient + isotropic injected Gaussian noise (SGLD), (b) plain SGD at smaller lr, "
              if s.diagnose else "")
           + "(d) plain SGD with batches drawn with replacement")
    corr = None
    if fit is not None:
        lo_c, hi_c = fit.slope_ci
        half_c = 0.5 * (hi_c - lo_c)
        corr = {"value": barrier_c, "ratio": fit.slope / barrier_c, "within": bool(lo_c <= barrier_c <= hi_c),
                "half_widths": abs(barrier_c - fit.slope) / half_c if half_c > 0 else None}
    if fit is None:
        verdict, ratio = "no data", None
        n_ok = sum(1 for p in points if p["n_escaped"] > 0)
        vt = f"only {n_ok} of {len(points)} settings had escapes; an Arrhenius fit needs 3"
        meas = {"label": "fitted barrier (Arrhenius slope)", "value": None, "ci_low": None, "ci_high": None,
                "unit": "loss"}
    else:
        lo, hi = fit.slope_ci
        ratio = fit.slope / barrier
        inside = lo <= barrier <= hi
        half = 0.5 * (hi - lo)
        k_hw = abs(barrier - fit.slope) / half if half > 0 else None
        # an interval that also holds a zero barrier cannot confirm one: say so instead of "agrees"
        verdict = ("inconclusive" if lo <= 0 else "agrees") if inside else "disagrees"
        vt = (("95% CI of the fitted barrier includes 0; " if lo <= 0 else "")
              + f"fitted/predicted barrier = {_fmt(ratio, 3)}; predicted barrier "
              + ("inside" if inside else "outside") + f" the 95% CI ({_fmt(k_hw, 3)} half-widths); R^2 = "
              f"{_fmt(fit.r_squared, 3)}, {fit.n} points; against the noise-weighted barrier "
              f"{_fmt(barrier_c)}: ratio {_fmt(corr['ratio'], 3)}, "
              + ("inside" if corr["within"] else "outside") + f" ({_fmt(corr['half_widths'], 3)} half-widths)")
        meas = {"label": "fitted barrier (Arrhenius slope of ln tau vs 1/T_eff)", "value": fit.slope,
                "ci_low": lo, "ci_high": hi, "unit": "loss", "fit": fit.to_dict(), "half_widths": k_hw}
    c_sad = gn_saddle.direction_variance
    pts_text = "; ".join(
        f"B = {p['batch']} (B/lr = {_fmt(p['batch_over_lr'], 4)}, T_eff = {_fmt(p['T_eff'], 3)}, landscape "
        f"dE/T_eff = {_fmt(p['barrier_over_T_eff'], 3)}): "
        f"{p['n_escaped']}/{p['n_replicas']} escaped in {p['epochs']} epochs, tau = {_fmt(p['mean'])} "
        f"[{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}] SDE time" for p in points)
    paragraph = (
        f"{dyn}. Data: N = {s.n_train} samples with population eta = {tuple(s.sv)} (seed {P['data_seed']}), "
        f"training inputs whitened so that the full-batch loss is exactly the per-mode landscape with the "
        f"empirical singular values {tuple(round(float(v), 5) for v in P['sv_emp'])}. beta = {_fmt(beta, 5)}, the "
        f"midpoint of (beta*, beta_c) = ({_fmt(P['beta_star'], 5)}, {_fmt(P['beta_c'], 5)}) of the empirical "
        f"mode 2, so its learned state is metastable. Start: the rank-2 learned stationary point; escape when "
        f"lambda_2 = U_2^T W V_2 (empirical singular vectors, which belong to the empirical eta) falls below "
        f"lambda_sad/2 = {_fmt(rule.details['lambda_target'])} (sgd.mode_amplitude_rule, the level of "
        f"escape.escape_target that the Langevin rows use; checked every epoch). Escape "
        f"direction: unstable eigenvector of the saddle {saddle_modes}. Measured gradient noise along it: c_e = "
        f"{_fmt(c_e)} at the start (used for T_eff = lr c_e (N-B)/(N-1)/(2B)), {_fmt(c_sad)} at the saddle "
        f"(diagnostic only; the noise is state dependent). lr = {s.lr:g}, batch sizes {tuple(sorted(s.batches))} "
        f"(chosen from a pilot run so that escapes happen within the run length of {_fmt(s.max_time)} SDE time, "
        f"not from the prediction); lr x largest Hessian eigenvalue at the start = {_fmt(s.lr * curv_max, 3)}. "
        f"{pts_text}. Predicted barrier: landscape "
        f"barrier_reverse = {_fmt(barrier)}. Second, labelled theory line (state-dependent noise): in 1-D with "
        f"noise temperature T(r) the escape exponent is the integral of dU / T(r) along the path, so measuring "
        f"c_e at {len(path['a'])} points of the balanced path from the learned minimum to the saddle gives the "
        f"barrier in units of 1/T_eff(start): c_e(start) * integral du / c_e = {_fmt(barrier_c)} (c_e falls from "
        f"{_fmt(path['c'][-1])} to {_fmt(path['c'][0])} along the path). "
        + ("" if fit is None else f"Fit: dE_eff = {_fmt(fit.slope)} [{_fmt(fit.slope_ci[0])}, "
           f"{_fmt(fit.slope_ci[1])}], ln tau0 = {_fmt(fit.intercept, 4)} (ln of the 1-D Kramers prefactor: "
           f"{_fmt(math.log(kr_ref.prefactor), 4)}). ")
        + f"Verdict: {verdict} ({vt}). "
        + _row4_diag_text(diag, barrier, c_e, fit, points, ml.lambda_min, math.log(kr_ref.prefactor))
    )
    meas["diagnostics"] = diag
    return RowResult(
        row=4, title=ROW_TITLES[4], dynamics=dyn,
        parameters={"depth": s.depth, "width": s.width, "sv_population": list(s.sv),
                    "sv_empirical": P["sv_emp"].tolist(), "n_train": s.n_train, "data_seed": P["data_seed"],
                    "whitened": True, "beta": beta, "beta_star": P["beta_star"], "beta_c": P["beta_c"],
                    "lr": s.lr, "batches": sorted(s.batches), "start_modes": list(start_modes),
                    "saddle_modes": list(saddle_modes),
                    "c_e_start": c_e, "c_e_saddle": c_sad, "trace_start": gn_start.trace,
                    "max_time": s.max_time,
                    "max_hessian_eigenvalue": curv_max, "kramers_1d_log_prefactor": math.log(kr_ref.prefactor),
                    "path_noise": path},
        prediction={"label": "landscape barrier_reverse (mode 2, empirical eta)", "value": barrier, "unit": "loss",
                    "available": True, "noise_weighted": corr if corr is not None else {"value": barrier_c}},
        measurement=meas, ratio=ratio, verdict=verdict, verdict_text=vt, points=points, seeds=seeds,
        n_seeds=n_total, steps=int(steps), wall_seconds=time.perf_counter() - t0, paragraph=paragraph,
        data=data_out,
    )


def _row_sgd_trap(s: SGDReverseSettings, t: SGDTrapSettings, seed: int, progress) -> RowResult:
    from ..sgd import trainer as sgd
    from ..theory.kramers import exact_mfpt_1d
    from ..landscape.modes import mode_landscape
    from ..landscape.network import stationary_point
    from ..sgd.noise import gradient_noise, per_sample_grads
    from ..theory.stats import exponential_mle

    t0 = time.perf_counter()
    P = _sgd_problem(s, seed)
    data, net, beta, mode = P["data"], P["net"], P["beta"], P["mode"]
    eta = float(P["sv_emp"][mode])
    start_modes, saddle_modes = ("learned", "trivial"), ("learned", "saddle")
    start = stationary_point(net, start_modes)
    saddle = stationary_point(net, saddle_modes)
    e = saddle.unstable_direction
    gn = gradient_noise(start.theta, data.x_train, data.y_train, s.depth, s.width, direction=e, lr=t.lr,
                        batch=t.batch)
    # structural check behind "exactly zero": on the coordinates the escape direction really moves (|e_i| above
    # the ~1e-16 leakage of a numerical eigenvector) every per-sample gradient is exactly 0.0
    support = np.abs(e) > 1e-8 * np.abs(e).max()
    g = per_sample_grads(start.theta, data.x_train, data.y_train, s.depth, s.width)
    grad_on_support = float(np.abs(g[:, support]).max())
    leak = float(np.linalg.norm(e[~support]))
    ml = mode_landscape(s.depth, eta, beta)
    sd = _seed_for(seed, 5, 0)
    ws = sgd.unpack(np.repeat(start.theta[None, :], t.replicas, axis=0), s.depth, s.width, data.dim)
    res = sgd.train(ws, data, beta=beta, lr=t.lr, batch=t.batch, epochs=t.epochs, seed=sd,
                    record_every=max(1, t.epochs // 200), progress=bool(progress))
    # the package's one escape level (escape.escape_target), on the empirical singular vectors of the empirical eta
    esc = sgd.escape_by_mode_amplitude(res, mode, "forward", sv=eta, basis="empirical")
    ep, obs = esc.times()
    t_sde = np.asarray(ep, float) * -(-s.n_train // t.batch) * t.lr  # lr x steps, ceil(N/B) steps per epoch
    est = exponential_mle(t_sde, obs, confidence=CONFIDENCE)
    final_lam = np.abs(res.mode_sv_empirical[-1, :, mode])
    final_sigma2 = res.svals[-1, :, mode]  # second singular value of W: exactly rank 1 stays 0
    ref_iso = exact_mfpt_1d(s.depth, eta, beta, gn.temperature_iso, "forward") if gn.temperature_iso else None
    steps_per_epoch = -(-s.n_train // t.batch)
    n_steps = int(res.epochs_run * steps_per_epoch * t.replicas)
    absorbing = bool(gn.escape_noise_zero)
    escaped = est.n_events
    if absorbing:
        verdict = "agrees" if escaped == 0 else "disagrees"
        vt = (f"escape-direction noise c_e = {_fmt(gn.direction_variance)} (per-sample gradients on the "
              f"direction's {int(support.sum())} coordinates exactly 0: {grad_on_support == 0.0}) -> absorbing; "
              f"{escaped}/{t.replicas} replicas escaped in {res.epochs_run} epochs")
    else:
        verdict = "disagrees"
        vt = f"escape-direction noise c_e = {_fmt(gn.direction_variance)} is not zero at the exact trap"
    dyn = "plain mini-batch SGD (sgd.train, data noise only, no injected noise; batches without replacement)"
    paragraph = (
        f"{dyn}. Same data set and beta = {_fmt(beta, 5)} as row 4 (empirical eta = "
        f"{tuple(round(float(v), 5) for v in P['sv_emp'])}); lr = {t.lr:g}, B = {t.batch} (the seed paper's "
        f"Fig. 1(a) values). Start: the exact rank-1 trap {start_modes} (mode 2 exactly zero: its hidden units "
        f"carry no weight). Escape direction: unstable eigenvector of the saddle {saddle_modes} (forward barrier "
        f"{_fmt(ml.barrier_forward)}). Measured per-sample gradient covariance at the trap: trace {_fmt(gn.trace)}, "
        f"isotropic T = {_fmt(gn.temperature_iso)}, along the escape direction c_e = {_fmt(gn.direction_variance)} "
        f"(structural zero, every per-sample gradient exactly 0.0 on the direction's support: {gn.exactly_zero}; "
        f"flagged absorbing: {gn.escape_noise_zero}), so T along it = {_fmt(gn.temperature_direction)}. The "
        f"direction moves "
        f"{int(support.sum())} weights (those of the empty hidden units); every per-sample gradient on them is "
        f"{_fmt(grad_on_support)} (exactly zero: {grad_on_support == 0.0}); the tiny c_e comes from the "
        f"{_fmt(leak, 2)} norm the numerical eigenvector leaks onto other weights. Prediction: the trap is "
        f"absorbing for plain SGD (no escapes at any run length). Outcome: {escaped} of {t.replicas} replicas "
        f"escaped in {res.epochs_run} epochs ({n_steps} replica steps); largest second singular value of W at the "
        f"end {_fmt(float(np.nanmax(final_sigma2)))} (projection on the empirical mode 2, the escape variable: "
        f"{_fmt(float(final_lam.max()))}); escape level lambda_2 > {_fmt(esc.details['lambda_target'])} "
        f"(escape.escape_target, forward); "
        f"censored MLE lower bound on tau: {_fmt(est.ci_low)} SDE time. For contrast, an isotropic-noise model "
        f"with T = {_fmt(gn.temperature_iso)} would give a 1-D mean escape time "
        + (_fmt(ref_iso.tau) if ref_iso is not None and math.isfinite(ref_iso.tau)
           else f"exp({_fmt(ref_iso.log_tau)})" if ref_iso is not None else "-")
        + f" (not a prediction here). Verdict: {verdict} ({vt})."
    )
    return RowResult(
        row=5, title=ROW_TITLES[5], dynamics=dyn,
        parameters={"depth": s.depth, "width": s.width, "sv_empirical": P["sv_emp"].tolist(), "beta": beta,
                    "lr": t.lr, "batch": t.batch, "epochs": t.epochs, "n_train": s.n_train,
                    "data_seed": P["data_seed"], "start_modes": list(start_modes),
                    "saddle_modes": list(saddle_modes), "barrier_forward": ml.barrier_forward},
        prediction={"label": "absorbing (c_e = 0): no escapes", "value": 0, "unit": "escapes",
                    "available": True, "noise": gn.to_dict()},
        measurement={"label": "escaped replicas", "value": escaped, "of": t.replicas, "ci_low": est.ci_low,
                     "ci_high": est.ci_high, "unit": "escapes", "tau_lower_bound_sde": est.ci_low,
                     "final_abs_lambda2_max": float(final_lam.max())},
        ratio=None, verdict=verdict, verdict_text=vt,
        points=[{"c_e": gn.direction_variance, "exactly_zero": gn.exactly_zero,
                 "support_size": int(support.sum()), "max_abs_grad_on_support": grad_on_support,
                 "eigenvector_leak_norm": leak, "final_sigma2_max": float(np.nanmax(final_sigma2)),
                 "escape_noise_zero": gn.escape_noise_zero, "trace": gn.trace,
                 "noise_direction_support": gn.direction_support, "noise_direction_leak": gn.direction_leak,
                 "T_iso": gn.temperature_iso,
                 "T_direction": gn.temperature_direction, "n_escaped": escaped, "n_replicas": t.replicas,
                 "epochs": res.epochs_run, "seed": sd, "reference_iso_exact_1d": ref_iso.tau if ref_iso else None}],
        seeds=[sd], n_seeds=t.replicas, steps=n_steps, wall_seconds=time.perf_counter() - t0,
        paragraph=paragraph, data={"times": [t_sde.tolist()], "escaped": [obs.tolist()]},
    )


# --------------------------------------------------------------------------- driver
def default_out_dir(now: float | None = None) -> Path:
    """``runs/validate-YYYYmmdd-HHMMSS`` (UTC) under the current directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    return Path("runs") / f"validate-{stamp}"


def check_out_dir(out) -> Path:
    """``out`` as a Path; InputError if it exists and is not a directory."""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InputError(f"out must be a directory (or a new path), got an existing file: {str(out)!r}")
    return p


def _row_hash(config: ValidationConfig, row: int) -> str:
    blob = json.dumps({"row": row, "seed": config.seed, "settings": config.row_settings(row),
                       "version": __version__}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    tmp.write_text(text)
    os.replace(tmp, path)


def _load_row(path: Path, expect_hash: str) -> RowResult | None:
    try:
        blob = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if blob.get("hash") != expect_hash:
        return None
    r = blob["result"]
    return RowResult(**{k: r[k] for k in RowResult.__dataclass_fields__ if k in r})


def _environment() -> dict:
    env = {"langevin_grok": __version__, "python": platform.python_version(), "platform": platform.platform(),
           "cpu_count": os.cpu_count()}
    for name in ("numpy", "scipy", "numba", "mpmath"):
        try:
            env[name] = __import__(name).__version__
        except Exception:  # pragma: no cover - optional package missing
            env[name] = None
    try:
        from ..report.reproduction import environment as _env

        env.update({k: v for k, v in _env().items() if k not in env})
    except Exception:  # pragma: no cover - provenance is best effort
        pass
    return env


def run_validation(config: ValidationConfig | None = None, out_dir=None, *, rows=(1, 2, 3, 4, 5),
                   resume: bool = True, workers: int | None = None, progress: bool | None = None,
                   command: str | None = None, figures: bool = True) -> ValidationReport:
    """Run the comparisons and (if ``out_dir`` is given) write every finished row at once.

    Parameters
    ----------
    config : ValidationConfig, optional
        Default: ``validation_config("default", 0)``.
    out_dir : path, optional
        Output folder; rows go to ``out_dir/rows/rowN.json`` as soon as each finishes, then
        ``report.md``, ``results.json`` and the figures are written. ``None``: nothing is written.
    rows : sequence of int
        Which rows (1..5) to run.
    resume : bool
        Reuse rows already in ``out_dir`` whose settings hash matches (default True).
    workers : int, optional
        numba threads for the Langevin kernel (results do not depend on it).
    progress : bool or None
        tqdm bars on stderr (None: only on a terminal).
    command : str, optional
        The command line, recorded in results.json.
    figures : bool
        Write the figures (needs matplotlib).

    Returns
    -------
    ValidationReport
    """
    config = config or validation_config()
    if not isinstance(config, ValidationConfig):
        raise InputError(f"config must be a ValidationConfig, got {type(config).__name__}")
    rows = tuple(check_int("rows", r, minimum=1) for r in rows)
    for r in rows:
        if r > 5:
            raise InputError(f"rows must be in 1..5, got {r}")
    if workers is not None:
        workers = check_int("workers", workers, minimum=1)
    out = None if out_dir is None else check_out_dir(out_dir)
    if out is not None:
        (out / "rows").mkdir(parents=True, exist_ok=True)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    t0 = time.perf_counter()
    results, reused = [], []
    show = bool(progress) if progress is not None else sys.stderr.isatty()
    bar = None
    if show:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(rows), unit="row", desc="validate", file=sys.stderr)
    try:
        for r in rows:
            h = _row_hash(config, r)
            path = None if out is None else out / "rows" / f"row{r}.json"
            res = _load_row(path, h) if (resume and path is not None and path.exists()) else None
            if res is not None:
                reused.append(r)
            else:
                if bar is not None:
                    bar.set_postfix_str(f"row {r}: {ROW_TITLES[r][:40]}")
                parts_dir = None if out is None else out / "rows" / f"row{r}.parts"
                parts = _PartStore(parts_dir if resume else None, h)
                if r in (1, 2):
                    res = _row_langevin_small(r, config.arc if r == 1 else config.chain, config.seed, workers, show,
                                              parts)
                elif r == 3:
                    res = _row_network(config.network, config.seed, workers, show, parts)
                elif r == 4:
                    res = _row_sgd_reverse(config.sgd_reverse, config.seed, show, parts)
                else:
                    res = _row_sgd_trap(config.sgd_reverse, config.sgd_trap, config.seed, show)
                if path is not None:
                    _atomic_write(path, json.dumps({"hash": h, "result": res.to_dict()}, allow_nan=False))
                    if parts_dir is not None and parts_dir.is_dir():
                        shutil.rmtree(parts_dir, ignore_errors=True)  # the row file now holds everything
            results.append(res)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    report = ValidationReport(
        config=config, rows=tuple(results), out_dir=None if out is None else str(out),
        wall_seconds=time.perf_counter() - t0, command=command or "langevin_grok.validation.validate.run_validation",
        environment=_environment(), started=started, reused_rows=tuple(reused),
    )
    if out is not None:
        names = make_figures(report, out) if figures else ()
        report = replace(report, figures=tuple(names))
        write_outputs(report, out)
    return report


# --------------------------------------------------------------------------- table and report
TABLE_HEADERS = ["row", "dynamics", "setting", "prediction", "measured [95% CI]", "ratio", "seeds", "steps",
                 "verdict"]
_SHORT_DYN = {1: "Langevin 1-D", 2: "Langevin chain", 3: "Langevin net+T", 4: "plain SGD", 5: "plain SGD"}


def table_rows(report: ValidationReport) -> list[list]:
    """One list of cells per table line (rows 1-2: one line per temperature; row 4: fitted barrier)."""
    out = []
    for r in report.rows:
        if r.row in (1, 2):
            for p in r.points:
                out.append([f"{r.row}", _SHORT_DYN[r.row], f"dE/T={p['barrier_over_t']:g}",
                            f"{_fmt(p['prediction'])} ({'exact' if r.row == 1 else 'EK'})",
                            f"{_fmt(p['mean'])} [{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}]",
                            _fmt(p["ratio"], 3), str(p["n_paths"]), str(p["path_steps"]), p["verdict"]])
            c = r.measurement["combined"]
            out.append([f"{r.row}", _SHORT_DYN[r.row], "all T", "combined", f"chi2={_fmt(c['chi2'], 3)}/{c['dof']}",
                        f"p={_fmt(c['pvalue'], 3)}", str(r.n_seeds), str(r.steps), r.verdict.upper()])
        elif r.row == 3:
            for p in r.points:
                out.append(["3", _SHORT_DYN[3], f"dE1D/T={p['barrier_over_t']:g}",
                            f"n/a (ref {_fmt(p['reference_exact_1d'])})",
                            f"{_fmt(p['mean'])} [{_fmt(p['ci_low'])}, {_fmt(p['ci_high'])}]",
                            f"{_fmt(p['ratio_to_reference'], 3)} (ref)", str(p["n_paths"]), str(p["path_steps"]),
                            r.verdict.upper()])
        elif r.row == 4:
            m = r.measurement
            out.append(["4", _SHORT_DYN[4], f"lr={r.parameters['lr']:g}, {len(r.points)} B",
                        f"dE={_fmt(r.prediction['value'])}",
                        f"{_fmt(m['value'])} [{_fmt(m['ci_low'])}, {_fmt(m['ci_high'])}]",
                        _fmt(r.ratio, 3), str(r.n_seeds), str(r.steps), r.verdict.upper()])
        else:
            p = r.points[0]
            out.append(["5", _SHORT_DYN[5], f"c_e={_fmt(p['c_e'])}", "0 escapes (absorbing)",
                        f"{p['n_escaped']}/{p['n_replicas']} escaped", "-", str(r.n_seeds), str(r.steps),
                        r.verdict.upper()])
    return out


def format_table(report: ValidationReport) -> str:
    """The plain-text table printed by the command."""
    from ..cli._common import format_table as _ft

    return _ft(TABLE_HEADERS, table_rows(report))


def render_report(report: ValidationReport) -> str:
    """report.md: the table, then a paragraph per row."""
    c = report.config
    lines = [f"# langevin-grok validate ({c.mode})", "",
             f"Command: `{report.command}`  ", f"Started {report.started}, wall time {report.wall_seconds:.1f} s, "
             f"root seed {c.seed}, langevin_grok {report.environment.get('langevin_grok')}."
             + (f" Rows reused from an earlier run in this folder: {list(report.reused_rows)}."
                if report.reused_rows else ""), "",
             "Times are SDE time t = lr x (SGD steps); intervals are 95 % likelihood-ratio intervals of the "
             "censored exponential MLE. Rows with several temperatures are judged by a combined chi-square "
             f"(agree when p >= {ROW_ALPHA}). Nothing was tuned to make a row agree.", ""]
    hdr = "| " + " | ".join(TABLE_HEADERS) + " |"
    lines += [hdr, "|" + "---|" * len(TABLE_HEADERS)]
    for row in table_rows(report):
        lines.append("| " + " | ".join(str(x) for x in row) + " |")
    lines.append("")
    for r in report.rows:
        lines += [f"## Row {r.row}: {r.title}", "", f"**Dynamics:** {r.dynamics}.  ",
                  f"**Verdict:** {r.verdict} — {r.verdict_text}.  ",
                  f"Seeds: {r.n_seeds} paths/replicas, {r.steps} steps, {r.wall_seconds:.1f} s.", "", r.paragraph, ""]
    if report.figures:
        lines += ["## Figures", ""] + [f"- [{f}]({f})" for f in report.figures] + [""]
    return "\n".join(lines)


def write_outputs(report: ValidationReport, out) -> None:
    """Write ``report.md`` and ``results.json`` into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _atomic_write(out / "results.json", json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n")
    _atomic_write(out / "report.md", render_report(report))


def make_figures(report: ValidationReport, out) -> list[str]:
    """Arrhenius plot, escape-time distributions and survival curves (PNG) into ``out``."""
    from ..report import plotting
    from ..theory.stats import exponential_mle, ks_exponential

    out = Path(out)
    by = {r.row: r for r in report.rows}
    names = []
    # Arrhenius: row 1 (ln tau vs 1/T, Kramers line) and row 4 (ln tau vs 1/T_eff, fit and predicted slope)
    panels = [k for k in (1, 2, 3, 4) if k in by]
    if panels:
        ncols = min(2, len(panels))
        nrows = -(-len(panels) // ncols)
        fig, axes = plotting.new_figure(nrows, ncols)
        axes = np.atleast_1d(axes).ravel()
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        for ax, k in zip(axes, panels):
            r = by[k]
            if k in (2, 3):
                pts = [p for p in r.points if p["n_escaped"] > 0]
                x = np.array([1.0 / p["temperature"] for p in pts])
                y = np.log([p["mean"] for p in pts])
                err = np.array([[math.log(p["mean"] / p["ci_low"]) for p in pts],
                                [math.log(p["ci_high"] / p["mean"]) if p["ci_high"] else 0.0 for p in pts]])
                if k == 2:
                    bar = r.parameters["barrier"]
                    pref = math.log(pts[0]["prediction"]) - bar * x[0] if pts else 0.0
                    plotting.plot_arrhenius(x, y, err, predicted=(bar, pref), predicted_label="Eyring-Kramers",
                                            theory_curves={"1-D exact MFPT": (x, np.log([p["exact_1d"] for p in pts]))},
                                            xlabel=r"$1/T$", title="row 2: scalar chain, Langevin", ax=ax)
                else:
                    app = r.measurement.get("apparent_barrier")
                    plotting.plot_arrhenius(
                        x, y, err, fit=None if app is None else (app["slope"], app["intercept"]),
                        slope_name="apparent slope",
                        theory_curves={"1-D exact MFPT (reference only)":
                                       (x, np.log([p["reference_exact_1d"] for p in pts]))},
                        xlabel=r"$1/T$", title="row 3: network + injected T (no prediction)", ax=ax)
                continue
            if k == 1:
                pts = r.points
                x = np.array([1.0 / p["temperature"] for p in pts])
                y = np.log([p["mean"] for p in pts])
                err = np.array([[math.log(p["mean"] / p["ci_low"]) for p in pts],
                                [math.log(p["ci_high"] / p["mean"]) for p in pts]])
                bar = r.parameters["barrier"]
                pref = [math.log(p["kramers"]) - bar / p["temperature"] for p in pts][0]
                plotting.plot_arrhenius(x, y, err, predicted=(bar, pref), predicted_label="1-D Kramers",
                                        theory_curves={"exact MFPT": (x, np.log([p["prediction"] for p in pts]))},
                                        slope_name=r"$\Delta E$", xlabel=r"$1/T$",
                                        title="row 1: 1-D arc, Langevin", ax=ax)
            else:
                pts = [p for p in r.points if p["n_escaped"] > 0]
                fitd = r.measurement.get("fit")
                x = np.array([p["inv_T_eff"] for p in r.points])
                y = np.array([math.log(p["mean"]) if p["n_escaped"] else np.nan for p in r.points])
                err = np.array([[math.log(p["mean"] / p["ci_low"]) if p["n_escaped"] else 0 for p in r.points],
                                [math.log(p["ci_high"] / p["mean"]) if p["n_escaped"] and
                                 p["ci_high"] is not None and math.isfinite(p["ci_high"]) else 0
                                 for p in r.points]])
                bc = r.prediction["noise_weighted"]["value"]
                lnp = r.parameters["kramers_1d_log_prefactor"]
                lb = np.array([math.log(p["ci_low"]) if not p["n_escaped"] else np.nan for p in r.points])
                plotting.plot_arrhenius(
                    x, y, err, fit=None if fitd is None else (fitd["slope"], fitd["intercept"]),
                    theory_curves={"noise-weighted barrier": (x, lnp + bc * x)},
                    lower_bounds=lb if np.isfinite(lb).any() else None, slope_name=r"$\Delta E_{eff}$",
                    r2=None if fitd is None else fitd["r_squared"],
                    slope_err=None if fitd is None else fitd["slope_se"],
                    predicted=(r.prediction["value"], r.parameters["kramers_1d_log_prefactor"]),
                    predicted_label="1-D Kramers at T_eff", xlabel=r"$1/T_{\rm eff}$ (from $c_e$)",
                    title="row 4: plain SGD, reverse", note=None if pts else "no escapes", ax=ax)
        plotting.save_figure(fig, out, "arrhenius", formats=("png",))
        names.append("arrhenius.png")
    # escape-time distributions and survival curves: coldest point of rows 1-3, and row 4's coldest with escapes
    series = []
    for k in (1, 2, 3):
        if k in by:
            r = by[k]
            t = np.array(r.data["times"][-1])
            e = np.array(r.data["escaped"][-1], dtype=bool)
            if k == 3:
                tau = exponential_mle(t, e).mean if e.any() else None
                lab = "measured MLE"
            else:
                tau, lab = r.points[-1]["prediction"], ("exact MFPT" if k == 1 else "Eyring-Kramers")
            series.append((k, t, e, tau, lab))
    if 5 in by:
        r = by[5]
        t = np.array(r.data["times"][0])
        e = np.array(r.data["escaped"][0], dtype=bool)
        ref = r.points[0].get("reference_iso_exact_1d")
        series.append((5, t, e, ref, "isotropic-T 1-D reference"))
    usable = [s for s in series if s[3] is not None and math.isfinite(s[3]) and s[3] > 0]
    if usable:
        dist = [s for s in usable if s[2].any()]
        if dist:
            fig, axes = plotting.new_figure(1, len(dist))
            for ax, (k, t, e, tau, lab) in zip(np.atleast_1d(axes), dist):
                tt = np.where(e, t, np.nan)
                ks = ks_exponential(t, e, tau=tau) if e.any() else None
                plotting.plot_escape_distribution(tt, tau=tau, ks_pvalue=None if ks is None else ks.pvalue,
                                                  xlabel="escape time (SDE time)", title=f"row {k} ({lab})", ax=ax)
            plotting.save_figure(fig, out, "escape_distribution", formats=("png",))
            names.append("escape_distribution.png")
        fig, axes = plotting.new_figure(1, len(usable))
        for ax, (k, t, e, tau, lab) in zip(np.atleast_1d(axes), usable):
            plotting.plot_survival(t, e, tau=tau, xlabel="time (SDE time)", title=f"row {k} ({lab})", ax=ax)
        plotting.save_figure(fig, out, "survival", formats=("png",))
        names.append("survival.png")
    return names
