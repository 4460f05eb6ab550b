"""Balanced-network SGD in the end-to-end map (sgd.end_to_end.balanced_sgd_escape): one step against the network's
own SGD step, its first two moments against the end-to-end SDE, and its escape against the exact MFPT of the
p = 1 chain with the data's batch distribution."""

from __future__ import annotations

import math

import numpy as np
import pytest
from test_end_to_end import _balanced, _data, _scalar_escape, _scalar_problem

from langevin_grok._core.checks import InputError
from langevin_grok.sgd import end_to_end_kernels as kern
from langevin_grok.sgd.end_to_end import balanced_sgd_escape, data_moments, end_to_end_fields
from langevin_grok.sgd.line_sgd import line_noise, mfpt_line_sgd
from langevin_grok.sgd.path_noise import mfpt_discrete_chain
from langevin_grok.sgd.trainer import _batch_grads, end_to_end, full_batch_grad, unpack
from langevin_grok.theory.stats import exponential_mle

_NO_GAUSS = (np.empty(0), np.empty((0, 0)))  # the data's own batches


@pytest.mark.parametrize("L,p,w", [(3, 2, 10), (2, 3, 4), (4, 2, 3)])
def test_one_step_is_the_networks_own_step(L, p, w):
    """From a balanced network with random hidden frames (width w), one SGD step of the trainer's own code on the
    batch the kernel draws gives the kernel's W to 1e-12: the step does not depend on the hidden frames or width."""
    rng = np.random.default_rng(L + 10 * p)
    X, Y = _data(p, 60, 1)
    beta, lr, B = 0.15, 0.2, 7
    for _ in range(3):
        W = rng.standard_normal((p, p))
        key = np.uint64(rng.integers(1, 2**62))
        idx = kern.batch_indices(key, X.shape[0], B, 1)[0]
        ws = [a.copy() for a in unpack(_balanced(W, L, w, rng)[None], L, w, p)]
        grads = _batch_grads(ws, X[idx][None], Y[idx][None])
        for layer, Wl in enumerate(ws):  # the trainer's update (sgd.trainer._epoch_steps)
            Wl *= 1.0 - lr * beta
            Wl -= lr * grads[layer]
        net = end_to_end(ws)[0]
        assert np.abs(kern.balanced_sgd_steps(W, X, Y, L, beta, lr, B, key, 1, *_NO_GAUSS)[-1] - net).max() < 1e-12


def test_shuffled_epochs_step_through_a_permutation_each():
    """replacement=False: each epoch is a fresh permutation of the N samples (every sample once), cut into
    ceil(N / B) consecutive batches, the last one the leftover (as sgd.trainer.draw_epoch); every step along two
    and a half epochs is the width-w network's own step on its batch (to 1e-12)."""
    rng = np.random.default_rng(7)
    L, p, w, N, B = 3, 2, 5, 23, 5  # 5 steps per epoch, the last batch of 3
    X, Y = _data(p, N, 4)
    beta, lr = 0.1, 0.15
    key = np.uint64(99)
    perms = kern.epoch_permutations(key, N, 3)
    assert all(np.array_equal(np.sort(q), np.arange(N)) for q in perms)
    assert not np.array_equal(perms[0], perms[1])
    m = -(-N // B)
    W0 = rng.standard_normal((p, p)) + np.eye(p)
    traj = kern.balanced_sgd_steps(W0, X, Y, L, beta, lr, B, key, 2 * m + 2, *_NO_GAUSS, True)
    W = W0
    for j in range(2 * m + 2):
        idx = perms[j // m][(j % m) * B:min((j % m + 1) * B, N)]
        ws = [a.copy() for a in unpack(_balanced(W, L, w, rng)[None], L, w, p)]
        grads = _batch_grads(ws, X[idx][None], Y[idx][None])
        for layer, Wl in enumerate(ws):
            Wl *= 1.0 - lr * beta
            Wl -= lr * grads[layer]
        W = end_to_end(ws)[0]
        assert np.abs(traj[j] - W).max() < 1e-12, j
        W = traj[j]


def test_shuffled_escape_is_slower_than_independent_batches():
    """p = 1, N = 40, B = 8 (five steps per epoch), the bistable scalar chain 3.6 % below its spinodal: with
    shuffled epochs the batch gradients of an epoch sum to the full gradient, the noise cancels over each epoch
    and the escape (read every step) takes many epochs, far longer than with independent batches of the same
    size (38x in a trial run with 2000 paths; asserted above 5x, 1000 paths, seeds 5 and 6)."""
    X, Y = _data(1, 40, 4)
    sxx, syx = float(X[:, 0] @ X[:, 0] / 40), float(Y[:, 0] @ X[:, 0] / 40)
    beta = 0.964 * 0.75 * syx * (syx / (4 * sxx)) ** (1 / 3)
    a_sad, a_min = np.sort([r.real for r in np.roots([sxx, 0, 0, -syx, beta]) if abs(r.imag) < 1e-12 and r.real > 0])
    args = (np.array([[a_min ** 3]]), X, Y, 3, beta, 0.3, 8, (np.ones(1), np.ones(1), (0.5 * a_sad) ** 3))
    ind = balanced_sgd_escape(*args, n_paths=1000, max_epochs=20000, seed=5, read_every="step")
    sh = balanced_sgd_escape(*args, n_paths=1000, max_epochs=20000, seed=6, read_every="step", replacement=False)
    e_ind = exponential_mle(ind["t_sde"], ind["observed"])
    e_sh = exponential_mle(sh["t_sde"], sh["observed"])
    assert ind["observed"].all() and sh["observed"].mean() > 0.99
    assert e_sh.mean > 5.0 * e_ind.mean, (e_sh.mean, e_ind.mean)


def _deterministic_step(W, sxx, syx, L, beta, lr):
    """W after one full-batch gradient step of its balanced factors (numpy, trainer.full_batch_grad)."""
    U, s, Vt = np.linalg.svd(W)
    r = np.diag(s ** (1.0 / L))
    ws = [r @ Vt] + [r] * (L - 2) + [U @ r]
    g = full_batch_grad([a[None] for a in ws], sxx, syx, beta)
    return np.linalg.multi_dot([a - lr * gi[0] for a, gi in zip(ws, g)][::-1])


@pytest.mark.parametrize("L,p", [(3, 2), (4, 2), (2, 3)])
def test_step_moments_are_the_sde_fields(L, p):
    """B = 1: the step's exact mean and covariance over the N samples (each sample run as a one-sample data set).
    Cov(dW) / lr^2 = K C K^T = 2 D / lr, and the noise-induced mean (mean dW minus the full-batch step) over lr is
    the SDE's Ito term, both to O(lr): relative errors below 2e-3 at lr = 1e-4 (exact enumeration, no sampling)."""
    rng = np.random.default_rng(3 + L)
    X, Y = _data(p, 40, 2)
    mom = data_moments(X, Y)
    beta, lr = 0.1, 1e-4
    W = 0.3 * rng.standard_normal((p, p)) + 0.8 * np.eye(p)
    dW = np.stack([kern.balanced_sgd_steps(W, X[n:n + 1], Y[n:n + 1], L, beta, lr, 1, np.uint64(1), 1,
                                           *_NO_GAUSS)[-1] - W for n in range(X.shape[0])]).reshape(X.shape[0], p * p)
    f = end_to_end_fields(W, mom, L, beta, lr, 1)
    cov = np.cov(dW.T, bias=True) / lr**2
    kck = 2.0 * f.diffusion[0].reshape(p * p, p * p) / lr
    assert np.abs(cov - kck).max() < 2e-3 * np.abs(kck).max()
    noise_mean = (dW.mean(axis=0).reshape(p, p) - (_deterministic_step(W, mom.sxx, mom.syx, L, beta, lr) - W)) / lr
    ito = f.ito[0]
    assert np.abs(ito).max() > 1e-4  # the term is there to be checked
    assert np.abs(noise_mean - ito).max() < 2e-3 * np.abs(ito).max(), (noise_mean, ito)


@pytest.mark.parametrize("lr,B", [(0.2, 4), (0.3, 8)])
def test_scalar_escape_matches_the_exact_batch_chain(lr, B):
    """p = 1, L = 3: every layer is the same scalar a, the balanced chain is exactly SGD on the chord of the w = 1
    network, whose MFPT with the data's exact batch-mean distribution is mfpt_line_sgd. 16000 paths, seed 5, read
    every step, within 4 standard errors plus 0.5 % (the Nystrom solve's tolerance); at (0.2, 4) the continuous
    SDE's exact MFPT (19.43) lies 5.4 % below the chain's (20.54), outside that band."""
    X, Y, beta, a_min, a_sad = _scalar_problem()
    L, a_t = 3, 0.5 * a_sad
    line = line_noise(X, Y, L, 1, beta, a_min * np.ones(L), a_sad * np.ones(L))
    exact = mfpt_line_sgd(line, lr, B, r_target=math.sqrt(L) * (a_min - a_t), r_reflect=-0.5 * math.sqrt(L) * a_min)
    assert exact.status.value == "valid"
    m = -(-X.shape[0] // B)
    sim = balanced_sgd_escape(np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, (np.ones(1), np.ones(1), a_t ** 3),
                              n_paths=16000, max_epochs=int(30 * exact.tau / (lr * m)) + 1, seed=5, read_every="step")
    est = exponential_mle(sim["t_sde"], sim["observed"])
    assert sim["n_diverged"] == 0 and sim["status"].value == "valid"
    se = est.mean / math.sqrt(est.n_events)
    band = 4 * se + 0.005 * exact.tau
    assert abs(est.mean - exact.tau) < band, (est.mean, exact.tau)
    if (lr, B) == (0.2, 4):
        sde = _scalar_escape()[-1].tau
        assert abs(sde - exact.tau) > band, (sde, exact.tau, band)


def test_gaussian_moments_give_the_gaussian_chain():
    """noise="gaussian", p = 1: the chord chain with Gaussian noise of the data's variance, whose exact MFPT is
    mfpt_discrete_chain with T(r) = lr c_e(r) / (2B). lr = 0.3, B = 2, 16000 paths, seed 6: within 4 s.e. plus
    0.5 %; the data's own batches (mfpt_line_sgd, 10.99 against 10.12) lie outside that band."""
    X, Y, beta, a_min, a_sad = _scalar_problem()
    L, lr, B, a_t = 3, 0.3, 2, 0.5 * a_sad
    line = line_noise(X, Y, L, 1, beta, a_min * np.ones(L), a_sad * np.ones(L))
    rt, rr = math.sqrt(L) * (a_min - a_t), -0.5 * math.sqrt(L) * a_min
    gauss = mfpt_discrete_chain(lambda t, x, q: line.gradient(x), lambda t, x, q: lr * line.noise(x) / (2 * B), 0.0,
                                rt, rr, lr=lr)
    batches = mfpt_line_sgd(line, lr, B, r_target=rt, r_reflect=rr)
    assert gauss.status.value == "valid" and batches.status.value == "valid"
    sim = balanced_sgd_escape(np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, (np.ones(1), np.ones(1), a_t ** 3),
                              n_paths=16000, max_epochs=int(30 * gauss.tau / (lr * X.shape[0] / B)) + 1, seed=6,
                              read_every="step", noise="gaussian")
    est = exponential_mle(sim["t_sde"], sim["observed"])
    band = 4 * est.mean / math.sqrt(est.n_events) + 0.005 * gauss.tau
    assert abs(est.mean - gauss.tau) < band, (est.mean, gauss.tau)
    assert abs(batches.tau - gauss.tau) > band, (batches.tau, gauss.tau, band)


def test_epoch_reads_round_up_to_the_epoch():
    """Read at epoch ends the escape time is a whole number of epochs and never earlier than the end of the epoch
    in which the path first passed, read every step (the same streams, so the same paths)."""
    X, Y, beta, a_min, a_sad = _scalar_problem()
    L, lr, B = 3, 0.2, 8
    args = (np.array([[a_min ** 3]]), X, Y, L, beta, lr, B, (np.ones(1), np.ones(1), (0.5 * a_sad) ** 3))
    ep = balanced_sgd_escape(*args, n_paths=200, max_epochs=400, seed=9)
    st = balanced_sgd_escape(*args, n_paths=200, max_epochs=400, seed=9, read_every="step")
    m = ep["steps_per_epoch"]
    assert m == 50 and ep["observed"].all() and st["observed"].all()
    steps = np.rint(ep["t_sde"] / lr).astype(int)
    assert np.all(steps % m == 0)
    assert np.array_equal(st["epochs"], -(-np.rint(st["t_sde"] / lr).astype(int) // m))
    # no earlier than the end of the epoch of the first passage (later where the path has crossed back by then)
    assert np.all(ep["t_sde"] >= st["epochs"] * m * lr - 1e-9) and np.any(ep["t_sde"] > st["epochs"] * m * lr)


def test_bad_input_is_one_line_error():
    X, Y = _data(2, 50, 3)
    ev = (np.array([1.0, 0.0]), np.array([1.0, 0.0]), 0.1)
    W0 = 0.8 * np.eye(2)
    with pytest.raises(InputError, match="noise must be"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=2, noise="normal")
    with pytest.raises(InputError, match="needs replacement=True"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=2, noise="gaussian",
                            replacement=False)
    with pytest.raises(InputError, match="replacement must be"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=2, replacement="no")
    with pytest.raises(InputError, match="read_every"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=2, read_every="epochs")
    with pytest.raises(InputError, match="event must be a tuple"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, lambda W: W[:, 0, 0] < 0, n_paths=2, max_epochs=2)
    with pytest.raises(InputError, match="batch must be <="):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 51, ev, n_paths=2, max_epochs=2)
    with pytest.raises(InputError, match="W0 must be"):
        balanced_sgd_escape(np.eye(3), X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=2)
    with pytest.raises(InputError, match="max_epochs"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, 0.1, 4, ev, n_paths=2, max_epochs=0)
    with pytest.raises(InputError, match="lr"):
        balanced_sgd_escape(W0, X, Y, 3, 0.1, -0.1, 4, ev, n_paths=2, max_epochs=2)
    bad = balanced_sgd_escape(W0, X, Y, 3, 0.1, 50.0, 4, ev, n_paths=2, max_epochs=2)
    assert bad["status"].value == "not_applicable" and bad["reason"] == "unstable_step"
    assert np.all(np.isnan(bad["t_sde"])) and bad["step_curvature"] >= 2.0
