"""Ensemble mini-batch SGD: exactness against a per-seed loop, learned/trivial states, hysteresis,
plain-SGD escape from the learned metastable state, escape criteria, divergence."""

import math

import numpy as np
import pytest

from langevin_grok.sgd import escape as sgd_escape
from langevin_grok.sgd import trainer as sgd
from langevin_grok._core.checks import InputError
from langevin_grok.sgd.data import make_dataset
from langevin_grok.landscape.modes import mode_landscape
from langevin_grok.landscape.network import DeepLinearNetwork
from langevin_grok.landscape.stationary import stationary_point


def _reference_loop(weights, data, beta, lr, batch, epochs, seed, stage, T, replacement):
    """Straightforward per-seed SGD with the same draws as the ensemble trainer."""
    ss = np.random.SeedSequence(seed)
    out = []
    M = weights[0].shape[0]
    D = sum(W[0].size for W in weights)
    for r in range(M):
        Ws = [W[r].copy() for W in weights]
        g = sgd.replica_generator(ss, stage, r)
        for _ in range(epochs):
            idx, slices, noise = sgd.draw_epoch(g, data.n_train, batch, replacement, D if T > 0 else 0)
            for k, sl in enumerate(slices):
                xb, yb = data.x_train[idx[sl]], data.y_train[idx[sl]]
                hs = [xb]
                for W in Ws:
                    hs.append(hs[-1] @ W.T)
                delta = (hs[-1] - yb) / len(xb)
                grads = [None] * len(Ws)
                for l in reversed(range(len(Ws))):
                    grads[l] = delta.T @ hs[l]
                    delta = delta @ Ws[l]
                off = 0
                for l, W in enumerate(Ws):
                    W -= lr * (grads[l] + beta * W)
                    if T > 0:
                        W += math.sqrt(2 * T * lr) * noise[k, off:off + W.size].reshape(W.shape)
                    off += W.size
        out.append(Ws)
    return out


@pytest.mark.parametrize("T,replacement,n_train", [(0.0, False, 50), (0.01, False, 48), (0.0, True, 50)])
def test_ensemble_equals_per_seed_loop(T, replacement, n_train):
    # N = 50 with B = 16 exercises the short last batch of a shuffled epoch.
    data = make_dataset([0.9, 0.8], n_train=n_train, n_test=20, seed=11)
    w0 = sgd.init_random(3, 5, 2, 4, seed=7)
    res = sgd.train(w0, data, beta=0.1, lr=0.05, batch=16, epochs=3, noise_temperature=T,
                    replacement=replacement, seed=99, stage=1)
    ref = _reference_loop(w0, data, 0.1, 0.05, 16, 3, 99, 1, T, replacement)
    for r in range(4):
        for l in range(3):
            np.testing.assert_allclose(res.weights[l][r], ref[r][l], rtol=0, atol=1e-12)


def test_replica_streams_do_not_depend_on_ensemble_size():
    data = make_dataset([0.9, 0.8], n_train=64, n_test=16, seed=1)
    w5 = sgd.init_random(3, 4, 2, 5, seed=3)
    w2 = sgd.init_random(3, 4, 2, 2, seed=3)
    for a, b in zip(w5, w2):
        np.testing.assert_array_equal(a[:2], b)
    r5 = sgd.train(w5, data, beta=0.1, lr=0.05, batch=8, epochs=2, noise_temperature=1e-3, seed=4)
    r2 = sgd.train(w2, data, beta=0.1, lr=0.05, batch=8, epochs=2, noise_temperature=1e-3, seed=4)
    for a, b in zip(r5.weights, r2.weights):
        np.testing.assert_array_equal(a[:2], b)


def test_pack_layout_matches_network():
    from langevin_grok.landscape.network import pack as net_pack
    w = sgd.init_random(4, 3, 2, 2, seed=0)
    theta = sgd.pack(w)
    np.testing.assert_array_equal(theta[1], net_pack([W[1] for W in w]))
    for a, b in zip(sgd.unpack(theta, 4, 3, 2), w):
        np.testing.assert_array_equal(a, b)


def test_full_batch_grad_matches_network():
    data = make_dataset([0.9, 0.8], n_train=40, n_test=8, seed=2)
    w = sgd.init_random(3, 4, 2, 3, seed=5)
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, 3, 4, 0.2)
    sxx, syx, _ = data.moments()
    g = sgd.pack(sgd.full_batch_grad(w, sxx, syx, 0.2))
    for r in range(3):
        np.testing.assert_allclose(g[r], net.grad(sgd.pack(w)[r]), atol=1e-13)


def _empirical_eta(data):
    return np.linalg.svd(data.moments("train")[1], compute_uv=False)


def test_learned_state_small_beta_and_trivial_above_beta_c():
    # Whitened training inputs: the training loss is exactly the decoupled per-mode loss with the
    # EMPIRICAL singular values, so the landscape predicts the SGD state up to SGD fluctuations.
    data = make_dataset([0.9, 0.8], n_train=128, n_test=64, seed=5, whiten_train=True)
    eta = _empirical_eta(data)
    w0 = sgd.init_random(3, 4, 2, 6, seed=1)
    beta = 0.05
    res = sgd.train(w0, data, beta=beta, lr=0.05, batch=32, epochs=3000, seed=2, record_every=50,
                    converge_tol=1e-6, converge_window=20)
    assert res.converged.all()
    lam = [mode_landscape(3, float(e), beta).lambda_min for e in eta]
    # SGD at T = lr c/(2B) ~ 1e-4 jitters each replica's singular values at the 5e-3 level;
    # the ensemble mean is within 2e-3 (observed ~1e-3 with these seeds)
    np.testing.assert_allclose(res.svals[-1], np.broadcast_to(lam, (6, 2)), atol=1.5e-2)
    np.testing.assert_allclose(res.svals[-1].mean(axis=0), lam, atol=2e-3)
    assert np.all(res.eff_rank[-1] == 2)
    # population reference: the empirical values differ from the population ones by O(1/sqrt(N))
    assert np.all(np.abs(eta - data.sv) < 0.2)

    beta_hi = 0.45  # above beta_c of both modes (0.412 for eta = 0.9)
    assert all(beta_hi > mode_landscape(3, float(e), 0.1).beta_c for e in eta)
    res2 = sgd.train(res.weights, data, beta=beta_hi, lr=0.05, batch=32, epochs=400, seed=3, record_every=400)
    assert np.all(res2.svals[-1] < 1e-4)
    assert np.all(res2.eff_rank[-1] == 0)


def test_quasi_static_sweep_hysteresis():
    data = make_dataset([0.8], n_train=64, n_test=64, seed=3, whiten_train=True)
    eta = float(_empirical_eta(data)[0])
    ml = mode_landscape(3, eta, 0.0)
    b_mid = 0.5 * (ml.beta_star + ml.beta_c)  # learned metastable, trivial global
    b_hi = ml.beta_c + 0.03
    assert ml.beta_star < b_mid < ml.beta_c
    up = [0.1, 0.2, b_mid, b_hi]
    w0 = sgd.init_random(3, 2, 1, 6, seed=0, scale=1.0)
    kw = dict(lr=0.05, batch=32, max_epochs=2000, converge_tol=1e-5, converge_window=20)
    r_up = sgd.quasi_static_sweep(w0, data, up, seed=1, **kw)
    r_dn = sgd.quasi_static_sweep(r_up.weights, data, up[::-1], seed=1, first_stage=10, **kw)
    lam_up = r_up.svals[..., 0]
    # up: learned at every beta below beta_c, including the metastable b_mid, then trivial above beta_c
    for k, b in enumerate(up[:3]):
        np.testing.assert_allclose(lam_up[k], mode_landscape(3, eta, b).lambda_min, atol=5e-3)
    assert np.all(lam_up[3] < 1e-4)
    # down: the trivial state survives below beta_c (all the way to beta = 0.1: the trap of plain SGD)
    assert np.all(r_dn.svals[..., 0] < 1e-4)
    assert r_up.converged.all() and r_dn.converged.all()


def _learned_ensemble(data, beta, width, M):
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, 3, width, beta)
    sp = stationary_point(net, ("learned",))
    return sgd.unpack(np.tile(sp.theta, (M, 1)), 3, width, data.dim)


def _escape_counts(configs, epochs, M, seed=5):
    # Single mode, whitened data, beta between beta* and beta_c: learned is metastable.
    data = make_dataset([0.8], n_train=64, n_test=64, seed=3, whiten_train=True)
    eta = float(_empirical_eta(data)[0])
    ml = mode_landscape(3, eta, 0.0)
    beta = ml.beta_star + 0.9 * (ml.beta_c - ml.beta_star)
    w0 = _learned_ensemble(data, beta, 2, M)
    out = []
    for lr, B in configs:
        res = sgd.train(w0, data, beta=beta, lr=lr, batch=B, epochs=epochs, seed=seed)
        esc = sgd_escape.escape_by_mode_amplitude(res, 0, "reverse", sv=eta)
        assert esc.n_diverged == 0
        # the escaped replicas end in the trivial state
        done = np.array([e is not None for e in esc.epochs])
        assert np.all(res.svals[-1, done, 0] < 0.5 * mode_landscape(3, eta, beta).lambda_saddle)
        ep = [e for e in esc.epochs if e is not None]
        out.append((esc.n_escaped, np.median(ep) if ep else np.inf))
    return out


def test_plain_sgd_escapes_learned_metastable_state_faster_at_larger_lr_over_b():
    # seed 5, M = 16, 150 epochs; lr/B = 0.00625, 0.025, 0.05. Observed (M = 24): counts (0, 24, 24)
    # with median escape epochs (-, ~70, ~10); asserted: counts non-decreasing, the first at most 4,
    # the last all 16, median escape epoch decreasing.
    (n1, _), (n2, m2), (n3, m3) = _escape_counts([(0.05, 8), (0.1, 4), (0.1, 2)], epochs=150, M=16)
    assert n1 <= n2 <= n3
    assert n1 <= 4 and n3 == 16
    assert m3 < m2


@pytest.mark.slow
def test_plain_sgd_escape_rates_slow():
    res = _escape_counts([(0.05, 8), (0.07, 8), (0.1, 8), (0.1, 4), (0.1, 2)], epochs=600, M=64)
    medians = [m for _, m in res]
    assert all(a >= b for a, b in zip(medians, medians[1:]))


def test_escape_criteria_on_a_learning_run():
    data = make_dataset([0.9, 0.8], n_train=128, n_test=128, seed=8, whiten_train=True)
    w0 = sgd.init_random(3, 4, 2, 5, seed=2, scale=0.1)  # small init: a plateau, then learning
    res = sgd.train(w0, data, beta=0.02, lr=0.05, batch=32, epochs=300, seed=1, record_every=2)
    by_mse = sgd_escape.escape_by_test_mse(res)
    by_sv = sgd_escape.escape_by_singular_value(res, 1, 0.3)
    by_amp = sgd_escape.escape_by_mode_amplitude(res, 1, "forward", sv=float(_empirical_eta(data)[1]))
    for esc in (by_mse, by_sv, by_amp):
        assert esc.n_escaped == 5 and esc.n_censored == 0
        assert all(0 < e < 300 for e in esc.epochs)
    # the test MSE must really be past the midpoint at the reported epoch and not one record before
    for i, e in enumerate(by_mse.epochs):
        k = int(np.flatnonzero(res.epochs == e)[0])
        assert res.test_mse[k, i] <= by_mse.threshold[i] < res.test_mse[k - 1, i]
    # a threshold never reached is censored, and the censored time is the last epoch
    never = sgd_escape.escape_by_singular_value(res, 1, 5.0)
    assert never.n_escaped == 0 and never.n_censored == 5
    t, obs = never.times()
    assert np.all(t == 300) and not obs.any()
    d = by_mse.to_dict()
    assert d["n_escaped"] == 5 and len(d["escape_epochs"]) == 5


def test_divergence_detected_per_replica():
    data = make_dataset([0.9, 0.8], n_train=64, n_test=16, seed=1)
    w0 = list(sgd.init_random(3, 4, 2, 4, seed=0))
    for W in w0:
        W[1] *= 30.0  # replica 1 starts far out: lr = 0.05 overshoots there and blows up
    res = sgd.train(tuple(w0), data, beta=0.1, lr=0.05, batch=16, epochs=30, seed=0)
    assert res.diverged.tolist() == [False, True, False, False]
    assert 1 <= res.diverged_epoch[1] <= 30 and np.isnan(res.diverged_epoch[[0, 2, 3]]).all()
    assert np.all(np.isnan(res.weights[0][1]))
    assert np.all(np.isfinite(res.test_mse[-1, [0, 2, 3]]))
    assert np.isnan(res.test_mse[-1, 1])
    esc = sgd_escape.escape_by_test_mse(res)
    assert esc.epochs[1] is None and esc.n_diverged == 1
    # a huge learning rate: every replica diverges, and that is a result, not an exception
    res2 = sgd.train(sgd.init_random(3, 4, 2, 3, seed=0), data, beta=0.1, lr=50.0, batch=16, epochs=5, seed=0)
    assert res2.diverged.all()


def test_bad_input():
    data = make_dataset([0.9, 0.8], n_train=32, n_test=8, seed=1)
    w0 = sgd.init_random(3, 4, 2, 2, seed=0)
    for kw in (dict(lr=0.0), dict(lr=-1.0), dict(batch=0), dict(batch=33), dict(beta=-0.1), dict(epochs=-1),
               dict(noise_temperature=-1.0)):
        args = dict(beta=0.1, lr=0.05, batch=8, epochs=1)
        args.update(kw)
        with pytest.raises(InputError):
            sgd.train(w0, data, **args)
    with pytest.raises(InputError):
        sgd.init_random(3, 4, 2, 0)
    with pytest.raises(InputError):
        sgd.train(sgd.init_random(3, 4, 3, 2, seed=0), data, beta=0.1, lr=0.05, batch=8, epochs=1)


@pytest.mark.parametrize("p", [2, 3])
def test_matches_torch_mse_loss_with_weight_decay(p):
    # docs/theory.md: torch MSELoss (mean over samples AND outputs) + weight_decay=beta is our loss only for p = 2.
    # For p outputs the torch data gradient is 2/p times ours; the same trajectory needs lr_torch = lr p/2 and
    # weight_decay = beta 2/p.
    torch = pytest.importorskip("torch")
    sv = [0.9, 0.8, 0.5][:p]
    data = make_dataset(sv, n_train=48, n_test=8, seed=3)
    w0 = sgd.init_random(3, 4, p, 1, seed=1)
    lr, beta = 0.05, 0.1
    res = sgd.train(w0, data, beta=beta, lr=lr, batch=16, epochs=2, seed=4)
    layers = [torch.nn.Linear(W.shape[2], W.shape[1], bias=False).double() for W in w0]
    with torch.no_grad():
        for lay, W in zip(layers, w0):
            lay.weight.copy_(torch.from_numpy(W[0]))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(model.parameters(), lr=lr * p / 2, weight_decay=beta * 2 / p)
    X, Y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    g = sgd.replica_generator(np.random.SeedSequence(4), 1, 0)
    for _ in range(2):
        idx, slices, _ = sgd.draw_epoch(g, 48, 16, False)
        for sl in slices:
            b = torch.from_numpy(idx[sl])
            opt.zero_grad()
            torch.nn.MSELoss()(model(X[b]), Y[b]).backward()
            opt.step()
    for lay, W in zip(layers, res.weights):
        np.testing.assert_allclose(lay.weight.detach().numpy(), W[0], atol=1e-12)


def test_mode_amplitude_level_is_the_engine_event_level():
    # one escape definition: the SGD mode-amplitude rule and the Langevin engine's network event
    # (events.escape_setup, from escape.escape_target) change sign at the same lambda, both ways.
    from langevin_grok.langevin.events import escape_setup
    from langevin_grok.landscape.escape import escape_target
    from langevin_grok.langevin.models import network_model

    L, w = 3, 3
    ml = mode_landscape(L, 0.8, 0.0)
    beta = 0.5 * (ml.beta_star + ml.beta_c)
    net = DeepLinearNetwork.from_singular_values(L, w, 2, [0.9, 0.8], beta)
    model = network_model(net)
    sp = stationary_point(net, ("learned", "saddle"))
    for direction in ("forward", "reverse"):
        setup = escape_setup(model, direction, mode_index=1)
        tgt = escape_target(L, 0.8, beta, direction)
        rule = sgd_escape.mode_amplitude_rule(L, 0.8, beta, 1, direction)
        assert rule.threshold ** L == pytest.approx(tgt.lambda_target, rel=1e-13)
        assert setup.target.lambda_target == tgt.lambda_target
        ev = setup.events[0]
        lam_sad = ev(0.0, sp.theta, model.params) + tgt.lambda_target
        assert lam_sad == pytest.approx(tgt.lambda_saddle, rel=1e-9)
        for f in (0.999, 1.001):
            # scale the mode-2 hidden unit (unit 1 of the canonical frame) so lambda_2 = f * lambda_target
            a = (f * tgt.lambda_target / lam_sad) ** (1.0 / L)
            Ws = [W.copy() for W in sgd.unpack(sp.theta, L, w, 2)]
            Ws[0][:, 1, :] *= a
            Ws[1][:, 1, 1] *= a
            Ws[2][:, :, 1] *= a
            theta = sgd.pack(Ws)[0]
            g = ev(0.0, theta, model.params)
            lam = g + tgt.lambda_target
            assert lam == pytest.approx(f * tgt.lambda_target, rel=1e-9)
            fired_engine = np.sign(g) == tgt.crossing
            fired_rule = bool(rule.hit(np.array([[0.0, lam]]))[0])
            # and through the recorder's own projection of the same weights
            fired_rec = bool(rule.hit(np.einsum("ji,mjk,ki->mi", np.eye(2), sgd.end_to_end(Ws), np.eye(2)))[0])
            assert fired_engine == fired_rule == fired_rec == ((f > 1) == (direction == "forward"))


def test_empirical_projection_of_exact_rank1_state_is_zero():
    # finite N: population and empirical singular vectors differ; the exactly rank-1 embedded state reads
    # lambda_2 = 0 on the empirical projection (the one that belongs to the empirical singular values),
    # while the population projection picks up ~1e-2 of mode 1's leakage.
    data = make_dataset([0.9, 0.8], n_train=512, n_test=64, seed=11, whiten_train=True)
    net = DeepLinearNetwork.from_data(data.x_train, data.y_train, 3, 10, 0.32)
    trap = stationary_point(net, ("learned", "trivial"))
    w0 = sgd.unpack(np.tile(trap.theta, (2, 1)), 3, 10, 2)
    res = sgd.train(w0, data, beta=0.32, lr=0.01, batch=64, epochs=0, seed=0)
    assert np.all(np.abs(res.mode_sv_empirical[0, :, 1]) <= 1e-12)
    assert np.all(np.abs(res.mode_sv[0, :, 1]) > 1e-4)  # the population projection does not vanish
    np.testing.assert_allclose(res.mode_sv_empirical[0, :, 0], trap.amplitudes[0] ** 3, rtol=1e-10)
    # sv='empirical' picks the empirical basis, the empirical value alone too, and a mismatch is an error
    eta = float(res.data_sv_empirical[1])
    ml = mode_landscape(3, eta, 0.0)
    b = 0.5 * (ml.beta_star + ml.beta_c)
    res_b = sgd.train(w0, data, beta=b, lr=0.01, batch=64, epochs=0, seed=0)
    for sv in ("empirical", eta):
        esc = sgd_escape.escape_by_mode_amplitude(res_b, 1, "reverse", sv=sv)
        assert esc.details["basis"] == "empirical" and esc.n_escaped == 2  # lambda_2 = 0 < lambda_sad / 2
    assert sgd_escape.escape_by_mode_amplitude(res_b, 1, "reverse").details["basis"] == "population"
    with pytest.raises(InputError, match="basis"):
        sgd_escape.escape_by_mode_amplitude(res_b, 1, "reverse", sv=0.5)
