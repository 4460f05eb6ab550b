"""The end-to-end diffusion (sgd.end_to_end) against the weight-space route, the 1-D chord model and simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.landscape.network import DeepLinearNetwork, pack
from langevin_grok.sgd.end_to_end import data_moments, end_to_end_escape, end_to_end_fields
from langevin_grok.sgd.noise import per_sample_grads
from langevin_grok.sgd.path_noise import mfpt_state_dependent
from langevin_grok.sgd.trainer import end_to_end, unpack
from langevin_grok.theory.stats import exponential_mle


def _data(p, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    Y = X @ np.diag(np.linspace(0.9, 0.6, p)) + 0.5 * rng.standard_normal((n, p))
    return X, Y


def _balanced(W, L, w, rng):
    """A balanced factorisation of W (p x p) with random hidden frames (width w >= p)."""
    U, s, Vt = np.linalg.svd(W)
    p = W.shape[0]
    R = [np.linalg.qr(rng.standard_normal((w, w)))[0][:, :p] for _ in range(L - 1)]
    S = np.diag(s ** (1.0 / L))
    layers = [R[0] @ S @ Vt] + [R[k] @ S @ R[k - 1].T for k in range(1, L - 1)] + [U @ S @ R[-1].T]
    return pack(layers)


def _product(theta, L, w, p):
    return end_to_end(unpack(np.atleast_2d(theta), L, w, p))[0]


@pytest.mark.parametrize("L,p,w", [(3, 2, 2), (4, 2, 3), (3, 3, 4)])
def test_fields_equal_the_weight_space_route(L, p, w):
    """Drift, diffusion and Ito term against J (-grad Loss), J (lr C / 2B) J^T and 1/2 W'' : lr C / B at a balanced
    theta (gradient and C from the network code, J and W'' by central differences of the product map)."""
    rng = np.random.default_rng(10 * L + p)
    X, Y = _data(p, 64, L + p)
    beta, lr, B = 0.2, 0.3, 8
    W = np.eye(p) * 0.6 + 0.2 * rng.standard_normal((p, p))
    th = _balanced(W, L, w, rng)
    assert np.allclose(_product(th, L, w, p), W, atol=1e-13)
    D = th.size
    h = 1e-5
    J = np.stack([(_product(th + h * np.eye(D)[a], L, w, p) - _product(th - h * np.eye(D)[a], L, w, p)).ravel()
                  / (2 * h) for a in range(D)], axis=1)
    h2 = 1e-3
    Hs = np.zeros((p * p, D, D))
    for a in range(D):
        for b in range(a, D):
            ea, eb = h2 * np.eye(D)[a], h2 * np.eye(D)[b]
            v = (_product(th + ea + eb, L, w, p) - _product(th + ea - eb, L, w, p) - _product(th - ea + eb, L, w, p)
                 + _product(th - ea - eb, L, w, p)).ravel() / (4 * h2 * h2)
            Hs[:, a, b] = Hs[:, b, a] = v
    net = DeepLinearNetwork.from_data(X, Y, L, w, beta)
    G = per_sample_grads(th, X, Y, L, w)
    G = G - G.mean(axis=0)
    C = G.T @ G / X.shape[0]
    f = end_to_end_fields(W, data_moments(X, Y), L, beta, lr, B)
    drift_ref = J @ (-net.grad(th))
    D_ref = lr / (2 * B) * J @ C @ J.T
    ito_ref = 0.5 * np.einsum("kab,ab->k", Hs, lr * C / B)
    assert np.abs(f.drift[0].ravel() - f.ito[0].ravel() - drift_ref).max() < 1e-8 * np.abs(drift_ref).max()
    assert np.abs(f.diffusion[0].reshape(p * p, p * p) - D_ref).max() < 1e-8 * np.abs(D_ref).max()
    assert np.abs(f.ito[0].ravel() - ito_ref).max() < 1e-5 * np.abs(ito_ref).max()


def _scalar_problem():
    """p = 1, L = 3: a bistable scalar chain (learned minimum and saddle from the stationary quartic)."""
    X, Y = _data(1, 400, 4)
    sxx, syx = float(X[:, 0] @ X[:, 0] / 400), float(Y[:, 0] @ X[:, 0] / 400)
    # the stationary quartic sxx a^4 - syx a + beta = 0 has a double root (the spinodal) at a_c = (syx/(4 sxx))^(1/3),
    # beta_c = (3/4) syx a_c; 3.6 % below it the learned minimum and the saddle coexist across a barrier of a few T
    beta = 0.964 * 0.75 * syx * (syx / (4 * sxx)) ** (1 / 3)
    roots = np.sort([r.real for r in np.roots([sxx, 0, 0, -syx, beta]) if abs(r.imag) < 1e-12 and r.real > 0])
    assert roots.size == 2, roots
    return X, Y, beta, roots[1], roots[0]  # a_min, a_saddle


def test_scalar_end_to_end_mfpt_equals_the_chord_mfpt():
    """p = 1: the 1-D SDE of lambda = a^3 (Ito term included) and the network's chord model in r = sqrt(3) a
    (no Ito term: r is linear in theta) give the same MFPT (coordinate invariance)."""
    X, Y, beta, a_min, a_sad = _scalar_problem()
    L, lr, B = 3, 0.1, 4
    mom = data_moments(X, Y)
    net = DeepLinearNetwork.from_data(X, Y, L, 1, beta)
    e = np.ones(3) / math.sqrt(3)

    def chord(r):
        r = np.atleast_1d(r)
        th = np.outer(r / math.sqrt(3), np.ones(3))
        g = np.array([e @ net.grad(t) for t in th])
        c = np.array([e @ np.cov(per_sample_grads(t, X, Y, L, 1).T, bias=True) @ e for t in th])
        return g, lr * c / (2 * B)

    def lam_fields(lam):
        f = end_to_end_fields(np.atleast_1d(lam)[:, None, None], mom, L, beta, lr, B)
        return -f.drift[:, 0, 0], f.diffusion[:, 0, 0, 0, 0]
    a_tgt, a_ref = 0.5 * a_sad, 1.6 * a_min
    r_line = mfpt_state_dependent(lambda t, x, p: chord(x)[0], lambda t, x, p: chord(x)[1], math.sqrt(3) * a_min,
                                  math.sqrt(3) * a_tgt, math.sqrt(3) * a_ref)
    r_lam = mfpt_state_dependent(lambda t, x, p: lam_fields(x)[0], lambda t, x, p: lam_fields(x)[1], a_min ** 3,
                                 a_tgt ** 3, a_ref ** 3)
    assert 3 < r_line.log_tau < 12, r_line.log_tau  # a barrier of a few T, not a trivial passage
    assert r_lam.tau == pytest.approx(r_line.tau, rel=1e-5)


_SCALAR_RUN = (3, 0.2, 4)  # depth, lr, batch of the p = 1 escape below


def _scalar_escape():
    """The p = 1 escape problem and its exact 1-D MFPT in lambda from the end-to-end fields (target a_sad / 2)."""
    X, Y, beta, a_min, a_sad = _scalar_problem()
    L, lr, B = _SCALAR_RUN
    mom = data_moments(X, Y)

    def lam_fields(lam):
        f = end_to_end_fields(np.atleast_1d(lam)[:, None, None], mom, L, beta, lr, B)
        return -f.drift[:, 0, 0], f.diffusion[:, 0, 0, 0, 0]
    tgt = (0.5 * a_sad) ** 3
    exact = mfpt_state_dependent(lambda t, x, p: lam_fields(x)[0], lambda t, x, p: lam_fields(x)[1], a_min ** 3,
                                 tgt, (2 * a_min) ** 3)
    return X, Y, beta, a_min, tgt, exact


@pytest.mark.slow
def test_escape_simulation_matches_the_exact_mfpt():
    """Euler-Maruyama of the end-to-end SDE (p = 1) against the exact 1-D MFPT: 600 paths, seed 3, within 4
    standard errors plus 3 % (the step's bias at dt = 0.02)."""
    X, Y, beta, a_min, tgt, exact = _scalar_escape()
    L, lr, B = _SCALAR_RUN
    sim = end_to_end_escape(np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, lambda W: W[:, 0, 0] < tgt,
                            n_paths=600, t_max=30 * exact.tau, dt=0.02, seed=3, method="reference")
    est = exponential_mle(sim["t_sde"], sim["observed"])
    assert sim["n_diverged"] == 0
    assert sim["status"].value == "valid" and 0 < sim["dt_curvature"] < 0.1, sim["dt_curvature"]
    se = est.mean / math.sqrt(est.n_events)
    assert abs(est.mean - exact.tau) < 4 * se + 0.03 * exact.tau, (est.mean, exact.tau)


def test_compiled_simulation_matches_the_exact_mfpt():
    """The compiled kernel (p = 1, the same problem) against the exact 1-D MFPT: 2000 paths, seed 4, within 4
    standard errors plus 3 % (the step's bias at dt = 0.02); the same seed gives the same times."""
    X, Y, beta, a_min, tgt, exact = _scalar_escape()
    L, lr, B = _SCALAR_RUN
    kw = dict(n_paths=2000, t_max=30 * exact.tau, dt=0.02, seed=4)
    sim = end_to_end_escape(np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, ([1.0], [1.0], tgt), **kw)
    est = exponential_mle(sim["t_sde"], sim["observed"])
    assert sim["n_diverged"] == 0 and sim["n_lost_rank"] == 0 and sim["method"] == "compiled"
    se = est.mean / math.sqrt(est.n_events)
    assert abs(est.mean - exact.tau) < 4 * se + 0.03 * exact.tau, (est.mean, exact.tau)
    again = end_to_end_escape(np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, ([1.0], [1.0], tgt), **kw)
    assert np.array_equal(again["t_sde"], sim["t_sde"])


@pytest.mark.parametrize("p", [2, 3])
@pytest.mark.parametrize("L", [2, 3, 4, 6])
def test_compiled_fields_equal_the_numpy_fields(p, L):
    """The kernel's drift and D = root root^T against end_to_end_fields at random W, to rounding (1e-12)."""
    from langevin_grok.sgd import end_to_end_kernels as kern

    X, Y = _data(p, 300, 5)
    mom = data_moments(X, Y)
    rng = np.random.default_rng(6)
    W = rng.standard_normal((40, p, p)) * 0.6
    W[0] = np.diag(np.linspace(0.9, 0.0, p))  # diagonal with an exact zero singular value (0^0 = 1 in K)
    # (a rank-deficient W with rounding-level singular values is ill-conditioned for both routes: s^(2/L))
    f = end_to_end_fields(W, mom, L, 0.1, 0.3, 24)
    drift, D, ok = kern.fields_many(W, mom.sxx, mom.syx, mom.m_xxxx, mom.m_xxyx, mom.m_yxyx, L, 0.1, 0.3 / 48)
    assert ok.all()
    assert np.abs(drift - f.drift).max() <= 1e-12 * np.abs(f.drift).max()
    Dn = f.diffusion.reshape(40, p * p, p * p)
    assert np.abs(D - Dn).max() <= 1e-12 * np.abs(Dn).max()


def test_closed_form_svd_of_2x2():
    """The 2 x 2 closed form reconstructs W with orthogonal factors and ordered non-negative s, signs of det W and
    degenerate cases included."""
    from langevin_grok.sgd.end_to_end_kernels import _svd_into

    rng = np.random.default_rng(7)
    cases = list(rng.standard_normal((200, 2, 2))) + [np.eye(2), -np.eye(2), np.diag([1.0, -1.0]),
                                                      np.zeros((2, 2)), np.array([[0.0, 1.0], [0.0, 0.0]]),
                                                      np.array([[1.0, 2.0], [2.0, 4.0]])]
    U, s, Vt = np.empty((2, 2)), np.empty(2), np.empty((2, 2))
    for W in cases:
        _svd_into(np.ascontiguousarray(W), U, s, Vt)
        assert np.allclose(U @ np.diag(s) @ Vt, W, atol=1e-13)
        assert np.allclose(U.T @ U, np.eye(2), atol=1e-13) and np.allclose(Vt @ Vt.T, np.eye(2), atol=1e-13)
        assert s[0] >= s[1] >= 0
        assert np.allclose(s, np.linalg.svd(W, compute_uv=False), atol=1e-13)


def test_compiled_and_reference_simulations_agree():
    """The two routes (different square roots of D and random numbers, the same law) on a p = 2 escape: mean
    escape times within 4 combined standard errors (1500 and 300 paths, seeds 8 and 9). W0 is near the learned
    state (gradient flow of the drift from diag(0.9, 0.6)); escape when W_22 falls to half its value."""
    X, Y = _data(2, 200, 10)
    W0 = np.diag([0.765, 0.457])
    args = (W0, X, Y, 3, 0.1, 0.1, 2, (np.array([0.0, 1.0]), np.array([0.0, 1.0]), 0.2285))
    a = end_to_end_escape(*args, n_paths=1500, t_max=1000.0, dt=0.02, seed=8)
    b = end_to_end_escape(*args, n_paths=300, t_max=1000.0, dt=0.02, seed=9, method="reference")
    ea, eb = (exponential_mle(r["t_sde"], r["observed"]) for r in (a, b))
    assert ea.n_censored == 0 and eb.n_censored == 0
    assert 5 < ea.mean < 200, ea.mean  # a passage that takes many relaxation times
    se = math.hypot(ea.mean / math.sqrt(ea.n_events), eb.mean / math.sqrt(eb.n_events))
    assert abs(ea.mean - eb.mean) < 4 * se, (ea.mean, eb.mean)


def test_bad_input_is_one_line_error():
    X, Y = _data(2, 32, 0)
    mom = data_moments(X, Y)
    with pytest.raises(InputError, match="W must be"):
        end_to_end_fields(np.ones((3, 3)), mom, 3, 0.1, 0.1, 4)
    with pytest.raises(InputError, match="W must be finite"):
        end_to_end_fields(np.full((2, 2), np.nan), mom, 3, 0.1, 0.1, 4)
    with pytest.raises(InputError, match="batch"):
        end_to_end_fields(np.eye(2), mom, 3, 0.1, 0.1, 0)
    with pytest.raises(InputError, match="X and Y"):
        data_moments(X, Y[:, :1])
    with pytest.raises(InputError, match="event must return one bool per W"):
        end_to_end_escape(np.eye(2) * 0.5, X, Y, 3, 0.1, 0.1, 4, lambda W: np.zeros(1, bool), n_paths=3, t_max=1.0,
                          method="reference")
    with pytest.raises(InputError, match="n_paths"):
        end_to_end_escape(np.eye(2) * 0.5, X, Y, 3, 0.1, 0.1, 4, lambda W: W[:, 0, 0] < 0, n_paths=0, t_max=1.0)
    with pytest.raises(InputError, match="mom must be the DataMoments"):
        end_to_end_fields(np.eye(2), (X, Y), 3, 0.1, 0.1, 4)
    coarse = end_to_end_escape(np.eye(2) * 0.5, X, Y, 3, 0.1, 0.1, 4, lambda W: W[:, 0, 0] < 0, n_paths=2,
                               t_max=2.0, dt=1.0, seed=0, method="reference")
    assert coarse["reason"] == "coarse_step" and coarse["status"].value == "marginal"
    with pytest.raises(InputError, match="W0 must be"):
        end_to_end_escape(np.eye(3), X, Y, 3, 0.1, 0.1, 4, lambda W: W[:, 0, 0] < 0, n_paths=2, t_max=1.0)
    with pytest.raises(InputError, match="method must be"):
        end_to_end_escape(np.eye(2), X, Y, 3, 0.1, 0.1, 4, ([0, 1], [0, 1], 0.1), n_paths=2, t_max=1.0, method="x")
    with pytest.raises(InputError, match="for method='compiled'"):
        end_to_end_escape(np.eye(2), X, Y, 3, 0.1, 0.1, 4, lambda W: W[:, 0, 0] < 0, n_paths=2, t_max=1.0)
    with pytest.raises(InputError, match="finite u and v of length 2"):
        end_to_end_escape(np.eye(2), X, Y, 3, 0.1, 0.1, 4, ([0, 1, 0], [0, 1], 0.1), n_paths=2, t_max=1.0)
    # two samples: Cov(r x^T) has rank 1 < p^2, the noise misses directions, and the status says so
    few = end_to_end_escape(np.eye(2) * 0.5, X[:2], Y[:2], 3, 0.1, 0.1, 4, ([0, 1], [0, 1], -1.0), n_paths=2,
                            t_max=0.5, dt=0.05, seed=0)
    assert few["n_lost_rank"] > 0 and few["status"].value == "marginal" and few["reason"] == "lost_rank"
    with pytest.raises(InputError, match=r"tuple \(u, v, threshold\)"):
        end_to_end_escape(np.eye(2), X, Y, 3, 0.1, 0.1, 4, 0.5, n_paths=2, t_max=1.0)
