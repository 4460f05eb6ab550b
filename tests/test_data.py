"""Gaussian teacher data: reproducibility, covariances, reference fits."""

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok._core.seeds import as_seed_sequence
from langevin_grok.sgd.data import (bayes_mse, best_rank_k, joint_covariance, make_dataset,
                                make_sparse_dataset, mse_from_moments, population_mse, population_optimum)


def test_reproducible_and_seed_recorded():
    a = make_dataset([0.9, 0.8], n_train=32, n_test=16, seed=5)
    b = make_dataset([0.9, 0.8], n_train=32, n_test=16, seed=a.seed)
    c = make_dataset([0.9, 0.8], n_train=32, n_test=16, seed=6)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.x_train, c.x_train)
    # the test set does not depend on the training-set size
    d = make_dataset([0.9, 0.8], n_train=64, n_test=16, seed=5)
    np.testing.assert_array_equal(a.x_test, d.x_test)
    g = make_dataset([0.9, 0.8], n_train=8, n_test=8, seed=np.random.default_rng(1))
    assert isinstance(g.seed, int)
    assert isinstance(make_dataset([0.5], n_train=4, n_test=4).seed, int)


def test_population_covariance_recovered():
    # N = 200000: sample second moments within 0.01 of the population ones (std ~ 1/sqrt(N) ~ 2e-3)
    u = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    sxx = np.diag([1.0, 2.0, 0.5])
    d = make_dataset([0.7, 0.4, 0.2], n_train=200000, n_test=4, u=u, sigma_xx=sxx, seed=3)
    sxx_h, syx_h, syy_h = d.moments()
    np.testing.assert_allclose(sxx_h, sxx, atol=0.02)
    np.testing.assert_allclose(syx_h, u @ np.diag([0.7, 0.4, 0.2]), atol=0.01)
    np.testing.assert_allclose(syy_h, np.eye(3), atol=0.01)


def test_joint_covariance_checks():
    cov = joint_covariance([0.9, 0.8], dim=3)
    assert cov["sv"].tolist() == [0.9, 0.8, 0.0]
    np.testing.assert_allclose(np.linalg.cholesky(cov["joint"]) @ np.linalg.cholesky(cov["joint"]).T, cov["joint"])
    with pytest.raises(InputError):
        joint_covariance([1.2, 0.5])
    with pytest.raises(InputError):
        joint_covariance([0.9, 0.8], dim=1)
    with pytest.raises(InputError):
        make_dataset([0.5], n_train=0)
    with pytest.raises(InputError):
        as_seed_sequence(-1)


def test_reference_fits():
    d = make_dataset([0.9, 0.8], n_train=8, n_test=8, seed=1)
    assert bayes_mse(d) == pytest.approx((1 - 0.81 + 1 - 0.64) / 2, rel=1e-12)
    np.testing.assert_allclose(best_rank_k(d.sigma_xx, d.sigma_yx, 1), np.diag([0.9, 0.0]), atol=1e-14)
    assert float(population_mse(np.zeros((2, 2)), d)) == pytest.approx(1.0)
    # general Sigma_xx: the rank-k fit beats every rank-k perturbation of itself
    rng = np.random.default_rng(2)
    A = rng.standard_normal((3, 3))
    sxx = A @ A.T + np.eye(3)
    syx = rng.standard_normal((3, 3)) * 0.3
    syy = 3 * np.eye(3)
    mk = best_rank_k(sxx, syx, 1)
    assert np.linalg.matrix_rank(mk) == 1
    e0 = mse_from_moments(mk, sxx, syx, syy)
    for _ in range(50):
        a, b = rng.standard_normal(3), rng.standard_normal(3)
        other = mk + 1e-2 * np.outer(a, b)
        other = np.linalg.svd(other)[0][:, :1] @ np.diag(np.linalg.svd(other)[1][:1]) @ np.linalg.svd(other)[2][:1]
        assert mse_from_moments(other, sxx, syx, syy) >= e0 - 1e-12
    np.testing.assert_allclose(best_rank_k(sxx, syx, 3), population_optimum(sxx, syx), atol=1e-12)


def test_whitened_and_sparse():
    d = make_dataset([0.9, 0.8], n_train=50, n_test=10, seed=2, whiten_train=True)
    np.testing.assert_allclose(d.moments()[0], np.eye(2), atol=1e-13)
    assert d.whitened
    s = make_sparse_dataset([0.9, 0.8], n_train=25, n_pool=500, n_test=1000, seed=4)
    assert s.x_train.shape == (25, 2) and s.x_test.shape == (1000, 2) and s.n_pool == 500
    s2 = make_sparse_dataset([0.9, 0.8], n_train=25, n_pool=500, n_test=1000, seed=4)
    np.testing.assert_array_equal(s.x_train, s2.x_train)
    with pytest.raises(InputError):
        make_sparse_dataset([0.9], n_train=10, n_pool=5)
    assert s.to_dict()["n_pool"] == 500
