"""Per-sample gradient noise: consistency with the analytic gradient, exact zeros on dead directions,
temperatures."""

import numpy as np
import pytest

from langevin_grok.sgd import noise
from langevin_grok._core.checks import InputError
from langevin_grok.sgd.data import make_dataset
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point
from langevin_grok._core.units import sgd_temperature


@pytest.fixture(scope="module")
def data():
    return make_dataset([0.9, 0.8], n_train=96, n_test=8, seed=4)


def test_per_sample_grads_average_to_full_batch_gradient(data):
    rng = np.random.default_rng(0)
    for depth, width in ((2, 3), (3, 4), (4, 2)):
        net = DeepLinearNetwork.from_data(data.x_train, data.y_train, depth, width, 0.3)
        theta = 0.5 * rng.standard_normal(net.n_params)
        G = noise.per_sample_grads(theta, data.x_train, data.y_train, depth, width)
        assert G.shape == (data.n_train, net.n_params)
        np.testing.assert_allclose(G.mean(axis=0) + 0.3 * theta, net.grad(theta), atol=1e-13)


def test_per_sample_grad_matches_one_sample_network(data):
    # one sample: from_data on that sample alone gives the same gradient
    theta = np.random.default_rng(1).standard_normal(2 * 3 + 9 + 3 * 2)
    G = noise.per_sample_grads(theta, data.x_train, data.y_train, 3, 3)
    for n in (0, 17):
        net = DeepLinearNetwork.from_data(data.x_train[n:n + 1], data.y_train[n:n + 1], 3, 3, 0.0)
        np.testing.assert_allclose(G[n], net.grad(theta), atol=1e-13)


def test_covariance_trace_projection_and_temperature(data):
    theta = np.random.default_rng(2).standard_normal(32) * 0.5
    G = noise.per_sample_grads(theta, data.x_train, data.y_train, 3, 4)
    C = np.cov(G.T, bias=True)
    e = np.random.default_rng(3).standard_normal(G.shape[1])
    res = noise.gradient_noise(theta, data.x_train, data.y_train, 3, 4, direction=e, lr=0.08, batch=32, n_top=3)
    e /= np.linalg.norm(e)
    assert res.trace == pytest.approx(np.trace(C), rel=1e-12)
    assert res.direction_variance == pytest.approx(e @ C @ e, rel=1e-10)
    np.testing.assert_allclose(res.eigenvalues, np.sort(np.linalg.eigvalsh(C))[::-1][:3], rtol=1e-10)
    v = res.eigenvectors[:, 0]
    np.testing.assert_allclose(C @ v, res.eigenvalues[0] * v, atol=1e-12)
    assert res.temperature_iso == pytest.approx(sgd_temperature(0.08, 32, np.trace(C) / 32, n_train=96))
    assert res.temperature_direction == pytest.approx(0.08 * (e @ C @ e) / 64 * (96 - 32) / 95, rel=1e-10)
    assert res.escape_noise_zero is False
    rep = noise.gradient_noise(theta, data.x_train, data.y_train, 3, 4, direction=e, lr=0.08, batch=32,
                               replacement=True)
    assert rep.temperature_direction == pytest.approx(0.08 * (e @ C @ e) / 64, rel=1e-10)


def test_dead_direction_has_exactly_zero_noise(data):
    # rank-1 state (mode 2 dead): the unstable direction of the (learned, saddle) saddle only moves
    # the dead hidden unit, whose per-sample gradients are exactly zero.
    pop = DeepLinearNetwork.from_singular_values(3, 4, 2, [0.9, 0.8], 0.32)
    trap = stationary_point(pop, ("learned", "trivial"))
    saddle, mode, direction = noise.relevant_saddle(3, [0.9, 0.8], 0.32, ("learned", "trivial"))
    assert saddle == ("learned", "saddle") and mode == 1 and direction == "forward"
    e = noise.escape_direction(pop, saddle)
    res = noise.gradient_noise(trap.theta, data.x_train, data.y_train, 3, 4, direction=e, lr=0.08, batch=64)
    assert res.escape_noise_zero is True
    assert res.temperature_direction == 0.0
    assert res.trace > 0.1  # the learned mode itself is noisy
    # restricted exactly to the dead unit's weights the projection is an exact floating-point zero
    e_exact = np.where(np.abs(e) > 1e-10, e, 0.0)
    exact = noise.gradient_noise(trap.theta, data.x_train, data.y_train, 3, 4, direction=e_exact)
    assert exact.exactly_zero is True and exact.direction_variance == 0.0
    # the same direction at the fully learned state does carry noise (the reverse escape is honest)
    full = stationary_point(pop, ("learned", "learned"))
    res2 = noise.gradient_noise(full.theta, data.x_train, data.y_train, 3, 4, direction=e, lr=0.08, batch=64)
    assert res2.escape_noise_zero is False and res2.direction_variance > 1e-3
    assert res2.temperature_direction > 0
    # trivial state: no noise at all
    zero = noise.gradient_noise(np.zeros(res.n_params), data.x_train, data.y_train, 3, 4, direction=e)
    assert zero.trace == 0.0 and zero.escape_noise_zero is True


def test_relevant_saddle_rules():
    # beta = 0.32: mode 0.9 learned is global; mode 0.8 trivial is global, learned metastable
    assert noise.relevant_saddle(3, [0.9, 0.8], 0.32, ("learned", "learned")) == (("learned", "saddle"), 1, "reverse")
    assert noise.relevant_saddle(3, [0.9, 0.8], 0.32, ("trivial", "trivial")) == (("saddle", "trivial"), 0, "forward")
    assert noise.relevant_saddle(3, [0.9, 0.8], 0.5, ("trivial", "trivial")) is None
    with pytest.raises(InputError):
        noise.relevant_saddle(3, [0.9, 0.8], 0.32, ("learned",))


def test_bad_input(data):
    with pytest.raises(InputError):
        noise.gradient_noise(np.zeros(32), data.x_train, data.y_train, 3, 4, direction=np.zeros(32))
    with pytest.raises(InputError):
        noise.gradient_noise(np.zeros(32), data.x_train, data.y_train, 3, 4, lr=0.1)
    with pytest.raises(InputError):
        noise.gradient_noise(np.zeros(27), data.x_train, data.y_train, 3, 4)
    with pytest.raises(InputError):
        pop = DeepLinearNetwork.from_singular_values(3, 4, 2, [0.9, 0.8], 0.32)
        noise.escape_direction(pop, ("learned", "learned"))


def test_absorbing_flag_uses_direction_support_not_the_eigenvector_leak():
    # exact rank-1 trap of the empirical network, escape direction = numerically computed unstable
    # eigenvector of the (learned, saddle) saddle, NOT cleaned: it leaks ~1e-16 onto live weights, so
    # c_e ~ 1e-32 > 0.0, but every per-sample gradient on its support is exactly 0 -> structural zero.
    d = make_dataset([0.9, 0.8], n_train=128, n_test=8, seed=6, whiten_train=True)
    net = DeepLinearNetwork.from_data(d.x_train, d.y_train, 3, 4, 0.32)
    trap = stationary_point(net, ("learned", "trivial"))
    e = stationary_point(net, ("learned", "saddle")).unstable_direction
    res = noise.gradient_noise(trap.theta, d.x_train, d.y_train, 3, 4, direction=e, lr=0.08, batch=64)
    assert res.exactly_zero is True and res.escape_noise_zero is True
    assert res.temperature_direction == 0.0
    assert res.direction_variance <= 1e-20 * res.trace  # only the leak is left
    assert 0 < res.direction_support < res.n_params and res.direction_leak < 1e-12
    # the same direction at the rank-full learned state: noise on the support, neither flag set
    full = stationary_point(net, ("learned", "learned"))
    res2 = noise.gradient_noise(full.theta, d.x_train, d.y_train, 3, 4, direction=e, lr=0.08, batch=64)
    assert res2.exactly_zero is False and res2.escape_noise_zero is False
    assert res2.direction_variance > 1e-4 * res2.trace
    # a dense random direction has full support and no leak
    r = noise.gradient_noise(full.theta, d.x_train, d.y_train, 3, 4,
                             direction=np.random.default_rng(0).standard_normal(res.n_params))
    assert r.direction_support == r.n_params and r.direction_leak == 0.0 and r.exactly_zero is False
