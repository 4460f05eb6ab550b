"""The one plain-SGD reverse-escape experiment (learned -> trivial of the second mode).

Plain SGD has data noise at a learned (rank-full) state, so the reverse transition is an honest plain-SGD
escape (``docs/theory.md``, "Plain SGD and dead directions"). One problem definition (:func:`reverse_problem`:
data set with whitened training inputs, beta a stated fraction of the way from beta* to beta_c of the empirical
second mode, the canonical learned start) and one ensemble (:func:`reverse_escape_ensemble`: the package's one
escape event, :func:`langevin_grok.landscape.escape.escape_target`, read on the empirical singular vectors by
:func:`langevin_grok.sgd.escape.mode_amplitude_rule`). The validation row 4 and the paper's Fig. 2(b)
protocol both run it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .._core.errors import InputError

from ..landscape.modes import beta_c, beta_star
from ..landscape.network import DeepLinearNetwork
from . import escape as sgd_escape
from . import trainer as sgd
from .data import empirical_cross_svd, make_dataset

__all__ = ["reverse_problem", "reverse_escape_ensemble", "measured_temperature", "EscapeProtocol", "escape_setup",
           "run_reverse_escapes"]


def reverse_problem(sv, n_train: int, n_test: int, depth: int, width: int, *, data_seed, fraction: float = 0.5,
                    mode: int = 1) -> dict:
    """Data set, beta and network of the reverse escape of ``mode``.

    Training inputs are whitened (``X^T X / N = I``), which makes the per-mode theory exact for the training
    loss with eta = the training set's singular values; beta sits at ``fraction`` of the way from beta* to
    beta_c of the empirical ``mode`` (its learned state is metastable there).
    """
    data = make_dataset(list(sv), n_train, n_test, seed=data_seed, whiten_train=True)
    _, s_emp, _ = empirical_cross_svd(data)
    b_star, b_c = beta_star(depth, float(s_emp[mode])), beta_c(depth, float(s_emp[mode]))
    beta = (1.0 - fraction) * b_star + fraction * b_c  # exactly 0.5 (b* + b_c) at the midpoint
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, depth, width, beta)
    return {"data": data, "data_seed": data_seed, "sv_emp": s_emp, "beta": beta, "beta_star": b_star,
            "beta_c": b_c, "net": net, "mode": mode, "fraction": fraction}


def reverse_escape_ensemble(data, theta0, *, width, beta, lr, batch, replicas, seed, rule, max_time=None,
                            epochs=None, noise_temperature=0.0, replacement=False, record_every=1,
                            progress=False) -> dict:
    """One SGD ensemble from ``theta0`` (all replicas) until ``max_time`` SDE time (or ``epochs`` epochs) or
    every replica escaped by ``rule`` (early stop: escape epochs identical to the full run). Times in SDE
    units ``lr * steps``; the escape is checked every ``record_every`` epochs.

    Returns ``t_sde`` (escape or censoring time per replica), ``observed``, ``epoch`` (escape epoch or
    ``None``), ``epochs`` (the run length), ``epochs_run``, ``n_diverged``, ``sgd_steps``,
    ``steps_per_epoch``, ``lambda_median_before_escape`` (where the metastable state really sits) and
    ``temperature_measured`` (:func:`measured_temperature`: the temperature of the escape coordinate read off
    the run itself, a dict, or None when the records before the first escape are too few).
    """
    steps_per_epoch = -(-data.n_train // batch)
    if epochs is None:
        epochs = int(math.ceil(max_time / (lr * steps_per_epoch)))
    ws = sgd.unpack(np.repeat(np.asarray(theta0, float)[None, :], replicas, axis=0), rule.amplitude_depth, width,
                    data.dim)
    res = sgd.train(ws, data, beta=beta, lr=lr, batch=batch, epochs=epochs, seed=seed, record_every=record_every,
                    noise_temperature=noise_temperature, replacement=replacement, progress=bool(progress),
                    stop_rule=rule)
    esc = sgd_escape.escape_by_rule(res, rule)
    ep, obs = esc.times()
    lam = getattr(res, rule.key)[:, :, rule.mode]  # (R, M) the escape variable lambda over the run
    live = ~np.asarray(esc.diverged)
    ep = np.where(obs, ep, float(epochs))  # censored replicas ran the whole length (early stop needs all escaped)
    # SDE time = lr x steps with the steps train really takes: ceil(N/B) per epoch (the last batch holds the
    # N mod B leftover samples); temperature.epochs_to_sde_time assumes N/B and is up to 2 % short here
    temp = measured_temperature(res, lam, live, np.where(obs, ep, np.inf), rule.amplitude_depth,
                                steps_per_epoch * lr * record_every)
    return {"t_sde": np.asarray(ep, float) * steps_per_epoch * lr, "observed": obs, "epochs": epochs,
            "temperature_measured": temp,
            "epoch": [float(e) if o else None for e, o in zip(ep, obs)], "steps_per_epoch": steps_per_epoch,
            "epochs_run": res.epochs_run, "n_diverged": esc.n_diverged,
            "sgd_steps": int(res.epochs_run * steps_per_epoch * replicas),
            # where the metastable state really sits under this noise: median of lambda over the records
            # before each replica's escape (all records for censored replicas)
            "lambda_median_before_escape": float(np.nanmedian(np.where(
                (res.epochs[:, None] < np.where(obs, ep, np.inf)[None, :]) & live[None, :], lam, np.nan)))
            if live.any() else None}


def measured_temperature(res, lam, live, escape_epoch, depth: int, interval: float, burn: int = 20,
                         margin: int = 10, min_displacements: int = 50) -> dict | None:
    """Temperature of the escape coordinate read off an SGD run (the dynamics itself, any protocol).

    The coordinate is the balanced arc length ``r = sqrt(L) lambda^(1/L)`` of the escaping mode (the 1-D
    theory's coordinate), recorded every ``interval`` SDE time. Each live replica contributes its records after
    epoch ``burn`` and more than ``margin`` epochs before its own escape (the escape excursion is not the well);
    they go to :func:`langevin_grok.sgd.temperature_estimators.displacement_temperature` (fitted relaxation: no curvature
    assumed). Returns its ``to_dict()`` plus ``n_records``, or None below ``min_displacements``.
    """
    from .temperature_estimators import displacement_temperature

    epochs = np.asarray(res.epochs, dtype=float)[:, None]
    ok = (epochs >= burn) & (epochs < np.asarray(escape_epoch, dtype=float)[None, :] - margin) & live[None, :]
    r = np.where(ok, math.sqrt(depth) * np.clip(lam, 0.0, None) ** (1.0 / depth), np.nan)
    pairs = int(np.sum(ok[1:] & ok[:-1]))
    if pairs < min_displacements:
        return None
    out = displacement_temperature(r.T, interval).to_dict()
    out["n_records"] = int(ok.sum())
    return out


@dataclass(frozen=True)
class EscapeProtocol:
    """Plain-SGD reverse escape (learned -> trivial) of the eta = 0.8 mode at fixed batch size, lr from dE/T_e.

    ``beta`` sits at ``fraction`` of the way from beta* to beta_c of the empirical second mode
    (:func:`reverse_problem`); the learning rates are set so that ``dE_rev / T_e`` takes the values
    ``barrier_over_t``, with ``T_e = lr c_e / (2B)`` measured at the start along the saddle's unstable
    direction (run-time budget, not the paper's numbers). Escape: the package's one event on the empirical
    mode amplitude (:func:`langevin_grok.sgd.escape.mode_amplitude_rule`, lambda_2 < lambda_sad / 2).
    ``replacement=True`` draws batches with replacement (independent steps, T = lr c/(2B) holds); with
    shuffled epochs the batch gradients of one epoch sum to the full gradient (docs/theory.md, section 2).
    """

    fraction: float = 0.8
    barrier_over_t: tuple = (2.0, 2.5, 3.0, 3.5, 4.0)
    batch: int = 64
    n_train: int = 512
    n_test: int = 512
    max_lr: float = 0.5
    replacement: bool = True


def escape_setup(proto: EscapeProtocol, *, depth: int, width: int, sv, data_seed) -> dict:
    """Problem, start state, measured noise and learning rates of :class:`EscapeProtocol`."""
    from ..landscape.modes import mode_landscape
    from ..landscape.stationary import stationary_point
    from .noise import escape_direction, gradient_noise

    P = reverse_problem(sv, proto.n_train, proto.n_test, depth, width, data_seed=data_seed, fraction=proto.fraction)
    data, net, beta, eta = P["data"], P["net"], P["beta"], P["sv_emp"]
    ml = mode_landscape(depth, float(eta[1]), beta)
    start = stationary_point(net, ("learned", "learned"))
    direction = escape_direction(net, ("learned", "saddle"))
    gn = gradient_noise(start.theta, data.x_train, data.y_train, depth, width, direction=direction, lr=1.0,
                        batch=proto.batch, replacement=proto.replacement)
    T_e1, T_tr1 = gn.temperature_direction, gn.temperature_iso  # temperatures per unit lr
    lrs = [ml.barrier_reverse / (k * T_e1) for k in proto.barrier_over_t]
    if max(lrs) > proto.max_lr:
        raise InputError(f"escape protocol needs lr up to {max(lrs):.3g} > max_lr = {proto.max_lr}")
    rule = sgd_escape.mode_amplitude_rule(depth, float(eta[1]), beta, 1, "reverse", basis="empirical")
    return {"data": data, "eta": eta, "beta": beta, "landscape": ml, "start": start, "lrs": lrs, "rule": rule,
            "T_e_per_lr": T_e1, "T_trace_per_lr": T_tr1, "c_e": gn.direction_variance, "trace": gn.trace,
            "beta_star": P["beta_star"], "beta_c": P["beta_c"], "batch": proto.batch, "width": width,
            "replacement": proto.replacement}


def run_reverse_escapes(setup: dict, lr: float, n_seeds: int, max_epochs: int, seed, *,
                        replacement: bool | None = None, progress: bool = False) -> dict:
    """Run :class:`EscapeProtocol` at one lr until every replica escaped or ``max_epochs``.

    Returns escape epochs (None = censored), the censoring-aware MLE in epochs and in SDE time
    ``t = lr * steps``, and the settings."""
    from ..theory.stats import exponential_mle

    repl = setup["replacement"] if replacement is None else bool(replacement)
    every = max(1, max_epochs // 1500)
    sim = reverse_escape_ensemble(setup["data"], setup["start"].theta, width=setup["width"], beta=setup["beta"],
                                  lr=lr, batch=setup["batch"], replicas=n_seeds, seed=seed, rule=setup["rule"],
                                  epochs=max_epochs, replacement=repl, record_every=every, progress=progress)
    end = float(sim["epochs_run"])
    obs = np.asarray(sim["observed"], bool)
    ep = np.array([end if e is None else max(e, 0.5) for e in sim["epoch"]])  # epoch 0 at half a record
    m = exponential_mle(ep, obs).to_dict()
    to_t = sim["steps_per_epoch"] * lr  # epochs -> SDE time
    m_t = {k: (None if m[k] is None else m[k] * to_t) for k in ("mean", "ci_low", "ci_high", "total_time")}
    return {"lr": lr, "epochs": sim["epoch"], "end_epoch": end, "record_every": every, "tau_epochs": m,
            "tau_sde": m_t, "n_events": m["n_events"], "n_paths": m["n_paths"], "epochs_to_sde_time": to_t,
            "T_e": lr * setup["T_e_per_lr"], "T_trace": lr * setup["T_trace_per_lr"],
            "threshold_lambda_2": setup["rule"].details["lambda_target"], "replacement": repl,
            "sgd_steps": sim["sgd_steps"]}
