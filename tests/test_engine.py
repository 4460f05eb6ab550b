"""Langevin engine: exact solutions, convergence order, reproducibility, sdeint cross-check,
Brownian-bridge stopping, and mean escape times against quadrature.

Statistical tests use fixed seeds; each states its tolerance."""

import math

import numpy as np
import pytest
import sdeint
from scipy import stats

from langevin_grok._core.checks import InputError
from langevin_grok.langevin.engine import (
    euler_maruyama_replay,
    path_keys,
    resolve_temperature,
    simulate_ensemble,
    standard_normals,
)
from langevin_grok.langevin.reference import simulate_reference
from langevin_grok.langevin.events import Event, coordinate_event, escape_setup
from langevin_grok.theory.kramers import exact_mfpt_1d, eyring_kramers_chain, mfpt_1d
from langevin_grok.langevin.models import arc_model, chain_model, network_model, quadratic_model
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.theory.stats import exponential_mle
from langevin_grok._core.units import sgd_temperature


def _quadratic_1d(t, x, p):
    return 0.5 * p[0] * np.asarray(x, dtype=float) ** 2


# --------------------------------------------------------------------------- generator
def test_per_path_normals_are_standard_normal():
    """Ziggurat on splitmix64: KS against N(0,1) and the first moments (n = 400000, key 12345)."""
    z = standard_normals(12345, 400_000)
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert abs(z.mean()) < 5 / math.sqrt(z.size)
    assert abs(z.var() - 1.0) < 5 * math.sqrt(2 / z.size)
    # tail mass beyond the ziggurat base R = 3.654 (the rarely used tail branch)
    tail = np.mean(np.abs(z) > 3.6541528853610088)
    assert tail == pytest.approx(2 * stats.norm.sf(3.6541528853610088), rel=0.3)
    # different keys give uncorrelated streams
    w = standard_normals(12346, 400_000)
    assert abs(np.corrcoef(z, w)[0, 1]) < 5 / math.sqrt(z.size)


def test_path_keys_recorded_and_independent_of_n():
    s, k = path_keys(7, 10)
    s2, k2 = path_keys(7, 4)
    assert s == s2 == 7
    np.testing.assert_array_equal(k[:4], k2)  # path i's stream does not depend on the ensemble size
    s3, _ = path_keys(np.random.default_rng(1), 3)
    assert isinstance(s3, int)
    s4, _ = path_keys(None, 2)
    assert isinstance(s4, int) and s4 > 0


# --------------------------------------------------------------------------- exact solutions and order
def test_ou_stationary_variance():
    """OU dX = -k X dt + sqrt(2T) dW: stationary variance T/k. Euler-Maruyama's own stationary
    variance is T / (k (1 - k dt / 2)); both checked within 4 standard errors (n = 20000, seed 4).
    Runs the 1-D kernel (dim 1) and the general one (dim 3, pooled coordinates)."""
    k, T, dt = 2.0, 0.5, 0.01
    for dim in (1, 3):
        m = quadratic_model(k, dim)
        r = simulate_ensemble(m, T, 20000, dt, np.zeros(dim), (), max_time=5.0, seed=4)
        assert r.n_escaped == 0 and np.all(r.steps == 500)
        x = r.final_x.ravel()
        em_var = T / (k * (1 - k * dt / 2))
        se = em_var * math.sqrt(2 / x.size)
        assert abs(x.var() - em_var) < 4 * se
        assert abs(x.var() - T / k) < 4 * se + (em_var - T / k)
        assert abs(x.mean()) < 4 * math.sqrt(em_var / x.size)


@pytest.mark.parametrize("model,T,x0", [
    (quadratic_model(1.0), 0.5, [1.0]),
    (arc_model(3, 0.8, 0.32), 0.02, [0.3]),
])
def test_strong_order_by_refinement(model, T, x0):
    """The engine's declared strong order (EULER_MARUYAMA.strong_order: 1 for additive noise) by refinement.
    Nested grids dt = 2^-3 .. 2^-8 driven by the same Brownian increments (summed from a 2^-12 grid, which is
    the reference). Fitted slope of log E|X_dt(1) - X_ref(1)| against log dt must be the declared order
    +- 0.15 (200 paths, seed 0)."""
    from langevin_grok.langevin.integrators import EULER_MARUYAMA

    rng = np.random.default_rng(0)
    nf, P = 2**12, 200
    dW = rng.standard_normal((P, nf, 1)) * math.sqrt(1.0 / nf)
    ref = euler_maruyama_replay(model, T, 1.0 / nf, x0, dW)[:, -1, 0]
    dts, errs = [], []
    for lev in range(3, 9):
        n = 2**lev
        dWc = dW.reshape(P, n, nf // n, 1).sum(axis=2)
        xc = euler_maruyama_replay(model, T, 1.0 / n, x0, dWc)[:, -1, 0]
        dts.append(1.0 / n)
        errs.append(np.mean(np.abs(xc - ref)))
    slope = np.polyfit(np.log(dts), np.log(errs), 1)[0]
    assert abs(slope - EULER_MARUYAMA.strong_order) < 0.15, (slope, errs)


def test_replay_matches_sdeint_itoEuler_exactly():
    """Same increments -> the compiled step and sdeint.itoEuler give the same path (to rounding)."""
    m = chain_model(3, 0.8, 0.3)
    T, dt, n = 0.05, 0.01, 300
    dW = np.random.default_rng(2).normal(0.0, math.sqrt(dt), (n, m.dim))
    x0 = np.array([0.2, -0.1, 0.4])
    amp = math.sqrt(2 * T) * np.eye(m.dim)
    ref = sdeint.itoEuler(lambda x, t: m.drift(t, x), lambda x, t: amp, x0, np.arange(n + 1) * dt, dW=dW)
    ours = euler_maruyama_replay(m, T, dt, x0, dW[None])[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)


def _all_models():
    net = DeepLinearNetwork.from_singular_values(3, 3, 2, [0.9, 0.8], 0.3)
    return [arc_model(3, 0.8, 0.32), arc_model(4, 0.7, 0.1), chain_model(4, 0.8, 0.1), network_model(net),
            quadratic_model(1.5, 2)]


@pytest.mark.parametrize("model", _all_models(), ids=lambda m: m.kind)
def test_one_kernel_step_is_euler_maruyama_of_the_numpy_model(model):
    """One step of the ensemble kernel equals x0 - grad U(x0) dt + sqrt(2 T dt) z with the numpy
    gradient and the path's documented stream z = standard_normals(keys[0, 0], dim). Also guards
    against a stale numba cache of the kernel after an edit of models.py."""
    T, dt = 0.03, 0.01
    x0 = np.random.default_rng(8).normal(size=model.dim) * 0.5
    r = simulate_ensemble(model, T, 1, dt, x0, (), max_steps=1, seed=99)
    _, keys = path_keys(99, 1)
    z = standard_normals(int(keys[0, 0]), model.dim)
    want = x0 - np.ravel(model.grad(0.0, x0)) * dt + math.sqrt(2 * T * dt) * z
    np.testing.assert_allclose(r.final_x[0], want, rtol=1e-12, atol=1e-14)
    dW = (z * math.sqrt(dt))[None, None, :]
    np.testing.assert_allclose(euler_maruyama_replay(model, T, dt, x0, dW)[0, 1], want, rtol=1e-12, atol=1e-14)


# --------------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("make", [lambda: arc_model(3, 0.8, 0.32), lambda: chain_model(3, 0.8, 0.3)])
def test_same_seed_same_result_whatever_threads_and_chunks(make):
    m = make()
    s = escape_setup(m, "forward")
    kw = dict(x0=s.x0, events=s.events, seed=11, max_steps=20000)
    a = simulate_ensemble(m, 0.02, 300, 0.01, **kw)
    b = simulate_ensemble(m, 0.02, 300, 0.01, n_threads=1, chunk_size=37, **kw)
    c = simulate_ensemble(m, 0.02, 300, 0.01, n_threads=2, chunk_size=128, **kw)
    for other in (b, c):
        np.testing.assert_array_equal(a.times, other.times)
        np.testing.assert_array_equal(a.event, other.event)
        np.testing.assert_array_equal(a.steps, other.steps)
        np.testing.assert_array_equal(a.final_x, other.final_x)
    assert a.seed == 11 and a.n_escaped > 0
    d = simulate_ensemble(m, 0.02, 300, 0.01, **{**kw, "seed": 12})
    assert not np.array_equal(a.times, d.times)
    # the first paths do not depend on how many paths run
    e = simulate_ensemble(m, 0.02, 50, 0.01, **kw)
    np.testing.assert_array_equal(e.times, a.times[:50])


def test_recorded_paths_are_thinned_and_stop():
    m = arc_model(3, 0.8, 0.32)
    s = escape_setup(m)
    r = simulate_ensemble(m, 0.03, 20, 0.01, s.x0, s.events, seed=1, max_steps=5000, record_every=10)
    plain = simulate_ensemble(m, 0.03, 20, 0.01, s.x0, s.events, seed=1, max_steps=5000)
    np.testing.assert_array_equal(r.times, plain.times)  # recording does not change the result
    assert r.paths.shape == (20, 501, 1) and r.path_times[1] == pytest.approx(0.1)
    assert np.all(r.paths[:, 0, 0] == 0.0)
    for i in range(20):
        n_valid = int(np.sum(np.isfinite(r.paths[i, :, 0])))
        assert n_valid == (r.steps[i] - 1) // 10 + 1 if r.escaped[i] else n_valid == 501
    assert plain.paths is None


# --------------------------------------------------------------------------- sdeint reference
def test_sdeint_and_kernel_agree_in_distribution():
    """OU endpoint X(1) from X(0) = 1 (k = 1, T = 0.5, dt = 0.02): 150 sdeint itoEuler paths, 100
    sdeint itoSRI2 paths and 4000 kernel paths; two-sample KS, alpha = 0.01 (seeds 100+i and 9)."""
    m = quadratic_model(1.0)
    T, dt = 0.5, 0.02
    ker = simulate_ensemble(m, T, 4000, dt, [1.0], (), max_steps=50, seed=9).final_x[:, 0]
    for method, n in (("itoEuler", 150), ("itoSRI2", 100)):
        ends = [simulate_reference(m, T, dt, [1.0], (), n_steps=50, seed=100 + i, method=method).x[-1, 0]
                for i in range(n)]
        assert stats.ks_2samp(ends, ker).pvalue > 0.01, method
    # exact law of the endpoint: N(e^-1, T (1 - e^-2)) up to EM's O(dt)
    assert ker.mean() == pytest.approx(math.exp(-1.0), abs=4 * math.sqrt(T / 4000))


def test_sdeint_and_kernel_hitting_times_agree():
    """First passage of the OU process (k = 1, T = 0.5) from 0 to x = 0.5 on the grid (no bridge:
    the same scheme as the reference's grid detection): KS alpha = 0.01, 120 sdeint paths."""
    m = quadratic_model(1.0)
    T, dt = 0.5, 0.02
    ev = coordinate_event(0, 0.5, 1, +1)
    ker = simulate_ensemble(m, T, 4000, dt, [0.0], (ev,), seed=5, bridge=False, max_steps=100_000)
    assert ker.n_escaped == 4000
    ref = [simulate_reference(m, T, dt, [0.0], (ev,), seed=200 + i, n_steps=100_000) for i in range(120)]
    assert all(r.escaped for r in ref)
    assert stats.ks_2samp([r.time for r in ref], ker.times).pvalue > 0.01
    # a Python-only event works with the reference integrator
    py = Event(lambda t, x, p: float(x[0]) - 0.5, +1, "py")
    r = simulate_reference(m, T, dt, [0.0], (py,), seed=200, n_steps=100_000)
    assert r.time == ref[0].time and r.x.shape[0] == r.t.shape[0]


def test_reference_is_reproducible():
    m = arc_model(3, 0.8, 0.32)
    a = simulate_reference(m, 0.02, 0.01, [0.1], n_steps=500, seed=3, method="itoSRI2")
    b = simulate_reference(m, 0.02, 0.01, [0.1], n_steps=500, seed=3, method="itoSRI2", block=77)
    assert a.t.shape == (501,) and not a.escaped
    np.testing.assert_allclose(a.x[:77], b.x[:77])


# --------------------------------------------------------------------------- crossing between steps
def test_bridge_is_exact_for_free_diffusion():
    """Free diffusion (variance 2T t) from 0 to b = 1 with T = 0.5: P(tau <= 1) = 2 (1 - Phi(1)).
    With only 5 steps (dt = 0.2) the bridge estimate is within 4 standard errors (n = 60000,
    seed 5); naive grid stopping misses > 25% of the crossings."""
    m = quadratic_model(0.0)
    ev = (coordinate_event(0, 1.0, 1, +1),)
    exact = 2 * stats.norm.sf(1.0)
    n = 60000
    se = math.sqrt(exact * (1 - exact) / n)
    br = simulate_ensemble(m, 0.5, n, 0.2, [0.0], ev, seed=5, max_time=1.0)
    naive = simulate_ensemble(m, 0.5, n, 0.2, [0.0], ev, seed=5, max_time=1.0, bridge=False)
    assert br.cap_steps == 5
    assert abs(br.escaped.mean() - exact) < 4 * se
    assert naive.escaped.mean() < 0.75 * exact
    # coupled paths: the bridge only adds crossings, so every path stops no later
    assert np.all(br.times <= naive.times + 1e-12)


def test_bridge_bias_bound_by_refinement():
    """OU (k = 1, T = 0.5) from 0 to b = 1, exact MFPT by quadrature (tau = 4.0377).

    Stated bound, checked at dt = 0.1, 0.05, 0.025, 0.0125 with 20000 paths each (seed 11, standard
    error ~0.85%): with the bridge correction the relative bias of the mean first-passage time is
    below 0.3 sqrt(dt) (+ 3 standard errors) -- e.g. < 3.4% at dt = 0.0125 -- and at most a third of
    the naive bias at the same dt (naive: +13% at dt = 0.0125, O(sqrt(dt))); the remainder is
    Euler-Maruyama's own weak error (its stationary variance is off by k dt / 2) and shrinks with dt.
    """
    m = quadratic_model(1.0)
    T, b = 0.5, 1.0
    exact = mfpt_1d(_quadratic_1d, 0.0, b, T, m.params).tau
    ev = (coordinate_event(0, b, 1, +1),)
    biases = []
    for dt in (0.1, 0.05, 0.025, 0.0125):
        br = simulate_ensemble(m, T, 20000, dt, [0.0], ev, seed=11)
        naive = simulate_ensemble(m, T, 20000, dt, [0.0], ev, seed=11, bridge=False)
        assert br.n_escaped == naive.n_escaped == 20000
        se = br.times.std() / math.sqrt(br.n_paths) / exact
        bias = br.times.mean() / exact - 1
        nbias = naive.times.mean() / exact - 1
        assert abs(bias) < 0.3 * math.sqrt(dt) + 3 * se, (dt, bias)
        assert abs(bias) < nbias / 3, (dt, bias, nbias)
        biases.append(abs(bias))
    assert biases[-1] < biases[0] / 2


# --------------------------------------------------------------------------- escape times
def test_arc_mean_escape_time_matches_exact_mfpt():
    """1-D arc, L = 3, eta = 0.8, beta = 0.32, T = 0.0095 (dE/T = 3.0), forward escape, dt = 0.02,
    1500 paths (seed 3): the exact MFPT (quadrature, quadrature.exact_mfpt_1d) lies in the 99%
    censoring-aware confidence interval of the simulated mean."""
    L, eta, beta, T = 3, 0.8, 0.32, 0.0095
    exact = exact_mfpt_1d(L, eta, beta, T).tau
    m = arc_model(L, eta, beta)
    r = simulate_ensemble(m, T, 1500, 0.02, seed=3, max_time=20 * exact)
    est = exponential_mle(r.times, r.escaped, confidence=0.99)
    assert est.ci_low < exact < est.ci_high, (est, exact)


def test_censoring_is_a_normal_outcome():
    m = arc_model(3, 0.8, 0.32)
    r = simulate_ensemble(m, 0.005, 200, 0.01, seed=1, max_time=5.0)
    assert r.n_escaped == 0 and np.all(r.times == pytest.approx(5.0)) and np.all(r.event == -1)
    assert set(r.status) == {"censored"} and r.path_steps == 200 * 500
    d = r.to_dict()
    assert d["n_escaped"] == 0 and d["cap_steps"] == 500
    steps = r.times_in("steps", lr=0.01)
    assert steps[0] == pytest.approx(500.0)
    assert r.times_in("epochs", lr=0.01, batch=64, n_train=512)[0] == pytest.approx(62.5)


def test_reverse_escape_and_network_model_run():
    """Reverse escape on the arc fires its (falling) event; the network kernel runs and stays finite."""
    m = arc_model(3, 0.8, 0.33)
    r = simulate_ensemble(m, 0.01, 100, 0.01, direction="reverse", seed=2, max_time=2000.0, bridge=False)
    assert r.n_escaped > 50  # on-grid crossings only: the stop is past the surface
    assert np.all(r.final_x[r.escaped, 0] <= escape_setup(m, "reverse").target.r_target + 1e-12)
    net = DeepLinearNetwork.from_singular_values(3, 3, 2, [0.9, 0.8], 0.32)
    nm = network_model(net)
    rn = simulate_ensemble(nm, 0.003, 16, 0.01, direction="reverse", seed=2, max_steps=2000)
    assert np.all(np.isfinite(rn.final_x)) and rn.final_x.shape == (16, nm.dim)


@pytest.mark.slow
def test_chain_escape_time_matches_eyring_kramers():
    """Scalar chain L = 3, eta = 0.8, beta = 0.3, dE/T = 5 (T = 0.004577): simulated mean escape
    time (1000 paths, dt = 0.01, seed 21) within 15% of Eyring-Kramers with its 2^(L-1) saddles."""
    L, eta, beta = 3, 0.8, 0.3
    m = chain_model(L, eta, beta)
    T = escape_setup(m).target.barrier / 5.0
    ek = eyring_kramers_chain(L, eta, beta, T).tau
    r = simulate_ensemble(m, T, 1000, 0.01, seed=21, max_time=30 * ek)
    est = exponential_mle(r.times, r.escaped)
    assert abs(est.mean / ek - 1) < 0.15, (est.mean, ek)


# --------------------------------------------------------------------------- inputs
def test_bad_inputs_raise_input_error():
    m = arc_model(3, 0.8, 0.32)
    with pytest.raises(InputError, match="temperature"):
        simulate_ensemble(m, 0.0, 10, 0.01)
    with pytest.raises(InputError, match="dt"):
        simulate_ensemble(m, 0.01, 10, -0.01)
    with pytest.raises(InputError, match="n_paths"):
        simulate_ensemble(m, 0.01, 0, 0.01)
    with pytest.raises(InputError, match="x0"):
        simulate_ensemble(m, 0.01, 10, 0.01, x0=[0.0, 1.0], events=())
    with pytest.raises(InputError, match="max_time"):
        simulate_ensemble(m, 0.01, 10, 0.01, max_time=0.001)
    with pytest.raises(InputError, match="beta"):
        simulate_ensemble(arc_model(3, 0.8, 0.6), 0.01, 10, 0.01)  # no barrier
    with pytest.raises(InputError, match="seed"):
        simulate_ensemble(m, 0.01, 10, 0.01, seed=-1)
    with pytest.raises(InputError, match="record"):
        simulate_ensemble(m, 0.01, 10**4, 0.01, record_every=1, max_steps=10**5)


def test_temperature_from_sgd_hyperparameters():
    assert resolve_temperature(0.01) == 0.01
    T = resolve_temperature(lr=0.08, batch=64, noise=0.5, n_train=512)
    assert T == sgd_temperature(0.08, 64, 0.5, n_train=512)
    with pytest.raises(InputError, match="either"):
        resolve_temperature(0.01, lr=0.1, batch=2, noise=1.0)
    with pytest.raises(InputError, match="missing"):
        resolve_temperature(lr=0.1)
    with pytest.raises(InputError, match="temperature"):
        resolve_temperature(lr=0.1, batch=4, noise=0.0)
