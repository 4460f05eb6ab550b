"""The escape-time prediction for a deep linear network from a stationary state: the orbit formula and the
entropic reduction side by side, the recommended one named (``langevin-grok kramers --width``).

Builds on :mod:`langevin_grok.theory.orbits` (Eyring-Kramers over symmetry orbits, crossover temperature) and
:mod:`langevin_grok.theory.orbits_entropic` (the entropic 1-D reduction). Theory: ``docs/theory.md``, section 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._core.checks import InputError, check_depth, check_int, check_positive, check_sv
from ..landscape.modes import mode_landscape
from ..landscape.network import DeepLinearNetwork
from ..landscape.stationary import _check_modes
from .orbits import _dict, _eyring_kramers_orbit, _resolve_escape, crossover_temperature
from .orbits_entropic import _entropic

__all__ = ["NetworkEscapePrediction", "network_escape_prediction", "default_start"]


@dataclass(frozen=True)
class NetworkEscapePrediction:
    """Escape-time prediction of ``langevin-grok kramers --width W`` (SDE time units).

    Attributes
    ----------
    eyring_kramers : float or None
        :func:`eyring_kramers_orbit` tau; None when not applicable.
    eyring_kramers_status : str
    entropic_mfpt : float or None
        :func:`langevin_grok.theory.orbits_entropic.entropic_mfpt` tau; None when not applicable.
    entropic_mfpt_status : str
    prediction : float or None
        The entropic MFPT where applicable, else the orbit formula where applicable, else None.
    prediction_method : str
        ``"entropic_mfpt"``, ``"eyring_kramers_orbit"`` or ``"none"``.
    zero_modes_start, zero_modes_saddle : int
    log_orbit_volume_ratio, free_energy_barrier, barrier, barrier_over_t : float
    crossover_temperature : float
        :func:`crossover_temperature` with k = 3 (NaN when none).
    start_modes, saddle_modes : tuple of str
    escaping_mode : int
    depth, width, temperature, beta : the inputs.
    eyring_kramers_reason, entropic_mfpt_reason : str
    """

    eyring_kramers: float | None
    eyring_kramers_status: str
    eyring_kramers_reason: str
    entropic_mfpt: float | None
    entropic_mfpt_status: str
    entropic_mfpt_reason: str
    prediction: float | None
    prediction_method: str
    zero_modes_start: int
    zero_modes_saddle: int
    log_orbit_volume_ratio: float
    free_energy_barrier: float
    barrier: float
    barrier_over_t: float
    crossover_temperature: float
    start_modes: tuple
    saddle_modes: tuple
    escaping_mode: int
    depth: int
    width: int
    beta: float
    temperature: float

    def to_dict(self) -> dict:
        return _dict(self)

def default_start(L: int, etas: np.ndarray, beta: float) -> tuple:
    """Every mode trivial except those where the trivial point is not a minimum (learned-only)."""
    return tuple("learned" if mode_landscape(L, float(e), beta).phase == "learned_only" else "trivial"
                 for e in etas)

def network_escape_prediction(depth: int, width: int, sv, beta: float, temperature: float,
                              start=None) -> NetworkEscapePrediction:
    """Escape time of the first trivial mode of ``start`` for the population network of docs/theory.md.

    Parameters
    ----------
    depth, width : int
        L >= 3, w >= 1.
    sv : sequence of float
        Singular values eta (dim p = len(sv)), each in (0, 1).
    beta : float
        L2 strength > 0.
    temperature : float
        T > 0.
    start : sequence of str, optional
        ``"trivial"`` / ``"learned"`` per mode, modes in descending order of ``sv`` (as
        :func:`langevin_grok.landscape.stationary.stationary_point` labels them); default every mode trivial except
        learned-only ones.

    Returns
    -------
    NetworkEscapePrediction
    """
    L = check_depth(depth, minimum=3)
    w = check_int("width", width, minimum=1)
    etas = check_sv(sv)
    beta = check_positive("beta", beta)
    T = check_positive("temperature", temperature)
    net = DeepLinearNetwork.from_singular_values(L, w, etas.size, etas, beta)
    order = np.argsort(-etas, kind="stable")  # stationary_point labels modes in descending order
    modes = default_start(L, etas[order], beta) if start is None else _check_modes(start, etas.size)
    if any(m not in ("trivial", "learned") for m in modes):
        raise InputError(f"start entries must be trivial or learned, got {list(modes)}")
    if sum(m == "learned" for m in modes) + 1 > w:
        raise InputError(f"width = {w} cannot hold the learned modes of start {list(modes)} plus the escaping one")
    start_pt, saddle, e, reason = _resolve_escape(net, modes)
    if reason != "ok":
        raise InputError(f"start {list(modes)} has no escaping mode with a barrier at depth {L}, beta {beta:g}")
    ek = _eyring_kramers_orbit(net, start_pt, saddle, T)
    ent = _entropic(net, start_pt, saddle, e, T, 40)
    xo = crossover_temperature(net, start_pt, saddle)

    def val(r):
        return None if r.status == "not_applicable" else float(r.tau)

    if ent.status != "not_applicable":
        pred, method = val(ent), "entropic_mfpt"
    elif ek.status != "not_applicable":
        pred, method = val(ek), "eyring_kramers_orbit"
    else:
        pred, method = None, "none"
    return NetworkEscapePrediction(
        eyring_kramers=val(ek), eyring_kramers_status=ek.status, eyring_kramers_reason=ek.reason,
        entropic_mfpt=val(ent), entropic_mfpt_status=ent.status, entropic_mfpt_reason=ent.reason,
        prediction=pred, prediction_method=method, zero_modes_start=ek.zero_modes_start,
        zero_modes_saddle=ek.zero_modes_saddle, log_orbit_volume_ratio=ek.log_orbit_volume_ratio,
        free_energy_barrier=ek.free_energy_barrier, barrier=ek.barrier, barrier_over_t=ek.barrier_over_t,
        crossover_temperature=xo.temperature, start_modes=tuple(start_pt.modes), saddle_modes=tuple(saddle.modes),
        escaping_mode=e, depth=L, width=w, beta=beta, temperature=T)
