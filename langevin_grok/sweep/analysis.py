"""Analysis of a finished (or partial) sweep: pooled censored escape-time estimates per grid point and
Arrhenius fits along the temperature axis. Numbers only; the report layer renders them
(:mod:`langevin_grok.report.sweep_report`).

A *group* is one grid point: every task of one kind whose parameters are equal except for the seed and
the replica. The escape times and censoring flags of all its replicas are pooled and passed to
:func:`langevin_grok.theory.stats.exponential_mle` (censored paths count with their time at risk).
Predictions carried by the task results (any result entry that is a dict with a numeric ``tau``, e.g.
``kramers_1d``, ``exact_mfpt_1d``, ``eyring_kramers_chain`` of the ``kramers`` kind), or by the matching
task of a second, theory store, are shown beside the estimate with the ratio measured / predicted.

Where the grid varies a temperature, the groups that agree in every other parameter form an Arrhenius
*series*: ``ln tau`` against ``x = 1/T`` fitted by :func:`~langevin_grok.theory.stats.arrhenius_fit`
with weights from :func:`~langevin_grok.theory.stats.log_sigma_from_ci` (slope = dE_eff). For the ``sgd``
kind ``x = B / lr``: with independent batches (``replacement = true``) ``T = lr c / (2B)``, so
``x = 2 / (c T)`` and the slope is ``2 dE_eff / c`` (docs/theory.md, section "Escape times", Arrhenius).
For shuffled epochs (the default) the epoch-level temperature scales like ``lr^3`` and ln tau is not
linear in B / lr (docs/theory.md, section "Shuffled epochs"): such series are marked ``marginal``
with reason ``shuffled_epochs``; the fit is still given, as a description of the data.

Times are SDE time (``t = lr x steps`` for SGD, converted from the stored epochs with
:func:`langevin_grok._core.units.epochs_to_sde_time`). The store is opened read-only (SQLite URI
``mode=ro``): the database file is never written. A sweep store is in WAL mode, so SQLite may leave an
empty ``STORE-wal`` and a ``STORE-shm`` (its shared-memory index) beside it after a read-only open; the
next writer removes them when it closes. They are not deleted here: another process may be using them.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from urllib.parse import quote

import numpy as np

from .._core.checks import InputError, check_choice, check_positive
from .._core.errors import Status, Validity, Verdict
from .._core.units import epochs_to_sde_time
from ..theory.stats import ArrheniusFit, EscapeTimeEstimate, arrhenius_fit, exponential_mle, log_sigma_from_ci
from .config import canonical_json
from .store import SCHEMA_VERSION

__all__ = ["Prediction", "GroupEstimate", "ArrheniusSeries", "SweepAnalysis", "summarise_sweep",
           "read_store_rows", "escape_times"]

SDE_TIME = "sde_time"
INVERSE_TEMPERATURE = "inverse_temperature"  # x = 1/T, T in loss units
BATCH_OVER_LR = "batch_over_lr"  # x = B / lr (B samples, lr SDE time per step)


# ------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Prediction:
    """One theoretical mean escape time of a group, compared with the pooled estimate.

    Attributes
    ----------
    name : str
        Result entry it came from (``"exact_mfpt_1d"``, ``"kramers_1d"``, ...).
    source : str
        ``"task"`` (carried by the group's own results) or ``"theory_store"``.
    tau : float
        Predicted mean escape time (SDE time).
    barrier, barrier_over_t : float or None
        As carried by the prediction.
    ratio : float or None
        Measured / predicted (None without an estimate or with zero escapes).
    verdict : Verdict
        ``agrees`` if tau lies in the estimate's confidence interval, ``disagrees`` if outside,
        ``inconclusive`` with zero escapes and tau above the lower bound, ``no_data`` without an estimate.
        Statistical only: a discretisation bias of the simulation also shows as ``disagrees``.
    """

    name: str
    source: str
    tau: float
    barrier: float | None
    barrier_over_t: float | None
    ratio: float | None
    verdict: Verdict

    def to_dict(self) -> dict:
        d = asdict(self)
        d["verdict"] = self.verdict.value
        return d


@dataclass(frozen=True)
class GroupEstimate:
    """Pooled estimate at one grid point.

    Attributes
    ----------
    params : dict
        The group's parameters (every schema parameter of the kind; no seed, no replica).
    n_tasks : int
        Replicas (done tasks) pooled.
    seeds : tuple of int
    n_paths, n_events, n_censored : int
        Pooled paths, escapes and censored paths (0 when the kind has no escape times).
    n_excluded : int
        Paths left out of the estimate (diverged SGD replicas).
    x : float or None
        Arrhenius abscissa of the group (see the module docstring), None if the kind has none.
    estimate : EscapeTimeEstimate or None
        :func:`exponential_mle` of the pooled times (SDE time); None for kinds without escape times.
    status : Status
        ``ok``; ``censored`` (no escape: the estimate is a lower bound only); ``no_data`` (no escape times).
    predictions : tuple of Prediction
    """

    params: dict
    n_tasks: int
    seeds: tuple
    n_paths: int
    n_events: int
    n_censored: int
    n_excluded: int
    x: float | None
    estimate: EscapeTimeEstimate | None
    status: Status
    predictions: tuple

    def to_dict(self) -> dict:
        return {"params": dict(self.params), "n_tasks": self.n_tasks, "seeds": list(self.seeds),
                "n_paths": self.n_paths, "n_events": self.n_events, "n_censored": self.n_censored,
                "n_excluded": self.n_excluded, "x": self.x, "status": self.status.value,
                "estimate": None if self.estimate is None else self.estimate.to_dict(),
                "predictions": [p.to_dict() for p in self.predictions]}


@dataclass(frozen=True)
class ArrheniusSeries:
    """``ln tau`` against x over the groups that share every parameter but the temperature ones.

    Attributes
    ----------
    fixed : dict
        The parameters shared by the series (the varying ones excluded).
    abscissa : str
        ``"inverse_temperature"`` (x = 1/T) or ``"batch_over_lr"`` (x = B / lr).
    group_indices : tuple of int
        Indices into :attr:`SweepAnalysis.groups`, in increasing x.
    n_used, n_dropped : int
        Points in the fit, and points left out (zero escapes: no finite tau).
    fit : ArrheniusFit or None
        Weighted fit of the measured tau (weights from the confidence intervals); None below 3 points.
    status : Status
        ``ok`` or ``no_data`` (fewer than 3 points with escapes, or fewer than 2 distinct x).
    predicted_fits : dict of str -> ArrheniusFit
        Unweighted fit of each prediction carried by every used point, over the same x: the effective
        slope the theory gives on this grid (compare it with :attr:`fit`, not with the bare barrier).
    barrier : float or None
        The barrier carried by the predictions, if they agree on one value.
    validity : Validity
        Whether ln tau is expected to be linear in x: ``valid`` for x = 1/T and for SGD with independent
        batches, ``marginal`` for SGD with shuffled epochs (see the module docstring).
    reason : str or None
        Code of a ``marginal`` validity (``"shuffled_epochs"``).
    """

    fixed: dict
    abscissa: str
    group_indices: tuple
    n_used: int
    n_dropped: int
    fit: ArrheniusFit | None
    status: Status
    predicted_fits: dict
    barrier: float | None
    validity: Validity = Validity.VALID
    reason: str | None = None

    def to_dict(self) -> dict:
        return {"fixed": dict(self.fixed), "abscissa": self.abscissa, "group_indices": list(self.group_indices),
                "n_used": self.n_used, "n_dropped": self.n_dropped, "status": self.status.value,
                "fit": None if self.fit is None else self.fit.to_dict(),
                "predicted_fits": {k: v.to_dict() for k, v in self.predicted_fits.items()},
                "barrier": self.barrier, "validity": self.validity.value, "reason": self.reason}


@dataclass(frozen=True)
class SweepAnalysis:
    """Everything :func:`summarise_sweep` computed from one store.

    Attributes
    ----------
    store : str
    kind : str
    kind_version : str
        Version of the task function that computed every analysed task.
    sweeps : tuple of str
        Sweep names that stored the analysed tasks.
    n_done, n_failed : int
        Done tasks analysed; failed tasks of the kind in the store (not analysed).
    package_versions : tuple of str
        langevin-grok versions that computed the tasks.
    time_unit : str or None
        ``"sde_time"`` for kinds with escape times.
    abscissa : str or None
        Arrhenius abscissa of the kind (None: the grid varies no temperature).
    varying : tuple of str
        Parameters that differ between groups.
    fixed : dict
        Parameters equal in every group.
    confidence : float
    method : str
        Interval method of :func:`exponential_mle`.
    theory_store : str or None
    groups : tuple of GroupEstimate
    series : tuple of ArrheniusSeries
    """

    store: str
    kind: str
    kind_version: str
    sweeps: tuple
    n_done: int
    n_failed: int
    package_versions: tuple
    time_unit: str | None
    abscissa: str | None
    varying: tuple
    fixed: dict
    confidence: float
    method: str
    theory_store: str | None
    groups: tuple
    series: tuple

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("store", "kind", "kind_version", "n_done", "n_failed", "time_unit", "abscissa",
                                           "confidence", "method", "theory_store")}
        d.update(sweeps=list(self.sweeps), package_versions=list(self.package_versions),
                 varying=list(self.varying), fixed=dict(self.fixed),
                 groups=[g.to_dict() for g in self.groups], series=[s.to_dict() for s in self.series])
        return d


# ------------------------------------------------------------------------------------------ store
def _connect_ro(path) -> tuple[sqlite3.Connection, Path]:
    p = Path(path)
    if not p.exists():
        raise InputError(f"store not found: {str(p)!r}")
    if p.is_dir():
        raise InputError(f"store must be an SQLite file, got the folder {str(p)!r}")
    uri = f"file:{quote(str(p.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=60.0)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise InputError(f"store {str(p)!r} is not an SQLite sweep store ({exc})") from None
    if not {"meta", "tasks"} <= tables:
        conn.close()
        raise InputError(f"store {str(p)!r} is not a langevin-grok sweep store (no meta/tasks tables)")
    row = conn.execute("SELECT value FROM meta WHERE name='schema_version'").fetchone()
    if row is None or row[0] != SCHEMA_VERSION:
        conn.close()
        raise InputError(f"store {str(p)!r} has schema version {None if row is None else row[0]!r}, "
                         f"this langevin-grok reads {SCHEMA_VERSION}")
    return conn, p


def read_store_rows(path) -> tuple[list[dict], dict]:
    """Done tasks of a store, read-only: ``(rows, failed_per_kind)``.

    Each row: ``kind``, ``kind_version``, ``sweep``, ``params`` (dict), ``replica``, ``seed``, ``result`` (dict),
    ``package_version``, in the order written. Raises InputError for a missing file, a folder, a file
    that is not a sweep store.
    """
    conn, _ = _connect_ro(path)
    try:
        cur = conn.execute("SELECT kind, kind_version, sweep, params, replica, seed, result, package_version "
                           "FROM tasks WHERE status='done' ORDER BY rowid")
        rows = [{"kind": k, "kind_version": kv, "sweep": s, "params": json.loads(p), "replica": r, "seed": sd,
                 "result": json.loads(res) if res is not None else {}, "package_version": v}
                for k, kv, s, p, r, sd, res, v in cur]
        failed = dict(conn.execute("SELECT kind, COUNT(*) FROM tasks WHERE status='failed' GROUP BY kind").fetchall())
    finally:
        conn.close()
    return rows, failed


# ------------------------------------------------------------------------------------------ per-kind extraction
def _times_simulate(params: dict, result: dict):
    t = np.asarray(result["times"], dtype=float)
    return t, np.asarray(result["event"]) >= 0, 0




def _times_sgd(params: dict, result: dict):
    epochs, rank = result["escape_epochs"], result["final_rank"]
    keep = [i for i, r in enumerate(rank) if r is not None]  # final_rank None: diverged replica
    end = float(result["epochs_run"])
    ep = np.array([end if epochs[i] is None else float(epochs[i]) for i in keep], dtype=float)
    esc = np.array([epochs[i] is not None for i in keep], dtype=bool)
    t = epochs_to_sde_time(ep, params["lr"], params["batch"], params["n_train"])
    return np.asarray(t, dtype=float), esc, len(rank) - len(keep)


def _times_generic(params: dict, result: dict):
    if "times" in result and "escaped" in result:
        return np.asarray(result["times"], dtype=float), np.asarray(result["escaped"], dtype=bool), 0
    return None


_EXTRACT: dict[str, Callable] = {"simulate": _times_simulate, "sgd": _times_sgd}


def escape_times(kind: str, params: dict, result: dict):
    """``(times, escaped, n_excluded)`` of one task in SDE time, or None if the kind has no escape times."""
    return _EXTRACT.get(kind, _times_generic)(params, result)


def _abscissa(kind: str, params: dict) -> tuple[str, tuple, float] | None:
    """(abscissa name, the parameters it is made of, x) or None."""
    if kind == "sgd":
        return BATCH_OVER_LR, ("lr", "batch"), params["batch"] / params["lr"]
    T = params.get("temperature")
    if isinstance(T, (int, float)) and not isinstance(T, bool) and T > 0:
        return INVERSE_TEMPERATURE, ("temperature",), 1.0 / T
    return None


def _predictions_of(result: dict) -> dict:
    out = {}
    for name, v in result.items():
        if isinstance(v, dict):
            tau = v.get("tau")
            if isinstance(tau, (int, float)) and not isinstance(tau, bool) and math.isfinite(tau) and tau > 0:
                out[name] = v
    return out


def _compare(name: str, source: str, pred: dict, est: EscapeTimeEstimate | None) -> Prediction:
    tau = float(pred["tau"])
    ratio, verdict = None, Verdict.NO_DATA
    if est is not None:
        if est.n_events:
            ratio = est.mean / tau
            verdict = Verdict.AGREES if est.ci_low <= tau <= est.ci_high else Verdict.DISAGREES
        else:
            verdict = Verdict.DISAGREES if tau < est.ci_low else Verdict.INCONCLUSIVE

    def num(key):
        v = pred.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    return Prediction(name, source, tau, num("barrier"), num("barrier_over_t"), ratio, verdict)


# ------------------------------------------------------------------------------------------ grouping
def _group_rows(rows: list[dict]) -> list[list[dict]]:
    by: dict[str, list[dict]] = {}
    for r in rows:
        by.setdefault(canonical_json(r["params"]), []).append(r)
    return list(by.values())


def _theory_index(theory_rows: list[dict]) -> list[tuple[dict, dict]]:
    return [(r["params"], _predictions_of(r["result"])) for r in theory_rows if _predictions_of(r["result"])]


def _theory_for(params: dict, index: list[tuple[dict, dict]]) -> dict:
    """Predictions of the one theory task whose parameters all equal the group's (none if 0 or > 1 match)."""
    hits = [preds for tp, preds in index if all(k in params and params[k] == v for k, v in tp.items())]
    return hits[0] if len(hits) == 1 else {}


def _estimate_group(kind: str, rows: list[dict], theory, confidence: float, method: str) -> GroupEstimate:
    params = rows[0]["params"]
    rows = sorted(rows, key=lambda r: r["replica"])
    try:
        parts = [escape_times(kind, r["params"], r["result"]) for r in rows]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"a stored {kind} result at {canonical_json(params)} lacks or garbles its escape times "
                         f"({type(exc).__name__}: {exc})") from None
    est, status, n_excl = None, Status.NO_DATA, 0
    if all(p is not None for p in parts):
        t = np.concatenate([p[0] for p in parts])
        e = np.concatenate([p[1] for p in parts])
        n_excl = sum(p[2] for p in parts)
        if t.size and t.sum() > 0:
            est = exponential_mle(t, e, confidence=confidence, method=method)
            status = Status.OK if est.n_events else Status.CENSORED
    preds = [_compare(n, "task", v, est) for n, v in _predictions_of(rows[0]["result"]).items()]
    preds += [_compare(n, "theory_store", v, est) for n, v in _theory_for(params, theory).items()]
    ab = _abscissa(kind, params)
    return GroupEstimate(
        params=dict(params), n_tasks=len(rows), seeds=tuple(int(r["seed"]) for r in rows),
        n_paths=0 if est is None else est.n_paths, n_events=0 if est is None else est.n_events,
        n_censored=0 if est is None else est.n_censored, n_excluded=n_excl,
        x=None if ab is None else float(ab[2]), estimate=est, status=status, predictions=tuple(preds))


def _series(kind: str, groups: list[GroupEstimate], varying: tuple) -> tuple[ArrheniusSeries, ...]:
    ab = _abscissa(kind, groups[0].params)
    if ab is None or not set(ab[1]) & set(varying):
        return ()
    name, xparams = ab[0], ab[1]
    by: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        rest = {k: v for k, v in g.params.items() if k not in xparams}
        by.setdefault(canonical_json(rest), []).append(i)
    out = []
    for idx in by.values():
        idx = sorted(idx, key=lambda i: groups[i].x)
        rest = {k: v for k, v in groups[idx[0]].params.items() if k not in xparams and k in varying}
        s = _fit_series(groups, idx, rest, name)
        if kind == "sgd" and not groups[idx[0]].params.get("replacement", False):
            s = replace(s, validity=Validity.MARGINAL, reason="shuffled_epochs")
        out.append(s)
    return tuple(out)


def _fit_series(groups, idx: list[int], fixed: dict, name: str) -> ArrheniusSeries:
    used = [i for i in idx if groups[i].estimate is not None and groups[i].n_events > 0
            and math.isfinite(groups[i].x)]
    fit, status, pfits, barrier = None, Status.NO_DATA, {}, None
    xs = np.array([groups[i].x for i in used], dtype=float)
    if len(used) >= 3 and np.ptp(xs) > 0:
        ests = [groups[i].estimate for i in used]
        sig = log_sigma_from_ci([e.ci_low for e in ests], [e.ci_high for e in ests], ests[0].confidence)
        fit = arrhenius_fit(xs, [e.mean for e in ests], sig, confidence=ests[0].confidence)
        status = Status.OK
        names = [p.name for p in groups[used[0]].predictions]
        for n in names:
            taus = [next((p.tau for p in groups[i].predictions if p.name == n), None) for i in used]
            if all(t is not None for t in taus):
                pfits[n] = arrhenius_fit(xs, taus, confidence=ests[0].confidence)
        bars = [p.barrier for i in used for p in groups[i].predictions if p.barrier is not None]
        if bars and max(bars) - min(bars) <= 1e-9 * max(abs(b) for b in bars):
            barrier = float(bars[0])
    return ArrheniusSeries(fixed=fixed, abscissa=name, group_indices=tuple(idx), n_used=len(used),
                           n_dropped=len(idx) - len(used), fit=fit, status=status, predicted_fits=pfits,
                           barrier=barrier)


def _varying(groups: list[GroupEstimate]) -> tuple[tuple, dict]:
    names = list(groups[0].params)
    vary = tuple(n for n in names if len({canonical_json(g.params.get(n)) for g in groups}) > 1)
    fixed = {n: groups[0].params[n] for n in names if n not in vary}
    return vary, fixed


# ------------------------------------------------------------------------------------------ entry point
def summarise_sweep(store_path, *, kind: str | None = None, sweep: str | None = None, theory=None,
                    kind_version: str | None = None, confidence: float = 0.95, method: str = "lr") -> SweepAnalysis:
    """Pooled censored escape-time estimates per grid point and Arrhenius fits of a sweep store.

    Parameters
    ----------
    store_path : str or PathLike
        A sweep store (:class:`langevin_grok.sweep.store.SweepStore`), opened read-only.
    kind : str, optional
        Task kind to analyse; required when the store holds more than one.
    sweep : str, optional
        Only tasks first stored by the sweep of this name.
    theory : str or PathLike, optional
        A second store (e.g. of the deterministic ``kramers`` kind over the same grid) whose task
        predictions are joined to the groups whose parameters contain all of the theory task's.
    kind_version : str, optional
        Version of the task function (:class:`~langevin_grok.sweep.registry.TaskKind`); required when the
        store holds tasks of several versions (they are never pooled).
    confidence : float
        Coverage of the intervals, in (0, 1).
    method : {"lr", "chi2"}
        Interval method of :func:`~langevin_grok.theory.stats.exponential_mle`.

    Returns
    -------
    SweepAnalysis
        Groups in the order their first task was written; series in the order of their first group.

    Raises
    ------
    InputError
        Missing file, a folder, not a sweep store, no done task (of the kind/sweep asked), several kinds
        without ``kind``, several task-function versions without ``kind_version``.

    Notes
    -----
    Pooling replicas is exact for the exponential law: the censored likelihood of the pooled paths is
    the product of the replicas' likelihoods (same tau at one grid point), so ``tau_hat = S / d`` with S
    the total time at risk and d the escapes of all replicas (see :mod:`langevin_grok.theory.stats`).
    """
    method = check_choice("method", method, ("lr", "chi2"))
    if not 0 < check_positive("confidence", confidence) < 1:
        raise InputError(f"confidence must lie in (0, 1), got {confidence!r}")
    rows, failed = read_store_rows(store_path)
    if sweep is not None:
        rows = [r for r in rows if r["sweep"] == sweep]
    kinds = sorted({r["kind"] for r in rows})
    if kind is not None:
        rows = [r for r in rows if r["kind"] == kind]
    elif len(kinds) > 1:
        raise InputError(f"store {str(store_path)!r} holds several kinds ({', '.join(kinds)}): choose one with kind")
    if not rows:
        what = "" if kind is None and sweep is None else f" (kind={kind!r}, sweep={sweep!r})"
        raise InputError(f"store {str(store_path)!r} has no done tasks{what}")
    kind = rows[0]["kind"]
    if kind_version is not None:
        rows = [r for r in rows if r["kind_version"] == str(kind_version)]
        if not rows:
            raise InputError(f"store {str(store_path)!r} has no done {kind} tasks of kind_version {kind_version!r}")
    versions = sorted({r["kind_version"] for r in rows})
    if len(versions) > 1:
        raise InputError(f"store {str(store_path)!r} holds {kind} tasks of versions {', '.join(versions)} of the task "
                         "function (never pooled): choose one with kind_version")
    theory_index = _theory_index(read_store_rows(theory)[0]) if theory is not None else []
    groups = [_estimate_group(kind, g, theory_index, confidence, method) for g in _group_rows(rows)]
    varying, fixed = _varying(groups)
    has_times = any(g.estimate is not None for g in groups)
    ab = _abscissa(kind, groups[0].params)
    return SweepAnalysis(
        store=str(store_path), kind=kind, kind_version=versions[0], sweeps=tuple(dict.fromkeys(r["sweep"] for r in rows)),
        n_done=len(rows), n_failed=int(failed.get(kind, 0)),
        package_versions=tuple(sorted({r["package_version"] for r in rows})),
        time_unit=SDE_TIME if has_times else None,
        abscissa=None if ab is None or not set(ab[1]) & set(varying) else ab[0],
        varying=varying, fixed=fixed, confidence=float(confidence), method=method,
        theory_store=None if theory is None else str(theory), groups=tuple(groups),
        series=_series(kind, groups, varying) if has_times else ())
