"""Weight-space loss, gradient, Hessian and constructed stationary points (langevin_grok.landscape.network)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.landscape.modes import beta_c, ell, mode_landscape
from langevin_grok.landscape.network import DeepLinearNetwork, drift_fn, grad_fn, loss_fn, n_params, pack, unpack
from langevin_grok.landscape.stationary import equivalent_saddles, hessian_spectrum, orbit_tangents, stationary_point, stationary_points

SHAPES = [(2, 1, 1), (2, 3, 2), (3, 1, 1), (3, 2, 3), (3, 4, 2), (4, 1, 2), (4, 3, 3), (5, 2, 1), (5, 4, 3)]


def _random_net(L, w, p, seed):
    """A network with general (non-identity) Sigma_xx, Sigma_yx and Sigma_yy."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7 + p, p))
    Y = X @ rng.standard_normal((p, p)) + 0.3 * rng.standard_normal((7 + p, p))
    return DeepLinearNetwork.from_data(X, Y, L, w, beta=0.13)


def _fd_grad(f, x, h):
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(x.size)])


# --------------------------------------------------------------------------- layout
def test_pack_unpack_roundtrip_and_order():
    L, w, p = 4, 3, 2
    D = n_params(L, w, p)
    assert D == w * p + (L - 2) * w * w + p * w
    theta = np.arange(D, dtype=float)
    Ws = unpack(theta, L, w, p)
    assert [W.shape for W in Ws] == [(3, 2), (3, 3), (3, 3), (2, 3)]
    # documented order: W_1 first, each row-major
    assert Ws[0][0, 1] == 1.0 and Ws[0][1, 0] == 2.0 and Ws[1][0, 0] == 6.0
    np.testing.assert_array_equal(pack(Ws), theta)


@pytest.mark.parametrize("L,w,p", SHAPES)
def test_gradient_matches_finite_differences(L, w, p):
    net = _random_net(L, w, p, seed=10 * L + w + p)
    theta = np.random.default_rng(L * w * p).standard_normal(net.n_params) * 0.6
    g = net.grad(theta)
    fd = _fd_grad(net.loss, theta, 1e-5)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(g)))


@pytest.mark.parametrize("L,w,p", SHAPES)
def test_hessian_matches_finite_differences_of_gradient(L, w, p):
    net = _random_net(L, w, p, seed=7 * L + w + 3 * p)
    theta = np.random.default_rng(1 + L * w * p).standard_normal(net.n_params) * 0.6
    H = net.hessian(theta)
    np.testing.assert_array_equal(H, H.T)
    fd = _fd_grad(net.grad, theta, 1e-5)  # row i = d grad / d theta_i = H[i, :]
    np.testing.assert_allclose(H, fd, rtol=1e-6, atol=1e-6 * np.max(np.abs(H)))


def test_grad_batch_and_calling_convention_agree_with_methods():
    net = _random_net(3, 3, 2, seed=4)
    rng = np.random.default_rng(5)
    thetas = rng.standard_normal((4, net.n_params))
    gb = net.grad_batch(thetas)
    prm = net.params
    for th, g in zip(thetas, gb):
        np.testing.assert_allclose(g, net.grad(th), rtol=1e-13, atol=1e-14)
        np.testing.assert_array_equal(grad_fn(0.0, th, prm), net.grad(th))
        np.testing.assert_array_equal(drift_fn(1.0, th, prm), -net.grad(th))
        assert loss_fn(0.0, th, prm) == net.loss(th)
    back = DeepLinearNetwork.from_params(prm)
    assert back.loss(thetas[0]) == net.loss(thetas[0])


def test_from_data_loss_equals_sample_average():
    rng = np.random.default_rng(11)
    N, p, L, w, beta = 37, 3, 3, 4, 0.21
    X = rng.standard_normal((N, p))
    Y = rng.standard_normal((N, p)) + X @ rng.standard_normal((p, p))
    net = DeepLinearNetwork.from_data(X, Y, L, w, beta)
    theta = rng.standard_normal(net.n_params)
    Ws = net.unpack(theta)
    F = X.T
    for W in Ws:
        F = W @ F
    explicit = np.sum((F.T - Y) ** 2) / (2 * N) + 0.5 * beta * sum(np.sum(W * W) for W in Ws)
    assert net.loss(theta) == pytest.approx(explicit, rel=1e-12)


def test_default_sigma_yy_gives_population_mse():
    # Sigma_xx = I, Sigma_yy = I: E|Wx - y|^2 / 2 = |W|^2/2 - tr(W Sigma_yx^T) + p/2.
    net = DeepLinearNetwork.from_singular_values(2, 2, 2, [0.6, 0.2], 0.0, rng=3)
    np.testing.assert_array_equal(net.sigma_yy, np.eye(2))
    assert net.loss(np.zeros(net.n_params)) == pytest.approx(1.0, rel=1e-15)
    np.testing.assert_allclose(np.linalg.svd(net.sigma_yx, compute_uv=False), [0.6, 0.2], rtol=1e-13)


# --------------------------------------------------------------------------- stationary points
@pytest.mark.parametrize("L,w,p,sv,beta", [
    (3, 10, 2, (0.9, 0.8), 0.32),
    (3, 3, 3, (0.9, 0.6, 0.5), 0.05),
    (4, 2, 2, (0.8, 0.5), 0.03),
    (5, 3, 2, (0.9, 0.7), 0.05),
    (2, 3, 2, (0.9, 0.4), 0.1),
])
def test_embedded_points_are_stationary_with_per_mode_loss(L, w, p, sv, beta):
    net = DeepLinearNetwork.from_singular_values(L, w, p, sv, beta, rng=L + w)
    eta = np.concatenate([sv, np.zeros(p - len(sv))])
    pts = stationary_points(net, rng=2)
    assert len(pts) > 1
    for sp in pts:
        assert sp.gradient_norm < 1e-12, sp.kind
        lam = sp.amplitudes**L
        # independent of the embedding: the landscape's per-mode ell, plus the constants of Sigma_yy = I
        expected = np.sum(ell(lam, L, eta, beta)) + 0.5 * (p - np.sum(eta**2))
        assert sp.loss == pytest.approx(expected, rel=1e-12, abs=1e-14)
        assert sp.energy == pytest.approx(sp.loss - net.loss(np.zeros(net.n_params)), abs=1e-13)
        # end-to-end map is U diag(a^L) V^T on the chosen modes: its singular values are the lambda_i
        np.testing.assert_allclose(np.sort(np.linalg.svd(net.end_to_end(sp.theta), compute_uv=False)),
                                   np.sort(lam), atol=1e-14)


def test_trivial_point_hessian_is_beta_identity():
    for L in (3, 4, 5):
        net = DeepLinearNetwork.from_singular_values(L, 4, 3, [0.9, 0.8], 0.32, rng=1)
        sp = stationary_point(net, ["trivial"] * 3)
        np.testing.assert_array_equal(net.hessian(sp.theta), 0.32 * np.eye(net.n_params))
        assert sp.index == 0 and sp.n_zero == 0 and sp.unstable_direction is None


@pytest.mark.parametrize("L", [3, 4, 5])
def test_scalar_chain_saddle_index_one_and_exact_spectrum(L):
    eta, beta = 0.8, 0.5 * beta_c(L, 0.8)
    net = DeepLinearNetwork.from_singular_values(L, 1, 1, [eta], beta)
    m = mode_landscape(L, eta, beta)
    sad = stationary_point(net, ["saddle"])
    mn = stationary_point(net, ["learned"])
    assert (sad.index, sad.n_zero, sad.orbit_dimension) == (1, 0, 0)
    assert (mn.index, mn.n_zero) == (0, 0)
    # Along the balanced arc the curvature is u''(a)/L (landscape); transverse: 2 beta, (L-1) times.
    assert sad.unstable_eigenvalue == pytest.approx(m.curvature_saddle, rel=1e-10)
    np.testing.assert_allclose(sad.eigenvalues[1:], 2 * beta, rtol=1e-10)
    np.testing.assert_allclose(np.sort(mn.eigenvalues), np.sort([m.curvature_min] + [2 * beta] * (L - 1)),
                               rtol=1e-10)
    e = sad.unstable_direction
    np.testing.assert_allclose(e, np.ones(L) / np.sqrt(L), atol=1e-12)  # points towards the learned state
    assert sad.log_abs_det_nonzero == pytest.approx(np.log(-m.curvature_saddle) + (L - 1) * np.log(2 * beta),
                                                    rel=1e-10)
    assert sad.energy == pytest.approx(m.barrier_forward, rel=1e-12)


@pytest.mark.parametrize("L", [2, 3, 4, 5])
def test_scalar_chain_has_2_to_L_minus_1_equivalent_saddles(L):
    eta = 0.8
    beta = 0.3 if L == 2 else 0.5 * beta_c(L, eta)
    net = DeepLinearNetwork.from_singular_values(L, 1, 1, [eta], beta)
    pt = stationary_point(net, ["learned" if L == 2 else "saddle"])
    images = equivalent_saddles(net, pt)
    assert len(images) == 2 ** (L - 1)
    signs = {tuple(np.sign(sp.theta).astype(int)) for sp in images}
    expected = {s for s in itertools.product((1, -1), repeat=L) if np.prod(s) == 1}
    assert signs == expected
    for sp in images:
        assert sp.gradient_norm < 1e-13
        assert sp.loss == pytest.approx(pt.loss, rel=1e-14)
        assert sp.index == pt.index and sp.n_zero == 0
        np.testing.assert_allclose(sp.eigenvalues, pt.eigenvalues, rtol=1e-12, atol=1e-14)
    # the odd-parity sign patterns are not stationary: the count 2^(L-1) is not 2^L
    odd = pt.theta * np.array([-1.0] + [1.0] * (L - 1))
    assert np.linalg.norm(net.grad(odd)) > 1e-3


def test_equivalent_saddles_rejects_width_above_one():
    net = DeepLinearNetwork.from_singular_values(3, 2, 1, [0.8], 0.1)
    pt = stationary_point(net, ["saddle"])
    with pytest.raises(InputError, match="width"):
        equivalent_saddles(net, pt)


@pytest.mark.parametrize("L,w,p,sv,beta", [
    (3, 10, 2, (0.9, 0.8), 0.32),
    (3, 4, 3, (0.9, 0.6, 0.5), 0.05),
    (4, 3, 2, (0.8, 0.5), 0.03),
    (5, 2, 2, (0.9, 0.7), 0.05),
    (2, 4, 2, (0.9, 0.4), 0.1),
])
def test_zero_modes_equal_rotation_orbit_dimension(L, w, p, sv, beta):
    net = DeepLinearNetwork.from_singular_values(L, w, p, sv, beta, rng=w)
    for sp in stationary_points(net, rng=9):
        k = int(np.count_nonzero(sp.amplitudes))
        assert sp.orbit_dimension == (L - 1) * (k * (w - k) + k * (k - 1) // 2)
        assert sp.n_zero == sp.orbit_dimension, sp.kind
        assert sp.n_zero > 0 or not (k > 0 and w > k)  # a partly filled hidden layer always has an orbit
        # the zero modes are spanned by the rotation-orbit tangents
        T = orbit_tangents(net, sp.theta)
        assert T.shape == (net.n_params, (L - 1) * w * (w - 1) // 2)
        assert np.linalg.matrix_rank(T, tol=1e-10) == sp.orbit_dimension
        H = net.hessian(sp.theta)
        assert np.max(np.abs(H @ T), initial=0.0) < 1e-12
        if sp.n_zero:
            null = sp.eigenvectors[:, np.abs(sp.eigenvalues) <= sp.tol]
            # projecting T onto the Hessian null space leaves it unchanged (same subspace)
            np.testing.assert_allclose(null @ (null.T @ T), T, atol=1e-10)
        # ...and, independently of orbit_tangents, one generator written out by hand
        if k > 0 and w > 1:
            Ws = net.unpack(sp.theta)
            om = np.zeros((w, w))
            om[0, 1], om[1, 0] = 1.0, -1.0
            tang = [np.zeros_like(W) for W in Ws]
            tang[0] = om @ Ws[0]
            tang[1] = -Ws[1] @ om
            t = pack(tang)
            assert np.linalg.norm(net.hessian(sp.theta) @ t) < 1e-12 * max(1.0, np.linalg.norm(t))


def test_index_at_minima_and_saddles_seed_setup():
    # L = 3, w = 10, p = 2, eta = (0.9, 0.8), beta = 0.32: the paper's setup.
    net = DeepLinearNetwork.from_singular_values(3, 10, 2, [0.9, 0.8], 0.32)
    idx = {sp.kind: sp.index for sp in stationary_points(net)}
    assert idx["trivial,trivial"] == 0
    assert idx["learned,learned"] == 0
    assert idx["learned,trivial"] == 0  # the rank-1 trap is a local minimum
    assert idx["saddle,trivial"] == 1 and idx["learned,saddle"] == 1
    assert idx["saddle,saddle"] >= 2
    # The unstable direction at a one-saddle point is the saddle mode's balanced arc.
    sp = stationary_point(net, ["learned", "saddle"])
    m = mode_landscape(3, 0.8, 0.32)
    assert sp.unstable_eigenvalue == pytest.approx(m.curvature_saddle, rel=1e-10)
    e = sp.unstable_direction
    assert np.dot(e, sp.theta) > 0
    assert sp.nonzero_eigenvalues.size == net.n_params - sp.n_zero
    assert sp.is_isolated is False
    np.testing.assert_allclose(net.hessian(sp.theta) @ e, sp.unstable_eigenvalue * e, atol=1e-12)


def test_random_frames_give_same_spectrum_and_record_seed():
    net = DeepLinearNetwork.from_singular_values(4, 5, 2, [0.9, 0.8], 0.02)
    a = stationary_point(net, ["learned", "saddle"])
    b = stationary_point(net, ["learned", "saddle"], rng=123)
    assert b.seed == 123 and a.seed is None
    assert not np.allclose(a.theta, b.theta)
    assert b.gradient_norm < 1e-12
    np.testing.assert_allclose(a.eigenvalues, b.eigenvalues, atol=1e-12)
    assert (a.index, a.n_zero) == (b.index, b.n_zero)


def test_general_sigma_xx_with_shared_eigenvectors_is_supported():
    # Sigma_xx = V diag(s) V^T shares the right singular vectors of Sigma_yx: mode i uses eta_i/s_i, beta/s_i.
    rng = np.random.default_rng(8)
    U = np.linalg.qr(rng.standard_normal((2, 2)))[0]
    V = np.linalg.qr(rng.standard_normal((2, 2)))[0]
    s = np.array([1.5, 0.7])
    net = DeepLinearNetwork(3, 3, 2, (V * s) @ V.T, (U * [0.9, 0.4]) @ V.T, 0.05)
    sp = stationary_point(net, ["saddle", "learned"])
    assert sp.gradient_norm < 1e-12
    assert sp.energy == pytest.approx(sp.loss - net.loss(np.zeros(net.n_params)), abs=1e-14)
    # ...and a Sigma_xx that mixes the singular directions is refused
    bad = DeepLinearNetwork(3, 3, 2, np.array([[1.0, 0.3], [0.3, 1.0]]), np.diag([0.9, 0.4]), 0.05)
    with pytest.raises(InputError, match="sigma_xx"):
        stationary_point(bad, ["learned"])
    assert stationary_point(bad, ["trivial", "trivial"]).gradient_norm == 0.0


def test_hessian_spectrum_tolerance_and_to_dict():
    net = DeepLinearNetwork.from_singular_values(3, 3, 2, [0.9, 0.8], 0.1)
    sp = stationary_point(net, ["learned"])
    spec = hessian_spectrum(net, sp.theta)
    assert spec.tol == pytest.approx(1e-8 * np.max(np.abs(spec.eigenvalues)))
    assert (spec.index, spec.n_zero) == (sp.index, sp.n_zero)
    loose = hessian_spectrum(net, sp.theta, tol=10.0)  # everything counts as zero
    assert loose.n_zero == net.n_params and loose.index == 0
    d = sp.to_dict(n_eigenvalues=3)
    assert len(d["eigenvalues"]) == 3 and d["modes"] == ["learned", "trivial"]


# --------------------------------------------------------------------------- bad input
def test_bad_input_names_the_argument():
    net = DeepLinearNetwork.from_singular_values(3, 1, 2, [0.9, 0.8], 0.1)
    with pytest.raises(InputError, match="width"):
        stationary_point(net, ["learned", "learned"])
    with pytest.raises(InputError, match="theta"):
        net.loss(np.full(net.n_params, np.nan))
    with pytest.raises(InputError, match="theta"):
        net.grad(np.zeros(net.n_params + 1))
    with pytest.raises(InputError, match="theta"):
        net.hessian(np.array([np.inf] * net.n_params))
    with pytest.raises(InputError, match="sigma_xx"):
        DeepLinearNetwork(3, 2, 2, np.eye(3), np.eye(2), 0.1)
    with pytest.raises(InputError, match="sigma_yx"):
        DeepLinearNetwork(3, 2, 2, np.eye(2), np.eye(2)[:, :1], 0.1)
    with pytest.raises(InputError, match="sigma_xx"):
        DeepLinearNetwork(3, 2, 2, np.array([[1.0, 0.5], [0.0, 1.0]]), np.eye(2), 0.1)
    with pytest.raises(InputError, match="Y"):
        DeepLinearNetwork.from_data(np.zeros((5, 2)), np.zeros((4, 2)), 3, 2, 0.1)
    with pytest.raises(InputError, match="depth"):
        DeepLinearNetwork.from_singular_values(1, 2, 2, [0.5], 0.1)
    with pytest.raises(InputError, match="beta"):
        DeepLinearNetwork.from_singular_values(3, 2, 2, [0.5], -0.1)
    with pytest.raises(InputError, match="sv"):
        DeepLinearNetwork.from_singular_values(3, 2, 1, [0.5, 0.4], 0.1)
    with pytest.raises(InputError, match="modes"):
        stationary_point(net, ["learnt", "trivial"])
    with pytest.raises(InputError, match="modes"):
        stationary_point(net, ["trivial"] * 3)
    net2 = DeepLinearNetwork.from_singular_values(2, 2, 2, [0.9], 0.1)
    with pytest.raises(InputError, match="saddle"):
        stationary_point(net2, ["saddle"])  # no saddle at depth 2
    with pytest.raises(InputError, match="singular value"):
        stationary_point(net2, ["trivial", "learned"])  # the padded zero singular value
    beyond = DeepLinearNetwork.from_singular_values(3, 2, 1, [0.8], 0.4)  # beta > beta_c
    with pytest.raises(InputError, match="does not exist"):
        stationary_point(beyond, ["learned"])


def test_stationary_point_repr_is_short():
    """repr of the paper network's trap names the state, not its 140 weights or its 140 x 140 eigenvectors."""
    net = DeepLinearNetwork.from_singular_values(3, 10, 2, [0.9, 0.8], 0.32)
    sp = stationary_point(net, ["learned", "trivial"])
    text = repr(sp)
    assert len(text) < 800 and "learned" in text and "eigenvectors" not in text
