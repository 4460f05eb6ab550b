"""Validation settings: one frozen settings object per row and the presets that combine them.

Presets are arguments (:func:`validation_config`), never module globals patched by callers. Each settings
object is the single source of its row's defaults; the command line and the tests read them from here.
Theory and conventions: ``docs/theory.md``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .._core.checks import check_choice, check_int

__all__ = [
    "MODES", "ROW_IDS", "ArcSettings", "ChainSettings", "NetworkSettings", "SGDReverseSettings",
    "SGDTrapSettings", "AMSSettings", "SGLDSettings", "ValidationConfig", "validation_config",
]

MODES = ("test", "quick", "default", "full")
# stable string id of each row (results.json, tests and the report key on these, not on the number)
ROW_IDS = {1: "arc_1d", 2: "chain", 3: "network_injected", 4: "sgd_reverse", 5: "sgd_trap", 6: "ams_rare", 7: "sgld_forward"}


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

    Start: the rank-1 trap (mode 0 learned, mode 1 trivial, canonical frame). Event: the second singular
    value of the end-to-end map rises through the 1-D forward target of mode 1 (a rank change). T from
    ``barrier_over_t`` with the 1-D forward barrier of mode 1. Cap: ``max_time`` (SDE time) per path.
    """

    depth: int = 3
    width: int = 10
    dim: int = 2
    sv: tuple = (0.9, 0.8)
    beta: float = 0.32
    barrier_over_t: tuple = (5.0, 10.0, 15.0, 20.0)
    n_paths: int = 64
    dt: float = 0.01
    max_time: float = 5000.0


@dataclass(frozen=True)
class SGDReverseSettings:
    """Row 4: plain mini-batch SGD, reverse escape of mode 1 (learned -> trivial), per batch protocol.

    Data: ``n_train`` samples with ``sv``, training inputs whitened (``X^T X / N = I`` exactly, so the
    full-batch loss is exactly the per-mode landscape with the empirical singular values); one data set for
    every point. A point is ``(fraction, batch)``: beta sits ``fraction`` of the way from beta* to beta_c of
    the empirical mode-1 singular value (0.5, the midpoint, is row 5's beta). One learning rate ``lr``.
    ``with_replacement``: the points with independent batches, chosen so that every one has dE/T >= 3 with
    T = lr c_e / (2B); ``shuffled``: the points with shuffled epochs, dE/T >= 3 with the epoch-boundary
    temperature of the exact linear model (batch sizes that divide ``n_train``, so that every epoch's batch
    gradients sum to the full gradient; the escapes need long epochs, hence B = 16; the B = 40 point at the
    midpoint is the paper-like regime, where no escape is expected within the run). Each point runs its
    replicas for ``max_time`` (``shuffled_max_time`` for shuffled epochs) SDE time (epochs rounded up; early
    stop once all escaped). The settings come from the run-time budget and the dE/T >= 3 requirement of each
    protocol's own noise model, not from the predictions. ``e2e_paths``: Euler-Maruyama paths of the end-to-end
    diffusion per independent-batch point (its transverse factor, a Monte Carlo estimate with its own error; 0
    skips it): 4 x ``replicas`` in every preset, so that its standard error is half the measurement's; its step
    ``e2e_dt_curvature`` / (the drift's largest curvature at the start). ``balanced_paths``: paths of the
    balanced network's chains per independent-batch point (the Gaussian noise model's, which the recommended
    prediction uses, and the data's batches, a reference; 0 skips both): 8 x ``replicas`` in every preset (the
    chains cost seconds), so that the prediction's standard error is about a third of the measurement's.
    """

    depth: int = 3
    width: int = 10
    sv: tuple = (0.9, 0.8)
    n_train: int = 512
    n_test: int = 512
    lr: float = 0.3
    with_replacement: tuple = ((0.5, 40), (0.5, 48), (0.5, 56), (0.5, 64), (0.3, 24), (0.3, 32), (0.3, 40))
    replicas: int = 64
    shuffled: tuple = ((0.5, 40), (0.3, 16), (0.2, 16))
    shuffled_replicas: int = 64
    max_time: float = 30000.0
    shuffled_max_time: float = 5000.0
    e2e_paths: int = 256
    e2e_dt_curvature: float = 0.08
    balanced_paths: int = 512


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
class AMSSettings:
    """Row 6: the arc of one mode (depth, sv, beta); AMS replicas/runs; the brute-force check at
    ``brute_barrier_over_t`` with ``brute_paths`` paths."""

    depth: int = 3
    sv: float = 0.8
    beta: float = 0.3
    barrier_over_t: tuple = (15.0, 25.0, 40.0)
    n_replicas: int = 100
    n_runs: int = 20
    dt: float = 0.01
    brute_barrier_over_t: float = 6.0
    brute_paths: int = 400


@dataclass(frozen=True)
class SGLDSettings:
    """Row 7: full-batch SGLD (lr, B = N, injected T) from the rank-1 trap of the paper network on a whitened
    training set of ``n_train`` samples at ``beta``; T from ``barrier_over_t`` of the empirical mode 2's forward
    barrier; ``paper_lr``, ``paper_batch``: the protocol whose 5500 epochs set the target time.
    ``check_replicas``: replicas of the short check at the paper's own protocol (mini-batch SGLD, lr 0.08,
    B 64, shuffled epochs, at the 5500-epoch temperatures of the theory and of the measured points), each run
    for ``check_epochs_factor`` x 5500 epochs; 0 skips the check."""

    depth: int = 3
    width: int = 10
    sv: tuple = (0.9, 0.8)
    beta: float = 0.32
    n_train: int = 512
    n_test: int = 512
    lr: float = 0.04
    barrier_over_t: tuple = (10.0, 15.0, 20.0)
    replicas: int = 16
    max_time: float = 3000.0
    paper_lr: float = 0.08
    paper_batch: int = 64
    check_replicas: int = 16
    check_epochs_factor: float = 2.0


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
    ams: AMSSettings = field(default_factory=AMSSettings)
    sgld: SGLDSettings = field(default_factory=SGLDSettings)

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
        if row == 6:
            return asdict(self.ams)
        if row == 7:
            return asdict(self.sgld)
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
            network=NetworkSettings(barrier_over_t=(5.0, 10.0), n_paths=32, max_time=500.0),
            sgd_reverse=SGDReverseSettings(with_replacement=((0.5, 40), (0.5, 56), (0.3, 24), (0.3, 32)),
                                           replicas=32, shuffled=((0.5, 40), (0.3, 16)), shuffled_replicas=16,
                                           max_time=10000.0, shuffled_max_time=2000.0, e2e_paths=128,
                                           balanced_paths=256),
            sgd_trap=SGDTrapSettings(replicas=16, epochs=300),
            ams=AMSSettings(barrier_over_t=(15.0, 25.0), n_replicas=50, n_runs=10, brute_paths=200),
            sgld=SGLDSettings(barrier_over_t=(10.0, 15.0), replicas=16, max_time=1000.0, check_replicas=8,
                              check_epochs_factor=1.0),
        )
    if mode == "test":
        return ValidationConfig(
            mode, seed,
            arc=ArcSettings(barrier_over_t=(3.0, 4.0), max_paths=200, min_paths=200, step_budget=1e12),
            chain=ChainSettings(barrier_over_t=(5.0,), max_paths=200, min_paths=200, step_budget=1e12),
            network=NetworkSettings(barrier_over_t=(5.0,), n_paths=8, max_time=100.0),
            sgd_reverse=SGDReverseSettings(with_replacement=((0.5, 40), (0.3, 24)), replicas=8,
                                           shuffled=((0.3, 16),), shuffled_replicas=4,
                                           max_time=1500.0, shuffled_max_time=300.0, e2e_paths=32,
                                           balanced_paths=64),
            sgd_trap=SGDTrapSettings(replicas=4, epochs=20),
            ams=AMSSettings(barrier_over_t=(15.0,), n_replicas=30, n_runs=5, brute_barrier_over_t=4.0,
                            brute_paths=100),
            sgld=SGLDSettings(barrier_over_t=(5.0, 8.0), replicas=6, max_time=200.0, check_replicas=2,
                              check_epochs_factor=0.02),
        )
    return ValidationConfig(
        mode, seed,
        arc=ArcSettings(barrier_over_t=(3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0), dt=0.01, max_paths=1000,
                        min_paths=100, step_budget=1e9),
        chain=ChainSettings(barrier_over_t=(5.0, 6.0, 7.0, 8.0), dt=0.01, max_paths=1000, min_paths=200,
                            step_budget=1e9),
        network=NetworkSettings(barrier_over_t=(5.0, 10.0, 15.0, 20.0, 25.0, 30.0), n_paths=200, dt=0.005,
                                max_time=1e5),
        sgd_reverse=SGDReverseSettings(
            with_replacement=tuple((0.5, b) for b in (40, 44, 48, 52, 56, 60, 64))
            + tuple((0.3, b) for b in (24, 28, 32, 36, 40)), replicas=128,
            shuffled=((0.5, 32), (0.5, 64), (0.3, 16), (0.2, 16)), shuffled_replicas=128, max_time=1e5,
            shuffled_max_time=3e4, e2e_paths=512, balanced_paths=1024),
        sgd_trap=SGDTrapSettings(replicas=64, epochs=20000),
        ams=AMSSettings(barrier_over_t=(15.0, 20.0, 25.0, 30.0, 40.0), n_replicas=200, n_runs=40, dt=0.005,
                        brute_paths=1000),
        sgld=SGLDSettings(barrier_over_t=(10.0, 15.0, 20.0, 25.0), replicas=64, lr=0.01, max_time=2e4,
                          check_replicas=64, check_epochs_factor=5.0),
    )
