"""run_protocol, early stopping, the sgd sweep kind, and escape-direction noise at trained weights."""

import json

import numpy as np
import pytest

from langevin_grok.sgd import protocol as sgd_protocol

from langevin_grok.sgd import escape as sgd_escape

from langevin_grok.sgd import noise
from langevin_grok.sgd import trainer as sgd
from langevin_grok._core.checks import InputError
from langevin_grok.sgd.data import make_dataset
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point

L, W, P = 3, 4, 2


@pytest.fixture(scope="module")
def data():
    return make_dataset([0.9, 0.8], n_train=64, n_test=32, seed=3)


def _random_rotations(rng, n, w):
    out = []
    for _ in range(n):
        q, r = np.linalg.qr(rng.standard_normal((w, w)))
        out.append(q * np.sign(np.diag(r)))
    return out


# --------------------------------------------------------------------------- early stopping
def test_early_stop_gives_the_same_escapes_and_curves(data):
    w0 = list(sgd.init_random(L, W, P, 5, seed=11))
    w0[0] = w0[0].copy()
    w0[0][0] *= 1e3  # replica 0 diverges within a few steps; the stop waits for escaped *or* diverged
    rule = sgd_escape.singular_value_rule(1, 0.05, "up", dim=P)
    kw = dict(beta=0.05, lr=0.05, batch=16, epochs=300, seed=5, record_every=2)
    full = sgd.train(w0, data, **kw)
    stop = sgd.train(w0, data, stop_rule=rule, **kw)
    e_full, e_stop = sgd_escape.escape_by_rule(full, rule), sgd_escape.escape_by_rule(stop, rule)
    assert full.diverged[0] and stop.diverged[0]
    assert e_full.n_escaped == 4 and e_full.epochs == e_stop.epochs
    assert stop.stopped_early and not full.stopped_early
    assert stop.epochs_run == max(e for e in e_stop.epochs if e is not None) < full.epochs_run
    R = stop.epochs.size
    np.testing.assert_array_equal(stop.epochs, full.epochs[:R])
    for k in ("train_mse", "test_mse", "mode_sv", "loss"):
        np.testing.assert_array_equal(getattr(stop, k), getattr(full, k)[:R])
    # the same rule through the public criterion functions
    assert sgd_escape.escape_by_singular_value(full, 1, 0.05, "up").epochs == e_full.epochs


def test_no_early_stop_while_one_replica_is_censored(data):
    w0 = sgd.init_random(L, W, P, 3, seed=2)
    rule = sgd_escape.singular_value_rule(1, 10.0, "up", dim=P)  # never reached
    r = sgd.train(w0, data, beta=0.05, lr=0.05, batch=16, epochs=5, seed=1, stop_rule=rule)
    assert not r.stopped_early and r.epochs_run == 5
    with pytest.raises(InputError, match="stop_rule"):
        sgd.train(w0, data, beta=0.05, lr=0.05, batch=16, epochs=5, seed=1, stop_rule="mode 1")


# --------------------------------------------------------------------------- protocol and sweep
PROTO = dict(depth=L, width=W, sv=[0.9, 0.8], beta=0.05, lr=0.05, batch=16, epochs=400, n_train=64, n_test=32,
             criterion="mode_amplitude", record_every=2)


def test_run_protocol_early_stop_matches_full_run():
    a = sgd_protocol.run_protocol(**PROTO, replicas=3, seed=9)
    b = sgd_protocol.run_protocol(**PROTO, replicas=3, seed=9, early_stop=False)
    assert a.early_stop_applied and a.stopped_early and a.epochs_run < b.epochs_run == 400
    assert a.n_escaped == 3 and a.escape_epochs == b.escape_epochs
    assert a.criterion == "mode_amplitude" and a.criterion_direction == "forward" and a.criterion_mode == 1
    d = a.to_dict()
    json.dumps(d, allow_nan=False)
    for key in ("escape_epochs", "n_escaped", "n_seeds", "final_rank", "train_mse", "test_mse", "noise_trace",
                "noise_escape_direction", "temperature_eff", "alignment_residual"):
        assert key in d


def test_sgd_sweep_kind_equals_direct_call(tmp_path):
    from langevin_grok.sweep import get_task, load_results, run_sweep

    assert get_task("sgd").function is sgd_protocol.sweep_task
    fixed = {"depth": L, "width": W, "sv": [0.9, 0.8], "beta": 0.05, "lr": 0.05, "batch": 16, "epochs": 30,
             "n_train": 64, "n_test": 32, "replicas": 2, "criterion": "singular_value", "escape_mode": 1,
             "sv_threshold": 0.05, "data_seed": 4}
    cfg = {"sweep": {"kind": "sgd", "seeds": 1, "base_seed": 3}, "fixed": fixed}
    s = run_sweep(cfg, store=tmp_path / "s.sqlite", workers=1, progress=False)
    assert s.n_done == 1 and s.n_failed == 0
    (row,) = load_results(tmp_path / "s.sqlite", config=cfg)
    direct = sgd_protocol.run_protocol(depth=L, width=W, sv=[0.9, 0.8], beta=0.05, lr=0.05, batch=16, epochs=30,
                              n_train=64, n_test=32, replicas=2, criterion="singular_value", escape_mode=1,
                              sv_threshold=0.05, data_seed=4, seed=row["seed"])
    assert row["result"] == json.loads(json.dumps(direct.to_dict()))
    assert row["result"]["settings"]["seed"] == row["seed"]


def test_sgd_sweep_rejects_bad_combination(tmp_path):
    from langevin_grok.sweep import run_sweep

    fixed = {"depth": L, "width": W, "sv": [0.9, 0.8], "beta": 0.05, "lr": 0.05, "batch": 128, "epochs": 3,
             "n_train": 64}
    with pytest.raises(InputError, match="batch"):
        run_sweep({"sweep": {"kind": "sgd"}, "fixed": fixed}, store=tmp_path / "b.sqlite", workers=1,
                  progress=False)
    assert not (tmp_path / "b.sqlite").exists()


# --------------------------------------------------------------------------- alignment
@pytest.mark.parametrize("beta, state, saddle", [
    (0.32, ("learned", "learned"), ("learned", "saddle")),   # reverse escape: noise > 0
    (0.05, ("learned", "trivial"), ("learned", "saddle")),   # forward escape from the rank-1 trap: dead
    (0.05, ("trivial", "learned"), ("saddle", "learned")),   # saddle uses other hidden units than the state
])
def test_aligned_noise_is_rotation_invariant(data, beta, state, saddle):
    net = DeepLinearNetwork.from_singular_values(L, W, P, [0.9, 0.8], beta)
    S = stationary_point(net, state)
    X, Y = data.x_train, data.y_train
    at_ideal = noise.aligned_escape_noise(S.theta, X, Y, net, state, saddle)
    assert at_ideal.alignment.residual == 0.0
    rng = np.random.default_rng(17)
    for _ in range(3):
        Qs = _random_rotations(rng, L - 1, W)
        rot = noise.rotate_hidden(S.theta, Qs, L, W, P)
        assert net.loss(rot) == pytest.approx(net.loss(S.theta), rel=1e-12)
        r = noise.aligned_escape_noise(rot, X, Y, net, state, saddle)
        assert r.alignment.residual < 1e-12 and r.alignment.target_distance > 0.1
        assert np.linalg.norm(r.direction) == pytest.approx(1.0, rel=1e-12)
        c0, c = at_ideal.noise.direction_variance, r.noise.direction_variance
        trace = at_ideal.noise.trace
        assert r.noise.trace == pytest.approx(trace, rel=1e-10)
        assert abs(c - c0) <= 1e-10 * max(c0, 1e-12 * trace)
    if at_ideal.noise.direction_variance > 1e-3:
        # without the rotation the ideal direction misses the rotated state's escape direction
        e = noise.escape_direction(net, saddle)
        wrong = noise.gradient_noise(rot, X, Y, L, W, direction=e).direction_variance
        assert abs(wrong - at_ideal.noise.direction_variance) > 1e-3


def test_align_hidden_recovers_rotations_and_reports_distance():
    net = DeepLinearNetwork.from_singular_values(L, W, P, [0.9, 0.8], 0.05)
    S = stationary_point(net, ("learned", "learned"))
    rng = np.random.default_rng(1)
    Qs = _random_rotations(rng, L - 1, W)
    target = noise.rotate_hidden(S.theta, Qs, L, W, P)
    al = noise.align_hidden(S.theta, target, L, W, P)
    np.testing.assert_allclose(noise.rotate_hidden(S.theta, al.rotations, L, W, P), target, atol=1e-12)
    # a perturbed target: the residual is the distance to the orbit, at most the perturbation's size
    kick = 1e-3 * rng.standard_normal(target.size)
    al2 = noise.align_hidden(S.theta, target + kick, L, W, P)
    assert al2.converged and 0 < al2.residual <= np.linalg.norm(kick) * (1 + 1e-9)
    assert al2.relative_residual == pytest.approx(al2.residual / np.linalg.norm(S.theta))
    for Q in al2.rotations:
        np.testing.assert_allclose(Q.T @ Q, np.eye(W), atol=1e-12)


def test_escape_frame_in_unused_units_follows_the_trained_remnant(data):
    # forward escape from the rank-1 state: the state fixes only hidden unit 0 of each layer; the escaping
    # mode's units are found from what the weights carry there (a small step along the escape direction)
    net = DeepLinearNetwork.from_singular_values(L, W, P, [0.9, 0.8], 0.05)
    state, saddle = ("learned", "trivial"), ("learned", "saddle")
    S = stationary_point(net, state)
    e = noise.escape_direction(net, saddle)  # canonical frame: mode 1 on hidden unit 1, as the permuted saddle
    rng = np.random.default_rng(5)
    for _ in range(3):
        Qs = _random_rotations(rng, L - 1, W)
        target = noise.rotate_hidden(S.theta + 1e-3 * e, Qs, L, W, P)
        r = noise.aligned_escape_noise(target, data.x_train, data.y_train, net, state, saddle)
        overlap = float(r.direction @ noise.rotate_hidden(e, Qs, L, W, P))
        assert overlap > 1 - 1e-6
        assert r.alignment.residual <= 1e-3 * (1 + 1e-6)


def test_shuffled_run_reports_the_epoch_level_temperatures_with_their_model():
    """Shuffled epochs from the learned rank-2 checkpoint (data seed 2): beside the one-batch temperature the
    summary gives the exact linear model's epoch-boundary and epoch-mean temperatures for the measured c_e and
    the curvature along the escape direction, each named by its noise model; with replacement there are none."""
    from langevin_grok.sgd.noise_models import shuffled_epoch_model

    kw = dict(depth=3, width=10, sv=[0.9, 0.8], beta=0.32, lr=0.08, batch=64, epochs=5, replicas=2, seed=1,
              data_seed=2, init="checkpoint", init_beta=0.30)
    sh = sgd_protocol.run_protocol(**kw).noise
    assert sh["temperature_noise_model"] == "single_batch_without_replacement"
    assert sh["temperature_shuffled_noise_model"] == "shuffled_epochs_exact_linear"
    h = sh["curvature_escape_direction"]
    assert h > 0
    ref = shuffled_epoch_model(0.08, 64, 512, sh["noise_escape_direction"], h)
    assert sh["temperature_shuffled_boundary"] == pytest.approx(ref.temperature_boundary, rel=1e-12)
    assert sh["temperature_shuffled_epoch_mean"] == pytest.approx(ref.temperature_epoch_mean, rel=1e-12)
    assert sh["temperature_shuffled_boundary"] < sh["temperature_shuffled_epoch_mean"] < sh["temperature_eff"]
    wr = sgd_protocol.run_protocol(**kw, replacement=True).noise
    assert wr["temperature_noise_model"] == "with_replacement" and wr["temperature_shuffled_boundary"] is None
