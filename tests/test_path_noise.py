"""State-dependent noise (docs/theory.md, section "2. Gradient noise of real SGD"): the exact MFPT with T(x)
against an ODE boundary-value solver and Euler-Maruyama, c_e along the escape path, and the normal-space
Lyapunov exponent of a rank-deficient trap against the Hessian spectrum and the weight-decay rate."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_bvp

from langevin_grok._core.checks import InputError
from langevin_grok.sgd.data import make_dataset
from langevin_grok.theory.kramers import mfpt_1d
from langevin_grok.landscape.modes import arc_force, arc_potential, stationary_amplitudes
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import orbit_dimension, orbit_tangents, stationary_point
from langevin_grok.sgd.noise_models import Validity
from langevin_grok.sgd.path_noise import escape_path_noise, mfpt_discrete_chain, mfpt_state_dependent, normal_lyapunov


# --------------------------------------------------------------------------- state-dependent MFPT
_DW = (lambda t, x, p: x ** 3 - x)  # U = x^4/4 - x^2/2


def _temp(t, x, p):
    return 0.3 * (1 + 0.5 * np.sin(x))


def test_mfpt_reduces_to_constant_temperature_exact_mfpt():
    p = np.array([3.0, 0.8, 0.32])
    a_sad, a_min = stationary_amplitudes(3, 0.8, 0.32)
    r_sad, r_min = math.sqrt(3) * a_sad, math.sqrt(3) * a_min
    T = 0.002
    ref = mfpt_1d(arc_potential, r_min, 0.5 * r_sad, T, p, reflect=1.6 * r_min)
    res = mfpt_state_dependent(lambda t, x, q: -arc_force(t, x, q), lambda t, x, q: T, r_min, 0.5 * r_sad,
                               1.6 * r_min, p)
    assert res.status is Validity.VALID
    assert res.log_tau == pytest.approx(ref.log_tau, abs=1e-7)


def test_mfpt_state_dependent_against_solve_bvp():
    a, x0, b = -2.5, -1.0, 0.5

    def ode(x, y):
        T = _temp(0, x, None)
        return np.vstack([y[1], (_DW(0, x, None) * y[1] - 1.0) / T])

    x = np.linspace(a, b, 2001)
    sol = solve_bvp(ode, lambda ya, yb: np.array([ya[1], yb[0]]), x, np.zeros((2, x.size)), tol=1e-8,
                    max_nodes=1000000)
    assert sol.success
    res = mfpt_state_dependent(_DW, _temp, x0, b, a)
    assert res.tau == pytest.approx(float(sol.sol(x0)[0]), rel=1e-5)
    mirrored = mfpt_state_dependent(lambda t, y, p: -_DW(0, -y, p), lambda t, y, p: _temp(0, -y, p), -x0, -b, -a)
    assert mirrored.tau == pytest.approx(res.tau, rel=1e-9)


def test_mfpt_state_dependent_against_euler_maruyama():
    """Ito EM with sqrt(2 T(x)) noise, dt = 2e-3, 4000 paths (seed 11), reflection at a by mirroring;
    tolerance 4 standard errors plus 1% for the time step (missed crossings are downhill of the saddle)."""
    a, x0, b, dt, M = -2.5, -1.0, 0.5, 2e-3, 4000
    rng = np.random.default_rng(11)
    x = np.full(M, x0)
    t_hit = np.full(M, np.nan)
    alive = np.ones(M, dtype=bool)
    k = 0
    while alive.any() and k < 400000:
        k += 1
        xa = x[alive]
        xa = xa - _DW(0, xa, None) * dt + np.sqrt(2 * _temp(0, xa, None) * dt) * rng.standard_normal(xa.size)
        xa = np.where(xa < a, 2 * a - xa, xa)
        x[alive] = xa
        idx = np.flatnonzero(alive)[xa >= b]
        t_hit[idx] = k * dt
        alive[idx] = False
    assert not alive.any()
    ref = mfpt_state_dependent(_DW, _temp, x0, b, a).tau
    se = np.std(t_hit) / math.sqrt(M)
    assert abs(np.mean(t_hit) - ref) < 4 * se + 0.01 * ref


def test_mfpt_state_dependent_grid_temperature_and_zero_temperature():
    a, x0, b = -2.5, -1.0, 0.5
    xs = np.linspace(a, b, 801)
    grid = mfpt_state_dependent(_DW, (xs, _temp(0, xs, None)), x0, b, a)
    exact = mfpt_state_dependent(_DW, _temp, x0, b, a)
    assert grid.tau == pytest.approx(exact.tau, rel=1e-6)
    dead = mfpt_state_dependent(_DW, (xs, np.maximum(xs + 1.5, 0.0)), x0, b, a)  # T = 0 on [a, -1.5]
    assert dead.status is Validity.NOT_APPLICABLE and dead.reason == "zero_temperature" and dead.tau == math.inf
    with pytest.raises(InputError, match="x0"):
        mfpt_state_dependent(_DW, _temp, 1.0, b, a)


# --------------------------------------------------------------------------- discrete-time SGD chain
def _chain_monte_carlo(lr, a, x0, b, M, seed):
    """The chain x <- x - lr U'(x) + sqrt(2 lr T(x)) xi itself, reflected at a by mirroring; SDE time lr k."""
    rng = np.random.default_rng(seed)
    x, steps, alive, k = np.full(M, x0), np.zeros(M), np.ones(M, dtype=bool), 0
    while alive.any():
        k += 1
        xa = x[alive]
        xa = xa - lr * _DW(0, xa, None) + np.sqrt(2 * lr * _temp(0, xa, None)) * rng.standard_normal(xa.size)
        xa = np.where(xa < a, 2 * a - xa, xa)
        x[alive] = xa
        idx = np.flatnonzero(alive)[xa >= b]
        steps[idx] = k
        alive[idx] = False
    return lr * steps


def test_mfpt_discrete_chain_against_simulating_the_chain():
    """lr = 0.1 (lr |U''| up to 1.3 on the interval): the Nystrom solve against 20000 simulated chains
    (seed 5); tolerance 4 standard errors (about 3 %). The continuous-time MFPT differs by 2 %, so the test
    also sees the discrete-time effect it is there for only in combination with the next one."""
    a, x0, b, lr = -2.2, -1.0, 0.5, 0.1
    res = mfpt_discrete_chain(_DW, _temp, x0, b, a, lr=lr)
    assert res.status is Validity.VALID and res.rel_error < 1e-4
    t = _chain_monte_carlo(lr, a, x0, b, 20000, 5)
    se = t.std() / math.sqrt(t.size)
    assert abs(t.mean() - res.tau) < 4 * se
    assert res.mean_steps == pytest.approx(res.tau / lr, rel=1e-12)
    mirrored = mfpt_discrete_chain(lambda t_, y, p: -_DW(0, -y, p), lambda t_, y, p: _temp(0, -y, p), -x0, -b, -a,
                                   lr=lr)
    assert mirrored.tau == pytest.approx(res.tau, rel=1e-8)


def test_mfpt_discrete_chain_tends_to_the_continuous_mfpt_like_sqrt_lr():
    """As lr -> 0 the chain's MFPT tends to the exact continuous one; a discrete path overshoots an
    absorbing level by O(sqrt(lr)) (the Siegmund correction of a sampled crossing), so the relative
    difference falls by about 2 when lr falls by 4: measured ratio between 0.35 and 0.7."""
    a, x0, b = -2.2, -1.0, 0.5
    ref = mfpt_state_dependent(_DW, _temp, x0, b, a).tau
    d = [abs(mfpt_discrete_chain(_DW, _temp, x0, b, a, lr=lr).tau / ref - 1.0) for lr in (0.04, 0.01)]
    assert d[1] < 0.05  # 3.7 % at lr = 0.01, T ~ 0.3 (6.7 % at lr = 0.04)
    assert 0.35 < d[1] / d[0] < 0.7


def test_mfpt_discrete_chain_statuses_and_errors():
    a, x0, b = -2.2, -1.0, 0.5
    unstable = mfpt_discrete_chain(_DW, _temp, x0, b, a, lr=0.2)  # lr |U''| = 2.7 at the reflecting end
    assert unstable.status is Validity.NOT_APPLICABLE and unstable.reason == "unstable_step"
    assert math.isnan(unstable.tau) and unstable.max_step_curvature > 2
    xs = np.linspace(a, b, 801)
    dead = mfpt_discrete_chain(_DW, (xs, np.maximum(xs + 1.5, 0.0)), x0, b, a, lr=0.05)
    assert dead.status is Validity.NOT_APPLICABLE and dead.reason == "zero_temperature" and dead.tau == math.inf
    frozen = mfpt_discrete_chain(_DW, lambda t, x, p: 1e-3 + 0 * x, x0, b, a, lr=0.05)  # dE/T = 250
    assert frozen.status is not Validity.VALID and frozen.reason == "ill_conditioned"
    with pytest.raises(InputError, match="x0"):
        mfpt_discrete_chain(_DW, _temp, 1.0, b, a, lr=0.05)
    with pytest.raises(InputError, match="lr"):
        mfpt_discrete_chain(_DW, _temp, x0, b, a, lr=0.0)
    with pytest.raises(InputError, match="temperature must be finite"):
        mfpt_discrete_chain(_DW, lambda t, x, p: np.nan * x, x0, b, a, lr=0.05)


def test_escape_path_noise_vanishes_at_the_trap_like_a_product_of_l_minus_1_amplitudes():
    """Forward path of the paper network from the rank-1 trap to the rank-2 saddle (population points,
    canonical frame): c_e = 0 exactly at the trap, c_e ~ s^(2(L-1)) near it, and the chord length is the
    balanced arc length sqrt(L) a_sad."""
    L, w, beta = 3, 10, 0.32
    net = DeepLinearNetwork.from_singular_values(L, w, 2, (0.9, 0.8), beta)
    trap = stationary_point(net, ("learned", "trivial"))
    sad = stationary_point(net, ("learned", "saddle"))
    data = make_dataset((0.9, 0.8), 512, 512, seed=2)
    pn = escape_path_noise(data.x_train, data.y_train, L, w, trap.theta, sad.theta, n_points=5, s_max=0.02,
                           lr=0.005, batch=64)
    assert pn.noise[0] == 0.0 and pn.exactly_zero[0] and not pn.exactly_zero[1:].any()
    slope = np.polyfit(np.log(pn.s[1:]), np.log(pn.noise[1:]), 1)[0]
    assert slope == pytest.approx(2 * (L - 1), abs=0.05)
    assert pn.r[-1] / pn.s[-1] == pytest.approx(math.sqrt(L) * stationary_amplitudes(L, 0.8, beta)[0], rel=1e-12)
    np.testing.assert_allclose(pn.temperature, 0.005 * pn.noise / 128, rtol=1e-15)


# --------------------------------------------------------------------------- invariant sets
def _trap(depth, beta, seed=2):
    net = DeepLinearNetwork.from_singular_values(depth, 10, 2, (0.9, 0.8), beta)
    data = make_dataset((0.9, 0.8), 512, 512, seed=seed)
    return stationary_point(net, ("learned", "trivial")).theta, data.x_train, data.y_train


@pytest.mark.parametrize("depth, beta", [(2, 0.1), (3, 0.32)])
def test_full_batch_lyapunov_equals_normal_hessian_spectrum(depth, beta):
    """B = N (gradient descent): the trajectory reaches the empirical rank-1 stationary point and the
    exponent is max ln|1 - lr mu| / lr over the normal-block Hessian eigenvalues mu without the orbit
    zero modes (analytic Hessian). L = 2 is unstable (mu < 0: the mode-2 saddle), L = 3 stable."""
    theta, X, Y = _trap(depth, beta)
    emp = DeepLinearNetwork.from_data(X, Y, depth, 10, beta)
    for _ in range(3000):
        theta = theta - 0.2 * emp.grad(theta)
    lr = 0.05
    res = normal_lyapunov(theta, X, Y, depth, 10, beta, lr, 512, n_epochs=40, burn_epochs=160 * (depth - 1), rng=0)
    n_dead = 9
    assert res.n_normal == n_dead * 2 * 2 + (depth - 2) * (100 - 1)
    assert res.n_orbit == orbit_dimension(depth, 10, 1)
    Ws = emp.unpack(theta)
    normal = np.concatenate([np.broadcast_to(np.arange(W.shape[0])[:, None] > 0, W.shape).ravel() if l == 0 else
                             np.broadcast_to(np.arange(W.shape[1])[None, :] > 0, W.shape).ravel() if l == depth - 1
                             else ((np.arange(10)[:, None] > 0) | (np.arange(10)[None, :] > 0)).ravel()
                             for l, W in enumerate(Ws)])
    H = emp.hessian(theta)[np.ix_(normal, normal)]
    U, S, _ = np.linalg.svd(orbit_tangents(emp, theta)[normal], full_matrices=False)
    Q = U[:, S > 1e-10 * S.max()]
    mu = np.sort(np.linalg.eigvalsh(H + 10.0 * Q @ Q.T))[: normal.sum() - Q.shape[1]]  # orbit modes moved to 10
    pred = max(math.log(abs(1 - lr * x)) for x in mu) / lr
    assert res.exponent_per_time == pytest.approx(pred, rel=1e-3)
    assert res.attractive is (depth == 3)


@pytest.mark.parametrize("replacement", [False, True])
def test_rank1_trap_decays_at_the_weight_decay_rate_under_both_schemes(replacement):
    """The notes' claim, at the paper's rank-1 trap (population point, data seed 2, L = 3, w = 10, beta = 0.32,
    lr = 0.08, B = 64): Lambda / lr = ln(1 - lr beta) / lr. Normal directions whose loss terms are all cubic in
    normal weights evolve exactly by (1 - lr beta), so Lambda cannot be larger; nearly degenerate, faster
    directions decay slowly out of the iterated vector, biasing the estimate low by ~1e-4 (tolerance 1e-3)."""
    theta, X, Y = _trap(3, 0.32)
    res = normal_lyapunov(theta, X, Y, 3, 10, 0.32, 0.08, 64, replacement=replacement, n_epochs=30, rng=1)
    assert res.weight_decay_rate == pytest.approx(math.log(1 - 0.08 * 0.32) / 0.08, rel=1e-15)
    assert res.exponent_per_time == pytest.approx(res.weight_decay_rate, rel=1e-3)
    assert res.exponent_per_time <= res.weight_decay_rate + 3 * res.std_error
    assert res.attractive and res.status is Validity.VALID


def test_lyapunov_rejects_a_state_without_dead_units():
    theta, X, Y = _trap(3, 0.32)
    with pytest.raises(InputError, match="dead hidden unit"):
        normal_lyapunov(theta + 0.01, X, Y, 3, 10, 0.32, 0.08, 64)
