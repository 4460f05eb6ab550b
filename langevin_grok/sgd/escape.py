"""Escape detection on SGD records: per-replica escape epochs by one criterion (censored = ``None``).

Criteria: the seed paper's test-MSE midpoint (:func:`escape_by_test_mse`), a projected singular value past a
threshold (:func:`escape_by_singular_value`), and the package's one escape event on a mode amplitude
(:func:`escape_by_mode_amplitude`, :func:`mode_amplitude_rule`: the level of
:func:`langevin_grok.landscape.escape.escape_target`). An :class:`EscapeRule` can also stop a run early
(``trainer.train(stop_rule=...)``).
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._core.checks import InputError, check_choice, check_depth, check_finite, check_int, check_nonnegative
from ..landscape.modes import mode_landscape

if TYPE_CHECKING:
    from .trainer import TrainResult

__all__ = ["EscapeResult", "escape_by_test_mse", "escape_by_singular_value", "escape_by_mode_amplitude",
           "EscapeRule", "singular_value_rule", "mode_amplitude_rule", "escape_by_rule", "rule_event"]


@dataclass(frozen=True)
class EscapeResult:
    """Per-replica escape epochs by one criterion; ``None`` marks a censored (or diverged) replica.

    Attributes
    ----------
    criterion : "test_mse", "singular_value" or "mode_amplitude".
    epochs : tuple of float | None, one per replica (recorded epoch at which the criterion first held).
    diverged : tuple of bool (a diverged replica is never counted as escaped).
    threshold : the threshold(s) used (scalar, or per replica for "test_mse").
    details : dict of the criterion's parameters.
    """

    criterion: str
    epochs: tuple
    diverged: tuple
    threshold: object
    details: dict

    @property
    def n_escaped(self) -> int:
        return sum(e is not None for e in self.epochs)

    @property
    def n_censored(self) -> int:
        return sum(e is None and not d for e, d in zip(self.epochs, self.diverged))

    @property
    def n_diverged(self) -> int:
        return sum(self.diverged)

    def times(self) -> tuple[np.ndarray, np.ndarray]:
        """``(epochs, observed)`` arrays for censored-data statistics: censored replicas carry the
        last recorded epoch with ``observed = False`` (diverged replicas are left out)."""
        keep = [i for i, d in enumerate(self.diverged) if not d]
        end = float(self.details.get("last_epoch", np.nan))
        t = np.array([self.epochs[i] if self.epochs[i] is not None else end for i in keep], dtype=float)
        obs = np.array([self.epochs[i] is not None for i in keep], dtype=bool)
        return t, obs

    def to_dict(self) -> dict:
        thr = self.threshold.tolist() if isinstance(self.threshold, np.ndarray) else self.threshold
        return {"criterion": self.criterion, "escape_epochs": list(self.epochs), "n_escaped": self.n_escaped,
                "n_censored": self.n_censored, "n_diverged": self.n_diverged, "threshold": thr,
                "details": self.details}


def _first_crossing(curve: np.ndarray, epochs: np.ndarray, threshold, below: np.ndarray) -> list:
    """First recorded epoch where ``curve[:, i]`` is <= (below) or >= (above) the threshold."""
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), curve.shape[1:])
    hit = np.where(below[None, :], curve <= thr[None, :], curve >= thr[None, :])
    hit &= np.isfinite(curve)
    out = []
    for i in range(curve.shape[1]):
        k = np.flatnonzero(hit[:, i])
        out.append(float(epochs[k[0]]) if k.size else None)
    return out


def _finish(result: TrainResult, criterion, epochs, threshold, details) -> EscapeResult:
    div = tuple(bool(d) for d in result.diverged)
    epochs = tuple(None if d else e for e, d in zip(epochs, div))
    details = dict(details, last_epoch=float(result.epochs[-1]))
    return EscapeResult(criterion, epochs, div, threshold, details)


def escape_by_test_mse(result: TrainResult, plateau=None, final=None, final_fraction: float = 0.05,
                       min_change: float = 1e-2) -> EscapeResult:
    """The seed paper's criterion: the first recorded epoch at which the test MSE has crossed the
    midpoint between its plateau and its final value.

    Parameters
    ----------
    plateau : float or (M,), optional
        Plateau value (default: each replica's test MSE at the first record, i.e. the initial state).
    final : float or (M,), optional
        Final value (default: each replica's median over the last ``final_fraction`` of the records).
    min_change : float
        A replica whose ``|final - plateau|`` is below this (MSE units) did not move: censored.
    """
    te = result.test_mse
    plateau = te[0] if plateau is None else np.broadcast_to(np.asarray(plateau, float), te.shape[1:])
    if final is None:
        n = max(1, int(round(final_fraction * te.shape[0])))
        final = np.median(te[-n:], axis=0)
    else:
        final = np.broadcast_to(np.asarray(final, float), te.shape[1:])
    min_change = check_nonnegative("min_change", min_change)
    mid = 0.5 * (plateau + final)
    ep = _first_crossing(te, result.epochs, mid, below=final < plateau)
    moved = np.abs(final - plateau) >= min_change
    ep = [e if m else None for e, m in zip(ep, moved)]
    return _finish(result, "test_mse", ep, mid, {"min_change": min_change, "final_fraction": final_fraction})


@dataclass(frozen=True)
class EscapeRule:
    """An escape criterion that can be checked while training (for early stopping) and after it.

    ``values(mode_sv)`` maps the projected singular values ``u_i^T M v_i`` (``(..., p)``) of ``mode`` to
    the criterion's variable (the singular value itself, or the mode amplitude
    ``a = sign(lambda)|lambda|^(1/L)``); a replica has escaped once that variable is ``<= threshold``
    (``below``) or ``>= threshold``. Build one with :func:`singular_value_rule` or
    :func:`mode_amplitude_rule`; :func:`escape_by_singular_value` and :func:`escape_by_mode_amplitude`
    apply the same rule to recorded curves, and :func:`train` (``stop_rule``) checks it at every record.

    ``basis`` says which projection the rule reads: ``"population"`` (``TrainResult.mode_sv``, the data
    model's singular vectors) or ``"empirical"`` (``TrainResult.mode_sv_empirical``, the training set's);
    ``key`` is the name of that array.
    """

    criterion: str
    mode: int
    threshold: float
    below: bool
    amplitude_depth: int | None = None
    details: dict = field(default_factory=dict)
    basis: str = "population"

    @property
    def key(self) -> str:
        return "mode_sv_empirical" if self.basis == "empirical" else "mode_sv"

    def values(self, mode_sv: np.ndarray) -> np.ndarray:
        lam = np.asarray(mode_sv, dtype=float)[..., self.mode]
        if self.amplitude_depth is None:
            return lam
        return np.sign(lam) * np.abs(lam) ** (1.0 / self.amplitude_depth)

    def hit(self, mode_sv: np.ndarray) -> np.ndarray:
        """Boolean (...,): the criterion holds (NaN, i.e. diverged, never counts)."""
        x = self.values(mode_sv)
        with np.errstate(invalid="ignore"):
            h = x <= self.threshold if self.below else x >= self.threshold
        return h & np.isfinite(x)


_BASES = ("population", "empirical")


def rule_event(rule: EscapeRule, data, depth: int, width: int):
    """``event(thetas) -> bool (M,)``: ``rule`` evaluated on weight vectors (M, D) of a width-``width`` network,
    with the projection the trainer records for the rule's basis (the escape event of a theory that works in
    weight space, e.g. :func:`langevin_grok.sgd.escape_plane.plane_mfpt`)."""
    from .data import empirical_cross_svd
    from .trainer import end_to_end, unpack

    if rule.basis == "empirical":
        u, _, vt = empirical_cross_svd(data, "train")
        v = vt.T
    else:
        u, v = data.u, data.v
    p = data.x_train.shape[1]

    def event(thetas):
        M = end_to_end(unpack(np.atleast_2d(np.asarray(thetas, dtype=float)), depth, width, p))
        return rule.hit(np.einsum("ji,mjk,ki->mi", u, M, v))
    return event


def rule_projection(rule: EscapeRule, data) -> tuple:
    """``(u, v, threshold)``: ``rule`` as a level on the end-to-end map, escape once ``u^T W v <= threshold``
    (u, v the rule's basis vectors of its mode; a mode-amplitude level a converted to lambda = sign(a)|a|^L).
    The event form of :func:`langevin_grok.sgd.end_to_end.end_to_end_escape`; only rules that fire below
    their level have it."""
    from .data import empirical_cross_svd

    if not rule.below:
        raise InputError(f"rule must fire below its level for a projection event, got a rule that fires above "
                         f"{rule.threshold!r}")
    if rule.basis == "empirical":
        u, _, vt = empirical_cross_svd(data, "train")
        v = vt.T
    else:
        u, v = data.u, data.v
    thr = rule.threshold
    if rule.amplitude_depth is not None:
        thr = math.copysign(abs(thr) ** rule.amplitude_depth, thr)
    return (np.ascontiguousarray(u[:, rule.mode]), np.ascontiguousarray(v[:, rule.mode]), float(thr))


def singular_value_rule(mode: int, threshold: float, direction: str = "up", dim: int | None = None,
                        basis: str = "population") -> EscapeRule:
    """Rule of :func:`escape_by_singular_value`: ``u_i^T M v_i`` of ``mode`` rises above (``"up"``) or
    falls below (``"down"``) ``threshold``; ``basis`` picks the population or empirical ``u_i, v_i``."""
    mode = check_int("mode", mode, minimum=0)
    if dim is not None and mode >= dim:
        raise InputError(f"mode must be < dim ({dim}), got {mode}")
    thr = check_finite("threshold", threshold)
    direction = check_choice("direction", direction, ("up", "down"))
    basis = check_choice("basis", basis, _BASES)
    return EscapeRule("singular_value", mode, thr, direction == "down",
                      details={"mode": mode, "direction": direction, "basis": basis}, basis=basis)


def mode_amplitude_rule(depth: int, sv: float, beta: float, mode: int, direction: str = "forward",
                        basis: str = "population") -> EscapeRule:
    """Rule of :func:`escape_by_mode_amplitude` for a mode of singular value ``sv`` at ``beta``.

    The level is the one escape definition of the package, :func:`langevin_grok.landscape.escape.escape_target`
    (also used by the Langevin engine's events, :func:`langevin_grok.langevin.events.escape_setup`):
    ``"forward"``: lambda rises above ``(lambda_sad + lambda_min)/2``; ``"reverse"``: lambda falls below
    ``lambda_sad/2``. The rule reads the amplitude ``a = sign(lambda)|lambda|^(1/L)`` against
    ``threshold = a_target = lambda_target^(1/L)`` (the same event: the map is monotone).
    ``basis``: which projection lambda is read from (``"empirical"`` when ``sv`` is the training set's
    singular value). Raises InputError if the mode is not bistable at ``beta`` (no saddle to cross).
    """
    from ..landscape.escape import escape_target

    L = check_depth(depth)
    mode = check_int("mode", mode, minimum=0)
    direction = check_choice("direction", direction, ("forward", "reverse"))
    basis = check_choice("basis", basis, _BASES)
    eta = check_finite("sv", sv)
    ml = mode_landscape(L, eta, beta)
    if ml.a_saddle is None or ml.a_min is None:
        raise InputError(f"mode {mode} (sv={eta:g}) has no saddle at beta={beta:g} (phase {ml.phase})")
    tgt = escape_target(L, eta, beta, direction)
    return EscapeRule("mode_amplitude", mode, float(tgt.a_target), direction == "reverse", amplitude_depth=L,
                      details={"mode": mode, "direction": direction, "sv": eta, "a_saddle": ml.a_saddle,
                               "a_min": ml.a_min, "lambda_target": tgt.lambda_target,
                               "lambda_saddle": tgt.lambda_saddle, "lambda_min": tgt.lambda_min,
                               "level": "escape.escape_target", "basis": basis},
                      basis=basis)


def escape_by_rule(result: TrainResult, rule: EscapeRule) -> EscapeResult:
    """Per-replica first recorded epoch at which ``rule`` holds (None: censored or diverged)."""
    if rule.mode >= result.dim:
        raise InputError(f"mode must be < dim ({result.dim}), got {rule.mode}")
    curve = getattr(result, rule.key)
    if curve is None:
        raise InputError(f"the result has no {rule.key} curve (recorded by an older version of train)")
    hit = rule.hit(curve)  # (R, M)
    ep = []
    for i in range(hit.shape[1]):
        k = np.flatnonzero(hit[:, i])
        ep.append(float(result.epochs[k[0]]) if k.size else None)
    return _finish(result, rule.criterion, ep, rule.threshold, dict(rule.details))


def escape_by_singular_value(result: TrainResult, mode: int, threshold: float,
                             direction: str = "up", basis: str = "population") -> EscapeResult:
    """First recorded epoch at which the projected singular value ``u_i^T M v_i`` of ``mode`` rises
    above (``"up"``) or falls below (``"down"``) ``threshold`` (the paper uses sigma_2 > 1e-3);
    ``basis="empirical"`` projects on the training set's singular vectors instead."""
    return escape_by_rule(result, singular_value_rule(mode, threshold, direction, dim=result.dim, basis=basis))


def escape_by_mode_amplitude(result: TrainResult, mode: int, direction: str = "forward",
                             sv: float | str | None = None, basis: str | None = None) -> EscapeResult:
    """Mode value ``lambda = u_i^T M v_i`` crossing the level of :func:`langevin_grok.landscape.escape.escape_target`.

    ``"forward"`` (trivial -> learned): lambda rises above ``(lambda_sad + lambda_min)/2``.
    ``"reverse"`` (learned -> trivial): lambda falls below ``lambda_sad / 2``.
    (Checked as the amplitude ``a = sign(lambda)|lambda|^(1/L)`` against ``lambda_target^(1/L)``.)

    ``sv`` is the mode's eta: None = the population value (projection on the population singular
    vectors); ``"empirical"`` = the training set's value (projection on the empirical singular vectors,
    ``result.mode_sv_empirical``); a number = that eta. ``basis`` ("population" | "empirical") fixes the
    projection explicitly; when omitted with a number it is the basis whose singular value equals ``sv``
    (relative 1e-12), and an ``sv`` matching neither needs an explicit ``basis``. The projection always
    belongs to the singular values used, so an exactly rank-deficient state reads lambda = 0 on the
    empirical landscape. Raises InputError if the mode is not bistable at the run's beta.
    """
    mode = check_int("mode", mode, minimum=0)
    if mode >= result.dim:
        raise InputError(f"mode must be < dim ({result.dim}), got {mode}")
    if basis is not None:
        basis = check_choice("basis", basis, _BASES)
    emp = None if result.data_sv_empirical is None else float(result.data_sv_empirical[mode])
    pop = float(result.data_sv[mode])
    if sv is None or (isinstance(sv, str) and sv == "population"):
        eta, basis = pop, basis or "population"
    elif isinstance(sv, str):
        check_choice("sv", sv, ("empirical", "population"))
        if emp is None:
            raise InputError("sv='empirical' needs a result with data_sv_empirical (recorded by train)")
        eta, basis = emp, basis or "empirical"
    else:
        eta = check_finite("sv", sv)
        if basis is None:
            if emp is not None and abs(eta - emp) <= 1e-12 * abs(emp):
                basis = "empirical"
            elif abs(eta - pop) <= 1e-12 * abs(pop):
                basis = "population"
            else:
                raise InputError(f"sv={eta!r} is neither the empirical ({emp!r}) nor the population ({pop!r}) "
                                 f"singular value of mode {mode}: pass basis='population' or 'empirical'")
    return escape_by_rule(result, mode_amplitude_rule(result.depth, eta, result.beta, mode, direction, basis))


