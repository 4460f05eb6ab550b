"""The SGD escape protocol of one ensemble: data, start, run, escape detection and measured noise.

:func:`run_protocol` is what the ``sgd`` subcommand and the ``sgd`` sweep kind run; :data:`PROTOCOL_PARAMS`
is the single source of their options (names, types, defaults, ranges, units, help): the command line builds
its options from it (:mod:`langevin_grok.cli.sgd`) and the sweep schema is :data:`SWEEP_SCHEMA`, derived from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._core.checks import (MAX_DEPTH, InputError, check_beta, check_choice, check_depth, check_int,
                            check_magnitude, check_memory, check_nonnegative, check_positive)
from .data import Dataset
from .escape import EscapeResult, escape_by_rule, escape_by_test_mse, mode_amplitude_rule, singular_value_rule
from .trainer import TrainingInterrupted, TrainResult, checkpoint_init, init_random, pack, train

__all__ = ["PROTOCOL_PARAMS", "protocol_settings", "ProtocolResult", "ProtocolInterrupted", "run_protocol",
           "sweep_task", "SWEEP_SCHEMA", "protocol_memory"]

MAX_COUNT = 10**9  # epochs, samples, replicas: beyond this a run never ends on any machine


class ProtocolInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during :func:`run_protocol`.

    ``partial`` is a :class:`ProtocolResult` of the epochs run so far (``interrupted`` True, noise not
    measured), or None if the run at beta had not started; ``cause`` is the original interrupt.
    """

    def __init__(self, partial, cause):
        super().__init__("protocol interrupted")
        self.partial, self.cause = partial, cause


_CRITERIA = ("test_mse", "singular_value", "mode_amplitude")
_INITS = ("random", "checkpoint")


def _clean(x):
    """JSON-ready copy: numpy scalars/arrays to Python, non-finite floats to None."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def protocol_settings(*, depth, width, sv, beta, lr, batch, epochs, replicas=10, seed=0, data_seed=None,
                      init="random", init_beta=None, init_max_epochs=20000, converge_tol=1e-4,
                      converge_window=200, noise_temperature=0.0, replacement=False, n_train=512, n_test=512,
                      n_pool=None, record_every=1, criterion="mode_amplitude", escape_mode=None, sv_threshold=1e-3,
                      min_change=1e-2, early_stop=True, measure_noise=True) -> dict:
    """Validate the arguments of :func:`run_protocol` and return them in canonical form (no work done).

    Raises InputError naming the argument and the value.
    """
    from .._core.checks import check_sv

    eta = check_sv(sv)
    s = {
        "depth": check_depth(depth), "width": check_int("width", width, minimum=1, maximum=MAX_COUNT), "sv": [float(x) for x in eta],
        "beta": check_beta(beta), "lr": check_magnitude("lr", lr),
        "n_train": check_int("n_train", n_train, minimum=1, maximum=MAX_COUNT),
        "n_test": check_int("n_test", n_test, minimum=1, maximum=MAX_COUNT),
        "epochs": check_int("epochs", epochs, minimum=0, maximum=MAX_COUNT),
        "replicas": check_int("replicas", replicas, minimum=1, maximum=MAX_COUNT),
        "seed": check_int("seed", seed, minimum=0),
        "data_seed": None if data_seed is None else check_int("data_seed", data_seed, minimum=0),
        "init": check_choice("init", init, _INITS), "init_beta": None,
        "init_max_epochs": check_int("init_max_epochs", init_max_epochs, minimum=1, maximum=MAX_COUNT),
        "converge_tol": check_positive("converge_tol", converge_tol),
        "converge_window": check_int("converge_window", converge_window, minimum=1, maximum=MAX_COUNT),
        "noise_temperature": check_magnitude("noise_temperature", noise_temperature, allow_zero=True),
        "replacement": bool(replacement), "n_pool": None,
        "record_every": check_int("record_every", record_every, minimum=1, maximum=MAX_COUNT),
        "criterion": check_choice("criterion", criterion, _CRITERIA), "escape_mode": None,
        "sv_threshold": check_magnitude("sv_threshold", sv_threshold),
        "min_change": check_nonnegative("min_change", min_change), "early_stop": bool(early_stop),
        "measure_noise": bool(measure_noise),
    }
    B = check_int("batch", batch, minimum=1)
    if B > s["n_train"]:
        raise InputError(f"batch must be <= n_train ({s['n_train']}), got {B}")
    s["batch"] = B
    if n_pool is not None:
        s["n_pool"] = check_int("n_pool", n_pool, minimum=1, maximum=MAX_COUNT)
        if s["n_train"] > s["n_pool"]:
            raise InputError(f"n_train must be <= n_pool ({s['n_pool']}), got {s['n_train']}")
    if s["init"] == "checkpoint":
        if init_beta is None:
            raise InputError("init_beta is required with init = 'checkpoint'")
        s["init_beta"] = check_beta(init_beta, "init_beta")
    elif init_beta is not None:
        raise InputError(f"init_beta is used only with init = 'checkpoint', got init_beta = {init_beta!r} "
                         f"with init = {s['init']!r}")
    if escape_mode is not None:
        m = check_int("escape_mode", escape_mode, minimum=0)
        if m >= len(eta):
            raise InputError(f"escape_mode must be in 0..{len(eta) - 1}, got {escape_mode}")
        s["escape_mode"] = m
    check_memory("width, replicas, n_train (sgd)", protocol_memory(s), "this run")
    return s


def protocol_memory(s: dict) -> float:
    """Estimated peak bytes of :func:`run_protocol` with canonical settings ``s`` (float64 arrays).

    Weights, gradients and one update per replica (3 M D), an epoch's batches (2 M N p) and injected
    noise (M N/B D), the recorded curves (one row of about p + 8 numbers per replica per recorded epoch),
    the data, and for the noise measurement the per-sample gradients and their covariance (N D + D^2).
    """
    L, w, p = s["depth"], float(s["width"]), len(s["sv"])
    D = 2 * w * p + (L - 2) * w * w
    M, N = float(s["replicas"]), float(s["n_train"])
    steps = math.ceil(N / s["batch"])
    records = s["epochs"] // s["record_every"] + 2
    if s["init"] == "checkpoint":
        records += s["init_max_epochs"]
    n = 3 * M * D + 2 * M * N * p + (M * steps * D if s["noise_temperature"] > 0 else 0.0)
    n += records * M * (p + 8) + 2 * p * (N + s["n_test"] + (s["n_pool"] or 0))
    if s["measure_noise"]:
        n += 2 * N * D + D * D
    return 8.0 * n


@dataclass(frozen=True)
class ProtocolResult:
    """Outcome of :func:`run_protocol`: escape epochs, final state and measured noise of one ensemble.

    Attributes
    ----------
    escape_epochs : list of float | None, one per replica (None: censored or diverged), epochs of the
        run at ``beta`` (the checkpoint training is not counted).
    n_escaped, n_censored, n_diverged, n_seeds : counts (n_seeds = M replicas).
    criterion, criterion_mode, criterion_direction : the escape rule used.
    final_rank : list of int | None (None: diverged); train_mse, test_mse : final torch-style MSE per replica.
    noise : dict, the gradient-noise measurement (see :func:`run_protocol`); its keys ``noise_trace``,
        ``noise_escape_direction``, ``temperature_eff`` ... are flattened into :meth:`to_dict`.
    dynamics : "plain SGD" or "SGD + injected noise T=...".
    early_stop_applied, stopped_early, epochs_run : early stopping (see :func:`train`).
    settings : the canonical arguments plus the seed sequences of data and training.
    train : TrainResult of the run at beta; start : TrainResult of the checkpoint training (None for
        random init); escape : EscapeResult; data : Dataset.
    """

    escape_epochs: list
    n_escaped: int
    n_censored: int
    n_diverged: int
    n_seeds: int
    criterion: str
    criterion_mode: int
    criterion_direction: str
    final_rank: list
    train_mse: list
    test_mse: list
    noise: dict
    dynamics: str
    early_stop_applied: bool
    stopped_early: bool
    epochs_run: int
    settings: dict
    train: TrainResult = field(repr=False)
    escape: EscapeResult = field(repr=False)
    start: TrainResult | None = field(repr=False, default=None)
    data: Dataset | None = field(repr=False, default=None)
    diagnosis: dict = field(default_factory=dict)
    interrupted: bool = False

    def to_dict(self) -> dict:
        """The JSON object of ``langevin-grok sgd --json`` (non-finite floats as None)."""
        out = {
            "escape_epochs": self.escape_epochs, "n_escaped": self.n_escaped, "n_seeds": self.n_seeds,
            "n_censored": self.n_censored, "n_diverged": self.n_diverged, "criterion": self.criterion,
            "criterion_mode": self.criterion_mode, "criterion_direction": self.criterion_direction,
            "final_rank": self.final_rank, "train_mse": self.train_mse, "test_mse": self.test_mse,
        }
        out.update(self.noise)
        out.update(self.diagnosis)
        out.update({"dynamics": self.dynamics, "early_stop_applied": self.early_stop_applied,
                    "stopped_early": self.stopped_early, "epochs_run": self.epochs_run,
                    "interrupted": self.interrupted, "settings": self.settings})
        return _clean(out)

    def curves(self) -> dict[str, np.ndarray]:
        """Recorded curves of the run at beta plus ``escape_epochs`` (NaN = censored), for ``numpy.savez``."""
        c = self.train.curves()
        c["escape_epochs"] = np.array([np.nan if e is None else e for e in self.escape_epochs])
        return c


def _state_modes(mode_sv: np.ndarray, tol: float) -> tuple[str, ...]:
    """Per mode: "learned" if the median projected singular value over live replicas exceeds tol."""
    med = np.nanmedian(mode_sv, axis=0) if np.isfinite(mode_sv).any() else np.zeros(mode_sv.shape[1])
    return tuple("learned" if m > tol else "trivial" for m in med)


def _shuffled_temperatures(s: dict, n_train: int, c_e: float, h_e: float) -> dict:
    """The epoch-level (equipartition) temperatures of the exact linear model with this c_e and the curvature
    h_e along the escape direction; they set the stationary variance, not the escape rate (docs/theory.md,
    "Shuffled epochs"). Empty where the model has none (h_e <= 0, one batch per epoch, lr h_e >= 2)."""
    from .noise_models import shuffled_epoch_model

    if not h_e > 0:
        return {}
    sh = shuffled_epoch_model(s["lr"], s["batch"], n_train, c_e, h_e)
    if sh.temperature_boundary is None:
        return {}
    return {"temperature_shuffled_boundary": sh.temperature_boundary,
            "temperature_shuffled_epoch_mean": sh.temperature_epoch_mean,
            "temperature_shuffled_noise_model": sh.noise_model.value}


def _measure_noise(s: dict, data: Dataset, weights, modes, weights_beta: float, zero_rtol: float = 1e-12) -> dict:
    """Noise at the trained weights along the escape direction rotated into their frame
    (:func:`langevin_grok.sgd.noise.aligned_escape_noise`), per live replica, and at the ideal point.

    The weights were trained at ``weights_beta``: the ideal state they are aligned to is built there,
    the saddle (escape direction) and the ideal-point comparison at the run's beta."""
    from ..landscape.network import DeepLinearNetwork
    from ..landscape.stationary import stationary_point
    from .noise import aligned_escape_noise, aligned_escape_noise_ensemble, gradient_noise, relevant_saddle
    from .._core.units import sgd_temperature

    L, w, eta, beta = s["depth"], s["width"], s["sv"], s["beta"]
    out = {"noise_state": list(modes), "saddle": None, "escape_mode": s["escape_mode"],
           "escape_direction_kind": None, "noise_trace": None, "noise_escape_direction": None,
           "escape_noise_zero": None, "temperature_eff": None, "temperature_iso": None,
           "temperature_noise_model": "with_replacement" if s["replacement"] else "single_batch_without_replacement",
           "noise_escape_direction_replicas": None, "noise_trace_replicas": None, "alignment_residual": None,
           "alignment_relative_residual": None, "noise_escape_direction_ideal": None, "noise_trace_ideal": None,
           "escape_noise_zero_ideal": None, "curvature_escape_direction": None,
           "temperature_shuffled_boundary": None, "temperature_shuffled_epoch_mean": None,
           "temperature_shuffled_noise_model": None,
           "noise_measured_at": (f"trained weights of the checkpoint (trained at beta={weights_beta:g})"
                                 if s["init"] == "checkpoint" else "trained weights at the end of the run"),
           "noise_note": None}
    net = DeepLinearNetwork.from_singular_values(L, w, len(eta), eta, beta)
    wnet = net if weights_beta == beta else DeepLinearNetwork.from_singular_values(L, w, len(eta), eta, weights_beta)
    try:
        stationary_point(wnet, modes)  # the state must exist where the weights were trained, too
        ideal = stationary_point(net, modes)
    except InputError as exc:
        out["noise_note"] = f"state {','.join(modes)} is not a stationary point at beta={beta:g}: {exc}"
        return out
    X, Y = data.x_train, data.y_train
    kw = {"lr": s["lr"], "batch": s["batch"], "replacement": s["replacement"], "zero_rtol": zero_rtol}
    rel = relevant_saddle(L, eta, beta, modes)
    if s["escape_mode"] is not None:
        m = s["escape_mode"]
        saddle = list(modes)
        saddle[m] = "saddle"
        rel = (tuple(saddle), m, "forward" if modes[m] == "trivial" else "reverse")
    live = [r for r in range(weights[0].shape[0]) if all(np.all(np.isfinite(W[r])) for W in weights)]
    thetas = pack(weights)
    if rel is None:
        try:
            traces = [gradient_noise(thetas[r], X, Y, L, w, **kw).trace for r in live]
        except (np.linalg.LinAlgError, FloatingPointError, OverflowError) as exc:
            out["noise_note"] = f"noise not measurable at the trained weights ({type(exc).__name__}: the run is diverging)"
            return out
        out["noise_trace_replicas"] = traces
        out["noise_trace"] = float(np.median(traces)) if traces else None
        out["noise_trace_ideal"] = gradient_noise(ideal.theta, X, Y, L, w, **kw).trace
        out["noise_note"] = f"no bistable mode at beta={beta:g}: no escape direction"
        return out
    try:
        at_ideal = aligned_escape_noise(ideal.theta, X, Y, net, modes, rel[0], **kw)
    except InputError as exc:
        out["noise_note"] = f"no escape direction: {exc}"
        return out
    out.update(saddle=list(rel[0]), escape_mode=rel[1], escape_direction_kind=rel[2],
               noise_escape_direction_ideal=at_ideal.noise.direction_variance,
               noise_trace_ideal=at_ideal.noise.trace, escape_noise_zero_ideal=at_ideal.noise.escape_noise_zero)
    try:
        res = aligned_escape_noise_ensemble(thetas[live], X, Y, net, modes, rel[0], state_net=wnet, **kw) if live else ()
    except (np.linalg.LinAlgError, FloatingPointError, OverflowError) as exc:
        # finite but astronomically large weights (a run that is diverging, lr too large): no noise to report
        out["noise_note"] = f"noise not measurable at the trained weights ({type(exc).__name__}: the run is diverging)"
        return out
    if not res:
        out["noise_note"] = "every replica diverged: no trained weights to measure the noise at"
        return out
    ce = [a.noise.direction_variance for a in res]
    tr = [a.noise.trace for a in res]
    c_med, tr_med = float(np.median(ce)), float(np.median(tr))
    zero = bool(c_med <= zero_rtol * tr_med)
    n_eff = data.n_train
    out.update(
        noise_escape_direction_replicas=ce, noise_trace_replicas=tr,
        alignment_residual=[a.alignment.residual for a in res],
        alignment_relative_residual=[a.alignment.relative_residual for a in res],
        noise_trace=tr_med, noise_escape_direction=c_med, escape_noise_zero=zero,
        temperature_eff=0.0 if zero else sgd_temperature(s["lr"], s["batch"], c_med, n_train=n_eff,
                                                         replacement=s["replacement"]),
        temperature_iso=sgd_temperature(s["lr"], s["batch"], tr_med / net.n_params, n_train=n_eff,
                                        replacement=s["replacement"]),
        # which noise model produced the two temperatures: lr c/(2B) with independent batches, times (N-B)/(N-1)
        # otherwise, i.e. one batch drawn without replacement; for shuffled epochs that is NOT the epoch-level
        # temperature (docs/theory.md, section 2; sgd.noise_models.shuffled_epoch_model gives that one)
        temperature_noise_model="with_replacement" if s["replacement"] else "single_batch_without_replacement",
    )
    h_e = float(at_ideal.direction @ net.hessian(ideal.theta) @ at_ideal.direction)
    out.update(curvature_escape_direction=h_e,
               **({} if s["replacement"] or zero else _shuffled_temperatures(s, n_eff, c_med, h_e)))
    if at_ideal.noise.escape_noise_zero:
        out["noise_note"] = (
            "zero gradient noise along the escape direction at the ideal state: an absorbing trap for plain SGD "
            "(no finite escape time follows from the noise); at the trained weights c_e/tr C = "
            f"{c_med / tr_med if tr_med > 0 else float('nan'):.3g} (median), the undecayed remnant of the trap's "
            "dead directions" + (" (zero within the tolerance)" if zero else ""))
    elif zero:
        out["noise_note"] = ("zero gradient noise along the escape direction at the trained weights: an absorbing "
                             "trap for plain SGD (no finite escape time follows from the noise)")
    return out


def run_protocol(*, depth: int, width: int, sv, beta: float, lr: float, batch: int, epochs: int,
                 replicas: int = 10, seed: int = 0, data_seed: int | None = None, init: str = "random",
                 init_beta: float | None = None, init_max_epochs: int = 20000, converge_tol: float = 1e-4,
                 converge_window: int = 200, noise_temperature: float = 0.0, replacement: bool = False,
                 n_train: int = 512, n_test: int = 512, n_pool: int | None = None, record_every: int = 1,
                 criterion: str = "mode_amplitude", escape_mode: int | None = None, sv_threshold: float = 1e-3,
                 min_change: float = 1e-2, early_stop: bool = True, measure_noise: bool = True,
                 progress: bool = False) -> ProtocolResult:
    """The seed paper's escape protocol end to end: data, start state, SGD at ``beta``, escapes, noise.

    Parameters
    ----------
    depth, width, sv : network depth L, hidden width w, singular values eta of Sigma_yx (p = len(sv)).
    beta, lr, batch, epochs : weight decay, learning rate, batch size B and epochs of the run (epochs).
    replicas : M replicas trained together.
    seed : int
        Replica streams: ``SeedSequence(seed, spawn_key=(1,))`` (stage 0 random init, stage 1 checkpoint
        training, stage 2 the run at beta).
    data_seed : int, optional
        Data: ``SeedSequence(data_seed, spawn_key=(0,))``; default ``seed`` (so the data changes with
        ``seed`` unless fixed here).
    init : "random" | "checkpoint"
        random: N(0,1)/sqrt(w) in every layer; checkpoint: random, then SGD at ``init_beta`` until the
        loss criterion (``converge_tol`` relative change over ``converge_window`` epochs) or
        ``init_max_epochs``.
    noise_temperature, replacement : injected noise T (0 = plain SGD) and batches with replacement.
    n_train, n_test : sample counts; n_pool : if given, the training set is ``n_train`` samples drawn from
        a pool of ``n_pool`` (sparse sub-sampling, :func:`langevin_grok.sgd.data.make_sparse_dataset`).
    record_every : observable cadence (epochs); escapes are detected on recorded epochs only.
    criterion : "test_mse" | "singular_value" | "mode_amplitude"
        The paper's test-MSE midpoint; ``u_i^T M v_i`` of the criterion mode past ``sv_threshold``; or
        the mode amplitude past the saddle/minimum midpoint. The criterion mode is ``escape_mode`` if
        given, else for checkpoint starts the mode of :func:`langevin_grok.sgd.noise.relevant_saddle` at the
        start state, else the last (weakest) mode; the direction is up/forward from a trivial mode and
        down/reverse from a learned one (random init counts as trivial: it starts near 0).
    min_change : test_mse criterion: replicas whose final MSE is within this of the plateau are censored.
    early_stop : bool
        Stop the run once every replica has escaped or diverged (:func:`train` ``stop_rule``). Applied
        for the singular_value and mode_amplitude criteria; the test_mse criterion needs the final
        value of the whole run, so it always runs all epochs (``early_stop_applied`` says which).
        Escape epochs are identical to those of the full run.
    measure_noise : bool
        Per-sample gradient noise at the trained weights: the start state for checkpoint runs (the
        metastable state being escaped), the final state for random init. For each live replica the
        ideal state (modes read off the median projected singular values, population network at beta)
        is aligned to the weights by hidden-layer rotations and the escape direction of the relevant
        saddle rotated with it (:func:`langevin_grok.sgd.noise.aligned_escape_noise`). Summary values are
        medians over live replicas; per-replica lists and the alignment residuals are included, and the
        ideal point's values for comparison.

    Returns
    -------
    ProtocolResult
    """
    from .data import make_dataset, make_sparse_dataset

    s = protocol_settings(
        depth=depth, width=width, sv=sv, beta=beta, lr=lr, batch=batch, epochs=epochs, replicas=replicas,
        seed=seed, data_seed=data_seed, init=init, init_beta=init_beta, init_max_epochs=init_max_epochs,
        converge_tol=converge_tol, converge_window=converge_window, noise_temperature=noise_temperature,
        replacement=replacement, n_train=n_train, n_test=n_test, n_pool=n_pool, record_every=record_every,
        criterion=criterion, escape_mode=escape_mode, sv_threshold=sv_threshold, min_change=min_change,
        early_stop=early_stop, measure_noise=measure_noise)
    L, w, eta, p = s["depth"], s["width"], s["sv"], len(s["sv"])
    dss = np.random.SeedSequence(s["seed"] if s["data_seed"] is None else s["data_seed"], spawn_key=(0,))
    if s["n_pool"] is None:
        data = make_dataset(eta, n_train=s["n_train"], n_test=s["n_test"], seed=dss)
    else:
        data = make_sparse_dataset(eta, n_train=s["n_train"], n_pool=s["n_pool"], n_test=s["n_test"], seed=dss)
    ss = np.random.SeedSequence(s["seed"], spawn_key=(1,))
    start = None
    if s["init"] == "random":
        w0 = init_random(L, w, p, s["replicas"], ss)
        start_modes = ("trivial",) * p
        mode = s["escape_mode"] if s["escape_mode"] is not None else p - 1
    else:
        try:
            start = checkpoint_init(data, depth=L, width=w, n_replicas=s["replicas"], init_beta=s["init_beta"],
                                    lr=s["lr"], batch=s["batch"], seed=ss, max_epochs=s["init_max_epochs"],
                                    converge_tol=s["converge_tol"], converge_window=s["converge_window"],
                                    progress=progress)
        except KeyboardInterrupt as exc:  # before the run at beta: nothing of it to keep
            raise ProtocolInterrupted(None, getattr(exc, "cause", exc)) from None
        w0 = start.weights
        start_modes = _state_modes(start.mode_sv[-1], start.rank_tol)
        mode = s["escape_mode"]
        if mode is None:
            from .noise import relevant_saddle

            rel = relevant_saddle(L, eta, s["beta"], start_modes)
            mode = rel[1] if rel is not None else p - 1
    up = start_modes[mode] == "trivial"
    rule = None
    if s["criterion"] == "singular_value":
        rule = singular_value_rule(mode, s["sv_threshold"], "up" if up else "down", dim=p)
    elif s["criterion"] == "mode_amplitude":
        # the package's escape event on the empirical mode amplitude (the training set's own singular value and
        # vectors), so that neither the relaxation after a change of beta nor a finite-sample leak counts
        rule = _amplitude_rule(L, data, eta[mode], s["beta"], mode, "forward" if up else "reverse")
    apply_stop = rule is not None and s["early_stop"]
    cause = None
    try:
        res = train(w0, data, beta=s["beta"], lr=s["lr"], batch=s["batch"], epochs=s["epochs"],
                    noise_temperature=s["noise_temperature"], replacement=s["replacement"], seed=ss, stage=2,
                    record_every=s["record_every"], progress=progress, stop_rule=rule if apply_stop else None)
    except TrainingInterrupted as exc:  # keep the epochs run so far
        res, cause = exc.partial, exc.cause
    esc = escape_by_test_mse(res, min_change=s["min_change"]) if rule is None else escape_by_rule(res, rule)
    noise = {"noise_trace": None, "noise_escape_direction": None, "temperature_eff": None,
             "noise_note": "noise not measured (measure_noise=False)"}
    if cause is not None:
        noise["noise_note"] = "noise not measured (interrupted)"
    elif s["measure_noise"]:
        if start is not None:
            nw, nmodes = start.weights, start_modes
        else:
            nw, nmodes = res.weights, _state_modes(res.mode_sv[-1], res.rank_tol)
        try:
            noise = _measure_noise(s, data, nw, nmodes, s["init_beta"] if start is not None else s["beta"])
        except KeyboardInterrupt as exc:
            cause = exc
            noise["noise_note"] = "noise not measured (interrupted)"
    settings = dict(s)
    settings.update(
        data_seed_sequence={"entropy": data.seed, "spawn_key": list(data.spawn_key)},
        train_seed_sequence={"entropy": res.seed, "spawn_key": list(res.spawn_key)},
        start_modes=list(start_modes),
        checkpoint_epochs=None if start is None else start.epochs_run,
        checkpoint_converged=None if start is None else int(start.converged.sum()))
    diagnosis = _diagnose(s, data, w0, mode, up, esc, res) if cause is None else {}
    result = ProtocolResult(
        diagnosis=diagnosis, escape_epochs=list(esc.epochs), n_escaped=esc.n_escaped, n_censored=esc.n_censored,
        n_diverged=esc.n_diverged, n_seeds=res.n_replicas, criterion=esc.criterion, criterion_mode=int(mode),
        criterion_direction=("up" if up else "down") if s["criterion"] != "mode_amplitude" else
        ("forward" if up else "reverse"),
        final_rank=[None if d else int(r) for r, d in zip(res.eff_rank[-1], res.diverged)],
        train_mse=res.train_mse[-1].tolist(), test_mse=res.test_mse[-1].tolist(), noise=noise,
        dynamics="plain SGD" if s["noise_temperature"] == 0 else f"SGD + injected noise T={s['noise_temperature']:g}",
        early_stop_applied=apply_stop, stopped_early=res.stopped_early, epochs_run=res.epochs_run,
        settings=settings, train=res, escape=esc, start=start, data=data, interrupted=cause is not None)
    if cause is not None:
        raise ProtocolInterrupted(result, cause) from None
    return result


def _amplitude_rule(L, data, eta_pop, beta, mode, direction):
    """The package's escape event on the empirical mode amplitude (the training set's own singular value and
    vectors, so that neither the relaxation after a change of beta nor a finite-sample leak counts); the
    population mode where the training set's mode has no barrier or lies outside (0, 1); None (test-MSE
    criterion) where neither has a barrier."""
    eta_emp = float(_empirical(data)[1][mode])
    for eta_m, basis in ((eta_emp, "empirical"), (eta_pop, "population")):
        if 0.0 < eta_m < 1.0:
            try:
                return mode_amplitude_rule(L, eta_m, beta, mode, direction, basis=basis)
            except InputError:
                continue
    return None


def _empirical(data):
    from .data import empirical_cross_svd

    return empirical_cross_svd(data)


def _diagnose(s: dict, data, w0, mode: int, up: bool, esc, res) -> dict:
    """What the start really is on this training set, and the escapes in SDE time (see ProtocolResult)."""
    from ..landscape.modes import beta_c, beta_star, mode_landscape
    from ..theory.stats import exponential_mle
    from .trainer import end_to_end

    L, beta = s["depth"], s["beta"]
    U, S, Vt = _empirical(data)
    W = end_to_end(w0)
    lam = np.median(np.abs(np.einsum("ip,mpq,iq->mi", U.T, W, Vt)), axis=0)  # empirical mode amplitudes
    state, bistable, global_learned = [], [], []
    for i, e in enumerate(S):
        if not 0.0 < e < 1.0:  # outside the landscape's range (tiny training sets)
            state.append("unknown")
            bistable.append(False)
            global_learned.append(False)
            continue
        m = mode_landscape(L, float(e), beta)
        lam_sad = m.lambda_saddle if m.lambda_saddle is not None else 0.0
        state.append("learned" if (m.lambda_min is not None and lam[i] > max(lam_sad, 1e-6)) else "trivial")
        bistable.append(m.lambda_saddle is not None)
        global_learned.append(beta < beta_star(L, float(e)))
    # a trap: the escaping mode sits in the minimum it leaves, with a barrier, and that minimum is not the global one
    is_trap = bool(bistable[mode] and (state[mode] == "trivial") == up and global_learned[mode] == up)
    warnings = []
    if s["init"] == "random":  # a random start is no stationary state: nothing to classify
        state, is_trap = ["random"] * len(S), False
    elif not bistable[mode]:
        warnings.append("no_barrier")
    elif (state[mode] == "trivial") != up:
        warnings.append("mode_learned" if up else "mode_trivial")
    elif not is_trap:
        warnings.append("start_is_global_minimum")
    checkpoint = s["init"] == "checkpoint"
    if checkpoint:
        # what the population landscape says the checkpoint should be, against the training set's own landscape
        pop = ["trivial" if s["init_beta"] >= beta_c(L, float(e)) else "learned" for e in s["sv"]]
        emp = ["unknown" if not 0.0 < e < 1.0 else "trivial" if s["init_beta"] >= beta_c(L, float(e))
               else "learned" for e in S]
        if pop != emp:
            warnings.insert(0, "checkpoint_differs_from_population")
    steps = -(-data.n_train // s["batch"]) * s["lr"]  # SDE time per epoch
    ep, obs = esc.times()
    t_sde = np.asarray(ep, float) * steps
    est = exponential_mle(t_sde, np.asarray(obs, bool)) if len(ep) and t_sde.sum() > 0 else None
    inside = [0.0 < e < 1.0 for e in S]
    out = {"empirical_sv": S.tolist(), "empirical_beta_c": [beta_c(L, float(e)) if ok else None
                                                            for e, ok in zip(S, inside)],
           "empirical_beta_star": [beta_star(L, float(e)) if ok else None for e, ok in zip(S, inside)],
           "start_state": state,
           "start_is_trap": is_trap, "start_warnings": warnings,
           "checkpoint_state_population": pop if checkpoint else None,
           "checkpoint_state_empirical": emp if checkpoint else None,
           "escape_times_sde": [None if e is None else float(e) * steps for e in esc.epochs],
           "tau_sde": None if est is None else est.mean,
           "tau_sde_ci": None if est is None else [est.ci_low, est.ci_high], "sde_time_per_epoch": steps}
    if "trivial" in state:  # rank-deficient stationary start: is it an attracting invariant set of SGD?
        out.update(_lyapunov(s, data, state))
    return out


def _lyapunov(s: dict, data, state: list) -> dict:
    """Normal-space Lyapunov exponent of SGD on the training set, started on the invariant set of ``state``: the
    population network's stationary point of that state at the run's beta in its canonical frame (the empty
    hidden units exactly zero; SGD then moves within the set, which every per-sample gradient preserves)."""
    from ..landscape.network import DeepLinearNetwork
    from ..landscape.stationary import stationary_point
    from .path_noise import normal_lyapunov

    na = {"lyapunov_exponent": None, "attractive": None, "lyapunov_status": "not_applicable"}
    if "unknown" in state or "random" in state:
        return na
    try:
        net = DeepLinearNetwork.from_singular_values(s["depth"], s["width"], len(s["sv"]), list(s["sv"]), s["beta"])
        theta = stationary_point(net, list(state)).theta
        ly = normal_lyapunov(theta, data.x_train, data.y_train, s["depth"], s["width"], s["beta"], s["lr"],
                             s["batch"], replacement=s["replacement"], n_epochs=50, rng=0)
    except InputError:  # no such stationary point, or no dead unit: no invariant set to test
        return na
    return {"lyapunov_exponent": ly.exponent_per_time, "lyapunov_std_error": ly.std_error,
            "attractive": bool(ly.attractive), "lyapunov_status": str(ly.status.value)}


# --------------------------------------------------------------------------- the protocol's parameters
# The single source of the protocol's options: run_protocol's keywords, the ``sgd`` command's options (built
# from this table by langevin_grok.cli.sgd) and the ``sgd`` sweep kind's schema (SWEEP_SCHEMA below). Each
# entry: type ("int", "float", "floats", "str", "bool"), default (absent = required), range, choices, help
# (with the unit). ``cli`` holds command-line-only spellings (extra aliases).
PROTOCOL_PARAMS = {
    "depth": {"type": "int", "min": 2, "max": MAX_DEPTH, "help": "number of weight matrices L (dimensionless)"},
    "width": {"type": "int", "min": 1, "max": MAX_COUNT, "help": "hidden width w (units)"},
    "sv": {"type": "floats", "min": 0.0, "max": 1.0, "min_exclusive": True, "max_exclusive": True,
           "help": "singular values eta of Sigma_yx, p = their number (dimensionless)"},
    "beta": {"type": "float", "min": 0.0, "help": "weight decay beta of the run (loss units per squared weight)"},
    "lr": {"type": "float", "min": 0.0, "min_exclusive": True, "help": "learning rate (SDE time per step)"},
    "batch": {"type": "int", "min": 1, "help": "batch size B (samples)"},
    "epochs": {"type": "int", "min": 0, "max": MAX_COUNT, "help": "epochs of the run at beta (epochs)"},
    "replicas": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 10, "help": "replicas M trained together (replicas)",
                 "cli": ("--seeds",)},
    "seed": {"type": "int", "min": 0, "default": 0, "sweep": False,
             "help": "seed of the replicas' streams (init, batches, injected noise); also of the data unless "
                     "data_seed is given"},
    "data_seed": {"type": "int", "min": 0, "default": None,
                  "help": "seed of the training/test sets, so that seed varies only the SGD randomness "
                          "(default: the seed)"},
    "init": {"type": "str", "choices": _INITS, "default": "random",
             "help": "random: N(0,1)/sqrt(w) in every layer; checkpoint: random, then trained to convergence at "
                     "init_beta"},
    "init_beta": {"type": "float", "min": 0.0, "default": None,
                  "help": "weight decay of the checkpoint training (loss units; required with init=checkpoint)"},
    "init_max_epochs": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 20000, "help": "cap on the checkpoint training (epochs)"},
    "converge_tol": {"type": "float", "min": 0.0, "min_exclusive": True, "default": 1e-4,
                     "help": "checkpoint convergence: relative change of the windowed mean loss (dimensionless)"},
    "converge_window": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 200, "help": "checkpoint convergence window (epochs)"},
    "noise_temperature": {"type": "float", "min": 0.0, "default": 0.0,
                          "help": "injected Gaussian noise temperature T (loss units; 0 = plain SGD)"},
    "replacement": {"type": "bool", "default": False, "help": "batches with replacement (default: shuffled epochs)"},
    "n_train": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 512, "help": "training samples N"},
    "n_test": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 512, "help": "test samples"},
    "n_pool": {"type": "int", "min": 1, "default": None,
               "help": "sparse sub-sampling: draw a pool of this many samples and train on n_train of them chosen "
                       "at random (samples, >= n_train; the paper's Fig. 1(b) uses n_pool 5000, n_train 25, "
                       "n_test 10000; default: no pool)"},
    "record_every": {"type": "int", "min": 1, "max": MAX_COUNT, "default": 1, "help": "observable cadence (epochs)"},
    "criterion": {"type": "str", "choices": _CRITERIA, "default": "mode_amplitude", "help": "escape criterion: test MSE past the plateau/final midpoint (paper), a projected "
                               "singular value past sv_threshold, or a mode amplitude past the saddle/minimum midpoint"},
    "escape_mode": {"type": "int", "min": 0, "default": None, "help": "mode index (0-based; dimensionless) of the singular_value/mode_amplitude criteria and the "
                              "escape direction (default: chosen from the landscape, see noise.relevant_saddle)"},
    "sv_threshold": {"type": "float", "min": 0.0, "min_exclusive": True, "default": 1e-3, "help": "singular_value criterion threshold (dimensionless)"},
    "min_change": {"type": "float", "min": 0.0, "default": 1e-2,
                   "help": "test_mse criterion: smallest plateau-to-final change counted as an escape (MSE units)"},
    "early_stop": {"type": "bool", "default": True,
                   "help": "stop once every replica escaped or diverged (singular_value/mode_amplitude criteria)"},
    "measure_noise": {"type": "bool", "default": True, "help": "measure the gradient noise at the trained weights"},
}
# The sweep task's schema: every protocol parameter but the seed (the sweep gives each task its own seed).
SWEEP_SCHEMA = {k: {f: v for f, v in spec.items() if f not in ("cli", "sweep")}
                for k, spec in PROTOCOL_PARAMS.items() if spec.get("sweep", True)}
SWEEP_VERSION = "2"  # 2: default criterion on the empirical mode amplitude, the start diagnosis
SWEEP_HELP = "mini-batch SGD escape protocol of one ensemble (langevin_grok.sgd.trainer.run_protocol)"


def SWEEP_CHECK(params: dict) -> None:  # noqa: N802 - name fixed by the sweep registry
    """Constraints between parameters (batch <= n_train, init_beta with checkpoint, ...)."""
    protocol_settings(**params)


def sweep_task(params: dict, seed: int) -> dict:
    """Sweep task ``"sgd"``: ``run_protocol(**params, seed=seed).to_dict()``."""
    return run_protocol(**params, seed=int(seed), progress=False).to_dict()
