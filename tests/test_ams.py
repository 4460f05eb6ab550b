"""Adaptive multilevel splitting (``langevin_grok.langevin.ams``): against the exact 1-D MFPT, against brute
force at a low barrier, tie handling, and bit-for-bit reproducibility across threads and buffers."""

import math

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.langevin.ams import simulate_ams
from langevin_grok.langevin.engine import simulate_ensemble
from langevin_grok.langevin.events import escape_setup
from langevin_grok.landscape.escape import escape_target
from langevin_grok.theory.kramers import exact_mfpt_1d
from langevin_grok.langevin.models import arc_model, chain_model
from langevin_grok.theory.stats import exponential_mle

ARC = (3, 0.8, 0.3)


def _arc(ratio):
    tgt = escape_target(*ARC)
    return arc_model(*ARC), tgt.barrier / ratio, tgt


@pytest.mark.parametrize("ratio", [15.0, pytest.param(25.0, marks=pytest.mark.slow)])
def test_arc_against_exact_mfpt(ratio):
    """dE/T = 15 and 25, 100 replicas x 20 runs, dt = 0.01, seed 11: the exact MFPT lies in the 99%
    interval widened by 5% for the Euler-Maruyama step bias (the AMS and brute force at dE/T = 6
    agree with the exact value to 1%)."""
    m, T, _ = _arc(ratio)
    res = simulate_ams(m, T, n_replicas=100, n_runs=20, dt=0.01, seed=11, confidence=0.99)
    exact = exact_mfpt_1d(*ARC, T).tau
    assert res.status == "valid" and res.reason == "ok"
    assert res.ci_low / 1.05 <= exact <= res.ci_high * 1.05
    assert res.level_a < res.level_sigma < 0
    assert res.n_censored == 0 and res.path_steps > res.path_steps_ams > 0


def test_arc_bias_against_brute_force():
    """dE/T = 6 at the same dt = 0.02: AMS (100 x 10, seed 3) and the engine (400 paths, seed 4)
    estimate the same discrete-time MFPT; their logs differ by less than 2.576 combined sigmas."""
    m, T, _ = _arc(6.0)
    a = simulate_ams(m, T, n_replicas=100, n_runs=10, dt=0.02, seed=3)
    s = escape_setup(m)
    bf = simulate_ensemble(m, T, 400, 0.02, s.x0, s.events, seed=4)
    e = exponential_mle(bf.times, bf.escaped)
    s_a = math.log(a.ci_high / a.ci_low) / (2 * 2.262)  # t_{0.975, 9}
    s_e = math.log(e.ci_high / e.ci_low) / (2 * 1.960)
    assert abs(math.log(a.mean_escape_time / e.mean)) < 2.576 * math.hypot(s_a, s_e)


@pytest.mark.slow  # compiles a kernel copy for the user coordinate (15-30 s)
def test_ties_with_a_quantised_reaction_coordinate():
    """xi = floor(32 (r - r_target)) / 32 has ~35 distinct values, so most iterations kill several
    replicas at one level. dE/T = 10, 50 replicas x 20 runs, seed 6: the exact MFPT lies in the 99%
    interval widened by 5% (step bias)."""
    m, T, tgt = _arc(10.0)
    rt = tgt.r_target

    def xi(t, x, p):
        return math.floor(32.0 * (x[0] - rt)) / 32.0

    res = simulate_ams(m, T, n_replicas=50, n_runs=20, dt=0.01, seed=6, reaction_coordinate=xi,
                       level_a=-33 / 32, level_sigma=-31 / 32, confidence=0.99)
    exact = exact_mfpt_1d(*ARC, T).tau
    assert res.ci_low / 1.05 <= exact <= res.ci_high * 1.05
    # ties: far fewer iterations than the ~n log(1/p) of a continuous coordinate
    assert res.levels < 0.5 * 50 * math.log(1 / res.probability)


@pytest.mark.slow  # compiles a kernel copy for the user coordinate (15-30 s)
def test_user_reaction_coordinate_equal_to_default_is_bitwise_identical():
    m, T, tgt = _arc(6.0)
    rt = tgt.r_target

    def xi(t, x, p):
        return x[0] - rt

    kw = dict(n_replicas=16, n_runs=2, dt=0.02, seed=8, n_loops=64, pilot_paths=32, pilot_steps=500)
    a = simulate_ams(m, T, **kw)
    b = simulate_ams(m, T, reaction_coordinate=xi, **kw)
    assert np.array_equal(a.run_probabilities, b.run_probabilities)
    assert a.mean_escape_time == b.mean_escape_time and a.path_steps == b.path_steps


@pytest.mark.parametrize("make", [arc_model, chain_model])
def test_bitwise_reproducible_across_threads_and_buffers(make):
    """Same seed: 1 vs 2 numba threads and record buffers of 2 vs 1024 entries (overflow reruns)
    give identical numbers; the 3-D chain exercises the general kernel."""
    m = make(*ARC)
    T = escape_target(*ARC).barrier / 6.0
    kw = dict(n_replicas=16, n_runs=3, dt=0.02, seed=5, n_loops=64, pilot_paths=32, pilot_steps=500)
    a = simulate_ams(m, T, n_threads=1, **kw)
    b = simulate_ams(m, T, n_threads=2, **kw)
    c = simulate_ams(m, T, n_threads=2, record_capacity=2, **kw)
    for r in (b, c):
        assert np.array_equal(a.run_probabilities, r.run_probabilities)
        assert np.array_equal(a.run_iterations, r.run_iterations)
        assert a.mean_escape_time == r.mean_escape_time and a.path_steps == r.path_steps
    d = simulate_ams(m, T, **{**kw, "seed": 6})
    assert d.mean_escape_time != a.mean_escape_time
    assert set(a.to_dict()) >= {"mean_escape_time", "ci_low", "ci_high", "probability", "levels", "seed"}


def test_low_barrier_is_not_applicable():
    # dE/T = 0.5: the pilot paths escape, AMS reports not_applicable instead of numbers
    m, T, _ = _arc(0.5)
    res = simulate_ams(m, T, n_replicas=10, n_runs=2, dt=0.02, seed=1, pilot_paths=32)
    assert (res.status, res.reason) == ("not_applicable", "pilot_escaped")
    assert math.isnan(res.mean_escape_time) and res.path_steps > 0
    assert res.to_dict()["mean_escape_time"] is None and res.to_dict()["run_probabilities"] == [None, None]


def test_input_errors():
    m, T, _ = _arc(6.0)
    kw = dict(n_replicas=10, n_runs=2, dt=0.02, seed=1)
    with pytest.raises(InputError, match="k must be"):
        simulate_ams(m, T, **{**kw, "n_replicas": 3}, k=3)
    with pytest.raises(InputError, match="n_runs"):
        simulate_ams(m, T, **{**kw, "n_runs": 1})
    with pytest.raises(InputError, match="levels"):
        simulate_ams(m, T, level_a=-0.5, level_sigma=-0.9, **kw)
    with pytest.raises(InputError, match="x0"):
        simulate_ams(m, T, x0=[0.0], **kw)
