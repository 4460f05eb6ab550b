"""Models: the compiled gradients agree with the numpy definitions (and with network.py)."""

import numpy as np
import pytest

from langevin_grok.landscape.modes import arc_force
from langevin_grok._core.checks import InputError
from langevin_grok.langevin.models import arc_model, chain_model, network_model, quadratic_model
from langevin_grok.landscape.network import DeepLinearNetwork


def _fd_grad(model, x, eps=1e-6):
    return np.array([float(np.ravel(model.potential(0.0, x + eps * e) - model.potential(0.0, x - eps * e))[0]) / (2 * eps)
                     for e in np.eye(model.dim)])


@pytest.mark.parametrize("depth", [3, 4, 5])
def test_arc_compiled_matches_landscape(depth):
    m = arc_model(depth, 0.8, 0.1)
    for r in np.linspace(-1.5, 1.8, 13):
        x = np.array([r])
        want = -float(arc_force(0.0, r, m.params))
        assert m.compiled_grad(x)[0] == pytest.approx(want, rel=1e-13, abs=1e-15)
        assert float(np.ravel(m.grad(0.0, x))[0]) == pytest.approx(want, rel=1e-13, abs=1e-15)


@pytest.mark.parametrize("depth", [2, 3, 4, 6])
def test_chain_matches_network_scalar(depth):
    """Scalar chain == DeepLinearNetwork with width = dim = 1 (gradient exactly, loss up to a constant)."""
    eta, beta = 0.7, 0.15
    m = chain_model(depth, eta, beta)
    net = DeepLinearNetwork.from_singular_values(depth, 1, 1, [eta], beta)
    rng = np.random.default_rng(1)
    consts = []
    for _ in range(5):
        x = rng.normal(size=depth)
        np.testing.assert_allclose(m.compiled_grad(x), net.grad(x), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(m.grad(0.0, x), net.grad(x), rtol=1e-12, atol=1e-14)
        consts.append(net.loss(x) - m.potential(0.0, x))
    np.testing.assert_allclose(consts, consts[0], atol=1e-12)
    # a zero weight: prefix/suffix products must not divide by it
    x = np.array([0.0] + [0.9] * (depth - 1))
    np.testing.assert_allclose(m.compiled_grad(x), net.grad(x), atol=1e-14)


@pytest.mark.parametrize("depth,width,dim", [(2, 3, 2), (3, 4, 2), (4, 2, 3), (3, 1, 1)])
def test_network_compiled_matches_network_py(depth, width, dim):
    rng = np.random.default_rng(depth * 100 + width * 10 + dim)
    A = rng.normal(size=(dim, dim))
    sxx = A @ A.T / dim + np.eye(dim)
    syx = rng.normal(size=(dim, dim)) * 0.5
    net = DeepLinearNetwork(depth, width, dim, sxx, syx, 0.2)
    m = network_model(net)
    assert m.dim == net.n_params
    for _ in range(3):
        x = rng.normal(size=m.dim)
        np.testing.assert_allclose(m.compiled_grad(x), net.grad(x), rtol=1e-11, atol=1e-12)
        assert m.potential(0.0, x) == pytest.approx(net.loss(x), rel=1e-13)


@pytest.mark.parametrize("model", [arc_model(3, 0.8, 0.32), chain_model(3, 0.8, 0.3), quadratic_model(2.0, 3)])
def test_numpy_grad_is_gradient_of_potential(model):
    x = np.random.default_rng(3).normal(size=model.dim)
    np.testing.assert_allclose(np.ravel(model.grad(0.0, x)), _fd_grad(model, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(model.compiled_grad(x), np.ravel(model.grad(0.0, x)), rtol=1e-13, atol=1e-15)


def test_bad_inputs():
    with pytest.raises(InputError, match="depth"):
        arc_model(1, 0.8, 0.3)
    with pytest.raises(InputError, match="sv"):
        chain_model(3, 1.2, 0.3)
    with pytest.raises(InputError, match="beta"):
        arc_model(3, 0.8, -0.1)
    with pytest.raises(InputError, match="stiffness"):
        quadratic_model(-1.0)
    with pytest.raises(InputError, match="DeepLinearNetwork"):
        network_model("net")
