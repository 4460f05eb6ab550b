"""Events: compiled signed distances equal the Python ones; default escape problems."""

import math

import numpy as np
import pytest

from langevin_grok._core.checks import InputError
from langevin_grok.langevin.engine import simulate_ensemble
from langevin_grok.langevin.events import (
    Event,
    abs_coordinate_event,
    chain_product_event,
    coordinate_event,
    escape_setup,
    event_value,
    linear_event,
    network_mode_event,
    pack_events,
)
from langevin_grok.landscape.escape import escape_target
from langevin_grok.langevin.models import arc_model, chain_model, network_model, quadratic_model, work_size
from langevin_grok.landscape.network import DeepLinearNetwork


def _compiled(event, model, x):
    codes, dirs, specs = pack_events((event,), model)
    work = np.empty(work_size(model.code, model.params))
    return event_value(codes[0], specs, 0, np.ascontiguousarray(x, dtype=float), model.params, work)


def _fd_norm(event, model, x, eps=1e-6):
    g = [(event(0, x + eps * e, model.params) - event(0, x - eps * e, model.params)) / (2 * eps)
         for e in np.eye(model.dim)]
    return float(np.linalg.norm(g))


def test_compiled_events_match_python_and_gradient_norm():
    rng = np.random.default_rng(0)
    net = DeepLinearNetwork.from_singular_values(3, 3, 2, [0.9, 0.8], 0.3)
    cases = [
        (quadratic_model(1.0, 3), linear_event([1.0, -2.0, 0.5], 0.3)),
        (arc_model(4, 0.8, 0.1), abs_coordinate_event(0, 1.2)),
        (chain_model(4, 0.8, 0.1), chain_product_event(0.2)),
        (network_model(net), network_mode_event([0.6, 0.8], [0.8, -0.6], 0.1)),
    ]
    for model, ev in cases:
        for _ in range(3):
            x = rng.normal(size=model.dim) + 0.3
            g, gn = _compiled(ev, model, x)
            assert g == pytest.approx(ev(0.0, x, model.params), rel=1e-12, abs=1e-14)
            assert gn == pytest.approx(_fd_norm(ev, model, x), rel=1e-6)


@pytest.mark.parametrize("direction", ["forward", "reverse"])
@pytest.mark.parametrize("depth", [3, 4])
def test_escape_setup_levels_from_kramers(depth, direction):
    beta = 0.1
    tgt = escape_target(depth, 0.8, beta, direction)
    arc = escape_setup(arc_model(depth, 0.8, beta), direction)
    assert arc.x0[0] == pytest.approx(tgt.r_start)
    ev = arc.events[0]
    # the event surface is the target's arc length; the start is on the "before" side
    assert ev(0.0, arc.x0, None) * tgt.crossing < 0 or ev.direction == 0
    assert abs(ev(0.0, np.array([tgt.r_target]), None)) < 1e-12
    if direction == "forward" and depth % 2 == 0:
        # even L: both signs of r are learned, so the forward event is |r| >= r_b
        assert ev(0.0, np.array([-tgt.r_target - 0.01]), None) > 0
    chain = escape_setup(chain_model(depth, 0.8, beta), direction)
    assert math.prod(chain.x0) == pytest.approx(tgt.lambda_start, rel=1e-12, abs=1e-300)
    assert chain.events[0](0.0, chain.x0, None) == pytest.approx(tgt.lambda_start - tgt.lambda_target)
    assert chain.events[0].direction == tgt.crossing


def test_network_reverse_start_is_the_learned_stationary_point():
    net = DeepLinearNetwork.from_singular_values(3, 4, 2, [0.9, 0.8], 0.32)
    m = network_model(net)
    s = escape_setup(m, "reverse", mode_index=1)
    assert np.linalg.norm(net.grad(s.x0)) < 1e-12
    tgt = escape_target(3, 0.8, 0.32, "reverse")
    assert s.events[0](0.0, s.x0, m.params) == pytest.approx(tgt.lambda_min - tgt.lambda_target, rel=1e-10)
    f = escape_setup(m, "forward", mode_index=0)
    assert np.all(f.x0 == 0.0)


def test_no_barrier_raises():
    with pytest.raises(InputError, match="beta"):
        escape_setup(arc_model(3, 0.8, 0.5), "forward")  # beta > beta_c
    with pytest.raises(InputError, match="depth"):
        escape_setup(chain_model(2, 0.8, 0.1), "reverse")  # L = 2: continuous transition
    with pytest.raises(InputError, match="direction"):
        escape_setup(arc_model(3, 0.8, 0.3), "sideways")
    net = DeepLinearNetwork(3, 2, 2, np.diag([1.0, 2.0]), np.diag([0.9, 0.8]), 0.3)
    with pytest.raises(InputError, match="sigma_xx"):
        escape_setup(network_model(net), "forward")


def test_pack_events_rejects_python_only_and_mismatches():
    m = arc_model(3, 0.8, 0.3)
    with pytest.raises(InputError, match="compiled"):
        pack_events((Event(lambda t, x, p: x[0] - 1.0, +1),), m)
    with pytest.raises(InputError, match="chain"):
        pack_events((chain_product_event(0.1),), m)
    with pytest.raises(InputError, match="dim"):
        pack_events((linear_event([1.0, 1.0], 0.0),), m)
    with pytest.raises(InputError, match="direction"):
        coordinate_event(0, 1.0, 1, direction=2)


def test_direction_semantics():
    """Same paths (same seed): rising and both-ways events fire at the first upward crossing; a
    falling event only later, when the path comes back down."""
    m = quadratic_model(1.0)
    runs = {}
    for direction in (-1, 0, 1):
        ev = coordinate_event(0, 0.0, 1, direction)
        runs[direction] = simulate_ensemble(m, 0.5, 64, 0.01, [-0.5], (ev,), seed=3, max_steps=4000, bridge=False)
    assert np.all(runs[0].escaped)
    np.testing.assert_array_equal(runs[1].times, runs[0].times)
    assert np.all(runs[-1].times > runs[0].times)


# --------------------------------------------------------------------------- singular-value event
@pytest.mark.parametrize("d", [2, 3])
def test_network_sv_event_value_and_gradient_norm(d):
    """Compiled (g, |grad g|) of the singular-value event against numpy's SVD and a finite-difference
    gradient of the Python g (closed form for d = 2, LAPACK for d = 3), at a random state (seed 1)."""
    from langevin_grok.landscape.network import DeepLinearNetwork
    from langevin_grok.langevin.events import network_sv_event
    from langevin_grok.langevin.models import network_model, work_size

    net = DeepLinearNetwork.from_singular_values(3, 4, d, [0.9, 0.8, 0.7][:d], 0.32)
    m = network_model(net)
    x = np.random.default_rng(1).standard_normal(net.n_params) * 0.5
    work = np.zeros(work_size(m.code, m.params))
    for k in range(d):
        ev = network_sv_event(k, 0.1, +1)
        codes, _, specs = pack_events([ev], m)
        g, n = event_value(codes[0], specs, 0, x, m.params, work)
        assert g == pytest.approx(np.linalg.svd(net.end_to_end(x), compute_uv=False)[k] - 0.1, abs=1e-12)
        eps = 1e-6
        grad = [(ev.g(0, x + eps * e, m.params) - ev.g(0, x - eps * e, m.params)) / (2 * eps)
                for e in np.eye(x.size)]
        assert n == pytest.approx(np.linalg.norm(grad), rel=1e-6)


def test_network_escape_setup_sv_event_ranks_the_escaping_mode():
    """From the rank-1 trap the escaping mode 1 is the second singular value (index 1); from the all-trivial
    start mode 0 is index 0; the start is the stationary point and the level escape_target's."""
    from langevin_grok.landscape.escape import escape_target
    from langevin_grok.landscape.network import DeepLinearNetwork
    from langevin_grok.landscape.stationary import stationary_point
    from langevin_grok.langevin.events import NETWORK_MODE, NETWORK_SV, network_escape_setup

    net = DeepLinearNetwork.from_singular_values(3, 2, 2, [0.9, 0.8], 0.32)
    es = network_escape_setup(net, ("learned", "trivial"), 1)
    (ev,) = es.events
    assert ev.code == NETWORK_SV and int(ev.spec[1]) == 1 and ev.direction == +1
    assert ev.spec[0] == escape_target(3, 0.8, 0.32, "forward").lambda_target
    np.testing.assert_array_equal(es.x0, stationary_point(net, ("learned", "trivial")).theta)
    assert int(network_escape_setup(net, ("trivial", "trivial"), 0).events[0].spec[1]) == 0
    assert network_escape_setup(net, ("learned", "trivial"), 1, event="mode").events[0].code == NETWORK_MODE
    with pytest.raises(InputError, match="event"):
        network_escape_setup(net, ("learned", "trivial"), 1, event="rank")
