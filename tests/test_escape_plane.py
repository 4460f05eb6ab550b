"""The escape plane (langevin_grok.sgd.escape_plane): the exact polynomial fields against the network's own
gradient and batch-noise covariance, the chord against the line reduction (sgd.line_sgd), the structure of the
noise (rank p^2, invariant under the Hessian at the saddle), the plane MFPT against Euler-Maruyama simulation of
the same diffusion, and the input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok._core.errors import Validity
from langevin_grok.sgd.escape_plane import escape_plane, plane_mfpt
from langevin_grok.sgd.line_sgd import line_noise
from langevin_grok.sgd.noise import per_sample_grads

L, W, BETA = 3, 4, 0.30


@pytest.fixture(scope="module")
def problem(rank2_segment):
    """The conftest's rank-2 minimum and mode-2 saddle (N = 256, w = 4) with the escape plane between them."""
    data, net, start, saddle = rank2_segment
    plane = escape_plane(data.x_train, data.y_train, L, W, BETA, start.theta, saddle.theta)
    return data, net, start, saddle, plane


def _cov(theta, X, Y):
    G = per_sample_grads(theta, X, Y, L, W)
    G = G - G.mean(axis=0)
    return G.T @ G / G.shape[0]


def test_plane_fields_are_the_network_gradient_and_noise(problem):
    data, net, start, saddle, plane = problem
    X, Y = data.x_train, data.y_train
    assert plane.fit_residual < 1e-11
    lr, B = 0.3, 20
    fld = plane.fields(lr, B)
    rng = np.random.default_rng(0)
    pts = np.c_[rng.uniform(-0.5, 1.5, 6) * plane.length, rng.uniform(-1.0, 1.0, 6) * plane.length]
    b, D = fld(pts[:, 0], pts[:, 1])
    for m, th in enumerate(plane.thetas(pts[:, 0], pts[:, 1])):
        g = net.grad(th) @ plane.basis
        assert b[0][m] == pytest.approx(-g[0], abs=1e-11) and b[1][m] == pytest.approx(-g[1], abs=1e-11)
        Dn = lr / (2 * B) * plane.basis.T @ _cov(th, X, Y) @ plane.basis
        Dp = np.array([[D[0][0][m], D[0][1][m]], [D[1][0][m], D[1][1][m]]])
        np.testing.assert_allclose(Dp, Dn, rtol=1e-8, atol=1e-15)
    # the origin is the start minimum and (length, 0) the saddle: no drift at either
    b0, _ = fld(np.array([0.0, plane.length]), np.zeros(2))
    assert np.max(np.abs(np.asarray(b0))) < 1e-10


def test_chord_is_the_line_reduction(problem):
    """On y = 0 the plane's e-component is sgd.line_sgd's polynomial (fitted independently, on the line)."""
    data, net, start, saddle, plane = problem
    line = line_noise(data.x_train, data.y_train, L, W, BETA, start.theta, saddle.theta)
    r = np.linspace(-0.3, 1.6, 7) * line.length
    g = plane.per_sample(r, np.zeros_like(r))[:, :, 0]  # (M, N)
    np.testing.assert_allclose(g.mean(axis=1), line.gradient(r), atol=1e-11)
    np.testing.assert_allclose(g.var(axis=1), line.noise(r), rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(plane.basis[:, 0], line.direction, atol=1e-14)


def test_noise_lives_in_a_hessian_invariant_subspace_of_dimension_p_squared(problem):
    """Every per-sample gradient is J^T vec(r_n x_n^T): rank C <= p^2 = 4; at the saddle the range of C is
    invariant under the Hessian (so the noiseless directions decouple there); f lies in it, orthogonal to e."""
    data, net, start, saddle, plane = problem
    assert plane.noise_rank == 4
    C = _cov(saddle.theta, data.x_train, data.y_train)
    ev, V = np.linalg.eigh(C)
    R = V[:, ev > 1e-10 * ev.max()]
    H = net.hessian(saddle.theta)
    assert np.linalg.norm(H @ R - R @ (R.T @ H @ R)) < 1e-10
    f = plane.basis[:, 1]
    assert np.linalg.norm(f - R @ (R.T @ f)) < 1e-10 and abs(f @ plane.basis[:, 0]) < 1e-12
    assert plane.curvature_f_saddle < plane.curvature_f_start  # the transverse direction softens


def _event(plane, data):
    """Escape: the chord coordinate e . (theta - theta_start) passes 1.3 chord lengths (a plane-independent event
    for the simulation check; the row uses the mode-amplitude rule)."""
    e, t0 = plane.basis[:, 0], plane.theta_start
    return lambda th: (th - t0) @ e >= 1.3 * plane.length


@pytest.mark.slow
def test_plane_mfpt_against_simulation_of_the_plane_diffusion(problem):
    """The continuous plane diffusion simulated by Euler-Maruyama on the exact fields (2000 paths, dt = 0.02,
    seed 11, small batch so that the escape takes ~10^2 time units): its mean within 4 s.e. plus 3 % (time-step
    bias of a discretely observed crossing) of plane_mfpt; the chord alone is measurably slower."""
    data, net, start, saddle, plane = problem
    lr, B = 0.3, 2
    ev = _event(plane, data)
    res = plane_mfpt(plane, ev, lr, B, 1.3 * plane.length, -1.0 * plane.length, n=81)
    assert res.status == Validity.VALID, res
    assert res.transverse_factor < 0.9
    fld = plane.fields(lr, B)
    rng = np.random.default_rng(11)
    n, dt = 2000, 0.02
    x, y = np.zeros(n), np.zeros(n)
    t_hit, live, t = np.full(n, np.nan), np.ones(n, dtype=bool), 0.0
    while live.any() and t < 50 * res.tau_plane:
        b, D = fld(x[live], y[live])
        l11 = np.sqrt(2 * D[0][0])
        l21 = 2 * D[0][1] / l11
        l22 = np.sqrt(np.maximum(2 * D[1][1] - l21 ** 2, 0.0))
        z1, z2 = rng.standard_normal((2, l11.size)) * math.sqrt(dt)
        xl, yl = x[live] + b[0] * dt + l11 * z1, y[live] + b[1] * dt + l21 * z1 + l22 * z2
        # reflect at the chord's reflecting end, as the solve does
        xl = np.where(xl < res.reflect, 2 * res.reflect - xl, xl)
        x[live], y[live] = xl, yl
        t += dt
        hit = live & (x >= 1.3 * plane.length)
        t_hit[hit] = t
        live &= ~hit
    assert np.all(np.isfinite(t_hit))
    se = t_hit.std() / math.sqrt(n)
    assert abs(t_hit.mean() - res.tau_plane) < 4 * se + 0.03 * res.tau_plane, (t_hit.mean(), se, res)


def test_input_errors(problem):
    data, net, start, saddle, plane = problem
    ev = _event(plane, data)
    with pytest.raises(InputError, match="reflect"):
        plane_mfpt(plane, ev, 0.3, 20, 1.3 * plane.length, 0.1)
    with pytest.raises(InputError, match="batch"):
        plane_mfpt(plane, ev, 0.3, 0, 1.3 * plane.length, -0.1)
    with pytest.raises(InputError, match="theta_saddle"):
        escape_plane(data.x_train, data.y_train, L, W, BETA, start.theta, start.theta)
    with pytest.raises(InputError, match="theta"):
        escape_plane(data.x_train, data.y_train, L, W, BETA, start.theta[:-1], saddle.theta)


def test_rule_event_reads_the_rule_on_weight_vectors(problem):
    """sgd.escape.rule_event on weight vectors against the rule applied to U^T W V computed here from the
    network's end-to-end map (the empirical singular vectors): False at the learned start, True once the
    second mode's weights are scaled towards zero, equal to the explicit projection at random points."""
    from langevin_grok.sgd.data import empirical_cross_svd
    from langevin_grok.sgd.escape import mode_amplitude_rule, rule_event

    data, net, start, saddle, plane = problem
    eta = float(empirical_cross_svd(data, "train")[1][1])
    rule = mode_amplitude_rule(L, eta, BETA, 1, "reverse", basis="empirical")
    ev = rule_event(rule, data, L, W)
    th = plane.thetas(np.linspace(0, 2.0, 9) * plane.length, np.zeros(9))
    hit = ev(th)
    assert not hit[0] and hit[-1]
    U, _, Vt = empirical_cross_svd(data, "train")
    for t, h in zip(th, hit):
        lam = U[:, 1] @ net.end_to_end(t) @ Vt[1]
        assert bool(h) == bool(np.sign(lam) * abs(lam) ** (1 / L) <= rule.threshold)
    assert ev(start.theta).shape == (1,)


def test_rule_projection_is_the_rule_on_the_end_to_end_map(problem):
    """sgd.escape.rule_projection: u^T W v <= threshold holds exactly where rule_event does, at points along and
    off the plane (so the end-to-end simulation and network SGD share one event); a rule that fires above its
    level has no such form and gets a one-line error."""
    from langevin_grok.sgd.data import empirical_cross_svd
    from langevin_grok.sgd.escape import mode_amplitude_rule, rule_event, rule_projection

    data, net, start, saddle, plane = problem
    eta = float(empirical_cross_svd(data, "train")[1][1])
    rule = mode_amplitude_rule(L, eta, BETA, 1, "reverse", basis="empirical")
    u, v, thr = rule_projection(rule, data)
    th = plane.thetas(np.linspace(0, 2.0, 9) * plane.length, np.linspace(-0.3, 0.3, 9))
    proj = np.array([u @ net.end_to_end(t) @ v for t in th])
    assert np.array_equal(proj <= thr, rule_event(rule, data, L, W)(th))
    assert (proj <= thr).any() and not (proj <= thr).all()
    with pytest.raises(InputError, match="rule must fire below its level"):
        rule_projection(mode_amplitude_rule(L, eta, BETA, 1, "forward", basis="empirical"), data)


def _decoupled_plane(plane, line, k=0.5):
    """A plane whose e-component is the line's per-sample polynomial in x alone and whose f-component is the
    noiseless k y: plane SGD's x is then line SGD."""
    from dataclasses import replace

    exps = plane.exponents
    K, N, _ = plane.coefficients.shape
    coef = np.zeros((K, N, 2))
    for j, (i, jj) in enumerate(exps):
        if jj == 0 and i < line.coefficients.shape[1]:
            coef[j, :, 0] = line.coefficients[:, i]
        if (i, jj) == (0, 1):
            coef[j, :, 1] = k
    return replace(plane, coefficients=coef)


def test_plane_sgd_on_a_decoupled_plane_is_the_exact_batch_chain(problem):
    """With f decoupled and noiseless, plane SGD's escape along x is line SGD's: its mean within 4 s.e. of the
    exact batch-mean chain MFPT (sgd.line_sgd.mfpt_line_sgd; 400 paths, seed 4, lr 0.3, B 4)."""
    from langevin_grok.sgd.escape_plane import plane_sgd_escape
    from langevin_grok.sgd.line_sgd import mfpt_line_sgd

    data, net, start, saddle, plane = problem
    line = line_noise(data.x_train, data.y_train, L, W, BETA, start.theta, saddle.theta)
    pl = _decoupled_plane(plane, line)
    target = 1.3 * line.length
    e, t0 = pl.basis[:, 0], pl.theta_start
    ev = lambda th: (th - t0) @ e >= target  # noqa: E731
    lr, B = 0.3, 4
    res = plane_sgd_escape(pl, ev, lr, B, n_paths=400, max_epochs=4000, seed=4)
    assert res["observed"].all() and res["n_diverged"] == 0
    exact = mfpt_line_sgd(line, lr, B, r_target=target, r_reflect=-1.0 * line.length)
    t = res["t_sde"]
    se = t.std() / math.sqrt(t.size)
    # escapes are read at epoch ends (ceil(N/B) = 64 steps = 19.2 time units): the mean carries up to one epoch
    # of delay on top of the chain's first passage
    epoch = -(-data.n_train // B) * lr
    assert exact.tau - 4 * se < t.mean() < exact.tau + epoch + 4 * se, (t.mean(), se, exact.tau)


def test_plane_sgd_without_noise_stays_at_the_minimum(problem):
    from dataclasses import replace

    from langevin_grok.sgd.escape_plane import plane_sgd_escape

    data, net, start, saddle, plane = problem
    mean = plane.coefficients.mean(axis=1, keepdims=True)
    quiet = replace(plane, coefficients=np.repeat(mean, plane.coefficients.shape[1], axis=1))
    res = plane_sgd_escape(quiet, _event(quiet, data), 0.3, 8, n_paths=3, max_epochs=30, seed=0)
    assert not res["observed"].any() and np.all(res["epochs"] == 30)
    with pytest.raises(InputError, match="n_paths"):
        plane_sgd_escape(quiet, _event(quiet, data), 0.3, 8, n_paths=0, max_epochs=3)
